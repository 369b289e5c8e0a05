"""Platform-wide periodic work (tenant work uses helpdesk.celery.TenantTask)."""

from __future__ import annotations

import time

from django.core import management
from django.core.cache import cache

from helpdesk.celery import app

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
