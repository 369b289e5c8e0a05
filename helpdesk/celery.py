"""The Celery application, and the base class that runs a task inside its tenant's context."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "clear-expired-sessions": {
        "task": "helpdesk.tasks.clear_expired_sessions",
        "schedule": crontab(minute=17, hour=4),
    },
    "flag-sla-breaches": {
        "task": "tickets.tasks.flag_sla_breaches_all",
        "schedule": 60.0,
    },
    # Analytics rollups (analytics.rollup): folds in the tickets changed since the last run.
    "refresh-analytics": {
        "task": "analytics.tasks.refresh_rollups_all",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "poll-mailboxes": {
        "task": "channels_conn.tasks.poll_all_mailboxes",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Meta events whose drain task was lost get one (channels_conn.meta.tasks): idempotent.
    "sweep-meta-events": {
        "task": "channels_conn.meta.tasks.sweep_meta_events",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Automatic closing and ignoring of idle tickets (workflow/automation.py). The
    # sweeps are idempotent, so a run that overlaps the previous one does no harm.
    "auto-actions": {
        "task": "workflow.tasks.auto_actions_all",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # The assignment queue's catch-up (workflow.assignment): idempotent.
    "drain-assignment-queues": {
        "task": "workflow.tasks.drain_all_queues",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Export files past the tenant's retention (exports.services.exports_expire): idempotent.
    "delete-expired-exports": {
        "task": "exports.tasks.delete_expired_exports",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    # X accounts: each is polled when its own next poll is due (every minute by default,
    # later after a 429 or a 5xx); the claim on its state row keeps polls from overlapping.
    "poll-x-accounts": {
        "task": "channels_conn.twitter.tasks.poll_due_x_accounts",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Scheduled posts: claimed with SKIP LOCKED (publishing.services), so overlapping runs
    # never publish one post twice.
    "publish-scheduled-posts": {
        "task": "publishing.tasks.publish_due_posts",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "worker-heartbeat": {
        "task": "helpdesk.tasks.heartbeat",
        "schedule": 60.0,
    },
}


class TenantTask(Task):
    """A task whose first argument is a tenant id; it runs inside that tenant's context.

    Tasks are thin: ids in, the service does the work. Use as ``@app.task(base=TenantTask)``.
    """

    abstract = True

    def __call__(self, tenant_id: int, *args: Any, **kwargs: Any) -> Any:
        from helpdesk.tenancy import tenant_context

        with tenant_context(tenant_id):
            return super().__call__(tenant_id, *args, **kwargs)
