"""Platform-wide periodic work (tenant work uses helpdesk.celery.TenantTask)."""

from __future__ import annotations

import time

from django.core import management
from django.core.cache import cache

from helpdesk.celery import TenantTask, app

HEARTBEAT_KEY = "celery:beat:last-heartbeat"


@app.task
def clear_expired_sessions() -> None:
    management.call_command("clearsessions")


@app.task
def heartbeat() -> float:
    """Proves beat schedules and a worker runs: /healthz reports how old the last beat is."""
    now = time.time()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now


@app.task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_notification_email(tenant_id: int, notification_id: int) -> None:
    from django.conf import settings
    from django.core.mail import send_mail

    from helpdesk.models import Notification
    from helpdesk.notify import notification_email_body

    note = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if note is None:
        return
    send_mail(
        subject=note.text,
        message=notification_email_body(note),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[note.user.email],
        fail_silently=False,
    )
