"""Services and queries used as tenant B never see tenant A's tickets."""

from __future__ import annotations

import pytest
from django.http import Http404

from helpdesk.tenancy import bypass_context, tenant_context
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import receive
from tickets import queries, services
from tickets.models import Customer, Event, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket_of_a(account, in_a):
    received = receive(account, identity="jose@correo.cl", customer_name="José Pérez")
    ticket = received.message.ticket
    services.customer_update(
        customer=ticket.customer, actor=in_a.admin, name="José Pérez", rut="12345678-5"
    )
    return ticket


@pytest.fixture
def account_of_b(cast):
    with tenant_context(cast.tenant_b.pk):
        return ChannelAccountFactory(tenant=cast.tenant_b, name="Soporte B")


def test_ticket_by_number_of_a_in_b_is_404(ticket_of_a, cast):
    assert queries.ticket_by_number(ticket_of_a.number) == ticket_of_a
    with tenant_context(cast.tenant_b.pk), pytest.raises(Http404):
        queries.ticket_by_number(ticket_of_a.number)


def test_ticket_for_user_decides_by_the_user_not_only_the_ambient_tenant(ticket_of_a, cast):
    with tenant_context(cast.tenant_a.pk):
        assert queries.ticket_for_user(user=cast.agent, number=ticket_of_a.number) == ticket_of_a
        # The context is A's, but the person is B's: nothing opens.
        with pytest.raises(Http404):
            queries.ticket_for_user(user=cast.outsider, number=ticket_of_a.number)
        cast.agent.is_active = False
        with pytest.raises(Http404):
            queries.ticket_for_user(user=cast.agent, number=ticket_of_a.number)


def test_attachment_for_user_decides_by_the_user(ticket_of_a, cast):
    with tenant_context(cast.tenant_a.pk):
        reply = services.message_send(
            ticket=ticket_of_a,
            author=cast.agent,
            text="Adjunto",
            is_public=False,
            files=[services.IncomingFile(name="a.txt", content=b"x", content_type="text/plain")],
        )
        token = reply.attachments.get().token
        found = queries.attachment_for_user(user=cast.agent, token=token)
        assert found.message_id == reply.pk
        with pytest.raises(Http404):
            queries.attachment_for_user(user=cast.outsider, token=token)


@pytest.mark.parametrize(
    "query", ["José Pérez", "perez", "Jose Peres", "jose@correo.cl", "12.345.678-5"]
)
def test_search_in_b_does_not_find_a_customer(ticket_of_a, cast, query):
    assert [c.name for c in queries.search(tenant_id=cast.tenant_a.pk, query=query).customers] == [
        "José Pérez"
    ]
    with tenant_context(cast.tenant_b.pk):
        assert queries.search(tenant_id=cast.tenant_b.pk, query=query).customers == []
        # Row-level security backs the explicit tenant: B's context never shows A's rows.
        assert queries.search(tenant_id=cast.tenant_a.pk, query=query).customers == []


def test_the_thread_history_and_lists_of_a_are_empty_in_b(ticket_of_a, cast):
    with tenant_context(cast.tenant_b.pk):
        assert queries.thread(ticket_of_a) == ([], False)
        assert queries.history(ticket_of_a) == []
        assert queries.previous_tickets(ticket_of_a) == []
        assert all(u.tenant_id == cast.tenant_b.pk for u in queries.assignable_users())
        assert not Ticket.objects.exists()
        assert not Message.objects.exists()


def test_services_in_b_cannot_change_a_ticket(ticket_of_a, cast):
    with tenant_context(cast.tenant_b.pk):
        with pytest.raises(Ticket.DoesNotExist):
            services.ticket_mark_important(ticket=ticket_of_a, actor=cast.outsider)
        with pytest.raises(Ticket.DoesNotExist):
            services.ticket_close(ticket=ticket_of_a, actor=cast.outsider)
        with pytest.raises(Ticket.DoesNotExist):
            services.message_send(ticket=ticket_of_a, author=cast.outsider, text="hola")
        with pytest.raises(Customer.DoesNotExist):
            services.customer_update(
                customer=ticket_of_a.customer, actor=cast.outsider, name="x", rut=""
            )
    with bypass_context():
        ticket = Ticket.all_tenants.get(pk=ticket_of_a.pk)
        assert ticket.important is False and ticket.status == "open"
        assert not Event.all_tenants.filter(tenant=cast.tenant_b).exists()


def test_the_same_identity_in_b_is_another_customer_with_its_own_numbering(
    ticket_of_a, account_of_b, cast
):
    with tenant_context(cast.tenant_b.pk):
        ticket_of_b = receive(account_of_b, identity="jose@correo.cl", text="Hola B").message.ticket
        assert ticket_of_b.number == 1
        assert ticket_of_b.customer_id != ticket_of_a.customer_id
        assert Customer.objects.count() == 1
        assert ticket_of_b.customer.rut == ""
    assert ticket_of_a.number == 1
