"""The web chat: a visitor without an account writes, is remembered, gets answers live."""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from celery.contrib.testing.worker import start_worker
from channels.testing import WebsocketCommunicator
from django.test import Client

from channels_conn.webchat.visitors import cookie_name
from deskconfig.accounts import ChannelAccount
from helpdesk.asgi import application
from helpdesk.celery import app
from helpdesk.tenancy import tenant_context
from tickets import services
from tickets.models import DeliveryStatus, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(cast) -> ChannelAccount:
    with tenant_context(cast.tenant_a.pk):
        return ChannelAccount.objects.create(
            tenant=cast.tenant_a,
            kind="webchat",
            name="Chat del sitio",
            settings={"allowed_origins": ["https://tienda-a.example"], "greeting": "¡Hola!"},
        )


def test_the_chat_page_is_public_and_frameable_only_by_allowed_sites(chat):
    page = Client().get(f"/chat/{chat.uuid}/")
    assert page.status_code == 200
    assert "¡Hola!" in page.content.decode()
    csp = page["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://tienda-a.example" in csp
    assert "X-Frame-Options" not in page
    assert Client().get("/chat/00000000-0000-0000-0000-000000000000/").status_code == 404
    widget = Client().get(f"/chat/{chat.uuid}/widget.js")
    assert widget["Content-Type"].startswith("application/javascript")
    url = re.search(r'var url = (".*?");', widget.content.decode())
    assert url is not None and json.loads(url.group(1)).endswith(f"/chat/{chat.uuid}/?embed=1")


def test_a_visitor_writes_is_remembered_and_sees_the_conversation(chat, cast):
    visitor = Client()
    response = visitor.post(
        f"/chat/{chat.uuid}/send/",
        {"text": "Hola, ¿tienen stock?", "name": "Paula", "email": "Paula@Correo.cl"},
    )
    assert response.status_code == 302
    assert cookie_name(str(chat.uuid)) in response.cookies
    visitor.post(f"/chat/{chat.uuid}/send/", {"text": "¿Talla M?"})
    with tenant_context(cast.tenant_a.pk):
        ticket = Ticket.objects.get()
        assert ticket.customer.name == "Paula"
        # The email is unverified contact data, never an identity (see tests/security).
        assert ticket.customer.contact_email == "paula@correo.cl"
        assert not ticket.customer.identities.filter(kind="email").exists()
        assert Message.objects.filter(ticket=ticket).count() == 2
        services.message_send(ticket=ticket, author=cast.agent, text="¡Sí, hay talla M!")
    page = visitor.get(f"/chat/{chat.uuid}/").content.decode()
    assert "¿Talla M?" in page and "¡Sí, hay talla M!" in page
    # Another browser is another visitor: it sees nothing of Paula's chat.
    assert "¿Talla M?" not in Client().get(f"/chat/{chat.uuid}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_agents_answer_reaches_the_visitors_window_live(chat, cast):
    visitor = Client()
    visitor.post(f"/chat/{chat.uuid}/send/", {"text": "¿Hay alguien?"})
    cookie = visitor.cookies[cookie_name(str(chat.uuid))].value
    socket = WebsocketCommunicator(
        application,
        f"/ws/chat/{chat.uuid}/",
        headers=[
            (b"cookie", f"{cookie_name(str(chat.uuid))}={cookie}".encode()),
            (b"origin", b"http://127.0.0.1"),
            (b"host", b"127.0.0.1"),
        ],
    )
    with tenant_context(cast.tenant_a.pk):
        ticket = Ticket.objects.get()

    def answer():
        with tenant_context(cast.tenant_a.pk):
            return services.message_send(ticket=ticket, author=cast.agent, text="¡Sí! Te leo.")

    async def scenario():
        assert (await socket.connect())[0]
        reply = await sync_to_async(answer)()
        frame = await socket.receive_from(timeout=10)
        await socket.disconnect()
        return reply, frame

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        reply, frame = async_to_sync(scenario)()
    assert "¡Sí! Te leo." in frame and "beforeend:#chat-thread" in frame
    with tenant_context(cast.tenant_a.pk):
        assert Message.objects.get(pk=reply.pk).status == DeliveryStatus.SENT


def test_outside_business_hours_the_chat_says_so_and_still_takes_the_message(chat, cast):
    import datetime

    import time_machine

    from deskconfig.models import BusinessInterval, BusinessSchedule

    with tenant_context(cast.tenant_a.pk):
        schedule = BusinessSchedule.objects.create(
            tenant=cast.tenant_a, name="Oficina", time_zone="America/Santiago", is_default=True
        )
        BusinessInterval.objects.create(
            tenant=cast.tenant_a,
            schedule=schedule,
            weekday=0,
            start=datetime.time(9),
            end=datetime.time(18),
        )
    # Sunday 2026-11-29 at noon in Santiago: closed. Monday at 10:00: open.
    with time_machine.travel(datetime.datetime(2026, 11, 29, 15, 0, tzinfo=datetime.UTC)):
        page = Client().get(f"/chat/{chat.uuid}/").content.decode()
        assert 'data-status="closed"' in page and "fuera de horario" in page
        visitor = Client()
        visitor.get(f"/chat/{chat.uuid}/")
        sent = visitor.post(f"/chat/{chat.uuid}/send/", {"text": "¿Abren mañana?"})
        assert sent.status_code in (200, 204, 302)
    with time_machine.travel(datetime.datetime(2026, 11, 30, 13, 0, tzinfo=datetime.UTC)):
        assert 'data-status="closed"' not in Client().get(f"/chat/{chat.uuid}/").content.decode()
    with tenant_context(cast.tenant_a.pk):
        assert Message.objects.filter(text="¿Abren mañana?").exists()
