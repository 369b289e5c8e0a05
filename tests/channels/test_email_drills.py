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

import pytest
from django.db import connection, connections, transaction

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
