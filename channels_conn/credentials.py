"""An account's stored credentials, read only where they are used, and the account's state
when the server's key cannot read them (it shows «reconectar» with the reason)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext

from helpdesk.crypto import SealedSecret, stored_secret

if TYPE_CHECKING:
    from deskconfig.accounts import ChannelAccount


def credentials_of(account: ChannelAccount) -> dict[str, Any]:
    """The decrypted credentials ({} when never set). Raises ``SecretUnreadable`` when the
    key cannot decrypt them."""
    creds: Any = account.credentials
    return dict(creds) if isinstance(creds, Mapping) else {}


def readable_credentials(account: ChannelAccount) -> dict[str, Any]:
    """The credentials, or {} when they cannot be read (the admin types them again)."""
    return {} if credentials_problem(account) else credentials_of(account)


def credentials_problem(account: ChannelAccount) -> str:
    """Why the account needs reconnecting because of its stored secrets ("" when they can be
    read). Checked on the token's signature: the secrets themselves are not decrypted."""
    stored = stored_secret(account, "credentials")
    if isinstance(stored, SealedSecret) and not stored.readable():
        return gettext(
            "Sus credenciales guardadas no se pueden leer (cambió la clave de cifrado del "
            "servidor): vuelve a ingresarlas para reconectar la cuenta."
        )
    return ""
