"""Thin Celery wrappers around the tickets services (ids in, tenant first)."""

from __future__ import annotations

from celery import Task

from helpdesk.celery import TenantTask, app
from tickets.connectors import ConnectorError

MAX_SEND_RETRIES = 6


@app.task(base=TenantTask, bind=True, max_retries=MAX_SEND_RETRIES, acks_late=True)
def deliver_message(self: Task, tenant_id: int, message_id: int) -> None:
    from tickets import services

    try:
        services.message_deliver(message_id=message_id)
    except Exception as exc:
        # A transient provider error, or a bug in a connector: retried, then shown as failed
        # (never left "queued" forever).
        reason = exc.reason if isinstance(exc, ConnectorError) else _unexpected(exc)
        if self.request.retries >= MAX_SEND_RETRIES:
            services.message_fail(message_id=message_id, reason=reason)
            return
        services.message_retrying(message_id=message_id, reason=reason)
        # 5 s, 10 s, 20 s ... about 5 minutes in all: well under the broker's visibility timeout.
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc


def _unexpected(exc: Exception) -> str:
    from django.utils.translation import gettext

    return gettext("Error inesperado al enviar (%(kind)s). Reintenta o avisa a soporte.") % {
        "kind": type(exc).__name__
    }


@app.task(base=TenantTask, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_escalation(tenant_id: int, ticket_id: int, actor_id: int, to: str, note: str) -> None:
    from tickets.escalation import send

    send(ticket_id=ticket_id, actor_id=actor_id, to=to, note=note)


@app.task(base=TenantTask)
def flag_sla_breaches(tenant_id: int) -> int:
    from tickets.sla import flag_breaches

    return flag_breaches()


@app.task
def flag_sla_breaches_all() -> None:
    """Beat: one task per tenant (never one task walking all tenants' tickets)."""
    from helpdesk.models import Tenant
    from helpdesk.tenancy import bypass_context

    with bypass_context():
        tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        flag_sla_breaches.delay(tenant_id)
