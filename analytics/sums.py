"""The scans a dashboard page makes of its rollups, shared by every panel.

``period_sums``: the daily counters from the period's first day to today summed per day and
per (person, day) at once (GROUPING SETS), from the per-day totals when no channel, account or
department filter is set (a row per person and day), from the per-dimension-value totals when
exactly one of them is (a row per person and day as well), and the SLA answers per channel and
department; so the tickets, messages, heat map, sentiment, backlog, SLA and agent panels do not
each read the same rows again. ``response_sums``: the first-response histograms per day and
per responder. ``open_now``: one pass over the open tickets' facts (a partial index), the
backlog's and the agent table's "now" and the SLA waits running past due.

Each answer is kept in the page's ``memo`` (one request; never across requests or tenants).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from analytics.buckets import COLUMNS as BUCKETS
from analytics.contribution import COUNTERS
from analytics.filters import Filters
from analytics.models import (
    DailyStat,
    DayTotal,
    DimensionResponseTotal,
    DimensionTotal,
    OpenTotal,
    ResponseStat,
    ResponseTotal,
    SlaTotal,
    TicketFact,
)
from helpdesk.tenancy import current_tenant_id

AGENT_COUNTERS = ("created", "closed", "open_delta")
_AGENT_AT = tuple(COUNTERS.index(c) for c in AGENT_COUNTERS)


@dataclass
class PeriodSums:
    """Counter sums: per day (every counter, days from the period's start to today), per
    person and day (created, closed, open changes) and the SLA answers of the period per
    channel and per department."""

    by_day: dict[datetime.date, dict[str, int]] = field(default_factory=dict)
    by_agent_day: dict[int, dict[datetime.date, dict[str, int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)
    by_department: dict[int | None, dict[str, int]] = field(default_factory=dict)


def dimension_sql(f: Filters, agent_column: str = "agent_id") -> tuple[str, list[Any]]:
    """The dimension filters as SQL on a rollup table (tenant_id first: every index's prefix;
    row-level security applies as well)."""
    parts: list[str] = ["tenant_id = %s"]
    params: list[Any] = [current_tenant_id()]
    for column, value in (
        ("channel", f.channel or None),
        ("account_id", f.account),
        ("department_id", f.department),
        (agent_column, f.agent),
    ):
        if value is not None:
            parts.append(f"{column} = %s")
            params.append(value)
    return " AND ".join(parts), params


def coarse(f: Filters) -> bool:
    """Whether the per-day totals answer (no channel, account or department filter)."""
    return not f.channel and f.account is None and f.department is None


def single_dimension(f: Filters) -> tuple[str, str] | None:
    """The one dimension (channel, account or department) the page is narrowed by, with its
    value as the per-dimension-value totals store it; None when none or several are set."""
    found = [
        (name, str(value))
        for name, value in (
            ("channel", f.channel or None),
            ("account", f.account),
            ("department", f.department),
        )
        if value is not None
    ]
    return found[0] if len(found) == 1 else None


def _source(
    f: Filters,
    tables: tuple[type[Any], type[Any], type[Any]],
    agent_column: str = "agent_id",
) -> tuple[str, str, list[Any]]:
    """The narrowest rollup that answers the page, of (per-day totals, per-dimension-value
    totals, every combination of dimensions), and the SQL condition on it."""
    coarse_table, slice_table, detail_table = tables
    one = single_dimension(f)
    if coarse(f) or one is None:
        where, params = dimension_sql(f, agent_column)
        return (coarse_table if coarse(f) else detail_table)._meta.db_table, where, params
    parts = ["tenant_id = %s", "dimension = %s", "value = %s"]
    params = [current_tenant_id(), *one]
    if f.agent is not None:
        parts.append(f"{agent_column} = %s")
        params.append(f.agent)
    return slice_table._meta.db_table, " AND ".join(parts), params


def period_sums(f: Filters, memo: dict[str, Any] | None = None) -> PeriodSums:
    if memo is not None and "period_sums" in memo:
        return memo["period_sums"]  # type: ignore[no-any-return]
    result = PeriodSums()
    _day_sums(f, result)
    _sla_sums(f, result)
    if memo is not None:
        memo["period_sums"] = result
    return result


def _day_sums(f: Filters, result: PeriodSums) -> None:
    """Every counter per day, and per person and day, from the period's start to today (the
    backlog walks back from now)."""
    table, where, params = _source(f, (DayTotal, DimensionTotal, DailyStat))
    sums = ", ".join(f"sum({c})" for c in COUNTERS)
    sql = f"""
        SELECT GROUPING(agent_id), day, agent_id, {sums} FROM {table}
        WHERE {where} AND day >= %s
        GROUP BY GROUPING SETS ((day), (day, agent_id))
    """  # noqa: S608 - only our own column names are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, f.start])
        for by_day, day, agent, *values in cursor.fetchall():
            if by_day:
                result.by_day[day] = {c: v or 0 for c, v in zip(COUNTERS, values, strict=True)}
            elif agent is not None:
                result.by_agent_day[agent][day] = {
                    c: values[i] or 0 for c, i in zip(AGENT_COUNTERS, _AGENT_AT, strict=True)
                }


def _sla_sums(f: Filters, result: PeriodSums) -> None:
    """SLA answers of the period per channel and per department (two narrow sums)."""
    where, params = dimension_sql(f)
    # The SLA totals are keyed by channel and department: they answer unless the page is
    # narrowed to an account or a person.
    table = SlaTotal if f.account is None and f.agent is None else DailyStat
    sql = f"""
        SELECT GROUPING(channel), channel, department_id, sum(sla_on_time), sum(sla_late)
        FROM {table._meta.db_table}
        WHERE {where} AND day >= %s AND day <= %s AND (sla_on_time <> 0 OR sla_late <> 0)
        GROUP BY GROUPING SETS ((channel), (department_id))
    """  # noqa: S608 - only our own column names are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, f.start, f.end])
        for by_department, channel, department, on_time, late in cursor.fetchall():
            counts = {"sla_on_time": on_time or 0, "sla_late": late or 0}
            if by_department:
                result.by_department[department] = counts
            else:
                result.by_channel[channel] = counts


@dataclass
class OpenNow:
    """The open tickets now: open / awaiting our answer / unassigned in total, open per
    person, and waits past their SLA due time per channel and per department."""

    total: dict[str, int] = field(default_factory=dict)
    per_agent: dict[int, int] = field(default_factory=dict)
    late_by_channel: dict[str, int] = field(default_factory=dict)
    late_by_department: dict[int | None, int] = field(default_factory=dict)


def open_now(f: Filters, memo: dict[str, Any] | None = None) -> OpenNow:
    if memo is not None and "open_now" in memo:
        return memo["open_now"]  # type: ignore[no-any-return]
    where, params = dimension_sql(f)
    snapshot = f"""
        SELECT GROUPING(agent_id), agent_id, sum(open), sum(awaiting), sum(unassigned)
        FROM {OpenTotal._meta.db_table} WHERE {where}
        GROUP BY GROUPING SETS ((), (agent_id))
    """  # noqa: S608 - only our own column names are interpolated
    # Past due is a matter of the clock, not of a change: counted on the open facts' due
    # times (a partial index holds only open tickets with a due time).
    late = f"""
        SELECT GROUPING(channel), channel, department_id, count(*)
        FROM {TicketFact._meta.db_table}
        WHERE {where} AND status = 'open' AND sla_due_at IS NOT NULL AND sla_due_at < %s
        GROUP BY GROUPING SETS ((channel), (department_id))
    """  # noqa: S608 - only our own column names are interpolated
    result = OpenNow(total={"open": 0, "awaiting": 0, "unassigned": 0})
    with connection.cursor() as cursor:
        cursor.execute(snapshot, params)
        for is_total, agent, n, awaiting, unassigned in cursor.fetchall():
            if is_total:
                result.total = {"open": n or 0, "awaiting": awaiting or 0}
                result.total["unassigned"] = unassigned or 0
            elif agent is not None and n:
                result.per_agent[agent] = n
        cursor.execute(late, [*params, timezone.now()])
        for by_department, channel, department, n in cursor.fetchall():
            if by_department:
                result.late_by_department[department] = n
            else:
                result.late_by_channel[channel] = n
    if memo is not None:
        memo["open_now"] = result
    return result


@dataclass
class ResponseSums:
    """First responses of the period, as [answered, *bucket counts]: per day (the panel's
    agent filter is the assignee) and per person who answered (the agent table's filter is
    the responder)."""

    by_day: dict[datetime.date, list[int]] = field(default_factory=dict)
    by_responder: dict[int, list[int]] = field(default_factory=dict)


def response_sums(f: Filters, memo: dict[str, Any] | None = None) -> ResponseSums:
    if memo is not None and "response_sums" in memo:
        return memo["response_sums"]  # type: ignore[no-any-return]
    result = ResponseSums()
    if f.agent is None:  # both groupings from one pass
        result.by_day, result.by_responder = _responses(f, "agent_id")
    else:
        result.by_day = _responses(f, "agent_id")[0]
        result.by_responder = _responses(f, "responder_id")[1]
    if memo is not None:
        memo["response_sums"] = result
    return result


def _responses(
    f: Filters, agent_column: str
) -> tuple[dict[datetime.date, list[int]], dict[int, list[int]]]:
    tables = (ResponseTotal, DimensionResponseTotal, ResponseStat)
    table, where, params = _source(f, tables, agent_column)
    sums = ", ".join(f"sum({c})" for c in ("answered", *BUCKETS))
    sql = f"""
        SELECT GROUPING(day, responder_id), day, responder_id, {sums}
        FROM {table}
        WHERE {where} AND day >= %s AND day <= %s
        GROUP BY GROUPING SETS ((day), (responder_id))
    """  # noqa: S608 - only our own column names are interpolated
    by_day: dict[datetime.date, list[int]] = {}
    by_responder: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, f.start, f.end])
        for grouping, day, responder, *values in cursor.fetchall():
            counts = [v or 0 for v in values]
            if grouping == 0b01:
                by_day[day] = counts
            elif responder is not None and counts[0]:
                by_responder[responder] = counts
    return by_day, by_responder
