"""An account's stored credentials, read only where they are used, and the account's state
when the server's key cannot read them (it shows «reconectar» with the reason)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from deskconfig.reconnect import credentials_problem

if TYPE_CHECKING:
    from deskconfig.accounts import ChannelAccount

__all__ = ["credentials_of", "credentials_problem", "readable_credentials"]


def credentials_of(account: ChannelAccount) -> dict[str, Any]:
    """The decrypted credentials ({} when never set). Raises ``SecretUnreadable`` when the
    key cannot decrypt them."""
    creds: Any = account.credentials
    return dict(creds) if isinstance(creds, Mapping) else {}


def readable_credentials(account: ChannelAccount) -> dict[str, Any]:
    """The credentials, or {} when they cannot be read (the admin types them again)."""
    return {} if credentials_problem(account) else credentials_of(account)
