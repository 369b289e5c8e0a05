"""Automatic actions of an account, done by the tenant's bot user: the welcome reply on a new
ticket, and (as beat tasks, see admin_config/tasks.py) closing addressed tickets the customer
stopped answering and ignoring tickets nobody addressed.

"After N hours" means N hours with nothing happening on the ticket (no message, no change by
an agent): a ticket an agent just reopened or is working on is never closed under them.

The sweeps are idempotent and catch up by construction: each looks for every ticket *past*
its deadline (not "due in the last minute"), and handles each one in its own short
transaction that locks the ticket with SKIP LOCKED and checks the conditions again, so two
overlapping runs never act twice on one ticket and a run after days of downtime handles all
the overdue tickets (in bounded batches).

Required typification: the bot cannot fill it in, and closing would bypass a rule the tenant
chose. So an addressed ticket missing required fields is *not* closed: the bot writes one line
in its history saying which fields are missing and leaves it open for its agent. The line is
written once per idle period: the ticket is looked at again only after it changes (its
``updated_at`` moves, e.g. when an agent fills the fields), and then closed.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from deskconfig.models import AccountAutomation, MetadataField
from helpdesk.models import User
from tickets.history import event_record
from tickets.metadata import active_fields, missing_required
from tickets.models import (
    Event,
    EventKind,
    Message,
    Ticket,
    TicketStatus,
)
from tickets.services import ActionRefused, ticket_close
from workflow.batch_cache import cached
from workflow.bot import bot_send, tenant_bot_user

log = logging.getLogger(__name__)

SWEEP_BATCH = 200  # tickets per account and run; a full batch re-queues the task
CLOSE_BLOCKED = "close_blocked"  # Event(kind=BOT).data["auto"] when typification is missing


def is_automatic(message: Message) -> bool:
    """Whether ``message`` was sent by a robot (auto-reply, bounce, mailing list).

    Email marks it (Auto-Submitted, Precedence...); ``message_receive`` records it in the
    message's MESSAGE_IN event, which is where we read it (a batch seeds the answers of its
    messages, see ``flow.after_receive_batch``)."""
    return cached(
        ("auto_submitted", message.pk),
        lambda: Event.objects.filter(
            ticket_id=message.ticket_id,
            kind=EventKind.MESSAGE_IN,
            data__message=message.pk,
            data__auto_submitted=True,
        ).exists(),
    )


def automation_of(account_id: int) -> AccountAutomation | None:
    """The account's automatic actions (read once per batch)."""
    return cached(
        ("automation", account_id),
        lambda: AccountAutomation.objects.filter(account_id=account_id).first(),
    )


def on_customer_message(ticket: Ticket, message: Message, *, created: bool) -> None:
    """The welcome reply, once, when a customer's message opens a ticket."""
    if not created:
        return
    automation = automation_of(ticket.account_id)
    if automation is None or not automation.welcome_enabled:
        return
    if ticket.customer.bot_disabled or is_automatic(message):
        return
    bot_send(ticket, automation.welcome_text)


# --- the sweeps ----------------------------------------------------------------------------


@dataclass
class SweepResult:
    done: int = 0  # tickets closed or ignored
    blocked: int = 0  # addressed tickets left open for missing typification
    more: bool = False  # a batch was full: run again


def _due_automations(field: str) -> QuerySet[AccountAutomation]:
    return AccountAutomation.objects.filter(
        **{f"{field}__isnull": False, f"{field}__gt": 0}, account__active=True
    ).order_by("pk")


def close_candidates(automation: AccountAutomation, now: datetime.datetime) -> QuerySet[Ticket]:
    """Addressed open tickets of the account that the customer has not answered and where
    nothing happened for longer than the setting (so a ticket an agent reopens or works on
    is not closed under them), minus those already reported as blocked since they last
    changed. ``updated_at`` bounds the scan on the ``ticket_status_updated`` index."""
    assert automation.close_after_hours
    cutoff = now - datetime.timedelta(hours=automation.close_after_hours)
    reported = Event.objects.filter(
        ticket_id=OuterRef("pk"),
        kind=EventKind.BOT,
        data__auto=CLOSE_BLOCKED,
        created_at__gte=OuterRef("updated_at"),
    )
    return (
        Ticket.objects.filter(
            account_id=automation.account_id,
            status=TicketStatus.OPEN,
            addressed=True,
            awaiting_response=False,
            merged_into__isnull=True,
            last_agent_message_at__lte=cutoff,
            updated_at__lte=cutoff,
        )
        .filter(~Exists(reported))
        .order_by("last_agent_message_at", "id")
    )


def ignore_candidates(automation: AccountAutomation, now: datetime.datetime) -> QuerySet[Ticket]:
    """Unaddressed open tickets of the account whose customer has not written, and where
    nothing else happened, for longer than the setting. ``waiting_since`` (the start of the
    customer's wait, never later than their last message) bounds the scan on the
    ``ticket_waiting`` partial index."""
    assert automation.ignore_after_hours
    cutoff = now - datetime.timedelta(hours=automation.ignore_after_hours)
    return Ticket.objects.filter(
        account_id=automation.account_id,
        status=TicketStatus.OPEN,
        awaiting_response=True,
        addressed=False,
        merged_into__isnull=True,
        waiting_since__lte=cutoff,
        last_customer_message_at__lte=cutoff,
        updated_at__lte=cutoff,
    ).order_by("waiting_since", "id")


def _claim(candidates: QuerySet[Ticket], pk: int) -> Ticket | None:
    """Lock ticket ``pk`` if it still meets the conditions and nobody else holds it."""
    return candidates.filter(pk=pk).select_for_update(skip_locked=True, of=("self",)).first()


def _record_blocked(ticket: Ticket, bot: User, missing: list[str]) -> None:
    event_record(
        ticket=ticket,
        kind=EventKind.BOT,
        actor=bot,
        data={"auto": CLOSE_BLOCKED, "missing": missing},
        push=False,
    )


def close_idle_tickets(
    *, now: datetime.datetime | None = None, batch: int = SWEEP_BATCH
) -> SweepResult:
    """Close (as the bot, after its closing message) the current tenant's addressed tickets
    whose customer has not answered for the account's ``close_after_hours``."""
    now = now or timezone.now()
    result = SweepResult()
    automations = list(_due_automations("close_after_hours"))
    if not automations:
        return result
    bot = tenant_bot_user(automations[0].tenant_id)
    fields = [f for f in active_fields(MetadataField.Target.TICKET) if f.required]
    for automation in automations:
        candidates = close_candidates(automation, now)
        ids = list(candidates.values_list("pk", flat=True)[:batch])
        result.more = result.more or len(ids) == batch
        for pk in ids:
            with transaction.atomic():
                ticket = _claim(candidates, pk)
                if ticket is None:
                    continue  # another run has it, or the customer just wrote
                missing = missing_required(fields, ticket.metadata)
                if missing:
                    _record_blocked(ticket, bot, missing)
                    result.blocked += 1
                    continue
                try:
                    with transaction.atomic():  # the message goes only with the close
                        if automation.close_message.strip():
                            bot_send(ticket, automation.close_message)
                        ticket_close(ticket=ticket, actor=bot)
                except ActionRefused as refused:
                    log.warning("auto-close of ticket %s refused: %s", pk, refused)
                    continue
                result.done += 1
    return result


def ignore_idle_tickets(
    *, now: datetime.datetime | None = None, batch: int = SWEEP_BATCH
) -> SweepResult:
    """Ignore (as the bot) the current tenant's tickets nobody addressed whose customer has
    not written for the account's ``ignore_after_hours``."""
    now = now or timezone.now()
    result = SweepResult()
    automations = list(_due_automations("ignore_after_hours"))
    if not automations:
        return result
    bot = tenant_bot_user(automations[0].tenant_id)
    for automation in automations:
        candidates = ignore_candidates(automation, now)
        ids = list(candidates.values_list("pk", flat=True)[:batch])
        result.more = result.more or len(ids) == batch
        for pk in ids:
            with transaction.atomic():
                ticket = _claim(candidates, pk)
                if ticket is None:
                    continue
                try:
                    ticket_close(ticket=ticket, actor=bot)
                except ActionRefused as refused:
                    log.warning("auto-ignore of ticket %s refused: %s", pk, refused)
                    continue
                result.done += 1
    return result
