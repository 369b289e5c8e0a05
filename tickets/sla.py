"""The SLA clock's periodic part: waiting tickets past their due time are flagged breached."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from tickets import live
from tickets.models import ActorKind, Event, EventKind, Ticket, TicketStatus


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
            Event.objects.create(
                tenant_id=ticket.tenant_id,
                ticket=ticket,
                kind=EventKind.SLA,
                actor_kind=ActorKind.SYSTEM,
                data={"breached": True, "due": ticket.sla_due_at.isoformat()},
            )
            live.ticket_changed(ticket)
            flagged += 1
    return flagged


AT_RISK_SHARE = 0.25  # the last quarter of the SLA time is "at risk"


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
