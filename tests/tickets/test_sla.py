"""The SLA clock: started by the customer, stopped only by a human, flagged once when late."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import answer, events, fresh, receive
from tickets import services
from tickets.models import ActorKind, EventKind
from tickets.sla import flag_breaches, sla_state
from tickets.tasks import flag_sla_breaches

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2025, 6, 2, 14, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def account(in_a):
    return ChannelAccountFactory(tenant=in_a.tenant_a, sla_minutes=30)


@pytest.fixture
def waiting(account):
    with time_machine.travel(T0, tick=False):
        return receive(account, text="¿Hay alguien?").message.ticket


def test_a_customer_message_starts_the_clock_with_the_account_sla(waiting):
    assert waiting.waiting_since == T0
    assert waiting.sla_due_at == T0 + 30 * MINUTE
    assert waiting.sla_breached is False
    assert fresh(waiting).sla_due_at == T0 + 30 * MINUTE


def test_more_customer_messages_do_not_restart_the_clock(waiting, account):
    with time_machine.travel(T0 + 10 * MINUTE, tick=False):
        receive(account, text="¿Hola?")
    waiting = fresh(waiting)
    assert waiting.waiting_since == T0
    assert waiting.sla_due_at == T0 + 30 * MINUTE


def test_a_bot_message_does_not_stop_the_clock(waiting, bot):
    with time_machine.travel(T0 + 5 * MINUTE, tick=False):
        reply = services.message_send(ticket=waiting, author=bot, text="Hola, soy el bot")

    assert reply.author_kind == "bot"
    (out,) = events(waiting, EventKind.MESSAGE_OUT)
    assert (out.actor, out.actor_kind) == (bot, ActorKind.BOT)
    waiting = fresh(waiting)
    assert waiting.waiting_since == T0
    assert waiting.sla_due_at == T0 + 30 * MINUTE
    assert waiting.awaiting_response is True
    assert waiting.addressed is False
    assert waiting.first_response_at is None
    assert waiting.last_agent_message_at == T0 + 5 * MINUTE
    assert not events(waiting, EventKind.SLA)


def test_the_first_human_answer_records_the_sla_and_clears_the_clock(waiting, bot, in_a):
    with time_machine.travel(T0 + 5 * MINUTE, tick=False):
        services.message_send(ticket=waiting, author=bot, text="Hola, soy el bot")
    with time_machine.travel(T0 + 12 * MINUTE, tick=False):
        answer(waiting, in_a.agent, text="Hola, soy Ana")

    (sla,) = events(waiting, EventKind.SLA)
    assert (sla.actor, sla.actor_kind) == (in_a.agent, ActorKind.USER)
    assert sla.data == {"response_seconds": 720, "late": False}
    waiting = fresh(waiting)
    assert waiting.waiting_since is None and waiting.sla_due_at is None
    assert waiting.first_response_at == T0 + 12 * MINUTE
    assert waiting.addressed is True
    assert waiting.awaiting_response is False


def test_the_next_customer_message_starts_a_new_clock(waiting, account, in_a):
    with time_machine.travel(T0 + 1 * MINUTE, tick=False):
        answer(waiting, in_a.agent, text="Hola")
    with time_machine.travel(T0 + 60 * MINUTE, tick=False):
        receive(account, text="Otra pregunta")
    waiting = fresh(waiting)
    assert waiting.waiting_since == T0 + 60 * MINUTE
    assert waiting.sla_due_at == T0 + 90 * MINUTE
    assert waiting.first_response_at == T0 + 1 * MINUTE


def test_flag_breaches_flags_a_late_ticket_once_with_an_event(waiting, account):
    with time_machine.travel(T0 + 29 * MINUTE, tick=False):
        assert flag_breaches() == 0
        assert sla_state(fresh(waiting)) == "risk"

    with time_machine.travel(T0 + 31 * MINUTE, tick=False):
        assert flag_breaches() == 1
        assert flag_breaches() == 0

    waiting = fresh(waiting)
    assert waiting.sla_breached is True
    assert sla_state(waiting) == "breached"
    (event,) = events(waiting, EventKind.SLA)
    assert event.actor_kind == ActorKind.SYSTEM and event.actor is None
    assert event.data == {"breached": True, "due": (T0 + 30 * MINUTE).isoformat()}

    # A new customer message on the breached ticket does not unflag or re-flag it.
    with time_machine.travel(T0 + 40 * MINUTE, tick=False):
        receive(account, text="¿Y?")
        assert flag_breaches() == 0
    assert fresh(waiting).sla_breached is True


def test_the_late_answer_after_a_breach_is_late_and_clears_the_flag(waiting, in_a):
    with time_machine.travel(T0 + 31 * MINUTE, tick=False):
        flag_breaches()
    with time_machine.travel(T0 + 45 * MINUTE, tick=False):
        answer(waiting, in_a.agent, text="Perdón")
    _breach, sla_answer = events(waiting, EventKind.SLA)
    assert sla_answer.data == {"response_seconds": 45 * 60, "late": True}
    assert fresh(waiting).sla_breached is False


def test_answered_closed_and_other_tenants_tickets_are_not_flagged(waiting, account, in_a, cast):
    with time_machine.travel(T0, tick=False):
        answered = receive(account, identity="b@example.test").message.ticket
        answer(answered, in_a.agent, text="Hola")
        closed = receive(account, identity="c@example.test").message.ticket
        services.ticket_close(ticket=closed, actor=in_a.agent)

    with time_machine.travel(T0 + 2 * datetime.timedelta(hours=1), tick=False):
        # As tenant B first: nothing of A is visible, nothing is flagged.
        assert flag_sla_breaches.apply(args=[cast.tenant_b.pk]).get() == 0
        assert flag_sla_breaches.apply(args=[cast.tenant_a.pk]).get() == 1

    assert fresh(waiting).sla_breached is True
    assert fresh(answered).sla_breached is False
    assert fresh(closed).sla_breached is False
