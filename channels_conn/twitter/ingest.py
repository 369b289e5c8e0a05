"""Filing stored X events on tickets: a mention is a public message flagged as a mention in its
author's ticket (a reply in a thread joins the thread's ticket), a DM is a private message.
Our own tweets and DMs coming back are skipped, never filed as a customer's."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.utils.dateparse import parse_datetime

from channels_conn.twitter.models import TwitterEvent
from deskconfig.accounts import ChannelAccount
from tickets import services as tickets
from tickets.models import Message

log = logging.getLogger(__name__)


def _when(value: Any) -> datetime.datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _thread_number(account: ChannelAccount, tweet: dict[str, Any]) -> tuple[int | None, str]:
    """The ticket of the tweet this one answers (or of its conversation's first tweet), and
    the id it replies to."""
    refs = tweet.get("referenced_tweets") or []
    replied = next((str(r["id"]) for r in refs if r.get("type") == "replied_to"), "")
    ids = [i for i in (replied, str(tweet.get("conversation_id") or "")) if i]
    if not ids:
        return None, replied
    rows = dict(
        Message.objects.filter(account=account, provider_id__in=ids).values_list(
            "provider_id", "ticket__number"
        )
    )
    return next((rows[i] for i in ids if i in rows), None), replied


def _mention(account: ChannelAccount, event: TwitterEvent) -> tickets.Inbound:
    tweet: dict[str, Any] = event.payload.get("tweet") or {}
    author: dict[str, Any] = event.payload.get("author") or {}
    number, replied = _thread_number(account, tweet)
    return tickets.Inbound(
        identity=str(author.get("username") or tweet.get("author_id") or ""),
        customer_name=str(author.get("name") or ""),
        text=str(tweet.get("text") or ""),
        provider_id=event.event_id,
        is_public=True,
        is_mention=True,
        reply_to_provider_id=replied or None,
        received_at=_when(tweet.get("created_at")),
        thread_ticket_number=number,
    )


def _dm(event: TwitterEvent) -> tickets.Inbound:
    dm: dict[str, Any] = event.payload.get("dm") or {}
    sender: dict[str, Any] = event.payload.get("sender") or {}
    return tickets.Inbound(
        identity=str(sender.get("username") or dm.get("sender_id") or ""),
        customer_name=str(sender.get("name") or ""),
        text=str(dm.get("text") or ""),
        provider_id=event.event_id,
        is_public=False,
        received_at=_when(dm.get("created_at")),
    )


def event_process(event: TwitterEvent, *, own_user_id: str) -> str:
    """File one stored event; returns its new status. A failure is kept on the row (visible,
    retried at the next poll's sweep only by hand) and never stops the others."""
    account = event.account
    if event.status == TwitterEvent.Status.PROCESSED:
        return event.status
    if own_user_id and event.author_id == own_user_id:
        status, error = TwitterEvent.Status.SKIPPED, ""
    else:
        try:
            inbound = _mention(account, event) if event.kind == "mention" else _dm(event)
            tickets.message_receive(account=account, inbound=inbound)
            status, error = TwitterEvent.Status.PROCESSED, ""
        except Exception as exc:  # a poisonous event is set aside, the rest flows
            log.exception("X event %s of account %s failed", event.event_id, account.pk)
            status, error = TwitterEvent.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    TwitterEvent.objects.filter(pk=event.pk).update(status=status, error=error)
    event.status, event.error = status, error
    return status
