"""The beat job's incremental folding equals a full recomputation, on a random history made
through the ticket services (seeded, so a failure replays)."""

from __future__ import annotations

import contextlib
import datetime
import random

import pytest
import time_machine

from analytics.models import DailyStat, TicketFact
from analytics.rollup import rollup_rebuild, rollup_refresh
from deskconfig.models import Department
from helpdesk.models import Role
from tests.factories import UserFactory
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import receive
from tickets import services
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db

START = datetime.datetime(2025, 3, 3, 8, 0, tzinfo=datetime.UTC)
COUNTER_FIELDS = [f.name for f in DailyStat._meta.fields if f.name not in {"id", "tenant"}]


def snapshot() -> tuple[list[tuple], list[tuple]]:
    """The rollups as comparable rows (all-zero counter rows mean nothing)."""
    hourly = sorted(
        (repr(row[:5]), row[5:])
        for row in DailyStat.objects.values_list(*COUNTER_FIELDS)
        if any(row[5:])  # the counters after day, channel, account, department, agent
    )
    facts = list(
        TicketFact.objects.order_by("ticket_id").values_list(
            "ticket_id",
            "status",
            "agent_id",
            "department_id",
            "awaiting",
            "first_response_at",
            "first_response_seconds",
            "contribution",
            "sla_due_at",
        )
    )
    return hourly, facts


def _step(rng: random.Random, accounts, agents, departments, now) -> None:
    action = rng.random()
    tickets = list(Ticket.objects.order_by("pk"))
    open_tickets = [t for t in tickets if t.status == TicketStatus.OPEN]
    if action < 0.35 or not tickets:
        receive(rng.choice(accounts), identity=f"c{rng.randrange(8)}@example.test", text="Hola")
    elif action < 0.6 and open_tickets:
        services.message_send(ticket=rng.choice(open_tickets), author=rng.choice(agents), text="Ok")
    elif action < 0.7 and open_tickets:
        t = rng.choice(open_tickets)
        services.ticket_assign(ticket=t, assignee=rng.choice([None, *agents]), actor=agents[0])
    elif action < 0.8 and open_tickets:
        services.ticket_close(ticket=rng.choice(open_tickets), actor=agents[0])
    elif action < 0.85:
        closed = [t for t in tickets if t.status != TicketStatus.OPEN]
        if closed:
            with contextlib.suppress(services.ActionRefused):
                services.ticket_reopen(ticket=rng.choice(closed), actor=agents[0])
    elif action < 0.93 and tickets:
        services.ticket_set_department(
            ticket=rng.choice(tickets), department=rng.choice([None, *departments]), actor=agents[0]
        )
    elif tickets:
        services.ticket_set_sentiment(
            ticket=rng.choice(tickets), actor=agents[0], sentiment=rng.choice(["happy", "angry"])
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_folding_equals_a_full_recomputation(in_a, connector, seed):
    rng = random.Random(seed)
    accounts = [
        ChannelAccountFactory(tenant=in_a.tenant_a, kind=kind, name=f"Cuenta {kind}")
        for kind in ("email", "webchat")
    ]
    agents = [
        UserFactory(tenant=in_a.tenant_a, role=Role.AGENT, email=f"a{i}@a.test") for i in range(3)
    ]
    departments = [Department.objects.create(name=n) for n in ("Ventas", "Soporte")]
    now = START
    with time_machine.travel(now, tick=False) as clock:
        rollup_refresh(tenant_id=in_a.tenant_a.pk)  # the first run builds from nothing
        for _ in range(60):
            now += datetime.timedelta(minutes=rng.choice([1, 7, 45, 180, 900]))
            clock.move_to(now)
            _step(rng, accounts, agents, departments, now)
            if rng.random() < 0.3:
                rollup_refresh(tenant_id=in_a.tenant_a.pk)
        now += datetime.timedelta(minutes=1)
        clock.move_to(now)
        rollup_refresh(tenant_id=in_a.tenant_a.pk)
        incremental = snapshot()
        rollup_rebuild(tenant_id=in_a.tenant_a.pk)
        full = snapshot()
    assert incremental[1] == full[1]
    assert incremental[0] == full[0]
    assert len(full[1]) == Ticket.objects.count() > 3
