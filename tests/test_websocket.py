"""The inbox websocket: logged-in tenant users only, and only their tenant's events."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from helpdesk.asgi import application
from helpdesk.consumers import CLOSE_UNAUTHENTICATED
from helpdesk.live import publish, tenant_group

pytestmark = pytest.mark.django_db(transaction=True)


def _communicator(user=None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, "/ws/inbox/", headers=headers)


def test_anonymous_connections_are_refused(cast):
    async def scenario():
        comm = _communicator()
        connected, code = await comm.connect()
        assert not connected
        assert code == CLOSE_UNAUTHENTICATED

    async_to_sync(scenario)()


def test_publish_from_sync_code_reaches_the_tenant(cast):
    """Services publish from sync code (on commit); the consumer forwards the HTML as is."""
    comm = _communicator(cast.admin)
    html = '<span id="x" hx-swap-oob="true">1</span>'

    async def scenario():
        assert (await comm.connect())[0]
        await sync_to_async(publish)(tenant_group(cast.tenant_a.pk), {"html": html})
        assert await comm.receive_from(timeout=3) == html
        await comm.disconnect()

    async_to_sync(scenario)()


def test_an_idle_connection_still_receives(cast):
    """channels_redis reads with a 5 s blocking call: a Redis client socket timeout of 5 s
    (redis-py's default) would kill every consumer idle that long."""
    import asyncio

    layer = get_channel_layer()
    comm = _communicator(cast.agent)

    async def scenario():
        assert (await comm.connect())[0]
        await asyncio.sleep(6)
        await layer.group_send(
            tenant_group(cast.tenant_a.pk), {"type": "push", "html": "<b>despierto</b>"}
        )
        assert await comm.receive_from(timeout=3) == "<b>despierto</b>"
        await comm.disconnect()

    async_to_sync(scenario)()


def test_a_deactivated_persons_open_sockets_are_closed(cast):
    from admin_config.users import user_deactivate
    from helpdesk.consumers import CLOSE_FORBIDDEN
    from helpdesk.tenancy import tenant_context

    comm = _communicator(cast.agent)

    async def scenario():
        assert (await comm.connect())[0]
        await comm.receive_nothing(timeout=0.3)

        def deactivate():
            with tenant_context(cast.tenant_a.pk):
                user_deactivate(actor=cast.admin, user=cast.agent)

        await sync_to_async(deactivate)()
        closed = await comm.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}

    async_to_sync(scenario)()
