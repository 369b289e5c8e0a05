"""The one Meta callback: handshake, signatures, routing by the ids inside, storage per tenant,
failures kept for the admins, and idempotency under concurrent deliveries."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client

from channels_conn.meta.models import MetaRejectedWebhook, MetaWebhookEvent
from channels_conn.meta.signature import sign
from helpdesk.tenancy import bypass_context, tenant_context
from tests.meta.payloads import (
    NUMBER_A,
    NUMBER_B,
    SECRET,
    VERIFY,
    post,
    wa_message,
    whatsapp,
)
from tests.tickets.helpers import run_in_threads
from tickets.live import inbox_group
from tickets.models import Event, EventKind, Message, Ticket

db = pytest.mark.django_db


@db
def test_handshake_echoes_the_challenge_only_with_our_verify_token(client):
    ok = client.get(
        "/webhooks/meta/",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.content == b"1158201444"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ):
        assert client.get("/webhooks/meta/", params).status_code == 403


@db
def test_an_account_with_its_own_app_answers_the_handshake_with_its_verify_token(client, wa):
    with bypass_context():
        wa.credentials = {**wa.credentials, "verify_token": "own-verify"}
        wa.save()
    params = {"hub.mode": "subscribe", "hub.verify_token": "own-verify", "hub.challenge": "77"}
    assert client.get("/webhooks/meta/", params).content == b"77"


@db
def test_a_bad_signature_is_refused_and_nothing_is_stored(client, wa, caplog):
    raw = whatsapp(wa_message())
    assert post(client, raw, secret="not-the-secret").status_code == 401
    assert post(client, raw, signature="").status_code == 401
    assert post(client, raw, signature="sha1=" + "0" * 40).status_code == 401
    assert post(client, b"not json", secret="nope").status_code == 401
    with bypass_context():
        assert not MetaWebhookEvent.all_tenants.exists()
        assert not Message.all_tenants.exists()
    assert not MetaRejectedWebhook.objects.exists()
    # One log line for the burst, not four (an attacker must not flood the logs).
    assert sum("bad signature" in r.getMessage() for r in caplog.records) <= 1


@db
def test_a_signed_body_that_is_not_json_is_answered_400_and_kept(client):
    raw = b'{"object": "page", "entry": [ broken'
    assert post(client, raw).status_code == 400
    kept = MetaRejectedWebhook.objects.get()
    assert bytes(kept.raw) == raw


@db
def test_an_id_no_account_has_is_answered_200_and_dropped(client, wa):
    raw = whatsapp(wa_message("999000111"))
    response = post(client, raw)
    assert response.status_code == 200
    with bypass_context():
        assert not MetaWebhookEvent.all_tenants.exists()


@db
def test_the_entry_is_stored_in_its_tenant_then_processed(client, wa, process, cast):
    raw = whatsapp(wa_message(wamid="wamid.STORE"))
    with process:
        assert post(client, raw).status_code == 200
    with tenant_context(cast.tenant_a.pk):
        event = MetaWebhookEvent.objects.get()
        assert event.account_id == wa.pk and event.status == MetaWebhookEvent.Status.PROCESSED
        assert event.entry["changes"][0]["value"]["messages"][0]["id"] == "wamid.STORE"
        message = Message.objects.get(provider_id="wamid.STORE")
        assert message.text == "Hola, ¿tienen otro color?"
        assert message.ticket.customer.name == "Sheena Nelson"
    with tenant_context(cast.tenant_b.pk):
        assert not MetaWebhookEvent.objects.exists()  # row-level security: not B's


@db
def test_two_tenants_numbers_in_one_post_land_in_their_own_desks(client, wa, wa_b, process, cast):
    entry = wa_message(NUMBER_A, wamid="wamid.FOR-A", sender="56911111111")
    entry_b = wa_message(NUMBER_B, wamid="wamid.FOR-B", sender="56922222222")
    # Same WABA entry carrying two numbers' changes, as Meta may batch them.
    entry["changes"] += entry_b["changes"]
    with process:
        assert post(client, whatsapp(entry)).status_code == 200
    with tenant_context(cast.tenant_a.pk):
        assert list(Message.objects.values_list("provider_id", flat=True)) == ["wamid.FOR-A"]
        stored = MetaWebhookEvent.objects.get()
        assert json.dumps(stored.entry).count("wamid.FOR-B") == 0  # B's part is not A's data
    with tenant_context(cast.tenant_b.pk):
        assert list(Message.objects.values_list("provider_id", flat=True)) == ["wamid.FOR-B"]
        assert Ticket.objects.get().account_id == wa_b.pk


@db
def test_an_account_with_its_own_app_secret_accepts_only_its_signature(client, wa, process, cast):
    with bypass_context():
        wa.credentials = {**wa.credentials, "app_secret": "tenant-own-secret"}
        wa.save()
    raw = whatsapp(wa_message(wamid="wamid.OWN"))
    with process:
        assert post(client, raw).status_code == 200  # platform-signed: dropped for this account
        assert post(client, raw, secret="tenant-own-secret").status_code == 200
    with tenant_context(cast.tenant_a.pk):
        assert MetaWebhookEvent.objects.count() == 1
        assert Message.objects.filter(provider_id="wamid.OWN").count() == 1
    assert post(client, raw, secret="someone-else").status_code == 401


@db
def test_a_processing_error_stays_visible_with_retry(client, wa, process, cast, meta_settings):
    # The media lookup fails for good (the id is unknown to Graph): the event is failed,
    # with its error, and «Reintentar» processes it again once Graph answers.
    meta_settings.expect_request("/v25.0/MEDIA-1").respond_with_json(
        {"error": {"message": "Invalid media id", "code": 100}}, status=400
    )
    raw = whatsapp(wa_message(type="image", image={"id": "MEDIA-1", "mime_type": "image/jpeg"}))
    with process:
        post(client, raw)
    with tenant_context(cast.tenant_a.pk):
        event = MetaWebhookEvent.objects.get()
        assert event.status == MetaWebhookEvent.Status.FAILED and "Invalid media id" in event.error
        assert not Message.objects.exists()
    meta_settings.clear()
    meta_settings.expect_request("/v25.0/MEDIA-1").respond_with_json(
        {"url": meta_settings.url_for("/media/MEDIA-1"), "mime_type": "image/jpeg", "id": "MEDIA-1"}
    )
    meta_settings.expect_request("/media/MEDIA-1").respond_with_data(
        b"\xff\xd8jpeg", content_type="image/jpeg"
    )
    admin = Client()
    admin.force_login(cast.admin)
    page = admin.get(f"/admin/channels/{wa.pk}/")
    assert "Invalid media id" in page.content.decode()
    response = admin.post(f"/admin/channels/{wa.pk}/meta-events/{event.pk}/retry/")
    assert response.status_code == 302
    with tenant_context(cast.tenant_a.pk):
        assert MetaWebhookEvent.objects.get().status == MetaWebhookEvent.Status.PROCESSED
        assert Message.objects.get().attachments.get().content_type == "image/jpeg"
    outsider = Client()
    outsider.force_login(cast.outsider)
    assert (
        outsider.post(f"/admin/channels/{wa.pk}/meta-events/{event.pk}/retry/").status_code == 404
    )


@pytest.mark.django_db(transaction=True)
def test_the_same_message_posted_concurrently_gives_one_message_one_push_one_run(
    wa, cast, eager_celery
):
    """Eight deliveries at once: four of the same body (Meta's retry racing the original) and
    four of another envelope carrying the same wamid (another app's subscription)."""
    first = whatsapp(wa_message(wamid="wamid.RACE", ts="1749416383"))
    other_entry = wa_message(wamid="wamid.RACE", ts="1749416383")
    other_entry["time"] = 1749416999
    second = whatsapp(other_entry)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(inbox_group(cast.tenant_a.pk), channel)

    def deliver(raw: bytes):
        return lambda: (
            Client()
            .post(
                "/webhooks/meta/",
                data=raw,
                content_type="application/json",
                HTTP_X_HUB_SIGNATURE_256=sign(raw, SECRET),
            )
            .status_code
        )

    codes = run_in_threads(cast.tenant_a.pk, [deliver(first)] * 4 + [deliver(second)] * 4)
    assert codes == [200] * 8

    async def drain() -> list[dict]:
        got = []
        while True:
            try:
                got.append(await asyncio.wait_for(layer.receive(channel), 2))
            except TimeoutError:
                return got

    pushed = async_to_sync(drain)()
    async_to_sync(layer.group_discard)(inbox_group(cast.tenant_a.pk), channel)
    with tenant_context(cast.tenant_a.pk):
        assert MetaWebhookEvent.objects.count() == 2  # one row per distinct entry
        message = Message.objects.get(provider_id="wamid.RACE")
        assert Event.objects.filter(kind=EventKind.MESSAGE_IN).count() == 1  # one automation run
    new_message_pushes = [p for p in pushed if p.get("event") == "message"]
    assert len(new_message_pushes) == 1
    assert new_message_pushes[0]["snapshot"]["id"] == message.pk


@db
def test_a_routing_id_belongs_to_one_account_of_the_whole_platform(client, wa, cast):
    """Tenant B cannot connect tenant A's WhatsApp number (it would receive A's messages)."""
    from tests.conftest import client_for

    outsider = client_for(cast.outsider)
    response = outsider.post(
        "/admin/channels/new/whatsapp/",
        {
            "name": "Robado",
            "phone_number_id": NUMBER_A,
            "waba_id": "1",
            "access_token": "t",
            "sla_minutes": 60,
        },
    )
    assert response.status_code == 200
    assert "ya está conectado en otra cuenta" in response.content.decode()
    with bypass_context():
        assert not type(wa).all_tenants.filter(name="Robado").exists()


@db
def test_an_id_two_accounts_claim_is_delivered_to_neither(client, wa, cast, process):
    with bypass_context():
        type(wa).all_tenants.create(
            tenant=cast.tenant_b,
            kind="whatsapp",
            name="Duplicada",
            settings={"phone_number_id": NUMBER_A},
            credentials={"access_token": "x"},
        )
    with process:
        assert post(client, whatsapp(wa_message(wamid="wamid.AMBIG"))).status_code == 200
    with bypass_context():
        assert not Message.all_tenants.filter(provider_id="wamid.AMBIG").exists()


@db
def test_the_answer_does_one_insert_and_no_select_for_a_known_number(
    client, wa, cast, django_capture_on_commit_callbacks
):
    """The answer path: verify, one INSERT of the event row, enqueue. The account comes from
    the process's routing table (the first POST fills it); an account saved anywhere drops it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with django_capture_on_commit_callbacks():
        post(client, whatsapp(wa_message(wamid="wamid.WARM")))
    with CaptureQueriesContext(connection) as seen, django_capture_on_commit_callbacks() as queued:
        assert post(client, whatsapp(wa_message(wamid="wamid.Q1"))).status_code == 200
    statements = [q["sql"] for q in seen.captured_queries]
    touching = [s for s in statements if "set_config" not in s]
    assert len(touching) == 1 and touching[0].startswith("INSERT INTO")
    assert len(statements) <= 5, statements  # the rest only sets and clears the tenant
    assert len(queued) == 1  # the processing task, enqueued
    # An account saved (here: deactivated) is seen by the next POST.
    with bypass_context():
        wa.active = False
        wa.save(update_fields=["active"])
    with django_capture_on_commit_callbacks() as queued:
        post(client, whatsapp(wa_message(wamid="wamid.Q2")))
    assert queued == []


@db
def test_a_number_connected_after_its_first_unknown_post_is_routed_at_once(client, cast, process):
    """Unknown ids are remembered (no query per junk POST), but connecting the number drops
    that memory: the next POST is filed."""
    from deskconfig.accounts import ChannelAccount
    from deskconfig.kinds import ChannelKind
    from tests.meta.payloads import NUMBER_B

    with process:
        assert post(client, whatsapp(wa_message(NUMBER_B, wamid="wamid.EARLY"))).status_code == 200
    with bypass_context():
        ChannelAccount.objects.create(
            tenant=cast.tenant_b,
            kind=ChannelKind.WHATSAPP,
            name="Recién conectado",
            settings={"phone_number_id": NUMBER_B},
            credentials={"access_token": "t"},
        )
    with process:
        assert post(client, whatsapp(wa_message(NUMBER_B, wamid="wamid.LATER"))).status_code == 200
    with tenant_context(cast.tenant_b.pk):
        assert list(Message.objects.values_list("provider_id", flat=True)) == ["wamid.LATER"]
