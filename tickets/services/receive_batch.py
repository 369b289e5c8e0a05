"""Receiving a batch of customers' messages in one transaction, set-based: what
:func:`~tickets.services.receive.message_receive` does for one message, with a fixed number of
queries per batch instead of some thirty per message.

Contract of :func:`messages_receive_batch`: the items are filed in order with the same rules
as ``message_receive`` (idempotent on the provider id, customers created on first contact,
email threads by reference and chats keep one open conversation, the reopen window, the SLA
clock, the history, the workflow), inside the caller's transaction or one of its own. A later
item sees what an earlier one did (a reply to a message of the same batch joins its ticket).
Each ticket is published once after the commit, each new message once.

It raises ``IntegrityError`` when a concurrent receiver created one of the batch's customers
or provider ids meanwhile: the caller rolls its savepoint back and files those items one by
one (``message_receive``), which handles that race.

Queries per batch, whatever its size: the messages already known (idempotency, references,
replies), the tickets named by number, the identities, the new customers and identities, the
customers locked, the tickets locked, the customers' latest tickets, the tenant's settings,
the counter, the new tickets, the messages, the files, the tickets' update, the history; the
workflow's configuration once per account.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from deskconfig.accounts import ChannelAccount
from deskconfig.models import TenantSettings
from tickets import hooks, live
from tickets.history import EventRow, events_record_bulk
from tickets.identities import display_identity, normalize_identity
from tickets.models import (
    IDENTITY_OF_CHANNEL,
    Attachment,
    AuthorKind,
    Customer,
    CustomerIdentity,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Ticket,
    TicketStatus,
    keeps_one_open,
)
from tickets.sanitize import sanitize_html
from tickets.services.base import (
    ActionRefused,
    Inbound,
    Received,
    _file_name,
    card_preview,
)
from tickets.services.receive import _reopen_within_window, _start_sla_clock
from tickets.sla import DEFAULT_RISK_PERCENT, resolution_deadline

MERGE_HOPS = 10  # a merged ticket's messages go where it was merged, this many times at most

TICKET_FIELDS = [
    "subject",
    "last_customer_message_at",
    "awaiting_response",
    "last_message_preview",
    "waiting_since",
    "sla_due_at",
    "sla_risk_at",
    "sla_breached",
    "updated_at",
]


@dataclass(frozen=True)
class ReceiveItem:
    """One message to receive. ``references``: provider ids of earlier messages this one
    answers, the most relevant first (an email's In-Reply-To, then its References from the
    newest); the first one known names its thread when ``inbound.thread_ticket_number`` does
    not."""

    account: ChannelAccount
    inbound: Inbound
    references: tuple[str, ...] = ()


@dataclass
class _Batch:
    """What the batch has read and decided so far (keys are (account id, provider id))."""

    tenant_id: int
    known: dict[tuple[int, str], Message] = field(default_factory=dict)
    numbered: dict[tuple[int, int], Ticket] = field(default_factory=dict)
    customers: dict[tuple[str, str], Customer] = field(default_factory=dict)
    latest: dict[int, Ticket] = field(default_factory=dict)  # customer id -> newest ticket
    new_tickets: list[Ticket] = field(default_factory=list)
    touched: dict[int, Ticket] = field(default_factory=dict)  # existing tickets, by id
    reopen_hours: int = 0
    risk_percent: int = DEFAULT_RISK_PERCENT


def _key(item: ReceiveItem) -> tuple[str, str]:
    kind = IDENTITY_OF_CHANNEL[item.account.kind]
    return kind, normalize_identity(kind, item.inbound.identity)


def messages_receive_batch(*, tenant_id: int, items: Sequence[ReceiveItem]) -> list[Received]:
    """See the module docstring. Returns one :class:`Received` per item, in order."""
    if not items:
        return []
    for item in items:
        if item.account.tenant_id != tenant_id:
            raise ValueError("every item of a batch belongs to its tenant")
        if not _key(item)[1]:
            raise ActionRefused(_("El mensaje no trae con qué identificar al cliente."))
    with transaction.atomic():
        batch = _Batch(tenant_id=tenant_id)
        _read(batch, items)
        _customers_resolve(batch, items)
        _lock(batch, items)
        results = _file_all(batch, items)
        arrivals = _store(batch, items, results)
        hooks.workflow().after_receive_batch(arrivals)
        live.tickets_changed(
            [*batch.new_tickets, *batch.touched.values()], reason="customer_message"
        )
        live.messages_added(
            [a.message for a in arrivals],
            new_tickets=frozenset(t.pk for t in batch.new_tickets),
        )
    return [r if isinstance(r, Received) else Received(r.message, True) for r in results]


# --- reading ---------------------------------------------------------------------------------


def _read(batch: _Batch, items: Sequence[ReceiveItem]) -> None:
    """The messages the batch names (its own ids, references, replies) and the tickets it
    names by number, with the tenant's settings: three queries."""
    by_account: dict[int, set[str]] = {}
    numbers: dict[int, set[int]] = {}
    for item in items:
        ids = by_account.setdefault(item.account.pk, set())
        inbound = item.inbound
        ids.update(i for i in (inbound.provider_id, inbound.reply_to_provider_id) if i)
        ids.update(i for i in item.references if i)
        if inbound.thread_ticket_number is not None:
            numbers.setdefault(item.account.pk, set()).add(inbound.thread_ticket_number)
    wanted = Q(pk__in=[])
    for account_id, ids in by_account.items():
        if ids:
            wanted |= Q(account_id=account_id, provider_id__in=sorted(ids))
    for message in Message.objects.filter(wanted).select_related("ticket"):
        batch.known[(message.account_id, message.provider_id or "")] = message
    if numbers:
        named = Q(pk__in=[])
        for account_id, wanted_numbers in numbers.items():
            named |= Q(account_id=account_id, number__in=sorted(wanted_numbers))
        for ticket in Ticket.objects.filter(named, tenant_id=batch.tenant_id):
            batch.numbered[(ticket.account_id, ticket.number)] = ticket
    settings = (
        TenantSettings.objects.filter(tenant_id=batch.tenant_id)
        .values_list("reopen_window_hours", "sla_risk_percent")
        .first()
    )
    if settings is not None:
        batch.reopen_hours = settings[0] or 0
        batch.risk_percent = DEFAULT_RISK_PERCENT if settings[1] is None else settings[1]


def _customers_resolve(batch: _Batch, items: Sequence[ReceiveItem]) -> None:
    """Every sender's customer: the known ones in one query, the others created in two
    inserts (customers, then their identities); an empty name is filled from the message."""
    names: dict[tuple[str, str], str] = {}
    for item in items:
        key = _key(item)
        if item.inbound.customer_name and not names.get(key):
            names[key] = item.inbound.customer_name[:200]
        names.setdefault(key, "")
    wanted = Q(pk__in=[])
    for kind in {k for k, _v in names}:
        wanted |= Q(kind=kind, value__in=sorted(v for k, v in names if k == kind))
    known = CustomerIdentity.objects.filter(wanted, tenant_id=batch.tenant_id)
    for identity in known.select_related("customer"):
        batch.customers[(identity.kind, identity.value)] = identity.customer
    missing = [key for key in names if key not in batch.customers]
    created = Customer.objects.bulk_create(
        Customer(tenant_id=batch.tenant_id, name=names[key]) for key in missing
    )
    CustomerIdentity.objects.bulk_create(
        CustomerIdentity(
            tenant_id=batch.tenant_id,
            customer=customer,
            kind=key[0],
            value=key[1],
            display=display_identity(key[0], key[1]),
        )
        for key, customer in zip(missing, created, strict=True)
    )
    batch.customers.update(zip(missing, created, strict=True))
    unnamed = []
    for key, name in names.items():
        customer = batch.customers[key]
        if name and not customer.name:
            customer.name = name
            unnamed.append(customer)
    if unnamed:
        Customer.objects.bulk_update(unnamed, ["name"])


def _lock(batch: _Batch, items: Sequence[ReceiveItem]) -> None:
    """The batch's customers, then the tickets it may append to (open ones it names, the
    chats' open conversations), each set in ascending id order (LOCKING in ``base``); then
    each customer's newest ticket. The rows read before are replaced by the locked ones."""
    customer_ids = sorted({c.pk for c in batch.customers.values()})
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update().filter(pk__in=customer_ids).order_by("pk")
    }
    for key, customer in batch.customers.items():
        batch.customers[key] = locked[customer.pk]
    named = {m.ticket_id for m in batch.known.values()} | {t.pk for t in batch.numbered.values()}
    chats = Q(pk__in=[])
    for account_id in {i.account.pk for i in items if not i.inbound.new_conversation}:
        chats |= Q(account_id=account_id, customer_id__in=customer_ids)
    fresh = {
        t.pk: t
        for t in Ticket.objects.select_for_update()
        .filter(Q(pk__in=sorted(named)) | chats, status=TicketStatus.OPEN)
        .order_by("pk")
    }
    for message in batch.known.values():
        message.ticket = fresh.get(message.ticket_id, message.ticket)
    for number, ticket in batch.numbered.items():
        batch.numbered[number] = fresh.get(ticket.pk, ticket)
    batch.touched.update(fresh)  # candidates: only those that get a message are saved
    newest = (
        Ticket.objects.filter(tenant_id=batch.tenant_id, customer_id__in=customer_ids)
        .order_by("customer_id", "-id")
        .distinct("customer_id")
    )
    for ticket in newest:
        batch.latest[ticket.customer_id] = fresh.get(ticket.pk, ticket)


# --- deciding --------------------------------------------------------------------------------


@dataclass
class _Filed:
    """An item's decision: its ticket (maybe new), its customer, the message (unsaved)."""

    ticket: Ticket
    created: bool
    customer: Customer
    message: Message
    extra: dict[str, Any]


def _file_all(batch: _Batch, items: Sequence[ReceiveItem]) -> list[_Filed | Received]:
    results: list[_Filed | Received] = []
    appended: set[int] = set()
    for item in items:
        inbound = item.inbound
        own = (item.account.pk, inbound.provider_id or "")
        if inbound.provider_id and own in batch.known:
            results.append(Received(batch.known[own], False))
            continue
        filed = _file_one(batch, item)
        if inbound.provider_id:
            batch.known[own] = filed.message
        if not filed.created:
            appended.add(filed.ticket.pk)
        results.append(filed)
    batch.touched = {pk: t for pk, t in batch.touched.items() if pk in appended}
    return results


def _thread_of(batch: _Batch, item: ReceiveItem) -> Ticket | None:
    """The ticket this message answers, whatever its status (merges followed); None: none."""
    account_id = item.account.pk
    number = item.inbound.thread_ticket_number
    ticket = batch.numbered.get((account_id, number)) if number is not None else None
    if ticket is None:
        keys = [(account_id, r) for r in item.references]
        found = next((batch.known[k] for k in keys if k in batch.known), None)
        ticket = found.ticket if found is not None else None
    hopped = False
    for _hop in range(MERGE_HOPS):
        if ticket is None or ticket.merged_into_id is None:
            break
        # Rare (a merged ticket): locked after the customers, as one by one.
        ticket = Ticket.objects.select_for_update().filter(pk=ticket.merged_into_id).first()
        hopped = True
    if hopped and ticket is not None and ticket.status == TicketStatus.OPEN:
        # One object per ticket in the batch: the one saved with what its messages changed.
        ticket = batch.touched.setdefault(ticket.pk, ticket)
    return ticket


def _file_one(batch: _Batch, item: ReceiveItem) -> _Filed:
    account, inbound = item.account, item.inbound
    at = inbound.received_at or timezone.now()
    customer = batch.customers[_key(item)]
    thread = _thread_of(batch, item)
    ticket: Ticket | None = None
    if thread is not None and thread.status == TicketStatus.OPEN and thread.merged_into_id is None:
        ticket = thread if thread.account_id == account.pk else None
    if ticket is None and not inbound.new_conversation:
        ticket = _open_chat(batch, customer, account)
    created = False
    if ticket is None:
        answered = thread if inbound.new_conversation else batch.latest.get(customer.pk)
        ticket = _reopen(batch, answered, account, at)
    if ticket is None:
        previous = (thread if inbound.new_conversation else None) or batch.latest.get(customer.pk)
        ticket, created = _ticket_new(batch, customer, account, at, previous), True
    if created:
        batch.latest[customer.pk] = ticket  # the customer's newest ticket from now on
    reply_to = batch.known.get((account.pk, inbound.reply_to_provider_id or ""))
    message = Message(
        tenant_id=account.tenant_id,
        ticket=ticket,
        account=account,
        direction=Direction.IN,
        is_public=inbound.is_public,
        author_kind=AuthorKind.CUSTOMER,
        text=inbound.text,
        html=sanitize_html(inbound.html),
        provider_id=inbound.provider_id or None,  # NULL, never "" (see the model)
        reply_to=reply_to if inbound.reply_to_provider_id else None,
        is_mention=inbound.is_mention,
        status=DeliveryStatus.RECEIVED,
        created_at=at,
    )
    _update_ticket(batch, ticket, account, inbound, at, created=created)
    extra: dict[str, Any] = {}
    if ticket.customer_id != customer.pk:
        extra["foreign_sender"] = True  # kept so the message can be split off (as one by one)
        extra["sender"] = customer.pk
    if inbound.auto_submitted:
        extra["auto_submitted"] = True
    return _Filed(ticket, created, customer, message, extra)


def _open_chat(batch: _Batch, customer: Customer, account: ChannelAccount) -> Ticket | None:
    """A chat's open conversation with this customer on this account (locked, or new in this
    batch), the newest first."""
    candidates = [
        t
        for t in [*batch.touched.values(), *batch.new_tickets]
        if t.customer_id == customer.pk
        and t.account_id == account.pk
        and t.status == TicketStatus.OPEN
        and t.merged_into_id is None
    ]
    return max(candidates, key=lambda t: t.pk or 1 << 62, default=None)


def _reopen(
    batch: _Batch, previous: Ticket | None, account: ChannelAccount, at: datetime.datetime
) -> Ticket | None:
    """``previous`` reopened within the window (rare: its own queries, as one by one)."""
    if (
        previous is None
        or previous.pk is None
        or not batch.reopen_hours
        or previous.status == TicketStatus.OPEN
    ):
        return None
    reopened = _reopen_within_window(previous, account, at)
    if reopened is not None:
        batch.touched[reopened.pk] = reopened
    return reopened


def _ticket_new(
    batch: _Batch,
    customer: Customer,
    account: ChannelAccount,
    at: datetime.datetime,
    previous: Ticket | None,
) -> Ticket:
    """An unsaved ticket (numbered and inserted with the others by :func:`_store`)."""
    ticket = Ticket(
        tenant_id=customer.tenant_id,
        customer=customer,
        account=account,
        created_at=at,
        updated_at=at,
        resolution_due_at=resolution_deadline(account, at),
        single_open=keeps_one_open(account.kind),
    )
    ticket._previous = previous  # type: ignore[attr-defined]  # linked once both are saved
    batch.new_tickets.append(ticket)
    return ticket


def _update_ticket(
    batch: _Batch,
    ticket: Ticket,
    account: ChannelAccount,
    inbound: Inbound,
    at: datetime.datetime,
    *,
    created: bool,
) -> None:
    """What ``message_receive`` sets on the ticket of a customer's message."""
    if created and inbound.subject:
        ticket.subject = inbound.subject[:255]
    ticket.last_customer_message_at = at
    ticket.awaiting_response = True
    ticket.last_message_preview = card_preview(inbound.preview or inbound.text, inbound.attachments)
    _start_sla_clock(ticket, account, at, risk=batch.risk_percent)
    ticket.updated_at = timezone.now()


# --- writing ---------------------------------------------------------------------------------


def _next_numbers(tenant_id: int, count: int) -> range:
    """``count`` gapless ticket numbers in one statement (the counter row stays locked until
    the batch commits, as one by one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_ticketcounter (tenant_id, last_number) VALUES (%s, %s)"
            " ON CONFLICT (tenant_id) DO UPDATE"
            " SET last_number = tickets_ticketcounter.last_number + EXCLUDED.last_number"
            " RETURNING last_number",
            [tenant_id, count],
        )
        last = int(cursor.fetchone()[0])
    return range(last - count + 1, last + 1)


def _store(
    batch: _Batch, items: Sequence[ReceiveItem], results: list[_Filed | Received]
) -> list[hooks.Arrival]:
    """Insert the new tickets, messages, files and history; update the tickets appended to."""
    new = batch.new_tickets
    if new:
        for ticket, number in zip(new, _next_numbers(batch.tenant_id, len(new)), strict=True):
            ticket.number = number
        linked = []
        for ticket in new:
            previous = ticket._previous  # type: ignore[attr-defined]
            if previous is not None and previous.pk is not None:
                ticket.previous_ticket = previous
            elif previous is not None:
                linked.append(ticket)  # its previous ticket is new in this batch too
        Ticket.objects.bulk_create(new)
        for ticket in linked:
            ticket.previous_ticket = ticket._previous  # type: ignore[attr-defined]
        if linked:
            Ticket.objects.bulk_update(linked, ["previous_ticket"])
    if batch.touched:
        Ticket.objects.bulk_update(list(batch.touched.values()), TICKET_FIELDS)
    filed = [(item, r) for item, r in zip(items, results, strict=True) if isinstance(r, _Filed)]
    # Messages answering another message of this batch: linked once both are saved.
    answering: list[tuple[Message, Message]] = []
    for _item, f in filed:
        f.message.ticket = f.ticket  # now saved: sets ticket_id
        target = f.message.reply_to
        if target is not None and target.pk is None:
            f.message.reply_to = None
            answering.append((f.message, target))
    Message.objects.bulk_create([f.message for _item, f in filed])
    for message, target in answering:
        message.reply_to = target
    if answering:
        Message.objects.bulk_update([m for m, _t in answering], ["reply_to"])
    _store_files([(item, f.message) for item, f in filed])
    rows = [
        EventRow(ticket=t, kind=EventKind.CREATED, data={"account": t.account.name}) for t in new
    ]
    rows += [
        EventRow(f.ticket, EventKind.MESSAGE_IN, data={"message": f.message.pk, **f.extra})
        for _item, f in filed
    ]
    events_record_bulk(rows)
    return [
        hooks.Arrival(f.ticket, f.message, f.created, item.inbound.auto_submitted)
        for item, f in filed
    ]


def _store_files(pairs: list[tuple[ReceiveItem, Message]]) -> None:
    """Each file written to storage, then every row in one insert."""
    rows = []
    for item, message in pairs:
        for incoming in item.inbound.attachments:
            name = _file_name(incoming)
            attachment = Attachment(
                tenant_id=message.tenant_id,
                message=message,
                name=name,
                size=len(incoming.content),
                content_type=(incoming.content_type or "application/octet-stream")[:120],
                sha256=hashlib.sha256(incoming.content).hexdigest(),
                content_id=incoming.content_id[:255],
            )
            attachment.file.save(name, ContentFile(incoming.content), save=False)
            rows.append(attachment)
    Attachment.objects.bulk_create(rows)
