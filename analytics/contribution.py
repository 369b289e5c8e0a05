"""What one ticket adds to the analytics: its fact row and its hourly counters.

A pure function of the ticket's current row, its messages and its history, so folding a
changed ticket in (new contribution minus the stored old one) and recomputing everything from
scratch give the same rollups."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from analytics.buckets import bucket_of
from analytics.business_time import business_seconds
from deskconfig.business_hours import Plan

COUNTERS = (
    "created",
    "closed",
    "ignored",
    "msg_in",
    "msg_out",
    "sla_on_time",
    "sla_late",
    "open_delta",
    "awaiting_delta",
    "unassigned_delta",
    "happy",
    "neutral",
    "angry",
    *(f"in_h{h:02d}" for h in range(24)),
)
SENTIMENTS = ("happy", "neutral", "angry")
INDEX = {name: i for i, name in enumerate(COUNTERS)}


@dataclass(frozen=True)
class TicketRow:
    id: int
    number: int
    account_id: int
    department_id: int | None
    assignee_id: int | None
    status: str
    sentiment: str
    metadata: dict[str, Any]
    awaiting_response: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    closed_at: datetime.datetime | None
    sla_due_at: datetime.datetime | None


@dataclass(frozen=True)
class MessageRow:
    created_at: datetime.datetime
    direction: str  # "in" / "out"
    author_kind: str  # "customer" / "agent" / "bot"
    author_id: int | None


@dataclass(frozen=True)
class EventRow:
    created_at: datetime.datetime
    kind: str
    data: dict[str, Any]


@dataclass
class Result:
    """The ticket's fact row and what it adds to each rollup: daily counters per local day,
    its first response (day, responder, bucket) and its typification (day, field, value)."""

    fact: dict[str, Any]
    buckets: dict[str, list[int]] = field(default_factory=dict)
    responses: list[list[Any]] = field(default_factory=list)
    types: list[list[Any]] = field(default_factory=list)

    def stored(self) -> dict[str, list[Any]]:
        """The contribution as stored on the fact (JSON): sorted, so equal ones compare equal."""
        return {
            "d": [[k, v] for k, v in sorted(self.buckets.items())],
            "r": self.responses,
            "t": sorted(self.types),
        }


def _bucket(
    buckets: dict[str, list[int]], tz: ZoneInfo, at: datetime.datetime, name: str, n: int = 1
) -> None:
    local = at.astimezone(tz)
    counts = buckets.setdefault(local.date().isoformat(), [0] * len(COUNTERS))
    counts[INDEX[name]] += n
    if name == "msg_in":
        counts[INDEX[f"in_h{local.hour:02d}"]] += n


def _first_response(
    messages: Sequence[MessageRow], plan: Plan | None
) -> tuple[datetime.datetime | None, int | None, int | None]:
    """The first human answer after the customer's first message: when, by whom, and how
    long it took (business seconds where the account has a schedule)."""
    first_in = next((m.created_at for m in messages if m.direction == "in"), None)
    if first_in is None:
        return None, None, None
    answer = next(
        (
            m
            for m in messages
            if m.direction == "out" and m.author_kind == "agent" and m.created_at >= first_in
        ),
        None,
    )
    if answer is None:
        return None, None, None
    return answer.created_at, answer.author_id, business_seconds(plan, first_in, answer.created_at)


def _backlog(
    t: TicketRow,
    messages: Iterable[MessageRow],
    events: Iterable[EventRow],
    tz: ZoneInfo,
    buckets: dict[str, list[int]],
) -> None:
    """Replay the ticket's open / awaiting / unassigned states and record each change as a
    delta; a last correction makes the deltas add up to the ticket's current state (history
    written before a field existed, or moments stamped out of order, cannot drift)."""
    events = list(events)
    assigned_events = [e for e in events if e.kind == "assigned"]
    assigned = (
        assigned_events[0].data.get("before") is not None
        if assigned_events
        else t.assignee_id is not None
    )
    timeline: list[tuple[datetime.datetime, int, str, Any]] = []
    for m in messages:
        if m.direction == "in":
            timeline.append((m.created_at, 0, "in", None))
        elif m.author_kind == "agent":
            timeline.append((m.created_at, 0, "answer", None))
    for e in events:
        if e.kind == "status":
            timeline.append((e.created_at, 1, "status", e.data.get("after")))
        elif e.kind == "assigned":
            timeline.append((e.created_at, 1, "assigned", e.data.get("after")))
    timeline.sort(key=lambda x: (x[0], x[1]))
    state = {"open": True, "awaiting": False, "assigned": assigned}

    def flags() -> tuple[bool, bool, bool]:
        is_open = state["open"]
        return is_open, is_open and state["awaiting"], is_open and not state["assigned"]

    def emit(at: datetime.datetime, before: tuple[bool, bool, bool]) -> None:
        after = flags()
        for name, b, a in zip(("open", "awaiting", "unassigned"), before, after, strict=True):
            if a != b:
                _bucket(buckets, tz, at, f"{name}_delta", 1 if a else -1)

    emit(t.created_at, (False, False, False))
    last = t.created_at
    for at, _order, kind, value in timeline:
        before = flags()
        if kind == "in":
            state["awaiting"] = True
        elif kind == "answer":
            state["awaiting"] = False
        elif kind == "status":
            state["open"] = value == "open"
            if not state["open"]:
                state["awaiting"] = False
        else:
            state["assigned"] = value is not None
        emit(max(at, t.created_at), before)
        last = max(last, at)
    before = flags()
    state["open"] = t.status == "open"
    state["awaiting"] = t.awaiting_response
    state["assigned"] = t.assignee_id is not None
    emit(max(last, t.updated_at), before)


def _text(value: Any) -> str | None:
    """A field's value as the typification counts it (what ``->>`` would answer)."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _types(metadata: dict[str, Any], keys: frozenset[str], day: str) -> list[list[Any]]:
    """The categorical values of the ticket (each value of a multiple choice), on ``day``."""
    found = []
    for key, value in metadata.items():
        if key not in keys:
            continue
        for item in value if isinstance(value, list) else [value]:
            text = _text(item)
            if text:
                found.append([day, key, text])
    return found


def ticket_contribution(
    t: TicketRow,
    *,
    channel: str,
    messages: Sequence[MessageRow],
    events: Sequence[EventRow],
    plan: Plan | None,
    tz: ZoneInfo,
    type_keys: frozenset[str] = frozenset(),
) -> Result:
    buckets: dict[str, list[int]] = {}
    _bucket(buckets, tz, t.created_at, "created")
    if t.sentiment in SENTIMENTS:
        _bucket(buckets, tz, t.created_at, t.sentiment)
    if t.status in ("closed", "ignored") and t.closed_at is not None:
        _bucket(buckets, tz, t.closed_at, t.status)
    for m in messages:
        _bucket(buckets, tz, m.created_at, "msg_in" if m.direction == "in" else "msg_out")
    for e in events:
        if e.kind == "sla" and "response_seconds" in e.data:
            _bucket(buckets, tz, e.created_at, "sla_late" if e.data.get("late") else "sla_on_time")
    _backlog(t, messages, events, tz, buckets)
    buckets = {k: v for k, v in buckets.items() if any(v)}
    first_at, responder, seconds = _first_response(messages, plan)
    responses = []
    if first_at is not None and seconds is not None:
        day = first_at.astimezone(tz).date().isoformat()
        responses.append([day, responder, bucket_of(seconds)])
    created_day = t.created_at.astimezone(tz).date().isoformat()
    fact = {
        "number": t.number,
        "channel": channel,
        "account_id": t.account_id,
        "department_id": t.department_id,
        "agent_id": t.assignee_id,
        "status": t.status,
        "sentiment": t.sentiment,
        "metadata": t.metadata or {},
        "awaiting": t.status == "open" and t.awaiting_response,
        "created_at": t.created_at,
        "closed_at": t.closed_at if t.status != "open" else None,
        "first_response_at": first_at,
        "first_responder_id": responder,
        "first_response_seconds": seconds,
        "sla_due_at": t.sla_due_at if t.status == "open" else None,
    }
    return Result(
        fact=fact,
        buckets=buckets,
        responses=responses,
        types=_types(t.metadata or {}, type_keys, created_day),
    )
