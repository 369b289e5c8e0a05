"""A message the provider accepted is never sent again, whatever fails after the acceptance;
retrying a failed message by hand is in the ticket's history with who did it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from channels_conn.base import SendResult
from deskconfig.accounts import ChannelAccount
from tests.tickets.helpers import RecordingConnector, events, fresh, receive
from tickets import services
from tickets.models import DeliveryStatus, EventKind, Message


class AcceptsThenConnectionDies(RecordingConnector):
    """The provider accepts the message; then the worker's database connection is cut (a
    failover, a restart), as happens between the provider's answer and our write."""

    def send(self, account: ChannelAccount, message: Message) -> SendResult:
        result = super().send(account, message)
        pid = connection.connection.info.backend_pid

        def cut() -> None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            finally:
                connection.close()

        killer = threading.Thread(target=cut)
        killer.start()
        killer.join()
        return result


@pytest.fixture
def reply(account, in_a) -> Message:
    ticket = receive(account, text="Hola").message.ticket
    return services.message_send(ticket=ticket, author=in_a.agent, text="Hola, ¿en qué ayudo?")


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_after_the_provider_accepted_does_not_send_twice(
    account, reply, connector
):
    dying = AcceptsThenConnectionDies(account.kind)
    from channels_conn.base import register, unregister

    unregister(account.kind)
    register(dying)
    try:
        try:
            services.message_deliver(message_id=reply.pk)
        except Exception:
            connection.close()
        services.message_deliver(message_id=reply.pk)  # the retry
    finally:
        unregister(account.kind)
        register(connector)

    reply = fresh(reply)
    assert dying.sent == [reply.pk]
    assert reply.status == DeliveryStatus.SENT
    assert reply.provider_id == f"prov-{reply.pk}"


@pytest.mark.django_db
def test_a_queued_message_that_has_a_provider_id_is_never_sent_again(reply, connector):
    """An earlier attempt recorded the provider's id and then failed: the retry finishes it."""
    Message.objects.filter(pk=reply.pk).update(provider_id="wamid.accepted")

    services.message_deliver(message_id=reply.pk)

    reply = fresh(reply)
    assert connector.sent == []
    assert (reply.status, reply.provider_id) == (DeliveryStatus.SENT, "wamid.accepted")
    assert reply.sent_at is not None


@pytest.mark.django_db
def test_retrying_a_failed_message_is_in_the_history_with_who_retried(reply, connector, in_a):
    from channels_conn.base import ConnectorError

    connector.failures = [ConnectorError("bloqueado", permanent=True)]
    services.message_deliver(message_id=reply.pk)

    services.message_retry(message=fresh(reply), actor=in_a.admin)

    (event,) = events(reply.ticket, EventKind.SEND_RETRIED)
    assert event.actor == in_a.admin
    assert event.actor_kind == "user"
    assert event.data == {"message": reply.pk, "reason": "bloqueado"}
