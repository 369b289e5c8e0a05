"""Instagram webhooks (object ``instagram``): DMs in Messenger's shape (``messaging``) and the
comments on the account's media (``comments``), with Facebook's rules."""

from __future__ import annotations

from typing import Any

from channels_conn.messenger.receive import at_of, comment_received, messaging_event, own_id
from deskconfig.accounts import ChannelAccount


def process_entry(account: ChannelAccount, entry: dict[str, Any]) -> None:
    events = sorted(entry.get("messaging") or [], key=lambda e: int(e.get("timestamp") or 0))
    for event in events:
        messaging_event(account, event)
    for change in entry.get("changes") or []:
        if change.get("field") == "comments":
            _comment(account, change.get("value") or {}, entry.get("time"))


def _comment(account: ChannelAccount, value: dict[str, Any], time: Any) -> None:
    author = value.get("from") or {}
    if str(author.get("id") or "") == own_id(account) or not value.get("id"):
        return  # our own comment
    media = value.get("media") or {}
    comment_received(
        account=account,
        comment_id=str(value["id"]),
        author_id=str(author.get("id") or ""),
        author_name=str(author.get("username") or ""),
        text=str(value.get("text") or ""),
        post_id=str(media.get("id") or ""),
        parent_id=str(value.get("parent_id") or ""),
        at=at_of(time),
    )
