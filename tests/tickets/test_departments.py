"""Tickets carry a department: the service and its history, the live push, the ticket page's
select, the columns' department filter, and quick replies by department."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from deskconfig.models import Department, DepartmentMembership, MessageTemplate
from helpdesk.tenancy import tenant_context
from tests.conftest import client_for
from tests.tickets.factories import TicketFactory
from tests.tickets.helpers import events, fresh, receive
from tickets import services
from tickets.live import inbox_group
from tickets.models import Column, EventKind, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(in_a) -> Department:
    return Department.objects.create(name="Ventas")


@pytest.fixture
def ticket(account) -> Ticket:
    return receive(account, text="Quiero comprar").message.ticket


async def _receive(layer, channel):
    """The next event of ``channel``; a missing push fails the test instead of hanging it."""
    return await asyncio.wait_for(layer.receive(channel), 10)


def test_setting_a_department_is_recorded_and_pushed_live(
    in_a, sales, ticket, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(inbox_group(in_a.tenant_a.pk), channel)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_set_department(ticket=ticket, department=sales, actor=in_a.agent)
        pushed = async_to_sync(_receive)(layer, channel)
    finally:
        async_to_sync(layer.group_discard)(inbox_group(in_a.tenant_a.pk), channel)
    assert pushed["event"] == "ticket" and pushed["snapshot"]["department_id"] == sales.pk
    assert fresh(ticket).department_id == sales.pk
    (event,) = events(ticket, EventKind.DEPARTMENT)
    assert event.data == {"before": None, "after": sales.pk, "after_name": "Ventas"}
    assert event.actor_id == in_a.agent.pk

    # The same department again changes nothing; none takes it away.
    services.ticket_set_department(ticket=ticket, department=sales, actor=in_a.agent)
    services.ticket_set_department(ticket=ticket, department=None, actor=in_a.agent)
    assert fresh(ticket).department_id is None
    assert [e.data["after"] for e in events(ticket, EventKind.DEPARTMENT)] == [
        sales.pk,
        None,
    ]


def test_another_tenants_department_is_refused(in_a, ticket):
    with tenant_context(in_a.tenant_b.pk):
        foreign = Department.objects.create(name="De B")
    with pytest.raises(services.ActionRefused):
        services.ticket_set_department(ticket=ticket, department=foreign, actor=in_a.agent)
    assert fresh(ticket).department_id is None


def test_the_ticket_page_changes_the_department(in_a, sales, ticket):
    agent = client_for(in_a.agent)
    tab = agent.get(f"/tickets/{ticket.number}/tab/ticket/").content.decode()
    assert 'name="department"' in tab and f'<option value="{sales.pk}"' in tab

    header = agent.post(
        f"/tickets/{ticket.number}/do/department/",
        {"department": sales.pk},
        HTTP_HX_REQUEST="true",
    )
    assert header.status_code == 200
    assert f'data-department="{sales.pk}"' in header.content.decode()
    assert fresh(ticket).department_id == sales.pk
    history = agent.get(f"/tickets/{ticket.number}/tab/historial/").content.decode()
    assert "Departamento: Ventas" in history

    plain = agent.post(f"/tickets/{ticket.number}/do/department/", {"department": ""})
    assert plain.status_code == 302
    assert fresh(ticket).department_id is None
    assert (
        "Sin departamento" in agent.get(f"/tickets/{ticket.number}/tab/historial/").content.decode()
    )


@pytest.mark.parametrize("value", ["x", "999999"])
def test_an_unknown_department_is_not_found(in_a, ticket, value):
    response = client_for(in_a.agent).post(
        f"/tickets/{ticket.number}/do/department/", {"department": value}
    )
    assert response.status_code == 404


def test_another_tenants_department_id_is_not_found(in_a, ticket):
    with tenant_context(in_a.tenant_b.pk):
        foreign = Department.objects.create(name="De B")
    response = client_for(in_a.agent).post(
        f"/tickets/{ticket.number}/do/department/", {"department": foreign.pk}
    )
    assert response.status_code == 404
    assert fresh(ticket).department_id is None


def test_a_column_filters_by_departments_or_no_department(in_a, sales, account):
    support = Department.objects.create(name="Soporte")
    in_sales = TicketFactory(account=account, department=sales, number=501)
    in_support = TicketFactory(account=account, department=support, number=502)
    nowhere = TicketFactory(account=account, number=503)
    agent = client_for(in_a.agent)
    form = agent.get("/inbox/columns/new/").content.decode()
    assert "Sin departamento" in form and "Soporte" in form
    response = agent.post(
        "/inbox/columns/new/",
        {"name": "Ventas y huérfanos", "kind": "tickets", "departments": [sales.pk, "0"]},
    )
    assert response.status_code == 302
    column = Column.objects.get(user=in_a.agent, name="Ventas y huérfanos")
    assert column.filters["departments"] == [0, sales.pk]
    from tickets.filters import TicketFilter

    listed = set(Ticket.objects.filter(TicketFilter.from_data(column.filters).to_q()))
    assert in_sales in listed and nowhere in listed and in_support not in listed


def test_an_agent_sees_global_and_own_department_quick_replies(in_a, sales, ticket):
    support = Department.objects.create(name="Soporte")
    DepartmentMembership.objects.create(department=sales, user=in_a.agent)
    everyone = MessageTemplate.objects.create(name="Saludo", shortcut="hola", body="Hola {cliente}")
    mine = MessageTemplate.objects.create(name="Precios", shortcut="precios", body="Lista")
    mine.departments.through.objects.create(template=mine, department=sales)
    both = MessageTemplate.objects.create(name="Horario", shortcut="horario", body="9 a 18")
    for d in (sales, support):
        both.departments.through.objects.create(template=both, department=d)
    theirs = MessageTemplate.objects.create(name="Garantía", shortcut="garantia", body="1 año")
    theirs.departments.through.objects.create(template=theirs, department=support)

    def shortcuts(user):
        page = client_for(user).get(f"/tickets/{ticket.number}/quick-replies/?text=/")
        assert page.status_code == 200
        body = page.content.decode()
        return {t.shortcut for t in (everyone, mine, both, theirs) if f"/{t.shortcut}" in body}

    assert shortcuts(in_a.agent) == {"hola", "precios", "horario"}
    # Someone in no department sees only the global ones.
    assert shortcuts(in_a.analyst) == {"hola"}
