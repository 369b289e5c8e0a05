"""Sending on the web chat: the agent's message goes to the visitor's open chat windows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string

from channels_conn.base import SendResult, ensure_active
from channels_conn.webchat.visitors import visitor_group
from deskconfig.kinds import ChannelKind
from helpdesk.live import publish

if TYPE_CHECKING:
    from deskconfig.accounts import ChannelAccount
    from tickets.models import Message


class WebchatConnector:
    kind: str = ChannelKind.WEBCHAT

    def send(self, account: ChannelAccount, message: Message) -> SendResult:
        """The visitor may be offline: the message is stored and shown when the chat page
        opens again, so delivery to the socket is best effort and never fails the send."""
        ensure_active(account)
        identity = message.ticket.customer.identities.filter(kind="webchat").first()
        if identity is not None:
            html = render_to_string("channels_conn/chat_message.html", {"m": message, "oob": True})
            publish(visitor_group(account.pk, identity.value), {"html": html})
        return SendResult(provider_id=f"wc-{message.pk}")


webchat_connector = WebchatConnector()
