"""Real PostgreSQL under concurrency: gapless unique numbering and idempotent receiving.

Transactional tests: every thread has its own connection (closed when the thread ends) and
commits for real, as webhook requests and workers do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction

from tests.tickets.helpers import receive, run_in_threads
from tickets import services
from tickets.models import Customer, CustomerIdentity, Message, Ticket, TicketCounter

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
PER_THREAD = 10


def test_concurrent_creation_numbers_tickets_without_gaps_or_duplicates(account, in_a):
    def creator(worker: int) -> Callable[[], list[int]]:
        def job() -> list[int]:
            return [
                receive(account, identity=f"c{worker}-{i}@example.test").message.ticket.number
                for i in range(PER_THREAD)
            ]

        return job

    results = run_in_threads(in_a.tenant_a.pk, [creator(w) for w in range(THREADS)])

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

    results = run_in_threads(in_a.tenant_a.pk, [job] * 4)

    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.message.pk for r in results}) == 1
    assert Message.objects.filter(provider_id="<same@mail>").count() == 1
    assert Ticket.objects.count() == 1
    assert Customer.objects.count() == 1
    assert CustomerIdentity.objects.count() == 1
    assert TicketCounter.objects.get().last_number == 1
