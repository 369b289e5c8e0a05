"""The Celery tasks of the Meta webhooks: ids in, ``events_drain`` does the work."""

from __future__ import annotations

from typing import Any

from helpdesk.celery import TenantTask, app

RETRIES = 3


@app.task(base=TenantTask, bind=True, acks_late=True, ignore_result=True, max_retries=RETRIES)
def process_meta_event(self: Any, tenant_id: int, event_id: int) -> str:
    """File the tenant's pending events in batches (``channels_conn.meta.batch``). A stored
    event enqueues this task unless one is queued already (``services.drain_request``), so the
    drain takes whatever is pending, not only ``event_id``. An event that needs Graph is filed
    one by one; a passing Graph failure is retried with backoff by this task for that event
    (``event_id``), and after the last try the event stays failed with its error for the
    admins."""
    from django.core.cache import cache

    from channels_conn.meta.batch import events_drain
    from channels_conn.meta.services import drain_flag

    cache.delete(drain_flag(tenant_id))  # before reading the queue (services.drain_request)
    drained = events_drain(retry_of=event_id or None)
    if drained.more:  # a long queue: hand over, so other tenants' work interleaves
        process_meta_event.delay(tenant_id, 0)
    return f"{drained.processed} processed, {drained.failed} failed"


STALE_SECONDS = 60  # well past a drain's flag (10 s) and a busy worker's usual delay


@app.task(ignore_result=True)
def sweep_meta_events() -> int:
    """Beat: tenants with a stored event no drain took within a minute (its task was lost: a
    worker killed before acknowledging it, a broker restart) get a drain now, instead of waiting
    for their next webhook. Answers how many tenants were swept."""
    import datetime

    from django.utils import timezone

    from channels_conn.meta.models import MetaWebhookEvent
    from channels_conn.meta.services import drain_request
    from helpdesk.tenancy import bypass_context

    stale = timezone.now() - datetime.timedelta(seconds=STALE_SECONDS)
    with bypass_context():
        tenant_ids = list(
            MetaWebhookEvent.objects.filter(
                status=MetaWebhookEvent.Status.RECEIVED, attempts=0, created_at__lt=stale
            )
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenant_ids:
        drain_request(tenant_id, 0)
    return len(tenant_ids)


PROFILE_RETRIES = 3
PROFILE_FIRST_COUNTDOWN = 60


@app.task(
    base=TenantTask, bind=True, acks_late=True, ignore_result=True, max_retries=PROFILE_RETRIES
)
def refresh_meta_profile(self: Any, tenant_id: int, account_id: int, user_id: str) -> str:
    """A customer's name Graph could not give at first contact, asked again after a minute;
    passing failures after 5 and 25 more (all under the broker's visibility timeout), then
    it is left for the customer's next message."""
    from channels_conn.meta.graph import GraphError
    from channels_conn.meta.profiles import profile_refresh
    from deskconfig.accounts import ChannelAccount

    account = ChannelAccount.objects.filter(pk=account_id).first()
    if account is None:
        return ""
    try:
        return profile_refresh(account=account, user_id=user_id)
    except GraphError as exc:
        # A refusal (no permission to read the profile, a blocked user) will not change:
        # the customer keeps the placeholder and the next message asks again.
        if not exc.transient or self.request.retries >= PROFILE_RETRIES:
            return ""
        countdown = PROFILE_FIRST_COUNTDOWN * 5 ** (self.request.retries + 1)
        raise self.retry(exc=exc, countdown=countdown) from None
