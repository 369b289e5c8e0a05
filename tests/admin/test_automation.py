"""Automatic actions: the welcome reply, the closing and ignoring sweeps (with time travel,
catch-up and no double action), the reopen window, and the page that configures them."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.models import AccountAutomation, ConfigChange, TenantSettings
from helpdesk.celery import app
from helpdesk.models import User
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import Cast, client_for
from tests.tickets.factories import BotUserFactory, ChannelAccountFactory, MetadataFieldFactory
from tests.tickets.helpers import events, fresh, receive
from tickets import services
from tickets.models import (
    ActorKind,
    AuthorKind,
    Customer,
    EventKind,
    Message,
    Ticket,
    TicketStatus,
)
from workflow import automation
from workflow.tasks import auto_actions_all

pytestmark = pytest.mark.django_db


def new_account(**fields: object) -> ChannelAccount:
    """A channel account row (typed: the factory is not)."""
    return cast(ChannelAccount, ChannelAccountFactory(**fields))


START = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def bot(cast: Cast) -> User:
    with bypass_context():
        return BotUserFactory(tenant=cast.tenant_a)


@pytest.fixture
def in_a(cast: Cast, bot: User) -> Iterator[Cast]:
    with tenant_context(cast.tenant_a.pk):
        yield cast


@pytest.fixture
def account(in_a: Cast) -> ChannelAccount:
    return new_account(tenant=in_a.tenant_a, name="Soporte")


def configure(account: ChannelAccount, **values: object) -> AccountAutomation:
    auto, _ = AccountAutomation.objects.update_or_create(
        account=account, defaults={"tenant_id": account.tenant_id, **values}
    )
    return auto


def bot_texts(ticket: Ticket) -> list[str]:
    return list(
        Message.objects.filter(ticket=ticket, author_kind=AuthorKind.BOT)
        .order_by("id")
        .values_list("text", flat=True)
    )


def answered(account: ChannelAccount, agent: User, identity: str = "ana@example.test") -> Ticket:
    """A ticket the agent answered (addressed, the customer's turn)."""
    ticket = receive(account, identity=identity, customer_name="Ana").message.ticket
    services.message_send(ticket=ticket, author=agent, text="¿Le ayudo en algo más?")
    return fresh(ticket)


# --- welcome -------------------------------------------------------------------------------


def test_the_welcome_goes_once_when_a_ticket_opens(account, in_a):
    configure(account, welcome_enabled=True, welcome_text="Hola {cliente}, tu caso es {ticket}.")
    first = receive(account, customer_name="Ana", text="Hola").message.ticket
    receive(account, text="¿Siguen ahí?")
    assert bot_texts(first) == [f"Hola Ana, tu caso es #{first.number}."]
    out = events(first, EventKind.MESSAGE_OUT)
    assert len(out) == 1 and out[0].actor_kind == ActorKind.BOT
    assert fresh(first).awaiting_response and not first.addressed  # the bot is no answer


def test_no_welcome_to_automatic_mail_nor_when_turned_off(account, in_a):
    configure(account, welcome_enabled=True, welcome_text="Hola")
    robot = receive(account, identity="noreply@shop.test", auto_submitted=True).message.ticket
    assert bot_texts(robot) == []
    configure(account, welcome_enabled=False, welcome_text="Hola")
    assert bot_texts(receive(account, identity="b@example.test").message.ticket) == []


def test_no_welcome_for_a_customer_with_the_bot_disabled(account, in_a):
    configure(account, welcome_enabled=True, welcome_text="Hola")
    first = receive(account).message.ticket
    services.ticket_close(ticket=first, actor=in_a.agent)
    Customer.objects.filter(pk=first.customer_id).update(bot_disabled=True)
    second = receive(account, text="Otra cosa").message.ticket
    assert second.pk != first.pk and bot_texts(second) == []


# --- closing -------------------------------------------------------------------------------


def test_addressed_tickets_close_after_n_hours_with_the_closing_message(account, in_a):
    configure(account, close_after_hours=24, close_message="Cerramos tu caso {ticket}.")
    with time_machine.travel(START, tick=False):
        ticket = answered(account, in_a.agent)
        waiting = receive(account, identity="pepe@example.test").message.ticket  # not addressed
    with time_machine.travel(START + datetime.timedelta(hours=23, minutes=59), tick=False):
        assert automation.close_idle_tickets().done == 0
    with time_machine.travel(START + datetime.timedelta(hours=24, minutes=1), tick=False):
        assert automation.close_idle_tickets().done == 1
    ticket = fresh(ticket)
    assert ticket.status == TicketStatus.CLOSED
    assert bot_texts(ticket) == [f"Cerramos tu caso #{ticket.number}."]
    status = events(ticket, EventKind.STATUS)[-1]
    assert status.actor_kind == ActorKind.BOT and status.data["after"] == TicketStatus.CLOSED
    closing = Message.objects.get(ticket=ticket, author_kind=AuthorKind.BOT)
    assert closing.created_at <= ticket.closed_at  # the message goes before the close
    assert fresh(waiting).status == TicketStatus.OPEN


def test_a_customer_reply_restarts_the_wait(account, in_a):
    configure(account, close_after_hours=2)
    with time_machine.travel(START, tick=False):
        ticket = answered(account, in_a.agent)
    with time_machine.travel(START + datetime.timedelta(hours=1), tick=False):
        receive(account, text="Una duda más")  # now the agent's turn
    with time_machine.travel(START + datetime.timedelta(days=3), tick=False):
        assert automation.close_idle_tickets().done == 0
        assert fresh(ticket).status == TicketStatus.OPEN


def test_a_ticket_an_agent_reopens_is_not_closed_again_at_once(account, in_a):
    configure(account, close_after_hours=2)
    with time_machine.travel(START, tick=False):
        ticket = answered(account, in_a.agent)
    with time_machine.travel(START + datetime.timedelta(hours=3), tick=False):
        assert automation.close_idle_tickets().done == 1
    with time_machine.travel(START + datetime.timedelta(hours=30), tick=False):
        services.ticket_reopen(ticket=ticket, actor=in_a.agent)
    with time_machine.travel(START + datetime.timedelta(hours=31), tick=False):
        assert automation.close_idle_tickets().done == 0
    with time_machine.travel(START + datetime.timedelta(hours=32, minutes=1), tick=False):
        assert automation.close_idle_tickets().done == 1
    assert len(events(ticket, EventKind.STATUS)) == 3  # closed, reopened, closed


def test_missing_required_typification_leaves_the_ticket_open_and_says_so_once(account, in_a):
    MetadataFieldFactory(tenant=in_a.tenant_a, key="motivo", label="Motivo", required=True)
    configure(account, close_after_hours=1, close_message="Adiós")
    with time_machine.travel(START, tick=False):
        ticket = answered(account, in_a.agent)
    with time_machine.travel(START + datetime.timedelta(hours=2), tick=False):
        first = automation.close_idle_tickets()
        second = automation.close_idle_tickets()
    assert (first.blocked, second.blocked, first.done) == (1, 0, 0)
    assert fresh(ticket).status == TicketStatus.OPEN and bot_texts(ticket) == []
    notes = [e for e in events(ticket, EventKind.BOT) if e.data.get("auto")]
    assert len(notes) == 1 and notes[0].data["missing"] == ["Motivo"]
    page = client_for(in_a.agent).get(f"/tickets/{ticket.number}/?tab=historial")
    assert "falta tipificación (Motivo)" in page.content.decode()
    with time_machine.travel(START + datetime.timedelta(hours=3), tick=False):
        services.ticket_set_metadata(ticket=ticket, actor=in_a.agent, values={"motivo": "Envío"})
    with time_machine.travel(START + datetime.timedelta(hours=3, minutes=59), tick=False):
        assert automation.close_idle_tickets().done == 0  # an hour since the change, not yet
    with time_machine.travel(START + datetime.timedelta(hours=4, minutes=1), tick=False):
        assert automation.close_idle_tickets().done == 1
    assert fresh(ticket).status == TicketStatus.CLOSED and bot_texts(ticket) == ["Adiós"]


# --- ignoring ------------------------------------------------------------------------------


def test_unaddressed_tickets_are_ignored_after_n_hours_of_silence(account, in_a):
    configure(account, ignore_after_hours=48)
    with time_machine.travel(START, tick=False):
        silent = receive(account, identity="a@example.test").message.ticket
        chatty = receive(account, identity="b@example.test").message.ticket
        addressed = answered(account, in_a.agent, identity="c@example.test")
    with time_machine.travel(START + datetime.timedelta(hours=40), tick=False):
        receive(account, identity="b@example.test", text="¿Hola?")
    with time_machine.travel(START + datetime.timedelta(hours=49), tick=False):
        assert automation.ignore_idle_tickets().done == 1
    assert fresh(silent).status == TicketStatus.IGNORED
    status = events(silent, EventKind.STATUS)[-1]
    assert status.actor_kind == ActorKind.BOT and status.actor is not None and status.actor.is_bot
    assert fresh(chatty).status == TicketStatus.OPEN  # wrote 9 hours ago
    assert fresh(addressed).status == TicketStatus.OPEN  # answered: closing, not ignoring
    assert bot_texts(silent) == []


def test_a_run_after_days_of_downtime_catches_up_in_batches(account, in_a):
    configure(account, close_after_hours=1, ignore_after_hours=1)
    with time_machine.travel(START, tick=False):
        closing = [answered(account, in_a.agent, identity=f"c{i}@example.test") for i in range(3)]
        ignoring = [
            receive(account, identity=f"i{i}@example.test").message.ticket for i in range(3)
        ]
    with time_machine.travel(START + datetime.timedelta(days=9), tick=False):
        first = automation.close_idle_tickets(batch=2)
        assert (first.done, first.more) == (2, True)
        assert automation.close_idle_tickets(batch=2).done == 1
        assert automation.ignore_idle_tickets().done == 3
    assert {fresh(t).status for t in closing} == {TicketStatus.CLOSED}
    assert {fresh(t).status for t in ignoring} == {TicketStatus.IGNORED}


def test_running_twice_acts_once(account, in_a):
    configure(account, close_after_hours=1, close_message="Cerrado", ignore_after_hours=1)
    with time_machine.travel(START, tick=False):
        closed = answered(account, in_a.agent)
        ignored = receive(account, identity="x@example.test").message.ticket
    with time_machine.travel(START + datetime.timedelta(hours=2), tick=False):
        assert automation.close_idle_tickets().done == 1
        assert automation.close_idle_tickets().done == 0
        assert automation.ignore_idle_tickets().done == 1
        assert automation.ignore_idle_tickets().done == 0
    assert bot_texts(closed) == ["Cerrado"]
    assert len(events(closed, EventKind.STATUS)) == 1
    assert len(events(ignored, EventKind.STATUS)) == 1


def test_the_beat_fans_out_to_the_tenants_that_use_it(account, in_a):
    configure(account, close_after_hours=1)
    with bypass_context():
        other = new_account(tenant=in_a.tenant_b)
        BotUserFactory(tenant=in_a.tenant_b)
    with tenant_context(in_a.tenant_b.pk), time_machine.travel(START, tick=False):
        theirs = answered(other, in_a.outsider, identity="b@example.test")
    with time_machine.travel(START, tick=False):
        mine = answered(account, in_a.agent)
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with time_machine.travel(START + datetime.timedelta(hours=5), tick=False):
            auto_actions_all.delay()
    finally:
        app.conf.task_always_eager = before
    assert fresh(mine).status == TicketStatus.CLOSED
    with bypass_context():
        assert Ticket.all_tenants.get(pk=theirs.pk).status == TicketStatus.OPEN  # not configured


def test_the_sweeps_read_tickets_through_indexes(account, in_a):
    """The ignore sweep rides the ``ticket_waiting`` partial index; the close sweep has an
    index too (see the report for the plans on a large tenant)."""
    auto = configure(account, close_after_hours=1, ignore_after_hours=1)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test's own transaction
    now = timezone.now()
    assert "ticket_waiting" in automation.ignore_candidates(auto, now).explain()
    assert "Seq Scan on tickets_ticket" not in automation.close_candidates(auto, now).explain()


# --- the reopen window ---------------------------------------------------------------------


def test_within_the_reopen_window_the_customer_reopens_the_closed_ticket(account, in_a):
    TenantSettings.objects.create(tenant_id=in_a.tenant_a.pk, reopen_window_hours=12)
    configure(account, close_after_hours=1)
    with time_machine.travel(START, tick=False):
        ticket = answered(account, in_a.agent)
    with time_machine.travel(START + datetime.timedelta(hours=2), tick=False):
        automation.close_idle_tickets()
    with time_machine.travel(START + datetime.timedelta(hours=10), tick=False):
        again = receive(account, text="Sigue sin llegar").message.ticket
    assert again.pk == ticket.pk and fresh(ticket).status == TicketStatus.OPEN
    with time_machine.travel(START + datetime.timedelta(hours=12), tick=False):
        services.message_send(ticket=ticket, author=in_a.agent, text="Revisamos")
    with time_machine.travel(START + datetime.timedelta(hours=14), tick=False):
        automation.close_idle_tickets()
    with time_machine.travel(START + datetime.timedelta(hours=40), tick=False):
        later = receive(account, text="Hola de nuevo").message.ticket
    assert later.pk != ticket.pk and later.previous_ticket_id == ticket.pk


# --- concurrency ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_overlapping_runs_close_each_ticket_once(account, in_a):
    configure(account, close_after_hours=1, close_message="Cerrado")
    with time_machine.travel(START, tick=False):
        tickets = [answered(account, in_a.agent, identity=f"p{i}@example.test") for i in range(6)]
    tenant_id = in_a.tenant_a.pk
    barrier = threading.Barrier(3)

    def run() -> int:
        try:
            with tenant_context(tenant_id):
                barrier.wait(timeout=10)
                return automation.close_idle_tickets(now=START + datetime.timedelta(hours=3)).done
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        done = [f.result(timeout=60) for f in [pool.submit(run) for _ in range(3)]]
    assert sum(done) == 6
    for ticket in tickets:
        assert fresh(ticket).status == TicketStatus.CLOSED
        assert bot_texts(ticket) == ["Cerrado"]
        assert len(events(ticket, EventKind.STATUS)) == 1


# --- the page ------------------------------------------------------------------------------


def test_the_page_lists_this_tenants_accounts_and_the_reopen_window(account, in_a):
    configure(account, welcome_enabled=True, welcome_text="Hola", close_after_hours=24)
    with bypass_context():
        new_account(tenant=in_a.tenant_b, name="Cuenta ajena")
    page = client_for(in_a.admin).get("/admin/auto-actions/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Soporte" in body and "Cuenta ajena" not in body
    assert "Bienvenida" in body and "Cierra tras 24 horas" in body
    assert 'name="reopen_window_hours"' in body
    assert client_for(in_a.agent).get("/admin/auto-actions/").status_code == 403


def test_saving_the_reopen_window_is_audited_and_validated(in_a):
    admin = client_for(in_a.admin)
    bad = admin.post("/admin/auto-actions/", {"reopen_window_hours": "800"})
    assert "entre 0 y 720" in bad.content.decode()
    assert admin.post("/admin/auto-actions/", {"reopen_window_hours": "6"}).status_code == 302
    assert TenantSettings.objects.get().reopen_window_hours == 6
    change = ConfigChange.objects.get(section="auto-actions")
    assert change.after == {"reopen_window_hours": 6, "sla_risk_percent": 75}
    admin.post("/admin/auto-actions/", {"reopen_window_hours": "0"})
    update = ConfigChange.objects.filter(section="auto-actions").first()
    assert update is not None and update.before == {"reopen_window_hours": 6}


def test_editing_an_accounts_actions_is_audited(account, in_a):
    admin = client_for(in_a.admin)
    url = f"/admin/auto-actions/{account.pk}/"
    assert "Texto de bienvenida" in admin.get(url).content.decode()
    response = admin.post(
        url,
        {
            "welcome_enabled": "on",
            "welcome_text": " Hola {cliente} ",
            "close_after_hours": "24",
            "close_message": "Chao",
            "ignore_after_hours": "",
        },
    )
    assert response.status_code == 302
    auto = AccountAutomation.objects.get(account=account)
    assert (auto.welcome_text, auto.close_after_hours, auto.ignore_after_hours) == (
        "Hola {cliente}",
        24,
        None,
    )
    created = ConfigChange.objects.get(section="auto-actions")
    assert created.action == ConfigChange.Action.CREATE
    assert created.after["account"] == "Soporte" and created.after["close_after_hours"] == 24
    admin.post(url, {"welcome_enabled": "on", "welcome_text": "Hola", "close_after_hours": "48"})
    update = ConfigChange.objects.filter(section="auto-actions").first()
    assert update is not None and update.action == ConfigChange.Action.UPDATE
    assert update.before["close_after_hours"] == 24 and update.after["close_after_hours"] == 48
    assert "account" not in update.after


def test_the_account_form_explains_what_is_wrong(account, in_a):
    admin = client_for(in_a.admin)
    response = admin.post(
        f"/admin/auto-actions/{account.pk}/",
        {
            "welcome_enabled": "on",
            "welcome_text": "  ",
            "out_of_hours_enabled": "on",
            "close_after_hours": "0",
            "ignore_after_hours": "721",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("Escribe el texto: la respuesta está activada.") == 2
    assert body.count("Indica un número de horas entre 1 y 720.") == 2
    message_only = admin.post(f"/admin/auto-actions/{account.pk}/", {"close_message": "Chao"})
    assert "Indica tras cuántas horas cerrar" in message_only.content.decode()
    assert not AccountAutomation.objects.exists() and not ConfigChange.objects.exists()


def test_another_tenants_account_is_not_found(in_a):
    with bypass_context():
        theirs = new_account(tenant=in_a.tenant_b)
    admin = client_for(in_a.admin)
    assert admin.get(f"/admin/auto-actions/{theirs.pk}/").status_code == 404
    assert admin.post(f"/admin/auto-actions/{theirs.pk}/", {}).status_code == 404
    with bypass_context():
        assert not AccountAutomation.all_tenants.exists()
