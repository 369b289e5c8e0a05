"""Benchmark of the exports. Not part of the test suite.

Seeds a dedicated tenant ("bench-exports") with N messages (default 1,000,000) spread over
the last 50 days on tickets of every channel, then exports all of them to CSV and to XLSX,
each in a fresh child process (``--run-job``) so its peak RSS is the export's own, and prints
rows/s, the file size and the peak RSS. Targets: CSV >= 50,000 rows/s with peak RSS < 200 MB.

    DEBUG=1 python -m helpdesk.devservices -- python manage.py bench_exports --messages 200000

The rows are generated inside PostgreSQL (``INSERT ... SELECT generate_series``) in the bypass
context, which the row-level security policies' WITH CHECK accepts. --keep leaves the tenant
in place; a later run with the same --messages reuses it.
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from exports.models import ExportJob, ExportStatus
from exports.services import export_run, job_path
from helpdesk.dbroles import as_owner
from helpdesk.models import Role, Tenant, User
from helpdesk.services import tenant_bot, tenant_create
from helpdesk.tenancy import bypass_context, tenant_context

SLUG = "bench-exports"
NAME = "Bench exportaciones"
DAYS = 50
MESSAGES_PER_TICKET = 5
TEXTS = [
    "Hola, quería saber el estado de mi pedido, el número es 4452-A y no me ha llegado.",
    "Buenas tardes, necesito cambiar la dirección de despacho para mañana por favor.",
    "Gracias por escribirnos. Revisamos tu caso y te respondemos dentro del día.",
    "¿Tienen stock de la talla M en color azul? La página dice agotado.",
    "Tu pedido fue despachado hoy y llega en 48 horas hábiles. Saludos, equipo de soporte.",
    "Me cobraron dos veces la misma compra, adjunto el comprobante de la tarjeta.",
    "=SUMA(1;1) esto lo escribió un cliente para probar",
    "Perfecto, muchas gracias por la ayuda, quedo atento.",
]
KINDS = [k.value for k in ChannelKind]
TARGET_ROWS_PER_S = 50_000
TARGET_RSS_MB = 200


def _rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Seed N messages in a bench tenant and measure the CSV and XLSX exports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument("--formats", default="csv,xlsx")
        parser.add_argument("--keep", action="store_true", help="keep (and reuse) the tenant")
        parser.add_argument("--run-job", type=int, help="internal: run one export job")

    def out(self, line: str = "") -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args: Any, **o: Any) -> None:
        if o["run_job"]:
            self._child(o["run_job"])
            return
        if o["messages"] < MESSAGES_PER_TICKET:
            raise CommandError(f"--messages must be at least {MESSAGES_PER_TICKET}")
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.out("unapplied migrations: running migrate first")
            call_command("migrate", interactive=False, verbosity=0)
        one, five, _ = os.getloadavg()
        self.out(f"load average: {one:.2f} (1 min), {five:.2f} (5 min), {os.cpu_count()} CPUs")
        tenant = self._prepare(o["messages"], keep=o["keep"])
        try:
            for fmt in o["formats"].split(","):
                self._measure(tenant, fmt.strip())
        finally:
            if not o["keep"]:
                self._drop(tenant.pk)

    # --- the export, in a child process --------------------------------------------------------

    def _measure(self, tenant: Tenant, fmt: str) -> None:
        with tenant_context(tenant.pk):
            analyst = User.objects.get(email=f"analyst@{SLUG}.invalid")
            today = timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.time_zone))
            job = ExportJob.objects.create(
                tenant=tenant,
                created_by=analyst,
                kind="messages",
                format=fmt,
                filters={},
                date_from=today - datetime.timedelta(days=DAYS + 1),
                date_to=today,
                expires_at=timezone.now() + datetime.timedelta(days=1),
            )
        started = time.perf_counter()
        child = subprocess.run(  # noqa: S603 - our own command, our own arguments
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "bench_exports",
                "--run-job",
                str(job.pk),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if child.returncode != 0:
            raise CommandError(f"the export child failed:\n{child.stderr[-3000:]}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        rate = result["rows"] / result["seconds"]
        self.out(f"\n== {fmt.upper()} export of {result['rows']:,} message rows")
        self.out(f"export time     {result['seconds']:8.1f} s   (child process wall {wall:.1f} s)")
        self.out(f"rows/s          {rate:10,.0f}")
        self.out(f"file size       {result['size'] / 1e6:8.1f} MB")
        self.out(f"RSS before      {result['rss_before_mb']:8.1f} MB (Django loaded)")
        self.out(f"peak RSS        {result['peak_rss_mb']:8.1f} MB")
        if fmt == "csv":
            ok = rate >= TARGET_ROWS_PER_S and result["peak_rss_mb"] < TARGET_RSS_MB
            self.out(
                f"target          >= {TARGET_ROWS_PER_S:,} rows/s, < {TARGET_RSS_MB} MB: "
                + ("met" if ok else "NOT met")
            )
        with tenant_context(tenant.pk):
            done = ExportJob.objects.get(pk=job.pk)
            job_path(done).unlink(missing_ok=True)

    def _child(self, job_id: int) -> None:
        with bypass_context():
            job = ExportJob.all_tenants.get(pk=job_id)
        with tenant_context(job.tenant_id):
            before = _rss_mb("VmRSS")
            started = time.perf_counter()
            done = export_run(job_id=job_id)
            seconds = time.perf_counter() - started
        if done is None or done.status != ExportStatus.DONE:
            raise CommandError(f"export failed: {done and done.error}")
        self.out(
            json.dumps(
                {
                    "rows": done.row_count,
                    "seconds": seconds,
                    "size": done.size,
                    "rss_before_mb": before,
                    "peak_rss_mb": _rss_mb("VmHWM"),
                }
            )
        )

    # --- seeding ---------------------------------------------------------------------------

    def _prepare(self, messages: int, *, keep: bool) -> Tenant:
        with bypass_context():
            existing = Tenant.objects.filter(slug=SLUG).first()
        if existing is not None and existing.name != NAME:
            raise CommandError(f"a tenant '{SLUG}' exists and is not this benchmark's: refusing")
        if existing is not None:
            with bypass_context(), connection.cursor() as c:
                c.execute(
                    "SELECT count(*) FROM tickets_message WHERE tenant_id = %s", [existing.pk]
                )
                (count,) = c.fetchone() or (0,)
            if keep and count == messages:
                self.out(f"reusing the kept bench tenant ({count:,} messages)")
                return existing
            self.out("a previous bench tenant exists: dropping it")
            self._drop(existing.pk)
        started = time.perf_counter()
        tenant = self._seed(messages)
        self.out(f"seeded {messages:,} messages in {time.perf_counter() - started:.1f} s")
        return tenant

    def _seed(self, messages: int) -> Tenant:
        tenant = tenant_create(name=NAME, slug=SLUG)
        with tenant_context(tenant.pk):
            User.objects.create_user(
                email=f"analyst@{SLUG}.invalid", name="Analista", tenant=tenant, role=Role.ANALYST
            )
            agents = [
                User.objects.create_user(
                    email=f"agent{i}@{SLUG}.invalid", name=f"Ejecutivo {i}", tenant=tenant
                ).pk
                for i in range(5)
            ]
            bot = tenant_bot(tenant).pk
            accounts = [
                ChannelAccount.objects.create(kind=kind, name=f"Cuenta {kind}").pk for kind in KINDS
            ]
        tickets = max(1, messages // MESSAGES_PER_TICKET)
        customers = max(1, tickets // 3)
        params: dict[str, Any] = {
            "t": tenant.pk,
            "customers": customers,
            "tickets": tickets,
            "messages": messages,
            "accounts": accounts,
            "agents": agents,
            "bot": bot,
            "texts": TEXTS,
            "span": DAYS * 86_400,
        }
        with bypass_context(), connection.cursor() as c:
            c.execute("SET synchronous_commit TO off")
            for sql in SEED_SQL:
                c.execute(sql, params)
            c.execute("RESET synchronous_commit")
        with as_owner(), connection.cursor() as c:
            c.execute("VACUUM (ANALYZE) tickets_customer, tickets_ticket, tickets_message")
            c.execute("ANALYZE tickets_attachment, tickets_customeridentity")
        return tenant

    def _drop(self, tenant_id: int) -> None:
        for table in (
            "exports_exportjob",
            "tickets_attachment",
            "tickets_message",
            "tickets_ticket",
            "tickets_customeridentity",
            "tickets_customer",
        ):
            with bypass_context(), connection.cursor() as c:
                c.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])  # noqa: S608
        with bypass_context():
            Tenant.objects.filter(pk=tenant_id).delete()
        self.out("bench tenant dropped")


# Rows made by PostgreSQL itself: customers with an identity each, tickets over the accounts,
# messages over the tickets (in and out, some public, some failed), 1 in 50 with an attachment.
SEED_SQL = [
    """
    INSERT INTO tickets_customer (tenant_id, name, rut, metadata, bot_disabled, created_at)
    SELECT %(t)s, 'Cliente ' || g, '', '{}', false, now()
    FROM generate_series(1, %(customers)s) g
    """,
    """
    INSERT INTO tickets_customeridentity (tenant_id, customer_id, kind, value, display)
    SELECT %(t)s, c.id, 'email', 'cliente' || c.id || '@example.test', ''
    FROM tickets_customer c WHERE c.tenant_id = %(t)s
    """,
    """
    WITH c AS (SELECT array_agg(id ORDER BY id) AS ids FROM tickets_customer
               WHERE tenant_id = %(t)s)
    INSERT INTO tickets_ticket (
        tenant_id, number, customer_id, account_id, status, assignee_id, important, sentiment,
        addressed, awaiting_response, has_comments, metadata, subject, last_message_preview,
        created_at, updated_at, sla_breached, bot_stage, bot_attempts, escalated_to)
    SELECT %(t)s, g, c.ids[1 + g %% array_length(c.ids, 1)],
        (%(accounts)s::bigint[])[1 + g %% array_length(%(accounts)s::bigint[], 1)],
        (ARRAY['open', 'closed', 'ignored'])[1 + g %% 3],
        (%(agents)s::bigint[])[1 + g %% array_length(%(agents)s::bigint[], 1)],
        g %% 17 = 0, 'neutral', g %% 2 = 0, g %% 3 = 0, false, '{}', '', '',
        now() - make_interval(secs => (g::float8 / %(tickets)s) * %(span)s),
        now() - make_interval(secs => (g::float8 / %(tickets)s) * %(span)s) + interval '1 hour',
        false, '', 0, ''
    FROM generate_series(1, %(tickets)s) g, c
    """,
    """
    INSERT INTO tickets_message (
        tenant_id, ticket_id, account_id, direction, is_public, author_kind, author_id, text,
        html, is_mention, status, failure_reason, send_attempts, created_at)
    SELECT %(t)s, t.id, t.account_id,
        CASE WHEN g %% 2 = 0 THEN 'in' ELSE 'out' END,
        g %% 11 = 0,
        CASE WHEN g %% 2 = 0 THEN 'customer' WHEN g %% 7 = 1 THEN 'bot' ELSE 'agent' END,
        CASE WHEN g %% 2 = 0 THEN NULL WHEN g %% 7 = 1 THEN %(bot)s ELSE t.assignee_id END,
        (%(texts)s::text[])[1 + g %% array_length(%(texts)s::text[], 1)],
        '', g %% 23 = 0,
        CASE WHEN g %% 2 = 0 THEN 'received' WHEN g %% 97 = 1 THEN 'failed' ELSE 'delivered' END,
        CASE WHEN g %% 2 = 1 AND g %% 97 = 1 THEN 'Ventana de 24 horas cerrada' ELSE '' END,
        0,
        t.created_at + make_interval(mins => g %% %(per)s)
    FROM generate_series(0, %(messages)s - 1) g
    JOIN tickets_ticket t ON t.tenant_id = %(t)s
        AND t.number = 1 + (g / %(per)s) %% %(tickets)s
    """.replace("%(per)s", str(MESSAGES_PER_TICKET)),
    """
    INSERT INTO tickets_attachment (tenant_id, message_id, token, file, name, size,
        content_type, sha256, content_id)
    SELECT %(t)s, m.id, md5(random()::text || m.id), 'attachments/bench',
        'boleta-' || m.id || '.pdf', 1000, 'application/pdf', '', ''
    FROM tickets_message m WHERE m.tenant_id = %(t)s AND m.id %% 50 = 0
    """,
]
