"""One lock order everywhere (tickets/services/base.py, LOCKING): each test drives two services
into the interleaving that deadlocked when they took their locks in opposite orders.

A third connection (the gate) holds a row both services need; the test waits until PostgreSQL
shows each service blocked on a lock, in a chosen order, then opens the gate. Before the fix
PostgreSQL detected a deadlock and aborted one of them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, transaction

from helpdesk.tenancy import tenant_context
from tests.tickets.helpers import receive
from tickets import services
from tickets.models import Customer, CustomerIdentity, IdentityKind, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _lock_waiters() -> int:
    """Backends of this database blocked on a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def _wait_for_waiters(count: int) -> None:
    deadline = time.monotonic() + 10
    while _lock_waiters() < count:
        assert time.monotonic() < deadline, f"expected {count} blocked services"
        time.sleep(0.02)


@contextmanager
def _gate(tenant_id: int, lock: Callable[[], Any]) -> Iterator[threading.Event]:
    """Hold the rows ``lock`` locks, in another connection, until the event is set."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with tenant_context(tenant_id), transaction.atomic():
                lock()
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        yield release
    finally:
        release.set()
        holder.join(timeout=30)


def _start(pool: ThreadPoolExecutor, tenant_id: int, job: Callable[[], Any]) -> Future[Any]:
    def run() -> Any:
        try:
            with tenant_context(tenant_id):
                return job()
        finally:
            connection.close()

    return pool.submit(run)


def test_a_split_and_a_new_message_of_its_sender_do_not_deadlock(account, in_a):
    """Bob writes in Ana's thread; an agent splits Bob's message off while Bob writes again."""
    tenant_id = in_a.tenant_a.pk
    shared = receive(account, identity="ana@example.test", text="Hola").message.ticket
    misplaced = receive(
        account, identity="bob@example.test", text="Yo también", thread_ticket_number=shared.number
    ).message
    bob = Customer.objects.get(identities__value="bob@example.test")

    def split() -> Ticket:
        return services.message_split(message=misplaced, actor=in_a.agent)

    def bob_again() -> services.Received:
        return receive(
            account, identity="bob@example.test", text="¿Hola?", thread_ticket_number=shared.number
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        with _gate(tenant_id, lambda: Customer.objects.select_for_update().get(pk=bob.pk)):
            receiving = _start(pool, tenant_id, bob_again)  # waits for Bob first
            _wait_for_waiters(1)
            splitting = _start(pool, tenant_id, split)
            _wait_for_waiters(2)
        received, new_ticket = receiving.result(timeout=30), splitting.result(timeout=30)

    assert received.created
    assert Message.objects.get(pk=misplaced.pk).ticket_id == new_ticket.pk
    assert new_ticket.customer_id == bob.pk


def test_two_customers_taking_each_others_identity_do_not_deadlock(account, in_a):
    tenant_id = in_a.tenant_a.pk
    ana = receive(account, identity="ana@example.test").message.ticket.customer
    bob = receive(account, identity="bob@example.test").message.ticket.customer
    for customer, phone in ((ana, "+56911111111"), (bob, "+56922222222")):
        # A second identity each, so neither record is left empty and removed.
        services.customer_link_identity(
            customer=customer, actor=in_a.agent, kind=IdentityKind.PHONE, value=phone
        )

    def link(customer: Customer, email: str) -> Callable[[], CustomerIdentity]:
        return lambda: services.customer_link_identity(
            customer=customer, actor=in_a.agent, kind=IdentityKind.EMAIL, value=email
        )

    def hold_identities() -> None:
        list(
            CustomerIdentity.objects.select_for_update().filter(
                kind=IdentityKind.EMAIL, value__in=["ana@example.test", "bob@example.test"]
            )
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        with _gate(tenant_id, hold_identities):
            first = _start(pool, tenant_id, link(ana, "bob@example.test"))
            _wait_for_waiters(1)
            second = _start(pool, tenant_id, link(bob, "ana@example.test"))
            _wait_for_waiters(2)
        first.result(timeout=30)
        second.result(timeout=30)

    owners = dict(
        CustomerIdentity.objects.filter(kind=IdentityKind.EMAIL).values_list("value", "customer")
    )
    assert owners == {"bob@example.test": ana.pk, "ana@example.test": bob.pk}
