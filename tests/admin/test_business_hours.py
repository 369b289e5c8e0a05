"""Business-time arithmetic: weekends, holidays, several intervals a day, a start outside hours,
both daylight-saving changes of America/Santiago, and a schedule that is never open.

Santiago's clock changes, as zoneinfo has them:
- 2025-04-06 03:00 UTC and 2026-04-05 03:00 UTC: midnight back to Saturday 23:00 (-03 → -04),
  so Saturday's 23:00-24:00 happens twice;
- 2025-09-07 04:00 UTC and 2026-09-06 04:00 UTC: Sunday's midnight jumps to 01:00
  (-04 → -03), so Sunday's 00:00-01:00 never happens.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deskconfig.accounts import ChannelAccount
from deskconfig.business_hours import (
    END_OF_DAY,
    HORIZON_DAYS,
    TICK,
    Plan,
    add_business_minutes,
    is_open,
    last_closing,
    schedule_for,
)
from deskconfig.models import BusinessInterval, BusinessSchedule, Holiday
from helpdesk.tenancy import tenant_context
from tests.tickets.factories import ChannelAccountFactory

SCL = ZoneInfo("America/Santiago")
UTC = datetime.UTC
T = datetime.time
WEEKDAYS_9_TO_18 = tuple((d, T(9), T(18)) for d in range(5))


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime.datetime:
    """A Santiago wall time."""
    return datetime.datetime(y, mo, d, h, mi, tzinfo=SCL)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime.datetime:
    return datetime.datetime(y, mo, d, h, mi, tzinfo=UTC)


OFFICE = Plan("America/Santiago", WEEKDAYS_9_TO_18)


# --- the zone's facts the tests rely on -------------------------------------------------------


def test_the_santiago_clock_changes_are_where_the_tests_expect_them():
    for back in (utc(2025, 4, 6, 3), utc(2026, 4, 5, 3)):
        before, after = (back - TICK).astimezone(SCL), back.astimezone(SCL)
        assert before.utcoffset() == datetime.timedelta(hours=-3)
        assert after.utcoffset() == datetime.timedelta(hours=-4)
        assert after.weekday() == 5 and after.time() == T(23)  # Saturday 23:00 again
    for forward in (utc(2025, 9, 7, 4), utc(2026, 9, 6, 4)):
        before, after = (forward - TICK).astimezone(SCL), forward.astimezone(SCL)
        assert before.utcoffset() == datetime.timedelta(hours=-4)
        assert after.utcoffset() == datetime.timedelta(hours=-3)
        assert after.weekday() == 6 and after.time() == T(1)  # Sunday 01:00


# --- add_business_minutes ----------------------------------------------------------------------


def test_minutes_inside_one_interval():
    assert add_business_minutes(OFFICE, at(2025, 6, 4, 10), 90) == at(2025, 6, 4, 11, 30)


def test_a_friday_evening_wait_goes_on_on_monday():
    # Friday 17:00 + 2 h: one hour on Friday, one on Monday.
    assert add_business_minutes(OFFICE, at(2025, 6, 6, 17), 120) == at(2025, 6, 9, 10)


def test_the_result_is_an_instant_in_utc():
    """UTC, so a due time in a repeated (fold) hour still compares equal across zones."""
    due = add_business_minutes(OFFICE, utc(2025, 6, 4, 14), 60)
    assert due is not None and due.tzinfo == datetime.UTC and due == at(2025, 6, 4, 11)


def test_holidays_are_closed_all_day(cast):
    with tenant_context(cast.tenant_a.pk):
        schedule = BusinessSchedule.objects.create(name="Oficina", time_zone="America/Santiago")
        for weekday, start, end in WEEKDAYS_9_TO_18:
            BusinessInterval.objects.create(
                schedule=schedule, weekday=weekday, start=start, end=end
            )
        Holiday.objects.create(schedule=schedule, date=datetime.date(2025, 9, 18), name="Fiestas")
        Holiday.objects.create(schedule=schedule, date=datetime.date(2025, 9, 19), name="Ejército")
        # Wednesday 17:00 + 2 h: Thursday and Friday are holidays, then the weekend.
        assert add_business_minutes(schedule, at(2025, 9, 17, 17), 120) == at(2025, 9, 22, 10)
        assert not is_open(schedule, at(2025, 9, 18, 12))
        assert is_open(schedule, at(2025, 9, 17, 12))


def test_september_change_a_friday_wait_ends_on_monday_in_summer_time():
    # Friday 2025-09-05 17:00 (-04) + 2 h → Monday 2025-09-08 10:00 (-03) = 13:00 UTC.
    due = add_business_minutes(OFFICE, at(2025, 9, 5, 17), 120)
    assert due == at(2025, 9, 8, 10) == utc(2025, 9, 8, 13)
    assert add_business_minutes(OFFICE, at(2026, 9, 4, 17), 120) == utc(2026, 9, 7, 13)


def test_april_change_a_friday_wait_ends_on_monday_in_winter_time():
    # Friday 2026-04-03 17:00 (-03) + 2 h → Monday 2026-04-06 10:00 (-04) = 14:00 UTC.
    due = add_business_minutes(OFFICE, at(2026, 4, 3, 17), 120)
    assert due == at(2026, 4, 6, 10) == utc(2026, 4, 6, 14)
    assert add_business_minutes(OFFICE, at(2025, 4, 4, 17), 120) == utc(2025, 4, 7, 14)


def test_an_interval_across_the_april_fold_counts_the_repeated_hour_twice():
    late_saturday = Plan("America/Santiago", ((5, T(22), END_OF_DAY),))
    saturday = at(2026, 4, 4, 12)
    # 22:00 (-03) to midnight (-04): 01:00 → 04:00 UTC, three real hours.
    assert add_business_minutes(late_saturday, saturday, 180) == utc(2026, 4, 5, 4)
    assert add_business_minutes(late_saturday, saturday, 181) == at(2026, 4, 11, 22, 1)
    # Both 23:30s are open.
    assert is_open(late_saturday, utc(2026, 4, 5, 2, 30))  # 23:30 -03
    assert is_open(late_saturday, utc(2026, 4, 5, 3, 30))  # 23:30 -04


def test_an_interval_across_the_september_gap_loses_the_missing_hour():
    early_sunday = Plan("America/Santiago", ((6, T(0), T(2)),))
    # 00:00-01:00 never happens that Sunday: open 01:00-02:00 (-03) only.
    due = add_business_minutes(early_sunday, at(2026, 9, 5, 12), 60)
    assert due == at(2026, 9, 6, 2) == utc(2026, 9, 6, 5)
    assert add_business_minutes(early_sunday, at(2026, 9, 5, 12), 61) == at(2026, 9, 13, 0, 1)
    half_past = Plan("America/Santiago", ((6, T(0, 30), T(3)),))
    # Starting inside the gap: it opens when the clock jumps to 01:00.
    assert add_business_minutes(half_past, at(2025, 9, 6, 12), 0) == utc(2025, 9, 7, 4)


def test_several_intervals_a_day_skip_the_lunch_break():
    split = Plan(
        "America/Santiago",
        tuple((d, s, e) for d in range(5) for s, e in ((T(9), T(13)), (T(14), T(18)))),
    )
    assert add_business_minutes(split, at(2025, 6, 4, 12, 30), 60) == at(2025, 6, 4, 14, 30)
    assert add_business_minutes(split, at(2025, 6, 4, 13, 15), 30) == at(2025, 6, 4, 14, 30)
    # A whole day is eight hours.
    assert add_business_minutes(split, at(2025, 6, 4, 9), 8 * 60) == at(2025, 6, 4, 18)
    assert not is_open(split, at(2025, 6, 4, 13, 30))


def test_a_start_outside_hours_counts_from_the_next_opening():
    assert add_business_minutes(OFFICE, at(2025, 6, 4, 7), 30) == at(2025, 6, 4, 9, 30)
    assert add_business_minutes(OFFICE, at(2025, 6, 4, 20), 30) == at(2025, 6, 5, 9, 30)
    assert add_business_minutes(OFFICE, at(2025, 6, 8, 11), 30) == at(2025, 6, 9, 9, 30)
    assert add_business_minutes(OFFICE, at(2025, 6, 8, 11), 0) == at(2025, 6, 9, 9)


def test_a_schedule_never_open_has_no_due_time():
    assert add_business_minutes(Plan("America/Santiago"), at(2025, 6, 4, 10), 30) is None
    # Open on paper, but every day of two years is a holiday: the search stops.
    start = datetime.date(2025, 6, 1)
    all_holidays = Plan(
        "America/Santiago",
        WEEKDAYS_9_TO_18,
        frozenset(start + datetime.timedelta(days=i) for i in range(800)),
    )
    assert add_business_minutes(all_holidays, at(2025, 6, 4, 10), 30) is None
    assert last_closing(all_holidays, at(2025, 6, 4, 10)) == at(2025, 5, 30, 18)  # before them
    assert last_closing(Plan("America/Santiago"), at(2025, 6, 4, 10)) is None
    assert not is_open(Plan("UTC"), utc(2025, 6, 4, 10))


def test_until_midnight_and_around_the_clock():
    nights = Plan("America/Santiago", ((0, T(20), END_OF_DAY), (1, T(0), T(2))))
    assert add_business_minutes(nights, at(2025, 6, 2, 23), 120) == at(2025, 6, 3, 1)
    always = Plan("UTC", tuple((d, T(0), END_OF_DAY) for d in range(7)))
    assert add_business_minutes(always, utc(2025, 6, 4, 10), 3 * 24 * 60) == utc(2025, 6, 7, 10)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        is_open(OFFICE, datetime.datetime(2025, 6, 4, 10))


# --- is_open and last_closing -----------------------------------------------------------------


def test_is_open_includes_the_start_and_excludes_the_end():
    assert is_open(OFFICE, at(2025, 6, 4, 9))
    assert is_open(OFFICE, at(2025, 6, 4, 17, 59))
    assert not is_open(OFFICE, at(2025, 6, 4, 18))
    assert not is_open(OFFICE, at(2025, 6, 4, 8, 59))
    assert not is_open(OFFICE, at(2025, 6, 7, 12))  # Saturday


def test_is_open_follows_the_local_clock_across_the_changes():
    # Monday after the September change: 09:00 is 12:00 UTC, no longer 13:00.
    assert is_open(OFFICE, utc(2025, 9, 8, 12))
    assert not is_open(OFFICE, utc(2025, 9, 8, 11, 59))
    # Monday after the April change: 09:00 is 13:00 UTC.
    assert not is_open(OFFICE, utc(2026, 4, 6, 12, 59))
    assert is_open(OFFICE, utc(2026, 4, 6, 13))


def test_last_closing_is_when_the_current_closure_began():
    assert last_closing(OFFICE, at(2025, 6, 7, 12)) == at(2025, 6, 6, 18)
    assert last_closing(OFFICE, at(2025, 6, 4, 18)) == at(2025, 6, 4, 18)
    assert last_closing(OFFICE, at(2025, 6, 4, 8)) == at(2025, 6, 3, 18)


# --- which schedule applies ------------------------------------------------------------------


def test_schedule_for_prefers_the_accounts_own_then_the_main_one(cast):
    with tenant_context(cast.tenant_a.pk):
        account: ChannelAccount = ChannelAccountFactory(tenant=cast.tenant_a)
        assert schedule_for(account) is None
        main = BusinessSchedule.objects.create(name="Principal", is_default=True)
        BusinessSchedule.objects.create(name="Otro")
        assert schedule_for(account) == main
        own = BusinessSchedule.objects.create(name="Propio")
        account.schedule = own
        account.save()
        assert schedule_for(account) == own
    with tenant_context(cast.tenant_b.pk):
        other = ChannelAccountFactory(tenant=cast.tenant_b)
        assert schedule_for(other) is None  # tenant A's main schedule is not B's


# --- properties -------------------------------------------------------------------------------

ZONES = ["America/Santiago", "UTC", "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo"]
# Around the clock changes, where mistakes hide.
AROUND = [
    utc(2025, 4, 3),
    utc(2025, 9, 4),
    utc(2026, 4, 2),
    utc(2026, 9, 3),
    utc(2025, 10, 24),
    utc(2026, 3, 26),
    utc(2025, 6, 1),
]


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    intervals = []
    for weekday in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 24 * 4), max_size=4)))
        for i in range(0, len(cuts) - 1, 2):
            start, end = cuts[i], cuts[i + 1]
            intervals.append(
                (
                    weekday,
                    T(start // 4, start % 4 * 15),
                    END_OF_DAY if end == 96 else T(end // 4, end % 4 * 15),
                )
            )
    holidays = draw(
        st.frozensets(
            st.dates(datetime.date(2025, 3, 20), datetime.date(2026, 10, 31)), max_size=10
        )
    )
    return Plan(draw(st.sampled_from(ZONES)), tuple(intervals), holidays)


starts = st.builds(
    lambda base, minutes: base + datetime.timedelta(minutes=minutes),
    st.sampled_from(AROUND),
    st.integers(0, 9 * 24 * 60),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans(), start=starts, a=st.integers(0, 4000), b=st.integers(0, 4000))
@example(  # 45 minutes a week: a + b lies just past the two-year horizon from start
    plan=Plan("America/Santiago", ((6, T(0, 0), T(0, 45)),), frozenset()),
    start=datetime.datetime(2025, 4, 3, 0, 0, tzinfo=datetime.UTC),
    a=636,
    b=4000,
)
def test_adding_a_then_b_is_adding_a_plus_b(plan, start, a, b):
    once = add_business_minutes(plan, start, a + b)
    first = add_business_minutes(plan, start, a)
    if first is None:
        assert once is None
        return
    assert first >= start
    second = add_business_minutes(plan, first, b)
    if once is None:
        # Past the search horizon counted from ``start``; from the later ``first`` the same
        # moment may still be inside its own horizon. Only beyond it can they disagree.
        horizon = datetime.timedelta(days=HORIZON_DAYS)
        assert second is None or second - start >= horizon - datetime.timedelta(days=8)
        return
    assert second == once
    for minutes, result in ((a, first), (a + b, once)):
        if result is not None and minutes > 0:
            # Inside an open stretch or at its very end.
            assert is_open(plan, result - TICK)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans(), start=starts, minutes=st.integers(1, 180))
@example(  # Lord Howe's half-hour fall-back: the due time is in the repeated half hour
    plan=Plan("Australia/Lord_Howe", ((6, T(0, 0), T(1, 30)),), frozenset()),
    start=datetime.datetime(2025, 4, 3, 0, 0, tzinfo=datetime.UTC),
    minutes=90,
)
def test_matches_counting_open_minutes_one_by_one(plan, start, minutes):
    """The day-by-day walk agrees with the slow, obvious count (one minute at a time)."""
    if not plan.ever_open:
        return
    due = add_business_minutes(plan, start, minutes)
    moment, counted = start, 0
    for _ in range(16 * 24 * 60):
        if is_open(plan, moment):
            counted += 1
            if counted == minutes:
                assert due == moment + datetime.timedelta(minutes=1)
                return
        moment += datetime.timedelta(minutes=1)
    # Not reached in sixteen days (holidays): the walk must be later than that.
    assert due is None or due > moment
