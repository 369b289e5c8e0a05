"""The assignment engine on real PostgreSQL under concurrency: a hundred tickets arriving at
once over several workers never push anybody past their limit.

Transactional tests: every thread has its own connection (closed when the thread ends) and
commits for real, as webhook requests and Celery workers do."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from helpdesk.models import User
from helpdesk.tenancy import tenant_context
from tests.admin.assignment_helpers import person, queued
from tests.conftest import Cast
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import receive, run_in_threads
from tickets.models import Event, EventKind, Ticket, TicketStatus
from workflow import assignment

pytestmark = pytest.mark.django_db(transaction=True)

LIMITS = [1, 3, 4, 6, 8, 10]  # 32 slots for 100 tickets
TICKETS = 100
WORKERS = 8


@pytest.fixture
def team(cast: Cast):
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccountFactory(tenant=cast.tenant_a, name="Soporte")
        agents = [person(cast.tenant_a, accounts=[account], limit=n) for n in LIMITS]
    return account, agents


def _check(tenant_id: int, agents: list[User]) -> None:
    """Nobody past their limit, every slot used (there are more tickets than slots), every
    other ticket still queued, and each ticket assigned once."""
    with tenant_context(tenant_id):
        loads = Counter(
            Ticket.objects.filter(status=TicketStatus.OPEN, assignee__isnull=False).values_list(
                "assignee_id", flat=True
            )
        )
        assert {a.pk: loads[a.pk] for a in agents} == {a.pk: a.max_open_tickets for a in agents}
        assert Ticket.objects.count() == TICKETS
        assert assignment.queued_tickets().count() == TICKETS - sum(LIMITS)
        per_ticket = Counter(
            Event.objects.filter(kind=EventKind.ASSIGNED).values_list("ticket_id", flat=True)
        )
        assert len(per_ticket) == sum(LIMITS) and set(per_ticket.values()) == {1}


def test_a_hundred_tickets_arriving_at_once_over_several_workers(cast, team):
    account, agents = team
    per_worker = [range(w, TICKETS, WORKERS) for w in range(WORKERS)]

    def arrivals(numbers: range) -> Callable[[], None]:
        def job() -> None:
            for i in numbers:
                # message_receive commits, then the engine places the ticket (on_commit).
                receive(account, identity=f"cliente{i}@example.test", text=f"Hola {i}")

        return job

    def drainer() -> None:  # agents connecting meanwhile: drains run alongside the arrivals
        for _ in range(5):
            assignment.drain_now(cast.tenant_a.pk)

    run_in_threads(
        cast.tenant_a.pk, [arrivals(n) for n in per_worker] + [drainer, drainer], timeout=120
    )

    _check(cast.tenant_a.pk, agents)


def test_parallel_drains_of_a_hundred_queued_tickets(cast, team):
    account, agents = team
    with tenant_context(cast.tenant_a.pk):
        for i in range(TICKETS):
            queued(account, minutes_ago=TICKETS - i)

    placed = run_in_threads(
        cast.tenant_a.pk, [lambda: assignment.drain_now(cast.tenant_a.pk)] * WORKERS, timeout=120
    )

    assert sum(placed) == sum(LIMITS)
    _check(cast.tenant_a.pk, agents)
