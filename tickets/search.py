"""Full-text search over what people wrote: message texts and ticket subjects (Spanish stems,
accents ignored, ranked, grouped by ticket), and customer names by the start of their words.

Each search is a bounded number of indexed queries (tickets/migrations/0006_phone_search.py):
- a word many messages share is found among the newest messages (a bounded backwards read);
  a rare word, or common words that never meet, through the GIN index, whose matches are then
  few; at most ``MESSAGE_MATCHES`` rows are ranked;
- the snippets are cut by PostgreSQL around the words found, then escaped here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tickets.models import Ticket

MESSAGE_MATCHES = 300  # the newest matching messages ranked for one search
RECENT_WINDOW = 20_000  # newest rows read first (messages, tickets): a bounded cost
ENOUGH_RECENT = 60  # matches in that window that make the whole history unnecessary
TICKETS_SHOWN = 20
NAME_MATCHES = 50
# Markers PostgreSQL puts around the words found; never in text people type (control chars).
START, STOP = "\x02", "\x03"
HEADLINE = f"StartSel={START}, StopSel={STOP}, MaxWords=24, MinWords=8, MaxFragments=1"
WORD = re.compile(r"\w+")


@dataclass
class TicketHit:
    """A ticket found by what was written in it, with the best snippet to show."""

    ticket: Ticket
    rank: float
    snippet: SafeString = field(default_factory=lambda: mark_safe(""))
    in_subject: bool = False


def _highlight(text: str) -> SafeString:
    """PostgreSQL's headline, escaped, with the words found in <mark>."""
    safe = escape(text.replace("\n", " "))
    return mark_safe(safe.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S308


def name_prefix_query(text: str) -> str:
    """'sebastián roj' -> 'sebastián:* & roj:*' (each typed word the start of a name's word)."""
    return " & ".join(f"{w}:*" for w in WORD.findall(text.lower())[:6])


@contextmanager
def _bitmap_plan() -> Iterator[Any]:
    """A cursor whose queries read the GIN index (a bitmap of the matches), never a scan of
    the table in date order: for a rare word, or common words that never meet in one text,
    the planner's row estimates can pick a scan that reads the whole table."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        yield cursor


def customers_by_name(tenant_id: int, text: str) -> list[int]:
    """Customers whose name has words starting with each typed word, newest first."""
    query = name_prefix_query(text)
    if not query:
        return []
    with _bitmap_plan() as cursor:
        cursor.execute(
            """
            SELECT id FROM tickets_customer
            WHERE tenant_id = %s
              AND name_vector @@ to_tsquery('helpdesk_names'::regconfig, %s)
            ORDER BY id DESC LIMIT %s
            """,
            [tenant_id, query, NAME_MATCHES],
        )
        return [row[0] for row in cursor.fetchall()]


RECENT_MESSAGES = """
    SELECT id, ticket_id, ts_rank(search_vector, websearch_to_tsquery('helpdesk_es', %s))
    FROM (
        SELECT id, ticket_id, search_vector, created_at FROM tickets_message
        WHERE tenant_id = %s ORDER BY created_at DESC, id DESC LIMIT %s
    ) recent
    WHERE search_vector @@ websearch_to_tsquery('helpdesk_es', %s)
    ORDER BY created_at DESC, id DESC LIMIT %s
"""
ALL_MESSAGES = """
    SELECT id, ticket_id, ts_rank(search_vector, websearch_to_tsquery('helpdesk_es', %s))
    FROM tickets_message
    WHERE tenant_id = %s AND search_vector @@ websearch_to_tsquery('helpdesk_es', %s)
    ORDER BY created_at DESC, id DESC LIMIT %s
"""
RECENT_SUBJECTS = """
    SELECT id FROM (
        SELECT id, subject_vector, number FROM tickets_ticket
        WHERE tenant_id = %s ORDER BY number DESC LIMIT %s
    ) recent
    WHERE subject_vector @@ websearch_to_tsquery('helpdesk_es', %s)
    ORDER BY number DESC LIMIT %s
"""
ALL_SUBJECTS = """
    SELECT id FROM tickets_ticket
    WHERE tenant_id = %s
      AND subject_vector @@ websearch_to_tsquery('helpdesk_es', %s)
    ORDER BY number DESC LIMIT %s
"""


def _message_matches(tenant_id: int, text: str) -> list[tuple[int, int, float]]:
    """(message id, ticket id, rank) of the newest messages that match, public or private.

    First among the tenant's newest ``RECENT_WINDOW`` messages (an index read backwards, a
    bounded cost): a word people write often is found there. When that finds few, the whole
    history through the GIN index: the word is rare, so its matches are few to sort."""
    with connection.cursor() as cursor:
        cursor.execute(RECENT_MESSAGES, [text, tenant_id, RECENT_WINDOW, text, MESSAGE_MATCHES])
        found = [(row[0], row[1], float(row[2])) for row in cursor.fetchall()]
    if len(found) >= ENOUGH_RECENT:
        return found
    with _bitmap_plan() as cursor:
        cursor.execute(ALL_MESSAGES, [text, tenant_id, text, MESSAGE_MATCHES])
        return [(row[0], row[1], float(row[2])) for row in cursor.fetchall()]


def _subject_matches(tenant_id: int, text: str) -> list[int]:
    """Tickets whose subject matches, newest first: among the newest tickets (by number, an
    index), then the whole history through the GIN index when few are found."""
    with connection.cursor() as cursor:
        cursor.execute(RECENT_SUBJECTS, [tenant_id, RECENT_WINDOW, text, TICKETS_SHOWN])
        found = [row[0] for row in cursor.fetchall()]
    if len(found) >= TICKETS_SHOWN:
        return found
    with _bitmap_plan() as cursor:
        cursor.execute(ALL_SUBJECTS, [tenant_id, text, TICKETS_SHOWN])
        return [row[0] for row in cursor.fetchall()]


def _snippets(message_ids: list[int], text: str) -> dict[int, SafeString]:
    if not message_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, ts_headline(
                'helpdesk_es'::regconfig, text, websearch_to_tsquery('helpdesk_es', %s), %s
            )
            FROM tickets_message WHERE id = ANY(%s)
            """,
            [text, HEADLINE, message_ids],
        )
        return {row[0]: _highlight(row[1]) for row in cursor.fetchall()}


def tickets_by_text(tenant_id: int, text: str) -> list[TicketHit]:
    """Tickets whose subject or messages contain the words (by their Spanish stems, accents
    ignored), best first: a subject match, then the best ranked message, then the newest.
    Five queries whatever the number of matches."""
    if not WORD.search(text):
        return []
    best: dict[int, tuple[float, int]] = {}  # ticket id -> (rank, message id)
    order: list[int] = []  # tickets by their newest match
    for message_id, ticket_id, rank in _message_matches(tenant_id, text):
        if ticket_id not in best:
            order.append(ticket_id)
        if ticket_id not in best or rank > best[ticket_id][0]:
            best[ticket_id] = (rank, message_id)
    subjects = _subject_matches(tenant_id, text)
    recency = {tid: n for n, tid in enumerate(order)}
    ranked = sorted(
        set(best) | set(subjects),
        key=lambda tid: (
            tid not in subjects,
            -best.get(tid, (0.0, 0))[0],
            recency.get(tid, len(order)),
        ),
    )[:TICKETS_SHOWN]
    tickets = Ticket.objects.select_related("customer", "account").in_bulk(ranked)
    snippets = _snippets([best[tid][1] for tid in ranked if tid in best], text)
    hits = []
    for tid in ranked:
        ticket = tickets.get(tid)
        if ticket is None:
            continue
        message_id = best.get(tid, (0.0, 0))[1]
        hits.append(
            TicketHit(
                ticket=ticket,
                rank=best.get(tid, (0.0, 0))[0],
                snippet=snippets.get(message_id, mark_safe("")),
                in_subject=tid in subjects,
            )
        )
    return hits
