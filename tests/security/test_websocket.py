"""Attack class: websockets. A socket joins only its own tenant's groups, and only pages of our
own origin may open one (finding 5: scheme and port were ignored). Per-ticket sockets of another
tenant's number are refused in tests/test_ticket_live.py."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from helpdesk.asgi import application
from helpdesk.live import tenant_group, user_group

pytestmark = pytest.mark.django_db(transaction=True)

SITE_HOST = b"127.0.0.1:8000"


def _communicator(user=None, *, origin: bytes | None = b"http://127.0.0.1:8000", **scope):
    headers = [(b"host", scope.pop("host", SITE_HOST))]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    comm = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    comm.scope.update(scope)
    return comm


def _connects(comm: WebsocketCommunicator) -> bool:
    async def scenario() -> bool:
        connected, _ = await comm.connect()
        if connected:
            await comm.disconnect()
        return connected

    return async_to_sync(scenario)()


def test_our_own_origin_connects(cast):
    assert _connects(_communicator(cast.agent))


@pytest.mark.parametrize(
    "origin",
    [
        b"http://127.0.0.1:9999",  # another program on the same machine
        b"https://127.0.0.1:8000",
        b"https://localhost",
        b"http://localhost:8000",
        b"http://127.0.0.1",
        b"https://evil.example",
        b"null",
        b"http://127.0.0.1:8000.evil.example",
    ],
)
def test_foreign_origins_are_refused(cast, origin):
    assert not _connects(_communicator(cast.agent, origin=origin))


def test_a_handshake_without_origin_or_with_a_foreign_host_is_refused(cast):
    assert not _connects(_communicator(cast.agent, origin=None))
    evil = _communicator(cast.agent, origin=b"http://evil.example", host=b"evil.example")
    assert not _connects(evil)


def test_behind_a_proxy_the_secure_origin_and_trusted_origins_connect(cast, settings):
    def secure() -> WebsocketCommunicator:
        comm = _communicator(cast.agent, origin=b"https://127.0.0.1:8000", client=("10.0.0.2", 1))
        comm.scope["headers"].append((b"x-forwarded-proto", b"https"))
        return comm

    settings.TRUSTED_PROXIES = []
    assert not _connects(secure())  # anyone may write X-Forwarded-Proto
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    assert _connects(secure())  # our proxy says the page was https
    settings.CSRF_TRUSTED_ORIGINS = ["https://soporte.tienda-a.example"]
    assert _connects(_communicator(cast.agent, origin=b"https://soporte.tienda-a.example"))
    assert not _connects(_communicator(cast.agent, origin=b"http://soporte.tienda-a.example"))


def test_a_user_receives_its_tenant_events_and_nothing_of_another_tenant(cast):
    layer = get_channel_layer()
    mine = _communicator(cast.agent)
    other = _communicator(cast.outsider)

    async def scenario():
        assert (await mine.connect())[0]
        assert (await other.connect())[0]

        await layer.group_send(
            tenant_group(cast.tenant_a.pk), {"type": "push", "html": "<div>para A</div>"}
        )
        assert await mine.receive_from(timeout=3) == "<div>para A</div>"
        assert await other.receive_nothing(timeout=0.3)

        await layer.group_send(
            tenant_group(cast.tenant_b.pk), {"type": "push", "html": "<div>para B</div>"}
        )
        assert await other.receive_from(timeout=3) == "<div>para B</div>"
        assert await mine.receive_nothing(timeout=0.3)

        await layer.group_send(user_group(cast.agent.pk), {"type": "push", "html": "<i>solo</i>"})
        assert await mine.receive_from(timeout=3) == "<i>solo</i>"
        assert await other.receive_nothing(timeout=0.3)

        await mine.disconnect()
        await other.disconnect()

    async_to_sync(scenario)()
