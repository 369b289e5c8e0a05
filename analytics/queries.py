"""The read side of the dashboard: every figure from the rollup tables, a handful of indexed
queries per page whatever the tenant's size (never a scan of tickets or messages)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from analytics.buckets import percentile
from analytics.contribution import SENTIMENTS
from analytics.filters import Filters
from analytics.models import HOURS, TypificationStat
from analytics.sums import open_now, period_sums, response_sums

DAILY = ("created", "closed", "ignored", "msg_in", "msg_out", "sla_on_time", "sla_late")
BACKLOG = ("open", "awaiting", "unassigned")
Memo = dict[str, Any] | None  # the page's shared answers (analytics.sums)


def _in_period(f: Filters, memo: Memo) -> list[dict[str, int]]:
    by_day = period_sums(f, memo).by_day
    return [by_day[d] for d in f.days if d in by_day]


def daily_counts(f: Filters, memo: Memo = None) -> dict[datetime.date, dict[str, int]]:
    """Created / closed / ignored tickets, messages in / out and SLA answers per local day."""
    by_day = period_sums(f, memo).by_day
    empty = dict.fromkeys(DAILY, 0)
    return {d: {c: by_day[d][c] for c in DAILY} if d in by_day else empty for d in f.days}


def heat_map(f: Filters, memo: Memo = None) -> list[list[int]]:
    """Incoming messages by weekday (0 = Monday) by local hour."""
    grid = [[0] * 24 for _ in range(7)]
    by_day = period_sums(f, memo).by_day
    for d in f.days:
        if d in by_day:
            row = grid[d.weekday()]
            for h in HOURS:
                row[h] += by_day[d][f"in_h{h:02d}"]
    return grid


@dataclass
class SlaRow:
    key: Any
    on_time: int = 0
    late: int = 0
    running_late: int = 0

    @property
    def answered(self) -> int:
        return self.on_time + self.late

    @property
    def compliance(self) -> float | None:
        total = self.answered + self.running_late
        return None if total == 0 else 100.0 * self.on_time / total


SLA_DIMENSIONS = ("channel", "department_id")


def sla_breakdown(f: Filters, memo: Memo = None) -> dict[str, list[SlaRow]]:
    """Answers on time / late in the period and waits running past due now, per channel and
    per department (from the page's two shared scans)."""
    sums, now = period_sums(f, memo), open_now(f, memo)
    rows: dict[str, dict[Any, SlaRow]] = {d: {} for d in SLA_DIMENSIONS}
    for dim, answered, late in (
        ("channel", sums.by_channel, now.late_by_channel),
        ("department_id", sums.by_department, now.late_by_department),
    ):
        for key, counts in answered.items():
            if counts["sla_on_time"] or counts["sla_late"]:
                rows[dim][key] = SlaRow(key, counts["sla_on_time"], counts["sla_late"])
        for key, n in late.items():
            rows[dim].setdefault(key, SlaRow(key)).running_late = n
    return {
        dim: sorted(found.values(), key=lambda r: -(r.answered + r.running_late))
        for dim, found in rows.items()
    }


def sla_by(f: Filters, dimension: str) -> list[SlaRow]:
    return sla_breakdown(f)[dimension]


@dataclass
class Percentiles:
    count: int
    median: float | None
    p90: float | None


def first_response(
    f: Filters, memo: Memo = None
) -> tuple[Percentiles, dict[datetime.date, Percentiles]]:
    """Median and p90 of the first human response (seconds; business time where the account
    has a schedule), over tickets first answered in the period, and per local day: estimated
    from the daily histograms (:mod:`analytics.buckets` says the resolution)."""
    by_day = response_sums(f, memo).by_day
    per_day = {d: _percentiles(counts[0], counts[1:]) for d, counts in by_day.items()}
    total = [sum(column) for column in zip(*by_day.values(), strict=True)]
    overall = _percentiles(total[0], total[1:]) if total else Percentiles(0, None, None)
    return overall, per_day


def _percentiles(count: int, counts: list[int]) -> Percentiles:
    return Percentiles(count, percentile(counts, 0.5), percentile(counts, 0.9))


def backlog(f: Filters, memo: Memo = None) -> dict[datetime.date, dict[str, int]]:
    """Open, awaiting our answer and unassigned tickets at the end of each day: the current
    numbers minus the changes recorded after that day (so no page sums all of history)."""
    by_day = period_sums(f, memo).by_day
    today = timezone.now().astimezone(f.tz).date()
    level = dict(open_now(f, memo).total)
    out: dict[datetime.date, dict[str, int]] = {}
    day = max(max(by_day, default=today), today)
    while day >= f.start:
        if day <= f.end:
            out[day] = dict(level)
        row = by_day.get(day)
        if row is not None and day > f.start:
            level = {k: level[k] - row[f"{k}_delta"] for k in BACKLOG}
        day -= datetime.timedelta(days=1)
    return {d: out[d] for d in f.days}


@dataclass
class AgentRow:
    agent_id: int
    assigned: int = 0
    closed: int = 0
    open_now: int = 0
    answered: int = 0
    median_seconds: float | None = None
    peak_open: int = 0
    max_open: int | None = None
    name: str = ""

    @property
    def load(self) -> float | None:
        if not self.max_open:
            return None
        return 100.0 * self.open_now / self.max_open


def agents(f: Filters, memo: Memo = None) -> list[AgentRow]:
    """Per person: tickets assigned (created in the period), first answered, closed, median
    first response, open now and the peak of open tickets at a day's end."""
    from helpdesk.models import User

    rows: dict[int, AgentRow] = {}

    def row(pk: int) -> AgentRow:
        return rows.setdefault(pk, AgentRow(pk))

    sums, now = period_sums(f, memo), open_now(f, memo)
    for pk, days in sums.by_agent_day.items():
        a = row(pk)
        a.assigned = sum(days[d]["created"] for d in f.days if d in days)
        a.closed = sum(days[d]["closed"] for d in f.days if d in days)
    for pk, n in now.per_agent.items():
        row(pk).open_now = n
    for responder, n, median in _answered(f, memo):
        a = row(responder)
        a.answered, a.median_seconds = n, median
    for pk, a in rows.items():
        a.peak_open = _peak(f, a.open_now, sums.by_agent_day.get(pk, {}))
    people = User.objects.filter(pk__in=list(rows), is_bot=False).values_list(
        "pk", "name", "max_open_tickets"
    )
    named = {pk: (name, max_open) for pk, name, max_open in people}
    result = []
    for pk, a in rows.items():
        if pk in named:  # the bot's tickets are not a person's workload
            a.name, a.max_open = named[pk]
            result.append(a)
    return sorted(result, key=lambda a: (-a.answered, -a.closed, a.name))


def _answered(f: Filters, memo: Memo) -> list[tuple[int, int, float | None]]:
    """Per person who gave first responses in the period: how many, and their median."""
    by_responder = response_sums(f, memo).by_responder
    return [(pk, c[0], percentile(c[1:], 0.5)) for pk, c in by_responder.items()]


def _peak(f: Filters, open_now: int, days: dict[datetime.date, dict[str, int]]) -> int:
    """The most tickets a person had open at the end of a day of the period."""
    today = timezone.now().astimezone(f.tz).date()
    level, peak = open_now, 0
    day = max(max(days, default=today), today)
    while day >= f.start:  # the level at the end of ``day``, walking back from now
        if day <= f.end:
            peak = max(peak, level)
        if day in days:
            level -= days[day]["open_delta"]
        day -= datetime.timedelta(days=1)
    return peak


def sentiment(f: Filters, memo: Memo = None) -> dict[str, int]:
    """Tickets created in the period by sentiment."""
    days = _in_period(f, memo)
    sums = {name: sum(d[name] for d in days) for name in SENTIMENTS}
    return {name: n for name, n in sums.items() if n}


def typification(f: Filters, keys: list[str], limit: int = 8) -> list[tuple[str, str, int]]:
    """The most frequent values of the ticket fields ``keys`` in the period (a multiple
    choice counts each value chosen)."""
    if not keys:
        return []
    rows = (
        TypificationStat.objects.filter(
            f.dimensions(), day__gte=f.start, day__lte=f.end, key__in=keys
        )
        .values("key", "value")
        .annotate(n=Sum("tickets"))
        .filter(n__gt=0)
    )
    by_key: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for r in rows:
        by_key[r["key"]].append((r["key"], r["value"], r["n"]))
    found = []
    for key in sorted(by_key):
        found += sorted(by_key[key], key=lambda kv: (-kv[2], kv[1]))[:limit]
    return found
