"""A corpus of mail shapes that real mailboxes send, each citing where it comes from.

Every case is generated here (nothing is copied from the reports it cites) and states what an
agent must see; ``tests/channels/test_email_corpus.py`` runs each one through a real Dovecot and
the whole receive path.
"""

from __future__ import annotations

from tests.channels.corpus import charsets, parts, people, quotes, robots, threads
from tests.channels.corpus.build import Case, Expect

CASES: list[Case] = [
    *quotes.CASES,
    *threads.CASES,
    *robots.CASES,
    *charsets.CASES,
    *parts.CASES,
    *people.CASES,
]

__all__ = ["CASES", "Case", "Expect"]
