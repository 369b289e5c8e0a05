"""Merging: the source's conversation shows inside the target; the source is closed with a link."""

from __future__ import annotations

import pytest

from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import answer, events, fresh, receive
from tickets import queries, services
from tickets.models import ActorKind, EventKind, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_tickets(account, in_a):
    """One customer, two open tickets on two mailboxes."""
    other = ChannelAccountFactory(tenant=in_a.tenant_a, name="Ventas")
    target = receive(account, text="Primero por soporte").message.ticket
    source = receive(other, text="Luego por ventas").message.ticket
    assert source.customer_id == target.customer_id and source.pk != target.pk
    return source, target


def test_merge_shows_the_source_messages_in_the_target_thread(two_tickets, in_a):
    source, target = two_tickets
    answer(target, in_a.agent, text="Respuesta en soporte")

    services.ticket_merge(source=source, target=target, actor=in_a.agent)

    thread, more = queries.thread(fresh(target))
    assert [m.text for m in thread] == [
        "Primero por soporte",
        "Luego por ventas",
        "Respuesta en soporte",
    ]
    assert more is False
    assert {m.ticket_id for m in thread} == {source.pk, target.pk}


def test_an_unanswered_source_is_ignored_and_linked(two_tickets, in_a):
    source, target = two_tickets

    result = services.ticket_merge(source=source, target=target, actor=in_a.agent)

    assert result.pk == target.pk
    source = fresh(source)
    assert source.merged_into_id == target.pk
    assert source.status == TicketStatus.IGNORED
    assert source.closed_at is not None
    assert source.awaiting_response is False
    assert source.waiting_since is None and source.sla_due_at is None
    target = fresh(target)
    assert target.status == TicketStatus.OPEN
    assert target.awaiting_response is True


def test_an_answered_source_is_closed(two_tickets, in_a):
    source, target = two_tickets
    answer(source, in_a.agent, text="Hola")
    services.ticket_merge(source=source, target=target, actor=in_a.agent)
    assert fresh(source).status == TicketStatus.CLOSED


def test_merge_writes_history_on_both_tickets(two_tickets, in_a):
    source, target = two_tickets
    services.ticket_merge(source=source, target=target, actor=in_a.agent)

    (on_source,) = events(source, EventKind.MERGED)
    (on_target,) = events(target, EventKind.MERGED)
    assert (on_source.actor, on_source.actor_kind) == (in_a.agent, ActorKind.USER)
    assert on_source.data == {"into": target.number}
    assert on_target.data == {"source": source.number}


def test_comments_follow_the_merge(two_tickets, in_a):
    source, target = two_tickets
    services.comment_add(ticket=source, author=in_a.agent, text="nota en el origen")
    services.ticket_merge(source=source, target=target, actor=in_a.agent)
    assert fresh(target).has_comments is True
    assert [c.text for c in queries.comments(target)] == ["nota en el origen"]


def test_tickets_merged_into_the_source_follow_it_into_the_target(account, in_a):
    accounts = [account, *(ChannelAccountFactory(tenant=in_a.tenant_a) for _ in range(2))]
    first, second, third = (
        receive(acc, text=f"mensaje {i}").message.ticket for i, acc in enumerate(accounts)
    )
    services.ticket_merge(source=first, target=second, actor=in_a.agent)
    services.ticket_merge(source=second, target=third, actor=in_a.agent)

    assert fresh(first).merged_into_id == third.pk
    assert fresh(second).merged_into_id == third.pk
    thread, _more = queries.thread(fresh(third))
    assert [m.text for m in thread] == ["mensaje 0", "mensaje 1", "mensaje 2"]


def test_merge_is_refused_for_the_same_ticket(two_tickets, in_a):
    _source, target = two_tickets
    with pytest.raises(services.ActionRefused, match="consigo mismo"):
        services.ticket_merge(source=target, target=target, actor=in_a.agent)
    assert fresh(target).merged_into_id is None
    assert not events(target, EventKind.MERGED)


def test_merge_is_refused_for_different_customers(account, in_a):
    mine = receive(account, identity="ana@example.test").message.ticket
    theirs = receive(account, identity="beto@example.test").message.ticket
    with pytest.raises(services.ActionRefused, match="mismo cliente"):
        services.ticket_merge(source=theirs, target=mine, actor=in_a.agent)
    assert fresh(theirs).merged_into_id is None
    assert fresh(theirs).status == TicketStatus.OPEN
    assert not events(mine, EventKind.MERGED) and not events(theirs, EventKind.MERGED)


def test_a_merged_ticket_cannot_be_merged_again_answered_or_reopened(two_tickets, account, in_a):
    source, target = two_tickets
    services.ticket_merge(source=source, target=target, actor=in_a.agent)
    with pytest.raises(services.ActionRefused, match="ya está fusionado"):
        services.ticket_merge(source=source, target=target, actor=in_a.agent)
    with pytest.raises(services.ActionRefused, match="fusionó"):
        answer(source, in_a.agent, text="Hola")
    with pytest.raises(services.ActionRefused, match="fusionado"):
        services.ticket_reopen(ticket=source, actor=in_a.agent)


def test_replying_to_a_message_of_a_merged_ticket_from_the_target_is_allowed(two_tickets, in_a):
    source, target = two_tickets
    services.ticket_merge(source=source, target=target, actor=in_a.agent)
    source_message = source.messages.get()
    reply = services.message_send(
        ticket=target, author=in_a.agent, text="Respondo", reply_to=source_message
    )
    assert reply.reply_to == source_message
    assert reply.ticket_id == target.pk


def test_a_waiting_source_brings_its_sla_clock_to_an_answered_target(account, in_a):
    target = receive(account, text="Primero por soporte").message.ticket
    answer(target, in_a.agent, text="Respondido en soporte")
    other = ChannelAccountFactory(tenant=in_a.tenant_a, name="Ventas")
    source = receive(other, text="Y ahora escribo a ventas").message.ticket
    waiting = fresh(source)
    clock = (waiting.waiting_since, waiting.sla_due_at, waiting.sla_risk_at)
    assert fresh(target).waiting_since is None and clock[0] is not None

    services.ticket_merge(source=source, target=target, actor=in_a.agent)

    target, source = fresh(target), fresh(source)
    assert target.awaiting_response
    assert (target.waiting_since, target.sla_due_at, target.sla_risk_at) == clock
    assert source.waiting_since is None and not source.sla_breached
