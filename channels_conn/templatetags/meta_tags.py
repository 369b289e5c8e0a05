"""The Contexto tab's part for the Meta channels: the ad a WhatsApp conversation came from, and
for comments the post (with its link) and the comment thread around the ticket's comments."""

from __future__ import annotations

from typing import Any

from django import template

from channels_conn.meta.models import MetaMessageInfo
from deskconfig.kinds import ChannelKind

register = template.Library()

META_KINDS = {ChannelKind.WHATSAPP, ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM}
THREAD_LIMIT = 100


@register.inclusion_tag("channels_conn/meta/context.html")
def meta_context(ticket: Any) -> dict[str, Any]:
    if ticket.account.kind not in META_KINDS:
        return {"show": False}
    infos = list(MetaMessageInfo.objects.filter(message__ticket=ticket).order_by("message_id"))
    referrals = [i.data["referral"] for i in infos if (i.data or {}).get("referral")]
    posts: dict[str, dict[str, Any]] = {}
    for info in infos:
        if info.post_id:
            comment = (info.data or {}).get("comment") or {}
            posts.setdefault(
                info.post_id, {"id": info.post_id, "permalink": comment.get("permalink", "")}
            )
    thread = []
    if posts:
        thread = list(
            MetaMessageInfo.objects.filter(post_id__in=list(posts))
            .select_related("message__ticket__customer", "message__author")
            .order_by("message__created_at", "message_id")[:THREAD_LIMIT]
        )
    return {
        "show": True,
        "ticket": ticket,
        "referrals": referrals,
        "posts": list(posts.values()),
        "thread": thread,
    }
