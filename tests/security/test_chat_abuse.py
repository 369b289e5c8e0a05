"""Attack class: abusing the public web chat (no login: anyone with a browser).

Limits per visitor and per address, refused foreign sites and forged cookies, a socket that
costs no database work per frame and forwards typing at most once a second (finding 4), no
socket for a disconnected account, and an email typed by a visitor that never takes over the
identity of whoever really owns it (finding 6)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from channels_conn.webchat.visitors import cookie_name
from deskconfig.accounts import ChannelAccount
from helpdesk.asgi import application
from helpdesk.tenancy import bypass_context, tenant_context
from tests.conftest import client_for
from tickets import services
from tickets.live import ticket_group
from tickets.models import CustomerIdentity, Event, Message, Ticket

pytestmark = pytest.mark.django_db

CONNECT_QUERIES = 7  # on connect: the account, the visitor, their open ticket, tenant settings


@pytest.fixture
def chat(cast) -> ChannelAccount:
    with tenant_context(cast.tenant_a.pk):
        return ChannelAccount.objects.create(
            tenant=cast.tenant_a,
            kind="webchat",
            name="Chat del sitio",
            settings={"allowed_origins": ["https://tienda-a.example"]},
        )


def _socket(chat: ChannelAccount, visitor: Client) -> WebsocketCommunicator:
    name = cookie_name(str(chat.uuid))
    return WebsocketCommunicator(
        application,
        f"/ws/chat/{chat.uuid}/",
        headers=[
            (b"cookie", f"{name}={visitor.cookies[name].value}".encode()),
            (b"origin", b"http://127.0.0.1"),
            (b"host", b"127.0.0.1"),
        ],
    )


def test_too_many_messages_per_minute_are_refused(chat):
    cache.clear()
    visitor = Client()
    for i in range(20):
        visitor.post(f"/chat/{chat.uuid}/send/", {"text": f"m{i}"})
    refused = visitor.post(f"/chat/{chat.uuid}/send/", {"text": "uno más"}, HTTP_HX_REQUEST="true")
    assert "muy rápido" in refused.content.decode()
    with bypass_context():
        assert Message.all_tenants.count() == 20


def test_other_sites_and_oversized_messages_are_refused(chat):
    visitor = Client()
    foreign = visitor.post(
        f"/chat/{chat.uuid}/send/", {"text": "hola"}, HTTP_ORIGIN="https://evil.example"
    )
    assert foreign.status_code == 403
    long = visitor.post(f"/chat/{chat.uuid}/send/", {"text": "x" * 2001}, HTTP_HX_REQUEST="true")
    assert "muy largo" in long.content.decode()
    bad_email = visitor.post(
        f"/chat/{chat.uuid}/send/",
        {"text": "hola", "email": "no es correo"},
        HTTP_HX_REQUEST="true",
    )
    assert "no es un correo válido" in bad_email.content.decode()
    assert "hola" in bad_email.content.decode()  # the draft is kept
    with bypass_context():
        assert not Message.all_tenants.exists()
    allowed = visitor.post(
        f"/chat/{chat.uuid}/send/", {"text": "hola"}, HTTP_ORIGIN="https://tienda-a.example"
    )
    assert allowed.status_code == 302
    with bypass_context():
        assert Message.all_tenants.count() == 1


def test_a_visitor_socket_without_a_chat_is_refused(chat):
    socket = WebsocketCommunicator(
        application,
        f"/ws/chat/{chat.uuid}/",
        headers=[
            (b"cookie", f"{cookie_name(str(chat.uuid))}=forged".encode()),
            (b"origin", b"http://127.0.0.1"),
            (b"host", b"127.0.0.1"),
        ],
    )

    async def scenario():
        connected, _ = await socket.connect()
        assert not connected

    async_to_sync(scenario)()
    with bypass_context():
        assert not CustomerIdentity.all_tenants.exists()


@pytest.mark.django_db(transaction=True)
def test_a_disconnected_accounts_socket_is_refused(chat):
    visitor = Client()
    visitor.post(f"/chat/{chat.uuid}/send/", {"text": "hola"})
    with bypass_context():
        ChannelAccount.all_tenants.filter(pk=chat.pk).update(active=False)
    socket = _socket(chat, visitor)

    async def scenario():
        connected, _ = await socket.connect()
        assert not connected

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_two_hundred_typing_frames_cost_no_query_and_forward_one_event(chat, cast):
    visitor = Client()
    visitor.post(f"/chat/{chat.uuid}/send/", {"text": "hola", "name": "Visita"})
    with tenant_context(cast.tenant_a.pk):
        ticket = Ticket.objects.get()
        events_before = Event.objects.count()
    layer = get_channel_layer()
    socket = _socket(chat, visitor)

    async def scenario() -> list[dict]:
        listener = await layer.new_channel()
        await layer.group_add(ticket_group(ticket.pk), listener)
        assert (await socket.connect())[0]
        for _ in range(200):
            await socket.send_to(text_data='{"typing": true}')
        await socket.send_to(text_data="x" * 100_000)  # junk is dropped, not parsed
        assert await socket.receive_nothing(timeout=0.3)
        forwarded = []
        while True:
            try:
                forwarded.append(await _receive(layer, listener, 0.5))
            except TimeoutError:
                break
        await socket.disconnect()
        return forwarded

    # The socket's database work runs on this thread's connection (thread-sensitive), so it
    # is all captured: the connect's lookup only, nothing per frame (it was ~5 per frame).
    with CaptureQueriesContext(connection) as queries:
        forwarded = async_to_sync(scenario)()
    print(f"\n200 typing frames: {len(queries)} queries (connect included), {len(forwarded)} sent")
    assert len(queries) <= CONNECT_QUERIES, [q["sql"] for q in queries.captured_queries]
    assert len(forwarded) == 1 and forwarded[0]["name"] == "Visita"
    with tenant_context(cast.tenant_a.pk):
        assert Event.objects.count() == events_before  # typing is never stored


async def _receive(layer, channel: str, timeout: float) -> dict:
    import asyncio

    try:
        return await asyncio.wait_for(layer.receive(channel), timeout)
    except TimeoutError:
        raise TimeoutError from None


@pytest.mark.django_db(transaction=True)
def test_typing_reaches_the_ticket_a_first_message_opens(chat, cast):
    """The socket opens before the visitor writes; the view tells it the new ticket."""
    visitor = Client()
    visitor.get(f"/chat/{chat.uuid}/")  # a new visitor gets the cookie, no ticket yet
    layer = get_channel_layer()
    socket = _socket(chat, visitor)

    async def scenario() -> dict:
        from asgiref.sync import sync_to_async

        assert (await socket.connect())[0]
        await sync_to_async(visitor.post)(f"/chat/{chat.uuid}/send/", {"text": "hola"})
        with tenant_context(cast.tenant_a.pk):
            ticket = await sync_to_async(Ticket.objects.get)()
        listener = await layer.new_channel()
        await layer.group_add(ticket_group(ticket.pk), listener)
        await socket.send_to(text_data='{"typing": true}')
        event = await _receive(layer, listener, 3)
        await socket.disconnect()
        return event

    assert async_to_sync(scenario)()["type"] == "typing"


def test_a_visitors_email_never_takes_over_the_real_owners_mail(chat, cast):
    """Finding 6: a visitor typed the CEO's address; the CEO's later mail landed on the
    visitor's customer, under the visitor's chosen name."""
    visitor = Client()
    visitor.post(
        f"/chat/{chat.uuid}/send/",
        {"text": "hola", "name": "Impostor", "email": "Gerente@Tienda-A.cl"},
    )
    with tenant_context(cast.tenant_a.pk):
        chat_ticket = Ticket.objects.get()
        assert chat_ticket.customer.contact_email == "gerente@tienda-a.cl"
        assert not CustomerIdentity.objects.filter(kind="email").exists()
        mailbox = ChannelAccount.objects.create(
            tenant=cast.tenant_a, kind="email", name="Correo", settings={}
        )
        mail = services.message_receive(
            account=mailbox,
            inbound=services.Inbound(
                identity="gerente@tienda-a.cl", text="Soy el gerente", customer_name="Gerente"
            ),
        ).message.ticket
        assert mail.customer_id != chat_ticket.customer_id
        assert mail.customer.name == "Gerente"
    # The agent sees the visitor's address for what it is.
    tab = client_for(cast.agent).get(f"/tickets/{chat_ticket.number}/tab/cliente/")
    body = tab.content.decode()
    assert "sin verificar" in body and "gerente@tienda-a.cl" in body
