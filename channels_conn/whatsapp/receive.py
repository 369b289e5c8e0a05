"""WhatsApp Cloud API webhooks: customers' messages and the delivery statuses of ours.

Every item keeps what it carries: media is downloaded through Graph (media id → URL lookup →
download with the account's token, from Meta's hosts only, within WhatsApp's size limits);
locations, contacts, button and list replies become text; reactions land on the message they
react to; a quoted reply points at the message it quotes; an ad referral is kept for Contexto;
unsupported items and errors become a visible note. Idempotent on the wamid.
"""

from __future__ import annotations

import datetime
import logging
import mimetypes
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from channels_conn.meta import graph
from channels_conn.meta.errors import is_auth_failure, status_title
from channels_conn.meta.inbound import (
    account_notice_add,
    reaction_set,
    receive,
    status_update,
)
from deskconfig.accounts import ChannelAccount
from deskconfig.reconnect import account_reconnect_needed
from tickets import services as tickets
from tickets.models import DeliveryStatus

log = logging.getLogger(__name__)

MB = 1024 * 1024
MEDIA_LIMITS = {
    "image": 5 * MB,
    "sticker": 1 * MB,
    "audio": 16 * MB,
    "voice": 16 * MB,
    "video": 16 * MB,
    "document": 100 * MB,
}
STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


def token_of(account: ChannelAccount) -> str:
    creds: dict[str, Any] = account.credentials if isinstance(account.credentials, dict) else {}
    return str(creds.get("access_token") or "")


def _at(timestamp: Any) -> datetime.datetime:
    try:
        return datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC)
    except (TypeError, ValueError, OverflowError):
        return timezone.now()


def process_entry(account: ChannelAccount, entry: dict[str, Any]) -> None:
    for change in entry.get("changes") or []:
        value = change.get("value") or {}
        field = change.get("field")
        if field == "messages":
            _process_value(account, value)
        elif field == "message_template_status_update":
            from channels_conn.whatsapp.template_sync import template_status_update

            template_status_update(account=account, value=value)


def _process_value(account: ChannelAccount, value: dict[str, Any]) -> None:
    names = {
        str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
        for c in value.get("contacts") or []
    }
    items = sorted(value.get("messages") or [], key=lambda m: int(m.get("timestamp") or 0))
    for item in items:
        _message(account, item, names.get(str(item.get("from")), ""))
    statuses = sorted(value.get("statuses") or [], key=lambda s: int(s.get("timestamp") or 0))
    for status in statuses:
        _status(account, status)
    for error in value.get("errors") or []:
        _account_error(account, error if isinstance(error, dict) else {})


def _account_error(account: ChannelAccount, error: dict[str, Any]) -> None:
    """An error about the number itself (``value.errors``, no message to hang it on): a note on
    the account's page, never dropped; an expired token also marks it «reconectar»."""
    reason = status_title(error)
    account_notice_add(account=account, text=reason)
    if is_auth_failure(error.get("code")):
        account_reconnect_needed(account=account, reason=reason)


def _status(account: ChannelAccount, item: dict[str, Any]) -> None:
    status = STATUSES.get(str(item.get("status")))
    if status is None or not item.get("id"):
        return  # "deleted", "warning"... or nothing to match: ignored
    reason = ""
    if status == DeliveryStatus.FAILED:
        error = (item.get("errors") or [{}])[0]
        reason = status_title(error)
        if is_auth_failure(error.get("code")):
            account_reconnect_needed(account=account, reason=reason)
    status_update(account=account, provider_id=str(item["id"]), status=status, reason=reason)


def _message(account: ChannelAccount, item: dict[str, Any], name: str) -> None:
    kind = str(item.get("type") or "")
    if kind == "reaction":
        reaction = item.get("reaction") or {}
        target = str(reaction.get("message_id") or "")
        if target and not reaction_set(
            account=account,
            provider_id=target,
            who=str(item.get("from")),
            emoji=str(reaction.get("emoji") or ""),
        ):
            log.info("WhatsApp reaction on a message we don't have: ignored")
        return
    text, files, extra = _content(account, item, kind)
    context = item.get("context") or {}
    if context.get("forwarded") or context.get("frequently_forwarded"):
        extra["forwarded"] = True
    if item.get("referral"):
        extra["referral"] = item["referral"]
    receive(
        account=account,
        inbound=tickets.Inbound(
            identity=str(item.get("from") or ""),
            text=text,
            provider_id=str(item.get("id") or "") or None,
            customer_name=name,
            reply_to_provider_id=str(context.get("id") or "") or None,
            received_at=_at(item.get("timestamp")),
            attachments=files,
        ),
        extra=extra,
    )


def _content(
    account: ChannelAccount, item: dict[str, Any], kind: str
) -> tuple[str, tuple[tickets.IncomingFile, ...], dict[str, Any]]:
    """(text, files, extras) of one inbound item."""
    found = item.get(kind)
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    if kind == "text":
        return str(body.get("body") or ""), (), {}
    if kind in MEDIA_LIMITS:
        return _media(account, kind, body)
    if kind == "location":
        return _location(body), (), {"location": body}
    if kind == "contacts":
        return _contacts(item.get("contacts") or []), (), {}
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        text = str(reply.get("title") or "")
        if reply.get("description"):
            text += f"\n{reply['description']}"
        return text, (), {"payload": reply.get("id")}
    if kind == "button":
        return str(body.get("text") or ""), (), {"payload": body.get("payload")}
    if kind == "order":
        count = len(body.get("product_items") or [])
        return _("Pedido desde el catálogo: %(n)s productos.") % {"n": count}, (), {"order": body}
    if kind == "system":
        return str(body.get("body") or _("Aviso de WhatsApp.")), (), {}
    return _unsupported(item), (), {"unsupported": True}


def _unsupported(item: dict[str, Any]) -> str:
    errors = item.get("errors") or []
    detail = "; ".join(
        f"{e.get('code')}: {(e.get('error_data') or {}).get('details') or e.get('title') or ''}"
        for e in errors
    )
    text = _(
        "[El cliente envió un mensaje que WhatsApp no entrega a esta aplicación (%(type)s).]"
    ) % {"type": item.get("type") or "?"}
    return f"{text} {detail}".strip()


def _location(body: dict[str, Any]) -> str:
    lat, lng = body.get("latitude"), body.get("longitude")
    label = " · ".join(str(body[k]) for k in ("name", "address") if body.get(k))
    where = f"https://www.google.com/maps?q={lat},{lng}"
    return "\n".join(p for p in (_("📍 Ubicación compartida"), label, where) if p)


def _contacts(cards: list[dict[str, Any]]) -> str:
    lines = [_("👤 Contacto compartido:")]
    for card in cards:
        name = (card.get("name") or {}).get("formatted_name") or ""
        phones = ", ".join(str(p.get("phone") or "") for p in card.get("phones") or [])
        lines.append(f"{name} {phones}".strip())
    return "\n".join(lines)


def _media(
    account: ChannelAccount, kind: str, body: dict[str, Any]
) -> tuple[str, tuple[tickets.IncomingFile, ...], dict[str, Any]]:
    caption = str(body.get("caption") or "")
    media_id = str(body.get("id") or "")
    if not media_id:
        return caption or _("[Archivo sin identificador]"), (), {}
    limit = MEDIA_LIMITS[kind]
    try:
        file = fetch_media(account, media_id, limit=limit, kind=kind, filename=body.get("filename"))
    except graph.MediaRefused as exc:
        note = _("[No se descargó el archivo: %(why)s]") % {"why": exc}
        return "\n".join(p for p in (caption, note) if p), (), {"media_refused": str(exc)}
    return caption, (file,), {}


def fetch_media(
    account: ChannelAccount, media_id: str, *, limit: int, kind: str, filename: Any = None
) -> tickets.IncomingFile:
    """Look the media id up in Graph, then download it with the account's token."""
    token = token_of(account)
    meta = graph.call("GET", f"/{media_id}", token=token)
    declared = int(meta.get("file_size") or 0)
    if declared > limit:
        raise graph.MediaRefused(f"{declared} bytes > {limit}")
    got = graph.download(str(meta.get("url") or ""), token=token, max_bytes=limit)
    mime = str(meta.get("mime_type") or got.content_type or "application/octet-stream")
    mime = mime.split(";")[0].strip()
    name = str(filename or "") or f"{kind}-{media_id}{mimetypes.guess_extension(mime) or ''}"
    return tickets.IncomingFile(name=name[:200], content=got.content, content_type=mime)
