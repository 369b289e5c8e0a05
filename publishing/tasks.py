"""Thin Celery tasks of the publisher (ids in, tenant first)."""

from __future__ import annotations

from helpdesk.celery import TenantTask, app


@app.task(base=TenantTask, acks_late=True, ignore_result=True)
def publish_tenant_posts(tenant_id: int) -> int:
    """Publish the tenant's due posts; a full batch queues the next one (bounded work)."""
    from publishing.services import CLAIM_BATCH, posts_publish_due

    claimed = posts_publish_due()
    if claimed >= CLAIM_BATCH:
        publish_tenant_posts.delay(tenant_id)
    return claimed


@app.task(ignore_result=True)
def publish_due_posts() -> int:
    """Beat: one ``publish_tenant_posts`` per tenant with a post due (or stuck)."""
    from django.utils import timezone

    from helpdesk.tenancy import bypass_context
    from tickets.models import ScheduledPost

    with bypass_context():
        tenants = list(
            ScheduledPost.all_tenants.filter(
                status__in=[ScheduledPost.Status.SCHEDULED, ScheduledPost.Status.PUBLISHING],
                publish_at__lte=timezone.now(),
            )
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenants:
        publish_tenant_posts.delay(tenant_id)
    return len(tenants)
