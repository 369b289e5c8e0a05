"""Issue 5: a wrongly threaded message is split into its sender's own ticket; an agent links
another email or phone to a customer; an email's card preview leaves out the quoted history."""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.tickets.helpers import events, fresh, receive
from tickets import services
from tickets.models import Customer, CustomerIdentity, EventKind, Message, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def test_a_foreign_reply_threaded_by_token_splits_into_its_senders_ticket(account, in_a):
    ticket = receive(account, identity="ana@example.test", text="Mi pedido no llega").message.ticket
    stray = receive(
        account,
        identity="pedro@example.test",
        text="Otra cosa distinta",
        thread_ticket_number=ticket.number,
    ).message
    assert stray.ticket_id == ticket.pk

    new = services.message_split(message=stray, actor=in_a.agent)

    assert fresh(stray).ticket_id == new.pk
    assert new.customer.identities.get().value == "pedro@example.test"
    assert new.status == TicketStatus.OPEN and new.awaiting_response
    assert new.sla_due_at is not None
    assert new.last_message_preview == "Otra cosa distinta"
    assert fresh(ticket).last_message_preview == "Mi pedido no llega"
    assert events(ticket, EventKind.SPLIT)[0].data["to_ticket"] == new.number
    assert events(new, EventKind.SPLIT)[0].data["from_ticket"] == ticket.number


def test_splitting_is_refused_for_the_only_message_and_for_answers(account, in_a):
    first = receive(account, text="Hola").message
    with pytest.raises(services.ActionRefused):
        services.message_split(message=first, actor=in_a.agent)
    answer = services.message_send(ticket=first.ticket, author=in_a.agent, text="Hola, Ana")
    with pytest.raises(services.ActionRefused):
        services.message_split(message=answer, actor=in_a.agent)


def test_the_split_button_moves_the_message_and_opens_the_new_ticket(account, in_a):
    ticket = receive(account, text="Primero").message.ticket
    second = receive(account, text="Segundo, de otro tema").message
    agent = client_for(in_a.agent)
    page = agent.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'data-action="split"' in page
    response = agent.post(f"/tickets/{ticket.number}/do/split/", {"message": second.pk})
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/tickets/{new.number}/"
    assert fresh(second).ticket_id == new.pk
    # Another tenant's message id is a 404, not a split.
    assert agent.post(f"/tickets/{ticket.number}/do/split/", {"message": 999999}).status_code == 404


def test_linking_an_email_makes_its_messages_arrive_as_the_customer(account, in_a):
    ticket = receive(account, identity="ana@example.test").message.ticket
    services.customer_link_identity(
        customer=ticket.customer,
        actor=in_a.agent,
        kind="email",
        value="Ana.Personal@Example.test",
        ticket=ticket,
    )
    again = receive(account, identity="ana.personal@example.test", text="Desde mi otro correo")
    assert again.message.ticket.customer_id == ticket.customer_id
    assert events(ticket, EventKind.IDENTITY)


def test_linking_another_customers_only_address_brings_their_tickets(account, in_a):
    ana = receive(account, identity="ana@example.test").message.ticket.customer
    other_ticket = receive(account, identity="ana.trabajo@example.test").message.ticket
    services.customer_link_identity(
        customer=ana, actor=in_a.agent, kind="email", value="ana.trabajo@example.test"
    )
    assert fresh(other_ticket).customer_id == ana.pk
    assert Customer.objects.count() == 1
    assert CustomerIdentity.objects.filter(customer=ana).count() == 2


def test_linking_refuses_nonsense_in_spanish(account, in_a):
    customer = receive(account).message.ticket.customer
    with pytest.raises(services.ActionRefused, match="no es un correo válido"):
        services.customer_link_identity(
            customer=customer, actor=in_a.agent, kind="email", value="no-es-correo"
        )
    with pytest.raises(services.ActionRefused, match="no es un teléfono válido"):
        services.customer_link_identity(
            customer=customer, actor=in_a.agent, kind="phone", value="12"
        )
    with pytest.raises(services.ActionRefused, match="ya es de este cliente"):
        services.customer_link_identity(
            customer=customer, actor=in_a.agent, kind="email", value="ana@example.test"
        )


def test_the_customer_tab_links_a_phone(account, in_a):
    ticket = receive(account).message.ticket
    agent = client_for(in_a.agent)
    response = agent.post(
        f"/tickets/{ticket.number}/tab/cliente/",
        {"op": "link", "kind": "phone", "value": "+56 9 8765 4321"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "+56987654321" in response.content.decode()
    assert CustomerIdentity.objects.filter(kind="phone", value="56987654321").exists()


def test_an_emails_preview_leaves_out_the_quoted_history(account, in_a):
    text = "Gracias, ya llegó.\n\nEl lun, 3 nov escribió Soporte:\n> Tu pedido va en camino"
    received = receive(account, text=text, preview="Gracias, ya llegó.")
    assert received.message.ticket.last_message_preview == "Gracias, ya llegó."
    assert Message.objects.get(pk=received.message.pk).text == text


def test_a_customer_without_a_name_is_greeted_without_a_gap(account, in_a):
    from tickets.quick import fill_variables

    ticket = receive(account, identity="sin-nombre@example.test").message.ticket
    assert ticket.customer.name == ""
    text = fill_variables("Hola {cliente}, soy {ejecutivo}.", ticket=ticket, agent=in_a.agent)
    assert text == f"Hola, soy {in_a.agent.name}."
