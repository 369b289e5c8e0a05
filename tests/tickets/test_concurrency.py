"""Real PostgreSQL under concurrency: gapless unique numbering and idempotent receiving.

Transactional tests: every thread has its own connection (closed when the thread ends) and
commits for real, as webhook requests and workers do."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction

from helpdesk.tenancy import tenant_context
from tests.tickets.helpers import receive
from tickets import services
from tickets.models import Customer, CustomerIdentity, Message, Ticket, TicketCounter

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
PER_THREAD = 10


def _run_in_threads(tenant_id: int, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in its own thread, all released at once, in the tenant's context."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], Any]) -> Any:
        try:
            with tenant_context(tenant_id):
                barrier.wait(timeout=10)
                return job()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [f.result(timeout=60) for f in futures]


def test_concurrent_creation_numbers_tickets_without_gaps_or_duplicates(account, in_a):
    def creator(worker: int) -> Callable[[], list[int]]:
        def job() -> list[int]:
            return [
                receive(account, identity=f"c{worker}-{i}@example.test").message.ticket.number
                for i in range(PER_THREAD)
            ]

        return job

    results = _run_in_threads(in_a.tenant_a.pk, [creator(w) for w in range(THREADS)])

    numbers = sorted(n for per_thread in results for n in per_thread)
    assert numbers == list(range(1, THREADS * PER_THREAD + 1))
    for per_thread in results:
        assert per_thread == sorted(per_thread)  # one thread's tickets are in its own order
    assert sorted(Ticket.objects.values_list("number", flat=True)) == numbers
    assert TicketCounter.objects.get().last_number == THREADS * PER_THREAD


def test_a_rolled_back_creation_leaves_no_gap(account, in_a):
    first = receive(account, identity="a@example.test").message.ticket

    with pytest.raises(RuntimeError), transaction.atomic():
        doomed = receive(account, identity="b@example.test").message.ticket
        assert doomed.number == 2
        raise RuntimeError("the request failed after the ticket was created")

    assert not Customer.objects.filter(identities__value="b@example.test").exists()
    second = receive(account, identity="c@example.test").message.ticket
    assert (first.number, second.number) == (1, 2)
    assert TicketCounter.objects.get().last_number == 2


def test_a_refused_proactive_creation_leaves_no_gap(account, in_a):
    receive(account, identity="a@example.test")
    with pytest.raises(services.ActionRefused):
        services.ticket_create(
            account=account, identity="a@example.test", author=in_a.agent, text="Hola"
        )
    ticket = services.ticket_create(
        account=account, identity="b@example.test", author=in_a.agent, text="Hola"
    )
    assert ticket.number == 2


@pytest.mark.parametrize("known_customer", [False, True])
def test_the_same_provider_id_received_twice_at_once_stores_one_message(
    account, in_a, known_customer
):
    if known_customer:
        receive(account, identity="ana@example.test", text="antes")
    inbound = services.Inbound(
        identity="ana@example.test", text="Hola", provider_id="<same@mail>", customer_name="Ana"
    )

    def job() -> services.Received:
        return services.message_receive(account=account, inbound=inbound)

    results = _run_in_threads(in_a.tenant_a.pk, [job] * 4)

    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.message.pk for r in results}) == 1
    assert Message.objects.filter(provider_id="<same@mail>").count() == 1
    assert Ticket.objects.count() == 1
    assert Customer.objects.count() == 1
    assert CustomerIdentity.objects.count() == 1
    assert TicketCounter.objects.get().last_number == 1
