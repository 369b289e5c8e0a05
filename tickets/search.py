"""Full-text search over what people wrote: message texts and ticket subjects (Spanish stems,
accents ignored, ranked, grouped by ticket), and customer names by the start of their words.

Each search is a bounded number of indexed queries (tickets/migrations/0008_phone_search.py,
0011_search4_name_trigrams.py):
- a word many messages share is found among the newest messages (a bounded backwards read);
  a rare word, or common words that never meet, through the GIN index, of which at most
  ``PROBE`` matches are read, within ``HISTORY_TIMEOUT_MS`` (see :func:`newest_matches`);
  at most ``MESSAGE_MATCHES`` rows are ranked;
- names the same way; a name typed with a typo through a trigram index;
- the snippets are cut by PostgreSQL around the words found, then escaped here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError, connection, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from psycopg.errors import QueryCanceled

from tickets.models import Ticket

MESSAGE_MATCHES = 300  # the newest matching messages ranked for one search
FIRST_WINDOW = 2_000  # newest rows read first: a common word is found there
RECENT_WINDOW = 20_000  # newest rows read when the words are neither common nor rare
PROBE = 2_000  # matches fetched through a GIN index, at most: a rare word has fewer
ENOUGH_RECENT = 60  # recent message matches that make the whole history unnecessary
HISTORY_TIMEOUT_MS = 50  # the most one read of the older history may take
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


# The planner settings of a GIN read, as they were, then set for this transaction (the
# materialized CTE is read before the settings change); and putting them back.
SET_PLAN = """
    WITH was AS MATERIALIZED (
        SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'),
               current_setting('max_parallel_workers_per_gather'),
               current_setting('statement_timeout')
    )
    SELECT was.*,
           set_config('enable_seqscan', %s, true), set_config('enable_indexscan', %s, true),
           set_config('max_parallel_workers_per_gather', '0', true),
           set_config('statement_timeout', COALESCE(%s, current_setting('statement_timeout')), true)
    FROM was
"""
RESTORE_PLAN = """
    SELECT set_config('enable_seqscan', %s, true), set_config('enable_indexscan', %s, true),
           set_config('max_parallel_workers_per_gather', %s, true),
           set_config('statement_timeout', %s, true)
"""


@contextmanager
def _bitmap_plan(*, bitmap: bool = True, timeout_ms: int | None = None) -> Iterator[Any]:
    """A cursor whose queries read the GIN index (a bitmap of the matches), never a scan of
    the table in date order: for a rare word, or common words that never meet in one text,
    the planner's row estimates can pick a scan that reads the whole table. No parallel
    workers: starting them costs more than the few pages such a query reads. With
    ``timeout_ms``, a statement that takes longer is cancelled (QueryCanceled); without, the
    server's own limit stays.

    The settings last until the end of the block: inside an outer transaction (a savepoint
    here) PostgreSQL would keep them until that transaction ends, so they are put back."""
    off = "off" if bitmap else "on"
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        timeout = None if timeout_ms is None else f"{timeout_ms}ms"
        cursor.execute(SET_PLAN, [off, off, timeout])
        was = cursor.fetchone()[:4]
        yield cursor
        if nested:
            cursor.execute(RESTORE_PLAN, list(was))


# --- the newest rows that match, at a bounded cost -------------------------------------------
#
# A GIN index answers "which rows hold these words" but in no useful order: sorting its matches
# by date costs as much as there are matches (900,000 for a word in every other message). A read
# of the newest rows backwards costs as many rows as it reads, and finds a common word at once
# but a rare one never. So each search reads the newest FIRST_WINDOW rows; when the words are not
# common there, it asks the GIN index for at most PROBE matches (all of them when the words are
# rare, or common words never meet in one row: the case the older code paid a full read for);
# only words too frequent for that and too scarce recently read the RECENT_WINDOW newest rows.
#
# Every statement has the same parameters: tenant, text, window, probe and limit. Each row's
# first column is its id and its second the key the newest come first by; window statements
# list their matches newest first, probes end each row with how many matches they read.


@dataclass(frozen=True)
class Newest:
    """The two ways of finding one kind of row that matches, newest first."""

    window: str  # among the newest ``window`` rows, at most ``limit``
    probe: str  # through the GIN index: at most ``probe`` matches, the newest ``limit`` of them


MESSAGES = Newest(
    window="""
        SELECT id, created_at, ticket_id,
               ts_rank(search_vector, websearch_to_tsquery('helpdesk_es', %(text)s))
        FROM (
            SELECT id, ticket_id, search_vector, created_at FROM tickets_message
            WHERE tenant_id = %(tenant)s ORDER BY created_at DESC, id DESC LIMIT %(window)s
        ) recent
        WHERE search_vector @@ websearch_to_tsquery('helpdesk_es', %(text)s)
        ORDER BY created_at DESC, id DESC LIMIT %(limit)s
    """,
    probe="""
        SELECT id, created_at, ticket_id,
               ts_rank(search_vector, websearch_to_tsquery('helpdesk_es', %(text)s)),
               count(*) OVER ()
        FROM (
            SELECT id, ticket_id, search_vector, created_at FROM tickets_message
            WHERE tenant_id = %(tenant)s
              AND search_vector @@ websearch_to_tsquery('helpdesk_es', %(text)s)
            LIMIT %(probe)s
        ) found
        ORDER BY created_at DESC, id DESC LIMIT %(limit)s
    """,
)
SUBJECTS = Newest(
    window="""
        SELECT id, number FROM (
            SELECT id, subject_vector, number FROM tickets_ticket
            WHERE tenant_id = %(tenant)s ORDER BY number DESC LIMIT %(window)s
        ) recent
        WHERE subject_vector @@ websearch_to_tsquery('helpdesk_es', %(text)s)
        ORDER BY number DESC LIMIT %(limit)s
    """,
    probe="""
        SELECT id, number, count(*) OVER () FROM (
            SELECT id, number FROM tickets_ticket
            WHERE tenant_id = %(tenant)s
              AND subject_vector @@ websearch_to_tsquery('helpdesk_es', %(text)s)
            LIMIT %(probe)s
        ) found
        ORDER BY number DESC LIMIT %(limit)s
    """,
)
NAMES = Newest(
    window="""
        SELECT id, id FROM (
            SELECT id, name_vector FROM tickets_customer
            WHERE tenant_id = %(tenant)s ORDER BY id DESC LIMIT %(window)s
        ) recent
        WHERE name_vector @@ to_tsquery('helpdesk_names'::regconfig, %(text)s)
        ORDER BY id DESC LIMIT %(limit)s
    """,
    probe="""
        SELECT id, id, count(*) OVER () FROM (
            SELECT id FROM tickets_customer
            WHERE tenant_id = %(tenant)s
              AND name_vector @@ to_tsquery('helpdesk_names'::regconfig, %(text)s)
            LIMIT %(probe)s
        ) found
        ORDER BY id DESC LIMIT %(limit)s
    """,
)

Row = tuple[Any, ...]


@dataclass
class Found:
    """Rows that match, newest first. ``partial``: the older history holds too many of the
    words to be read in time (HISTORY_TIMEOUT_MS), so only the newest rows were searched."""

    rows: list[Row]
    partial: bool = False


def _window(source: Newest, params: dict[str, Any], size: int) -> list[Row]:
    with connection.cursor() as cursor:
        cursor.execute(source.window, {**params, "window": size})
        return list(cursor.fetchall())


def _in_history(sql: str, params: dict[str, Any], *, bitmap: bool = True) -> list[Row] | None:
    """A read of the older history, or None when it takes longer than HISTORY_TIMEOUT_MS:
    two words each in a tenth of 5 M messages take ~30 ms to intersect through the GIN index
    on an idle server; a busy one asks to refine the search rather than answer slowly."""
    try:
        with _bitmap_plan(bitmap=bitmap, timeout_ms=HISTORY_TIMEOUT_MS) as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    except OperationalError as error:
        if isinstance(error.__cause__, QueryCanceled):
            return None
        raise


def newest_matches(source: Newest, *, tenant_id: int, text: str, limit: int, enough: int) -> Found:
    """Up to ``limit`` rows that match ``text``, newest first: all of the newest when the
    newest FIRST_WINDOW rows hold at least ``enough`` matches or the words are rare (fewer
    than PROBE matches); otherwise (words many older rows hold and few recent ones) the newest
    among the RECENT_WINDOW newest rows and PROBE older ones."""
    params = {"tenant": tenant_id, "text": text, "limit": limit, "probe": PROBE}
    found = _window(source, params, FIRST_WINDOW)
    if len(found) >= enough:
        return Found(found)
    probed = _in_history(source.probe, params)
    if probed is None:
        return Found(found, partial=True)
    if not probed or probed[0][-1] < PROBE:  # every match there is
        return Found([row[:-1] for row in probed])
    recent = _in_history(source.window, {**params, "window": RECENT_WINDOW}, bitmap=False)
    if recent is None:
        return Found(found, partial=True)
    merged = {row[0]: row for row in (*[row[:-1] for row in probed], *recent)}
    rows = sorted(merged.values(), key=lambda row: (row[1], row[0]), reverse=True)
    return Found(rows[:limit])


def customers_by_name(tenant_id: int, text: str) -> tuple[list[int], bool]:
    """Customers whose name has words starting with each typed word, newest first, and
    whether the search was partial (see :class:`Found`)."""
    query = name_prefix_query(text)
    if not query:
        return [], False
    found = newest_matches(
        NAMES, tenant_id=tenant_id, text=query, limit=NAME_MATCHES, enough=NAME_MATCHES
    )
    return [row[0] for row in found.rows], found.partial


TYPO_WINDOW = 5_000  # newest customers compared when the trigram match is not LEAKPROOF
TYPO_MATCHES = 50

# A name typed with a typo: pg_trgm's word similarity between what was typed and a stretch of
# the folded name (0.6 of the typed trigrams by default), the most similar first.
TYPO_INDEXED = """
    SELECT id FROM tickets_customer
    WHERE tenant_id = %(tenant)s AND name_folded %%> f_unaccent(lower(%(text)s))
    ORDER BY word_similarity(f_unaccent(lower(%(text)s)), name_folded) DESC, id DESC
    LIMIT %(limit)s
"""
TYPO_WINDOWED = """
    SELECT id FROM (
        SELECT id, name_folded FROM tickets_customer
        WHERE tenant_id = %(tenant)s ORDER BY id DESC LIMIT %(window)s
    ) newest
    WHERE name_folded %%> f_unaccent(lower(%(text)s))
    ORDER BY word_similarity(f_unaccent(lower(%(text)s)), name_folded) DESC, id DESC
    LIMIT %(limit)s
"""


def _trigram_match_leakproof() -> bool:
    """Whether the database was set up with pg_trgm's ``%>`` marked LEAKPROOF (a superuser
    step, see helpdesk/devservices.py), asked once per connection: only then can the trigram
    index serve it under row-level security."""
    known = getattr(connection, "_search_trgm_leakproof", None)
    if known is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT proleakproof FROM pg_proc"
                " WHERE oid = 'word_similarity_commutator_op(text, text)'::regprocedure"
            )
            row = cursor.fetchone()
        known = bool(row and row[0])
        connection._search_trgm_leakproof = known  # type: ignore[attr-defined]
    return known


def customers_by_typo(tenant_id: int, text: str) -> list[int]:
    """Customers whose name is like ``text`` typed with a typo, the most similar first: through
    the trigram index over every customer, or, where the database lacks the LEAKPROOF step,
    among the newest ``TYPO_WINDOW`` (a bounded cost: without the index it would be a scan)."""
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "text": text,
        "limit": TYPO_MATCHES,
        "window": TYPO_WINDOW,
    }
    if not _trigram_match_leakproof():
        with connection.cursor() as cursor:
            cursor.execute(TYPO_WINDOWED, params)
            return [row[0] for row in cursor.fetchall()]
    with _bitmap_plan() as cursor:
        cursor.execute(TYPO_INDEXED, params)
        return [row[0] for row in cursor.fetchall()]


def _message_matches(tenant_id: int, text: str) -> Found:
    """Rows (message id, date, ticket id, rank) of the newest messages that match, public or
    private."""
    return newest_matches(
        MESSAGES, tenant_id=tenant_id, text=text, limit=MESSAGE_MATCHES, enough=ENOUGH_RECENT
    )


def _subject_matches(tenant_id: int, text: str) -> Found:
    """Rows (ticket id, number) of the tickets whose subject matches, newest first."""
    return newest_matches(
        SUBJECTS, tenant_id=tenant_id, text=text, limit=TICKETS_SHOWN, enough=TICKETS_SHOWN
    )


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


def tickets_by_text(tenant_id: int, text: str) -> tuple[list[TicketHit], bool]:
    """Tickets whose subject or messages contain the words (by their Spanish stems, accents
    ignored), best first: a subject match, then the best ranked message, then the newest;
    and whether the search was partial (see :class:`Found`). At most a dozen queries
    whatever the number of matches."""
    if not WORD.search(text):
        return [], False
    best: dict[int, tuple[float, int]] = {}  # ticket id -> (rank, message id)
    order: list[int] = []  # tickets by their newest match
    messages = _message_matches(tenant_id, text)
    for message_id, _date, ticket_id, rank in messages.rows:
        rank = float(rank)
        if ticket_id not in best:
            order.append(ticket_id)
        if ticket_id not in best or rank > best[ticket_id][0]:
            best[ticket_id] = (rank, message_id)
    by_subject = _subject_matches(tenant_id, text)
    partial = messages.partial or by_subject.partial
    subjects = [row[0] for row in by_subject.rows]
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
    return hits, partial
