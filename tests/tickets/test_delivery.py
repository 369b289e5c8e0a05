"""The send pipeline: queued → connector → sent, transient retries, permanent failures, retry by
hand, delivery receipts. The connector is the test's own (registered for the test only)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from channels_conn.base import ConnectorError
from helpdesk.celery import app
from helpdesk.tenancy import tenant_context
from tests.conftest import client_for
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import events, fresh, receive
from tickets import services
from tickets.models import DeliveryStatus, EventKind, Message
from tickets.tasks import MAX_SEND_RETRIES, deliver_message

transactional = pytest.mark.django_db(transaction=True)
db = pytest.mark.django_db


@pytest.fixture
def reply(account, in_a) -> Message:
    ticket = receive(account, text="Hola").message.ticket
    return services.message_send(ticket=ticket, author=in_a.agent, text="Hola, ¿en qué ayudo?")


def _transient(reason: str = "timeout") -> ConnectorError:
    return ConnectorError(reason, permanent=False)


# --- the service and the task, run here ------------------------------------------------------


@db
def test_deliver_hands_the_message_to_the_connector_and_marks_it_sent(reply, connector):
    services.message_deliver(message_id=reply.pk)

    reply = fresh(reply)
    assert connector.sent == [reply.pk]
    assert reply.status == DeliveryStatus.SENT
    assert reply.provider_id == f"prov-{reply.pk}"
    assert reply.sent_at is not None
    assert reply.send_attempts == 1


@db
def test_a_transient_error_is_raised_for_a_retry_and_leaves_the_message_queued(reply, connector):
    connector.failures = [_transient("503 del proveedor")]

    with pytest.raises(ConnectorError) as err:
        services.message_deliver(message_id=reply.pk)

    assert err.value.permanent is False
    reply = fresh(reply)
    assert reply.status == DeliveryStatus.QUEUED
    assert reply.failure_reason == ""
    assert reply.provider_id is None
    assert reply.send_attempts == 1
    assert not events(reply.ticket, EventKind.SEND_FAILED)

    services.message_deliver(message_id=reply.pk)  # the retry
    assert fresh(reply).status == DeliveryStatus.SENT
    assert fresh(reply).send_attempts == 2


@db
def test_the_task_retries_transient_errors_until_the_message_is_sent(reply, connector):
    connector.failures = [_transient(), _transient(), _transient()]

    deliver_message.apply(args=[reply.tenant_id, reply.pk]).get()

    reply = fresh(reply)
    assert reply.status == DeliveryStatus.SENT
    assert reply.send_attempts == 4
    assert connector.sent == [reply.pk] * 4


@db
def test_when_retries_are_exhausted_the_task_marks_the_message_failed(reply, connector):
    connector.failures = [_transient("sigue caído")]

    deliver_message.apply(args=[reply.tenant_id, reply.pk], retries=MAX_SEND_RETRIES).get()

    reply = fresh(reply)
    assert reply.status == DeliveryStatus.FAILED
    assert reply.failure_reason == "sigue caído"
    (event,) = events(reply.ticket, EventKind.SEND_FAILED)
    assert event.actor_kind == "system"
    assert event.data == {"message": reply.pk, "reason": "sigue caído"}


@db
def test_a_permanent_error_marks_the_message_failed_with_the_reason(reply, connector):
    connector.failures = [ConnectorError("token inválido", permanent=True)]

    services.message_deliver(message_id=reply.pk)

    reply = fresh(reply)
    assert reply.status == DeliveryStatus.FAILED
    assert reply.failure_reason == "token inválido"
    assert connector.sent == [reply.pk]
    (event,) = events(reply.ticket, EventKind.SEND_FAILED)
    assert event.data == {"message": reply.pk, "reason": "token inválido"}


@db
def test_an_account_kind_without_connector_fails_permanently(in_a, no_connector):
    webchat = ChannelAccountFactory(tenant=in_a.tenant_a, kind=no_connector)
    ticket = receive(webchat, identity="visitor-1").message.ticket
    reply = services.message_send(ticket=ticket, author=in_a.agent, text="Hola")

    deliver_message.apply(args=[reply.tenant_id, reply.pk]).get()

    reply = fresh(reply)
    assert reply.status == DeliveryStatus.FAILED
    assert reply.failure_reason
    (event,) = events(ticket, EventKind.SEND_FAILED)
    assert event.data == {"message": reply.pk, "reason": reply.failure_reason}


@db
def test_retry_puts_a_failed_message_back_in_the_queue(
    reply, connector, in_a, django_capture_on_commit_callbacks
):
    connector.failures = [ConnectorError("bloqueado", permanent=True)]
    services.message_deliver(message_id=reply.pk)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.message_retry(message=reply, actor=in_a.agent)

    reply = fresh(reply)
    assert reply.status == DeliveryStatus.QUEUED
    assert reply.failure_reason == ""
    assert callbacks, "the delivery is queued again after the commit"
    services.message_deliver(message_id=reply.pk)
    assert fresh(reply).status == DeliveryStatus.SENT


@db
def test_only_a_failed_message_can_be_retried(reply, in_a):
    with pytest.raises(services.ActionRefused, match="falló"):
        services.message_retry(message=reply, actor=in_a.agent)
    assert fresh(reply).status == DeliveryStatus.QUEUED


@db
def test_providers_that_answer_no_id_do_not_break_the_next_send(account, in_a, connector):
    """No id is stored as NULL (the unique key skips NULLs), never as an empty string."""
    connector.provider_id = ""
    ticket = receive(account).message.ticket
    first = services.message_send(ticket=ticket, author=in_a.agent, text="Uno")
    second = services.message_send(ticket=ticket, author=in_a.agent, text="Dos")

    services.message_deliver(message_id=first.pk)
    services.message_deliver(message_id=second.pk)

    for message in (fresh(first), fresh(second)):
        assert (message.status, message.provider_id) == (DeliveryStatus.SENT, None)


@db
def test_a_redelivered_task_does_not_send_twice(reply, connector):
    services.message_deliver(message_id=reply.pk)
    services.message_deliver(message_id=reply.pk)
    assert connector.sent == [reply.pk]
    assert fresh(reply).send_attempts == 1


# --- delivery receipts ------------------------------------------------------------------------


@pytest.fixture
def sent(reply, connector) -> Message:
    services.message_deliver(message_id=reply.pk)
    return fresh(reply)


def _receipt(message: Message, status: str, reason: str = "") -> str:
    services.message_update_status(
        account=message.account, provider_id=message.provider_id, status=status, reason=reason
    )
    return fresh(message).status


@db
def test_receipts_move_forward(sent):
    assert _receipt(sent, DeliveryStatus.DELIVERED) == DeliveryStatus.DELIVERED
    assert _receipt(sent, DeliveryStatus.READ) == DeliveryStatus.READ


@db
def test_a_receipt_never_moves_the_status_backwards(sent):
    assert _receipt(sent, DeliveryStatus.READ) == DeliveryStatus.READ
    assert _receipt(sent, DeliveryStatus.DELIVERED) == DeliveryStatus.READ
    assert _receipt(sent, DeliveryStatus.SENT) == DeliveryStatus.READ


@db
def test_a_failed_receipt_records_the_reason(sent):
    assert _receipt(sent, DeliveryStatus.FAILED, "número no existe") == DeliveryStatus.FAILED
    assert fresh(sent).failure_reason == "número no existe"


@db
def test_receipts_for_unknown_or_inbound_messages_change_nothing(sent, account):
    inbound = receive(account, text="otro", provider_id="in-1").message
    services.message_update_status(account=account, provider_id="in-1", status="read")
    services.message_update_status(account=account, provider_id="nadie", status="read")
    assert fresh(inbound).status == DeliveryStatus.RECEIVED
    assert fresh(sent).status == DeliveryStatus.SENT


# --- through the broker, with a real worker ----------------------------------------------------


@pytest.fixture
def worker() -> Iterator[object]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


def _wait_for(tenant_id: int, check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(tenant_id):
            if check():
                return
        time.sleep(0.05)
    raise AssertionError("the worker did not get there in time")


def _status(message: Message) -> Callable[[], bool]:
    def check() -> bool:
        return Message.objects.get(pk=message.pk).status not in {DeliveryStatus.QUEUED}

    return check


@transactional
def test_a_reply_goes_from_queued_to_sent_through_the_worker(connector, worker, reply):
    assert reply.status == DeliveryStatus.QUEUED
    _wait_for(reply.tenant_id, _status(reply))

    reply = fresh(reply)
    assert reply.status == DeliveryStatus.SENT
    assert reply.provider_id == f"prov-{reply.pk}"
    assert connector.sent == [reply.pk]


@transactional
def test_a_permanent_failure_through_the_worker_then_a_retry_by_hand(
    account, in_a, connector, worker
):
    connector.failures = [ConnectorError("usuario bloqueado", permanent=True)]
    ticket = receive(account).message.ticket
    reply = services.message_send(ticket=ticket, author=in_a.agent, text="Hola")
    _wait_for(reply.tenant_id, _status(reply))

    reply = fresh(reply)
    assert reply.status == DeliveryStatus.FAILED
    assert reply.failure_reason == "usuario bloqueado"
    assert len(events(ticket, EventKind.SEND_FAILED)) == 1

    services.message_retry(message=reply, actor=in_a.agent)
    _wait_for(reply.tenant_id, _status(reply))

    assert fresh(reply).status == DeliveryStatus.SENT
    assert connector.sent == [reply.pk, reply.pk]


@transactional
def test_a_proactive_ticket_first_message_is_sent_by_the_worker(account, in_a, connector, worker):
    ticket = services.ticket_create(
        account=account, identity="nuevo@example.test", author=in_a.agent, text="Hola"
    )
    (message,) = ticket.messages.all()
    _wait_for(ticket.tenant_id, _status(message))
    assert fresh(message).status == DeliveryStatus.SENT


# --- live pushes are best effort ---------------------------------------------------------------


@db
def test_a_failing_live_push_does_not_keep_the_reply_from_being_sent(
    account, in_a, connector, settings, eager_celery, django_capture_on_commit_callbacks
):
    """The browsers' push goes through the channel layer; when it is unreachable, the reply
    committed all the same and its delivery must still be queued after the commit."""
    ticket = receive(account).message.ticket
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }

    with django_capture_on_commit_callbacks(execute=True):
        reply = services.message_send(ticket=ticket, author=in_a.agent, text="Hola")

    assert fresh(reply).status == DeliveryStatus.SENT
    assert connector.sent == [reply.pk]


@db
def test_of_two_workers_holding_the_same_delivery_only_one_sends(reply, connector):
    stale = fresh(reply)  # what a second worker read before the first one claimed it
    services.message_deliver(message_id=reply.pk)
    Message.objects.filter(pk=reply.pk).update(status=DeliveryStatus.QUEUED)  # as if still queued
    claimed = Message.objects.filter(
        pk=reply.pk, status=DeliveryStatus.QUEUED, send_attempts=stale.send_attempts
    ).update(send_attempts=stale.send_attempts + 1)
    assert claimed == 0  # the stale claim loses: the attempt counter moved on
    assert connector.sent == [reply.pk]


class _Broken:
    """A connector with a bug (not a ConnectorError)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def send(self, account, message):
        raise KeyError("token")


@db
def test_a_connector_bug_is_retried_then_shown_as_failed_not_left_queued(reply, account):
    from tickets import connectors as base

    previous = base._REGISTRY.get(account.kind)
    base.register(_Broken(account.kind))
    try:
        deliver_message.apply(args=[reply.tenant_id, reply.pk], retries=MAX_SEND_RETRIES)
    finally:
        base.unregister(account.kind)
        if previous is not None:
            base.register(previous)
    reply = fresh(reply)
    assert reply.status == DeliveryStatus.FAILED
    assert "KeyError" in reply.failure_reason


@db
def test_a_transient_failure_says_at_once_that_the_send_is_retried_and_why(reply, connector):
    services.message_retrying(message_id=reply.pk, reason="El servidor no respondió.")
    queued = fresh(reply)
    assert queued.status == DeliveryStatus.QUEUED
    assert queued.failure_reason == "El servidor no respondió."
    page = (
        client_for(reply.ticket.assignee or reply.author)
        .get(f"/tickets/{reply.ticket.number}/")
        .content.decode()
    )
    assert "Reintentando: El servidor no respondió." in page

    # Sent on a later try: the reason is gone with the retry.
    connector.failures = []
    deliver_message.apply(args=[reply.tenant_id, reply.pk]).get()
    sent = fresh(reply)
    assert (sent.status, sent.failure_reason) == (DeliveryStatus.SENT, "")


@db
def test_the_task_records_the_retry_reason_before_trying_again(reply, connector):
    seen: list[tuple[str, str]] = []
    original = connector.send

    def send(account, message):
        current = fresh(message)
        seen.append((current.status, current.failure_reason))
        return original(account, message)

    connector.send = send
    connector.failures = [_transient("caído un momento")]
    deliver_message.apply(args=[reply.tenant_id, reply.pk]).get()
    assert seen == [(DeliveryStatus.QUEUED, ""), (DeliveryStatus.QUEUED, "caído un momento")]
