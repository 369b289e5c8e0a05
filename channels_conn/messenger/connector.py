"""The Facebook connector (and, with a few differences, Instagram's): Messenger answers, public
comment replies and private replies to comments.

* A public message answers a comment with a comment reply (``/{comment-id}/comments`` on
  Facebook, ``/{comment-id}/replies`` on Instagram).
* A private message answering a comment is Meta's private reply (``recipient.comment_id``):
  once per comment, within 7 days of it.
* Any other private message is a DM: ``messaging_type=RESPONSE`` within 24 hours of the
  customer's last message, the ``HUMAN_AGENT`` tag (a person's answer only) up to 7 days,
  refused after that with the reason.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from channels_conn.base import ConnectorError, SendResult, ensure_active
from channels_conn.messenger import window
from channels_conn.messenger.receive import own_id
from channels_conn.messenger.window import private_reply_refusal
from channels_conn.meta import graph
from channels_conn.meta.errors import connector_error, is_auth_failure
from channels_conn.meta.services import info_merge
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.reconnect import account_reconnect_needed
from tickets.models import AuthorKind, Direction, Message


def page_token(account: ChannelAccount) -> str:
    creds: dict[str, Any] = account.credentials if isinstance(account.credentials, dict) else {}
    return str(creds.get("page_access_token") or creds.get("access_token") or "")


def _last_inbound(message: Message, *, public: bool) -> Message | None:
    return (
        Message.objects.filter(
            account_id=message.account_id,
            ticket__customer_id=message.ticket.customer_id,
            direction=Direction.IN,
            is_public=public,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _answered_comment(message: Message) -> Message | None:
    reply = message.reply_to
    if reply is not None and reply.is_public and reply.direction == Direction.IN:
        return reply
    return None


def _customer_id(message: Message) -> str:
    kind = "instagram" if message.account.kind == ChannelKind.INSTAGRAM else "facebook"
    identity = message.ticket.customer.identities.filter(kind=kind).order_by("id").first()
    if identity is None:
        raise ConnectorError(_("El cliente no tiene una cuenta de este canal."), permanent=True)
    return str(identity.value)


class MetaPageConnector:
    kind = ChannelKind.FACEBOOK.value
    reply_edge = "comments"

    def send(self, account: ChannelAccount, message: Message) -> SendResult:
        ensure_active(account)
        try:
            if message.is_public:
                return self._public(account, message)
            comment = _answered_comment(message)
            dm = _last_inbound(message, public=False)
            if comment is None and dm is None:
                comment = _last_inbound(message, public=True)
            if comment is not None:
                return self._private_reply(account, message, comment)
            return self._direct(account, message, dm)
        except graph.GraphError as exc:
            error = connector_error(exc)
            if is_auth_failure(exc.code):
                account_reconnect_needed(account=account, reason=error.reason)
            raise error from None

    def _public(self, account: ChannelAccount, message: Message) -> SendResult:
        comment = _answered_comment(message) or _last_inbound(message, public=True)
        if comment is None or not comment.provider_id:
            raise ConnectorError(_("No hay un comentario al que responder."), permanent=True)
        answer = graph.call(
            "POST",
            f"/{comment.provider_id}/{self.reply_edge}",
            token=page_token(account),
            data={"message": message.text},
        )
        return SendResult(provider_id=str(answer.get("id") or ""))

    def _private_reply(
        self, account: ChannelAccount, message: Message, comment: Message
    ) -> SendResult:
        refusal = private_reply_refusal(comment, timezone.now())
        if refusal:
            raise ConnectorError(refusal, permanent=True)
        if message.attachments.exists():
            raise ConnectorError(
                _("La respuesta privada a un comentario solo lleva texto."), permanent=True
            )
        answer = graph.call(
            "POST",
            f"/{own_id(account)}/messages",
            token=page_token(account),
            json={
                "recipient": {"comment_id": comment.provider_id},
                "message": {"text": message.text},
            },
        )
        info_merge(
            message_id=comment.pk,
            tenant_id=comment.tenant_id,
            data={"private_reply": timezone.now().isoformat()},
        )
        return SendResult(provider_id=str(answer.get("message_id") or ""))

    def _direct(
        self, account: ChannelAccount, message: Message, last: Message | None
    ) -> SendResult:
        # The rule was checked before queueing; time passed since, so it is checked again.
        body: dict[str, Any] = {"recipient": {"id": _customer_id(message)}}
        mode = window.dm_mode(last.created_at if last is not None else None, timezone.now())
        if mode == window.Mode.RESPONSE:
            body["messaging_type"] = "RESPONSE"
        elif mode == window.Mode.HUMAN_AGENT and message.author_kind == AuthorKind.AGENT:
            body["messaging_type"] = "MESSAGE_TAG"
            body["tag"] = "HUMAN_AGENT"
        elif mode == window.Mode.HUMAN_AGENT:
            raise ConnectorError(window.bot_late_message(), permanent=True)
        else:
            raise ConnectorError(window.closed_message(), permanent=True)
        first = ""
        for attachment in message.attachments.all():
            sent = self._send_file(account, body, attachment)  # every file, not just the first
            first = first or sent
        if message.text:
            answer = graph.call(
                "POST",
                f"/{own_id(account)}/messages",
                token=page_token(account),
                json={**body, "message": {"text": message.text}},
            )
            first = first or str(answer.get("message_id") or "")
        return SendResult(provider_id=first)

    def _send_file(self, account: ChannelAccount, body: dict[str, Any], attachment: Any) -> str:
        major = attachment.content_type.split("/")[0]
        kind = major if major in ("image", "audio", "video") else "file"
        with attachment.file.open("rb") as handle:
            content = handle.read()
        fields = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in body.items()}
        fields["message"] = json.dumps(
            {"attachment": {"type": kind, "payload": {"is_reusable": False}}}
        )
        answer = graph.call(
            "POST",
            f"/{own_id(account)}/messages",
            token=page_token(account),
            data=fields,
            files={"filedata": (attachment.name, content, attachment.content_type)},
        )
        return str(answer.get("message_id") or "")


messenger_connector = MetaPageConnector()
