"""Measure the Meta webhook: answer latency under a steady request rate, and end-to-end
ingestion (webhook → entry stored → task → ticket committed → card pushed) per core.

Development only::

    DEBUG=1 .venv/bin/python -m helpdesk.devservices -- \\
        .venv/bin/python manage.py bench_meta_webhook --rate 200 --seconds 60 --ingest 2000

Part 1 serves the real Django application on a threaded local HTTP server (no worker: the
tasks wait in the broker and are discarded with the bench tenant) and posts signed WhatsApp
webhooks at ``--rate`` per second for ``--seconds``, each one timed from its scheduled start
(so a stalled server cannot hide its queue): p50, p95, p99, errors and late starts.
Part 2 posts ``--ingest`` webhooks through the application in this process with the task run
inline after each commit, one at a time, and reports messages/s of wall time and of this
process's CPU time (one core; PostgreSQL and Redis run in their own processes), with the
statements per message: answering the webhook (measured alone first) and processing it.
Targets: p95 < 50 ms; ≥ 200 messages/s per core.

It creates the tenant ``bench-meta`` and deletes it afterwards (unless ``--keep``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client

from channels_conn.meta.signature import sign
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.celery import app as celery_app
from helpdesk.models import Tenant
from helpdesk.services import tenant_create
from helpdesk.tenancy import bypass_context, tenant_context
from tickets.models import Message

SLUG, NAME = "bench-meta", "Bench Meta"
NUMBER = "909090909090909"


def webhook(n: int, run: str) -> bytes:
    sender = f"5699{n % 5000:07d}"
    item = {
        "from": sender,
        "id": f"wamid.BENCH{run}{n}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": f"Hola, consulta {n}"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "56900000000", "phone_number_id": NUMBER},
        "contacts": [{"profile": {"name": f"Cliente {n}"}, "wa_id": sender}],
        "messages": [item],
    }
    entry = {"id": "1", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise CommandError("the web server did not start")


class _Counter:
    """Counts every statement sent to PostgreSQL (``connection.execute_wrapper``)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


class Command(BaseCommand):
    help = "Meta webhook latency under load and end-to-end ingestion per core."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rate", type=int, default=200)
        parser.add_argument("--seconds", type=int, default=60)
        parser.add_argument("--ingest", type=int, default=2000)
        parser.add_argument("--keep", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        with bypass_context():
            if Tenant.objects.filter(slug=SLUG).exists():
                raise CommandError(f"tenant '{SLUG}' exists: drop it first")
        settings.META_APP_SECRET = settings.META_APP_SECRET or "bench-secret"
        tenant = tenant_create(name=NAME, slug=SLUG)
        try:
            with tenant_context(tenant.pk):
                ChannelAccount.objects.create(
                    tenant=tenant, kind=ChannelKind.WHATSAPP, name="Bench",
                    settings={"phone_number_id": NUMBER}, credentials={"access_token": "x"},
                )  # fmt: skip
            if o["seconds"] > 0:
                self._latency(o["rate"], o["seconds"])
            if o["ingest"] > 0:
                self._ingest(tenant, o["ingest"])
        finally:
            if not o["keep"]:
                self._drop(tenant.pk)

    def _latency(self, rate: int, seconds: int) -> None:
        # The production web server (daphne) in its own process, as `make run` starts it.
        port = free_port()
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "helpdesk.asgi:application"],
            env={**os.environ, "META_APP_SECRET": settings.META_APP_SECRET},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/webhooks/meta/"
        _wait_for(url)
        local = threading.local()
        latencies: list[float] = []
        errors: list[str] = []
        late = 0
        start = time.perf_counter() + 0.5
        total = rate * seconds

        def one(n: int) -> None:
            nonlocal late
            session = getattr(local, "s", None) or requests.Session()
            local.s = session
            due = start + n / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.05:
                late += 1
            raw = webhook(n, "L")
            try:
                r = session.post(url, data=raw, timeout=10, headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(raw, settings.META_APP_SECRET)})  # fmt: skip
                if r.status_code != 200:
                    errors.append(str(r.status_code))
            except requests.RequestException as exc:
                errors.append(type(exc).__name__)
            latencies.append((time.perf_counter() - due) * 1000)

        with ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(one, range(total)))
        elapsed = time.perf_counter() - start
        server.terminate()
        server.wait(timeout=10)
        self.stdout.write(
            f"webhook: {total} requests in {elapsed:.1f}s ({total / elapsed:.0f}/s target {rate}/s)"
            f"  p50 {_pct(latencies, 0.5):.1f} ms  p95 {_pct(latencies, 0.95):.1f} ms"
            f"  p99 {_pct(latencies, 0.99):.1f} ms  max {max(latencies):.0f} ms"
            f"  errors {len(errors)} {dict(Counter(errors))}  late starts {late}"
        )

    def _answer_alone(self, count: int) -> tuple[float, float]:
        """(statements, CPU ms) per webhook answer alone, in this process: no processing (the
        tasks wait in the broker and go with the bench tenant), after a first POST warmed the
        routing table. The daphne figures add the server, a connection per request and load."""
        client = Client(HTTP_HOST="127.0.0.1")
        counter = _Counter()
        bodies = [webhook(n, "A") for n in range(count + 1)]
        secret = settings.META_APP_SECRET
        cpu = 0.0
        for n, raw in enumerate(bodies):
            started = time.process_time()
            with connection.execute_wrapper(counter) if n else nullcontext():
                client.post("/webhooks/meta/", data=raw, content_type="application/json",
                            HTTP_X_HUB_SIGNATURE_256=sign(raw, secret))  # fmt: skip
            cpu += (time.process_time() - started) if n else 0.0
        return counter.count / max(count, 1), cpu * 1000 / max(count, 1)

    def _ingest(self, tenant: Tenant, count: int) -> None:
        answer, answer_ms = self._answer_alone(min(count, 200))
        self.stdout.write(
            f"answer alone: {answer:.1f} statements, {answer_ms:.2f} ms CPU per webhook"
            f" = {1000 / answer_ms:.0f} answers/s per core"
        )
        client = Client(HTTP_HOST="127.0.0.1")
        before = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        counter = _Counter()
        try:
            bodies = [webhook(n, "I") for n in range(count)]
            signatures = [sign(b, settings.META_APP_SECRET) for b in bodies]
            cpu, wall = time.process_time(), time.perf_counter()
            with connection.execute_wrapper(counter):
                for raw, signature in zip(bodies, signatures, strict=True):
                    client.post("/webhooks/meta/", data=raw, content_type="application/json",
                                HTTP_X_HUB_SIGNATURE_256=signature)  # fmt: skip
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            celery_app.conf.task_always_eager = before
        with tenant_context(tenant.pk):
            stored = Message.objects.filter(provider_id__startswith="wamid.BENCHI").count()
        total = counter.count / max(count, 1)
        self.stdout.write(
            f"ingestion: {stored}/{count} messages in {wall:.1f}s = {stored / wall:.0f} msg/s wall,"
            f" {stored / cpu:.0f} msg/s per core (CPU {cpu:.1f}s of this process),"
            f" {total:.1f} statements per message: {answer:.1f} answering the webhook,"
            f" {total - answer:.1f} processing it"
        )

    def _drop(self, tenant_id: int) -> None:
        with bypass_context(), connection.cursor() as c:
            c.execute(
                "UPDATE tickets_message SET reply_to_id = NULL WHERE tenant_id = %s", [tenant_id]
            )
            for table in (
                "channels_conn_metamessageinfo",
                "channels_conn_metawebhookevent",
                "tickets_attachment",
                "tickets_message",
                "tickets_event",
                "tickets_ticket",
                "tickets_customeridentity",
                "tickets_customer",
            ):
                c.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])  # noqa: S608
        with bypass_context():
            Tenant.objects.filter(pk=tenant_id).delete()
