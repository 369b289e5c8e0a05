"""Whether the web chat says «Estamos en línea»: the agents' presence of the assignment engine
(``workflow.presence``: sockets counted in the database and a heartbeat), not a counter of its
own. Someone is there for a chat when they are an active person who can take tickets (agent
or admin), set themselves «Disponible», have the desk open with a recent heartbeat, and their
mode for this account is not «Ninguna» (no rule means manual: they see the chat and take it).

A crashed worker stops beating, so its people drop out after ``workflow.presence.WINDOW``; a
person who sets «Ausente» drops out at once."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from deskconfig.accounts import ChannelAccount
from deskconfig.models import AssignmentMode, AssignmentRule
from helpdesk.models import Availability, Role, User
from workflow.presence import connected_q


def anyone_available(account: ChannelAccount) -> bool:
    """One indexed EXISTS on the tenant's people; call it inside the account's tenant."""
    excluded = AssignmentRule.objects.filter(
        user=OuterRef("pk"), account_id=account.pk, mode=AssignmentMode.NONE
    )
    return (
        User.objects.filter(
            connected_q(),
            tenant_id=account.tenant_id,
            is_active=True,
            is_bot=False,
            role__in=(Role.AGENT, Role.ADMIN),
            availability=Availability.AVAILABLE,
        )
        .filter(~Exists(excluded))
        .exists()
    )
