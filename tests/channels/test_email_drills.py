"""Zero-loss drills on real processes: each ends with every mail present exactly once.

The worker is a forked process polling the real Dovecot into the real PostgreSQL; it is killed
with SIGKILL in the middle of a batch (held there by a row lock another connection keeps on
the tenant's ticket counter, so the kill lands after the batch was stored and marked seen but
before it was filed). The next poll must file every stored mail, once."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from psycopg import sql

from channels_conn.email.imap import poll_account
from channels_conn.models import ChannelAccount, InboundEmail
from helpdesk.tenancy import tenant_context
from tests.channels.conftest import Dovecot
from tests.channels.test_email_imap import mail, seen_flags
from tests.conftest import Cast
from tickets.models import Direction, Message, TicketCounter

pytestmark = pytest.mark.django_db(transaction=True)
MAILS = 6


def _worker(tenant_id: int, account_id: int) -> None:
    """The child: a fresh connection (the parent's was closed before the fork), one poll."""
    with tenant_context(tenant_id):
        poll_account(ChannelAccount.objects.get(pk=account_id))
    os._exit(0)


def _hold_counter(tenant_id: int, locked: threading.Event, release: threading.Event) -> None:
    try:
        with tenant_context(tenant_id), transaction.atomic():
            list(TicketCounter.objects.select_for_update().filter(tenant_id=tenant_id))
            locked.set()
            release.wait(timeout=120)
    finally:
        connection.close()


def _wait_for(predicate: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    tenant_id = in_a.tenant_a.pk
    TicketCounter.objects.create(tenant_id=tenant_id, last_number=0)
    for n in range(MAILS):
        mailbox.append(mail(f"drill-{n}@example.test", subject=f"Pedido {n}"))
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_counter, args=(tenant_id, locked, release))
    holder.start()
    assert locked.wait(timeout=30)
    connections.close_all()  # the child must not share the parent's sockets
    child = multiprocessing.get_context("fork").Process(
        target=_worker, args=(tenant_id, email_account.pk)
    )
    child.start()
    try:
        # Stored and marked seen, then stuck filing the first mail on the counter's lock.
        _wait_for(lambda: InboundEmail.objects.filter(account=email_account).count() == MAILS)
        _wait_for(lambda: all(seen_flags(mailbox)))
        time.sleep(1.0)
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join(timeout=30)
    finally:
        release.set()
        holder.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL
    assert not Message.objects.filter(direction=Direction.IN).exists()  # nothing filed yet
    result = poll_account(email_account)  # the next poll sweeps what the dead worker stored
    assert result.processed == MAILS and result.stored == 0
    ids = sorted(
        Message.objects.filter(direction=Direction.IN).values_list("provider_id", flat=True)
    )
    assert ids == sorted(f"drill-{n}@example.test" for n in range(MAILS))
    statuses = set(InboundEmail.objects.values_list("status", flat=True))
    assert statuses == {InboundEmail.Status.PROCESSED}


def test_imap_down_then_back_loses_and_duplicates_nothing(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    for n in range(3):
        mailbox.append(mail(f"down-{n}@example.test", subject=f"Tema {n}"))
    poll_account(email_account)
    mailbox.stop()
    try:
        with pytest.raises(OSError):
            poll_account(email_account)
    finally:
        mailbox.start()
    for n in range(3, 5):
        mailbox.append(mail(f"down-{n}@example.test", subject=f"Tema {n}"))
    poll_account(email_account)
    ids = sorted(
        Message.objects.filter(direction=Direction.IN).values_list("provider_id", flat=True)
    )
    assert ids == sorted(f"down-{n}@example.test" for n in range(5))


def test_channel_layer_unreachable_while_polling_loses_nothing(
    settings: object, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    """Redis down (or restarting) during a poll: the pushes are lost, never the mail."""
    settings.CHANNEL_LAYERS = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    for n in range(3):
        mailbox.append(mail(f"noredis-{n}@example.test", subject=f"Tema {n}"))
    result = poll_account(email_account)
    assert (result.processed, result.failed) == (3, 0)
    assert Message.objects.filter(direction=Direction.IN).count() == 3


UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_redis_down_for_the_poll_and_back_loses_and_duplicates_nothing(
    settings: Any, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    """Redis gone (restarting) when the beat's poll runs: the poll's lock cannot be taken, so
    the task fails before taking anything from the mailbox; once Redis is back the next poll
    files every mail, and a later one nothing more."""
    from channels_conn.tasks import poll_mailbox

    for n in range(3):
        mailbox.append(mail(f"redis-{n}@example.test", subject=f"Tema {n}"))
    live_caches, live_layers = settings.CACHES, settings.CHANNEL_LAYERS
    settings.CACHES = {
        "default": {**live_caches["default"], "LOCATION": UNREACHABLE_REDIS},
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [UNREACHABLE_REDIS]},
        }
    }
    with pytest.raises(Exception, match=r"(?i)connect"):
        poll_mailbox(email_account.tenant_id, email_account.pk)
    assert not InboundEmail.objects.exists()
    assert not any(seen_flags(mailbox))

    settings.CACHES, settings.CHANNEL_LAYERS = live_caches, live_layers
    first = poll_mailbox(email_account.tenant_id, email_account.pk)
    again = poll_mailbox(email_account.tenant_id, email_account.pk)
    assert (first["processed"], first["failed"]) == (3, 0)
    assert again["processed"] == 0
    assert Message.objects.filter(direction=Direction.IN).count() == 3
    assert InboundEmail.objects.count() == 3
    assert all(seen_flags(mailbox))


def _owner_connection() -> psycopg.Connection[Any]:
    """The test database's owner, who may change its connection limit (a superuser is not
    needed, nor used: the limit binds the application's role, as a full server would)."""
    owner = settings.DATABASE_OWNER
    params = {**connection.get_connection_params(), "user": owner.get("USER")}
    if owner.get("PASSWORD"):
        params["password"] = owner["PASSWORD"]
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def _quietly(target: Callable[[], None], errors: list[BaseException]) -> None:
    """Run ``target`` in a thread whose connection the drill kills: keep what it raised."""
    try:
        target()
    except BaseException as exc:
        errors.append(exc)
    finally:
        with suppress(Exception):
            connection.close()


def test_database_refusing_connections_mid_poll_loses_and_duplicates_nothing(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    """The poller's session is ended in the middle of a batch (stored and marked seen, held
    filing it) and the database refuses new sessions for a while: the poll fails, a poll
    meanwhile is refused, and once connections are allowed again the next poll files every
    mail, the ones that arrived during the outage too, exactly once."""
    tenant_id, account_id = in_a.tenant_a.pk, email_account.pk
    TicketCounter.objects.create(tenant_id=tenant_id, last_number=0)
    for n in range(MAILS):
        mailbox.append(mail(f"refused-{n}@example.test", subject=f"Pedido {n}"))
    locked, release = threading.Event(), threading.Event()
    holder_errors: list[BaseException] = []
    holder = threading.Thread(
        target=_quietly,
        args=(lambda: _hold_counter(tenant_id, locked, release), holder_errors),
    )
    holder.start()
    assert locked.wait(timeout=30)

    def poll() -> None:
        with tenant_context(tenant_id):
            poll_account(ChannelAccount.objects.get(pk=account_id))

    poll_errors: list[BaseException] = []
    poller = threading.Thread(target=_quietly, args=(poll, poll_errors))
    poller.start()
    database = connection.settings_dict["NAME"]
    limit = sql.SQL("ALTER DATABASE {} CONNECTION LIMIT {}")
    try:
        _wait_for(lambda: InboundEmail.objects.filter(account=email_account).count() == MAILS)
        _wait_for(lambda: all(seen_flags(mailbox)))
        with _owner_connection() as owner:
            owner.execute(limit.format(sql.Identifier(database), sql.Literal(0)))
            try:
                with connection.cursor() as cursor:  # our role may end its own sessions
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND usename = current_user"
                        " AND pid <> pg_backend_pid()"
                    )
                poller.join(timeout=60)
                assert not poller.is_alive()
                assert poll_errors and isinstance(poll_errors[0], OperationalError | InterfaceError)
                mailbox.append(mail("refused-late@example.test", subject="Durante el corte"))
                connection.close()
                with pytest.raises(OperationalError):  # a new session is refused meanwhile
                    poll_account(email_account)
            finally:
                owner.execute(limit.format(sql.Identifier(database), sql.Literal(-1)))
    finally:
        release.set()
        holder.join(timeout=30)
    connection.close()
    result = poll_account(email_account)
    assert (result.processed, result.stored, result.failed) == (MAILS + 1, 1, 0)
    ids = sorted(
        Message.objects.filter(direction=Direction.IN).values_list("provider_id", flat=True)
    )
    expected = [*(f"refused-{n}@example.test" for n in range(MAILS)), "refused-late@example.test"]
    assert ids == sorted(expected)
    statuses = list(InboundEmail.objects.values_list("status", flat=True))
    assert statuses == [InboundEmail.Status.PROCESSED] * (MAILS + 1)
    numbers = sorted(TicketCounter.objects.values_list("last_number", flat=True))
    assert numbers == [MAILS + 1]  # the failed batch's numbers were rolled back with it
