"""The Departments page: list, create, edit (members), delete with its confirmation, validation,
the audit log and tenant isolation."""

from __future__ import annotations

import typing

import pytest

from deskconfig.models import (
    ConfigChange,
    Department,
    DepartmentMembership,
    MessageTemplate,
    TemplateDepartment,
)
from helpdesk.models import User
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import Cast, client_for
from tests.factories import UserFactory
from tests.tickets.factories import ChannelAccountFactory, TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _in_a(cast: Cast):
    return tenant_context(cast.tenant_a.pk)


def _changes(cast: Cast) -> list[ConfigChange]:
    with _in_a(cast):
        return list(ConfigChange.objects.filter(section="departments").order_by("id"))


def _members(cast: Cast, department: Department) -> set[int]:
    with _in_a(cast):
        return set(
            DepartmentMembership.objects.filter(department=department).values_list(
                "user_id", flat=True
            )
        )


def test_creating_a_department_with_members_is_audited(cast):
    response = client_for(cast.admin).post(
        "/admin/departments/new/", {"name": "  Ventas  ", "members": [cast.agent.pk]}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/departments/"
    with _in_a(cast):
        sales = Department.objects.get()
        membership = DepartmentMembership.objects.get()
    assert sales.name == "Ventas" and sales.tenant_id == cast.tenant_a.pk
    assert (membership.user_id, membership.tenant_id) == (cast.agent.pk, cast.tenant_a.pk)
    (change,) = _changes(cast)
    assert change.action == ConfigChange.Action.CREATE and change.actor_id == cast.admin.pk
    assert change.after == {"name": "Ventas", "members": [cast.agent.pk]}


def test_the_list_shows_names_active_members_and_open_tickets(cast):
    with bypass_context():
        gone = UserFactory(tenant=cast.tenant_a, name="Ex Integrante", is_active=False)
    with _in_a(cast):
        sales = Department.objects.create(name="Ventas")
        Department.objects.create(name="Soporte")
        for user in (cast.agent, gone):
            DepartmentMembership.objects.create(department=sales, user=user)
        account = ChannelAccountFactory(tenant=cast.tenant_a)
        TicketFactory(account=account, department=sales)
        TicketFactory(account=account, department=sales, status="closed")
    with tenant_context(cast.tenant_b.pk):
        Department.objects.create(name="Secreto de B")
    body = client_for(cast.admin).get("/admin/departments/").content.decode()
    row = body.split(f'data-department="{sales.pk}"')[1].split("</tr>")[0]
    assert "Ventas" in row and cast.agent.name in row and "Ex Integrante" not in row
    assert "<td>1</td>" in row
    assert "Soporte" in body and "Sin integrantes" in body
    assert "Secreto de B" not in body


def test_editing_name_and_members_records_before_and_after(cast):
    with _in_a(cast):
        sales = Department.objects.create(name="Ventas")
        DepartmentMembership.objects.create(department=sales, user=cast.agent)
    admin = client_for(cast.admin)
    form = admin.get(f"/admin/departments/{sales.pk}/").content.decode()
    assert 'value="Ventas"' in form and f'value="{cast.agent.pk}"' in form
    response = admin.post(
        f"/admin/departments/{sales.pk}/",
        {"name": "Ventas Chile", "members": [cast.admin.pk, cast.analyst.pk]},
    )
    assert response.status_code == 302
    assert _members(cast, sales) == {cast.admin.pk, cast.analyst.pk}
    (change,) = _changes(cast)
    assert change.action == ConfigChange.Action.UPDATE
    assert change.before == {"name": "Ventas", "members": [cast.agent.pk]}
    assert change.after == {
        "name": "Ventas Chile",
        "members": sorted([cast.admin.pk, cast.analyst.pk]),
    }


def test_a_deactivated_member_keeps_their_department_through_an_edit(cast):
    with bypass_context():
        gone: User = UserFactory(tenant=cast.tenant_a, is_active=False)
    with _in_a(cast):
        sales = Department.objects.create(name="Ventas")
        DepartmentMembership.objects.create(department=sales, user=gone)
    client_for(cast.admin).post(
        f"/admin/departments/{sales.pk}/", {"name": "Ventas", "members": [cast.agent.pk]}
    )
    assert _members(cast, sales) == {gone.pk, cast.agent.pk}


def test_validation_errors_are_in_spanish(cast):
    with _in_a(cast):
        Department.objects.create(name="Ventas")
    with tenant_context(cast.tenant_b.pk):
        Department.objects.create(name="Soporte")  # another tenant's name is free
    admin = client_for(cast.admin)
    empty = admin.post("/admin/departments/new/", {"name": ""})
    assert "Este campo es obligatorio." in empty.content.decode()
    twin = admin.post("/admin/departments/new/", {"name": "ventas"})
    assert twin.status_code == 200
    assert "Ya existe un departamento con ese nombre." in twin.content.decode()
    foreign = admin.post(
        "/admin/departments/new/", {"name": "Nuevo", "members": [cast.outsider.pk]}
    )
    assert "Escoja una opción válida" in foreign.content.decode()
    assert admin.post("/admin/departments/new/", {"name": "Soporte"}).status_code == 302
    assert len(_changes(cast)) == 1


def test_deleting_asks_first_and_keeps_the_tickets(cast):
    with _in_a(cast):
        sales = Department.objects.create(name="Ventas")
        DepartmentMembership.objects.create(department=sales, user=cast.agent)
        account = ChannelAccountFactory(tenant=cast.tenant_a)
        tickets = [
            typing.cast(Ticket, TicketFactory(account=account, department=sales)) for _ in range(2)
        ]
        only_sales = MessageTemplate.objects.create(name="Precio", shortcut="precio", body="$")
        TemplateDepartment.objects.create(template=only_sales, department=sales)
    admin = client_for(cast.admin)
    confirm = admin.get(f"/admin/departments/{sales.pk}/delete/")
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Sus 2 tickets siguen existiendo, sin departamento." in body
    assert "1 plantilla que era solo de este departamento" in body
    with _in_a(cast):
        assert Department.objects.filter(pk=sales.pk).exists()  # a GET deletes nothing

    response = admin.post(f"/admin/departments/{sales.pk}/delete/", follow=True)
    assert "Sus tickets siguen existiendo, sin departamento." in response.content.decode()
    with _in_a(cast):
        assert not Department.objects.filter(pk=sales.pk).exists()
        assert not DepartmentMembership.objects.exists()
        for ticket in tickets:
            assert Ticket.objects.get(pk=ticket.pk).department_id is None
    with bypass_context():
        assert User.objects.filter(pk=cast.agent.pk, is_active=True).exists()
    (change,) = _changes(cast)
    assert change.action == ConfigChange.Action.DELETE and change.before == {"name": "Ventas"}


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("post", ""), ("get", "delete/"), ("post", "delete/")]
)
def test_another_tenants_department_is_not_found(cast, method, suffix):
    with tenant_context(cast.tenant_b.pk):
        foreign = Department.objects.create(name="De B")
    response = getattr(client_for(cast.admin), method)(
        f"/admin/departments/{foreign.pk}/{suffix}", {"name": "Robado"}
    )
    assert response.status_code == 404
    with tenant_context(cast.tenant_b.pk):
        assert Department.objects.get(pk=foreign.pk).name == "De B"
    assert not _changes(cast)
