"""Writes of the Channels page that are not a form save: disconnecting and reconnecting."""

from __future__ import annotations

from django.db import transaction

from admin_config import audit
from deskconfig.accounts import ChannelAccount
from deskconfig.models import ConfigChange
from helpdesk.models import User

SECTION = "channels"


def account_set_active(*, actor: User, account: ChannelAccount, active: bool) -> bool:
    """Disconnect (``active=False``) or reconnect an account, audited. A disconnected account
    receives nothing (no polling, its web chat page is gone) and sends nothing; its tickets
    stay as they are. Returns False when the account was already in that state."""
    with transaction.atomic():
        locked = ChannelAccount.objects.select_for_update().defer("credentials").get(pk=account.pk)
        if locked.active == active:
            return False
        locked.active = active
        locked.save(update_fields=["active"])
        audit.record(
            actor=actor,
            section=SECTION,
            action=ConfigChange.Action.UPDATE,
            obj=locked,
            before={"active": not active},
            after={"active": active},
        )
    account.active = active
    return True
