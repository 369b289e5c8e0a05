"""Benchmark of Analítica at scale. Not part of the test suite.

Seeds a dedicated tenant ("bench-analytics") set-based with SQL (generate_series straight into
the tables, in the bypass context: no COPY, which row-level security refuses), recomputes its
rollups, then prints:

(a) the rebuild: tickets per second of ``manage.py analytics_rebuild``;
(b) GET /analytics/ for the last 30 days, a custom 61-day period and that period narrowed to
    one channel, one account and one department: p50 / p95 server time and the query count
    (target p95 < 300 ms), idle and then under load (``--load`` other processes reading the
    unfiltered page without pause), each variant with its ratio to the unfiltered 61 days;
(c) the cost of keeping the rollups current: N customer messages received through the
    ticket services, then one beat run; milliseconds and queries per ingested message.

    DEBUG=1 python -m helpdesk.devservices -- python manage.py bench_analytics \\
        --tickets 1000000 --messages-per-ticket 5

--keep leaves the tenant (a later run with the same --tickets reuses it).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import ROLLUP_TABLES
from analytics.rollup import rollup_rebuild, rollup_refresh
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import (
    BusinessInterval,
    BusinessSchedule,
    Department,
    FieldType,
    MetadataField,
)
from helpdesk.dbroles import as_owner
from helpdesk.models import Role, Tenant, User
from helpdesk.services import tenant_create
from helpdesk.tenancy import bypass_context, tenant_context
from tickets import services

SLUG = "bench-analytics"
TARGET_MS = 300.0
BASELINE = "61 days"  # the variant the others are compared with
ACCOUNTS = [
    (ChannelKind.WHATSAPP, "WhatsApp ventas", False),
    (ChannelKind.WHATSAPP, "WhatsApp soporte", False),
    (ChannelKind.EMAIL, "Correo soporte", True),
    (ChannelKind.EMAIL, "Correo ventas", True),
    (ChannelKind.WEBCHAT, "Chat web", False),
    (ChannelKind.FACEBOOK, "Facebook", False),
    (ChannelKind.INSTAGRAM, "Instagram", False),
]
AGENTS = 20


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


class Command(BaseCommand):
    help = "Seed a big tenant and measure Analítica (page time, rollup upkeep per message)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=1_000_000)
        parser.add_argument("--messages-per-ticket", type=int, default=5)
        parser.add_argument("--days", type=int, default=365, help="history spread over")
        parser.add_argument("--rounds", type=int, default=20)
        parser.add_argument("--ingest", type=int, default=200, help="messages for (c)")
        parser.add_argument("--keep", action="store_true")
        parser.add_argument(
            "--load", type=int, default=2, help="processes reading the page for 'under load'"
        )
        parser.add_argument(
            "--explain", action="store_true", help="print each panel's slowest query plan"
        )
        parser.add_argument(
            "--seed-only", action="store_true", help="seed and keep the tenant, measure nothing"
        )
        parser.add_argument(
            "--no-rebuild",
            action="store_true",
            help="a kept tenant: measure its rollups as they are",
        )

    def out(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args: Any, **o: Any) -> None:
        self.out(f"load average: {os.getloadavg()[0]:.1f} (other processes skew every figure)")
        tenant = self._tenant(o)
        if o["seed_only"]:
            return
        try:
            self._measure(tenant, o)
        finally:
            if not o["keep"]:
                self._drop(tenant.pk)

    # --- seeding ----------------------------------------------------------------------------

    def _tenant(self, o: dict[str, Any]) -> Tenant:
        with bypass_context():
            existing = Tenant.objects.filter(slug=SLUG).first()
            if existing is not None:
                from tickets.models import Ticket

                # The seeded tickets are numbers 1..n; (c) adds a few after them.
                seeded = Ticket.all_tenants.filter(tenant=existing, number__lte=o["tickets"])
                count = seeded.count()
                if count == o["tickets"]:
                    self.out(f"reusing the kept bench tenant ({count} tickets)")
                    return existing
                self.out("dropping a bench tenant of another size")
                self._drop(existing.pk)
        return self._seed(o)

    def _seed(self, o: dict[str, Any]) -> Tenant:
        n, per, days = o["tickets"], o["messages_per_ticket"], o["days"]
        started = time.perf_counter()
        tenant = tenant_create(name="Benchmark (bench_analytics)", slug=SLUG)
        with tenant_context(tenant.pk):
            agents = [
                User.objects.create_user(
                    email=f"agente{i}@{SLUG}.invalid",
                    name=f"Agente {i:02d}",
                    tenant=tenant,
                    role=Role.AGENT,
                    max_open_tickets=25,
                ).pk
                for i in range(AGENTS)
            ]
            office = BusinessSchedule.objects.create(name="Oficina", is_default=True)
            for weekday in range(5):
                BusinessInterval.objects.create(
                    schedule=office, weekday=weekday, start="09:00", end="18:00"
                )
            accounts = [
                ChannelAccount.objects.create(
                    kind=kind, name=name, sla_minutes=60, schedule=office if hours else None
                ).pk
                for kind, name, hours in ACCOUNTS
            ]
            departments = [
                Department.objects.create(name=d).pk for d in ("Ventas", "Soporte", "Postventa")
            ]
            MetadataField.objects.create(
                target=MetadataField.Target.TICKET,
                key="motivo",
                label="Motivo",
                field_type=FieldType.CHOICE,
                choices=["Consulta", "Reclamo", "Cambio", "Devolución"],
            )
        params = {
            "t": tenant.pk,
            "n": n,
            "per": per,
            "days": days,
            "nc": max(1000, n // 4),
            "agents": agents,
            "accounts": accounts,
            "departments": departments,
            "n_agents": len(agents),
        }
        with bypass_context(), transaction.atomic(), connection.cursor() as c:
            c.execute("SET LOCAL synchronous_commit TO off")
            c.execute("SET LOCAL work_mem TO '256MB'")
            c.execute("SELECT setseed(0.42)")
            for label, sql in SEED_SQL:
                step = time.perf_counter()
                c.execute(sql, params)
                self.out(f"  {label}: {c.rowcount} rows in {time.perf_counter() - step:.1f} s")
            c.execute(
                "INSERT INTO tickets_ticketcounter (tenant_id, last_number) VALUES (%(t)s, %(n)s)",
                params,
            )
        with as_owner(), connection.cursor() as c:
            for table in ("tickets_ticket", "tickets_message", "tickets_event", "tickets_customer"):
                c.execute(f"ANALYZE {table}")
        self.out(f"seeded {n} tickets, {n * per} messages in {time.perf_counter() - started:.0f} s")
        return tenant

    def _drop(self, tenant_id: int) -> None:
        with bypass_context(), connection.cursor() as c:
            for table in (
                *ROLLUP_TABLES,
                "analytics_rollupstate",
                "tickets_event",
                "tickets_message",
                "tickets_ticket",
                "tickets_customeridentity",
                "tickets_customer",
            ):
                c.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])  # noqa: S608
            Tenant.objects.filter(pk=tenant_id).delete()
        self.out("bench tenant dropped")

    # --- measuring ------------------------------------------------------------------------------

    def _measure(self, tenant: Tenant, o: dict[str, Any]) -> None:
        with tenant_context(tenant.pk):
            if not o["no_rebuild"]:
                self._rebuild(tenant)
            with as_owner(), connection.cursor() as c:  # fresh statistics (the owner may ANALYZE)
                for table in ROLLUP_TABLES:
                    c.execute(f"ANALYZE {table}")
            self._rows(tenant)
            analyst = User.objects.create_user(
                email=f"analista{time.time_ns()}@{SLUG}.invalid",
                name="Analista",
                tenant=tenant,
                role=Role.ANALYST,
            )
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(analyst)
        variants = self._variants(tenant)
        idle: dict[str, float] = {}
        for label, query in variants:
            idle[label] = self._page(client, label, query, o["rounds"], idle)
            self._panels(tenant, query, o["rounds"], o["explain"])
        if o["load"]:
            self._under_load(client, analyst.pk, variants, o["rounds"], o["load"])
        self._ingest(tenant, o["ingest"])

    def _rebuild(self, tenant: Tenant) -> None:
        started = time.perf_counter()
        count = rollup_rebuild(tenant_id=tenant.pk)
        took = time.perf_counter() - started
        self.out(f"(a) rebuild: {count} tickets in {took:.1f} s ({count / took:,.0f} tickets/s)")

    def _rows(self, tenant: Tenant) -> None:
        counts = []
        with connection.cursor() as c:
            for table in ROLLUP_TABLES:
                c.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own table names
                counts.append(f"{table} {c.fetchone()[0]:,}")
        self.out(f"    rollup rows: {', '.join(counts)}")

    def _variants(self, tenant: Tenant) -> list[tuple[str, str]]:
        today = timezone.now().astimezone(timezone.get_current_timezone()).date()
        start = today.fromordinal(today.toordinal() - 60)
        days = f"range=custom&from={start.isoformat()}&to={today.isoformat()}"
        with tenant_context(tenant.pk):
            account = ChannelAccount.objects.order_by("pk").values_list("pk", flat=True).first()
            department = Department.objects.order_by("pk").values_list("pk", flat=True).first()
        return [
            ("30 days", "range=30d"),
            (BASELINE, days),
            ("61 days, one channel", f"{days}&channel=email"),
            ("61 days, one account", f"{days}&account={account}"),
            ("61 days, one department", f"{days}&department={department}"),
        ]

    def _under_load(
        self,
        client: Client,
        analyst_id: int,
        variants: list[tuple[str, str]],
        rounds: int,
        readers: int,
    ) -> None:
        """The same pages while ``readers`` other processes (their own database connections)
        read the unfiltered page without pause: what a busy morning looks like."""
        import multiprocessing

        from django.db import connections

        baseline = dict(variants)[BASELINE]
        connections.close_all()  # a forked child must not share the parent's socket
        context = multiprocessing.get_context("fork")
        stop = context.Event()
        workers = [
            context.Process(target=_read_forever, args=(analyst_id, baseline, stop))
            for _ in range(readers)
        ]
        for worker in workers:
            worker.start()
        try:
            time.sleep(2)  # let them log in and reach their loop
            measured: dict[str, float] = {}
            for label, query in variants:
                name = f"{label}, under load ({readers} readers)"
                measured[label] = self._page(client, name, query, rounds, measured)
        finally:
            stop.set()
            for worker in workers:
                worker.join(30)

    def _page(
        self, client: Client, label: str, query: str, rounds: int, seen: dict[str, float]
    ) -> float:
        url = f"/analytics/?{query}"
        for _ in range(2):
            assert client.get(url).status_code == 200
        times = []
        for _ in range(rounds):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        p95 = pct(times, 95)
        load = os.getloadavg()[0]
        verdict = "OK" if p95 < TARGET_MS else "OVER"
        ratio = f", {p95 / seen[BASELINE]:.2f}x unfiltered" if BASELINE in seen else ""
        self.out(
            f"(b) /analytics/ {label}: p50 {pct(times, 50):.0f} ms, p95 {p95:.0f} ms "
            f"[{verdict} < {TARGET_MS:.0f}]{ratio}, {len(queries)} queries, load {load:.1f}"
        )
        return p95

    def _panels(self, tenant: Tenant, query: str, rounds: int, explain: bool) -> None:
        """Each panel alone: server time (p50 / p95), its queries, and what EXPLAIN ANALYZE
        says they cost in the database (the rest is Python: the chart, the table)."""
        from django.http import QueryDict

        from analytics.filters import FilterForm
        from analytics.panels import PANELS

        with tenant_context(tenant.pk):
            f = FilterForm(QueryDict(query), tenant=tenant).filters()
            for key, build in PANELS.items():
                times = []
                for _ in range(max(3, rounds // 2)):
                    with CaptureQueriesContext(connection) as captured:
                        started = time.perf_counter()
                        build(f, {})
                        times.append((time.perf_counter() - started) * 1000)
                plans = [self._explain(q["sql"]) for q in captured.captured_queries]
                db_ms = sum(ms for ms, _plan in plans)
                slowest = max(plans, default=(0.0, ""))
                top = slowest[1].splitlines()[0].strip() if slowest[1] else "-"
                self.out(
                    f"    {key:<15} p50 {pct(times, 50):5.0f} ms, p95 {pct(times, 95):5.0f} ms, "
                    f"{len(plans)} queries, EXPLAIN ANALYZE {db_ms:.1f} ms; slowest: {top}"
                )
                if explain and slowest[1]:
                    self.out("      " + slowest[1].replace("\n", "\n      "))

    def _explain(self, sql: str) -> tuple[float, str]:
        """(execution ms, plan text) of one captured statement (its parameters are inline)."""
        if not sql.lstrip().upper().startswith("SELECT"):
            return 0.0, ""
        with connection.cursor() as c:
            c.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            lines = [row[0] for row in c.fetchall()]
        ms = next(
            (float(line.split(":")[1].split()[0]) for line in lines if "Execution Time" in line),
            0.0,
        )
        return ms, "\n".join(lines)

    def _ingest(self, tenant: Tenant, n: int) -> None:
        if n <= 0:
            return
        with tenant_context(tenant.pk):
            rollup_refresh(tenant_id=tenant.pk)  # whatever changed before: not measured
            accounts = list(ChannelAccount.objects.order_by("pk"))
            started = time.perf_counter()
            for i in range(n):
                account = accounts[i % len(accounts)]
                services.message_receive(
                    account=account,
                    inbound=services.Inbound(
                        identity=f"bench-{i % (n // 2 or 1)}@example.test"
                        if account.kind == ChannelKind.EMAIL
                        else f"bench-{i % (n // 2 or 1)}",
                        text="Hola, ¿me ayudan?",
                    ),
                )
            receive_ms = (time.perf_counter() - started) * 1000
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                changed = rollup_refresh(tenant_id=tenant.pk)
                took = (time.perf_counter() - started) * 1000
            self.out(
                f"(c) upkeep: {n} messages received ({receive_ms / n:.1f} ms each through the "
                f"services); one beat run folded {changed} tickets in {took:.0f} ms = "
                f"{took / n:.2f} ms and {len(queries) / n:.2f} queries per ingested message"
            )
            started = time.perf_counter()
            rollup_refresh(tenant_id=tenant.pk)
            idle = (time.perf_counter() - started) * 1000
            self.out(f"    a run right after (the overlap re-read, nothing new): {idle:.0f} ms")


def _read_forever(analyst_id: int, query: str, stop: Any) -> None:
    """A reader process of ``_under_load``: the page again and again until told to stop."""
    from django.db import connections

    connections.close_all()  # inherited closed; open its own
    with bypass_context():
        analyst = User.objects.get(pk=analyst_id)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(analyst)
    while not stop.is_set():
        client.get(f"/analytics/?{query}")
    connections.close_all()


SEED_SQL = [
    (
        "customers",
        """INSERT INTO tickets_customer (tenant_id, name, rut, contact_email, metadata,
               bot_disabled, created_at)
           SELECT %(t)s, 'Cliente ' || g, '', '', '{}', false, now()
           FROM generate_series(1, %(nc)s) g""",
    ),
    (
        "tickets",
        """
        WITH c AS (
            SELECT array_agg(id ORDER BY id) AS ids FROM tickets_customer WHERE tenant_id = %(t)s
        ),
        s AS (
            SELECT g, random() r1, random() r2, random() r3, random() r4,
                   now() - interval '10 minutes'
                     - make_interval(secs => %(days)s * 86400.0 * (1 - g::float8 / %(n)s)) AS at
            FROM generate_series(1, %(n)s) g
        ),
        k AS (
            SELECT s.*, CASE WHEN g > %(n)s * 0.99 OR r1 < 0.004 THEN 'open'
                             WHEN r1 < 0.06 THEN 'ignored' ELSE 'closed' END AS st,
                   make_interval(secs => 60 + r3 * r3 * 14400) AS wait
            FROM s
        )
        INSERT INTO tickets_ticket (tenant_id, number, customer_id, account_id, status, assignee_id,
            department_id, important, sentiment, addressed, awaiting_response, has_comments,
            metadata, subject, last_message_preview, created_at, updated_at, closed_at,
            first_response_at, waiting_since, sla_due_at, sla_breached, escalated_to,
            bot_attempts, bot_stage, single_open)
        SELECT %(t)s, g, c.ids[1 + g %% array_length(c.ids, 1)],
               (%(accounts)s::bigint[])[
                   1 + (g::bigint * 7919) %% array_length(%(accounts)s::bigint[], 1)],
               st,
               CASE WHEN r2 < 0.1 THEN NULL ELSE (%(agents)s::bigint[])[1 + g %% %(n_agents)s] END,
               CASE WHEN r3 < 0.2 THEN NULL ELSE (%(departments)s::bigint[])[1 + g %% 3] END,
               false,
               CASE WHEN r4 < 0.15 THEN 'angry' WHEN r4 < 0.35 THEN 'happy' ELSE 'neutral' END,
               st <> 'ignored', st = 'open' AND r2 < 0.6, false,
               CASE WHEN r2 > 0.7 THEN jsonb_build_object('motivo',
                   (ARRAY['Consulta','Reclamo','Cambio','Devolución'])[1 + g %% 4]) ELSE '{}' END,
               '', 'Hola', at,
               LEAST(now() - interval '5 minutes', at + wait * 2),
               CASE WHEN st <> 'open' THEN at + wait * 2 END,
               CASE WHEN st <> 'ignored' THEN at + wait END,
               CASE WHEN st = 'open' AND r2 < 0.6 THEN at END,
               CASE WHEN st = 'open' AND r2 < 0.6 THEN at + interval '1 hour' END,
               false, '', 0, '', false
        FROM k, c
        """,
    ),
    (
        "messages",
        """
        INSERT INTO tickets_message (tenant_id, ticket_id, account_id, direction, is_public,
            author_kind, author_id, text, html, is_mention, status, failure_reason,
            send_attempts, is_automatic, created_at)
        SELECT t.tenant_id, t.id, t.account_id,
               CASE WHEN k %% 2 = 1 OR t.status = 'ignored' THEN 'in' ELSE 'out' END, false,
               CASE WHEN k %% 2 = 1 OR t.status = 'ignored' THEN 'customer' ELSE 'agent' END,
               CASE WHEN k %% 2 = 1 OR t.status = 'ignored' THEN NULL
                    ELSE coalesce(t.assignee_id, (%(agents)s::bigint[])[1]) END,
               'Hola', '', false, 'received', '', 0, false,
               LEAST(now() - interval '6 minutes',
                     t.created_at + (k - 1) * (coalesce(t.first_response_at,
                                                        t.created_at + interval '1 hour')
                                               - t.created_at))
        FROM tickets_ticket t CROSS JOIN generate_series(1, %(per)s) k
        WHERE t.tenant_id = %(t)s
        """,
    ),
    (
        "events",
        """
        INSERT INTO tickets_event (tenant_id, ticket_id, kind, actor_kind, data, created_at)
        SELECT tenant_id, id, 'status', 'user',
               jsonb_build_object('before', 'open', 'after', status), closed_at
        FROM tickets_ticket WHERE tenant_id = %(t)s AND status <> 'open'
        UNION ALL
        SELECT tenant_id, id, 'assigned', 'system',
               jsonb_build_object('before', NULL, 'after', assignee_id),
               created_at + interval '1 minute'
        FROM tickets_ticket WHERE tenant_id = %(t)s AND assignee_id IS NOT NULL
        UNION ALL
        SELECT tenant_id, id, 'sla', 'user',
               jsonb_build_object('response_seconds',
                                  extract(epoch FROM first_response_at - created_at)::int,
                                  'late', first_response_at - created_at > interval '1 hour'),
               first_response_at
        FROM tickets_ticket WHERE tenant_id = %(t)s AND first_response_at IS NOT NULL
        """,
    ),
]
