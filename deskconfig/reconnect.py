"""The one convention for "this account's credentials stopped working", for every channel.

A connector that hears its provider's "credentials no longer valid" (X 401, Graph 190, IMAP or
SMTP authentication refused) calls :func:`account_reconnect_needed`; the account then carries
the reason and since when (``ChannelAccount.reconnect_reason`` / ``reconnect_since``). It stays
active: whatever the provider still delivers (Meta's webhooks) keeps arriving, pull readers (X,
IMAP) skip it instead of hammering the provider with refused logins, and every send is refused
with the reason. :func:`account_reconnect_cleared` removes the mark (new credentials saved,
«Reconectar», a successful «Probar conexión»). Both write the configuration audit row the
Channels page's other writes write, only when they change something.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from deskconfig.accounts import ChannelAccount
from deskconfig.models import ConfigChange
from helpdesk.crypto import SealedSecret, stored_secret
from helpdesk.models import User

SECTION = "channels"  # the audit section of the Channels page
REASON_MAX = 1000


def account_reconnect_needed(*, account: ChannelAccount, reason: str) -> bool:
    """Mark ``account`` as needing reconnection because of ``reason`` (the provider's refusal,
    in the tenant's language). Idempotent: the first refusal's time is kept, a repeated one
    writes nothing. Returns whether the account changed."""
    reason = (reason or "").strip()[:REASON_MAX] or gettext(
        "El proveedor rechazó las credenciales de la cuenta."
    )
    with transaction.atomic():
        locked = _locked(account)
        if locked.reconnect_reason == reason:
            return False
        before = _state(locked)
        locked.reconnect_reason = reason
        locked.reconnect_since = locked.reconnect_since or timezone.now()
        locked.save(update_fields=["reconnect_reason", "reconnect_since"])
        _audit(locked, actor=None, before=before)
    account.reconnect_reason = locked.reconnect_reason
    account.reconnect_since = locked.reconnect_since
    return True


def account_reconnect_cleared(*, account: ChannelAccount, actor: User | None) -> bool:
    """Remove the mark (the admin fixed the credentials). Returns whether there was one."""
    with transaction.atomic():
        locked = _locked(account)
        if not locked.reconnect_reason and locked.reconnect_since is None:
            return False
        before = _state(locked)
        locked.reconnect_reason = ""
        locked.reconnect_since = None
        locked.save(update_fields=["reconnect_reason", "reconnect_since"])
        _audit(locked, actor=actor, before=before)
    account.reconnect_reason = ""
    account.reconnect_since = None
    return True


def credentials_problem(account: ChannelAccount) -> str:
    """Why the account needs reconnecting because of its stored secrets ("" when they can be
    read). Checked on the token's signature: the secrets themselves are not decrypted. Not
    stored: the server's key changes outside the application, so it is computed when shown."""
    stored = stored_secret(account, "credentials")
    if isinstance(stored, SealedSecret) and not stored.readable():
        return gettext(
            "Sus credenciales guardadas no se pueden leer (cambió la clave de cifrado del "
            "servidor): vuelve a ingresarlas para reconectar la cuenta."
        )
    return ""


def reconnect_reason_of(account: ChannelAccount) -> str:
    """What every page shows: the provider's refusal, else an unreadable secret, else ""."""
    return account.reconnect_reason or credentials_problem(account)


def reconnect_refusal(account: ChannelAccount) -> str:
    """The agent's words when a send is refused on a marked account ("" when it is not)."""
    reason = reconnect_reason_of(account)
    if not reason:
        return ""
    return gettext(
        "La cuenta %(name)s necesita reconectarse: %(reason)s. Avisa a un administrador."
    ) % {"name": account.name, "reason": reason.rstrip(".")}


def _locked(account: ChannelAccount) -> ChannelAccount:
    found: ChannelAccount = (
        ChannelAccount.objects.select_for_update()
        .only("id", "tenant_id", "kind", "name", "reconnect_reason", "reconnect_since")
        .get(pk=account.pk)
    )
    return found


def _state(account: ChannelAccount) -> dict[str, str | None]:
    since = account.reconnect_since
    return {
        "reconnect_reason": account.reconnect_reason,
        "reconnect_since": since.isoformat() if since else None,
    }


def _audit(account: ChannelAccount, *, actor: User | None, before: dict[str, str | None]) -> None:
    """The audit row (``actor`` None: the provider's refusal, heard by a connector)."""
    after = _state(account)
    changed = sorted(k for k in after if before.get(k) != after.get(k))
    ConfigChange.objects.create(
        tenant_id=account.tenant_id,
        actor=actor,
        section=SECTION,
        action=ConfigChange.Action.UPDATE,
        object_type=account._meta.model_name or "",
        object_id=str(account.pk),
        object_repr=str(account)[:200],
        before={k: before.get(k) for k in changed},
        after={k: after.get(k) for k in changed},
    )
