"""Small helpers shared by the tickets tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection

from channels_conn.base import ConnectorError, SendResult
from deskconfig.accounts import ChannelAccount
from helpdesk.tenancy import tenant_context
from tickets import services
from tickets.models import Event, Message, Ticket


def receive(
    account: ChannelAccount, identity: str = "ana@example.test", text: str = "Hola", **kw: Any
) -> services.Received:
    """A customer's message arriving on ``account``."""
    return services.message_receive(
        account=account, inbound=services.Inbound(identity=identity, text=text, **kw)
    )


def events(ticket: Ticket, kind: str | None = None) -> list[Event]:
    qs = Event.objects.filter(ticket=ticket).order_by("created_at", "id")
    if kind is not None:
        qs = qs.filter(kind=kind)
    return list(qs)


def fresh(obj: Any) -> Any:
    obj.refresh_from_db()
    return obj


class RecordingConnector:
    """A connector of the tests: records what it was asked to send and answers a provider id,
    after raising the errors queued in ``failures`` (one per call) if any."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.sent: list[int] = []
        self.failures: list[ConnectorError] = []
        self.provider_id: str | None = None  # the id answered; "prov-<pk>" when None
        self._lock = threading.Lock()

    def send(self, account: ChannelAccount, message: Message) -> SendResult:
        with self._lock:
            self.sent.append(message.pk)
            if self.failures:
                raise self.failures.pop(0)
        if self.provider_id is not None:
            return SendResult(provider_id=self.provider_id)
        return SendResult(provider_id=f"prov-{message.pk}")


def run_in_threads(tenant_id: int, jobs: list[Callable[[], Any]], timeout: float = 60) -> list[Any]:
    """Run each job in its own thread and database connection, all released at once, in the
    tenant's context (concurrency tests on real PostgreSQL)."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], Any]) -> Any:
        try:
            with tenant_context(tenant_id):
                barrier.wait(timeout=10)
                return job()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [f.result(timeout=timeout) for f in futures]
