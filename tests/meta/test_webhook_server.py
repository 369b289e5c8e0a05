"""The Meta callback as production serves it: daphne, and POSTs taken by the fast path
(``channels_conn.meta.asgi``) without Django's request stack. The same answers as through
Django (tests/meta/test_webhook.py), the same tenant routing, idempotency under concurrent
deliveries, and a database connection the server ended replaced without losing the delivery."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.db import connection

from channels_conn.meta.asgi import MetaWebhookFastPath
from channels_conn.meta.models import MetaRejectedWebhook, MetaWebhookEvent
from channels_conn.meta.signature import sign
from helpdesk.tenancy import bypass_context, tenant_context
from tests.live import Daphne
from tests.meta.payloads import NUMBER_A, NUMBER_B, SECRET, VERIFY, wa_message, whatsapp

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Daphne]:
    monkeypatch.setenv("META_APP_SECRET", SECRET)
    monkeypatch.setenv("META_VERIFY_TOKEN", VERIFY)
    monkeypatch.setenv("META_WEBHOOK_THREADS", "2")
    daphne = Daphne()
    daphne.start()
    yield daphne
    daphne.stop()


def _post(server: Daphne, raw: bytes, signature: str | None = None, **headers: str) -> Any:
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(raw, SECRET) if signature is None else signature,
        **headers,
    }
    return requests.post(f"{server.url}/webhooks/meta/", data=raw, headers=headers, timeout=10)


def _events(tenant_id: int) -> list[str]:
    with tenant_context(tenant_id):
        return sorted(
            e.entry["changes"][0]["value"]["messages"][0]["id"]
            for e in MetaWebhookEvent.objects.all()
        )


def test_one_post_for_two_tenants_stores_each_entry_in_its_own_desk(server, wa, wa_b, cast):
    raw = whatsapp(wa_message(NUMBER_A, wamid="wamid.SA"), wa_message(NUMBER_B, wamid="wamid.SB"))
    response = _post(server, raw)
    assert (response.status_code, response.text) == (200, "EVENT_RECEIVED")
    assert _events(cast.tenant_a.pk) == ["wamid.SA"]
    assert _events(cast.tenant_b.pk) == ["wamid.SB"]


def test_the_same_post_at_the_same_moment_is_stored_once(server, wa, cast):
    raw = whatsapp(wa_message(wamid="wamid.TWICE"))
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _n: _post(server, raw).status_code, range(16)))
    assert codes == [200] * 16
    assert _events(cast.tenant_a.pk) == ["wamid.TWICE"]


def test_bad_signatures_malformed_bodies_and_wrong_hosts_get_the_same_answers(server, wa, cast):
    raw = whatsapp(wa_message(wamid="wamid.BAD"))
    assert _post(server, raw, signature=sign(raw, "not-the-secret")).status_code == 401
    assert _post(server, raw, signature="").status_code == 401
    broken = b'{"object": "whatsapp_business_account", "entry": [ broken'
    assert _post(server, broken).status_code == 400
    # A host outside ALLOWED_HOSTS goes on to Django, which refuses it.
    assert _post(server, raw, Host="evil.example").status_code == 400
    assert _events(cast.tenant_a.pk) == []
    assert [bytes(r.raw) for r in MetaRejectedWebhook.objects.all()] == [broken]


def test_the_handshake_and_other_pages_are_still_django_s(server):
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "31337"}
    handshake = requests.get(f"{server.url}/webhooks/meta/", params=params, timeout=10)
    assert (handshake.status_code, handshake.text) == (200, "31337")
    params["hub.verify_token"] = "wrong"
    assert (
        requests.get(f"{server.url}/webhooks/meta/", params=params, timeout=10).status_code == 403
    )
    # A POST to another path is not the fast path's: Django's CSRF check refuses it.
    other = requests.post(f"{server.url}/webhooks/meta/files/x/", timeout=10)
    assert other.status_code == 403


def test_a_connection_the_database_ended_is_replaced_and_the_delivery_stored(server, wa, cast):
    assert _post(server, whatsapp(wa_message(wamid="wamid.BEFORE"))).status_code == 200
    with bypass_context(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1  # the fast path's kept connection
    responses = [_post(server, whatsapp(wa_message(wamid=f"wamid.AFTER{n}"))) for n in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    assert _events(cast.tenant_a.pk) == ["wamid.AFTER0", "wamid.AFTER1", "wamid.AFTER2",
                                         "wamid.AFTER3", "wamid.BEFORE"]  # fmt: skip


async def _never_called(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the fast path must answer this request itself")


def test_a_body_over_the_upload_limit_is_refused_before_anything_is_read(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    scope = {
        "type": "http", "method": "POST", "path": "/webhooks/meta/", "scheme": "http",
        "headers": [(b"host", b"127.0.0.1")],
    }  # fmt: skip
    app = ApplicationCommunicator(MetaWebhookFastPath(_never_called), scope)

    async def exchange() -> list[dict[str, Any]]:
        for _chunk in range(3):
            await app.send_input({"type": "http.request", "body": b"x" * 600, "more_body": True})
        await app.send_input({"type": "http.request", "body": b"", "more_body": False})
        return [await app.receive_output(5), await app.receive_output(5)]

    start, body = async_to_sync(exchange)()
    assert start["status"] == 400 and b"too large" in body["body"]
    with bypass_context():
        assert not MetaWebhookEvent.all_tenants.exists()
