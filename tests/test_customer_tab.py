"""The ticket's customer tab saves name, RUT and metadata all or nothing: one transaction, one
history event and one live push."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskconfig.accounts import ChannelAccount
from deskconfig.models import MetadataField
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import client_for
from tests.tickets.factories import MetadataFieldFactory
from tickets import services
from tickets.models import Customer, Event, EventKind, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(cast) -> Ticket:
    with tenant_context(cast.tenant_a.pk):
        MetadataFieldFactory(
            tenant=cast.tenant_a,
            target=MetadataField.Target.CUSTOMER,
            key="plan",
            field_type="choice",
            choices=["Oro", "Plata"],
        )
        account = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="email", name="Soporte")
        inbound = services.Inbound(identity="ana@example.test", text="Hola", customer_name="Ana")
        return services.message_receive(account=account, inbound=inbound).message.ticket


def _customer(ticket: Ticket) -> Customer:
    with bypass_context():
        return Customer.all_tenants.get(pk=ticket.customer_id)


def test_saving_the_tab_is_one_transaction_one_event_and_one_push(
    cast, ticket, django_capture_on_commit_callbacks
):
    client = client_for(cast.agent)
    url = f"/tickets/{ticket.number}/tab/cliente/"
    form = {"name": "Ana Pérez", "rut": "12.345.678-5", "meta_plan": "Oro"}

    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=False) as pushes,
    ):
        answer = client.post(url, form, HTTP_HX_REQUEST="true")

    assert answer.status_code == 200
    savepoints = [q for q in queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1  # one transaction (inside the test's own)
    assert len(pushes) == 1
    customer = _customer(ticket)
    assert (customer.name, customer.rut, customer.metadata) == (
        "Ana Pérez",
        "123456785",
        {"plan": "Oro"},
    )
    with bypass_context():
        (event,) = Event.all_tenants.filter(ticket=ticket, kind=EventKind.CUSTOMER_METADATA)
    assert event.data == {
        "before": {"name": "Ana", "rut": "", "metadata": {}},
        "after": {"name": "Ana Pérez", "rut": "123456785", "metadata": {"plan": "Oro"}},
    }


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"name": "Otra", "rut": "1-2", "meta_plan": "Oro"}, "no es válido"),
        ({"name": "Otra", "rut": "", "meta_plan": "Bronce"}, "plan"),
    ],
)
def test_a_refused_part_saves_nothing(cast, ticket, form, error):
    answer = client_for(cast.agent).post(
        f"/tickets/{ticket.number}/tab/cliente/", form, HTTP_HX_REQUEST="true"
    )

    assert error in answer.content.decode()
    customer = _customer(ticket)
    assert (customer.name, customer.rut, customer.metadata) == ("Ana", "", {})
    with bypass_context():
        assert not Event.all_tenants.filter(kind=EventKind.CUSTOMER_METADATA).exists()
