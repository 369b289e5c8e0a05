"""Thin Celery wrappers around the administration's automatic work (ids in, tenant first):
the automatic actions' sweeps and the assignment queue's catch-up."""

from __future__ import annotations

from django.db.models import Q

from helpdesk.celery import TenantTask, app


@app.task(base=TenantTask)
def close_idle_tickets(tenant_id: int) -> int:
    from workflow import automation

    result = automation.close_idle_tickets()
    if result.more and result.done:
        close_idle_tickets.delay(tenant_id)  # a long backlog (after downtime): next batch
    return result.done


@app.task(base=TenantTask)
def ignore_idle_tickets(tenant_id: int) -> int:
    from workflow import automation

    result = automation.ignore_idle_tickets()
    if result.more and result.done:
        ignore_idle_tickets.delay(tenant_id)
    return result.done


@app.task
def auto_actions_all() -> None:
    """Beat: one task per tenant and action, only for tenants that configured the action."""
    from deskconfig.models import AccountAutomation
    from helpdesk.tenancy import bypass_context

    with bypass_context():
        rows = list(
            AccountAutomation.all_tenants.filter(
                Q(close_after_hours__gt=0) | Q(ignore_after_hours__gt=0), account__active=True
            )
            .values_list("tenant_id", "close_after_hours", "ignore_after_hours")
            .order_by()
        )
    close = sorted({t for t, c, _i in rows if c})
    ignore = sorted({t for t, _c, i in rows if i})
    for tenant_id in close:
        close_idle_tickets.delay(tenant_id)
    for tenant_id in ignore:
        ignore_idle_tickets.delay(tenant_id)


# --- the assignment queue ------------------------------------------------------------------


@app.task(base=TenantTask)
def drain_queue_task(tenant_id: int) -> int:
    """Place the tenant's queued tickets (a drain that went past its batch continues here)."""
    from workflow.assignment import drain_now

    return drain_now(tenant_id)


@app.task
def drain_all_queues() -> None:
    """Beat, every minute: the catch-up of the assignment queue. Idempotent (only queued
    tickets are placed, under locks), and only for tenants with someone connected: nobody
    can take a ticket elsewhere."""
    from helpdesk.models import User
    from helpdesk.tenancy import bypass_context
    from workflow.presence import connected_q

    with bypass_context():
        tenant_ids = list(
            User.objects.filter(connected_q(), tenant__isnull=False, is_active=True)
            .order_by()
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenant_ids:
        drain_queue_task.delay(tenant_id)
