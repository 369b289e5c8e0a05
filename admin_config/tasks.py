"""Beat tasks of the automatic actions (thin wrappers around admin_config/automation.py)."""

from __future__ import annotations

from django.db.models import Q

from helpdesk.celery import TenantTask, app


@app.task(base=TenantTask)
def close_idle_tickets(tenant_id: int) -> int:
    from admin_config import automation

    result = automation.close_idle_tickets()
    if result.more and result.done:
        close_idle_tickets.delay(tenant_id)  # a long backlog (after downtime): next batch
    return result.done


@app.task(base=TenantTask)
def ignore_idle_tickets(tenant_id: int) -> int:
    from admin_config import automation

    result = automation.ignore_idle_tickets()
    if result.more and result.done:
        ignore_idle_tickets.delay(tenant_id)
    return result.done


@app.task
def auto_actions_all() -> None:
    """Beat: one task per tenant and action, only for tenants that configured the action."""
    from admin_config.models import AccountAutomation
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
