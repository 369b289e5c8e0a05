"""The Celery task of the Meta webhooks: ids in, ``event_process`` does the work."""

from __future__ import annotations

from typing import Any

from helpdesk.celery import TenantTask, app

RETRIES = 3


@app.task(base=TenantTask, bind=True, acks_late=True, ignore_result=True, max_retries=RETRIES)
def process_meta_event(self: Any, tenant_id: int, event_id: int) -> str | None:
    """Process one stored entry; a passing Graph failure (a media download) is retried with
    backoff, and after the last try the event stays failed with its error for the admins."""
    from channels_conn.meta.graph import GraphError
    from channels_conn.meta.models import MetaWebhookEvent
    from channels_conn.meta.services import event_process

    event = MetaWebhookEvent.objects.select_related("account").filter(pk=event_id).first()
    if event is None:
        return None
    last_try = self.request.retries >= RETRIES
    try:
        return str(event_process(event, raise_transient=not last_try).status)
    except GraphError as exc:
        raise self.retry(exc=exc, countdown=5 * 4**self.request.retries) from None
