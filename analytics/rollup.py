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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from analytics.contribution import (
    COUNTERS,
    EventRow,
    MessageRow,
    Result,
    TicketRow,
    ticket_contribution,
)
from analytics.models import DailyStat, RollupState, TicketFact
from deskconfig.accounts import ChannelAccount
from deskconfig.business_hours import Plan
from deskconfig.models import BusinessSchedule
from helpdesk.models import Tenant
from tickets.models import Event, Message, Ticket

OVERLAP = datetime.timedelta(minutes=2)
CHUNK = 1000
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

Key = tuple[str, str, int, int | None, int | None]  # day, channel, account, department, agent


class _Accounts:
    """Channel kind and schedule plan of each account, read once per run."""

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


def _compute(ids: Sequence[int], accounts: _Accounts, tz: ZoneInfo) -> dict[int, Result]:
    tickets = [
        TicketRow(*row) for row in Ticket.objects.filter(pk__in=ids).values_list(*TICKET_FIELDS)
    ]
    messages: dict[int, list[MessageRow]] = defaultdict(list)
    for ticket_id, *rest in (
        Message.objects.filter(ticket_id__in=ids)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "created_at", "direction", "author_kind", "author_id")
    ):
        messages[ticket_id].append(MessageRow(*rest))
    events: dict[int, list[EventRow]] = defaultdict(list)
    for ticket_id, *rest in (
        Event.objects.filter(ticket_id__in=ids, kind__in=EVENT_KINDS)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "created_at", "kind", "data")
    ):
        events[ticket_id].append(EventRow(*rest))
    return {
        t.id: ticket_contribution(
            t,
            channel=accounts.kind.get(t.account_id, ""),
            messages=messages[t.id],
            events=events[t.id],
            plan=accounts.plan.get(t.account_id),
            tz=tz,
        )
        for t in tickets
    }


def _add(
    deltas: dict[Key, list[int]], dims: dict[str, Any], buckets: dict[str, list[int]], sign: int
) -> None:
    for day, counts in buckets.items():
        key = (
            day,
            dims["channel"],
            dims["account_id"],
            dims["department_id"],
            dims["agent_id"],
        )
        total = deltas.setdefault(key, [0] * len(COUNTERS))
        for i, n in enumerate(counts):
            total[i] += sign * n


def _apply(tenant_id: int, deltas: dict[Key, list[int]]) -> None:
    """Add the deltas to the daily counters (insert or increment): one statement whose rows
    come as arrays (unnest), so neither the client nor the server parses thousands of
    placeholders."""
    rows = [(k, v) for k, v in deltas.items() if any(v)]
    if not rows:
        return
    table = DailyStat._meta.db_table
    columns = ", ".join(COUNTERS)
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in COUNTERS)
    keys = list(zip(*(k for k, _v in rows), strict=True))
    counts = list(zip(*(v for _k, v in rows), strict=True))
    arrays = [
        "%s::date[]", "%s::varchar[]", "%s::bigint[]", "%s::bigint[]", "%s::bigint[]",
        *["%s::int[]"] * len(COUNTERS),
    ]  # fmt: skip
    sql = (
        f"INSERT INTO {table} (tenant_id, day, channel, account_id, department_id, agent_id,"  # noqa: S608 - our own column names only
        f" {columns}) SELECT %s, * FROM unnest({', '.join(arrays)})"
        f" ON CONFLICT ON CONSTRAINT daily_stat_key DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, *[list(k) for k in keys], *[list(c) for c in counts]])


def _fold(tenant_id: int, ids: Sequence[int], accounts: _Accounts, tz: ZoneInfo) -> int:
    """Recompute ``ids`` and apply new minus old; answers how many facts changed."""
    new = _compute(ids, accounts, tz)
    old = {f.ticket_id: f for f in TicketFact.objects.filter(ticket_id__in=ids)}
    deltas: dict[Key, list[int]] = {}
    changed: list[TicketFact] = []
    for ticket_id, result in new.items():
        before = old.get(ticket_id)
        if before is not None:
            same = before.contribution == _stored(result.buckets) and all(
                getattr(before, name) == result.fact[name] for name in FACT_FIELDS
            )
            if same:
                continue
            _add(deltas, _dims(before), dict(before.contribution), -1)
        _add(deltas, result.fact, result.buckets, +1)
        changed.append(
            TicketFact(
                tenant_id=tenant_id,
                ticket_id=ticket_id,
                contribution=_stored(result.buckets),
                **result.fact,
            )
        )
    if changed:
        TicketFact.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["tenant", "ticket"],
            update_fields=[*FACT_FIELDS, "contribution"],
        )
    _apply(tenant_id, deltas)
    return len(changed)


def _stored(buckets: dict[str, list[int]]) -> list[list[Any]]:
    """The contribution as stored: sorted pairs, so equal contributions compare equal."""
    return [[k, v] for k, v in sorted(buckets.items())]


def _dims(fact: TicketFact) -> dict[str, Any]:
    return {
        "channel": fact.channel,
        "account_id": fact.account_id,
        "department_id": fact.department_id,
        "agent_id": fact.agent_id,
    }


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
    started = timezone.now()
    tz = ZoneInfo(Tenant.objects.get(pk=tenant_id).time_zone)
    TicketFact.objects.filter(tenant_id=tenant_id).delete()
    DailyStat.objects.filter(tenant_id=tenant_id).delete()
    accounts = _Accounts()
    seen, last = 0, 0
    while True:
        ids = list(
            Ticket.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            break
        _fold(tenant_id, ids, accounts, tz)
        seen, last = seen + len(ids), ids[-1]
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
        accounts = _Accounts()
        changed = sum(
            _fold(tenant_id, ids, accounts, ZoneInfo(zone)) for ids in _chunks(changed_ids)
        )
        state.watermark, state.updated_at = started, timezone.now()
        state.save(update_fields=["watermark", "updated_at"])
    return changed
