"""The beat job's incremental folding equals a full recomputation, on a random history made
through the ticket services (seeded, so a failure replays)."""

from __future__ import annotations

import contextlib
import datetime
import importlib
import random
from types import SimpleNamespace

import pytest
import time_machine
from django.db.models import Count, Q, Sum

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
    TypificationStat,
)
from analytics.rollup import rollup_rebuild, rollup_refresh
from deskconfig.models import Department, FieldType, MetadataField
from helpdesk.models import Role
from tests.factories import UserFactory
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import answer, receive
from tickets import services
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db

START = datetime.datetime(2025, 3, 3, 8, 0, tzinfo=datetime.UTC)
DIMENSIONS = ["day", "channel", "account_id", "department_id", "agent_id"]
ROLLUPS = {  # each rollup table and the columns of its rows' key
    DailyStat: DIMENSIONS,
    DayTotal: ["day", "agent_id"],
    SlaTotal: ["day", "channel", "department_id"],
    OpenTotal: ["channel", "account_id", "department_id", "agent_id"],
    ResponseStat: [*DIMENSIONS, "responder_id"],
    ResponseTotal: ["day", "agent_id", "responder_id"],
    DimensionTotal: ["dimension", "value", "day", "agent_id"],
    DimensionResponseTotal: ["dimension", "value", "day", "agent_id", "responder_id"],
    TypificationStat: [*DIMENSIONS, "key", "value"],
}


def _rows(model, keys: list[str]) -> list[tuple]:
    """A rollup table as comparable rows (all-zero counter rows mean nothing)."""
    counters = [f.name for f in model._meta.fields if f.name not in {"id", "tenant", *keys}]
    return sorted(
        (repr(row[: len(keys)]), row[len(keys) :])
        for row in model.objects.values_list(*keys, *counters)
        if any(row[len(keys) :])
    )


def snapshot() -> tuple[list[list[tuple]], list[tuple]]:
    """The rollups and the facts as comparable rows."""
    hourly = [_rows(model, keys) for model, keys in ROLLUPS.items()]
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
    if action < 0.3 or not tickets:
        receive(rng.choice(accounts), identity=f"c{rng.randrange(8)}@example.test", text="Hola")
    elif action < 0.52 and open_tickets:
        answer(rng.choice(open_tickets), rng.choice(agents), "Ok")  # accepted: SLA counts
    elif action < 0.62 and open_tickets:
        t = rng.choice(open_tickets)
        services.ticket_assign(ticket=t, assignee=rng.choice([None, *agents]), actor=agents[0])
    elif action < 0.72 and open_tickets:
        services.ticket_close(ticket=rng.choice(open_tickets), actor=agents[0])
    elif action < 0.77:
        closed = [t for t in tickets if t.status != TicketStatus.OPEN]
        if closed:
            with contextlib.suppress(services.ActionRefused):
                services.ticket_reopen(ticket=rng.choice(closed), actor=agents[0])
    elif action < 0.87 and tickets:
        values = rng.choice([["Reclamo"], ["Consulta", "Reclamo"], []])
        services.ticket_set_metadata(
            ticket=rng.choice(tickets), actor=agents[0], values={"motivo": values}
        )
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
        ChannelAccountFactory(
            tenant=in_a.tenant_a, kind=kind, name=f"Cuenta {kind}", sla_minutes=30
        )
        for kind in ("email", "webchat")
    ]
    agents = [
        UserFactory(tenant=in_a.tenant_a, role=Role.AGENT, email=f"a{i}@a.test") for i in range(3)
    ]
    departments = [Department.objects.create(name=n) for n in ("Ventas", "Soporte")]
    MetadataField.objects.create(
        target=MetadataField.Target.TICKET,
        key="motivo",
        label="Motivo",
        field_type=FieldType.MULTI,
        choices=["Reclamo", "Consulta"],
    )
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
    assert [model.__name__ for model, rows in zip(ROLLUPS, full[0], strict=True) if not rows] == []
    for total, parts in ((DayTotal, DailyStat), (ResponseTotal, ResponseStat)):
        assert _summed(parts, ROLLUPS[total]) == _rows(total, ROLLUPS[total])
    for total, parts in ((DimensionTotal, DailyStat), (DimensionResponseTotal, ResponseStat)):
        assert _sliced(parts, ROLLUPS[total]) == _rows(total, ROLLUPS[total])
    sla = _summed(DailyStat, ROLLUPS[SlaTotal], ["sla_on_time", "sla_late"])
    assert sla == _rows(SlaTotal, ROLLUPS[SlaTotal])
    open_now = TicketFact.objects.filter(status="open").values(*ROLLUPS[OpenTotal])
    counted = open_now.annotate(
        o=Count("pk"),
        a=Count("pk", filter=Q(awaiting=True)),
        u=Count("pk", filter=Q(agent_id__isnull=True)),
    )
    assert sorted(
        (repr(tuple(r[k] for k in ROLLUPS[OpenTotal])), (r["o"], r["a"], r["u"])) for r in counted
    ) == _rows(OpenTotal, ROLLUPS[OpenTotal])


def _summed(model, keys: list[str], counters: list[str] | None = None) -> list[tuple]:
    """The per-dimension rollup summed over the dimensions the totals leave out."""
    skip = {"id", "tenant", *ROLLUPS[model]}
    counters = counters or [f.name for f in model._meta.fields if f.name not in skip]
    rows = model.objects.values(*keys).annotate(**{f"s_{c}": Sum(c) for c in counters})
    return sorted(
        (repr(tuple(r[k] for k in keys)), tuple(r[f"s_{c}"] for c in counters))
        for r in rows
        if any(r[f"s_{c}"] for c in counters)
    )


SLICES = (("channel", "channel"), ("account", "account_id"), ("department", "department_id"))


def _sliced(model, keys: list[str]) -> list[tuple]:
    """The per-dimension rollup summed per value of each dimension alone, keyed like the
    per-dimension-value totals (dimension, value as text, then ``keys[2:]``)."""
    rest = keys[2:]
    skip = {"id", "tenant", *ROLLUPS[model]}
    counters = [f.name for f in model._meta.fields if f.name not in skip]
    found = []
    for dimension, column in SLICES:
        rows = model.objects.values(column, *rest).annotate(**{f"s_{c}": Sum(c) for c in counters})
        found += [
            (
                repr((dimension, str(r[column]), *(r[k] for k in rest))),
                tuple(r[f"s_{c}"] for c in counters),
            )
            for r in rows
            if r[column] is not None and any(r[f"s_{c}"] for c in counters)
        ]
    return sorted(found)


def test_the_migration_fills_the_dimension_totals_from_the_existing_rollups(history):
    """Rollups built before the per-dimension-value totals existed get them on migrate,
    summed from the per-combination rows, equal to what folding wrote."""
    from django.apps import apps
    from django.db import connection

    from helpdesk.tenancy import bypass_context

    migration = importlib.import_module("analytics.migrations.0005_analytics5_dimension_totals")
    totals = (DimensionTotal, DimensionResponseTotal)
    folded = [_rows(model, ROLLUPS[model]) for model in totals]
    assert all(folded)
    with bypass_context():
        for model in totals:
            model.all_tenants.all().delete()
    assert not any(_rows(model, ROLLUPS[model]) for model in totals)
    migration.fill_dimension_totals(apps, SimpleNamespace(connection=connection))
    assert [_rows(model, ROLLUPS[model]) for model in totals] == folded
