"""The assignment engine: who gets a ticket that nobody has.

The public API, used by the receiving flow, the ticket services and the administration:

- :func:`request_assignment` after a ticket is created or returned to the queue;
- :func:`drain_queue` when someone may have become eligible (connected, available again,
  closed a ticket, got a higher limit or an automatic account).

**Who is eligible** for a ticket: an active person (not the bot; an agent or an admin, never
an analyst) whose mode for the ticket's account is automatic (no rule means manual), a member
of the ticket's department when it has one, available, connected (``workflow.presence``)
and with fewer open tickets assigned than their ``max_open_tickets``. The least loaded wins;
ties go to whoever waited longest since their last assignment (never assigned first), then to
the lowest id. With nobody eligible the ticket waits in the queue: open, unassigned, not
merged, and not waiting for the skills bot's question. The queue drains oldest first.

**When the work runs.** Both functions only schedule it: it runs right after the caller's
transaction commits (``transaction.on_commit``, in the same process; at once when there is no
transaction), in short transactions of its own, one per ticket. So:

- the caller's rows (a new ticket, a person now available) are committed and visible;
- the engine takes its locks while holding nothing else, so its lock order (below) never
  crosses a caller's (a user row being deactivated, a customer being received...): no
  deadlocks;
- a failure of the engine never undoes the caller's work: the callback is ``robust`` (logged),
  and the beat's catch-up (``workflow.tasks.drain_all_queues``, every minute, idempotent)
  places what is left;
- tests are deterministic: no broker and no worker in between.

A drain places at most :data:`DRAIN_LIMIT` tickets per call and hands the rest to a Celery
task (a bounded batch that re-queues itself), so a request never pays for a huge backlog.

**Concurrency.** One ticket per transaction, locks always in this order: the ticket
(``FOR UPDATE``; ``SKIP LOCKED`` while draining, so parallel drains spread over the queue), then
the candidate people ``FOR NO KEY UPDATE`` ordered by id (``NO KEY`` so rows that merely point
at the person, a notification say, are not blocked), then their open tickets are counted
**again under the lock**. Under READ COMMITTED that count is a new snapshot taken after the
previous holder committed, so two workers can never both hand someone their last free slot.
Manual assignments by people take no such lock: a person may choose to exceed a limit.
"""

from __future__ import annotations

import enum
import logging

from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from deskconfig.models import AssignmentMode, AssignmentRule, DepartmentMembership
from helpdesk.models import Availability, Role, User
from helpdesk.tenancy import tenant_context
from tickets.models import Ticket, TicketStatus
from workflow import presence
from workflow.skills_bot import ASKING

log = logging.getLogger(__name__)

DRAIN_LIMIT = 200  # placements per drain call; a task continues beyond
SCAN_LIMIT = 5_000  # queued tickets looked at per drain call
BATCH = 100  # queued tickets read per query while draining
ASSIGNABLE_ROLES = (Role.AGENT, Role.ADMIN)


class Outcome(enum.Enum):
    PLACED = "placed"
    NOBODY = "nobody"  # nobody eligible for this ticket now
    GONE = "gone"  # no longer queued, or locked by someone else while draining


# --- reads ---------------------------------------------------------------------------------


def queued_tickets() -> QuerySet[Ticket]:
    """The tenant's queue: open, unassigned, not merged, not waiting for the skills bot."""
    return Ticket.objects.filter(
        status=TicketStatus.OPEN, assignee__isnull=True, merged_into__isnull=True
    ).exclude(bot_stage=ASKING)


def open_load() -> Coalesce:
    """The number of open tickets assigned to the person of the outer query."""
    count = (
        Ticket.objects.filter(assignee=OuterRef("pk"), status=TicketStatus.OPEN)
        .order_by()
        .values("assignee")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def open_loads(user_ids: list[int]) -> dict[int, int]:
    """Open tickets per person, in one query."""
    rows = (
        Ticket.objects.filter(assignee_id__in=user_ids, status=TicketStatus.OPEN)
        .order_by()
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
    )
    return {assignee_id: n for assignee_id, n in rows}


def _with_free_slot(tenant_id: int) -> QuerySet[User]:
    """People who could take a ticket now, whatever its account or department."""
    return (
        User.objects.filter(
            presence.connected_q(),
            tenant_id=tenant_id,
            is_active=True,
            is_bot=False,
            role__in=ASSIGNABLE_ROLES,
            availability=Availability.AVAILABLE,
        )
        .annotate(load=open_load())
        .filter(load__lt=F("max_open_tickets"))
    )


def eligible_users(ticket: Ticket) -> QuerySet[User]:
    """Who may be given ``ticket`` now, annotated with ``load``, best first."""
    rules = AssignmentRule.objects.filter(
        user=OuterRef("pk"), account_id=ticket.account_id, mode=AssignmentMode.AUTOMATIC
    )
    qs = _with_free_slot(ticket.tenant_id).filter(Exists(rules))
    if ticket.department_id is not None:
        members = DepartmentMembership.objects.filter(
            user=OuterRef("pk"), department_id=ticket.department_id
        )
        qs = qs.filter(Exists(members))
    # "load" is the annotation of _with_free_slot (invisible to the type checker's plugin).
    return qs.order_by("load", F("last_assigned_at").asc(nulls_first=True), "pk")  # type: ignore[misc]


def assignable_users(ticket: Ticket) -> list[User]:
    """The choices of a ticket's assignee select: the tenant's active users and its bot,
    minus people whose mode for the ticket's account is none (the current assignee stays,
    so the select shows the truth)."""
    excluded = AssignmentRule.objects.filter(
        user=OuterRef("pk"), account_id=ticket.account_id, mode=AssignmentMode.NONE
    )
    keep = Q(~Exists(excluded))
    if ticket.assignee_id is not None:
        keep |= Q(pk=ticket.assignee_id)
    return list(
        User.objects.filter(keep, is_active=True, tenant__isnull=False).order_by("-is_bot", "name")
    )


def refusal_for(*, assignee: User, ticket: Ticket) -> str | None:
    """Why ``assignee`` cannot be given ``ticket`` by hand (their mode there is none)."""
    from django.utils.translation import gettext as _

    if assignee.is_bot:
        return None
    rule = (
        AssignmentRule.objects.filter(
            user=assignee, account_id=ticket.account_id, mode=AssignmentMode.NONE
        )
        .select_related("account")
        .first()
    )
    if rule is None:
        return None
    return _("%(person)s no atiende la cuenta «%(account)s» (su asignación ahí es «ninguna»).") % {
        "person": assignee,
        "account": rule.account.name,
    }


# --- the work ------------------------------------------------------------------------------


def _place(ticket_id: int, *, skip_locked: bool) -> Outcome:
    """Give one queued ticket to the best eligible person, in one transaction."""
    from tickets import services

    with transaction.atomic():
        ticket = (
            queued_tickets().select_for_update(skip_locked=skip_locked).filter(pk=ticket_id).first()
        )
        if ticket is None:
            return Outcome.GONE
        # The candidates, locked in the fixed order (by id). The load this statement saw may
        # be stale by the time a lock is granted, so it is counted again below, under them.
        ids = list(
            eligible_users(ticket)
            .select_for_update(no_key=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return Outcome.NOBODY
        chosen = eligible_users(ticket).filter(pk__in=ids).first()
        if chosen is None:
            return Outcome.NOBODY
        services.ticket_assign(ticket=ticket, assignee=chosen, actor=None)
        User.objects.filter(pk=chosen.pk).update(last_assigned_at=timezone.now())
    return Outcome.PLACED


def assign_now(tenant_id: int, ticket_id: int) -> bool:
    """Place one ticket now (outside the caller's transaction). True when it was placed."""
    with tenant_context(tenant_id):
        return _place(ticket_id, skip_locked=False) is Outcome.PLACED


def drain_now(tenant_id: int, *, limit: int = DRAIN_LIMIT) -> int:
    """Place the tenant's queued tickets, oldest first, while anyone has a free slot.

    A ticket nobody can take is skipped (the younger ones behind it still flow), and so are
    the rest of its account and department in this pass. Returns how many were placed."""
    placed = scanned = 0
    with tenant_context(tenant_id):
        if not _with_free_slot(tenant_id).exists():
            return 0
        nobody_for: set[tuple[int, int | None]] = set()
        after: tuple[object, int] | None = None
        while scanned < SCAN_LIMIT:
            page = queued_tickets().order_by("created_at", "pk")
            if after is not None:
                page = page.filter(
                    Q(created_at__gt=after[0]) | Q(created_at=after[0], pk__gt=after[1])
                )
            rows = list(page.values_list("pk", "created_at", "account_id", "department_id")[:BATCH])
            if not rows:
                break
            for pk, _created, account_id, department_id in rows:
                scanned += 1
                key = (account_id, department_id)
                if key in nobody_for:
                    continue
                outcome = _place(pk, skip_locked=True)
                if outcome is Outcome.NOBODY:
                    nobody_for.add(key)
                elif outcome is Outcome.PLACED:
                    placed += 1
                    if placed >= limit:
                        _continue_later(tenant_id)
                        return placed
            after = (rows[-1][1], rows[-1][0])
            if not _with_free_slot(tenant_id).exists():
                break
    return placed


def _continue_later(tenant_id: int) -> None:
    from workflow.tasks import drain_queue_task

    transaction.on_commit(lambda: drain_queue_task.delay(tenant_id))


# --- the public API ------------------------------------------------------------------------


def request_assignment(ticket: Ticket) -> None:
    """Place ``ticket`` with an eligible agent once the current transaction commits."""
    tenant_id, ticket_id = ticket.tenant_id, ticket.pk
    transaction.on_commit(lambda: assign_now(tenant_id, ticket_id), robust=True)


def request_assignment_many(tenant_id: int, tickets: list[Ticket]) -> None:
    """:func:`request_assignment` for a batch of received tickets, in one callback: when
    nobody could take a ticket now (no one connected and available with a free slot), the
    tickets simply stay queued, with one query instead of one transaction each, and so do
    the rest of an account and department once one of theirs found nobody (as a drain
    does); the beat's catch-up and the next drain place them when someone becomes
    eligible."""
    if not tickets:
        return
    keys = [(t.pk, t.account_id, t.department_id) for t in tickets]

    def place() -> None:
        with tenant_context(tenant_id):
            if not _with_free_slot(tenant_id).exists():
                return
            nobody_for: set[tuple[int, int | None]] = set()
            for ticket_id, account_id, department_id in keys:
                if (account_id, department_id) in nobody_for:
                    continue
                if _place(ticket_id, skip_locked=False) is Outcome.NOBODY:
                    nobody_for.add((account_id, department_id))

    transaction.on_commit(place, robust=True)


def drain_queue(tenant_id: int) -> None:
    """Give the tenant's queued tickets, oldest first, to whoever is eligible now (once the
    current transaction commits)."""
    transaction.on_commit(lambda: drain_now(tenant_id), robust=True)
