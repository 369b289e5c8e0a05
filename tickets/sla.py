"""The SLA clock: its due and "at risk" times when a customer starts waiting, and its periodic
part: waiting tickets past their due time are flagged breached, and the people responsible
are told once."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deskconfig.business_hours import business_deadline
from deskconfig.models import DepartmentMembership, TenantSettings
from helpdesk.models import Role, User
from tickets.history import event_record
from tickets.models import EventKind, Ticket, TicketStatus

if TYPE_CHECKING:
    from deskconfig.accounts import ChannelAccount

DEFAULT_RISK_PERCENT = 75  # "at risk" once three quarters of the SLA time are consumed


def risk_percent(tenant_id: int) -> int:
    """The tenant's "at risk" threshold, in percent of the SLA time consumed."""
    value = (
        TenantSettings.objects.filter(tenant_id=tenant_id)
        .values_list("sla_risk_percent", flat=True)
        .first()
    )
    return DEFAULT_RISK_PERCENT if value is None else value


def sla_deadlines(
    account: ChannelAccount, start: datetime.datetime, *, risk: int | None = None
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """When a wait that starts at ``start`` is due and when it is at risk: business time when
    the account has a schedule (None and None when that schedule is never open), around the
    clock otherwise. ``risk``: the tenant's :func:`risk_percent`, when the caller read it
    already (a batch of received messages reads it once)."""
    schedule = account.schedule if account.schedule_id is not None else None
    minutes = account.sla_minutes
    due = business_deadline(schedule, start, minutes)
    if due is None:
        return None, None
    percent = risk_percent(account.tenant_id) if risk is None else risk
    return due, business_deadline(schedule, start, minutes * percent / 100)


def resolution_deadline(
    account: ChannelAccount, start: datetime.datetime
) -> datetime.datetime | None:
    """The account's optional resolution time from a ticket's opening (business time too)."""
    if account.resolution_minutes is None:
        return None
    schedule = account.schedule if account.schedule_id is not None else None
    return business_deadline(schedule, start, account.resolution_minutes)


def flag_breaches(batch: int = 500) -> int:
    """Flag (in the current tenant) the open tickets whose SLA due time has passed."""
    now = timezone.now()
    flagged = 0
    with transaction.atomic():
        due = list(
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(
                status=TicketStatus.OPEN,
                sla_breached=False,
                sla_due_at__isnull=False,
                sla_due_at__lte=now,
            )
            .order_by("sla_due_at")[:batch]
        )
        for ticket in due:
            ticket.sla_breached = True
            ticket.save(update_fields=["sla_breached"])
            event_record(
                ticket=ticket,
                kind=EventKind.SLA,
                data={"breached": True, "due": ticket.sla_due_at.isoformat()},
            )
            flagged += 1
        _alert(due)
    return flagged


def _alert(breached: list[Ticket]) -> None:
    """The bell (and the email for who opted in) for each breach: the ticket's assignee and the
    admins of its department; a ticket without a department alerts every admin. Called in the
    transaction that sets ``sla_breached``, so a breach is announced exactly once."""
    from tickets.services import ticket_notify

    if not breached:
        return
    admins = User.objects.filter(
        tenant_id=breached[0].tenant_id, role=Role.ADMIN, is_active=True, is_bot=False
    )
    by_department: dict[int, list[User]] = {}
    department_ids = {t.department_id for t in breached if t.department_id is not None}
    for membership in DepartmentMembership.objects.filter(
        department_id__in=department_ids, user__in=admins
    ).select_related("user"):
        by_department.setdefault(membership.department_id, []).append(membership.user)
    everyone: list[User] | None = None
    assignees = {
        u.pk: u
        for u in User.objects.filter(
            pk__in={t.assignee_id for t in breached if t.assignee_id is not None},
            is_active=True,
            is_bot=False,
        )
    }
    for ticket in breached:
        if ticket.department_id is not None:
            people: Iterable[User] = by_department.get(ticket.department_id, [])
        else:
            everyone = list(admins) if everyone is None else everyone
            people = everyone
        recipients = {u.pk: u for u in people}
        if ticket.assignee_id in assignees:
            recipients[ticket.assignee_id] = assignees[ticket.assignee_id]
        text = _("El SLA del ticket #%(n)s venció: el cliente espera respuesta.") % {
            "n": ticket.number
        }
        for user in recipients.values():
            ticket_notify(user=user, ticket=ticket, text=text, email=user.email_on_sla_breach)


def sla_state(ticket: Ticket, now: datetime.datetime | None = None) -> str:
    """'breached', 'risk', 'ok' while a customer waits for a human; '' otherwise."""
    if ticket.status != TicketStatus.OPEN or ticket.sla_due_at is None:
        return ""
    now = now or timezone.now()
    if ticket.sla_breached or now >= ticket.sla_due_at:
        return "breached"
    if ticket.sla_risk_at is not None and now >= ticket.sla_risk_at:
        return "risk"
    return "ok"
