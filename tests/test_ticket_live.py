"""The ticket page's live connection: who else is here, who is typing, new messages."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from deskconfig.accounts import ChannelAccount
from helpdesk.asgi import application
from helpdesk.consumers import CLOSE_FORBIDDEN
from helpdesk.tenancy import tenant_context
from tickets import services

pytestmark = pytest.mark.django_db(transaction=True)


def _socket(user, number) -> WebsocketCommunicator:
    client = Client()
    client.force_login(user)
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]
    return WebsocketCommunicator(application, f"/ws/tickets/{number}/", headers=headers)


@pytest.fixture
def ticket(cast):
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
        return services.message_receive(
            account=account,
            inbound=services.Inbound(identity="v-1", text="hola", customer_name="Ana"),
        ).message.ticket


def _receive_new(account_id, tenant_id, text):
    with tenant_context(tenant_id):
        account = ChannelAccount.objects.get(pk=account_id)
        services.message_receive(
            account=account, inbound=services.Inbound(identity="v-1", text=text)
        )


def test_presence_typing_and_live_messages(cast, ticket):
    agent = _socket(cast.agent, ticket.number)
    admin = _socket(cast.admin, ticket.number)

    async def scenario():
        assert (await agent.connect())[0]
        assert (await admin.connect())[0]
        # The agent learns the admin arrived; the admin learns the agent was already there.
        seen_by_agent = await agent.receive_from(timeout=3)
        seen_by_admin = await admin.receive_from(timeout=3)
        assert 'id="presence"' in seen_by_agent and str(cast.admin.name) in seen_by_agent
        assert str(cast.agent.name) in seen_by_admin

        await admin.send_to(text_data=json.dumps({"typing": "1", "HEADERS": {}}))
        typing = await agent.receive_from(timeout=3)
        assert "está escribiendo" in typing and str(cast.admin.name) in typing
        assert await admin.receive_nothing(timeout=0.3)  # nobody is told about themselves

        await sync_to_async(_receive_new)(ticket.account_id, cast.tenant_a.pk, "¿siguen ahí?")
        for sock in (agent, admin):
            frames = [await sock.receive_from(timeout=3) for _ in range(2)]
            assert any("¿siguen ahí?" in f and "beforeend:#thread" in f for f in frames)
            assert any('id="live-signal"' in f and "/header/" in f for f in frames)

        await admin.disconnect()
        left = await agent.receive_from(timeout=3)
        assert 'id="presence"' in left and str(cast.admin.name) not in left
        await agent.disconnect()

    async_to_sync(scenario)()


def test_another_tenants_ticket_socket_is_refused(cast, ticket):
    outsider = _socket(cast.outsider, ticket.number)

    async def scenario():
        connected, code = await outsider.connect()
        assert not connected
        assert code == CLOSE_FORBIDDEN

    async_to_sync(scenario)()


def _inbox_socket(user) -> WebsocketCommunicator:
    client = Client()
    client.force_login(user)
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]
    return WebsocketCommunicator(application, "/ws/inbox/?inbox=1", headers=headers)


def test_inbox_events_reach_every_open_inbox_through_one_hub_per_process(cast):
    """The channel layer delivers an inbox event once to this process (its hub), which hands
    it to both open inboxes; when the last one closes the hub leaves the group."""
    from channels.layers import get_channel_layer

    from tickets import columns as column_services
    from tickets.consumers_inbox import inbox_hub
    from tickets.live import inbox_group

    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
        for user in (cast.agent, cast.admin):
            column_services.columns_apply_flow(user=user, flow="four")
    agent, admin = _inbox_socket(cast.agent), _inbox_socket(cast.admin)
    layer = get_channel_layer()
    group_key = layer._group_key(inbox_group(cast.tenant_a.pk))

    async def members() -> int:
        return await layer.connection(layer.consistent_hash(inbox_group(cast.tenant_a.pk))).zcard(
            group_key
        )

    async def scenario():
        before = await members()  # Redis outlives the test database: count from here
        assert (await agent.connect())[0]
        assert (await admin.connect())[0]
        hub = inbox_hub(layer, cast.tenant_a.pk)
        for _ in range(200):  # each consumer joins the hub once its columns are loaded
            if len(hub.consumers) == 2:
                break
            await agent.receive_nothing(timeout=0.05)
        assert len(hub.consumers) == 2 and await members() == before + 1  # one: the hub
        await sync_to_async(_receive_new)(account.pk, cast.tenant_a.pk, "¿hola?")
        for sock in (agent, admin):  # "Sin asignar" of both inboxes gets the card
            frames = [await sock.receive_from(timeout=10)]
            while not any("¿hola?" in f for f in frames):  # the bell may speak first
                frames.append(await sock.receive_from(timeout=10))
            assert sum(f.count("<article") for f in frames if "¿hola?" in f) == 1
        await agent.disconnect()
        assert len(hub.consumers) == 1 and await members() == before + 1
        await admin.disconnect()
        assert len(hub.consumers) == 0 and await members() == before

    async_to_sync(scenario)()
