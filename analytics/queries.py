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

from analytics.filters import Filters
from analytics.models import HOURS, DailyStat, TicketFact

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
    has a schedule), over tickets first answered in the period, and per local day."""
    where, params = _fact_where(f)
    sql = f"""
        SELECT (first_response_at AT TIME ZONE %s)::date AS day, count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_seconds),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY first_response_seconds)
        FROM {TicketFact._meta.db_table}
        WHERE first_response_at >= %s AND first_response_at < %s {where}
        GROUP BY ROLLUP (1)
    """  # noqa: S608 - only our own column names are interpolated
    overall = Percentiles(0, None, None)
    per_day: dict[datetime.date, Percentiles] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(f.tz), f.since, f.until, *params])
        for day, n, median, p90 in cursor.fetchall():
            if day is None:
                overall = Percentiles(n, median, p90)
            else:
                per_day[day] = Percentiles(n, median, p90)
    return overall, per_day


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
    """Per assignee: created in the period, closed in the period, open now. Three branches,
    each on its own index (an OR of the three would read every fact of the tenant)."""
    where, params = _fact_where(f)
    table = TicketFact._meta.db_table
    sql = f"""
        SELECT agent_id, sum(a)::int, sum(c)::int, sum(o)::int FROM (
            SELECT agent_id, 1 AS a, 0 AS c, 0 AS o FROM {table}
            WHERE created_at >= %s AND created_at < %s AND agent_id IS NOT NULL {where}
            UNION ALL
            SELECT agent_id, 0, 1, 0 FROM {table}
            WHERE closed_at >= %s AND closed_at < %s AND status = 'closed'
              AND agent_id IS NOT NULL {where}
            UNION ALL
            SELECT agent_id, 0, 0, 1 FROM {table}
            WHERE status = 'open' AND agent_id IS NOT NULL {where}
        ) counted GROUP BY agent_id
    """  # noqa: S608 - only our own column names are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [f.since, f.until, *params, f.since, f.until, *params, *params])
        return list(cursor.fetchall())


def _answered(f: Filters) -> list[tuple[int, int, float]]:
    where, params = _fact_where(f, agent_column="first_responder_id")
    sql = f"""
        SELECT first_responder_id, count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_seconds)
        FROM {TicketFact._meta.db_table}
        WHERE first_response_at >= %s AND first_response_at < %s
          AND first_responder_id IS NOT NULL {where}
        GROUP BY first_responder_id
    """  # noqa: S608 - only our own column names are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [f.since, f.until, *params])
        return list(cursor.fetchall())


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
    rows = (
        TicketFact.objects.filter(f.dimensions(), created_at__gte=f.since, created_at__lt=f.until)
        .values("sentiment")
        .annotate(n=Count("pk"))
    )
    return {r["sentiment"]: r["n"] for r in rows}


def typification(f: Filters, keys: list[str], limit: int = 8) -> list[tuple[str, str, int]]:
    """The most frequent values of the ticket fields ``keys`` in the period (a multiple
    choice counts each value chosen)."""
    if not keys:
        return []
    where, params = _fact_where(f)
    sql = f"""
        SELECT key, value, n FROM (
            SELECT kv.key, v.value, count(*) AS n,
                   row_number() OVER (PARTITION BY kv.key ORDER BY count(*) DESC, v.value) AS r
            FROM {TicketFact._meta.db_table}, jsonb_each(metadata) AS kv,
                 LATERAL (
                     SELECT jsonb_array_elements_text(kv.value)
                     WHERE jsonb_typeof(kv.value) = 'array'
                     UNION ALL
                     SELECT kv.value #>> '{{}}' WHERE jsonb_typeof(kv.value) <> 'array'
                 ) AS v(value)
            WHERE created_at >= %s AND created_at < %s AND metadata <> '{{}}'::jsonb {where}
              AND kv.key = ANY(%s) AND v.value <> ''
            GROUP BY kv.key, v.value
        ) ranked WHERE r <= %s ORDER BY key, n DESC, value
    """  # noqa: S608 - only our own column names are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [f.since, f.until, *params, keys, limit])
        return list(cursor.fetchall())


def sla_running_late(f: Filters) -> int:
    return TicketFact.objects.filter(
        f.dimensions(), status="open", sla_due_at__lt=timezone.now()
    ).count()
