"""The ticket page, its actions and tabs, search and new ticket, through HTTP as people use them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskconfig.accounts import ChannelAccount
from deskconfig.models import ForbiddenWord, WhatsAppTemplate
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import client_for
from tickets import services
from tickets.models import DeliveryStatus, Message, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def _account(tenant, kind="email", name="Soporte") -> ChannelAccount:
    with tenant_context(tenant.pk):
        return ChannelAccount.objects.create(tenant=tenant, kind=kind, name=name, sla_minutes=30)


def _receive(account, identity, text, name="", n=None, files=()):
    with tenant_context(account.tenant_id):
        return services.message_receive(
            account=account,
            inbound=services.Inbound(
                identity=identity,
                text=text,
                customer_name=name,
                provider_id=n,
                attachments=files,
            ),
        ).message


@pytest.fixture
def ticket_a(cast) -> Ticket:
    account = _account(cast.tenant_a)
    message = _receive(account, "Josefa@Cliente.cl", "Hola, mi pedido no llega", "Josefa Contreras")
    return message.ticket


def test_the_ticket_page_shows_the_conversation(cast, ticket_a):
    page = client_for(cast.agent).get(f"/tickets/{ticket_a.number}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Josefa Contreras" in body and "Hola, mi pedido no llega" in body
    assert "Ignorar" in body  # not addressed yet: the close button says Ignorar
    for tab in (
        "Cliente",
        "Ticket",
        "Comentarios",
        "Contexto",
        "Escalar",
        "Bot",
        "Tickets anteriores",
        "Historial",
    ):
        assert f">{tab}</a>" in body


def test_the_ticket_page_query_count_does_not_grow_with_messages(cast, ticket_a):
    client = client_for(cast.agent)
    client.get(f"/tickets/{ticket_a.number}/")  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/tickets/{ticket_a.number}/").status_code == 200
    account = ticket_a.account
    for i in range(60):
        _receive(account, "josefa@cliente.cl", f"mensaje {i}")
    with tenant_context(cast.tenant_a.pk):
        services.message_send(ticket=ticket_a, author=cast.agent, text="respuesta")
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/tickets/{ticket_a.number}/")
    assert response.status_code == 200
    assert "mensaje 59" in response.content.decode()
    assert "Ver mensajes anteriores" in response.content.decode()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert len(few) <= 16


def test_reply_queues_the_message_and_addresses_the_ticket(cast, ticket_a):
    client = client_for(cast.agent)
    response = client.post(f"/tickets/{ticket_a.number}/reply/", {"text": "Lo revisamos hoy"})
    assert response.status_code == 302
    with tenant_context(cast.tenant_a.pk):
        reply = Message.objects.get(text="Lo revisamos hoy")
        ticket = Ticket.objects.get(pk=ticket_a.pk)
    assert reply.status == DeliveryStatus.QUEUED and reply.author_id == cast.agent.pk
    assert ticket.addressed and not ticket.awaiting_response
    assert "Cerrar" in client.get(f"/tickets/{ticket_a.number}/").content.decode()


def test_a_forbidden_word_refuses_the_reply_and_keeps_the_draft(cast, ticket_a):
    with tenant_context(cast.tenant_a.pk):
        ForbiddenWord.objects.create(tenant=cast.tenant_a, word="estúpido")
    client = client_for(cast.agent)
    response = client.post(
        f"/tickets/{ticket_a.number}/reply/", {"text": "No sea ESTUPIDO"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "palabras no permitidas: estúpido" in body
    assert "No sea ESTUPIDO" in body  # the draft stays
    with tenant_context(cast.tenant_a.pk):
        assert not Message.objects.filter(text__icontains="sea").exists()


def test_attachments_are_refused_on_public_replies(cast):
    account = _account(cast.tenant_a, kind="twitter", name="@tienda")
    with tenant_context(cast.tenant_a.pk):
        mention = services.message_receive(
            account=account,
            inbound=services.Inbound(identity="@cliente", text="@tienda hola", is_public=True),
        ).message
    client = client_for(cast.agent)
    url = f"/tickets/{mention.ticket.number}/reply/"
    upload = SimpleUploadedFile("boleta.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    response = client.post(url, {"text": "adjunto", "files": upload}, HTTP_HX_REQUEST="true")
    assert "públicas no pueden llevar adjuntos" in response.content.decode()

    # How attachments are served: tests/security/test_uploads.py.


def test_header_actions(cast, ticket_a):
    client = client_for(cast.agent)
    base = f"/tickets/{ticket_a.number}/do"
    client.post(f"{base}/assign/", {"assignee": cast.admin.pk})
    client.post(f"{base}/important/")
    client.post(f"{base}/sentiment/", {"sentiment": "angry"})
    client.post(f"{base}/close/")
    with tenant_context(cast.tenant_a.pk):
        ticket = Ticket.objects.get(pk=ticket_a.pk)
    assert ticket.assignee_id == cast.admin.pk and ticket.important and ticket.sentiment == "angry"
    assert ticket.status == TicketStatus.IGNORED  # nobody answered
    client.post(f"{base}/reopen/")
    with tenant_context(cast.tenant_a.pk):
        assert Ticket.objects.get(pk=ticket_a.pk).status == TicketStatus.OPEN
    # An outsider's user id in the form is not found in this tenant.
    response = client.post(f"{base}/assign/", {"assignee": cast.outsider.pk})
    assert response.status_code == 404


def test_tabs_render_and_save(cast, ticket_a):
    client = client_for(cast.agent)
    base = f"/tickets/{ticket_a.number}/tab"
    for tab in (
        "cliente",
        "ticket",
        "comentarios",
        "contexto",
        "escalar",
        "bot",
        "anteriores",
        "historial",
    ):
        assert client.get(f"{base}/{tab}/", HTTP_HX_REQUEST="true").status_code == 200, tab
    client.post(f"{base}/comentarios/", {"text": "@analyst revisa esto"}, HTTP_HX_REQUEST="true")
    bad = client.post(
        f"{base}/escalar/", {"to": "no-es-correo", "note": "x"}, HTTP_HX_REQUEST="true"
    )
    assert "correo" in bad.content.decode().lower()
    rut = client.post(
        f"{base}/cliente/", {"name": "Josefa C.", "rut": "12.345.678-9"}, HTTP_HX_REQUEST="true"
    )
    assert "no es válido" in rut.content.decode()
    client.post(f"{base}/cliente/", {"name": "Josefa C.", "rut": "12.345.678-5"})
    history = client.get(f"{base}/historial/", HTTP_HX_REQUEST="true").content.decode()
    assert "Comentario interno" in history and "Ticket creado" in history
    with bypass_context():
        ticket = Ticket.all_tenants.select_related("customer").get(pk=ticket_a.pk)
    assert ticket.customer.rut == "123456785" and ticket.has_comments


def test_search_finds_by_name_and_opens_by_number(cast, ticket_a):
    client = client_for(cast.agent)
    found = client.get("/search/", {"q": "josefa contreras"}).content.decode()
    assert f"/tickets/{ticket_a.number}/" in found
    jump = client.get("/search/", {"q": f"#{ticket_a.number}"})
    assert jump.status_code == 302 and jump["Location"] == f"/tickets/{ticket_a.number}/"
    assert (
        "Sin resultados"
        in client_for(cast.outsider).get("/search/", {"q": "josefa"}).content.decode()
    )


def test_new_ticket_is_assigned_to_its_creator(cast):
    account = _account(cast.tenant_a, kind="whatsapp", name="+56 9 4000 1234")
    with tenant_context(cast.tenant_a.pk):
        template = WhatsAppTemplate.objects.create(
            tenant=cast.tenant_a,
            account=account,
            name="saludo",
            body="Hola {{1}}",
            status=WhatsAppTemplate.Status.APPROVED,
        )
    client = client_for(cast.agent)
    response = client.post(
        "/tickets/new/",
        {
            "account": account.pk,
            "identity": "+56 9 8765 4321",
            "name": "Tomás",
            "template": template.pk,
            f"param-{template.pk}-1": "Tomás",
        },
    )
    assert response.status_code == 302
    with tenant_context(cast.tenant_a.pk):
        ticket = Ticket.objects.get(customer__name="Tomás")
    assert ticket.assignee_id == cast.agent.pk
    assert response["Location"] == f"/tickets/{ticket.number}/"


def test_another_tenants_ticket_number_is_404_everywhere(cast, ticket_a):
    outsider = client_for(cast.outsider)
    n = ticket_a.number
    with bypass_context():
        message_id = Message.all_tenants.filter(ticket_id=ticket_a.pk).values_list("pk", flat=True)[
            0
        ]
    for path in (
        f"/tickets/{n}/",
        f"/tickets/{n}/header/",
        f"/tickets/{n}/older/?before=1",
        f"/tickets/{n}/quick-replies/?text=/x",
        f"/tickets/{n}/tab/cliente/",
    ):
        assert outsider.get(path).status_code == 404, path
    for path in (
        f"/tickets/{n}/reply/",
        f"/tickets/{n}/reply/template/",
        f"/tickets/{n}/do/close/",
        f"/tickets/{n}/tab/comentarios/",
        f"/tickets/{n}/messages/{message_id}/retry/",
    ):
        assert outsider.post(path, {"text": "x"}).status_code == 404, path
    with bypass_context():
        assert Ticket.all_tenants.get(pk=ticket_a.pk).status == TicketStatus.OPEN
