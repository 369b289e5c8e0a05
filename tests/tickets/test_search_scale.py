"""Search at a bounded cost whatever the words' frequency: the newest rows first, then at most
PROBE matches through the GIN index, a time limit that asks to refine the search, a trigram
index for typos that row-level security lets serve, and a page of a fixed number of queries."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deskconfig.kinds import ChannelKind
from helpdesk.tenancy import tenant_context
from tests.conftest import client_for
from tests.tickets.factories import (
    ChannelAccountFactory,
    CustomerFactory,
    CustomerIdentityFactory,
    MessageFactory,
    TicketFactory,
)
from tests.tickets.helpers import receive
from tickets import queries, search
from tickets.models import Customer

pytestmark = pytest.mark.django_db


def _found(user, text):
    return queries.search(tenant_id=user.tenant_id, query=text)


def _old_message(account, text, days):
    """A message written ``days`` ago, on a ticket of its own."""
    ticket = TicketFactory(account=account)
    return MessageFactory(
        ticket=ticket, text=text, created_at=timezone.now() - datetime.timedelta(days=days)
    )


def test_a_typo_finds_a_customer_older_than_the_newest_thousands(account, in_a):
    """The trigram index serves the typo search under row-level security (pg_trgm's ``%>``
    is marked LEAKPROOF where the database is set up), so every customer is compared, not
    only the newest 5,000 as before."""
    old = receive(account, "s@example.test", "hola", customer_name="Sebastián Rojas")
    Customer.objects.bulk_create(
        Customer(tenant=in_a.tenant_a, name=f"Cliente {n}") for n in range(search.TYPO_WINDOW + 10)
    )
    found = _found(in_a.agent, "Sebastina Rojas").customers
    assert [c.pk for c in found] == [old.message.ticket.customer_id]
    # Row-level security lets the index serve the match only when its operator is LEAKPROOF:
    # otherwise the plan can only read the table (even with scans disabled).
    with search._bitmap_plan() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id FROM tickets_customer WHERE name_folded %%> %s", ["sebastina"]
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "customer_name_folded_trgm" in plan and "Seq Scan" not in plan


def test_a_typo_search_never_finds_another_tenants_customer(account, cast, in_a):
    with tenant_context(cast.tenant_b.pk):
        CustomerFactory(tenant=cast.tenant_b, name="Sebastián Rojas")
    assert _found(in_a.agent, "Sebastina Rojas").customers == []
    # Asked for B's id in A's context, row-level security still hides B's rows.
    assert search.customers_by_typo(cast.tenant_b.pk, "Sebastina Rojas") == []


def test_a_rare_word_in_an_old_message_is_found_past_the_newest_rows(account, in_a, monkeypatch):
    monkeypatch.setattr(search, "FIRST_WINDOW", 5)
    old = _old_message(account, "La impresora no imprime", days=300)
    for n in range(10):
        _old_message(account, f"Consulta {n} sobre un despacho", days=1)
    result = _found(in_a.agent, "impresoras")
    assert [h.ticket.pk for h in result.hits] == [old.ticket_id]
    assert not result.partial


def test_words_many_old_messages_hold_find_the_newest_of_them(account, in_a, monkeypatch):
    """More than PROBE matches and fewer than enough recent ones: the newest among the
    RECENT_WINDOW newest rows and PROBE older ones, newest first."""
    monkeypatch.setattr(search, "FIRST_WINDOW", 2)
    monkeypatch.setattr(search, "PROBE", 3)
    monkeypatch.setattr(search, "RECENT_WINDOW", 6)
    old = [_old_message(account, f"Mi boleta número {n}", days=100 + n) for n in range(6)]
    newest_boleta = _old_message(account, "Otra boleta más", days=3)
    for n in range(4):
        _old_message(account, f"Hola {n}", days=1)
    found = search.newest_matches(
        search.MESSAGES, tenant_id=in_a.tenant_a.pk, text="boleta", limit=50, enough=60
    )
    ids = [row[0] for row in found.rows]
    assert ids[0] == newest_boleta.pk  # in the recent window: the newest match comes first
    assert set(ids) <= {m.pk for m in [*old, newest_boleta]} and len(ids) >= 3
    dates = [row[1] for row in found.rows]
    assert dates == sorted(dates, reverse=True)
    assert not found.partial


def test_a_search_too_costly_for_its_time_asks_to_refine(account, in_a, monkeypatch):
    """A read of the history that takes longer than HISTORY_TIMEOUT_MS is cancelled by the
    database: the page shows what the newest rows hold and asks to refine the search (the
    probe is made slow with pg_sleep, as two words in every other message are on a big
    tenant)."""
    receive(account, "rosa@example.test", "La boleta llegó")
    slow = search.MESSAGES.probe.replace(
        "FROM tickets_message", "FROM pg_sleep(0.3), tickets_message"
    )
    monkeypatch.setattr(search, "MESSAGES", search.Newest(search.MESSAGES.window, slow))
    result = _found(in_a.agent, "boleta")
    assert result.partial
    assert len(result.hits) == 1  # the newest rows still answer
    page = client_for(in_a.agent).get("/search/", {"q": "boleta"}).content.decode()
    assert "search-partial" in page and "Demasiados resultados" in page
    assert "Sin resultados" not in page
    # The cancelled statement left the connection usable.
    assert _found(in_a.agent, "@nadie").customers == []


def _customers_named(tenant, surname, count, tickets_each):
    account = ChannelAccountFactory(tenant=tenant, kind=ChannelKind.WHATSAPP)
    for n in range(count):
        customer = CustomerFactory(tenant=tenant, name=f"Ana {surname} {n}")
        CustomerIdentityFactory(customer=customer)
        for _ in range(tickets_each):
            TicketFactory(account=account, customer=customer)


def test_a_common_surname_page_is_a_fixed_number_of_queries(in_a):
    _customers_named(in_a.tenant_a, "González", 3, 1)
    client = client_for(in_a.agent)
    with CaptureQueriesContext(connection) as few:
        small = client.get("/search/", {"q": "gonzalez"})
    _customers_named(in_a.tenant_a, "González", 60, 5)
    with CaptureQueriesContext(connection) as many:
        large = client.get("/search/", {"q": "gonzalez"})
    assert len(many) <= len(few)  # more matches never mean more queries
    result = large.context["result"]
    assert len(small.context["result"].customers) == 3
    assert len(result.customers) == queries.CUSTOMERS_SHOWN
    shown = [len(result.tickets.get(c.pk, [])) for c in result.customers]
    assert max(shown) == queries.TICKETS_PER_CUSTOMER  # each customer's newest, not all
    assert large.content.decode().count("ticket-links") == queries.CUSTOMERS_SHOWN


def _planner_settings():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'),"
            " current_setting('statement_timeout')"
        )
        return cursor.fetchone()


def test_a_search_inside_a_transaction_leaves_its_settings_as_they_were(account, in_a):
    """Inside an outer transaction the GIN reads' settings (no scans, a statement timeout)
    would last until it ends: the next write of the request would be cancelled after 50 ms."""
    receive(account, "rosa@example.test", "La boleta llegó")
    before = _planner_settings()
    assert _found(in_a.agent, "boleta despacho").hits == []  # a GIN read ran
    assert _found(in_a.agent, "Sebastina").customers == []  # and the typo one
    assert _planner_settings() == before
