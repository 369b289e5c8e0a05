"""Fixtures of the analytics tests: those of the tickets tests (tenant A, an account, the bot,
a recording connector), and a helper that compares the rollups with a recomputation."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from analytics.rollup import rollup_refresh
from deskconfig.models import (
    BusinessInterval,
    BusinessSchedule,
    FieldType,
    Holiday,
    MetadataField,
)
from helpdesk.models import Role
from tests.factories import UserFactory
from tests.tickets.conftest import account, bot, connector, media_root  # noqa: F401
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import answer, receive
from tickets import services

SCL = ZoneInfo("America/Santiago")
FRI, MON, TUE, WED = (datetime.date(2025, 6, d) for d in (6, 9, 10, 11))


def at(day: datetime.date, hh: int, mm: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hh, mm), SCL)


@pytest.fixture
def history(in_a, connector):  # noqa: F811 - the connector fixture above
    """The small history described in test_figures.py, folded into the rollups."""
    tenant = in_a.tenant_a
    office = BusinessSchedule.objects.create(name="Oficina", time_zone="America/Santiago")
    for weekday in range(5):
        BusinessInterval.objects.create(
            schedule=office, weekday=weekday, start=datetime.time(9), end=datetime.time(18)
        )
    Holiday.objects.create(schedule=office, date=MON, name="Feriado")
    mail = ChannelAccountFactory(
        tenant=tenant, kind="email", name="Correo Ñandú", schedule=office, sla_minutes=60
    )
    chat = ChannelAccountFactory(tenant=tenant, kind="webchat", name="Chat Ñandú", sla_minutes=60)
    ana = UserFactory(tenant=tenant, role=Role.AGENT, name="Ana Ñandú", email="ana@a.test")
    beto = UserFactory(tenant=tenant, role=Role.AGENT, name="Beto Ñandú", email="beto@a.test")
    MetadataField.objects.create(
        target=MetadataField.Target.TICKET,
        key="motivo",
        label="Motivo",
        field_type=FieldType.CHOICE,
        choices=["Reclamo", "Consulta"],
    )

    def travel(moment: datetime.datetime):
        return time_machine.travel(moment, tick=False)

    with travel(at(FRI, 17, 30)):
        t1 = receive(mail, identity="uno@example.test").message.ticket
    with travel(at(TUE, 9, 45)):
        answer(t1, ana, "Hola")
    with travel(at(TUE, 9, 50)):
        services.ticket_assign(ticket=t1, assignee=ana, actor=ana)
    with travel(at(TUE, 10)):
        t2 = receive(chat, identity="dos").message.ticket
    with travel(at(TUE, 10, 10)):
        answer(t2, ana, "Hola")
    with travel(at(TUE, 10, 20)):
        services.ticket_assign(ticket=t2, assignee=beto, actor=ana)
        services.ticket_set_metadata(ticket=t2, actor=beto, values={"motivo": "Reclamo"})
    with travel(at(TUE, 11)):
        services.ticket_close(ticket=t2, actor=beto)
    with travel(at(TUE, 12)):
        t3 = receive(chat, identity="tres").message.ticket
    with travel(at(TUE, 13)):
        services.ticket_close(ticket=t3, actor=ana)
    with travel(at(TUE, 14)):
        t4 = receive(chat, identity="cuatro").message.ticket
        services.ticket_set_sentiment(ticket=t4, actor=ana, sentiment="angry")
    with travel(at(WED, 12)):
        rollup_refresh(tenant_id=tenant.pk)
    return {"mail": mail, "chat": chat, "ana": ana, "beto": beto, "tickets": (t1, t2, t3, t4)}
