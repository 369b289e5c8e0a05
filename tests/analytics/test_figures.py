"""Every figure of the dashboard on a small hand-built history.

Tenant A works in America/Santiago (June: UTC-4). The email account keeps office hours
(Monday to Friday 09:00-18:00) with Monday 9 June 2025 a holiday; the web chat has none.

- #1 email: written Friday 17:30, answered Tuesday 09:45 by Ana (30 min on Friday + 45 min on
  Tuesday: 4,500 business seconds across a night, a weekend and a holiday; its 60-minute SLA
  was due Tuesday 09:30, so the answer is late); assigned to Ana on Tuesday 09:50.
- #2 web chat: written Tuesday 10:00, answered by Ana 10:10 (600 s, on time), assigned to
  Beto, typified «Reclamo», closed 11:00.
- #3 web chat: written Tuesday 12:00, ignored 13:00.
- #4 web chat: written Tuesday 14:00, still waiting on Wednesday (past its due time), angry.
"""

from __future__ import annotations

import dataclasses
import datetime

import pytest
import time_machine

from analytics import queries
from analytics.filters import Filters
from analytics.rollup import rollup_refresh
from analytics.sums import single_dimension
from deskconfig.models import Department
from tests.analytics.conftest import FRI, MON, SCL, TUE, WED, at
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def wednesday():
    with time_machine.travel(at(WED, 12), tick=False):
        yield


def period(**dims) -> Filters:
    return Filters(tz=SCL, start=FRI, end=WED, preset="custom", **dims)


def test_tickets_and_messages_per_day(history, wednesday):
    daily = queries.daily_counts(period())
    assert list(daily) == [FRI + datetime.timedelta(days=i) for i in range(6)]
    assert (daily[FRI]["created"], daily[FRI]["msg_in"], daily[FRI]["msg_out"]) == (1, 1, 0)
    assert (daily[TUE]["created"], daily[TUE]["closed"], daily[TUE]["ignored"]) == (3, 1, 1)
    assert (daily[TUE]["msg_in"], daily[TUE]["msg_out"]) == (3, 2)
    assert daily[MON] == dict.fromkeys(queries.DAILY, 0)


def test_first_response_in_business_time_across_a_night_a_weekend_and_a_holiday(history, wednesday):
    # The page reads daily histograms, not tickets: each answer counts as the middle of its
    # bucket. 600 s falls in [10 min, 15 min) → 750 s; 4,500 s in [75 min, 90 min) → 4,950 s.
    # Exact values would give a median of 2,550 and a p90 of 4,110.
    overall, per_day = queries.first_response(period())
    assert overall.count == 2
    assert overall.median == pytest.approx((4950 + 750) / 2)
    assert overall.p90 == pytest.approx(750 + 0.9 * (4950 - 750))
    assert set(per_day) == {TUE}
    assert per_day[TUE] == overall
    only_mail, _ = queries.first_response(period(channel="email"))
    assert (only_mail.count, only_mail.median) == (1, 4950)


def test_the_first_response_histogram_holds_each_answer_in_its_bucket(history):
    from analytics.buckets import BOUNDS, bucket_of
    from analytics.models import ResponseStat

    rows = ResponseStat.objects.filter(day=TUE).order_by("channel")
    found = {
        (r.channel, r.responder_id): [i for i in range(len(BOUNDS)) if getattr(r, f"frt_b{i:02d}")]
        for r in rows
    }
    ana = history["ana"].pk
    assert found == {("email", ana): [bucket_of(4500)], ("webchat", ana): [bucket_of(600)]}
    assert (BOUNDS[bucket_of(4500)], BOUNDS[bucket_of(4500) + 1]) == (4500, 5400)
    assert (BOUNDS[bucket_of(600)], BOUNDS[bucket_of(600) + 1]) == (600, 900)


def test_sla_on_time_late_and_running_past_due(history, wednesday):
    by_channel = {r.key: r for r in queries.sla_by(period(), "channel")}
    assert (by_channel["email"].on_time, by_channel["email"].late) == (0, 1)
    chat = by_channel["webchat"]
    assert (chat.on_time, chat.late, chat.running_late) == (1, 0, 1)
    assert chat.compliance == pytest.approx(50.0)
    (no_department,) = queries.sla_by(period(), "department_id")
    assert (no_department.key, no_department.answered, no_department.running_late) == (None, 2, 1)


def test_backlog_at_the_end_of_each_day(history, wednesday):
    levels = queries.backlog(period())
    assert levels[FRI] == {"open": 1, "awaiting": 1, "unassigned": 1}
    assert levels[MON] == {"open": 1, "awaiting": 1, "unassigned": 1}
    # Tuesday: #1 answered and Ana's, #2 closed, #3 ignored, #4 waiting and nobody's.
    assert levels[TUE] == {"open": 2, "awaiting": 1, "unassigned": 1}
    assert levels[WED] == levels[TUE]


def test_heat_map_of_incoming_messages(history, wednesday):
    grid = queries.heat_map(period())
    assert grid[4][17] == 1  # Friday 17h
    assert (grid[1][10], grid[1][12], grid[1][14]) == (1, 1, 1)  # Tuesday
    assert sum(map(sum, grid)) == 4


def test_agent_table(history, wednesday):
    rows = {a.name: a for a in queries.agents(period())}
    ana, beto = rows["Ana Ñandú"], rows["Beto Ñandú"]
    assert (ana.assigned, ana.answered, ana.closed, ana.open_now) == (1, 2, 0, 1)
    assert ana.median_seconds == pytest.approx((4950 + 750) / 2)  # bucket middles (see above)
    assert ana.peak_open == 1
    assert (beto.assigned, beto.answered, beto.closed, beto.open_now) == (1, 0, 1, 0)
    assert beto.peak_open == 0


def test_sentiment_and_typification(history, wednesday):
    assert queries.sentiment(period()) == {"neutral": 3, "angry": 1}
    assert queries.typification(period(), ["motivo"]) == [("motivo", "Reclamo", 1)]


def test_filters_narrow_every_figure(history, wednesday):
    chat = period(account=history["chat"].pk)
    assert sum(d["created"] for d in queries.daily_counts(chat).values()) == 3
    assert queries.backlog(chat)[FRI]["open"] == 0
    ana = period(agent=history["ana"].pk)
    assert sum(d["created"] for d in queries.daily_counts(ana).values()) == 1
    assert queries.sentiment(period(agent=history["beto"].pk)) == {"neutral": 1}


FIGURES = (
    queries.daily_counts,
    queries.heat_map,
    queries.backlog,
    queries.first_response,
    queries.agents,
    queries.sentiment,
    lambda f: queries.sla_breakdown(f)["department_id"],
)


def _agree(*views: Filters) -> None:
    for figure in FIGURES:
        answers = [figure(f) for f in views]
        assert all(a == answers[0] for a in answers), figure


def test_one_dimension_reads_its_totals_and_agrees_with_every_combination(history, wednesday):
    chat, beto = history["chat"], history["beto"]
    # The web chat is the history's only chat account: the channel alone and the account
    # alone read the per-dimension-value totals, both together every combination of
    # dimensions; the three must show the same figures.
    views = [period(channel="webchat"), period(account=chat.pk)]
    views.append(period(channel="webchat", account=chat.pk))
    assert [single_dimension(f) for f in views] == [
        ("channel", "webchat"),
        ("account", str(chat.pk)),
        None,
    ]
    assert sum(d["created"] for d in queries.daily_counts(views[0]).values()) == 3
    _agree(*views)
    _agree(*(dataclasses.replace(f, agent=beto.pk) for f in views))
    assert queries.agents(period(channel="email"))[0].name == "Ana Ñandú"


def test_a_department_reads_its_totals_once_folded_in(history, wednesday):
    t2 = history["tickets"][1]
    ventas = Department.objects.create(name="Ventas")
    services.ticket_set_department(ticket=t2, department=ventas, actor=history["ana"])
    rollup_refresh(tenant_id=t2.tenant_id)
    alone, narrowed = period(department=ventas.pk), period(department=ventas.pk, channel="webchat")
    assert single_dimension(alone) == ("department", str(ventas.pk))
    assert sum(d["closed"] for d in queries.daily_counts(alone).values()) == 1
    assert queries.first_response(alone)[0].count == 1
    _agree(alone, narrowed)
