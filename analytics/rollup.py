"""Keeping the rollups current: fold changed tickets in, or recompute a tenant from scratch.

The beat job (``analytics.tasks``) calls :func:`rollup_refresh` per tenant: it reads the
tickets whose ``updated_at`` moved since the tenant's watermark (every ticket service stamps
it), recomputes their contribution and applies new minus old to the daily counters, in one
transaction holding the tenant's state row (two runs never interleave). The watermark is
re-read with an overlap so a transaction that committed late is still seen; re-folding an
unchanged ticket adds nothing. A page view never scans tickets.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from analytics.buckets import COLUMNS as BUCKET_COLUMNS
from analytics.contribution import (
    COUNTERS,
    EventRow,
    MessageRow,
    Result,
    TicketRow,
    ticket_contribution,
)
from analytics.models import (
    ROLLUP_MODELS,
    DailyStat,
    DayTotal,
    DimensionResponseTotal,
    DimensionTotal,
    OpenTotal,
    ResponseStat,
    ResponseTotal,
    RollupState,
    SlaTotal,
    TicketFact,
    TypificationStat,
)
from deskconfig.accounts import ChannelAccount
from deskconfig.business_hours import Plan
from deskconfig.models import BusinessSchedule, FieldType, MetadataField
from helpdesk.models import Tenant
from tickets.models import Event, Message, Ticket

OVERLAP = datetime.timedelta(minutes=2)
CHUNK = 2000
EVENT_KINDS = ("status", "assigned", "sla")
TICKET_FIELDS = (
    "id",
    "number",
    "account_id",
    "department_id",
    "assignee_id",
    "status",
    "sentiment",
    "metadata",
    "awaiting_response",
    "created_at",
    "updated_at",
    "closed_at",
    "sla_due_at",
)
FACT_FIELDS = (
    "number",
    "channel",
    "account_id",
    "department_id",
    "agent_id",
    "status",
    "sentiment",
    "metadata",
    "awaiting",
    "created_at",
    "closed_at",
    "first_response_at",
    "first_responder_id",
    "first_response_seconds",
    "sla_due_at",
)

DIMENSIONS = ("channel", "account_id", "department_id", "agent_id")
TYPED_FIELDS = (FieldType.CHOICE, FieldType.MULTI, FieldType.BOOL)
FLUSH_ROWS = 50_000  # a rebuild writes its sums when this many rollup rows are pending


class _Context:
    """What a run reads once: each account's channel kind and schedule plan, and the ticket
    fields whose values are categories (the typification counts only those)."""

    def __init__(self) -> None:
        self.kind: dict[int, str] = {}
        self.plan: dict[int, Plan | None] = {}
        schedules: dict[int, Plan] = {}
        rows = ChannelAccount.objects.values_list("id", "kind", "schedule_id")
        for pk, kind, schedule_id in rows:
            self.kind[pk] = kind
            if schedule_id is not None and schedule_id not in schedules:
                schedules[schedule_id] = Plan.of(BusinessSchedule.objects.get(pk=schedule_id))
            self.plan[pk] = schedules[schedule_id] if schedule_id is not None else None
        self.type_keys = frozenset(
            MetadataField.objects.filter(
                target=MetadataField.Target.TICKET, field_type__in=TYPED_FIELDS
            ).values_list("key", flat=True)
        )


def _compute(
    ids: Sequence[int], ctx: _Context, tz: ZoneInfo, *, every_id: bool = False
) -> dict[int, Result]:
    """The contributions of tickets ``ids``; ``every_id``: they are all the tenant's tickets
    from the first to the last (a rebuild's chunk), so a range reads them off the indexes."""
    scope = (
        {"ticket_id__gte": ids[0], "ticket_id__lte": ids[-1]}
        if every_id
        else {"ticket_id__in": ids}
    )
    tickets = [
        TicketRow(*row) for row in Ticket.objects.filter(pk__in=ids).values_list(*TICKET_FIELDS)
    ]
    messages: dict[int, list[MessageRow]] = defaultdict(list)
    for ticket_id, *rest in (
        Message.objects.filter(**scope)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "created_at", "direction", "author_kind", "author_id")
    ):
        messages[ticket_id].append(MessageRow(*rest))
    events: dict[int, list[EventRow]] = defaultdict(list)
    for ticket_id, *rest in (
        Event.objects.filter(**scope, kind__in=EVENT_KINDS)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "created_at", "kind", "data")
    ):
        events[ticket_id].append(EventRow(*rest))
    return {
        t.id: ticket_contribution(
            t,
            channel=ctx.kind.get(t.account_id, ""),
            messages=messages[t.id],
            events=events[t.id],
            plan=ctx.plan.get(t.account_id),
            tz=tz,
            type_keys=ctx.type_keys,
        )
        for t in tickets
    }


@dataclass(frozen=True)
class _Table:
    """A rollup table as the writer sees it: its key columns (with their SQL types), its
    counters and the unique constraint an increment conflicts on."""

    name: str
    constraint: str
    keys: tuple[tuple[str, str], ...]
    counters: tuple[str, ...]


_DIMENSION_TYPES: tuple[tuple[str, str], ...] = (
    ("channel", "varchar"),
    ("account_id", "bigint"),
    ("department_id", "bigint"),
    ("agent_id", "bigint"),
)
DAILY = _Table(
    DailyStat._meta.db_table, "daily_stat_key", (("day", "date"), *_DIMENSION_TYPES), COUNTERS
)
RESPONSES = _Table(
    ResponseStat._meta.db_table,
    "response_stat_key",
    (("day", "date"), *_DIMENSION_TYPES, ("responder_id", "bigint")),
    ("answered", *BUCKET_COLUMNS),
)
DAY_TOTALS = _Table(
    DayTotal._meta.db_table, "day_total_key", (("day", "date"), ("agent_id", "bigint")), COUNTERS
)
RESPONSE_TOTALS = _Table(
    ResponseTotal._meta.db_table,
    "response_total_key",
    (("day", "date"), ("agent_id", "bigint"), ("responder_id", "bigint")),
    RESPONSES.counters,
)
_SLICE_TYPES: tuple[tuple[str, str], ...] = (("dimension", "varchar"), ("value", "varchar"))
DIMENSION_TOTALS = _Table(
    DimensionTotal._meta.db_table,
    "dimension_total_key",
    (*_SLICE_TYPES, ("day", "date"), ("agent_id", "bigint")),
    COUNTERS,
)
DIMENSION_RESPONSES = _Table(
    DimensionResponseTotal._meta.db_table,
    "dimension_response_key",
    (*_SLICE_TYPES, ("day", "date"), ("agent_id", "bigint"), ("responder_id", "bigint")),
    RESPONSES.counters,
)
SLA_TOTALS = _Table(
    SlaTotal._meta.db_table,
    "sla_total_key",
    (("day", "date"), ("channel", "varchar"), ("department_id", "bigint")),
    ("sla_on_time", "sla_late"),
)
OPEN_TOTALS = _Table(
    OpenTotal._meta.db_table, "open_total_key", _DIMENSION_TYPES, ("open", "awaiting", "unassigned")
)
_SLA_AT = (COUNTERS.index("sla_on_time"), COUNTERS.index("sla_late"))
TYPES = _Table(
    TypificationStat._meta.db_table,
    "typification_stat_key",
    (("day", "date"), *_DIMENSION_TYPES, ("key", "varchar"), ("value", "text")),
    ("tickets",),
)


@dataclass
class _Deltas:
    """Pending changes of the rollups, keyed like their rows. The totals (per day and person,
    SLA per day, channel and department) are the per-dimension rows summed, kept alongside;
    the open snapshot follows the facts' current state."""

    daily: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    day_totals: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    sla_totals: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    open_totals: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    dimension_totals: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    responses: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    response_totals: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    dimension_responses: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    types: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.daily) + len(self.responses) + len(self.types)

    def _tables(self) -> tuple[tuple[_Table, dict[tuple[Any, ...], list[int]]], ...]:
        return (
            (DAILY, self.daily),
            (DAY_TOTALS, self.day_totals),
            (DIMENSION_TOTALS, self.dimension_totals),
            (SLA_TOTALS, self.sla_totals),
            (OPEN_TOTALS, self.open_totals),
            (RESPONSES, self.responses),
            (RESPONSE_TOTALS, self.response_totals),
            (DIMENSION_RESPONSES, self.dimension_responses),
            (TYPES, self.types),
        )

    def add(self, fact: dict[str, Any], contribution: dict[str, Any], sign: int) -> None:
        """Add (``sign`` +1) or take away (-1) one ticket: its fact's dimensions and state,
        and its contribution."""
        dims = tuple(fact[name] for name in DIMENSIONS)
        channel, _account, department, agent = dims
        slices = _slices(dims)
        if fact["status"] == "open":
            flags = (1, int(bool(fact["awaiting"])), int(agent is None))
            total = self.open_totals.setdefault(dims, [0, 0, 0])
            for i, n in enumerate(flags):
                total[i] += sign * n
        for day, counts in contribution["d"]:
            keys = [(self.daily, (day, *dims)), (self.day_totals, (day, agent))]
            keys += [(self.dimension_totals, (*s, day, agent)) for s in slices]
            for rows, key in keys:
                total = rows.setdefault(key, [0] * len(COUNTERS))
                for i, n in enumerate(counts):
                    if n:
                        total[i] += sign * n
            on_time, late = (counts[i] for i in _SLA_AT)
            if on_time or late:
                total = self.sla_totals.setdefault((day, channel, department), [0, 0])
                total[0] += sign * on_time
                total[1] += sign * late
        width = len(RESPONSES.counters)
        for day, responder, bucket in contribution["r"]:
            keys = [
                (self.responses, (day, *dims, responder)),
                (self.response_totals, (day, agent, responder)),
            ]
            keys += [(self.dimension_responses, (*s, day, agent, responder)) for s in slices]
            for rows, key in keys:
                total = rows.setdefault(key, [0] * width)
                total[0] += sign
                total[1 + bucket] += sign
        for day, key, value in contribution["t"]:
            self.types.setdefault((day, *dims, key, value), [0])[0] += sign

    def write(self, tenant_id: int) -> None:
        for table, rows in self._tables():
            _upsert(table, tenant_id, [(k, v) for k, v in rows.items() if any(v)])
            rows.clear()


def _slices(dims: tuple[Any, ...]) -> list[tuple[str, str]]:
    """The (dimension, value) rows of :class:`DimensionTotal` a ticket with these dimensions
    adds to: its channel, its account and its department (when it has one)."""
    channel, account, department, _agent = dims
    found = [("channel", str(channel)), ("account", str(account))]
    if department is not None:
        found.append(("department", str(department)))
    return found


def _upsert(table: _Table, tenant_id: int, rows: list[tuple[tuple[Any, ...], list[int]]]) -> None:
    """Add ``rows`` to the table's counters (insert or increment): one statement whose rows
    come as one JSON array of arrays, so neither side handles a parameter per value."""
    if not rows:
        return
    keys = ", ".join(name for name, _type in table.keys)
    columns = ", ".join(table.counters)
    kinds = [kind for _name, kind in table.keys] + ["int"] * len(table.counters)
    values = ", ".join(f"(r->>{i})::{kind}" for i, kind in enumerate(kinds))
    updates = ", ".join(f"{c} = {table.name}.{c} + EXCLUDED.{c}" for c in table.counters)
    sql = (
        f"INSERT INTO {table.name} (tenant_id, {keys}, {columns})"  # noqa: S608 - our own names
        f" SELECT %s, {values} FROM jsonb_array_elements(%s::jsonb) AS r"
        f" ON CONFLICT ON CONSTRAINT {table.constraint} DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, json.dumps([[*k, *v] for k, v in rows])])


def _fold(
    tenant_id: int,
    ids: Sequence[int],
    ctx: _Context,
    tz: ZoneInfo,
    deltas: _Deltas,
    *,
    fresh: bool = False,
) -> int:
    """Recompute ``ids`` and add new minus old to ``deltas``; answers how many facts changed.
    ``fresh``: the facts were emptied (a rebuild), so there is nothing old to read."""
    new = _compute(ids, ctx, tz, every_id=fresh)
    old = {} if fresh else {f.ticket_id: f for f in TicketFact.objects.filter(ticket_id__in=ids)}
    changed: list[dict[str, Any]] = []
    for ticket_id, result in new.items():
        stored = result.stored()
        before = old.get(ticket_id)
        if before is not None:
            same = before.contribution == stored and all(
                getattr(before, name) == result.fact[name] for name in FACT_FIELDS
            )
            if same:
                continue
            deltas.add(_fact_state(before), before.contribution, -1)
        deltas.add(result.fact, stored, +1)
        changed.append(
            {"tenant_id": tenant_id, "ticket_id": ticket_id, "contribution": stored, **result.fact}
        )
    if changed and fresh:
        _insert_facts(changed)
    elif changed:
        TicketFact.objects.bulk_create(
            [TicketFact(**row) for row in changed],
            update_conflicts=True,
            unique_fields=["tenant", "ticket"],
            update_fields=[*FACT_FIELDS, "contribution"],
        )
    return len(changed)


_FACT_TYPES = {
    "number": "bigint",
    "channel": "varchar",
    "account_id": "bigint",
    "department_id": "bigint",
    "agent_id": "bigint",
    "status": "varchar",
    "sentiment": "varchar",
    "metadata": "jsonb",
    "awaiting": "boolean",
    "created_at": "timestamptz",
    "closed_at": "timestamptz",
    "first_response_at": "timestamptz",
    "first_responder_id": "bigint",
    "first_response_seconds": "int",
    "sla_due_at": "timestamptz",
    "contribution": "jsonb",
}


def _insert_facts(facts: list[dict[str, Any]]) -> None:
    """Insert new facts (a rebuild: the table was emptied) as one JSON document the database
    turns into rows, instead of binding a parameter per field."""
    names = ["tenant_id", "ticket_id", *_FACT_TYPES]
    columns = ", ".join(names)
    record = ", ".join(f"{n} {_FACT_TYPES.get(n, 'bigint')}" for n in names)
    sql = (
        f"INSERT INTO {TicketFact._meta.db_table} ({columns})"  # noqa: S608 - our own names
        f" SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS r({record})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(facts, default=_iso)])


def _iso(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    raise TypeError(type(value))


def _fact_state(fact: TicketFact) -> dict[str, Any]:
    """What :meth:`_Deltas.add` reads of a stored fact."""
    return {name: getattr(fact, name) for name in (*DIMENSIONS, "status", "awaiting")}


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    chunk: list[int] = []
    for pk in ids:
        chunk.append(pk)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _state(tenant_id: int) -> RollupState:
    RollupState.objects.get_or_create(tenant_id=tenant_id)
    return RollupState.objects.select_for_update().get(tenant_id=tenant_id)


def rollup_rebuild(*, tenant_id: int) -> int:
    """Recompute the tenant's rollups from its whole history. Answers the tickets read."""
    with transaction.atomic():
        state = _state(tenant_id)
        return _rebuild(tenant_id, state)


def _rebuild(tenant_id: int, state: RollupState) -> int:
    """Empty the tenant's rollups and derive them again: the facts are written per chunk of
    tickets, the counters summed in memory and written a few statements at a time (never a
    statement per ticket)."""
    started = timezone.now()
    tz = ZoneInfo(Tenant.objects.get(pk=tenant_id).time_zone)
    for model in ROLLUP_MODELS:
        model.objects.filter(tenant_id=tenant_id).delete()  # type: ignore[attr-defined]
    ctx = _Context()
    deltas = _Deltas()
    seen, last = 0, 0
    while True:
        ids = list(
            Ticket.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            break
        _fold(tenant_id, ids, ctx, tz, deltas, fresh=True)
        if len(deltas) > FLUSH_ROWS:
            deltas.write(tenant_id)
        seen, last = seen + len(ids), ids[-1]
    deltas.write(tenant_id)
    state.watermark, state.time_zone = started, str(tz)
    state.rebuilt_at = state.updated_at = timezone.now()
    state.save()
    return seen


def rollup_refresh(*, tenant_id: int) -> int:
    """Fold in the tickets changed since the watermark (a full rebuild the first time, or when
    the tenant changed time zone). Answers the facts that changed."""
    with transaction.atomic():
        state = _state(tenant_id)
        zone = Tenant.objects.get(pk=tenant_id).time_zone
        if state.watermark is None or state.time_zone != zone:
            return _rebuild(tenant_id, state)
        started = timezone.now()
        changed_ids = (
            Ticket.objects.filter(
                updated_at__gte=state.watermark - OVERLAP, status__in=["open", "closed", "ignored"]
            )
            .order_by()
            .values_list("pk", flat=True)
            .iterator(chunk_size=CHUNK)
        )
        ctx, deltas = _Context(), _Deltas()
        changed = sum(
            _fold(tenant_id, ids, ctx, ZoneInfo(zone), deltas) for ids in _chunks(changed_ids)
        )
        deltas.write(tenant_id)
        state.watermark, state.updated_at = started, timezone.now()
        state.save(update_fields=["watermark", "updated_at"])
    return changed
