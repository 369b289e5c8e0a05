"""Business hours: is a schedule open at a moment, and business-time arithmetic for SLAs.

Public API (used by the SLA clock and the out-of-hours reply):

- :func:`schedule_for` the schedule that applies to an account (its own, else the main one);
- :func:`is_open` whether a schedule is open at an aware datetime;
- :func:`add_business_minutes` the moment ``minutes`` of business time after a start;
- :func:`last_closing` when the closed stretch around a moment began.

The bot's answer to a customer who writes while closed is :mod:`workflow.out_of_hours`.

What "open" means: a schedule is open at an instant when, on the schedule's clock, that
instant's weekday has an interval containing its wall time (start included, end excluded) and
its date is not a holiday. Everything else follows from that one rule, also when the clocks
change: an interval whose start falls in a daylight-saving gap (the wall time never happens)
opens when the clock jumps past it; wall times repeated when the clock goes back are open both
times. A stored end of :data:`END_OF_DAY` means "until midnight" (shown as 24:00).

A schedule that is never open (no intervals, or nothing but holidays for two years) has no
business time: :func:`add_business_minutes` answers None (the SLA has no due time, the ticket
is never flagged late) instead of searching forever.

The arithmetic walks one day at a time (never minute by minute) and stops after
:data:`HORIZON_DAYS`.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from deskconfig.models import BusinessSchedule

if TYPE_CHECKING:
    from deskconfig.accounts import ChannelAccount

UTC = datetime.UTC
DAY = datetime.timedelta(days=1)
TICK = datetime.timedelta(microseconds=1)
END_OF_DAY = datetime.time.max  # an interval's end "24:00": open until midnight
HORIZON_DAYS = 2 * 366  # no business time in two years: the schedule is never open
_PROBE = datetime.timedelta(hours=2)  # offset changes are looked for at this step, then refined

Span = tuple[datetime.datetime, datetime.datetime]


@dataclass(frozen=True)
class Plan:
    """A schedule loaded for arithmetic: the open intervals of each weekday (0 = Monday) as
    ``(weekday, start, end)`` in the local time of ``time_zone``, and the closed dates."""

    time_zone: str
    intervals: tuple[tuple[int, datetime.time, datetime.time], ...] = ()
    holidays: frozenset[datetime.date] = frozenset()
    _week: tuple[tuple[tuple[datetime.time, datetime.time], ...], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        week: list[list[tuple[datetime.time, datetime.time]]] = [[] for _ in range(7)]
        for weekday, start, end in self.intervals:
            if start < end:
                week[weekday].append((start, end))
        object.__setattr__(self, "_week", tuple(tuple(sorted(day)) for day in week))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def ever_open(self) -> bool:
        return any(self._week)

    def day(self, weekday: int) -> tuple[tuple[datetime.time, datetime.time], ...]:
        return self._week[weekday]

    @classmethod
    def of(cls, schedule: BusinessSchedule) -> Plan:
        """The schedule's rows, read once (two queries) and kept on the instance."""
        cached: Plan | None = schedule.__dict__.get("_business_plan")
        if cached is None:
            cached = cls(
                time_zone=schedule.time_zone,
                intervals=tuple(schedule.intervals.values_list("weekday", "start", "end")),
                holidays=frozenset(schedule.holidays.values_list("date", flat=True)),
            )
            schedule.__dict__["_business_plan"] = cached
        return cached


Hours = BusinessSchedule | Plan


def _plan(schedule: Hours) -> Plan:
    return schedule if isinstance(schedule, Plan) else Plan.of(schedule)


def _aware(at: datetime.datetime) -> datetime.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business-time arithmetic needs an aware datetime")
    return at.astimezone(UTC)


# --- the local clock ------------------------------------------------------------------------


def _offset(tz: ZoneInfo, at: datetime.datetime) -> datetime.timedelta:
    offset = at.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def _constant_offset_spans(
    tz: ZoneInfo, lo: datetime.datetime, hi: datetime.datetime
) -> list[tuple[datetime.datetime, datetime.datetime, datetime.timedelta]]:
    """[lo, hi) cut where the zone's UTC offset changes, each piece with its offset. The change
    instants are found to the second by bisection between probes two hours apart."""
    spans = []
    start, current, probe = lo, _offset(tz, lo), lo
    while probe < hi:
        nxt = min(probe + _PROBE, hi)
        if _offset(tz, nxt) != current:
            a, b = int(probe.timestamp()), int(nxt.timestamp())
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(tz, datetime.datetime.fromtimestamp(mid, UTC)) == current:
                    a = mid
                else:
                    b = mid
            change = datetime.datetime.fromtimestamp(b, UTC)
            spans.append((start, change, current))
            start, current = change, _offset(tz, change)
        probe = nxt
    spans.append((start, hi, current))
    return spans


@functools.lru_cache(maxsize=4096)
def _local_day(
    time_zone: str, day: datetime.date
) -> tuple[tuple[datetime.datetime, datetime.datetime, datetime.timedelta], ...]:
    """The stretches of real time during which the clocks of ``time_zone`` show ``day``, each
    with its UTC offset: one of 24 hours on most days, 23 when the clock jumps forward, and two
    stretches when it goes back across midnight."""
    midnight = datetime.datetime.combine(day, datetime.time())
    # UTC offsets lie within -12 h..+14 h: the day starts and ends inside this window.
    lo = (midnight - datetime.timedelta(hours=15)).replace(tzinfo=UTC)
    hi = (midnight + datetime.timedelta(hours=37)).replace(tzinfo=UTC)
    pieces = []
    for a, b, offset in _constant_offset_spans(ZoneInfo(time_zone), lo, hi):
        wall_a = a.replace(tzinfo=None) + offset
        wall_b = b.replace(tzinfo=None) + offset
        w0, w1 = max(wall_a, midnight), min(wall_b, midnight + DAY)
        if w0 < w1:
            pieces.append(
                ((w0 - offset).replace(tzinfo=UTC), (w1 - offset).replace(tzinfo=UTC), offset)
            )
    return tuple(pieces)


def _since_midnight(t: datetime.time) -> datetime.timedelta:
    if t == END_OF_DAY:
        return DAY
    return datetime.timedelta(
        hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond
    )


def _day_spans(plan: Plan, day: datetime.date) -> list[Span]:
    """The open stretches (UTC) of one local date."""
    if day in plan.holidays:
        return []
    intervals = plan.day(day.weekday())
    if not intervals:
        return []
    midnight = datetime.datetime.combine(day, datetime.time())
    spans = []
    for u0, u1, offset in _local_day(plan.time_zone, day):
        for start, end in intervals:
            x0 = max(u0, (midnight + _since_midnight(start) - offset).replace(tzinfo=UTC))
            x1 = min(u1, (midnight + _since_midnight(end) - offset).replace(tzinfo=UTC))
            if x0 < x1:
                spans.append((x0, x1))
    return spans


def _merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _window(plan: Plan, w0: datetime.datetime, w1: datetime.datetime) -> list[Span]:
    """The open stretches inside the real-time window [w0, w1], merged and in order. Every
    local date the window touches is asked (clocks going back can interleave two dates)."""
    tz = plan.tz
    day = w0.astimezone(tz).date() - DAY
    last = w1.astimezone(tz).date() + DAY
    found = []
    while day <= last:
        found += [(max(a, w0), min(b, w1)) for a, b in _day_spans(plan, day) if a < w1 and b > w0]
        day += DAY
    return _merged(found)


def _open_after(plan: Plan, at: datetime.datetime) -> Iterator[Span]:
    """The open stretches from ``at`` on, in order, one day of real time at a time."""
    w0 = at
    for _ in range(HORIZON_DAYS):
        yield from _window(plan, w0, w0 + DAY)
        w0 += DAY


# --- the API ----------------------------------------------------------------------------------


def schedule_for(account: ChannelAccount) -> BusinessSchedule | None:
    """The account's own schedule, else the tenant's main one, else None."""
    if account.schedule_id is not None:
        return account.schedule
    return BusinessSchedule.objects.filter(tenant_id=account.tenant_id, is_default=True).first()


def is_open(schedule: Hours, at: datetime.datetime) -> bool:
    plan = _plan(schedule)
    local = _aware(at).astimezone(plan.tz)
    day = local.date()
    if day in plan.holidays:
        return False
    wall = local.time().replace(tzinfo=None, fold=0)
    return any(s <= wall and (e == END_OF_DAY or wall < e) for s, e in plan.day(day.weekday()))


def add_business_minutes(
    schedule: Hours, start: datetime.datetime, minutes: float
) -> datetime.datetime | None:
    """The moment when ``minutes`` of business time have passed since ``start`` (in the
    schedule's zone). Outside hours the count starts at the next opening. None when the
    schedule is never open. Zero minutes: ``start`` when open (or just closing), else the next
    opening. The result is in UTC: a local time in a repeated (fold) hour never compares
    equal to a datetime of another zone (PEP 495), and callers compare and store instants."""
    plan = _plan(schedule)
    start = _aware(start)
    if not plan.ever_open:
        return None
    remaining = datetime.timedelta(minutes=minutes)
    if remaining <= datetime.timedelta(0) and (is_open(plan, start) or is_open(plan, start - TICK)):
        return start.astimezone(datetime.UTC)
    for a, b in _open_after(plan, start):
        a = max(a, start)
        if remaining <= b - a:
            return (a + remaining).astimezone(datetime.UTC)
        remaining -= b - a
    return None


def last_closing(schedule: Hours, at: datetime.datetime) -> datetime.datetime | None:
    """When the last open stretch that ended at or before ``at`` closed; None when there was
    none within the horizon. Meant for a closed ``at``: the start of the current closure."""
    plan = _plan(schedule)
    at = _aware(at)
    if not plan.ever_open:
        return None
    w1 = at
    for _ in range(HORIZON_DAYS):
        spans = [s for s in _window(plan, w1 - DAY, w1) if s[1] <= at]
        if spans:
            return spans[-1][1].astimezone(plan.tz)
        w1 -= DAY
    return None


def business_deadline(
    schedule: Hours | None, start: datetime.datetime, minutes: float
) -> datetime.datetime | None:
    """``minutes`` after ``start``: business time with a schedule, around the clock without."""
    if schedule is None:
        return start + datetime.timedelta(minutes=minutes)
    return add_business_minutes(schedule, start, minutes)
