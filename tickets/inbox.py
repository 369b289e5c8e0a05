"""Reads of the column inbox: the first page of every column in a fixed number of queries,
the next page of one column by keyset, and the agent's metrics."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, IntegerField, Q, QuerySet, Value

from helpdesk.models import User
from tickets.cards import CardAccount, CardCustomer, CardPerson, CardTicket
from tickets.filters import MessageFilter, TicketFilter
from tickets.models import (
    Column,
    ColumnKind,
    Customer,
    Message,
    ScheduledPost,
    Ticket,
    TicketStatus,
)

PAGE = 50


@dataclass
class ColumnView:
    column: Column
    items: list[Any] = field(default_factory=list)
    next_cursor: str = ""


def _tz(user: User) -> datetime.tzinfo:
    return zoneinfo.ZoneInfo(user.tenant.time_zone) if user.tenant else datetime.UTC


def ticket_filter(column: Column, user: User) -> TicketFilter:
    return TicketFilter.from_data(
        column.filters, sort=column.sort, user_id=user.pk, time_zone=_tz(user)
    )


def message_filter(column: Column, user: User) -> MessageFilter:
    return MessageFilter.from_data(column.filters, user_id=user.pk, time_zone=_tz(user))


# --- cursors: "<iso timestamp>|<id>" -------------------------------------------------------


def _cursor(moment: datetime.datetime | None, pk: int) -> str:
    return f"{moment.isoformat() if moment else ''}|{pk}"


def _parse_cursor(value: str) -> tuple[datetime.datetime | None, int] | None:
    try:
        moment, pk = value.rsplit("|", 1)
        return (datetime.datetime.fromisoformat(moment) if moment else None, int(pk))
    except ValueError:
        return None


def _ticket_qs(f: TicketFilter, after: str = "") -> QuerySet[Ticket]:
    qs = Ticket.objects.filter(f.to_q())
    cursor = _parse_cursor(after) if after else None
    if cursor is not None:
        moment, pk = cursor
        # The redundant bound beside the OR gives PostgreSQL an index range to start from.
        if f.sort == "waiting":
            qs = qs.filter(
                Q(waiting_since__gt=moment) | Q(waiting_since=moment, id__gt=pk),
                waiting_since__gte=moment,
            )
        else:
            qs = qs.filter(
                Q(updated_at__lt=moment) | Q(updated_at=moment, id__lt=pk), updated_at__lte=moment
            )
    return qs.order_by(*f.order_by())


def _message_qs(f: MessageFilter, after: str = "") -> QuerySet[Message]:
    qs = Message.objects.filter(f.to_q())
    cursor = _parse_cursor(after) if after else None
    if cursor is not None:
        moment, pk = cursor
        qs = qs.filter(
            Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk), created_at__lte=moment
        )
    return qs.order_by("-created_at", "-id")


def _scheduled_qs(column: Column, after: str = "") -> QuerySet[ScheduledPost]:
    d = column.filters or {}
    qs = ScheduledPost.objects.filter(status=ScheduledPost.Status.SCHEDULED)
    if d.get("channels"):
        qs = qs.filter(account__kind__in=d["channels"])
    if d.get("accounts"):
        qs = qs.filter(account_id__in=d["accounts"])
    cursor = _parse_cursor(after) if after else None
    if cursor is not None:
        moment, pk = cursor
        qs = qs.filter(Q(publish_at__gt=moment) | Q(publish_at=moment, id__gt=pk))
    return qs.order_by("publish_at", "id")


def _sort_moment(obj: Any, column: Column) -> datetime.datetime | None:
    if column.kind == ColumnKind.MESSAGES:
        return obj.created_at
    if column.kind == ColumnKind.SCHEDULED:
        return obj.publish_at
    return obj.waiting_since if column.sort == "waiting" else obj.updated_at


def _page(view: ColumnView, rows: list[Any]) -> None:
    view.items = rows[:PAGE]
    if len(rows) > PAGE:
        last = rows[PAGE - 1]
        view.next_cursor = _cursor(_sort_moment(last, view.column), last.pk)


def _union_ids(parts: list[QuerySet[Any]]) -> list[tuple[int, int]]:
    """(column id, row id) of every column's first page, in one UNION ALL query."""
    if not parts:
        return []
    first, *rest = parts
    return list(first.union(*rest, all=True)) if rest else list(first)


def inbox_columns(user: User) -> list[ColumnView]:
    """Every column's first page with a constant number of queries (columns, one UNION of
    the ticket columns, one fetch of those tickets, and the same for messages and posts)."""
    columns = list(Column.objects.filter(user=user).order_by("position", "id"))
    views = {c.pk: ColumnView(c) for c in columns}
    ticket_parts, message_parts, post_parts = [], [], []
    for c in columns:
        tag = Value(c.pk, output_field=IntegerField())
        if c.kind == ColumnKind.TICKETS:
            qs = _ticket_qs(ticket_filter(c, user))
            ticket_parts.append(qs.annotate(col=tag).values_list("col", "pk")[: PAGE + 1])
        elif c.kind == ColumnKind.MESSAGES:
            qs2 = _message_qs(message_filter(c, user))
            message_parts.append(qs2.annotate(col=tag).values_list("col", "pk")[: PAGE + 1])
        else:
            qs3 = _scheduled_qs(c)
            post_parts.append(qs3.annotate(col=tag).values_list("col", "pk")[: PAGE + 1])
    for parts, loader in (
        (ticket_parts, _load_tickets),
        (message_parts, _load_messages),
        (post_parts, _load_posts),
    ):
        pairs = _union_ids(parts)
        if not pairs:
            continue
        objects = loader({pk for _col, pk in pairs})
        rows: dict[int, list[Any]] = {}
        for col, pk in pairs:
            if pk in objects:
                rows.setdefault(col, []).append(objects[pk])
        for col, items in rows.items():
            _page(views[col], items)
    return [views[c.pk] for c in columns]


# What a ticket card shows (tickets.cards.CardTicket), read as plain values in this order.
TICKET_CARD_VALUES = (
    "pk",
    "number",
    "status",
    "important",
    "awaiting_response",
    "last_message_preview",
    "updated_at",
    "waiting_since",
    "sla_due_at",
    "sla_risk_at",
    "sla_breached",
    "account__kind",
    "customer_id",
    "assignee__name",
    "assignee__email",
    "assignee__is_bot",
)
# A message card's fields: loading only these skips decoding the rest (JSON, timestamps, the
# account's encrypted credentials). A card reading another field would cost a query per card:
# the inbox's pinned query count catches that.
MESSAGE_CARD_FIELDS = (
    "direction",
    "is_public",
    "is_mention",
    "text",
    "created_at",
    "account__kind",
    "author__name",
    "author__email",
    "ticket__number",
    "ticket__customer",
    "ticket__tenant",
)


def _customer_names(ids: set[int]) -> dict[int, str]:
    """The cards' customers in one query by primary key. Joined to the tickets instead,
    PostgreSQL hashes the whole customer table when its estimate says so (tens of ms at
    20 000 customers)."""
    return dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))


def _card_tickets(qs: QuerySet[Ticket], *, join_customers: bool = False) -> list[CardTicket]:
    """``join_customers`` when ``qs`` selects a handful of tickets by a subquery (a nested
    loop by key); otherwise the names come from a second query (see _customer_names)."""
    if join_customers:
        rows = list(qs.values_list(*TICKET_CARD_VALUES, "customer__name"))
        names = {row[12]: row[16] for row in rows}
    else:
        rows = list(qs.values_list(*TICKET_CARD_VALUES))
        names = _customer_names({row[12] for row in rows})
    accounts: dict[str, CardAccount] = {}
    customers: dict[int, CardCustomer] = {}
    people: dict[tuple[str, str, bool], CardPerson] = {}
    cards = []
    for row in rows:
        kind, customer_id, name, email, is_bot = row[11:16]
        account = accounts.get(kind)
        if account is None:
            account = accounts[kind] = CardAccount(kind)
        customer = customers.get(customer_id)
        if customer is None:
            customer = customers[customer_id] = CardCustomer(names.get(customer_id, ""))
        person = None
        if email is not None:  # an assignee (the join found one)
            person = people.get((name, email, is_bot))
            if person is None:
                person = people[(name, email, is_bot)] = CardPerson(name, email, is_bot)
        # The first 11 values are its first 11 fields, in order.
        cards.append(CardTicket(*row[:11], account, customer, person))  # type: ignore[call-arg]
    return cards


def _card_messages(qs: QuerySet[Message]) -> list[Message]:
    messages = list(qs.select_related("ticket", "account", "author").only(*MESSAGE_CARD_FIELDS))
    names = _customer_names({m.ticket.customer_id for m in messages})
    cache = Ticket._meta.get_field("customer").set_cached_value  # type: ignore[union-attr]
    for m in messages:
        ticket = m.ticket
        cache(
            ticket,
            Customer(
                pk=ticket.customer_id,
                tenant_id=ticket.tenant_id,
                name=names.get(ticket.customer_id, ""),
            ),
        )
    return messages


def _load_tickets(ids: set[int]) -> dict[int, CardTicket]:
    return {t.pk: t for t in _card_tickets(Ticket.objects.filter(pk__in=ids))}


def _load_messages(ids: set[int]) -> dict[int, Message]:
    return {m.pk: m for m in _card_messages(Message.objects.filter(pk__in=ids))}


def _load_posts(ids: set[int]) -> dict[int, ScheduledPost]:
    qs = ScheduledPost.objects.filter(pk__in=ids).select_related("account", "created_by")
    return {p.pk: p for p in qs}


def column_next_page(column: Column, user: User, after: str) -> ColumnView:
    """The next page of one column: one indexed keyset query (no OFFSET)."""
    view = ColumnView(column)
    rows: list[Any]
    if column.kind == ColumnKind.TICKETS:
        f = ticket_filter(column, user)
        # The keyset scan alone (one table, one index range) in a subquery, joined after:
        # the keyset bound makes PostgreSQL estimate ~1 row, and with the joins inside it
        # then hashed and sorted every waiting ticket instead of reading 51 in index order.
        page = _ticket_qs(f, after).values("pk")[: PAGE + 1]
        rows = _card_tickets(
            Ticket.objects.filter(pk__in=page).order_by(*f.order_by()), join_customers=True
        )
    elif column.kind == ColumnKind.MESSAGES:
        rows = _card_messages(_message_qs(message_filter(column, user), after)[: PAGE + 1])
    else:
        qs = _scheduled_qs(column, after).select_related("account", "created_by")
        rows = list(qs[: PAGE + 1])
    _page(view, rows)
    return view


@dataclass(frozen=True)
class Metrics:
    open: int
    addressed: int
    waiting: int


def agent_metrics(user: User) -> Metrics:
    """My open tickets, how many I have addressed and how many wait for my answer (one query
    on the assignee index)."""
    counts = Ticket.objects.filter(
        assignee=user, status=TicketStatus.OPEN, merged_into__isnull=True
    ).aggregate(
        open=Count("pk"),
        addressed=Count("pk", filter=Q(addressed=True)),
        waiting=Count("pk", filter=Q(awaiting_response=True)),
    )
    return Metrics(counts["open"], counts["addressed"], counts["waiting"])


def my_open_tickets(user: User) -> dict[int, tuple[bool, bool]]:
    """ticket id -> (addressed, awaiting) of my open tickets: the consumer's starting state for
    the live metrics bar."""
    return {
        pk: (addressed, awaiting)
        for pk, addressed, awaiting in Ticket.objects.filter(
            assignee=user, status=TicketStatus.OPEN, merged_into__isnull=True
        ).values_list("pk", "addressed", "awaiting_response")
    }
