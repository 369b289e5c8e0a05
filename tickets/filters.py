"""The one filter engine of the inbox columns.

A column stores its filter as JSON. :class:`TicketFilter` reads it once, then answers the same
question two ways: as a Django ``Q`` for listing a column from the database, and as a predicate
over a ticket snapshot (``tickets.live.ticket_snapshot``) for the live push, where consumers
must not touch the database. ``tests/test_filters.py`` proves with hypothesis that both agree.

Every key may be absent ("No considerar"): an absent key filters nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Q
from django.utils import timezone

ASSIGNEE_MODES = ("nobody", "anyone", "human", "bot", "users", "me")
# In a column's "departments", this id stands for "no department" (ids start at 1).
NO_DEPARTMENT = 0
SLA_STATES = ("ok", "risk", "breached")
SORTS = ("updated", "waiting")


def _ids(value: Any) -> frozenset[int]:
    if not isinstance(value, list | tuple | set | frozenset):
        return frozenset()
    out = set()
    for item in value:
        try:
            out.add(int(item))
        except (TypeError, ValueError):
            continue
    return frozenset(out)


def _strings(value: Any, allowed: tuple[str, ...] | None = None) -> frozenset[str]:
    if not isinstance(value, list | tuple | set | frozenset):
        return frozenset()
    items = {str(v) for v in value}
    return frozenset(items & set(allowed)) if allowed else frozenset(items)


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _assignee(d: dict[str, Any]) -> tuple[str | None, frozenset[int]]:
    """The stored {"mode": ..., "users": [...]} of a column, validated."""
    assignee = d.get("assignee")
    if not isinstance(assignee, dict):
        return None, frozenset()
    mode = assignee.get("mode")
    return (mode if mode in ASSIGNEE_MODES else None), _ids(assignee.get("users"))


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class TicketFilter:
    channels: frozenset[str] = frozenset()
    accounts: frozenset[int] = frozenset()
    assignee_mode: str | None = None
    assignee_users: frozenset[int] = frozenset()
    statuses: frozenset[str] = frozenset()
    has_metadata: bool | None = None
    customer: int | None = None
    awaiting: bool | None = None
    important: bool | None = None
    has_comments: bool | None = None
    addressed: bool | None = None
    departments: frozenset[int] = frozenset()
    sla: frozenset[str] = frozenset()
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    sort: str = "updated"
    # Filled in for the person whose column it is ("me" = mine).
    user_id: int | None = None
    time_zone: datetime.tzinfo = field(default=datetime.UTC)

    @classmethod
    def from_data(
        cls,
        data: dict[str, Any] | None,
        *,
        sort: str = "updated",
        user_id: int | None = None,
        time_zone: datetime.tzinfo = datetime.UTC,
    ) -> TicketFilter:
        """Build from a column's stored JSON; unknown or malformed values are ignored."""
        d = data or {}
        mode, users = _assignee(d)
        customer = d.get("customer")
        awaiting = _flag(d.get("awaiting"))
        sort = sort if sort in SORTS else "updated"
        if sort == "waiting":
            awaiting = True  # sorting by waiting time only makes sense for those waiting
        return cls(
            channels=_strings(d.get("channels")),
            accounts=_ids(d.get("accounts")),
            assignee_mode=mode,
            assignee_users=users,
            statuses=_strings(d.get("status"), ("open", "closed", "ignored")),
            has_metadata=_flag(d.get("has_metadata")),
            customer=int(customer) if isinstance(customer, int) else None,
            awaiting=awaiting,
            important=True if d.get("important") is True else None,
            has_comments=_flag(d.get("has_comments")),
            addressed=_flag(d.get("addressed")),
            departments=_ids(d.get("departments")),
            sla=_strings(d.get("sla"), SLA_STATES),
            date_from=_date(d.get("date_from")),
            date_to=_date(d.get("date_to")),
            sort=sort,
            user_id=user_id,
            time_zone=time_zone,
        )

    # --- the date range is in the tenant's days ---------------------------------------------

    def _bounds(self) -> tuple[datetime.datetime | None, datetime.datetime | None]:
        start = end = None
        if self.date_from:
            start = datetime.datetime.combine(self.date_from, datetime.time.min, self.time_zone)
        if self.date_to and self.date_to < datetime.date.max:  # the calendar's last day: no end
            end = datetime.datetime.combine(
                self.date_to + datetime.timedelta(days=1), datetime.time.min, self.time_zone
            )
        return start, end

    # --- as SQL ----------------------------------------------------------------------------

    def _assignee_q(self, via: str = "") -> Q:
        """``via`` reaches the ticket from another model ("ticket__" for messages)."""
        mode, a = self.assignee_mode, f"{via}assignee"
        if mode == "nobody":
            return Q(**{f"{a}__isnull": True})
        if mode == "anyone":
            return Q(**{f"{a}__isnull": False})
        if mode == "human":
            return Q(**{f"{a}__isnull": False, f"{a}__is_bot": False})
        if mode == "bot":
            return Q(**{f"{a}__is_bot": True})
        if mode == "users":
            return Q(**{f"{a}_id__in": self.assignee_users})
        if mode == "me":
            # Without a person, "mine" is nobody's (Q(assignee_id=None) would mean unassigned).
            return Q(**{f"{a}_id": self.user_id}) if self.user_id is not None else Q(pk__in=[])
        return Q()

    def _sla_q(self, now: datetime.datetime) -> Q:
        if not self.sla:
            return Q()
        waiting = Q(status="open", sla_due_at__isnull=False)
        breached = waiting & (Q(sla_breached=True) | Q(sla_due_at__lte=now))
        not_breached = waiting & Q(sla_breached=False, sla_due_at__gt=now)
        q = Q(pk__in=[])
        if "breached" in self.sla:
            q |= breached
        if "risk" in self.sla:
            q |= not_breached & Q(sla_risk_at__lte=now)
        if "ok" in self.sla:
            # No risk instant (waits started before it was stored) is "ok", as in sla_state.
            q |= not_breached & (Q(sla_risk_at__gt=now) | Q(sla_risk_at__isnull=True))
        return q

    def _department_q(self) -> Q:
        if not self.departments:
            return Q()
        q = Q(department_id__in=self.departments - {NO_DEPARTMENT})
        if NO_DEPARTMENT in self.departments:
            q |= Q(department__isnull=True)
        return q

    def to_q(self, now: datetime.datetime | None = None) -> Q:
        now = now or timezone.now()
        q = Q(merged_into__isnull=True)
        if self.channels:
            q &= Q(account__kind__in=self.channels)
        if self.accounts:
            q &= Q(account_id__in=self.accounts)
        q &= self._assignee_q()
        if self.statuses:
            q &= Q(status__in=self.statuses)
        if self.has_metadata is True:
            q &= ~Q(metadata={})
        elif self.has_metadata is False:
            q &= Q(metadata={})
        if self.customer is not None:
            q &= Q(customer_id=self.customer)
        for name in ("awaiting", "important", "has_comments", "addressed"):
            value = getattr(self, name)
            if value is not None:
                column = "awaiting_response" if name == "awaiting" else name
                q &= Q(**{column: value})
        q &= self._department_q()
        q &= self._sla_q(now)
        start, end = self._bounds()
        if start:
            q &= Q(created_at__gte=start)
        if end:
            q &= Q(created_at__lt=end)
        return q

    def order_by(self) -> tuple[str, str]:
        if self.sort == "waiting":
            return ("waiting_since", "id")
        return ("-updated_at", "-id")

    # --- as a predicate over a snapshot ------------------------------------------------------

    def _assignee_ok(self, s: dict[str, Any]) -> bool:
        mode, assignee = self.assignee_mode, s["assignee_id"]
        if mode == "nobody":
            return assignee is None
        if mode == "anyone":
            return assignee is not None
        if mode == "human":
            return assignee is not None and not s["assignee_is_bot"]
        if mode == "bot":
            return assignee is not None and bool(s["assignee_is_bot"])
        if mode == "users":
            return assignee in self.assignee_users
        if mode == "me":
            return assignee is not None and assignee == self.user_id
        return True

    def _sla_ok(self, s: dict[str, Any], now: datetime.datetime) -> bool:
        if not self.sla:
            return True
        due = _parse(s["sla_due_at"])
        if s["status"] != "open" or due is None:
            return False
        if s["sla_breached"] or due <= now:
            return "breached" in self.sla
        risk_at = _parse(s["sla_risk_at"])
        if risk_at is not None and risk_at <= now:
            return "risk" in self.sla
        return "ok" in self.sla

    def matches(self, s: dict[str, Any], now: datetime.datetime | None = None) -> bool:
        """The same question as ``to_q``, answered from a snapshot, without the database."""
        now = now or timezone.now()
        if s["merged_into_id"] is not None:
            return False
        checks = (
            not self.channels or s["channel"] in self.channels,
            not self.accounts or s["account_id"] in self.accounts,
            self._assignee_ok(s),
            not self.statuses or s["status"] in self.statuses,
            self.has_metadata is None or s["has_metadata"] == self.has_metadata,
            self.customer is None or s["customer_id"] == self.customer,
            self.awaiting is None or s["awaiting_response"] == self.awaiting,
            self.important is None or s["important"] == self.important,
            self.has_comments is None or s["has_comments"] == self.has_comments,
            self.addressed is None or s["addressed"] == self.addressed,
            not self.departments or (s["department_id"] or NO_DEPARTMENT) in self.departments,
        )
        if not all(checks) or not self._sla_ok(s, now):
            return False
        start, end = self._bounds()
        created = _parse(s["created_at"])
        if start and (created is None or created < start):
            return False
        return not (end and (created is None or created >= end))

    def sort_key(self, s: dict[str, Any]) -> float:
        """Where the card goes in the column: larger first for 'updated', smaller first for
        'waiting' (the page orders by this number)."""
        value = _parse(s["waiting_since"] if self.sort == "waiting" else s["updated_at"])
        return value.timestamp() if value else 0.0


def _parse(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class MessageFilter:
    """Filters of a message column (single messages, no ticket number)."""

    channels: frozenset[str] = frozenset()
    accounts: frozenset[int] = frozenset()
    customer: int | None = None
    awaiting: bool | None = None
    assignee_mode: str | None = None
    assignee_users: frozenset[int] = frozenset()
    public: bool | None = None
    mention: bool | None = None
    published_by: str | None = None  # "agent" or "bot": outbound messages of that author
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    user_id: int | None = None
    time_zone: datetime.tzinfo = field(default=datetime.UTC)

    @classmethod
    def from_data(
        cls,
        data: dict[str, Any] | None,
        *,
        user_id: int | None = None,
        time_zone: datetime.tzinfo = datetime.UTC,
    ) -> MessageFilter:
        d = data or {}
        mode, users = _assignee(d)
        customer = d.get("customer")
        by = d.get("published_by")
        return cls(
            channels=_strings(d.get("channels")),
            accounts=_ids(d.get("accounts")),
            customer=int(customer) if isinstance(customer, int) else None,
            awaiting=_flag(d.get("awaiting")),
            assignee_mode=mode,
            assignee_users=users,
            public=_flag(d.get("public")),
            mention=_flag(d.get("mention")),
            published_by=by if by in ("agent", "bot") else None,
            date_from=_date(d.get("date_from")),
            date_to=_date(d.get("date_to")),
            user_id=user_id,
            time_zone=time_zone,
        )

    @cached_property
    def _ticket_part(self) -> TicketFilter:
        """The assignee and date rules are the tickets' own: one implementation for both."""
        return TicketFilter(
            assignee_mode=self.assignee_mode,
            assignee_users=self.assignee_users,
            user_id=self.user_id,
            date_from=self.date_from,
            date_to=self.date_to,
            time_zone=self.time_zone,
        )

    def to_q(self) -> Q:
        q = self._ticket_part._assignee_q(via="ticket__")
        if self.channels:
            q &= Q(account__kind__in=self.channels)
        if self.accounts:
            q &= Q(account_id__in=self.accounts)
        if self.customer is not None:
            q &= Q(ticket__customer_id=self.customer)
        if self.awaiting is not None:
            q &= Q(ticket__awaiting_response=self.awaiting)
        if self.public is not None:
            q &= Q(is_public=self.public)
        if self.mention is not None:
            q &= Q(is_mention=self.mention)
        if self.published_by:
            q &= Q(direction="out", author_kind=self.published_by)
        start, end = self._ticket_part._bounds()
        if start:
            q &= Q(created_at__gte=start)
        if end:
            q &= Q(created_at__lt=end)
        return q

    def matches(self, s: dict[str, Any]) -> bool:
        assignee_ok = self._ticket_part._assignee_ok(s["ticket"])
        start, end = self._ticket_part._bounds()
        created = _parse(s["created_at"])
        return all(
            (
                assignee_ok,
                not self.channels or s["channel"] in self.channels,
                not self.accounts or s["account_id"] in self.accounts,
                self.customer is None or s["ticket"]["customer_id"] == self.customer,
                self.awaiting is None or s["ticket"]["awaiting_response"] == self.awaiting,
                self.public is None or s["is_public"] == self.public,
                self.mention is None or s["is_mention"] == self.mention,
                not self.published_by
                or (s["direction"] == "out" and s["author_kind"] == self.published_by),
                not start or (created is not None and created >= start),
                not end or (created is not None and created < end),
            )
        )
