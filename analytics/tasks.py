"""Beat: keep each tenant's rollups current (one short task per tenant)."""

from __future__ import annotations

from helpdesk.celery import TenantTask, app


@app.task(base=TenantTask)
def refresh_rollups(tenant_id: int) -> int:
    from analytics.rollup import rollup_refresh

    return rollup_refresh(tenant_id=tenant_id)


@app.task
def refresh_rollups_all() -> None:
    from helpdesk.models import Tenant
    from helpdesk.tenancy import bypass_context

    with bypass_context():
        tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        refresh_rollups.delay(tenant_id)
