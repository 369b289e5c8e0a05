"""Receiving: which ticket a message joins, idempotency on the provider id, inbound content."""

from __future__ import annotations

import datetime
import hashlib

import pytest
import time_machine

from deskconfig.kinds import ChannelKind
from deskconfig.models import TenantSettings
from tests.tickets.factories import ChannelAccountFactory, TenantSettingsFactory
from tests.tickets.helpers import answer, events, fresh, receive
from tickets import services
from tickets.models import Customer, EventKind, Message, Ticket, TicketStatus

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2025, 5, 5, 9, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


# --- which ticket ---------------------------------------------------------------------------


def test_writing_after_a_close_opens_a_new_ticket_linked_to_the_previous(account, in_a):
    first = receive(account, text="Hola").message.ticket
    answer(first, in_a.agent, text="Listo")
    services.ticket_close(ticket=first, actor=in_a.agent)

    received = receive(account, text="Otra consulta")

    second = received.message.ticket
    assert second.pk != first.pk
    assert second.number == first.number + 1
    assert second.previous_ticket == first
    assert second.status == TicketStatus.OPEN
    assert fresh(first).status == TicketStatus.CLOSED
    assert [e.kind for e in events(second)] == [EventKind.CREATED, EventKind.MESSAGE_IN]


def test_writing_after_an_ignore_opens_a_new_ticket_linked_to_the_previous(account, in_a):
    first = receive(account, text="Hola").message.ticket
    assert services.ticket_close(ticket=first, actor=in_a.agent).status == TicketStatus.IGNORED

    second = receive(account, text="¿Hola?").message.ticket

    assert second.pk != first.pk
    assert second.previous_ticket == first
    assert fresh(first).status == TicketStatus.IGNORED


def test_a_customer_on_another_account_gets_a_separate_ticket(account, in_a):
    first = receive(account).message.ticket
    other = ChannelAccountFactory(tenant=in_a.tenant_a)
    second = receive(other).message.ticket
    assert second.pk != first.pk
    assert second.customer_id == first.customer_id
    assert fresh(first).status == TicketStatus.OPEN


@pytest.fixture
def reopen_window(in_a):
    return TenantSettingsFactory(tenant=in_a.tenant_a, reopen_window_hours=24)


def test_within_the_reopen_window_the_closed_ticket_is_reopened(account, in_a, reopen_window):
    with time_machine.travel(T0, tick=False):
        ticket = receive(account, text="Hola").message.ticket
        answer(ticket, in_a.agent, text="Resuelto")
        services.ticket_close(ticket=ticket, actor=in_a.agent)

    with time_machine.travel(T0 + 23 * HOUR, tick=False):
        received = receive(account, text="No, sigue fallando")

    assert received.created is True
    assert received.message.ticket_id == ticket.pk
    ticket = fresh(ticket)
    assert ticket.status == TicketStatus.OPEN
    assert ticket.closed_at is None
    assert ticket.waiting_since == T0 + 23 * HOUR
    assert Ticket.objects.count() == 1
    *_, reopened = events(ticket, EventKind.STATUS)
    assert reopened.actor_kind == "system"
    assert reopened.data == {
        "before": TicketStatus.CLOSED,
        "after": TicketStatus.OPEN,
        "reopened": True,
    }


def test_an_ignored_ticket_is_reopened_within_the_window_too(account, in_a, reopen_window):
    with time_machine.travel(T0, tick=False):
        ticket = receive(account).message.ticket
        services.ticket_close(ticket=ticket, actor=in_a.agent)
    with time_machine.travel(T0 + 2 * HOUR, tick=False):
        assert receive(account, text="¿?").message.ticket_id == ticket.pk


def test_after_the_reopen_window_a_new_ticket_is_opened(account, in_a, reopen_window):
    with time_machine.travel(T0, tick=False):
        ticket = receive(account, text="Hola").message.ticket
        services.ticket_close(ticket=ticket, actor=in_a.agent)

    with time_machine.travel(T0 + 25 * HOUR, tick=False):
        new = receive(account, text="Hola de nuevo").message.ticket

    assert new.pk != ticket.pk
    assert new.previous_ticket == ticket
    assert fresh(ticket).status == TicketStatus.IGNORED


def test_the_reopen_window_does_not_reopen_a_merged_ticket(account, in_a, reopen_window):
    other = ChannelAccountFactory(tenant=in_a.tenant_a)
    target = receive(other, text="En ventas").message.ticket
    source = receive(account, text="En soporte").message.ticket
    services.ticket_merge(source=source, target=target, actor=in_a.agent)

    new = receive(account, text="Otra vez en soporte").message.ticket

    assert new.pk not in (source.pk, target.pk)
    assert fresh(source).status == TicketStatus.IGNORED


def test_the_window_is_a_tenant_setting(account, in_a):
    assert not TenantSettings.objects.exists()
    ticket = receive(account).message.ticket
    services.ticket_close(ticket=ticket, actor=in_a.agent)
    assert receive(account).message.ticket_id != ticket.pk


# --- idempotency ----------------------------------------------------------------------------


def test_the_same_provider_id_twice_stores_one_message(account):
    first = receive(account, text="Hola", provider_id="<abc@mail>")
    second = receive(account, text="Hola", provider_id="<abc@mail>")

    assert (first.created, second.created) == (True, False)
    assert second.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert len(events(first.message.ticket, EventKind.MESSAGE_IN)) == 1


def test_the_same_provider_id_on_another_account_is_another_message(account, in_a):
    other = ChannelAccountFactory(tenant=in_a.tenant_a)
    receive(account, provider_id="m-1")
    assert receive(other, provider_id="m-1").created is True
    assert Message.objects.count() == 2


@pytest.mark.parametrize("provider_id", [None, ""])
def test_messages_without_provider_id_are_never_deduplicated(account, provider_id):
    first = receive(account, text="Hola", provider_id=provider_id)
    second = receive(account, text="Hola", provider_id=provider_id)
    assert first.created and second.created
    assert Message.objects.count() == 2
    assert list(Message.objects.values_list("provider_id", flat=True)) == [None, None]


# --- content --------------------------------------------------------------------------------


def test_inbound_html_is_sanitized_on_the_way_in(account):
    message = receive(
        account, text="hola", html='<p onclick="x()">hola<script>alert(1)</script></p>'
    ).message
    assert fresh(message).html == "<p>hola</p>"


def test_a_reply_to_a_known_provider_id_is_linked(account):
    original = receive(account, text="Publicación", provider_id="post-1", is_public=True).message
    reply = receive(account, text="Respuesta", provider_id="c-2", reply_to_provider_id="post-1")
    assert reply.message.reply_to == original


def test_inbound_attachments_are_stored_with_their_digest(account):
    content = b"%PDF-1.4 boleta"
    message = receive(
        account,
        text="",
        attachments=[
            services.IncomingFile("../../boleta.pdf", content, "application/pdf", "cid-1"),
        ],
    ).message
    (attachment,) = message.attachments.all()
    assert attachment.name == "boleta.pdf"
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.content_id == "cid-1"
    # Without text the ticket's preview is the file's name.
    assert message.ticket.last_message_preview == "boleta.pdf"


def test_the_customer_is_known_by_the_normalized_identity(in_a):
    whatsapp = ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.WHATSAPP)
    first = receive(whatsapp, identity="+56 9 1234 5678", customer_name="Ana").message
    second = receive(whatsapp, identity="56912345678").message
    assert first.ticket_id == second.ticket_id
    assert Customer.objects.get().name == "Ana"


def test_a_message_without_an_identity_is_refused(account):
    with pytest.raises(services.ActionRefused):
        receive(account, identity="  ")
    assert not Ticket.objects.exists()


def test_a_bots_reply_keeps_the_customers_words_on_the_card_and_a_persons_replaces_them(
    account, in_a, bot
):
    ticket = receive(account, text="¿Cuándo llega mi pedido 10420?").message.ticket
    services.message_send(ticket=ticket, author=bot, text="Recibimos tu mensaje, ya te atendemos.")
    assert fresh(ticket).last_message_preview == "¿Cuándo llega mi pedido 10420?"

    answer(ticket, in_a.agent, "Sale hoy por Chilexpress.")
    assert fresh(ticket).last_message_preview == "Sale hoy por Chilexpress."
