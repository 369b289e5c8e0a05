"""Facebook page webhooks (object ``page``): Messenger conversations (``messaging``) and the
comments on the page's posts (``feed``). Instagram's messaging has the same shape and goes
through :func:`messaging_event` too (channels_conn/instagram/receive.py).

Messenger: text, attachments (downloaded from Meta's CDN hosts only), quick-reply and postback
payloads, reactions on the message they react to, read and delivery receipts, echoes (ours are
skipped, the ones sent from Meta's inbox or another app are stored «enviado desde Meta»).
Feed: a comment or reply by someone else is a public message of the commenter's ticket; edits
and removals update it; the page's own comments, likes and other feed noise are ignored.
Idempotent on the mid / comment id.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_conn.meta import graph
from channels_conn.meta.inbound import (
    message_edit,
    message_removed,
    reaction_set,
    receive,
    record_sent_elsewhere,
)
from channels_conn.meta.profiles import Sender, profile_retry_later, sender_name
from deskconfig.accounts import ChannelAccount
from tickets import services as tickets
from tickets.identities import normalize_identity
from tickets.models import (
    IDENTITY_OF_CHANNEL,
    DeliveryStatus,
    Direction,
    Message,
)

log = logging.getLogger(__name__)

MB = 1024 * 1024
ATTACHMENT_LIMIT = 25 * MB
DOWNLOADED = {"image", "audio", "video", "file"}


def own_id(account: ChannelAccount) -> str:
    s = account.settings or {}
    return str(s.get("page_id") or s.get("instagram_account_id") or "")


def at_of(timestamp: Any) -> datetime.datetime:
    """Meta's timestamps: milliseconds in messaging, seconds in feed changes."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        return timezone.now()
    if value > 10**11:
        value //= 1000
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def process_entry(account: ChannelAccount, entry: dict[str, Any]) -> None:
    events = sorted(entry.get("messaging") or [], key=lambda e: int(e.get("timestamp") or 0))
    for event in events:
        messaging_event(account, event)
    for change in entry.get("changes") or []:
        if change.get("field") == "feed":
            feed_change(account, change.get("value") or {})


def messaging_event(account: ChannelAccount, event: dict[str, Any]) -> None:
    sender = str((event.get("sender") or {}).get("id") or "")
    if "message" in event:
        _message(account, event, sender)
    elif "postback" in event:
        postback = event["postback"] or {}
        who = sender_name(account, sender)
        stored = receive(
            account=account,
            inbound=tickets.Inbound(
                identity=sender,
                text=str(postback.get("title") or postback.get("payload") or ""),
                provider_id=str(
                    postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
                ),
                customer_name=who.name,
                received_at=at_of(event.get("timestamp")),
            ),
            extra={"payload": postback.get("payload")},
        )
        _name_later(account, sender, who, stored)
    elif "reaction" in event:
        reaction = event["reaction"] or {}
        emoji = (
            ""
            if reaction.get("action") == "unreact"
            else str(reaction.get("emoji") or reaction.get("reaction") or "")
        )
        reaction_set(
            account=account, provider_id=str(reaction.get("mid") or ""), who=sender, emoji=emoji
        )
    elif "read" in event:
        _receipt(account, sender, event["read"] or {}, DeliveryStatus.READ)
    elif "delivery" in event:
        _receipt(account, sender, event["delivery"] or {}, DeliveryStatus.DELIVERED)


def _message(account: ChannelAccount, event: dict[str, Any], sender: str) -> None:
    message = event.get("message") or {}
    mid = str(message.get("mid") or "")
    if message.get("is_echo"):
        _echo(account, event, message, mid)
        return
    if message.get("is_deleted"):
        message_removed(account=account, provider_id=mid)
        return
    text = str(message.get("text") or "")
    files, lines, extra = _attachments(message.get("attachments") or [])
    if message.get("quick_reply"):
        extra["payload"] = (message["quick_reply"] or {}).get("payload")
    reply_to = message.get("reply_to") or {}
    if reply_to.get("story"):
        extra["story"] = reply_to["story"]
        lines.append(
            _("Respondió a tu historia: %(url)s") % {"url": reply_to["story"].get("url", "")}
        )
    if message.get("is_unsupported"):
        lines.append(_("[El cliente envió un mensaje que Meta no entrega a esta aplicación.]"))
        extra["unsupported"] = True
    who = sender_name(account, sender)
    stored = receive(
        account=account,
        inbound=tickets.Inbound(
            identity=sender,
            text="\n".join(p for p in (text, *lines) if p),
            provider_id=mid or None,
            customer_name=who.name,
            reply_to_provider_id=str(reply_to.get("mid") or "") or None,
            received_at=at_of(event.get("timestamp")),
            attachments=tuple(files),
        ),
        extra=extra,
    )
    _name_later(account, sender, who, stored)


def _name_later(account: ChannelAccount, sender: str, who: Sender, stored: Message | None) -> None:
    """A lookup that failed is tried again once the customer exists: the message never waits
    for Meta, and the customer keeps «Cliente sin nombre» until the name arrives."""
    if who.failed and stored is not None:
        profile_retry_later(account, sender)


def _attachments(
    items: list[dict[str, Any]],
) -> tuple[list[tickets.IncomingFile], list[str], dict[str, Any]]:
    files: list[tickets.IncomingFile] = []
    lines: list[str] = []
    extra: dict[str, Any] = {}
    for number, item in enumerate(items, start=1):
        kind = str(item.get("type") or "")
        payload = item.get("payload") or {}
        url = str(payload.get("url") or "")
        if kind in DOWNLOADED and url:
            try:
                got = graph.download(url, token=None, max_bytes=ATTACHMENT_LIMIT)
            except graph.MediaRefused as exc:
                lines.append(_("[No se descargó un adjunto: %(why)s]") % {"why": exc})
                continue
            name = str(payload.get("name") or item.get("name") or f"{kind}-{number}")
            files.append(
                tickets.IncomingFile(
                    name=name[:200], content=got.content, content_type=got.content_type
                )
            )
        elif kind == "story_mention":
            extra["story"] = {"url": url, "mention": True}
            lines.append(_("Te mencionó en su historia: %(url)s") % {"url": url})
        elif url or payload.get("title"):
            lines.append(
                " ".join(
                    p for p in (str(item.get("title") or payload.get("title") or ""), url) if p
                )
            )
    return files, lines, extra


def _echo(
    account: ChannelAccount, event: dict[str, Any], message: dict[str, Any], mid: str
) -> None:
    """Our own send coming back is matched to the stored message (never a second copy); a
    message sent from Meta's inbox or another app is stored as sent from Meta."""
    app_id = str(message.get("app_id") or "")
    ours = bool(settings.META_APP_ID) and app_id == settings.META_APP_ID
    if ours or Message.objects.filter(account=account, provider_id=mid).exists():
        return
    record_sent_elsewhere(
        account=account,
        customer_identity=str((event.get("recipient") or {}).get("id") or ""),
        provider_id=mid,
        text=str(message.get("text") or ""),
        at=at_of(event.get("timestamp")),
    )


def _receipt(account: ChannelAccount, sender: str, receipt: dict[str, Any], status: str) -> None:
    """Receipts name mids (Instagram, deliveries) or a watermark: everything we sent to this
    person up to that time."""
    from channels_conn.meta.inbound import status_update

    mids = list(receipt.get("mids") or []) + ([receipt["mid"]] if receipt.get("mid") else [])
    if not mids and receipt.get("watermark"):
        kind = IDENTITY_OF_CHANNEL[account.kind]
        mids = list(
            Message.objects.filter(
                account=account,
                direction=Direction.OUT,
                ticket__customer__identities__kind=kind,
                ticket__customer__identities__value=normalize_identity(kind, sender),
                sent_at__lte=at_of(receipt["watermark"]),
                status__in=[DeliveryStatus.SENT, DeliveryStatus.DELIVERED],
                provider_id__isnull=False,
            )
            .order_by("-sent_at")
            .values_list("provider_id", flat=True)[:50]
        )
    for mid in mids:
        status_update(account=account, provider_id=str(mid), status=status)


def feed_change(account: ChannelAccount, value: dict[str, Any]) -> None:
    if value.get("item") != "comment":
        return  # likes, reactions, posts, shares: feed noise
    author = value.get("from") or {}
    if str(author.get("id") or "") == own_id(account):
        return  # the page's own comment: no ticket
    comment_id = str(value.get("comment_id") or "")
    verb = str(value.get("verb") or "")
    if verb == "edited":
        message_edit(account=account, provider_id=comment_id, text=str(value.get("message") or ""))
    elif verb in ("remove", "hide"):
        message_removed(account=account, provider_id=comment_id)
    elif verb == "add" and comment_id:
        comment_received(
            account=account,
            comment_id=comment_id,
            author_id=str(author.get("id") or ""),
            author_name=str(author.get("name") or ""),
            text=str(value.get("message") or ""),
            post_id=str(value.get("post_id") or ""),
            parent_id=str(value.get("parent_id") or ""),
            at=at_of(value.get("created_time")),
            permalink=str((value.get("post") or {}).get("permalink_url") or ""),
            photo=str(value.get("photo") or ""),
        )


def comment_received(
    *,
    account: ChannelAccount,
    comment_id: str,
    author_id: str,
    author_name: str,
    text: str,
    post_id: str,
    parent_id: str,
    at: datetime.datetime,
    permalink: str = "",
    photo: str = "",
) -> None:
    """A comment on one of our posts (Facebook or Instagram): a public message."""
    if Message.objects.filter(account=account, provider_id=comment_id).exists():
        return
    is_reply = bool(parent_id) and parent_id != post_id
    receive(
        account=account,
        inbound=tickets.Inbound(
            identity=author_id,
            text="\n".join(p for p in (text, photo) if p),
            provider_id=comment_id,
            customer_name=author_name,
            is_public=True,
            reply_to_provider_id=parent_id if is_reply else None,
            received_at=at,
        ),
        extra={"comment": {"post_id": post_id, "parent_id": parent_id, "permalink": permalink}},
        post_id=post_id,
    )
