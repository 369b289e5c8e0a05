"""Stored Meta events filed in batches (channels_conn/meta/batch.py): every shape applied in
order inside one transaction, a poisonous event set aside alone, an event that needs Graph
filed one by one after the commit, and a fixed number of statements per batch."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_conn.meta.batch import _LOCK_NAMESPACE, events_drain
from channels_conn.meta.models import MetaMessageInfo, MetaWebhookEvent
from channels_conn.meta.services import event_store
from helpdesk.tenancy import tenant_context
from tests.meta.payloads import wa_message, wa_status
from tickets.models import AuthorKind, DeliveryStatus, Direction, Message, Ticket

db = pytest.mark.django_db
WA = "whatsapp_business_account"
Status = MetaWebhookEvent.Status


def _store(account: Any, *entries: dict[str, Any]) -> list[int]:
    ids = [event_store(account=account, obj=WA, entry=e) for e in entries]
    assert all(ids)
    return [int(i) for i in ids if i]


def _text(n: int, **kw: Any) -> dict[str, Any]:
    options = {
        "wamid": f"wamid.B{n}", "sender": f"5691000{n:04d}", "name": f"Cliente {n}",
        "ts": str(1749416383 + n), **kw,
    }  # fmt: skip
    return wa_message(**options)


def _answer_media(graph: Any, media_id: str) -> None:
    """Graph's media lookup and the download it points to (a small JPEG)."""
    graph.expect_request(f"/v25.0/{media_id}").respond_with_json(
        {"url": graph.url_for(f"/media/{media_id}"), "mime_type": "image/jpeg", "id": media_id}
    )
    graph.expect_request(f"/media/{media_id}").respond_with_data(
        b"\xff\xd8jpeg", content_type="image/jpeg"
    )


@db
def test_a_batch_applies_every_shape_in_order_and_sets_a_poisonous_event_aside(
    wa, cast, django_capture_on_commit_callbacks
):
    with tenant_context(cast.tenant_a.pk), django_capture_on_commit_callbacks():
        ticket_of_ours = Ticket.objects.create(
            tenant=cast.tenant_a, number=900, customer=_customer(cast), account=wa
        )
        Message.objects.create(
            tenant=cast.tenant_a, ticket=ticket_of_ours, account=wa, direction=Direction.OUT,
            author_kind=AuthorKind.AGENT, text="Hola", provider_id="wamid.OURS",
            status=DeliveryStatus.SENT,
        )  # fmt: skip
        ids = _store(
            wa,
            _text(1),
            _text(2),
            # A reaction on the message of the first event: it is filed before it is needed.
            wa_message(
                wamid="wamid.R",
                sender="56910000001",
                type="reaction",
                reaction={"message_id": "wamid.B1", "emoji": "👍"},
            ),
            wa_status("wamid.OURS", "read"),
            wa_message(wamid="wamid.BAD", ts="not-a-number"),  # its code raises
            wa_message(wamid="wamid.NOBODY", sender=""),  # nothing names the customer
            _text(3, context={"id": "wamid.B2"}),  # quotes a message of this batch
            _text(2, wamid="wamid.B2-again"),  # the same customer again: the same ticket
        )
        drained = events_drain()
        assert (drained.processed, drained.failed, drained.one_by_one) == (6, 2, 0)
        events = dict(MetaWebhookEvent.objects.values_list("pk", "status"))
        assert [events[i] for i in ids] == [Status.PROCESSED] * 4 + [Status.FAILED] * 2 + [
            Status.PROCESSED
        ] * 2
        assert "ValueError" in MetaWebhookEvent.objects.get(pk=ids[4]).error
        failed = MetaWebhookEvent.objects.get(pk=ids[5])
        assert "identificar al cliente" in failed.error and failed.attempts == 1
        first = Message.objects.get(provider_id="wamid.B1")
        assert MetaMessageInfo.objects.get(message=first).data["reactions"] == {"56910000001": "👍"}
        assert Message.objects.get(provider_id="wamid.OURS").status == DeliveryStatus.READ
        third = Message.objects.get(provider_id="wamid.B3")
        assert third.reply_to == Message.objects.get(provider_id="wamid.B2")
        again = Message.objects.get(provider_id="wamid.B2-again")
        assert again.ticket_id == third.reply_to.ticket_id
        assert not Message.objects.filter(provider_id__in=["wamid.NOBODY", "wamid.BAD"]).exists()
        assert Ticket.objects.exclude(pk=ticket_of_ours.pk).count() == 3


def _customer(cast: Any) -> Any:
    from tickets.models import Customer

    return Customer.objects.create(tenant=cast.tenant_a, name="Cliente nuestro")


@db
def test_an_event_that_needs_graph_is_filed_one_by_one_after_the_batch(
    wa, cast, meta_settings, django_capture_on_commit_callbacks
):
    _answer_media(meta_settings, "MEDIA-9")
    with tenant_context(cast.tenant_a.pk), django_capture_on_commit_callbacks():
        _store(
            wa,
            _text(1),
            wa_message(
                wamid="wamid.IMG",
                sender="56910000002",
                type="image",
                image={"id": "MEDIA-9", "mime_type": "image/jpeg", "caption": "Mira"},
            ),
            _text(3),
        )
        drained = events_drain()
        assert (drained.processed, drained.one_by_one) == (2, 1)
        assert set(MetaWebhookEvent.objects.values_list("status", flat=True)) == {Status.PROCESSED}
        image = Message.objects.get(provider_id="wamid.IMG")
        assert image.text == "Mira" and image.attachments.get().content_type == "image/jpeg"
        assert Message.objects.filter(provider_id__in=["wamid.B1", "wamid.B3"]).count() == 2


@db
def test_a_batch_costs_the_same_statements_whatever_its_size(
    wa, cast, django_capture_on_commit_callbacks
):
    """Customers' text messages, each a new conversation: a drain's statements do not grow with
    its messages (the pushes go after the commit)."""
    counts = []
    with tenant_context(cast.tenant_a.pk), django_capture_on_commit_callbacks():
        for start, size in ((0, 5), (100, 40)):
            _store(wa, *(_text(n) for n in range(start, start + size)))
            with CaptureQueriesContext(connection) as seen:
                assert events_drain().processed == size
            counts.append(len(seen.captured_queries))
        assert Message.objects.count() == 45
    assert counts[0] == counts[1], counts
    assert counts[0] <= 25, counts


def _hold_elsewhere(key: int, held: threading.Event, release: threading.Event) -> None:
    """Another drain's session holding the event (its own connection, in its own thread)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    held.set()
    release.wait(10)
    connection.close()  # the session ends and its lock with it


@db
def test_an_event_another_drain_is_filing_through_graph_is_left_to_it(
    wa, cast, meta_settings, django_capture_on_commit_callbacks
):
    _answer_media(meta_settings, "MEDIA-7")
    image = wa_message(wamid="wamid.IMG7", type="image", image={"id": "MEDIA-7"})
    with tenant_context(cast.tenant_a.pk), django_capture_on_commit_callbacks():
        [event_id] = _store(wa, image)
        held, release = threading.Event(), threading.Event()
        other = threading.Thread(
            target=_hold_elsewhere, args=(_LOCK_NAMESPACE | event_id, held, release)
        )
        other.start()
        try:
            assert held.wait(10)
            assert events_drain().one_by_one == 1
            # No Graph call and nothing filed: the holder downloads it, once.
            assert [r.path for r, _response in meta_settings.log] == []
            assert MetaWebhookEvent.objects.get().status == Status.RECEIVED
        finally:
            release.set()
            other.join()
        events_drain()
        assert MetaWebhookEvent.objects.get().status == Status.PROCESSED
        assert Message.objects.get(provider_id="wamid.IMG7").attachments.count() == 1
        assert [r.path for r, _response in meta_settings.log] == [
            "/v25.0/MEDIA-7",
            "/media/MEDIA-7",
        ]
