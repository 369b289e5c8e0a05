"""The column filter engine answers one question two ways (``TicketFilter.to_q`` for the
database, ``TicketFilter.matches`` for the live push); hypothesis proves they agree.

Each example draws a few dozen tickets (written with the ORM inside a savepoint that is rolled
back afterwards) and a handful of filters, and checks that, for every filter, the tickets the
database lists are exactly those whose snapshot, as it travels in an event (JSON), matches.
"""

from __future__ import annotations

import datetime
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department
from helpdesk.models import User
from helpdesk.services import tenant_bot
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import Cast
from tests.tickets.factories import BotUserFactory
from tickets.filters import ASSIGNEE_MODES, NO_DEPARTMENT, SLA_STATES, TicketFilter
from tickets.live import ticket_snapshot
from tickets.models import Customer, Ticket, TicketStatus

SANTIAGO = ZoneInfo("America/Santiago")
# Chile moved its clocks forward at local midnight of 2025-09-07 (00:00 -04 -> 01:00 -03): the
# tickets and date ranges below straddle that night, so day bounds in the tenant's zone matter.
NOW = datetime.datetime(2025, 9, 7, 15, 30, tzinfo=datetime.UTC)
FIRST_DAY = datetime.date(2025, 8, 30)
LAST_DAY = datetime.date(2025, 9, 14)
AT_RISK_SHARE = 0.25

_numbers = itertools.count(1)  # ticket numbers are unique per tenant, even across examples


@dataclass(frozen=True)
class Pool:
    """What the drawn tickets point at: fixed for the whole test."""

    accounts: list[int]
    departments: list[int]
    customers: list[int]
    users: dict[str, int]  # "agent", "admin", "bot"

    @property
    def user_ids(self) -> list[int]:
        return list(self.users.values())


@pytest.fixture
def pool(cast: Cast) -> Iterator[Pool]:
    with bypass_context():
        if not User.objects.filter(tenant=cast.tenant_a, is_bot=True).exists():
            BotUserFactory(tenant=cast.tenant_a)
    with tenant_context(cast.tenant_a.pk):
        bot = tenant_bot(cast.tenant_a)
        accounts = [
            ChannelAccount.objects.create(kind=kind, name=f"Cuenta {kind}")
            for kind in (ChannelKind.EMAIL, ChannelKind.WHATSAPP, ChannelKind.WEBCHAT)
        ]
        departments = [Department.objects.create(name=n) for n in ("Ventas", "Soporte")]
        customers = [Customer.objects.create(name=f"Cliente {i}") for i in range(3)]
        yield Pool(
            accounts=[a.pk for a in accounts],
            departments=[d.pk for d in departments],
            customers=[c.pk for c in customers],
            users={"agent": cast.agent.pk, "admin": cast.admin.pk, "bot": bot.pk},
        )


# --- drawing tickets ---------------------------------------------------------------------------


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, SANTIAGO).astimezone(datetime.UTC)


def _moments() -> st.SearchStrategy[datetime.datetime]:
    """Instants over the fortnight, often exactly on a local day bound or on NOW."""
    start = datetime.datetime.combine(FIRST_DAY, datetime.time.min, datetime.UTC)
    minutes = st.integers(0, (LAST_DAY - FIRST_DAY).days * 24 * 60).map(
        lambda m: start + datetime.timedelta(minutes=m)
    )
    midnights = st.dates(FIRST_DAY, LAST_DAY).map(_local_midnight)
    nudged = st.tuples(midnights, st.sampled_from([-1, 0, 1])).map(
        lambda p: p[0] + datetime.timedelta(microseconds=p[1])
    )
    return st.one_of(minutes, nudged, st.just(NOW))


@st.composite
def _sla(draw: st.DrawFn) -> dict[str, Any]:
    """The SLA clock: none, a consistent one, or one from before ``sla_risk_at`` existed
    (tickets waiting when migration 0002 added the column keep a NULL there)."""
    kind = draw(st.sampled_from(["none", "clock", "clock", "legacy"]))
    breached = draw(st.booleans())
    if kind == "none":
        return {
            "waiting_since": None,
            "sla_due_at": None,
            "sla_risk_at": None,
            "sla_breached": breached,
        }
    # Minutes relative to NOW so that every state (ok, risk, breached, and exactly-now bounds)
    # comes up: the risk instant is due - (due - since) / 4 = since + 3 * quarter.
    since = NOW + datetime.timedelta(minutes=draw(st.integers(-600, 120)))
    quarter = datetime.timedelta(minutes=draw(st.integers(0, 120)))
    due = since + 4 * quarter
    risk = due - (due - since) * AT_RISK_SHARE
    return {
        "waiting_since": since,
        "sla_due_at": due,
        "sla_risk_at": None if kind == "legacy" else risk,
        "sla_breached": breached,
    }


@st.composite
def _ticket_fields(draw: st.DrawFn, pool: Pool) -> dict[str, Any]:
    created = draw(_moments())
    updated = created + datetime.timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    return {
        "number": next(_numbers),
        "status": draw(st.sampled_from(TicketStatus.values)),
        "assignee_id": draw(st.sampled_from([None, *pool.user_ids])),
        "department_id": draw(st.sampled_from([None, *pool.departments])),
        "account_id": draw(st.sampled_from(pool.accounts)),
        "customer_id": draw(st.sampled_from(pool.customers)),
        "important": draw(st.booleans()),
        "addressed": draw(st.booleans()),
        "awaiting_response": draw(st.booleans()),
        "has_comments": draw(st.booleans()),
        "metadata": draw(st.sampled_from([{}, {"x": 1}])),
        "created_at": created,
        "updated_at": updated,
        **draw(_sla()),
    }


# --- drawing filters ---------------------------------------------------------------------------


def _some(values: list[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(values), max_size=len(values), unique=True)


def _iso_day() -> st.SearchStrategy[str]:
    near = st.dates(FIRST_DAY - datetime.timedelta(days=2), LAST_DAY + datetime.timedelta(days=2))
    # Now and then any day of the calendar, up to its last one (a date input takes year 9999).
    ends = st.sampled_from([datetime.date.min, datetime.date.max])
    return st.one_of(near, near, near, st.dates(), ends).map(datetime.date.isoformat)


@st.composite
def _filter_data(draw: st.DrawFn, pool: Pool) -> dict[str, Any]:
    """A column's stored JSON: every key TicketFilter understands, each maybe absent, with a
    little junk mixed in (which the engine must ignore the same way on both sides)."""
    junk = st.sampled_from(["", "x", None, 0, "yes"])
    missing_id = max(pool.accounts + pool.departments + pool.customers + pool.user_ids) + 1000
    options: dict[str, st.SearchStrategy[Any]] = {
        "channels": _some([*ChannelKind.values, "fax"]),
        "accounts": _some([*pool.accounts, str(pool.accounts[0]), missing_id, "x"]),
        "assignee": st.fixed_dictionaries(
            {"mode": st.sampled_from([*ASSIGNEE_MODES, "bogus"])},
            optional={"users": _some([*pool.user_ids, missing_id])},
        ),
        "status": _some([*TicketStatus.values, "bogus"]),
        "has_metadata": st.booleans() | junk,
        "customer": st.sampled_from([*pool.customers, missing_id, str(pool.customers[0])]),
        "awaiting": st.booleans() | junk,
        "important": st.booleans() | junk,
        "has_comments": st.booleans() | junk,
        "addressed": st.booleans() | junk,
        "departments": _some([*pool.departments, NO_DEPARTMENT, missing_id, str(NO_DEPARTMENT)]),
        "sla": _some([*SLA_STATES, "late"]),
        "date_from": _iso_day() | junk,
        "date_to": _iso_day() | junk,
    }
    keys = draw(st.lists(st.sampled_from(sorted(options)), max_size=4, unique=True))
    return {key: draw(options[key]) for key in keys}


# --- the property ------------------------------------------------------------------------------


def _json_snapshot(ticket: Ticket) -> dict[str, Any]:
    """The snapshot as a consumer receives it: through JSON."""
    return json.loads(json.dumps(ticket_snapshot(ticket)))


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_database_and_the_live_push_agree_on_every_filter(
    cast: Cast, pool: Pool, data: st.DataObject
) -> None:
    with tenant_context(cast.tenant_a.pk):
        try:
            with transaction.atomic():
                _check_example(cast, pool, data)
                raise _Rollback  # each example starts from the empty pool again
        except _Rollback:
            pass


def _check_example(cast: Cast, pool: Pool, data: st.DataObject) -> None:
    fields = data.draw(st.lists(_ticket_fields(pool), min_size=1, max_size=40), label="tickets")
    tenant_id = cast.tenant_a.pk
    created = Ticket.objects.bulk_create(Ticket(tenant_id=tenant_id, **f) for f in fields)
    merges = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(created) - 1), st.integers(0, len(created) - 1)),
            max_size=4,
        ),
        label="merges",
    )
    merged = []
    for source, target in merges:
        if source != target:
            created[source].merged_into_id = created[target].pk
            merged.append(created[source])
    Ticket.objects.bulk_update(merged, ["merged_into"])

    tickets = list(Ticket.objects.select_related("account", "assignee"))
    snapshots = {t.pk: _json_snapshot(t) for t in tickets}
    assert len(snapshots) == len(fields)

    for _ in range(data.draw(st.integers(1, 10), label="filters")):
        raw = data.draw(_filter_data(pool), label="filter")
        sort = data.draw(st.sampled_from(["updated", "waiting", "bogus"]), label="sort")
        user_id = data.draw(st.sampled_from([cast.agent.pk, cast.agent.pk, None]), label="me")
        f = TicketFilter.from_data(raw, sort=sort, user_id=user_id, time_zone=SANTIAGO)
        in_sql = set(Ticket.objects.filter(f.to_q(NOW)).values_list("pk", flat=True))
        in_memory = {pk for pk, s in snapshots.items() if f.matches(s, NOW)}
        if in_sql != in_memory:
            for pk in sorted(in_sql ^ in_memory):
                note(f"disagree on {snapshots[pk]} (sql={pk in in_sql})")
        assert in_sql == in_memory, f


# --- examples ----------------------------------------------------------------------------------

_BLANK: dict[str, Any] = {
    "id": 1,
    "status": "open",
    "assignee_id": None,
    "assignee_is_bot": False,
    "department_id": None,
    "account_id": 1,
    "channel": "email",
    "customer_id": 1,
    "important": False,
    "addressed": False,
    "awaiting_response": False,
    "has_comments": False,
    "has_metadata": False,
    "sla_due_at": None,
    "sla_risk_at": None,
    "sla_breached": False,
    "created_at": None,
    "updated_at": None,
    "waiting_since": None,
    "merged_into_id": None,
}


def test_sorting_by_waiting_time_keeps_only_those_waiting() -> None:
    f = TicketFilter.from_data({"awaiting": False}, sort="waiting")
    assert f.awaiting is True
    assert f.sort == "waiting"
    assert f.order_by() == ("waiting_since", "id")
    assert TicketFilter.from_data({}, sort="nonsense").order_by() == ("-updated_at", "-id")


def test_malformed_values_are_ignored() -> None:
    f = TicketFilter.from_data(
        {
            "channels": "email",  # not a list
            "accounts": ["x", "3", 4.0, None],
            "assignee": "me",  # not an object
            "status": ["open", "bogus"],
            "has_metadata": "yes",
            "customer": "7",
            "important": False,  # only "important" is a filter, not "unimportant"
            "departments": {"a": 1},
            "sla": ["late", "risk"],
            "date_from": "yesterday",
            "date_to": "2025-02-30",
            "unknown": 1,
        }
    )
    assert f == TicketFilter(
        accounts=frozenset({3, 4}), statuses=frozenset({"open"}), sla=frozenset({"risk"})
    )
    assert TicketFilter.from_data(None) == TicketFilter()
    assert TicketFilter.from_data({"assignee": {"mode": "everyone"}}).assignee_mode is None


@pytest.mark.django_db
def test_mine_needs_the_person(cast: Cast, pool: Pool) -> None:
    """ "me" is the column owner's: without one, it matches nothing (not the unassigned)."""
    with tenant_context(cast.tenant_a.pk):
        common = {"account_id": pool.accounts[0], "customer_id": pool.customers[0]}
        unassigned = Ticket.objects.create(number=next(_numbers), **common)
        mine = Ticket.objects.create(number=next(_numbers), assignee_id=cast.agent.pk, **common)
        tickets = Ticket.objects.select_related("account", "assignee")
        for user_id, expected in ((cast.agent.pk, {mine.pk}), (None, set())):
            f = TicketFilter.from_data({"assignee": {"mode": "me"}}, user_id=user_id)
            assert set(Ticket.objects.filter(f.to_q(NOW)).values_list("pk", flat=True)) == expected
            assert {t.pk for t in tickets if f.matches(_json_snapshot(t), NOW)} == expected
        assert unassigned.pk not in expected


def test_a_range_up_to_the_calendars_last_day_has_no_end() -> None:
    """A date input accepts 9999-12-31; the day after it does not exist (it used to raise)."""
    f = TicketFilter.from_data({"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert f.to_q(NOW) is not None
    start, end = f._bounds()
    assert start is not None and end is None
    assert f.matches({**_BLANK, "created_at": NOW.isoformat()}, NOW)


@pytest.mark.django_db
def test_departments_filter_one_or_more_or_none(cast: Cast, pool: Pool) -> None:
    """A column lists one or more departments, and "Sin departamento" (id 0) for tickets
    without one; with none checked the department is not considered."""
    with tenant_context(cast.tenant_a.pk):
        sales, support = pool.departments
        common = {"account_id": pool.accounts[0], "customer_id": pool.customers[0]}
        tickets = {
            name: Ticket.objects.create(number=next(_numbers), department_id=dept, **common).pk
            for name, dept in (("sales", sales), ("support", support), ("none", None))
        }
        rows = list(Ticket.objects.select_related("account", "assignee"))
        cases = [
            ([sales], {"sales"}),
            ([sales, support], {"sales", "support"}),
            ([NO_DEPARTMENT], {"none"}),
            ([support, NO_DEPARTMENT], {"support", "none"}),
            ([], {"sales", "support", "none"}),
        ]
        for departments, names in cases:
            f = TicketFilter.from_data({"departments": departments})
            expected = {tickets[n] for n in names}
            assert set(Ticket.objects.filter(f.to_q(NOW)).values_list("pk", flat=True)) == expected
            assert {t.pk for t in rows if f.matches(_json_snapshot(t), NOW)} == expected
