"""Metadata fields page: customer and ticket fields, choices, order, the audit log, and a
required ticket field created here blocking the close."""

from __future__ import annotations

import pytest

from deskconfig.models import ConfigChange, FieldType, MetadataField
from helpdesk.tenancy import tenant_context
from tests.admin.crud_support import assert_refused_to_non_admins, changes, make, page
from tests.conftest import client_for
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import receive
from tickets import services
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db

URL = "/admin/metadata/"


def form(**overrides):
    data = {
        "target": "ticket",
        "label": "Motivo",
        "key": "",
        "field_type": FieldType.CHOICE,
        "choices_text": "Reclamo\r\nConsulta\r\n\r\n Reclamo \r\nVenta",
        "required": "on",
        "active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def fields_of(tenant):
    with tenant_context(tenant.pk):
        return list(MetadataField.objects.order_by("target", "position", "id"))


def test_list_shows_customer_and_ticket_fields_of_this_tenant_only(cast):
    make(cast, MetadataField, target="customer", key="rut", label="RUT", field_type="text")
    make(cast, MetadataField, target="ticket", key="motivo", label="Motivo", field_type="text")
    make(cast, MetadataField, cast.tenant_b, target="ticket", key="x", label="Campo de B")
    html = page(client_for(cast.admin), URL)
    assert "RUT" in html and "Motivo" in html and "Campo de B" not in html
    assert "Campos de cliente" in html and "Campos de ticket" in html


def test_create_edit_delete_each_audited(cast):
    client = client_for(cast.admin)
    assert client.post(f"{URL}new/", form()).status_code == 302
    (field,) = fields_of(cast.tenant_a)
    assert field.key == "motivo"  # taken from the name
    assert field.choices == ["Reclamo", "Consulta", "Venta"]  # blank lines and repeats out
    assert field.required and field.active and field.position == 1

    edited = form(label="Motivo de contacto", key="otra", choices_text="Reclamo\nConsulta")
    edited.pop("required")
    assert client.post(f"{URL}{field.pk}/", edited).status_code == 302
    (field,) = fields_of(cast.tenant_a)
    assert field.label == "Motivo de contacto" and field.key == "motivo"  # the key stays
    assert field.choices == ["Reclamo", "Consulta"] and not field.required

    assert client.post(f"{URL}{field.pk}/delete/").status_code == 302
    assert fields_of(cast.tenant_a) == []

    log = changes(cast.tenant_a, "metadata")
    assert [c.action for c in log] == [
        ConfigChange.Action.CREATE,
        ConfigChange.Action.UPDATE,
        ConfigChange.Action.DELETE,
    ]
    assert log[0].after["choices"] == ["Reclamo", "Consulta", "Venta"]
    assert log[1].before == {
        "label": "Motivo",
        "required": True,
        "choices": ["Reclamo", "Consulta", "Venta"],
    }
    assert log[1].after["label"] == "Motivo de contacto"
    assert log[2].before["key"] == "motivo" and log[2].actor_id == cast.admin.pk


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"label": ""}, "Este campo es obligatorio."),
        ({"choices_text": ""}, "Escribe las opciones, una por línea."),
        ({"field_type": "text"}, "Solo los campos de selección llevan opciones"),
        ({"field_type": "multi", "choices_text": "  \n "}, "Escribe las opciones"),
        ({"key": "Con Espacios"}, "La clave lleva solo minúsculas"),
        ({"key": "rut", "target": "customer"}, "Ya hay un campo con la clave «rut» para cliente."),
        ({"field_type": "otro"}, "Escoja una opción válida."),
    ],
)
def test_validation_errors_in_spanish(cast, overrides, error):
    make(cast, MetadataField, target="customer", key="rut", label="RUT", field_type="text")
    response = client_for(cast.admin).post(f"{URL}new/", form(**overrides))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert len(fields_of(cast.tenant_a)) == 1
    assert changes(cast.tenant_a, "metadata") == []


def test_the_same_key_is_fine_on_the_other_target_and_in_another_tenant(cast):
    make(cast, MetadataField, target="customer", key="motivo", label="M", field_type="text")
    make(cast, MetadataField, cast.tenant_b, target="ticket", key="motivo", label="M")
    assert client_for(cast.admin).post(f"{URL}new/", form()).status_code == 302
    assert [f.key for f in fields_of(cast.tenant_a)] == ["motivo", "motivo"]


def test_fields_move_up_and_down_within_their_list(cast):
    client = client_for(cast.admin)
    for label in ("Uno", "Dos", "Tres"):
        client.post(f"{URL}new/", form(label=label, field_type="text", choices_text=""))
    client.post(
        f"{URL}new/", form(target="customer", label="Cliente", field_type="bool", choices_text="")
    )
    uno, _dos, tres = (f for f in fields_of(cast.tenant_a) if f.target == "ticket")
    assert client.post(f"{URL}{tres.pk}/move/", {"direction": "up"}).status_code == 302
    assert [f.label for f in fields_of(cast.tenant_a) if f.target == "ticket"] == [
        "Uno",
        "Tres",
        "Dos",
    ]
    client.post(f"{URL}{uno.pk}/move/", {"direction": "up"})  # already first: nothing
    client.post(f"{URL}{uno.pk}/move/", {"direction": "down"})
    assert [f.label for f in fields_of(cast.tenant_a) if f.target == "ticket"] == [
        "Tres",
        "Uno",
        "Dos",
    ]
    moves = [c for c in changes(cast.tenant_a, "metadata") if c.action == "update"]
    assert len(moves) == 4  # two rows swapped, twice
    assert all(set(c.after) == {"position"} for c in moves)
    html = page(client, URL)
    assert html.index("Tres") < html.index("Uno") < html.index("Dos")


def test_another_tenants_field_is_404_and_untouched(cast):
    theirs = make(cast, MetadataField, cast.tenant_b, target="ticket", key="x", label="B")
    client = client_for(cast.admin)
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/", form()).status_code == 404
    assert client.post(f"{URL}{theirs.pk}/delete/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/move/", {"direction": "up"}).status_code == 404
    assert [f.label for f in fields_of(cast.tenant_b)] == ["B"]


def test_agents_and_analysts_are_refused(cast):
    field = make(cast, MetadataField, target="ticket", key="x", label="X", field_type="text")
    base = f"{URL}{field.pk}/"
    assert_refused_to_non_admins(
        cast, client_for, [URL, f"{URL}new/", base, f"{base}delete/", f"{base}move/"]
    )


def test_a_required_ticket_field_created_on_the_page_blocks_closing(cast):
    assert client_for(cast.admin).post(f"{URL}new/", form()).status_code == 302
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccountFactory(tenant=cast.tenant_a)
        ticket = receive(account).message.ticket
        services.message_send(ticket=ticket, author=cast.agent, text="Hola, ¿en qué le ayudo?")
        with pytest.raises(services.ActionRefused, match="Motivo"):
            services.ticket_close(ticket=ticket, actor=cast.agent)
        services.ticket_set_metadata(ticket=ticket, actor=cast.agent, values={"motivo": "Venta"})
        closed = services.ticket_close(ticket=ticket, actor=cast.agent)
        assert closed.status == TicketStatus.CLOSED


def test_an_inactive_required_field_does_not_block_closing(cast):
    client_for(cast.admin).post(f"{URL}new/", form(active=None))
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccountFactory(tenant=cast.tenant_a)
        ticket = receive(account).message.ticket
        services.message_send(ticket=ticket, author=cast.agent, text="Hola")
        assert services.ticket_close(ticket=ticket, actor=cast.agent).status == "closed"
