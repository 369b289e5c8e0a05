"""Reads of the publishing page: who may publish on which account, and the lists of posts."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import AssignmentMode, AssignmentRule
from helpdesk.models import Role, User
from publishing.models import DEFAULT_MISSED_AFTER, PublishingSettings
from tickets.models import ScheduledPost

POST_KINDS = (ChannelKind.TWITTER, ChannelKind.FACEBOOK)
SHOWN = 50


def publishable_accounts(user: User, *, include_inactive: bool = False) -> QuerySet[ChannelAccount]:
    """X accounts and Facebook pages ``user`` may publish on: every one for an admin; for an
    agent, those the assignment matrix does not close to them (mode «Ninguna»)."""
    qs = ChannelAccount.objects.defer("credentials").filter(kind__in=POST_KINDS)
    if not include_inactive:
        qs = qs.filter(active=True)
    if user.role != Role.ADMIN:
        closed = AssignmentRule.objects.filter(
            user=user, account=OuterRef("pk"), mode=AssignmentMode.NONE
        )
        qs = qs.filter(~Exists(closed))
    return qs.order_by("kind", "name", "pk")


def may_publish(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.AGENT)


def visible_posts(user: User) -> QuerySet[ScheduledPost]:
    accounts = publishable_accounts(user, include_inactive=True).values("pk")
    return ScheduledPost.objects.filter(account__in=accounts).select_related(
        "account", "created_by"
    )


def post_lists(user: User) -> dict[str, list[ScheduledPost]]:
    """Scheduled (soonest first), published (latest first) and failed or missed."""
    qs = visible_posts(user)
    S = ScheduledPost.Status
    return {
        "scheduled": list(
            qs.filter(status__in=[S.SCHEDULED, S.PUBLISHING]).order_by("publish_at", "pk")[:SHOWN]
        ),
        "published": list(qs.filter(status=S.PUBLISHED).order_by("-published_at", "-pk")[:SHOWN]),
        "failed": list(
            qs.filter(status__in=[S.FAILED, S.MISSED]).order_by("-updated_at", "-pk")[:SHOWN]
        ),
    }


def missed_after_minutes() -> int:
    value = PublishingSettings.objects.values_list("missed_after_minutes", flat=True).first()
    return DEFAULT_MISSED_AFTER if value is None else int(value)
