"""The one interface every channel connector implements, and the registry by channel kind.

It lives in ``tickets`` (which delivers messages through it) so that ``tickets`` never imports
the channels: each channel package registers its connector here from
``channels_conn.apps.ChannelsConnConfig.ready()``, and imports these names from
``channels_conn.base``.

A connector sends one stored outbound message through its provider and says what happened:
a provider id on success, or a ``ConnectorError`` that is either transient (retried with
backoff) or permanent (the message is marked failed with the reason shown to the agent).
Receiving is per channel (webhooks, IMAP polling) and ends in ``tickets.services.message_receive``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from deskconfig.accounts import ChannelAccount
    from tickets.models import Message


class ConnectorError(Exception):
    """A send failed. ``permanent`` means retrying cannot help (bad token, blocked user...)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class SendResult:
    provider_id: str


class Connector(Protocol):
    kind: str

    def send(self, account: ChannelAccount, message: Message) -> SendResult:
        """Deliver ``message`` (its ticket, customer identity and attachments are loaded)."""
        ...


def ensure_active(account: ChannelAccount) -> None:
    """Every connector calls this first: a disconnected account, or one whose credentials the
    provider refused (``deskconfig.reconnect``), sends nothing. Its tickets stay open and
    readable; a reply fails with this reason (and can be retried once the admin reconnects
    the account)."""
    from deskconfig.reconnect import reconnect_refusal

    refusal = reconnect_refusal(account)
    if refusal:
        raise ConnectorError(refusal, permanent=True)
    if not account.active:
        from django.utils.translation import gettext

        reason = gettext(
            "La cuenta «%(name)s» está desconectada: reconéctala en Administración > Canales "
            "y reintenta."
        ) % {"name": account.name}
        raise ConnectorError(reason, permanent=True)


_REGISTRY: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    """Make ``connector`` the sender for its channel kind (each channel module calls this)."""
    _REGISTRY[_key(connector.kind)] = connector
    return connector


def _key(kind: str) -> str:
    # A TextChoices member hashes by its name, not its value: key the registry by the value.
    return str(getattr(kind, "value", kind))


def unregister(kind: str) -> None:
    _REGISTRY.pop(_key(kind), None)


def connector_for(kind: str) -> Connector:
    try:
        return _REGISTRY[_key(kind)]
    except KeyError:
        from django.utils.translation import gettext

        reason = gettext("Este canal todavía no puede enviar mensajes desde el helpdesk.")
        raise ConnectorError(reason, permanent=True) from None
