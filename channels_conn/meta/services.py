"""Meta webhook entries: stored first (raw, per tenant), processed second, retried on demand.

:func:`event_store` is one insert-or-ignore on (account, digest of the entry) and enqueues the
processing after it. :func:`event_process` hands the entry to its channel's receiving
code; an error leaves the row ``failed`` with the error, visible to admins with «Reintentar»
(:func:`event_retry`). Everything here runs inside the account's tenant context; the receiving
code is idempotent on the provider's ids, so a retry never duplicates a message.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from channels_conn.meta.models import MetaMessageInfo, MetaWebhookEvent
from deskconfig.accounts import ChannelAccount
from helpdesk.tenancy import current_tenant_id

log = logging.getLogger(__name__)


def _check_tenant(account: ChannelAccount) -> None:
    if current_tenant_id() != account.tenant_id:
        raise RuntimeError("Meta events are handled inside the account's tenant context")


def entry_digest(obj: str, entry: dict[str, Any]) -> str:
    canonical = json.dumps([obj, entry], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_store(*, account: ChannelAccount, obj: str, entry: dict[str, Any]) -> int | None:
    """Store one routed entry and enqueue its processing: the id of the new row, or None when
    it was stored already. One statement (insert-or-ignore), no transaction of its own, so the
    webhook's answer waits for nothing else."""
    _check_tenant(account)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MetaWebhookEvent._meta.db_table}"  # noqa: S608 - our own table name
            " (tenant_id, account_id, object, entry, digest, status, error, attempts, created_at)"
            " VALUES (%s, %s, %s, %s::jsonb, %s, %s, '', 0, now())"
            " ON CONFLICT (account_id, digest) DO NOTHING RETURNING id",
            [
                account.tenant_id,
                account.pk,
                obj,
                json.dumps(entry),
                entry_digest(obj, entry),
                MetaWebhookEvent.Status.RECEIVED.value,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None  # the same entry, stored by a retry or a concurrent delivery
    _enqueue(account.tenant_id, int(row[0]))
    return int(row[0])


def _enqueue(tenant_id: int, event_id: int) -> None:
    from channels_conn.meta.tasks import process_meta_event

    # Outside a transaction (the webhook's case) this runs at once.
    transaction.on_commit(lambda: process_meta_event.delay(tenant_id, event_id))


def _handler(obj: str) -> Any:
    from channels_conn.meta.routing import INSTAGRAM, PAGE, WHATSAPP

    if obj == WHATSAPP:
        from channels_conn.whatsapp.receive import process_entry
    elif obj == PAGE:
        from channels_conn.messenger.receive import process_entry
    elif obj == INSTAGRAM:
        from channels_conn.instagram.receive import process_entry
    else:
        raise ValueError(f"objeto de Meta desconocido: {obj}")
    return process_entry


def event_process(event: MetaWebhookEvent, *, raise_transient: bool = False) -> MetaWebhookEvent:
    """Run the entry through its channel. With ``raise_transient`` a passing Graph failure is
    raised (the task retries it) instead of being recorded."""
    from channels_conn.meta.graph import GraphError

    account = event.account
    _check_tenant(account)
    if event.status == MetaWebhookEvent.Status.PROCESSED:
        return event
    # The attempt is counted with the outcome (one UPDATE per event, not two).
    try:
        _handler(event.object)(account, event.entry)
    except GraphError as exc:
        if raise_transient and exc.transient:
            MetaWebhookEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1)
            raise
        return _failed(event, exc)
    except Exception as exc:  # a poisonous entry is set aside, visible, the rest flows
        log.exception("Meta event %s of account %s failed", event.pk, account.pk)
        return _failed(event, exc)
    MetaWebhookEvent.objects.filter(pk=event.pk).update(
        status=MetaWebhookEvent.Status.PROCESSED,
        error="",
        processed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    event.status = MetaWebhookEvent.Status.PROCESSED
    return event


def _failed(event: MetaWebhookEvent, exc: Exception) -> MetaWebhookEvent:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    MetaWebhookEvent.objects.filter(pk=event.pk).update(
        status=MetaWebhookEvent.Status.FAILED, error=error, attempts=F("attempts") + 1
    )
    event.status, event.error = MetaWebhookEvent.Status.FAILED, error
    return event


def event_retry(event: MetaWebhookEvent) -> MetaWebhookEvent:
    """Process a failed event again from its stored entry (the admins' «Reintentar»)."""
    _check_tenant(event.account)
    if event.status != MetaWebhookEvent.Status.FAILED:
        return event
    MetaWebhookEvent.objects.filter(pk=event.pk).update(status=MetaWebhookEvent.Status.RECEIVED)
    event.status = MetaWebhookEvent.Status.RECEIVED
    event_process(event)
    event.refresh_from_db(fields=["status", "error", "attempts"])
    return event


# --- the per-message extras ----------------------------------------------------------------


def info_merge(
    *, message_id: int, tenant_id: int, data: dict[str, Any], post_id: str = ""
) -> MetaMessageInfo:
    """Merge ``data`` into the message's extras (creating them), under a row lock."""
    with transaction.atomic():
        info, _created = MetaMessageInfo.objects.select_for_update().get_or_create(
            message_id=message_id, defaults={"tenant_id": tenant_id, "post_id": post_id[:120]}
        )
        info.data = {**(info.data or {}), **data}
        if post_id and not info.post_id:
            info.post_id = post_id[:120]
        info.save(update_fields=["data", "post_id"])
    return info
