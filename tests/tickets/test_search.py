"""Search by every key: ticket number, name (trigram, accent-insensitive), handle, phone,
email, RUT."""

from __future__ import annotations

import pytest

from deskconfig.kinds import ChannelKind
from tests.tickets.factories import (
    ChannelAccountFactory,
    CustomerFactory,
    CustomerIdentityFactory,
)
from tests.tickets.helpers import receive
from tickets import queries
from tickets.models import IdentityKind

pytestmark = pytest.mark.django_db


def search(query: str) -> queries.SearchResult:
    """As tenant A searches (the context is tenant A's)."""
    from helpdesk.tenancy import current_tenant_id

    return queries.search(tenant_id=current_tenant_id() or 0, query=query)


@pytest.fixture
def people(in_a):
    tenant = in_a.tenant_a
    jose = CustomerFactory(tenant=tenant, name="José Pérez", rut="123456785")
    CustomerIdentityFactory(customer=jose, kind=IdentityKind.EMAIL, value="jose.perez@correo.cl")
    CustomerIdentityFactory(customer=jose, kind=IdentityKind.PHONE, value="56912345678")
    CustomerIdentityFactory(customer=jose, kind=IdentityKind.TWITTER, value="pepeperez")
    maria = CustomerFactory(tenant=tenant, name="María González")
    CustomerIdentityFactory(customer=maria, kind=IdentityKind.EMAIL, value="maria@correo.cl")
    CustomerIdentityFactory(customer=maria, kind=IdentityKind.PHONE, value="56987654321")
    CustomerIdentityFactory(customer=maria, kind=IdentityKind.FACEBOOK, value="6789012345678901")
    CustomerIdentityFactory(customer=maria, kind=IdentityKind.INSTAGRAM, value="17841400000000001")
    CustomerIdentityFactory(customer=maria, kind=IdentityKind.WEBCHAT, value="visitor-abc")
    return jose, maria


def _found(query: str) -> list[str]:
    return [c.name for c in search(query).customers]


def test_an_empty_query_finds_nothing(people):
    result = search("   ")
    assert (result.ticket_number, result.customers, result.tickets) == (None, [], {})


@pytest.mark.parametrize("query", ["#12", "12", " #12 "])
def test_a_ticket_number_with_or_without_hash(people, query):
    result = search(query)
    assert result.ticket_number == 12
    assert result.customers == []


@pytest.mark.parametrize(
    "query", ["José Pérez", "jose perez", "JOSE PEREZ", "Perez", "pérez", "jose", "Jose Peres"]
)
def test_a_name_is_found_accent_and_case_insensitively(people, query):
    assert _found(query) == ["José Pérez"]


def test_a_name_search_does_not_find_unrelated_people(people):
    assert _found("Gonzalez") == ["María González"]
    assert _found("Rodríguez") == []


@pytest.mark.parametrize("query", ["@pepeperez", "@PepePerez"])
def test_a_handle(people, query):
    assert _found(query) == ["José Pérez"]


@pytest.mark.parametrize(
    "query", ["+56912345678", "56912345678", "+56 9 1234 5678", "(9) 1234-5678", "912345678"]
)
def test_a_phone_with_or_without_plus_and_formatting(people, query):
    assert _found(query) == ["José Pérez"]


@pytest.mark.parametrize("query", ["jose.perez@correo.cl", "JOSE.Perez@Correo.CL"])
def test_an_email_case_insensitively(people, query):
    assert _found(query) == ["José Pérez"]


@pytest.mark.parametrize("query", ["12.345.678-5", "12345678-5", "123456785", "12.345.6785"])
def test_a_rut_with_or_without_dots_and_dash(people, query):
    assert _found(query) == ["José Pérez"]


def test_an_invalid_rut_finds_nobody_and_does_not_fail(people):
    assert _found("12.345.678-4") == []


@pytest.mark.parametrize("query", ["6789012345678901", "17841400000000001", "visitor-abc"])
def test_a_provider_id_typed_whole(people, query):
    assert _found(query) == ["María González"]


def test_results_come_with_the_customers_tickets(in_a):
    whatsapp = ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.WHATSAPP)
    ticket = receive(whatsapp, identity="+56 9 1111 2222", customer_name="Ana Soto").message.ticket

    result = search("+56 9 1111 2222")

    (customer,) = result.customers
    assert customer == ticket.customer
    assert result.tickets == {customer.pk: [ticket]}
    assert [i.value for i in customer.identities.all()] == ["56911112222"]
