"""The read side of the dashboard: every figure from the rollup tables, a handful of indexed
queries per page whatever the tenant's size (never a scan of tickets or messages)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractIsoWeekDay
from django.utils import timezone

from analytics.buckets import COLUMNS as BUCKETS
from analytics.buckets import percentile
from analytics.contribution import SENTIMENTS
from analytics.filters import Filters
from analytics.models import HOURS, DailyStat, ResponseStat, TicketFact, TypificationStat

DAILY = ("created", "closed", "ignored", "msg_in", "msg_out", "sla_on_time", "sla_late")
BACKLOG = ("open", "awaiting", "unassigned")


def _daily(f: Filters) -> Any:
    return DailyStat.objects.filter(f.dimensions(), day__gte=f.start, day__lte=f.end)


def daily_counts(f: Filters) -> dict[datetime.date, dict[str, int]]:
    """Created / closed / ignored tickets, messages in / out and SLA answers per local day."""
    rows = _daily(f).values("day").annotate(**{c: Sum(c) for c in DAILY})
    found = {r["day"]: {c: r[c] or 0 for c in DAILY} for r in rows}
    return {d: found.get(d, dict.fromkeys(DAILY, 0)) for d in f.days}


def heat_map(f: Filters) -> list[list[int]]:
    """Incoming messages by weekday (0 = Monday) by local hour."""
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        _daily(f)
        .annotate(dow=ExtractIsoWeekDay("day"))
        .values("dow")
        .annotate(**{f"h{h}": Sum(f"in_h{h:02d}") for h in HOURS})
    )
    for r in rows:
        grid[r["dow"] - 1] = [r[f"h{h}"] or 0 for h in HOURS]
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


def sla_breakdown(f: Filters) -> dict[str, list[SlaRow]]:
    """Answers on time / late in the period and waits running past due now, per channel and
    per department: one pass over the daily counters and one over the open facts, each
    grouped both ways at once (GROUPING SETS)."""
    where, params = _fact_where(f)
    rows: dict[str, dict[Any, SlaRow]] = {d: {} for d in SLA_DIMENSIONS}
    answered = f"""
        SELECT GROUPING(channel), channel, department_id, SUM(sla_on_time), SUM(sla_late)
        FROM {DailyStat._meta.db_table}
        WHERE day >= %s AND day <= %s {where} AND (sla_on_time <> 0 OR sla_late <> 0)
        GROUP BY GROUPING SETS ((channel), (department_id))
    """  # noqa: S608 - only our own column names are interpolated
    running = f"""
        SELECT GROUPING(channel), channel, department_id, count(*)
        FROM {TicketFact._meta.db_table}
        WHERE status = 'open' AND sla_due_at < %s {where}
        GROUP BY GROUPING SETS ((channel), (department_id))
    """  # noqa: S608 - only our own column names are interpolated
    with connection.cursor() as cursor:
        cursor.execute(answered, [f.start, f.end, *params])
        for by_department, channel, department, on_time, late in cursor.fetchall():
            dim, key = SLA_DIMENSIONS[by_department], department if by_department else channel
            rows[dim][key] = SlaRow(key, on_time or 0, late or 0)
        cursor.execute(running, [timezone.now(), *params])
        for by_department, channel, department, n in cursor.fetchall():
            dim, key = SLA_DIMENSIONS[by_department], department if by_department else channel
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


def first_response(f: Filters) -> tuple[Percentiles, dict[datetime.date, Percentiles]]:
    """Median and p90 of the first human response (seconds; business time where the account
    has a schedule), over tickets first answered in the period, and per local day: estimated
    from the daily histograms (:mod:`analytics.buckets` says the resolution)."""
    rows = list(
        ResponseStat.objects.filter(f.dimensions(), day__gte=f.start, day__lte=f.end)
        .values("day")
        .annotate(answered=Sum("answered"), **{c: Sum(c) for c in BUCKETS})
    )
    per_day = {
        r["day"]: _percentiles(r["answered"] or 0, [r[c] or 0 for c in BUCKETS]) for r in rows
    }
    total = [sum(r[c] or 0 for r in rows) for c in BUCKETS]
    overall = _percentiles(sum(r["answered"] or 0 for r in rows), total)
    return overall, per_day


def _percentiles(count: int, counts: list[int]) -> Percentiles:
    return Percentiles(count, percentile(counts, 0.5), percentile(counts, 0.9))


def _fact_where(f: Filters, agent_column: str = "agent_id") -> tuple[str, list[Any]]:
    """The dimension filters as SQL on the facts table (tenant_id first: the index's prefix;
    row-level security applies as well)."""
    from helpdesk.tenancy import current_tenant_id

    parts: list[str] = ["AND tenant_id = %s"]
    params: list[Any] = [current_tenant_id()]
    for column, value in (
        ("channel", f.channel or None),
        ("account_id", f.account),
        ("department_id", f.department),
        (agent_column, f.agent),
    ):
        if value is not None:
            parts.append(f"AND {column} = %s")
            params.append(value)
    return " ".join(parts), params


def backlog(f: Filters) -> dict[datetime.date, dict[str, int]]:
    """Open, awaiting our answer and unassigned tickets at the end of each day: the current
    numbers minus the changes recorded after that day (so no page sums all of history)."""
    now_counts = TicketFact.objects.filter(f.dimensions(), status="open").aggregate(
        open=Count("pk"),
        awaiting=Count("pk", filter=Q(awaiting=True)),
        unassigned=Count("pk", filter=Q(agent_id__isnull=True)),
    )
    later = (
        DailyStat.objects.filter(f.dimensions(), day__gt=f.start)
        .values("day")
        .annotate(
            open=Sum("open_delta"),
            awaiting=Sum("awaiting_delta"),
            unassigned=Sum("unassigned_delta"),
        )
    )
    by_day = {r["day"]: r for r in later}
    today = timezone.now().astimezone(f.tz).date()
    level = {k: now_counts[k] or 0 for k in BACKLOG}
    out: dict[datetime.date, dict[str, int]] = {}
    day = max(max(by_day, default=today), today)
    while day >= f.start:
        if day <= f.end:
            out[day] = dict(level)
        row = by_day.get(day)
        if row is not None:
            level = {k: level[k] - (row[k] or 0) for k in BACKLOG}
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


def agents(f: Filters) -> list[AgentRow]:
    """Per person: tickets assigned (created in the period), first answered, closed, median
    first response, open now and the peak of open tickets at a day's end."""
    from helpdesk.models import User

    rows: dict[int, AgentRow] = {}

    def row(pk: int) -> AgentRow:
        return rows.setdefault(pk, AgentRow(pk))

    for pk, assigned, closed, open_now in _agent_counts(f):
        a = row(pk)
        a.assigned, a.closed, a.open_now = assigned, closed, open_now
    for responder, n, median in _answered(f):
        a = row(responder)
        a.answered, a.median_seconds = n, median
    for pk, peak in _peaks(f, {pk: a.open_now for pk, a in rows.items()}).items():
        row(pk).peak_open = peak
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


def _agent_counts(f: Filters) -> list[tuple[int, int, int, int]]:
    """Per assignee: created in the period, closed in the period (daily counters), open now
    (the open facts: a few per person, on a partial index)."""
    counted = (
        DailyStat.objects.filter(
            f.dimensions(), day__gte=f.start, day__lte=f.end, agent_id__isnull=False
        )
        .values("agent_id")
        .annotate(assigned=Sum("created"), closed=Sum("closed"))
    )
    found = {r["agent_id"]: [r["assigned"] or 0, r["closed"] or 0, 0] for r in counted}
    open_now = (
        TicketFact.objects.filter(f.dimensions(), status="open", agent_id__isnull=False)
        .values("agent_id")
        .annotate(n=Count("pk"))
    )
    for r in open_now:
        found.setdefault(r["agent_id"], [0, 0, 0])[2] = r["n"]
    return [(pk, *counts) for pk, counts in found.items()]  # type: ignore[misc]


def _answered(f: Filters) -> list[tuple[int, int, float | None]]:
    """Per person who gave first responses in the period: how many, and their median."""
    rows = (
        ResponseStat.objects.filter(
            f.dimensions(agent_field="responder_id"),
            day__gte=f.start,
            day__lte=f.end,
            responder_id__isnull=False,
        )
        .values("responder_id")
        .annotate(answered=Sum("answered"), **{c: Sum(c) for c in BUCKETS})
    )
    return [
        (
            r["responder_id"],
            r["answered"] or 0,
            percentile([r[c] or 0 for c in BUCKETS], 0.5),
        )
        for r in rows
        if r["answered"]
    ]


def _peaks(f: Filters, open_now: dict[int, int]) -> dict[int, int]:
    """The most tickets each person had open at the end of a day of the period."""
    later = (
        DailyStat.objects.filter(f.dimensions(), day__gt=f.start, agent_id__isnull=False)
        .values("agent_id", "day")
        .annotate(n=Sum("open_delta"))
    )
    deltas: dict[int, dict[datetime.date, int]] = defaultdict(dict)
    for r in later:
        deltas[r["agent_id"]][r["day"]] = r["n"] or 0
    today = timezone.now().astimezone(f.tz).date()
    peaks = {}
    for pk in set(open_now) | set(deltas):
        level, peak = open_now.get(pk, 0), 0
        day = max(max(deltas[pk], default=today), today)
        while day >= f.start:  # the level at the end of ``day``, walking back from now
            if day <= f.end:
                peak = max(peak, level)
            level -= deltas[pk].get(day, 0)
            day -= datetime.timedelta(days=1)
        peaks[pk] = peak
    return peaks


def sentiment(f: Filters) -> dict[str, int]:
    """Tickets created in the period by sentiment."""
    sums = _daily(f).aggregate(**{name: Sum(name) for name in SENTIMENTS})
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
