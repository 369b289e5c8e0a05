"""Measure the Meta webhook as production runs it: the answer's latency under a steady request
rate, and ingestion (webhook → entry stored → worker → tickets committed → cards pushed) per
worker core.

Development only::

    DEBUG=1 .venv/bin/python -m helpdesk.devservices -- \\
        .venv/bin/python manage.py bench_meta_webhook --rate 200 --seconds 60

The server is daphne in its own process with DEBUG off (production settings; TLS is the
proxy's, so no HTTPS redirect). The load comes from another process: an asyncio open-loop
generator that sends request *n* at ``start + n / rate`` whatever the server does, over
keep-alive connections (a new one opens when all are busy), and times each answer from its
scheduled send time, so a stalled server shows as latency instead of a slower client.

1. ``webhook``: signed WhatsApp text webhooks at ``--rate`` for ``--seconds``: p50/p95/p99,
   served rate, errors. A Celery worker (solo pool, one process) files them meanwhile.
2. ``trivial``: the same generator against the GET handshake (no database): what daphne and
   Django answer with no work, to tell the server's own limit from ours.
3. ``ingestion``: messages/s per worker core: the messages of part 1 over the CPU seconds the
   worker process spent (its batches, pushes and Celery's own work), and the wall time until
   the last was committed.
4. ``answer alone``: the webhook's delivery code in this process without a server (statements
   and CPU per answer).
5. ``drain``: ``--drain`` stored events filed here by the same code the worker runs, counting
   statements per message and CPU per message of this process.

Targets: p95 < 50 ms at 200 requests/s; ≥ 200 messages/s per worker core. It creates the
tenant ``bench-meta`` and deletes it afterwards (unless ``--keep``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import nullcontext
from typing import Any

import psutil
import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from channels_conn.email.devserver import free_port
from channels_conn.meta.asgi import deliver_on_thread
from channels_conn.meta.batch import events_drain
from channels_conn.meta.models import MetaWebhookEvent
from channels_conn.meta.services import entry_digest
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from devtools.bench.measure import StatementCounter, pct
from helpdesk.models import Tenant
from helpdesk.services import tenant_create
from helpdesk.tenancy import bypass_context, tenant_context
from tickets.models import Message

SLUG, NAME = "bench-meta", "Bench Meta"
NUMBER = "909090909090909"
CONNECTIONS = 16  # keep-alive connections opened at start (more open when all are busy)


def entry(n: int, run: str) -> dict[str, Any]:
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
    return {"id": "1", "changes": [{"field": "messages", "value": value}]}


def webhook(n: int, run: str) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry(n, run)]}).encode()


def post_request(raw: bytes, secret: str) -> bytes:
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    head = (
        "POST /webhooks/meta/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\n"
        f"X-Hub-Signature-256: {signature}\r\nContent-Length: {len(raw)}\r\n\r\n"
    )
    return head.encode() + raw


def get_request(token: str) -> bytes:
    query = f"hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
    return f"GET /webhooks/meta/?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


# --- the load generator (its own process) ----------------------------------------------------


async def _exchange(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes) -> int:
    reader, writer = conn
    writer.write(request)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _sep, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _open_loop(port: int, requests_: list[bytes], rate: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = [
        await asyncio.open_connection("127.0.0.1", port) for _i in range(CONNECTIONS)
    ]
    opened = len(idle)
    latencies: list[float] = []
    errors: Counter[str] = Counter()

    async def one(request: bytes, due: float) -> None:
        nonlocal opened
        conn = None
        try:
            if idle:
                conn = idle.pop()
            else:
                opened += 1
                conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
            status = await asyncio.wait_for(_exchange(conn, request), 30)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError) as e:
            errors[type(e).__name__] += 1  # a refused or stalled connection counts, never stops
            if conn is not None:
                conn[1].close()
        else:
            if status != 200:
                errors[str(status)] += 1
            idle.append(conn)
        latencies.append((loop.time() - due) * 1000)

    start = loop.time() + 0.2
    tasks = []
    for n, request in enumerate(requests_):
        due = start + n / rate
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    for _reader, writer in idle:
        writer.close()
    return {"latencies": latencies, "errors": dict(errors), "elapsed": elapsed, "opened": opened}


def _generator(port: int, requests_: list[bytes], rate: float, out: Any) -> None:
    out.send(asyncio.run(_open_loop(port, requests_, rate)))


def generate(port: int, requests_: list[bytes], rate: float) -> dict[str, Any]:
    """Run the open-loop generator in a forked process (its own interpreter lock and core)."""
    ctx = multiprocessing.get_context("fork")
    receiving, sending = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_generator, args=(port, requests_, rate, sending))
    process.start()
    result: dict[str, Any] = receiving.recv()
    process.join()
    return result


def _report(label: str, result: dict[str, Any], rate: float) -> str:
    lat, total = result["latencies"], len(result["latencies"])
    return (
        f"{label}: {total} requests in {result['elapsed']:.1f}s = {total / result['elapsed']:.0f}/s"
        f" served (offered {rate:.0f}/s)  p50 {pct(lat, 50):.1f} ms  p95 {pct(lat, 95):.1f}"
        f" ms  p99 {pct(lat, 99):.1f} ms  max {max(lat):.0f} ms"
        f"  errors {sum(result['errors'].values())} {result['errors']}"
        f"  connections {result['opened']}"
    )


def _production_env(conn_max_age: int) -> dict[str, str]:
    """The children's environment: production settings on this machine's services."""
    return {
        **os.environ,
        "DEBUG": "0",
        "CONN_MAX_AGE": str(conn_max_age),
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # TLS ends at the proxy in front
        "META_APP_SECRET": settings.META_APP_SECRET,
        "META_VERIFY_TOKEN": settings.META_VERIFY_TOKEN,
        # The key this process encrypted the bench account with (derived in development).
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY
        or base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode(),
    }


class Command(BaseCommand):
    help = "Meta webhook latency under an open-loop load, and ingestion per worker core."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rate", type=float, default=200)
        parser.add_argument("--seconds", type=int, default=60)
        parser.add_argument("--drain", type=int, default=2000)
        parser.add_argument(
            "--conn-max-age", type=int, default=0,
            help="CONN_MAX_AGE of the server and worker (0, the default setting: a database "
            "connection per request)",
        )  # fmt: skip
        parser.add_argument("--keep", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        with bypass_context():
            if Tenant.objects.filter(slug=SLUG).exists():
                raise CommandError(f"tenant '{SLUG}' exists: drop it first")
        settings.META_APP_SECRET = settings.META_APP_SECRET or "bench-secret"
        settings.META_VERIFY_TOKEN = settings.META_VERIFY_TOKEN or "bench-verify"
        tenant = tenant_create(name=NAME, slug=SLUG)
        try:
            with tenant_context(tenant.pk):
                ChannelAccount.objects.create(
                    tenant=tenant, kind=ChannelKind.WHATSAPP, name="Bench",
                    settings={"phone_number_id": NUMBER}, credentials={"access_token": "x"},
                )  # fmt: skip
            if o["seconds"] > 0:
                self._served(tenant, o["rate"], o["seconds"], o["conn_max_age"])
            if o["drain"] > 0:
                self._answer_alone(tenant, min(o["drain"], 300))
                self._drain(tenant, o["drain"])
        finally:
            if not o["keep"]:
                self._drop(tenant.pk)

    def _served(self, tenant: Tenant, rate: float, seconds: int, conn_max_age: int) -> None:
        env = _production_env(conn_max_age)
        # As the image's build does: cards and pages need the hashed static files' manifest.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], env=env, check=True
        )
        port = free_port()
        log = open(settings.BASE_DIR / "var" / "bench_meta_webhook.log", "ab")  # noqa: SIM115
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "helpdesk.asgi:application"],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            self._wait_for(f"http://127.0.0.1:{port}/healthz")
            time.sleep(3)  # the worker connects to the broker
            total = int(rate * seconds)
            secret = settings.META_APP_SECRET
            bodies = [post_request(webhook(n, "L"), secret) for n in range(total)]
            cpu_before, daphne_before = self._cpu(worker.pid), self._cpu(server.pid)
            started = time.monotonic()
            result = generate(port, bodies, rate)
            daphne = self._cpu(server.pid) - daphne_before
            self.stdout.write(_report(f"webhook (CONN_MAX_AGE={conn_max_age})", result, rate))
            stored, last = self._wait_ingested(tenant, total, started)
            cpu = self._cpu(worker.pid) - cpu_before
            self.stdout.write(
                f"ingestion: {stored}/{total} messages committed {last:.1f}s after the first"
                f" post = {stored / last:.0f} msg/s wall; worker CPU {cpu:.1f}s ="
                f" {stored / cpu:.0f} msg/s per worker core"
            )
            trivial = [get_request(settings.META_VERIFY_TOKEN)] * total
            daphne_before = self._cpu(server.pid)
            self.stdout.write(_report("trivial GET", generate(port, trivial, rate), rate))
            get_cpu = self._cpu(server.pid) - daphne_before
            self.stdout.write(
                f"daphne CPU per answer: {daphne * 1000 / total:.1f} ms webhook POST,"
                f" {get_cpu * 1000 / total:.1f} ms trivial GET; resident memory: daphne"
                f" {self._rss(server.pid):.0f} MB, worker {self._rss(worker.pid):.0f} MB"
            )
        finally:
            for process in (server, worker):
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
            log.close()

    @staticmethod
    def _cpu(pid: int) -> float:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)

    @staticmethod
    def _rss(pid: int) -> float:
        return float(psutil.Process(pid).memory_info().rss) / 2**20

    @staticmethod
    def _wait_for(url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(url, timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise CommandError("the web server did not start")

    @staticmethod
    def _wait_ingested(tenant: Tenant, total: int, started: float) -> tuple[int, float]:
        """(messages stored, seconds from the first post to the last commit seen)."""
        stored, seen_at, quiet_since = 0, time.monotonic(), time.monotonic()
        while stored < total and time.monotonic() - quiet_since < 30:
            time.sleep(0.2)
            with tenant_context(tenant.pk):
                now = Message.objects.filter(provider_id__startswith="wamid.BENCHL").count()
            if now != stored:
                stored, seen_at, quiet_since = now, time.monotonic(), time.monotonic()
        return stored, seen_at - started

    def _answer_alone(self, tenant: Tenant, count: int) -> None:
        """Statements and CPU of the webhook's answer in this process: the fast path's
        delivery (``deliver_on_thread``) without a server, on this thread's one connection.
        The drains it enqueues are not run; the events it stored are removed after."""
        counter = StatementCounter()
        secret = settings.META_APP_SECRET
        cpu = 0.0
        for n in range(count + 1):
            raw = webhook(n, "A")
            signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            started = time.process_time()
            with connection.execute_wrapper(counter) if n else nullcontext():  # n=0 warms up
                answer = deliver_on_thread(raw, signature)
            cpu += (time.process_time() - started) if n else 0.0
            if answer.status != 200:
                raise CommandError(f"the webhook answered {answer.status}")
        with tenant_context(tenant.pk):
            MetaWebhookEvent.objects.filter(status=MetaWebhookEvent.Status.RECEIVED).delete()
        self.stdout.write(
            f"answer alone: {counter.count / count:.1f} statements and {cpu * 1000 / count:.2f} ms"
            f" CPU per webhook = {count / cpu:.0f} answers/s per core (no server)"
        )

    def _drain(self, tenant: Tenant, count: int) -> None:
        """Stored events filed by ``events_drain`` here: statements and CPU per message."""
        with tenant_context(tenant.pk):
            account = ChannelAccount.objects.get()
            MetaWebhookEvent.objects.bulk_create(
                MetaWebhookEvent(
                    tenant=tenant, account=account, object="whatsapp_business_account",
                    entry=(e := entry(n, "D")),
                    digest=entry_digest("whatsapp_business_account", e),
                )
                for n in range(count)
            )  # fmt: skip
            counter = StatementCounter()
            cpu, wall = time.process_time(), time.perf_counter()
            with connection.execute_wrapper(counter):
                drained = events_drain()
                while drained.more:
                    drained = events_drain()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            stored = Message.objects.filter(provider_id__startswith="wamid.BENCHD").count()
        self.stdout.write(
            f"drain: {stored}/{count} messages in {wall:.1f}s, {stored / cpu:.0f} msg/s per core"
            f" of this process (CPU {cpu:.1f}s), {counter.count / max(stored, 1):.2f} statements"
            f" per message"
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
