"""Writes of the Channels page that are not a form save: disconnecting and reconnecting."""

from __future__ import annotations

from django.db import transaction

from admin_config import audit
from deskconfig.accounts import ChannelAccount
from deskconfig.models import ConfigChange
from deskconfig.reconnect import SECTION, account_reconnect_cleared
from helpdesk.models import User

__all__ = ["SECTION", "account_reconnect", "account_set_active"]


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


def account_reconnect(*, actor: User, account: ChannelAccount) -> bool:
    """«Reconectar»: the admin says the account works again. It is connected (if it was
    disconnected) and loses its «Reconectar» mark, both audited, in one transaction. Returns
    False when there was nothing to do."""
    with transaction.atomic():
        activated = account_set_active(actor=actor, account=account, active=True)
        cleared = account_reconnect_cleared(account=account, actor=actor)
    return activated or cleared
