"""A chat account keeps one open conversation per customer (the partial unique index
ticket_one_open_chat); email may keep several. Reopening is refused in Spanish when it would
make a second one, also when two agents reopen at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from deskconfig.kinds import ChannelKind
from helpdesk.tenancy import tenant_context
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import fresh, receive
from tickets import services
from tickets.models import IdentityKind, Ticket, TicketStatus


@pytest.fixture
def webchat(in_a):
    return ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.WEBCHAT, name="Chat")


def _closed_twice(webchat, in_a) -> tuple[Ticket, Ticket]:
    first = receive(webchat, identity="visitor-1").message.ticket
    services.ticket_close(ticket=first, actor=in_a.agent)
    second = receive(webchat, identity="visitor-1", text="Otra vez").message.ticket
    services.ticket_close(ticket=second, actor=in_a.agent)
    assert first.pk != second.pk
    return first, second


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_chat_ticket_but_not_a_second_email(
    webchat, account, in_a
):
    chat = receive(webchat, identity="visitor-1").message.ticket
    mail = receive(account, identity="ana@example.test").message.ticket
    assert (chat.single_open, mail.single_open) == (True, False)

    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(
            tenant=in_a.tenant_a,
            number=99,
            customer=chat.customer,
            account=webchat,
            single_open=True,
        )
    Ticket.objects.create(
        tenant=in_a.tenant_a, number=98, customer=mail.customer, account=account
    )  # email: a second open conversation is allowed
    assert Ticket.objects.filter(customer=mail.customer, status=TicketStatus.OPEN).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_agents_reopening_a_customers_two_chats_at_once_leave_one_open(webchat, in_a):
    first, second = _closed_twice(webchat, in_a)
    tenant_id = in_a.tenant_a.pk
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def reopen(ticket: Ticket) -> None:
        try:
            with tenant_context(tenant_id):
                barrier.wait(timeout=10)
                services.ticket_reopen(ticket=ticket, actor=in_a.agent)
                outcomes[ticket.pk] = "reopened"
        except services.ActionRefused as refused:
            outcomes[ticket.pk] = str(refused.message)
        except IntegrityError:
            outcomes[ticket.pk] = "integrity error"
        finally:
            connection.close()

    for _round in range(5):  # a race: repeated so a broken order shows up every time
        threads = [threading.Thread(target=reopen, args=(t,)) for t in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes.values()) == [
            "El cliente ya tiene un ticket abierto en esta cuenta.",
            "reopened",
        ]
        opened = Ticket.objects.filter(status=TicketStatus.OPEN).get()
        services.ticket_close(ticket=opened, actor=in_a.agent)
        outcomes.clear()


@pytest.mark.django_db
def test_linking_two_customers_with_open_chats_on_one_account_is_refused(webchat, in_a):
    ana = receive(webchat, identity="visitor-1").message.ticket.customer
    bob_ticket = receive(webchat, identity="visitor-2").message.ticket
    services.customer_link_identity(
        customer=bob_ticket.customer,
        actor=in_a.agent,
        kind=IdentityKind.EMAIL,
        value="bob@example.test",
    )
    bob_ticket.customer.identities.filter(kind=IdentityKind.WEBCHAT).delete()

    with pytest.raises(services.ActionRefused, match="misma cuenta de chat"):
        services.customer_link_identity(
            customer=ana, actor=in_a.agent, kind=IdentityKind.EMAIL, value="bob@example.test"
        )
    assert fresh(bob_ticket).customer_id != ana.pk
