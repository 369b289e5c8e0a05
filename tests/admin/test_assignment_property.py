"""A property test of the assignment engine: whatever the team (limits, modes, departments,
availability, presence) and whatever happens (arrivals, closes, connects, raised limits, mode
changes), nobody is ever past their limit, the queue drains whenever someone could take a
waiting ticket, and it drains oldest first."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deskconfig.kinds import ChannelKind
from deskconfig.models import AssignmentMode, AssignmentRule, Department, DepartmentMembership
from helpdesk.models import Availability, User
from helpdesk.tenancy import tenant_context
from tests.admin.assignment_helpers import person
from tests.conftest import Cast
from tests.tickets.factories import ChannelAccountFactory, TicketFactory
from tickets import services
from tickets.models import Ticket, TicketStatus
from workflow import assignment, presence

MODES = [AssignmentMode.AUTOMATIC, AssignmentMode.MANUAL, AssignmentMode.NONE]


@dataclass
class World:
    accounts: list
    departments: list


@pytest.fixture
def world(cast: Cast) -> Iterator[World]:
    with tenant_context(cast.tenant_a.pk):
        accounts = [
            ChannelAccountFactory(tenant=cast.tenant_a, kind=ChannelKind.EMAIL, name="Correo"),
            ChannelAccountFactory(tenant=cast.tenant_a, kind=ChannelKind.WHATSAPP, name="WA"),
        ]
        departments = [
            Department.objects.create(tenant=cast.tenant_a, name=name)
            for name in ("Ventas", "Soporte")
        ]
        yield World(accounts, departments)


# Weighted towards people who can take tickets, so that limits and the queue are exercised.
mostly = st.sampled_from([True, True, True, False])
mode = st.sampled_from([AssignmentMode.AUTOMATIC, *MODES])
agent_specs = st.lists(
    st.fixed_dictionaries(
        {
            "limit": st.integers(0, 3),
            "available": mostly,
            "connected": mostly,
            "modes": st.tuples(mode, mode),
            "departments": st.sets(st.integers(0, 1)),
        }
    ),
    min_size=1,
    max_size=4,
)
arrive = st.tuples(st.just("arrive"), st.integers(0, 1), st.sampled_from([None, None, 0, 1]))
ops = st.lists(
    st.one_of(
        arrive,
        arrive,
        arrive,
        st.tuples(st.just("close"), st.integers(0, 20)),
        st.tuples(st.just("connect"), st.integers(0, 3)),
        st.tuples(st.just("disconnect"), st.integers(0, 3)),
        st.tuples(st.just("available"), st.integers(0, 3)),
        st.tuples(st.just("away"), st.integers(0, 3)),
        st.tuples(st.just("raise"), st.integers(0, 3), st.integers(1, 2)),
        st.tuples(st.just("mode"), st.integers(0, 3), st.integers(0, 1), st.sampled_from(MODES)),
    ),
    min_size=1,
    max_size=16,
)


class Rollback(Exception):
    """Ends an example: its rows go away with the savepoint."""


def _could_take(user: User, ticket: Ticket) -> bool:
    """Eligible for ``ticket`` leaving capacity aside."""
    user.refresh_from_db()
    if user.availability != Availability.AVAILABLE or not presence.is_connected(user):
        return False
    if not AssignmentRule.objects.filter(
        user=user, account_id=ticket.account_id, mode=AssignmentMode.AUTOMATIC
    ).exists():
        return False
    return (
        ticket.department_id is None
        or DepartmentMembership.objects.filter(
            user=user, department_id=ticket.department_id
        ).exists()
    )


def _check(agents: list[User], placed_now: list[Ticket]) -> None:
    loads = assignment.open_loads([a.pk for a in agents])
    for agent in agents:
        agent.refresh_from_db()
        assert loads.get(agent.pk, 0) <= agent.max_open_tickets, "an agent past their limit"
    waiting = list(assignment.queued_tickets().order_by("created_at", "pk"))
    for ticket in waiting:
        assert not assignment.eligible_users(ticket).exists(), "capacity left unused"
    for ticket in placed_now:
        ticket.refresh_from_db()
        older = [q for q in waiting if q.created_at < ticket.created_at]
        assert not any(_could_take(ticket.assignee, q) for q in older), "not oldest first"


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=agent_specs, steps=ops)
# One slot frees while two tickets wait: the older one must get it.
@example(
    specs=[
        {
            "limit": 1,
            "available": True,
            "connected": True,
            "modes": (AssignmentMode.AUTOMATIC, AssignmentMode.NONE),
            "departments": set(),
        }
    ],
    steps=[("arrive", 0, None)] * 3 + [("close", 0), ("raise", 0, 1)],
)
def test_nobody_passes_their_limit_and_the_queue_drains_oldest_first(cast, world, specs, steps):
    tenant = cast.tenant_a
    with tenant_context(tenant.pk):
        try:
            with transaction.atomic():
                _scenario(tenant, world, specs, steps)
                raise Rollback
        except Rollback:
            pass


def _scenario(tenant, world: World, specs, steps) -> None:
    agents = []
    for spec in specs:
        agent = person(
            tenant,
            limit=spec["limit"],
            available=spec["available"],
            connected=spec["connected"],
            departments=[world.departments[i] for i in sorted(spec["departments"])],
        )
        for account, mode in zip(world.accounts, spec["modes"], strict=True):
            AssignmentRule.objects.create(tenant=tenant, user=agent, account=account, mode=mode)
        agents.append(agent)
    start = timezone.now() - datetime.timedelta(hours=1)
    arrivals = 0

    for step in steps:
        kind = step[0]
        before = set(Ticket.objects.filter(assignee__isnull=False).values_list("pk", flat=True))
        if kind == "arrive":
            arrivals += 1
            at = start + datetime.timedelta(seconds=arrivals)
            department = None if step[2] is None else world.departments[step[2]]
            ticket = TicketFactory(
                account=world.accounts[step[1]],
                tenant=tenant,
                department=department,
                created_at=at,
                updated_at=at,
            )
            assignment.assign_now(tenant.pk, ticket.pk)  # type: ignore[attr-defined]  # request_assignment, after the commit
        elif kind == "close":
            open_assigned = list(
                Ticket.objects.filter(status=TicketStatus.OPEN, assignee__isnull=False).order_by(
                    "pk"
                )
            )
            if open_assigned:
                ticket = open_assigned[step[1] % len(open_assigned)]
                services.ticket_close(ticket=ticket, actor=ticket.assignee)
                assignment.drain_now(tenant.pk)  # ticket_close's drain, after the commit
        else:
            agent = agents[step[1] % len(agents)]
            if kind == "connect":
                presence.person_connected(agent.pk)
            elif kind == "disconnect":
                presence.person_disconnected(agent.pk)
            elif kind in ("available", "away"):
                User.objects.filter(pk=agent.pk).update(
                    availability=Availability.AVAILABLE
                    if kind == "available"
                    else Availability.AWAY
                )
            elif kind == "raise":
                User.objects.filter(pk=agent.pk).update(
                    max_open_tickets=F("max_open_tickets") + step[2]
                )
            elif kind == "mode":
                AssignmentRule.objects.update_or_create(
                    user=agent,
                    account=world.accounts[step[2]],
                    defaults={"mode": step[3], "tenant": tenant},
                )
            if kind != "disconnect" and kind != "away":
                assignment.drain_now(tenant.pk)  # what each of those changes asks for
        placed_now = list(Ticket.objects.filter(assignee__isnull=False).exclude(pk__in=before))
        _check(agents, placed_now)
