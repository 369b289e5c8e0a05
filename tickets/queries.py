"""Reads of the tickets app: the ticket page, its tabs, search. Each is a fixed number of
queries whatever the size of the conversation."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404

from deskconfig.models import MessageTemplate
from helpdesk.models import User
from tickets import search as text_search
from tickets.identities import looks_like_rut, normalize_identity, normalize_rut
from tickets.models import (
    Attachment,
    Comment,
    Customer,
    CustomerIdentity,
    Event,
    IdentityKind,
    Message,
    Ticket,
)
from tickets.search import TicketHit

THREAD_PAGE = 50


def ticket_by_number(number: int) -> Ticket:
    """A ticket of the current tenant (the scoped manager filters), or 404. Pages use
    :func:`ticket_for_user`, which says whose access is decided."""
    ticket = (
        Ticket.objects.select_related(
            "customer", "account", "assignee", "department", "merged_into"
        )
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def ticket_for_user(*, user: User, number: int) -> Ticket:
    """Ticket ``number`` as ``user`` may open it, or 404: an active person of the ticket's
    tenant (every role of a tenant sees all its tickets). The tenant is checked against the
    user's own, not only the ambient one, so a request whose context and user disagree opens
    nothing."""
    if not user.is_active or user.tenant_id is None:
        raise Http404
    ticket = ticket_by_number(number)
    if ticket.tenant_id != user.tenant_id:
        raise Http404
    return ticket


def attachment_for_user(*, user: User, token: str) -> Attachment:
    """An attachment by its token as ``user`` may download it (same rule as the ticket), or
    404."""
    item = Attachment.objects.filter(token=token).first()
    if item is None or not user.is_active or item.tenant_id != user.tenant_id:
        raise Http404
    return item


def _message_qs() -> QuerySet[Message]:
    # "meta": the extras of the Meta channels (reactions, removed comments...), in the same
    # query so the thread stays one query whatever its channel.
    return Message.objects.select_related(
        "author", "reply_to", "ticket__customer", "meta"
    ).prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))


def thread(ticket: Ticket, *, before_id: int | None = None) -> tuple[list[Message], bool]:
    """The latest page of the conversation (with merged tickets' messages), oldest first, and
    whether older messages remain. Keyset on (created_at, id) via the message_thread index."""
    ids = [ticket.pk, *ticket.merged_tickets.values_list("pk", flat=True)]
    qs = _message_qs().filter(ticket_id__in=ids)
    if before_id is not None:
        pivot = Message.objects.filter(pk=before_id, ticket_id__in=ids).values("created_at").first()
        if pivot is not None:
            qs = qs.filter(
                Q(created_at__lt=pivot["created_at"])
                | Q(created_at=pivot["created_at"], id__lt=before_id)
            )
    page = list(qs.order_by("-created_at", "-id")[: THREAD_PAGE + 1])
    more = len(page) > THREAD_PAGE
    return list(reversed(page[:THREAD_PAGE])), more


def message_for_push(message_id: int) -> Message | None:
    return (
        _message_qs()
        .select_related("tenant", "account", "ticket__account", "ticket__assignee")
        .filter(pk=message_id)
        .first()
    )


def messages_for_push(ids: list[int]) -> list[Message]:
    """:func:`message_for_push` for a batch, in ``ids`` order."""
    rows = (
        _message_qs()
        .select_related("tenant", "account", "ticket__account", "ticket__assignee")
        .filter(pk__in=ids)
        .in_bulk()
    )
    return [rows[pk] for pk in ids if pk in rows]


def comments(ticket: Ticket) -> list[Comment]:
    ids = [ticket.pk, *ticket.merged_tickets.values_list("pk", flat=True)]
    return list(
        Comment.objects.filter(ticket_id__in=ids)
        .select_related("author")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class Mentionable:
    """A person the @mention picker offers: the handle is what comment_add recognises."""

    name: str
    handle: str


def mentionable_people(ticket: Ticket) -> list[Mentionable]:
    """The active people of the ticket's tenant (not the bot), by name: one query."""
    people = (
        User.objects.filter(tenant_id=ticket.tenant_id, is_active=True, is_bot=False)
        .order_by("name", "email")
        .values_list("name", "email")
    )
    return [Mentionable(name=name or email, handle=email.split("@")[0]) for name, email in people]


def history(ticket: Ticket) -> list[Event]:
    return list(ticket.events.select_related("actor").order_by("-created_at", "-id")[:500])


def previous_tickets(ticket: Ticket) -> list[Ticket]:
    return list(
        Ticket.objects.filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .select_related("account")
        .order_by("-created_at", "-id")[:50]
    )


def mergeable_tickets(ticket: Ticket) -> list[Ticket]:
    return list(
        Ticket.objects.filter(customer_id=ticket.customer_id, merged_into__isnull=True)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")[:20]
    )


def assignable_users() -> list[User]:
    return list(
        User.objects.filter(is_active=True, tenant__isnull=False).order_by("-is_bot", "name")
    )


def templates_for(user: User, query: str = "") -> list[MessageTemplate]:
    """Global templates and those of the user's departments."""
    qs = MessageTemplate.objects.filter(
        Q(departments__isnull=True) | Q(departments__members=user)
    ).distinct()
    if query:
        qs = qs.filter(Q(shortcut__istartswith=query) | Q(name__icontains=query))
    return list(qs.order_by("shortcut")[:10])


# --- search --------------------------------------------------------------------------------


@dataclass
class SearchResult:
    ticket_number: int | None
    customers: list[Customer]
    tickets: dict[int, list[Ticket]]
    hits: list[TicketHit] = field(default_factory=list)
    # Words too common in the older history to read it all in time: only the newest
    # conversations and customers were searched (the page asks to refine the search).
    partial: bool = False

    @property
    def rows(self) -> list[tuple[Customer, list[Ticket]]]:
        return [(c, self.tickets.get(c.pk, [])) for c in self.customers]

    @property
    def empty(self) -> bool:
        return not self.customers and not self.hits


def _identity_filter(q: str, digits: str) -> Q:
    """The identities the typed text can be: an email, an @handle or its start, a phone (whole
    or its last digits), or an id typed whole (PSIDs, Instagram ids, visitor ids)."""
    identity = Q()
    if "@" in q and not q.startswith("@"):
        identity |= Q(kind=IdentityKind.EMAIL, value=normalize_identity(IdentityKind.EMAIL, q))
    if q.startswith("@") and len(q) > 1:
        handle = normalize_identity(IdentityKind.TWITTER, q)
        identity |= Q(kind=IdentityKind.TWITTER, value__startswith=handle)
    if re.fullmatch(r"\+?[\d\s().-]{6,}", q) and len(digits) >= 6:
        identity |= Q(kind=IdentityKind.PHONE, value=digits)
        identity |= Q(kind=IdentityKind.PHONE, value__endswith=digits)
    if "@" not in q:
        identity |= Q(value=q)
    return identity


def search(*, tenant_id: int, query: str) -> SearchResult:
    """What ``query`` finds in the tenant: a ticket number, customers by RUT, identity or
    name, and tickets by what was written in them (subject and messages). Row-level security
    backs the explicit tenant: another tenant's context finds nothing."""
    q = query.strip()
    if not q:
        return SearchResult(None, [], {})
    number = re.fullmatch(r"#?(\d{1,12})", q)
    if number and q.startswith("#"):
        return SearchResult(int(number.group(1)), [], {})
    customer_ids: list[int] = []
    if looks_like_rut(q):
        with contextlib.suppress(ValueError):  # not a valid RUT: the other keys still apply
            rut = normalize_rut(q)
            customer_ids += list(Customer.objects.filter(rut=rut).values_list("pk", flat=True))
    digits = re.sub(r"\D", "", q)
    identity = _identity_filter(q, digits)
    if identity:
        customer_ids += list(
            CustomerIdentity.objects.filter(identity).values_list("customer_id", flat=True)[:50]
        )
    words_only = not digits and "@" not in q
    partial = False
    if words_only and len(q) >= 2:
        by_name, partial = text_search.customers_by_name(tenant_id, q)
        customer_ids += by_name
    hits: list[TicketHit] = []
    if words_only and len(q) >= 3:
        hits, partial_text = text_search.tickets_by_text(tenant_id, q)
        partial = partial or partial_text
    # A name typed with a typo, when nothing else was found (not when the words are common:
    # those are words people write, not a misspelt name).
    if words_only and len(q) >= 2 and not customer_ids and not hits and not partial:
        customer_ids += text_search.customers_by_typo(tenant_id, q)
    if number and not customer_ids:
        return SearchResult(int(number.group(1)), [], {})
    customers, tickets = _customers_shown(customer_ids)
    return SearchResult(
        int(number.group(1)) if number else None, customers, tickets, hits, partial=partial
    )


CUSTOMERS_SHOWN = 50
TICKETS_PER_CUSTOMER = 3  # each customer's newest tickets; the customer tab lists them all


def _customers_shown(
    customer_ids: list[int],
) -> tuple[list[Customer], dict[int, list[Ticket]]]:
    """The customers found (by name) with their identities and newest tickets: three queries
    whatever their number, and only the columns the page shows (a common surname finds
    thousands; 50 are shown)."""
    customers = list(
        Customer.objects.filter(pk__in=set(customer_ids))
        .only("name", "rut")
        .prefetch_related("identities")
        .order_by("name")[:CUSTOMERS_SHOWN]
    )
    newest = Window(RowNumber(), partition_by=F("customer_id"), order_by=F("created_at").desc())
    tickets: dict[int, list[Ticket]] = {}
    for ticket in (
        Ticket.objects.filter(customer_id__in=[c.pk for c in customers])
        .select_related("account")
        .only("number", "status", "created_at", "customer_id", "account__name")
        .annotate(newest=newest)
        .filter(newest__lte=TICKETS_PER_CUSTOMER)
        .order_by("-created_at", "-id")
    ):
        tickets.setdefault(ticket.customer_id, []).append(ticket)
    return customers, tickets


def public_context(ticket: Ticket) -> list[Message]:
    """The public thread around the ticket's public messages: the post or mention they answer
    and what else was said there."""
    public = list(
        Message.objects.filter(ticket=ticket, is_public=True)
        .select_related("reply_to", "author")
        .order_by("created_at", "id")[:100]
    )
    return public


def recent_open_tickets(limit: int = 50) -> list[Ticket]:
    """The most recently active open tickets (index ticket_status_updated)."""
    return list(
        Ticket.objects.filter(status="open", merged_into__isnull=True)
        .select_related("customer", "account", "assignee")
        .order_by("-updated_at", "-id")[:limit]
    )
