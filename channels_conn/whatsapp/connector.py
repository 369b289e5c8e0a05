"""The WhatsApp connector: sends one stored outbound message through the Cloud API.

Text (quoting the answered message with ``context``), media (uploaded to the number first, the
message's text as the caption of the first file) and templates with their parameters (recorded
in the message's MESSAGE_OUT event). The 24-hour rule is checked before queueing
(``channels_conn.whatsapp.window``); Meta's own refusal (131047) still arrives as a failure
with its reason.
The provider id is the wamid of the first request, the one the status webhooks report.
"""

from __future__ import annotations

from typing import Any

from channels_conn.base import ConnectorError, SendResult, ensure_active
from channels_conn.meta import graph
from channels_conn.meta.errors import connector_error, is_auth_failure
from channels_conn.whatsapp.receive import token_of
from channels_conn.whatsapp.templates import sent_template, template_payload
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.reconnect import account_reconnect_needed
from tickets.models import Direction, IdentityKind, Message

TEXT_LIMIT = 4096


def _recipient(message: Message) -> str:
    identity = (
        message.ticket.customer.identities.filter(kind=IdentityKind.PHONE).order_by("id").first()
    )
    if identity is None:
        raise ConnectorError("El cliente no tiene un número de WhatsApp.", permanent=True)
    return f"+{identity.value}"


def _media_kind(content_type: str) -> str:
    major = content_type.split("/")[0]
    if content_type == "image/webp":
        return "sticker"
    return major if major in ("image", "audio", "video") else "document"


def build_payloads(message: Message, *, media_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The Cloud API bodies for ``message`` (no network; media already uploaded)."""
    base: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": _recipient(message),
    }
    reply = message.reply_to
    if reply is not None and reply.provider_id and reply.direction == Direction.IN:
        base["context"] = {"message_id": reply.provider_id}
    template = sent_template(message)
    if template is not None:
        return [{**base, "type": "template", "template": template_payload(template)}]
    attachments = list(message.attachments.all())
    if attachments:
        payloads = []
        for index, (attachment, media_id) in enumerate(
            zip(attachments, media_ids or [], strict=False)
        ):
            kind = _media_kind(attachment.content_type)
            media: dict[str, Any] = {"id": media_id}
            if index == 0 and message.text and kind in ("image", "video", "document"):
                media["caption"] = message.text[:1024]
            if kind == "document":
                media["filename"] = attachment.name
            payloads.append({**base, "type": kind, kind: media})
        if message.text and _media_kind(attachments[0].content_type) in ("audio", "sticker"):
            payloads.append({**base, "type": "text", "text": {"body": message.text[:TEXT_LIMIT]}})
        return payloads
    return [
        {**base, "type": "text", "text": {"preview_url": False, "body": message.text[:TEXT_LIMIT]}}
    ]


def _number_id(account: ChannelAccount) -> str:
    number = str((account.settings or {}).get("phone_number_id") or "")
    if not number:
        raise ConnectorError("La cuenta de WhatsApp no tiene el ID del número.", permanent=True)
    return number


def _upload(account: ChannelAccount, message: Message) -> list[str]:
    ids = []
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            answer = graph.call(
                "POST",
                f"/{_number_id(account)}/media",
                token=token_of(account),
                data={"messaging_product": "whatsapp", "type": attachment.content_type},
                files={"file": (attachment.name, handle.read(), attachment.content_type)},
            )
        ids.append(str(answer.get("id") or ""))
    return ids


class WhatsAppConnector:
    kind = ChannelKind.WHATSAPP.value

    def send(self, account: ChannelAccount, message: Message) -> SendResult:
        ensure_active(account)
        try:
            media = _upload(account, message) if sent_template(message) is None else []
            first = ""
            for payload in build_payloads(message, media_ids=media):
                answer = graph.call(
                    "POST",
                    f"/{_number_id(account)}/messages",
                    token=token_of(account),
                    json=payload,
                )
                first = first or str(((answer.get("messages") or [{}])[0]).get("id") or "")
        except graph.GraphError as exc:
            error = connector_error(exc)
            if is_auth_failure(exc.code):
                account_reconnect_needed(account=account, reason=error.reason)
            raise error from None
        return SendResult(provider_id=first)


whatsapp_connector = WhatsAppConnector()
