"""Benchmark of the column inbox at scale. Not part of the test suite.

Seeds a dedicated tenant ("bench") with customers, tickets and messages, gives one agent a
set of columns, then measures and prints:

(a) GET /inbox/ for that agent (every column's first page): p50/p95 server time and queries;
(b) GET /inbox/columns/<id>/page/?after=<cursor>, the next page of each column;
(c) EXPLAIN (ANALYZE) of a column's listing query (it must be an index scan);
(d) fan-out: one ticket event (``tickets.live.publish_ticket``) reaching N inbox websockets:
    how long until each socket and the last one has the card, and how many sockets missed an
    event (nothing within 30 s) or had it late (over the 500 ms target), counted, never fatal.

Quick check (a throwaway embedded database under $HELPDESK_VAR_DIR)::

    DEBUG=1 python -m helpdesk.devservices -- python manage.py bench_inbox \\
        --tickets 20000 --messages 100000 --subscribers 50

--keep leaves the tenant in place afterwards, and a later --keep run with the same --tickets
reuses it (re-ANALYZEd) instead of seeding again. --layer pubsub runs the fan-out on
channels_redis's RedisPubSubChannelLayer for comparison. The machine's load average is
printed: other processes on it skew every figure.

Loading (COPY through temporary tables, because of row-level security) is explained in
:mod:`devtools.bench.inbox_seed`, which seeds and drops the tenant.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from asgiref.sync import async_to_sync, sync_to_async
from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from devtools.bench.inbox_seed import (
    TARGET_FANOUT_MS,
    TARGET_INBOX_MS,
    TARGET_PAGE_MS,
    InboxSeeder,
    Seeded,
    column_presets,
    verdict,
)
from devtools.bench.measure import pct
from helpdesk.models import User
from helpdesk.tenancy import tenant_context
from tickets.inbox import column_next_page, inbox_columns
from tickets.models import Column, ColumnKind, Ticket


class Command(InboxSeeder):
    help = "Seed a big 'bench' tenant and measure the inbox page, next pages and live fan-out."
    tenant_id: int

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=1_000_000)
        parser.add_argument("--messages", type=int, default=5_000_000)
        parser.add_argument(
            "--customers", type=int, default=0, help="default: tickets/5, at most 200 000"
        )
        parser.add_argument("--subscribers", type=int, default=500)
        parser.add_argument("--columns", type=int, default=8)
        parser.add_argument("--rounds", type=int, default=30)
        parser.add_argument("--events", type=int, default=10, help="fan-out events measured")
        parser.add_argument(
            "--layer",
            choices=["configured", "pubsub"],
            default="configured",
            help="channel layer of the fan-out: the configured one, or channels_redis's pub/sub",
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="keep the bench tenant afterwards; reuse a kept one of the same --tickets",
        )

    # --- the run ---------------------------------------------------------------------------

    def handle(self, *args: Any, **o: Any) -> None:
        if min(o["tickets"], o["columns"], o["rounds"], o["events"], o["subscribers"]) < 1:
            raise CommandError("--tickets, --columns, --rounds, --events, --subscribers: >= 1")
        if o["messages"] < o["tickets"]:
            raise CommandError("--messages must be at least --tickets (one per ticket)")
        if o["columns"] > len(column_presets()):
            raise CommandError(f"--columns is at most {len(column_presets())}")
        self._migrate_if_needed()
        self.out(f"PostgreSQL: {self._scalar('SHOW server_version')}, role {self._role()}")
        self.load_average("start")
        seeded: Seeded | None = None
        try:
            seeded = self._prepare(o)
            self.tenant_id = seeded.tenant.pk
            self._columns(seeded.agent, o["columns"])
            self._measure_inbox(seeded.agent, o["rounds"])
            self._measure_next_pages(seeded.agent, o["rounds"])
            self._explain(seeded.agent)
            self._measure_fanout(seeded, o["subscribers"], o["events"], o["layer"])
        finally:
            if seeded is not None and not o["keep"]:
                started = time.perf_counter()
                self._drop(seeded.tenant.pk)
                self.out(f"\nbench tenant dropped in {time.perf_counter() - started:.1f} s")
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.out(f"peak RSS of this process: {rss:.0f} MB")

    def _columns(self, agent: User, n: int) -> None:
        with tenant_context(self.tenant_id):
            Column.objects.filter(user=agent).delete()
            for position, (name, filters, sort) in enumerate(column_presets()[:n]):
                Column.objects.create(
                    tenant_id=agent.tenant_id,
                    user=agent,
                    name=name,
                    position=position,
                    kind=ColumnKind.TICKETS,
                    filters=filters,
                    sort=sort,
                )

    # --- (a) the inbox page ----------------------------------------------------------------------

    def _client(self, agent: User) -> Client:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(agent)
        return client

    def _measure_inbox(self, agent: User, rounds: int) -> None:
        self.head("(a) inbox page: GET /inbox/")
        self.load_average("this step")
        client = self._client(agent)
        for _ in range(3):  # warm-up: templates compiled, caches filled
            response = client.get("/inbox/")
            if response.status_code != 200:
                raise CommandError(f"GET /inbox/ answered {response.status_code}")
        times, cpu, queries, sql = [], [], [], []
        cards = 0
        for _ in range(rounds):
            with CaptureQueriesContext(connection) as ctx:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get("/inbox/")
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            queries.append(len(ctx.captured_queries))
            sql.append(sum(float(q["time"] or 0) for q in ctx.captured_queries) * 1000)
            cards = response.content.count(b"<article")
        data = []
        with tenant_context(self.tenant_id):
            for _ in range(rounds):
                started = time.perf_counter()
                views = inbox_columns(agent)
                data.append((time.perf_counter() - started) * 1000)
        per_column = ", ".join(f"{v.column.name}={len(v.items)}" for v in views)
        self.out(f"columns: {len(views)}; cards on the page: {cards} ({per_column})")
        self.out(f"page size: {len(response.content) / 1024:.0f} KiB; rounds: {rounds}")
        self.out(
            f"server time  p50 {pct(times, 50):7.1f} ms   p95 {pct(times, 95):7.1f} ms"
            f"   target p95 < {TARGET_INBOX_MS:.0f} ms: {verdict(pct(times, 95), TARGET_INBOX_MS)}"
        )
        self.out(
            f"CPU time of this (Django) process p50 {pct(cpu, 50):.1f} ms, p95 {pct(cpu, 95):.1f}"
            " ms: the server time without waiting for PostgreSQL or for other processes"
        )
        self.out(
            f"queries      {min(queries)}..{max(queries)} per page; SQL time p50"
            f" {pct(sql, 50):.1f} ms, p95 {pct(sql, 95):.1f} ms"
        )
        self.out(
            f"inbox_columns() alone (the column queries + loading the tickets): p50"
            f" {pct(data, 50):.1f} ms, p95 {pct(data, 95):.1f} ms; the rest is the view,"
            " middleware and template rendering"
        )

    # --- (b) next pages --------------------------------------------------------------------------

    def _measure_next_pages(self, agent: User, rounds: int) -> None:
        self.head("(b) next page of each column: GET /inbox/columns/<id>/page/?after=…")
        client = self._client(agent)
        with tenant_context(self.tenant_id):
            views = inbox_columns(agent)
        worst = 0.0
        self.out(
            f"{'column':<20} {'cards':>5} {'view p50':>9} {'view p95':>9} {'CPU p95':>9}"
            f" {'query p95':>10}"
        )
        for v in views:
            if not v.next_cursor:
                self.out(f"{v.column.name:<20} (fits in one page: no next page)")
                continue
            url = f"/inbox/columns/{v.column.pk}/page/?after={quote(v.next_cursor)}"
            response = client.get(url)  # warm-up
            if response.status_code != 200:
                raise CommandError(f"GET {url} answered {response.status_code}")
            cards = response.content.count(b"<article")
            view_ms, cpu_ms, query_ms = [], [], []
            for _ in range(rounds):
                started, started_cpu = time.perf_counter(), time.process_time()
                client.get(url)
                view_ms.append((time.perf_counter() - started) * 1000)
                cpu_ms.append((time.process_time() - started_cpu) * 1000)
            with tenant_context(self.tenant_id):
                for _ in range(rounds):
                    started = time.perf_counter()
                    column_next_page(v.column, agent, v.next_cursor)
                    query_ms.append((time.perf_counter() - started) * 1000)
            worst = max(worst, pct(view_ms, 95))
            self.out(
                f"{v.column.name:<20} {cards:>5} {pct(view_ms, 50):7.1f}ms"
                f" {pct(view_ms, 95):7.1f}ms {pct(cpu_ms, 95):7.1f}ms {pct(query_ms, 95):8.1f}ms"
            )
        self.out(
            f"worst view p95 {worst:.1f} ms   target < {TARGET_PAGE_MS:.0f} ms:"
            f" {verdict(worst, TARGET_PAGE_MS)}"
        )

    # --- (c) plans -------------------------------------------------------------------------------

    def _explain(self, agent: User) -> None:
        """EXPLAIN the very SQL the inbox runs (captured, then explained with its values)."""
        self.head("(c) EXPLAIN (ANALYZE, BUFFERS) of the listing queries")
        with tenant_context(self.tenant_id):
            with CaptureQueriesContext(connection) as first:
                views = inbox_columns(agent)
            union = next(q["sql"] for q in first.captured_queries if "UNION ALL" in q["sql"])
            view = next((v for v in views if v.next_cursor), views[0])
            with CaptureQueriesContext(connection) as page:
                column_next_page(view.column, agent, view.next_cursor)
            listing = _listing(page.captured_queries)
            self.out(f"-- next page of '{view.column.name}' {view.column.filters}, sort")
            self.out(f"   {view.column.sort} (column_next_page; RLS InitPlans left out):")
            for line in self._plan(listing)[:16]:
                self.out(f"   {line}")
            self.out("-- first page of every column (the UNION ALL of inbox_columns), scans only:")
            for line in self._plan(union):
                if "Scan" in line or "Execution Time" in line or "Sort  " in line:
                    self.out(f"   {line.strip()}")
            self.out("-- next page of every column: execution time, how the tickets are read")
            for v in views:
                if not v.next_cursor:
                    continue
                with CaptureQueriesContext(connection) as page:
                    column_next_page(v.column, agent, v.next_cursor)
                plan = self._plan(_listing(page.captured_queries))
                took = next((ln for ln in plan if ln.startswith("Execution Time")), "?")
                scan = next((ln for ln in plan if "Scan" in ln and "tickets_ticket" in ln), "?")
                scan = scan.strip().removeprefix("->  ").split("  (")[0]
                rows = next((ln for ln in plan if "Scan" in ln and "tickets_ticket" in ln), "")
                read = rows.split("actual time=")[-1].split("rows=")[-1].split()[0] if rows else "?"
                sort = " + Sort" if any(ln.strip().startswith("->  Sort") for ln in plan) else ""
                self.out(
                    f"   {v.column.name:<18} {took.removeprefix('Execution Time: '):>11}"
                    f"  {scan} ({read} rows read){sort}"
                )

    def _plan(self, sql: str) -> list[str]:
        with connection.cursor() as c:
            c.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            lines = [row[0] for row in c.fetchall()]
        kept, skip = [], False
        for line in lines:
            if line.strip().startswith("InitPlan"):
                skip = True  # the policy's current_setting() lookups, evaluated once
                continue
            if skip and line.strip().startswith("->  Result"):
                skip = False
                continue
            skip = False
            kept.append(line)
        return kept

    def _patch_channel_layer(self, layer: str) -> None:
        """redis-py 8 gives every connection a 5 s socket_timeout by default, the same as
        channels_redis's blocking BZPOPMIN: a consumer that receives nothing for ~5 s dies with
        redis.exceptions.TimeoutError (django/channels_redis#422). Until the settings pass
        socket_timeout=None, the benchmark's own layer does, and says so. ``layer="pubsub"``
        measures channels_redis's RedisPubSubChannelLayer instead (one PUBLISH per group
        message, dispatched to the sockets by each process) for comparison."""
        import redis
        from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
        from django.conf import settings
        from django.utils.module_loading import import_string

        config: dict[str, Any] = settings.CHANNEL_LAYERS[DEFAULT_CHANNEL_LAYER]
        backend = config["BACKEND"]
        if layer == "pubsub":
            backend = "channels_redis.pubsub.RedisPubSubChannelLayer"
        hosts = config.get("CONFIG", {}).get("hosts", [])
        old_redis = int(redis.__version__.split(".")[0]) < 8
        if backend == config["BACKEND"] and (
            old_redis or not all(isinstance(h, str) for h in hosts)
        ):
            self.out(f"channel layer: {backend}, as configured")
            return
        options = {
            **config["CONFIG"],
            "hosts": [{"address": h, "socket_timeout": None} for h in hosts],
        }
        channel_layers.set(DEFAULT_CHANNEL_LAYER, import_string(backend)(**options))
        self.out(
            f"channel layer: {backend}, hosts=[{{'address': REDIS_URL, 'socket_timeout': None}}]"
        )
        if not old_redis:
            self.out(
                f"NOTE: redis-py {redis.__version__}: with the configured hosts (the 5 s default"
                " socket_timeout) a consumer idle for 5 s dies (channels_redis#422)"
            )

    # --- (d) fan-out -----------------------------------------------------------------------------

    def _measure_fanout(self, seeded: Seeded, subscribers: int, events: int, layer: str) -> None:
        self.head(f"(d) fan-out: one ticket event to {subscribers} inbox websockets")
        self.load_average("this step")
        agent = seeded.agent
        client = self._client(agent)
        cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
        with tenant_context(self.tenant_id):
            ids = list(
                Ticket.objects.filter(assignee=agent, status="open", merged_into__isnull=True)
                .order_by("-updated_at")
                .values_list("pk", flat=True)[: events + 1]
            )
            n_columns = Column.objects.filter(user=agent).count()
        if not ids:
            self.out("the agent has no open ticket: nothing to publish")
            return
        self._patch_channel_layer(layer)
        run = async_to_sync(_fanout)(subscribers, cookie, ids, self.tenant_id, events, self.out)
        self.out(
            f"{subscribers} sockets x {n_columns} columns connected in {run.connect_s:.1f} s;"
            f" {run.ready} had the warm-up event within {WARM_UP_S:.0f} s"
            f" (the last after {run.ready_s:.1f} s)"
        )
        expected = run.sockets * len(run.last_ms)
        self.out(
            f"deliveries: {expected} expected ({len(run.last_ms)} events x {run.sockets}"
            f" sockets), {run.missed} missed (nothing within {EVENT_TIMEOUT_S:.0f} s),"
            f" {run.late} late (> {TARGET_FANOUT_MS:.0f} ms), {run.dead} sockets died"
        )
        last = [ms for ms in run.last_ms if ms is not None]
        self.out(
            f"event -> last subscriber  p50 {pct(last, 50):7.1f} ms   p95"
            f" {pct(last, 95):7.1f} ms   target < {TARGET_FANOUT_MS:.0f} ms:"
            f" {verdict(pct(last, 95), TARGET_FANOUT_MS) if last else 'MISSED'}"
            f"  ({len(last)} of {len(run.last_ms)} events reached every socket)"
        )
        self.out(
            f"event -> each subscriber  p50 {pct(run.each_ms, 50):7.1f} ms   p95"
            f" {pct(run.each_ms, 95):7.1f} ms   ({len(run.each_ms)} deliveries)"
        )
        self.out(
            f"of which publish_ticket() itself (query, card render, group_send): p50"
            f" {pct(run.publish_ms, 50):.1f} ms, p95 {pct(run.publish_ms, 95):.1f} ms"
        )


def _listing(captured: list[dict[str, Any]]) -> str:
    """The keyset query of a next page (its customers are read after it)."""
    return next(q["sql"] for q in reversed(captured) if 'FROM "tickets_ticket"' in q["sql"])


WARM_UP_S = 60.0  # how long the sockets get to answer a first event (they load their columns)
EVENT_TIMEOUT_S = 30.0  # a socket without the event's card after this has missed it


@dataclass
class FanoutRun:
    """What the fan-out measured: misses and late deliveries are figures, never a crash."""

    sockets: int
    connect_s: float = 0.0
    ready: int = 0  # sockets that had the warm-up event within WARM_UP_S
    ready_s: float = 0.0
    last_ms: list[float | None] = field(default_factory=list)  # per event; None: a miss
    each_ms: list[float] = field(default_factory=list)  # per delivery
    publish_ms: list[float] = field(default_factory=list)
    missed: int = 0
    late: int = 0
    dead: int = 0  # sockets whose consumer stopped


async def _card_of(comm: Any, ticket_id: int, deadline: float) -> float | None:
    """When this socket got a frame with the ticket's card (other frames, the bell's, are
    skipped), or None by the deadline. Reads the communicator's queue itself: its own
    receive_from() cancels the consumer on a timeout, so one slow socket used to end the run
    with a CancelledError instead of counting as a miss."""
    needle = f"-t{ticket_id}".encode()
    while True:
        left = deadline - time.perf_counter()
        if left <= 0 or comm.future.done():
            return None
        try:
            message = await asyncio.wait_for(comm.output_queue.get(), left)
        except TimeoutError:
            return None
        text = (message.get("text") or "").encode()
        if needle + b'"' in text and b"<article" in text:
            return time.perf_counter()


async def _fanout(
    n: int,
    cookie: bytes,
    ticket_ids: list[int],
    tenant_id: int,
    events: int,
    out: Callable[[str], None],
) -> FanoutRun:
    """N inbox sockets in this loop; each event timed from publish_ticket() until each socket
    has its card. A socket without it within EVENT_TIMEOUT_S counts as a miss."""
    from channels.testing import WebsocketCommunicator

    from helpdesk.asgi import application
    from tickets.live import publish_ticket

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)]
    comms = [
        WebsocketCommunicator(application, "/ws/inbox/?inbox=1", headers=headers) for _ in range(n)
    ]
    run = FanoutRun(sockets=n)

    def publish(ticket_id: int) -> float:
        started = time.perf_counter()
        with tenant_context(tenant_id):
            publish_ticket(ticket_id)
        return (time.perf_counter() - started) * 1000

    async def round_trip(ticket_id: int, timeout: float) -> tuple[list[float | None], float, float]:
        deadline = time.perf_counter() + timeout
        tasks = [asyncio.create_task(_card_of(c, ticket_id, deadline)) for c in comms]
        await asyncio.sleep(0)  # every receiver is waiting before the event leaves
        started = time.perf_counter()
        publish_ms = await sync_to_async(publish)(ticket_id)
        arrived = await asyncio.gather(*tasks)
        return arrived, started, publish_ms

    started = time.perf_counter()
    for i in range(0, n, 25):
        results = await asyncio.gather(*(c.connect(timeout=120) for c in comms[i : i + 25]))
        refused = [r for r in results if not r[0]]
        if refused:
            raise CommandError(f"websocket refused: {refused[0]}")
    run.connect_s = time.perf_counter() - started
    # The warm-up: the first event once every socket is open (each loads its columns then).
    arrived, t0, _publish_ms = await round_trip(ticket_ids[0], WARM_UP_S)
    got = [a for a in arrived if a is not None]
    run.ready = len(got)
    run.ready_s = max(got) - t0 if got else float("nan")
    if run.ready < n:
        out(f"warm-up: {n - run.ready} of {n} sockets got nothing within {WARM_UP_S:.0f} s")
    try:
        for e in range(events):
            ticket_id = ticket_ids[(e + 1) % len(ticket_ids)]  # not the warm-up's ticket
            arrived, t0, publish_ms = await round_trip(ticket_id, EVENT_TIMEOUT_S)
            took = [(a - t0) * 1000 for a in arrived if a is not None]
            missing = n - len(took)
            run.missed += missing
            run.late += sum(1 for ms in took if ms > TARGET_FANOUT_MS)
            run.each_ms.extend(took)
            run.publish_ms.append(publish_ms)
            run.last_ms.append(max(took) if took and not missing else None)
            if missing:
                out(f"event {e}: {missing} sockets got nothing within {EVENT_TIMEOUT_S:.0f} s")
    finally:
        run.dead = sum(1 for c in comms if c.future.done())
        for i in range(0, n, 50):
            await asyncio.gather(
                *(c.disconnect(timeout=30) for c in comms[i : i + 50]), return_exceptions=True
            )
    return run
