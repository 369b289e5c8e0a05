"""Search by what people wrote (Spanish stems, accents ignored, ranked, grouped by ticket), by
the start of a handle or of a name, with a fixed number of queries and escaped snippets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskconfig.kinds import ChannelKind
from tests.conftest import client_for
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import receive
from tickets import queries, services
from tickets.models import IdentityKind

pytestmark = pytest.mark.django_db


def _found(user, text):
    return queries.search(tenant_id=user.tenant_id, query=text)


def test_a_word_finds_the_ticket_where_it_was_written(account, in_a):
    printer = receive(account, "rosa@example.test", "Hola, la impresora no imprime nada")
    receive(account, "juan@example.test", "¿Cuándo llega mi pedido?")
    # Stems and accents: «impresoras» and «IMPRESÓRA» find «impresora».
    for typed in ("impresora", "impresoras", "IMPRESÓRA"):
        hits = _found(in_a.agent, typed).hits
        assert [h.ticket.pk for h in hits] == [printer.message.ticket_id], typed
    snippet = _found(in_a.agent, "impresoras").hits[0].snippet
    assert "<mark>impresora</mark>" in snippet


def test_accents_do_not_matter_either_way(account, in_a):
    song = receive(account, "ana@example.test", "La canción del video no se escucha")
    assert [h.ticket.pk for h in _found(in_a.agent, "cancion").hits] == [song.message.ticket_id]


def test_results_are_grouped_by_ticket_and_the_subject_counts_most(account, in_a):
    first = receive(account, "rosa@example.test", "Boleta pendiente", subject="Mi boleta")
    receive(account, "rosa@example.test", "La boleta sigue sin llegar, la boleta!")
    other = receive(account, "pedro@example.test", "Necesito la boleta de mayo")
    hits = _found(in_a.agent, "boleta").hits
    tickets = [h.ticket.pk for h in hits]
    assert len(tickets) == len(set(tickets))  # one row per ticket
    assert tickets[0] == first.message.ticket_id and hits[0].in_subject
    assert other.message.ticket_id in tickets


def test_a_snippet_is_escaped(account, in_a):
    receive(account, "x@example.test", 'mi reembolso <b onmouseover="alert(1)">ya</b> & otro')
    snippet = _found(in_a.agent, "reembolso").hits[0].snippet
    assert "<b" not in snippet
    assert "<mark>reembolso</mark>" in snippet
    assert all(tag not in snippet.replace("<mark>", "").replace("</mark>", "") for tag in "<>")


def test_the_start_of_a_handle_finds_the_customer(in_a):
    twitter = ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.TWITTER, name="X")
    services.message_receive(
        account=twitter,
        inbound=services.Inbound(identity="@SebaRojas", text="hola", customer_name="Seba"),
    )
    found = _found(in_a.agent, "@sebaro").customers
    assert [c.name for c in found] == ["Seba"]
    assert found[0].identities.get().kind == IdentityKind.TWITTER


def test_the_start_of_a_name_finds_the_customer(account, in_a):
    receive(account, "s@example.test", "hola", customer_name="Sebastián Rojas")
    assert [c.name for c in _found(in_a.agent, "sebas roj").customers] == ["Sebastián Rojas"]
    # A typo still finds the name (trigram fallback when no word starts that way).
    assert [c.name for c in _found(in_a.agent, "Sebastina").customers] == ["Sebastián Rojas"]


def test_a_search_is_a_bounded_number_of_queries(account, in_a):
    for n in range(30):
        receive(account, f"c{n}@example.test", f"Consulta {n} sobre mi despacho a Temuco")
    with CaptureQueriesContext(connection) as few:
        small = _found(in_a.agent, "despacho")
    for n in range(30, 60):
        receive(account, f"c{n}@example.test", f"Otra consulta {n}: despacho a Arica")
    with CaptureQueriesContext(connection) as many:
        large = _found(in_a.agent, "despacho")
    assert len(large.hits) > len(small.hits) or len(large.hits) == 20
    # Bounded: more matches never mean more queries (enough recent ones skip the history).
    assert len(many) <= len(few) <= 25


def test_the_page_shows_conversations_found(account, in_a):
    receive(account, "rosa@example.test", "La impresora hace un ruido raro")
    page = client_for(in_a.agent).get("/search/", {"q": "impresoras"}).content.decode()
    assert "En las conversaciones" in page and "<mark>impresora</mark>" in page
