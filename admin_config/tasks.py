"""Thin Celery wrappers around the administration's automatic work (ids in, tenant first)."""

from __future__ import annotations

from helpdesk.celery import TenantTask, app

# --- the assignment queue ------------------------------------------------------------------


@app.task(base=TenantTask)
def drain_queue_task(tenant_id: int) -> int:
    """Place the tenant's queued tickets (a drain that went past its batch continues here)."""
    from admin_config.assignment import drain_now

    return drain_now(tenant_id)


@app.task
def drain_all_queues() -> None:
    """Beat, every minute: the catch-up of the assignment queue. Idempotent (only queued
    tickets are placed, under locks), and only for tenants with someone connected: nobody
    can take a ticket elsewhere."""
    from admin_config.presence import connected_q
    from helpdesk.models import User
    from helpdesk.tenancy import bypass_context

    with bypass_context():
        tenant_ids = list(
            User.objects.filter(connected_q(), tenant__isnull=False, is_active=True)
            .order_by()
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenant_ids:
        drain_queue_task.delay(tenant_id)
