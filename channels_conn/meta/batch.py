"""Filing stored Meta webhook events in batches: one transaction and one set-based filing of
their customers' messages (``tickets.services.messages_receive_batch``) per batch, instead of
some thirty statements per message.

Contract of :func:`events_drain`: the tenant's pending events (``received``) are taken in id
order, up to :data:`BATCH` at a time with ``FOR UPDATE SKIP LOCKED`` (parallel drains share the
queue, never an event), and each ends ``processed`` or ``failed`` exactly as
:func:`~channels_conn.meta.services.event_process` would have left it one by one:

- The events' receiving code runs with the batch's collector active (``collect``), the events
  one after another in one savepoint: customers' messages are collected, statuses, reactions,
  echoes and edits are applied in order (a reaction first files what was collected, so it
  finds its message).
- An event that needs Graph (a media download, a profile lookup) is rolled back (its run is
  rolled back and the events before it filed again) and filed one by one after the commit:
  no network inside a transaction.
- An event whose code raises is rolled back alone the same way and marked failed, with its
  error and «Reintentar»; the others are filed.
- When the set-based filing raises (a concurrent delivery filed one of the provider ids
  meanwhile, a message the database refuses), its savepoint is rolled back and those messages
  go one by one (``receive_now``, which handles the race); one that fails marks its event.

Events are always of one tenant (the caller's context); the pushes of a batch go after its
commit, each ticket and each new message once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from channels_conn.meta import collect
from channels_conn.meta.models import MetaMessageInfo, MetaWebhookEvent
from channels_conn.meta.services import _check_tenant, _failed, _handler, event_process
from helpdesk import live
from helpdesk.tenancy import current_tenant_id
from tickets.services.receive_batch import ReceiveItem, messages_receive_batch

log = logging.getLogger(__name__)

BATCH = 100  # events per transaction
ROUNDS = 20  # batches per drain before it hands over (another task continues the queue)
Status = MetaWebhookEvent.Status


@dataclass
class Drained:
    processed: int = 0
    failed: int = 0
    one_by_one: int = 0
    more: bool = False  # stopped after ROUNDS batches with events still pending


def events_drain(*, retry_of: int | None = None, limit: int = BATCH) -> Drained:
    """File the current tenant's pending events (see the module docstring). An event that
    failed passingly before (``attempts`` > 0) is taken only by the task retrying it
    (``retry_of``), so its backoff holds."""
    outcome = Drained()
    cursor = 0
    for _round in range(ROUNDS):
        events = _batch_file(cursor, limit, retry_of, outcome)
        if not events:
            return outcome
        cursor = events[-1].pk
        if len(events) < limit:
            return outcome
    outcome.more = True
    return outcome


def _batch_file(
    cursor: int, limit: int, retry_of: int | None, outcome: Drained
) -> list[MetaWebhookEvent]:
    deferred: list[MetaWebhookEvent] = []
    with live.collecting(), transaction.atomic():
        events = _claim(cursor, limit, retry_of)
        if not events:
            return []
        failed = _file(events, deferred)
        set_aside = failed.keys() | {e.pk for e in deferred}
        done = [e.pk for e in events if e.pk not in set_aside]
        MetaWebhookEvent.objects.filter(pk__in=done).update(
            status=Status.PROCESSED,
            error="",
            processed_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
        for event in events:
            if event.pk in failed:
                log.error("Meta event %s failed", event.pk, exc_info=failed[event.pk])
                _failed(event, failed[event.pk])
    outcome.processed += len(done)
    outcome.failed += len(failed)
    # After the commit, outside any transaction: these may call Graph.
    for event in deferred:
        outcome.one_by_one += 1
        _one_by_one(event)
    return events


def _claim(cursor: int, limit: int, retry_of: int | None) -> list[MetaWebhookEvent]:
    """Up to ``limit`` pending events after ``cursor``, locked (the ones another drain holds
    are skipped). Their accounts come along; secrets are read only where used."""
    tenant_id = current_tenant_id()
    fresh = Q(attempts=0) | Q(pk=retry_of) if retry_of else Q(attempts=0)
    return list(
        MetaWebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("account")
        .defer("account__credentials")
        .filter(fresh, tenant_id=tenant_id, status=Status.RECEIVED, pk__gt=cursor)
        .order_by("pk")[:limit]
    )


def _file(events: list[MetaWebhookEvent], deferred: list[MetaWebhookEvent]) -> dict[int, Exception]:
    """Run the events' code with the collector active; returns the failed events' errors."""
    failed: dict[int, Exception] = {}
    collector = collect.Collector(flush=lambda: _flush(collector, failed))
    token = collect.activate(collector)
    try:
        start = 0
        while start < len(events):
            start = _run(events, start, collector, failed, deferred)
        _flush(collector, failed)
    finally:
        collect.deactivate(token)
    return failed


def _run(
    events: list[MetaWebhookEvent],
    start: int,
    collector: collect.Collector,
    failed: dict[int, Exception],
    deferred: list[MetaWebhookEvent],
) -> int:
    """The events from ``start`` in one savepoint (most reach the database only through the
    collector: a savepoint each would cost two statements per message). At the first one that
    cannot be filed here the run is rolled back, the events before it run again in one
    savepoint and that one alone (:func:`_alone`). Returns where the next run starts."""
    items, errors = list(collector.items), dict(failed)
    index = start
    try:
        with transaction.atomic():
            for index in range(start, len(events)):
                _handle(events[index], collector)
        return len(events)
    except (OperationalError, InterfaceError):
        raise  # the database is gone: the events stay stored for the next drain
    except Exception:
        # What to restore: a flush the run caused is undone with it.
        collector.items = items
        _restore(failed, errors)
    if index > start:
        _run_again(events[start:index], collector, failed, deferred)
    _alone(events[index], collector, failed, deferred)
    return index + 1


def _run_again(
    events: list[MetaWebhookEvent],
    collector: collect.Collector,
    failed: dict[int, Exception],
    deferred: list[MetaWebhookEvent],
) -> None:
    """Events that went through before the failure of their run, in one savepoint again (the
    same code on the same rows); should that fail after all, each alone."""
    items, errors = list(collector.items), dict(failed)
    try:
        with transaction.atomic():
            for event in events:
                _handle(event, collector)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        collector.items = items
        _restore(failed, errors)
        for event in events:
            _alone(event, collector, failed, deferred)


def _alone(
    event: MetaWebhookEvent,
    collector: collect.Collector,
    failed: dict[int, Exception],
    deferred: list[MetaWebhookEvent],
) -> None:
    """One event in its own savepoint: one that needs Graph is set aside for after the
    commit, one that raises is marked failed; either way nothing of it stays."""
    items, errors = list(collector.items), dict(failed)
    try:
        with transaction.atomic():
            _handle(event, collector)
    except collect.NeedsNetwork:
        collector.items = items
        _restore(failed, errors)
        deferred.append(event)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # a poisonous event is set aside, the rest flows
        collector.items = items
        _restore(failed, errors)
        failed[event.pk] = exc


def _handle(event: MetaWebhookEvent, collector: collect.Collector) -> None:
    _check_tenant(event.account)
    collector.event_id = event.pk
    _handler(event.object)(event.account, event.entry)


def _restore(failed: dict[int, Exception], before: dict[int, Exception]) -> None:
    failed.clear()
    failed.update(before)


def _flush(collector: collect.Collector, failed: dict[int, Exception]) -> None:
    """File the collected messages in one set-based step; one by one if that fails."""
    pending, collector.items = collector.items, []
    if not pending:
        return
    tenant_id = pending[0].account.tenant_id
    try:
        with transaction.atomic():
            received = messages_receive_batch(
                tenant_id=tenant_id,
                items=[ReceiveItem(account=p.account, inbound=p.inbound) for p in pending],
            )
            MetaMessageInfo.objects.bulk_create(
                MetaMessageInfo(
                    tenant_id=tenant_id,
                    message=r.message,
                    data=p.extra,
                    post_id=p.post_id[:120],
                )
                for p, r in zip(pending, received, strict=True)
                if r.created and (p.extra or p.post_id)
            )
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        log.warning("a batch of %d Meta messages goes one by one", len(pending), exc_info=True)
        _flush_one_by_one(pending, failed)


def _flush_one_by_one(pending: list[collect.Pending], failed: dict[int, Exception]) -> None:
    from channels_conn.meta.inbound import receive_now

    for p in pending:
        if p.event_id in failed:
            continue
        try:
            with transaction.atomic():
                receive_now(account=p.account, inbound=p.inbound, extra=p.extra, post_id=p.post_id)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            failed[p.event_id] = exc


# Session-level advisory locks of this module: (namespace << 48) | event id.
_LOCK_NAMESPACE = 0x4D45 << 48  # "ME": a Meta event held during its Graph calls


@contextmanager
def _held(event_id: int) -> Iterator[bool]:
    """Hold the event while its Graph calls run, outside any transaction (a row lock would
    need one open across the network): whether this drain got it. Another drain that took
    the same still-pending event into a batch finds it held and leaves it, instead of
    downloading the same media a second time."""
    key = _LOCK_NAMESPACE | event_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _one_by_one(event: MetaWebhookEvent) -> None:
    """An event that needs Graph, outside the batch: a passing Graph failure leaves it pending
    and retried with backoff by its own task, a lasting one marks it failed."""
    from channels_conn.meta.graph import GraphError
    from channels_conn.meta.tasks import RETRIES, process_meta_event

    with _held(event.pk) as held:
        if not held:
            return  # another drain is filing it
        event.refresh_from_db(fields=["status", "attempts"])
        if event.status != Status.RECEIVED:
            return  # filed (or failed) by another drain meanwhile
        last_try = event.attempts >= RETRIES
        try:
            event_process(event, raise_transient=not last_try)
        except GraphError:
            process_meta_event.apply_async(
                (event.tenant_id, event.pk), countdown=5 * 4 ** min(event.attempts, RETRIES)
            )
