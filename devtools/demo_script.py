"""The vocabulary of the demo's conversations: who the customer is and each step of a
conversation (a customer message, an answer, a note, a close...). The conversations themselves
are data (:mod:`devtools.data_demo_conversations`); :mod:`devtools.demo_tickets` plays them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stdnum.cl import rut as cl_rut


def rut(number: int) -> str:
    """A valid Chilean RUT for ``number``: the check digit is computed, never made up."""
    body = str(number)
    return str(cl_rut.format(body + cl_rut.calc_check_digit(body)))


# --- the steps of a conversation -----------------------------------------------------------


@dataclass(frozen=True)
class In:
    """A customer's message, ``minutes_ago`` before the seed (None: now)."""

    text: str
    minutes_ago: int | None = None
    subject: str = ""
    public: bool = False
    mention: bool = False


@dataclass(frozen=True)
class Out:
    """An agent's answer (queued for sending)."""

    who: str
    text: str


@dataclass(frozen=True)
class Assign:
    who: str
    by: str


@dataclass(frozen=True)
class Note:
    """An internal comment; "@agent2" and the like notify the person mentioned."""

    who: str
    text: str


@dataclass(frozen=True)
class Close:
    """Closes an answered ticket, ignores one nobody answered."""

    by: str


@dataclass(frozen=True)
class Important:
    by: str


@dataclass(frozen=True)
class Mood:
    sentiment: str
    by: str


@dataclass(frozen=True)
class Tag:
    """The ticket's typification."""

    values: dict[str, Any]
    by: str


@dataclass(frozen=True)
class Escalate:
    to: str
    note: str
    by: str


@dataclass(frozen=True)
class MergeInto:
    """Merge this conversation's ticket into another one's; later steps act on the target."""

    target: str
    by: str


Step = In | Out | Assign | Note | Close | Important | Mood | Tag | Escalate | MergeInto


@dataclass(frozen=True)
class Profile:
    """What an agent filled in about the customer."""

    rut: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversation:
    key: str
    account: str
    identity: str
    name: str
    steps: Sequence[Step]
    profile: Profile | None = None


@dataclass(frozen=True)
class AccountSpec:
    kind: str
    name: str
    sla_minutes: int
    settings: dict[str, Any]


# --- Tienda Demo -----------------------------------------------------------------------------
