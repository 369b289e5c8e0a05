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

Loading: PostgreSQL refuses ``COPY ... FROM`` into a table under row-level security ("COPY
FROM not supported with row-level security"), for the application role and, since the policies
are FORCEd, for the tables' owner too. So the rows are COPYed into temporary tables (the
session's own, without RLS) and moved with one ``INSERT ... SELECT`` each in the bypass
context, which the policies' WITH CHECK accepts. The command checks that first and says so.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import math
import os
import random
import resource
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import psycopg
from asgiref.sync import async_to_sync, sync_to_async
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from admin_config.models import Department
from channels_conn.kinds import ChannelKind
from channels_conn.models import ChannelAccount
from helpdesk.dbroles import as_owner
from helpdesk.models import Role, Tenant, User
from helpdesk.services import tenant_bot, tenant_create
from helpdesk.tenancy import bypass_context, tenant_context
from tickets.inbox import column_next_page, inbox_columns
from tickets.models import Column, ColumnKind, ColumnSort, Ticket, TicketCounter

SLUG = "bench"
NAME = "Benchmark (bench_inbox)"  # a "bench" tenant with another name is never touched
AGENTS = 20
SEED = 20250907
DAY = 86400.0

TARGET_INBOX_MS = 150.0
TARGET_PAGE_MS = 30.0
TARGET_FANOUT_MS = 500.0

# (kind, name, share of the tickets in %, SLA minutes)
ACCOUNTS = [
    (ChannelKind.WHATSAPP, "WhatsApp ventas", 25, 30),
    (ChannelKind.WHATSAPP, "WhatsApp soporte", 15, 60),
    (ChannelKind.EMAIL, "Correo soporte", 20, 240),
    (ChannelKind.EMAIL, "Correo ventas", 10, 240),
    (ChannelKind.WEBCHAT, "Chat web", 15, 30),
    (ChannelKind.FACEBOOK, "Facebook", 10, 120),
    (ChannelKind.INSTAGRAM, "Instagram", 5, 120),
]
DEPARTMENTS = ["Ventas", "Soporte", "Postventa"]
FIRST_NAMES = [
    "Ana", "Benjamín", "Camila", "Diego", "Elena", "Felipe", "Gabriela", "Héctor", "Isidora",
    "Joaquín", "Karina", "Luis", "María", "Nicolás", "Olivia", "Pablo", "Rocío", "Sebastián",
    "Trinidad", "Valentina",
]  # fmt: skip
LAST_NAMES = [
    "González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez",
    "Sepúlveda", "Morales", "Rodríguez", "López", "Fuentes", "Hernández", "Torres", "Araya",
    "Flores", "Espinoza", "Valenzuela",
]  # fmt: skip
TEXTS_IN = [
    "Hola, ¿en qué estado va mi pedido?",
    "No me ha llegado la boleta.",
    "Quiero cambiar la dirección de despacho.",
    "El producto llegó dañado, ¿cómo lo devuelvo?",
    "¿Tienen stock de la talla M?",
    "Llevo dos días esperando respuesta.",
    "Gracias, quedó solucionado.",
    "¿Puedo pagar en cuotas?",
]
TEXTS_OUT = [
    "Hola, gracias por escribirnos. Reviso tu caso y te respondo.",
    "Tu pedido va en camino, llega mañana.",
    "Te enviamos la boleta a tu correo.",
    "Listo, actualizamos la dirección.",
    "Lamentamos lo ocurrido; te enviamos la etiqueta de devolución.",
]


# --- the columns of the benchmarked agent --------------------------------------------------------


def column_presets() -> list[tuple[str, dict[str, Any], str]]:
    """The agent flow, the supervisor flow, then a channel, an SLA and a few more columns;
    the first --columns of them are used."""
    mine_open = {"assignee": {"mode": "me"}, "status": ["open"]}
    waiting, updated = ColumnSort.WAITING, ColumnSort.UPDATED
    return [
        ("Nuevos", {**mine_open, "addressed": False}, updated),
        ("Abordados", {**mine_open, "addressed": True, "awaiting": False}, updated),
        ("En espera", {**mine_open, "awaiting": True}, waiting),
        ("Sin asignar", {"assignee": {"mode": "nobody"}, "status": ["open"]}, updated),
        ("Todos esperando", {"status": ["open"], "awaiting": True}, waiting),
        ("SLA vencido", {"status": ["open"], "sla": ["breached"]}, updated),
        ("WhatsApp abiertos", {"channels": ["whatsapp"], "status": ["open"]}, updated),
        # The SLA clocks still running (at risk or on time), longest wait first.
        ("SLA en riesgo", {"status": ["open"], "sla": ["risk", "ok"]}, waiting),
        ("Importantes", {"status": ["open"], "important": True}, updated),
        ("Mis cerrados", {"assignee": {"mode": "me"}, "status": ["closed"]}, updated),
        ("Correo", {"channels": ["email"]}, updated),
        ("Todo", {}, updated),
    ]


# --- small helpers -------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def verdict(value: float, target: float) -> str:
    return "OK" if value < target else "MISSED"


@dataclass
class Seeded:
    tenant: Tenant
    agent: User
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class TicketArrays:
    """What the message pass needs to know of each ticket (compact: 1M tickets ~ 35 MB)."""

    created: array = field(default_factory=lambda: array("d"))
    updated: array = field(default_factory=lambda: array("d"))
    messages: array = field(default_factory=lambda: array("H"))
    account: array = field(default_factory=lambda: array("q"))
    author: array = field(default_factory=lambda: array("q"))  # who answers: assignee or bot
    awaiting: array = field(default_factory=lambda: array("B"))


def last_text(number: int, k: int, awaiting: bool) -> str:
    """The text of a ticket's last message (the card's preview), as the message pass writes it."""
    inbound = awaiting or (k - 1) % 2 == 0
    return (
        TEXTS_IN[(number + k - 1) % len(TEXTS_IN)]
        if inbound
        else (TEXTS_OUT[(number + k - 1) % len(TEXTS_OUT)])
    )


class Command(BaseCommand):
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

    def load_average(self, when: str) -> None:
        """Other processes on the machine skew every figure: say how busy it is."""
        one, five, _ = os.getloadavg()
        self.out(
            f"load average at {when}: {one:.2f} (1 min), {five:.2f} (5 min), {os.cpu_count()} CPUs"
        )

    def out(self, line: str = "") -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def head(self, title: str) -> None:
        self.out(f"\n== {title} " + "=" * max(0, 74 - len(title)))

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with connection.cursor() as c:
            c.execute(sql, params)
            row = c.fetchone()
        return row[0] if row else None

    def _role(self) -> str:
        return str(self._scalar("SELECT current_user"))

    def _migrate_if_needed(self) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.out("unapplied migrations: running migrate first")
            call_command("migrate", interactive=False, verbosity=0)

    # --- seeding ---------------------------------------------------------------------------

    def _prepare(self, o: dict[str, Any]) -> Seeded:
        with bypass_context():
            existing = Tenant.objects.filter(slug=SLUG).first()
        if existing is not None and existing.name != NAME:
            raise CommandError(f"a tenant '{SLUG}' exists and is not this benchmark's: refusing")
        if existing is not None:
            with tenant_context(existing.pk):
                counter = TicketCounter.objects.filter(tenant_id=existing.pk).first()
                agent = User.objects.filter(email=f"agent0@{SLUG}.invalid").first()
            same_size = counter is not None and counter.last_number == o["tickets"]
            if o["keep"] and same_size and agent is not None:
                self.head("Seeding")
                self.out(f"reusing the kept bench tenant ({counter.last_number} tickets; --keep)")
                self._analyze(vacuum=False)
                return Seeded(existing, agent)
            self.out("a previous bench tenant exists (another size, or not kept): dropping it")
            self._drop(existing.pk)
        return self._seed(o)

    def _seed(self, o: dict[str, Any]) -> Seeded:
        self.head("Seeding")
        n_tickets, n_messages = o["tickets"], o["messages"]
        n_customers = o["customers"] or min(200_000, max(1_000, n_tickets // 5))
        started = time.perf_counter()
        tenant = tenant_create(name=NAME, slug=SLUG)
        try:
            return self._seed_tenant(tenant, started, n_tickets, n_messages, n_customers)
        except BaseException:
            self.out("seeding failed: dropping the half-seeded bench tenant")
            self._drop(tenant.pk)
            raise

    def _seed_tenant(
        self, tenant: Tenant, started: float, n_tickets: int, n_messages: int, n_customers: int
    ) -> Seeded:
        with tenant_context(tenant.pk):
            agents = [
                User.objects.create_user(
                    email=f"agent{i}@{SLUG}.invalid",
                    name=f"Agente {FIRST_NAMES[i % len(FIRST_NAMES)]} {i}",
                    tenant=tenant,
                    role=Role.AGENT,
                )
                for i in range(AGENTS)
            ]
            bot = tenant_bot(tenant)
            accounts = [
                ChannelAccount.objects.create(kind=kind, name=name, sla_minutes=sla)
                for kind, name, _share, sla in ACCOUNTS
            ]
            departments = [Department.objects.create(name=n) for n in DEPARTMENTS]
        seeded = Seeded(tenant, agents[0])
        self._check_copy()
        now = timezone.now().timestamp()
        rng = random.Random(SEED)  # noqa: S311 - reproducible test data
        with bypass_context(), connection.cursor() as c:
            c.execute("SET synchronous_commit TO off")
            c.execute("SET work_mem TO '256MB'")
        with bypass_context():
            self._load(
                seeded,
                "customers",
                "tickets_customer",
                ["name", "rut", "metadata", "bot_disabled", "created_at", "tenant_id"],
                self._customer_rows(rng, tenant.pk, n_customers, now),
            )
            customer_ids = array(
                "q",
                (
                    r[0]
                    for r in self._rows(
                        "SELECT id FROM tickets_customer WHERE tenant_id = %s ORDER BY id",
                        [tenant.pk],
                    )
                ),
            )
            arrays = TicketArrays()
            self._load(
                seeded,
                "tickets",
                "tickets_ticket",
                TICKET_COLUMNS,
                self._ticket_rows(
                    rng,
                    now,
                    n_tickets,
                    n_messages,
                    tenant_id=tenant.pk,
                    agent_ids=[a.pk for a in agents],
                    bot_id=bot.pk,
                    accounts=accounts,
                    department_ids=[d.pk for d in departments],
                    customer_ids=customer_ids,
                    arrays=arrays,
                ),
            )
            del customer_ids
            self._load(
                seeded,
                "messages",
                "tickets_message",
                MESSAGE_COLUMNS,
                self._message_rows(tenant.pk, bot.pk, arrays),
                key=("ticket_id", "ticket_number"),
            )
            del arrays
            with connection.cursor() as c:
                # A few merged tickets (their cards never show): each into the one before.
                c.execute(
                    "UPDATE tickets_ticket t SET merged_into_id = p.id FROM tickets_ticket p"
                    " WHERE t.tenant_id = %s AND p.tenant_id = t.tenant_id"
                    " AND p.number = t.number - 1 AND t.number %% 500 = 0"
                    " AND t.status <> 'open'",
                    [tenant.pk],
                )
                c.execute("RESET synchronous_commit")
                c.execute("RESET work_mem")
        with tenant_context(tenant.pk):
            TicketCounter.objects.update_or_create(
                tenant_id=tenant.pk, defaults={"last_number": n_tickets}
            )
        step = time.perf_counter()
        self._analyze(vacuum=True)
        seeded.seconds["vacuum analyze"] = time.perf_counter() - step
        total = time.perf_counter() - started
        rows = sum(seeded.counts.values())
        self.out(f"{'vacuum analyze':<14} {seeded.seconds['vacuum analyze']:8.1f} s")
        self.out(f"{'total':<14} {total:8.1f} s  {rows:>10,} rows  {rows / total:>9,.0f} rows/s")
        return seeded

    def _analyze(self, *, vacuum: bool) -> None:
        """ANALYZE every table (it needs the tables' owner, or MAINTAIN), the small ones too:
        a tiny table whose statistics predate the tenant's rows (its channel accounts: fewer
        changes than autovacuum's threshold of 50) makes the planner merge-join the tickets
        through the account_id index, i.e. read them all (seconds at 1M tickets). VACUUM also
        sets the visibility map, as autovacuum would have in a database that grew this big."""
        with as_owner(), connection.cursor() as c:
            if vacuum:
                c.execute("VACUUM (ANALYZE) tickets_customer, tickets_ticket, tickets_message")
            c.execute("ANALYZE")

    def _rows(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        with connection.cursor() as c:
            c.execute(sql, params)
            while batch := c.fetchmany(10_000):
                yield from batch

    def _check_copy(self) -> None:
        """Verify (and say) why the load goes through temporary tables."""
        for label, ctx in (("application role", None), ("owner role", as_owner)):
            try:
                with bypass_context():
                    if ctx is None:
                        self._empty_copy()
                    else:
                        with ctx():
                            self._empty_copy()
                verdict_ = "accepted"
            except (DatabaseError, psycopg.Error) as exc:
                verdict_ = f"refused ({str(exc).splitlines()[0]})"
            self.out(f"COPY FROM into tickets_customer as the {label}, bypass context: {verdict_}")
        self.out(
            "=> COPY into temporary tables, then one INSERT ... SELECT per table in the bypass"
            " context"
        )

    def _empty_copy(self) -> None:
        with transaction.atomic(), connection.cursor() as c:
            with c.copy("COPY tickets_customer (tenant_id) FROM STDIN"):  # type: ignore[attr-defined]
                pass
            transaction.set_rollback(True)

    def _load(
        self,
        seeded: Seeded,
        label: str,
        table: str,
        columns: list[str],
        rows: Iterable[Sequence[Any]],
        key: tuple[str, str] | None = None,
        chunk: int = 500_000,
    ) -> None:
        """COPY ``rows`` into a temporary table shaped like ``columns`` of ``table``, then
        INSERT ... SELECT them, ``chunk`` rows at a time (each INSERT is its own transaction,
        so the deferred foreign-key checks queued by one stay bounded). ``key`` = (real
        column, staged column): the staged value is a ticket number, joined to its id."""
        started = time.perf_counter()
        stage = f"bench_stage_{table}"
        staged = list(columns)
        select = ", ".join(f"s.{c}" for c in columns)
        if key is not None:
            staged.append(f"{key[0]} AS {key[1]}")
        cols = ", ".join(columns)
        staged_names = [*columns, key[1]] if key else columns
        copy_sql = f"COPY {stage} ({', '.join(staged_names)}) FROM STDIN"
        if key is None:
            insert = f"INSERT INTO {table} ({cols}) SELECT {select} FROM {stage} s"  # noqa: S608
        else:
            insert = (
                f"INSERT INTO {table} ({cols}, {key[0]}) SELECT {select}, t.id"  # noqa: S608
                f" FROM {stage} s JOIN tickets_ticket t"
                f" ON t.tenant_id = s.tenant_id AND t.number = s.{key[1]}"
            )
        count = inserted = 0
        copying = inserting = 0.0
        source = iter(rows)
        with connection.cursor() as c:
            c.execute(f"DROP TABLE IF EXISTS {stage}")
            c.execute(
                f"CREATE TEMP TABLE {stage} AS SELECT {', '.join(staged)}"  # noqa: S608
                f" FROM {table} WITH NO DATA"
            )
            while True:
                step = time.perf_counter()
                n = 0
                with c.copy(copy_sql) as copy:  # type: ignore[attr-defined]
                    for row in itertools.islice(source, chunk):
                        copy.write_row(row)
                        n += 1
                if n == 0:
                    break
                count += n
                copying += time.perf_counter() - step
                step = time.perf_counter()
                if key is not None:
                    c.execute(f"ANALYZE {stage}")  # a hash join, not 500 000 index probes
                c.execute(insert)
                inserted += c.rowcount
                c.execute(f"TRUNCATE {stage}")
                inserting += time.perf_counter() - step
            c.execute(f"DROP TABLE {stage}")
        if inserted != count:
            raise CommandError(f"{table}: copied {count} rows, inserted {inserted}")
        took = time.perf_counter() - started
        seeded.counts[label] = count
        seeded.seconds[label] = took
        self.out(
            f"{label:<14} {took:8.1f} s  {count:>10,} rows  {count / took:>9,.0f} rows/s"
            f"  (generate+COPY {copying:.1f} s, INSERT…SELECT {inserting:.1f} s)"
        )

    def _customer_rows(
        self, rng: random.Random, tenant_id: int, n: int, now: float
    ) -> Iterator[tuple[Any, ...]]:
        utc = datetime.UTC
        fromts = datetime.datetime.fromtimestamp
        for i in range(n):
            name = f"{FIRST_NAMES[i % 20]} {LAST_NAMES[(i // 20) % 20]} {i}"
            created = fromts(now - rng.random() * 400 * DAY, utc)
            yield (name, "", "{}", False, created, tenant_id)

    def _ticket_rows(
        self,
        rng: random.Random,
        now: float,
        n: int,
        n_messages: int,
        *,
        tenant_id: int,
        agent_ids: list[int],
        bot_id: int,
        accounts: list[ChannelAccount],
        department_ids: list[int],
        customer_ids: array,
        arrays: TicketArrays,
    ) -> Iterator[tuple[Any, ...]]:
        """~5% open (recent, a quarter unassigned, half waiting for an answer with an SLA
        clock), the rest closed or ignored over six months."""
        utc = datetime.UTC
        fromts = datetime.datetime.fromtimestamp
        rand = rng.random
        expo = rng.expovariate
        slots: list[ChannelAccount] = []
        for account, (_k, _n, share, _sla) in zip(accounts, ACCOUNTS, strict=True):
            slots += [account] * share
        n_slots, n_customers, n_agents = len(slots), len(customer_ids), len(agent_ids)
        base, extra = divmod(n_messages, n)
        spread = 0
        metadata = '{"motivo": "reclamo"}'
        for i in range(n):
            number = i + 1
            # Messages: pairs of tickets share 2*base between them (the total stays exact).
            if i % 2 == 0:
                spread = int(rand() * base)
                k = base - spread if i + 1 < n else base
            else:
                k = base + spread
            k += 1 if i < extra else 0
            account = slots[int(rand() * n_slots)]
            r = rand()
            waiting_since: datetime.datetime | None = None
            due: datetime.datetime | None = None
            risk: datetime.datetime | None = None
            closed_at: datetime.datetime | None = None
            breached = False
            if r < 0.05:
                status = "open"
                created = now - rand() * 14 * DAY
                a = rand()
                assignee: int | None = (
                    None if a < 0.2 else bot_id if a < 0.25 else agent_ids[int(rand() * n_agents)]
                )
                awaiting = rand() < 0.55
                if awaiting:
                    ws = max(created, now - expo(1 / (6 * 3600)))
                    updated = ws
                    sla = account.sla_minutes * 60
                    due_ts = ws + sla
                    waiting_since = fromts(ws, utc)
                    due = fromts(due_ts, utc)
                    risk = fromts(due_ts - sla * 0.25, utc)
                    breached = due_ts <= now - 60  # the periodic job has flagged it
                    addressed = rand() < 0.4
                else:
                    updated = created + rand() * (now - created)
                    addressed = rand() < 0.6
            else:
                status = "closed" if r < 0.87 else "ignored"
                created = now - 14 * DAY * rand() - rand() * 166 * DAY
                updated = min(now, created + expo(1 / (20 * 3600)))
                closed_at = fromts(updated, utc)
                awaiting = False
                if status == "closed":
                    addressed = True
                    assignee = bot_id if rand() < 0.1 else agent_ids[int(rand() * n_agents)]
                else:
                    addressed = False
                    assignee = None if rand() < 0.5 else agent_ids[int(rand() * n_agents)]
                breached = rand() < 0.1
            created_at = fromts(created, utc)
            updated_at = fromts(updated, utc)
            answers_as = assignee if assignee is not None else bot_id
            arrays.created.append(created)
            arrays.updated.append(updated)
            arrays.messages.append(k)
            arrays.account.append(account.pk)
            arrays.author.append(answers_as)
            arrays.awaiting.append(1 if awaiting else 0)
            yield (
                number,
                status,
                rand() < 0.03,  # important
                "neutral" if rand() < 0.8 else ("angry" if rand() < 0.5 else "happy"),
                addressed,
                awaiting,
                rand() < 0.08,  # has_comments
                metadata if rand() < 0.3 else "{}",
                f"Consulta {number}" if account.kind == ChannelKind.EMAIL else "",
                last_text(number, k, awaiting),
                created_at,
                updated_at,
                closed_at,
                updated_at if addressed else None,  # first_response_at
                waiting_since or created_at,  # last_customer_message_at
                updated_at if addressed else None,  # last_agent_message_at
                waiting_since,
                due,
                risk,
                breached,
                "",  # escalated_to
                account.pk,
                assignee,
                customer_ids[int(rand() * n_customers)],
                department_ids[int(rand() * len(department_ids))] if rand() < 0.5 else None,
                tenant_id,
                "",  # bot_stage
                0,  # bot_attempts
            )

    def _message_rows(
        self, tenant_id: int, bot_id: int, t: TicketArrays
    ) -> Iterator[tuple[Any, ...]]:
        utc = datetime.UTC
        fromts = datetime.datetime.fromtimestamp
        n_in, n_out = len(TEXTS_IN), len(TEXTS_OUT)
        statuses = ("sent", "delivered", "read")
        for i in range(len(t.created)):
            number = i + 1
            k = t.messages[i]
            created, updated = t.created[i], t.updated[i]
            step = (updated - created) / (k - 1) if k > 1 else 0.0
            awaiting = t.awaiting[i]
            account, author = t.account[i], t.author[i]
            author_kind = "bot" if author == bot_id else "agent"
            for j in range(k):
                at = fromts(created + j * step, utc)
                inbound = (k - 1 - j) % 2 == 0 if awaiting else j % 2 == 0
                if inbound:
                    yield (
                        "in", False, "customer", TEXTS_IN[(number + j) % n_in], "", False,
                        "received", "", 0, at, None, account, None, tenant_id, number,
                    )  # fmt: skip
                else:
                    yield (
                        "out", False, author_kind, TEXTS_OUT[(number + j) % n_out], "", False,
                        statuses[j % 3], "", 1, at, at, account, author, tenant_id, number,
                    )  # fmt: skip

    def _drop(self, tenant_id: int) -> None:
        """Delete the bench tenant: the big tables in batches (each DELETE checks the foreign
        keys of what it removes), then the rest through the ORM. A big table just emptied is
        vacuumed before the next one, whose foreign-key checks probe it (through millions of
        dead index entries otherwise)."""
        with bypass_context(), connection.cursor() as c:
            c.execute(
                "UPDATE tickets_ticket SET merged_into_id = NULL, previous_ticket_id = NULL"
                " WHERE tenant_id = %s"
                " AND (merged_into_id IS NOT NULL OR previous_ticket_id IS NOT NULL)",
                [tenant_id],
            )
            c.execute(
                "UPDATE tickets_message SET reply_to_id = NULL"
                " WHERE tenant_id = %s AND reply_to_id IS NOT NULL",
                [tenant_id],
            )
        for table in (
            "tickets_attachment",
            "tickets_message",
            "tickets_event",
            "tickets_commentmention",
            "tickets_comment",
            "tickets_ticket",
            "tickets_customeridentity",
            "tickets_customer",
        ):
            deleted = 0
            with bypass_context(), connection.cursor() as c:
                while True:
                    c.execute(
                        f"DELETE FROM {table} WHERE id IN"  # noqa: S608
                        f" (SELECT id FROM {table} WHERE tenant_id = %s LIMIT 250000)",
                        [tenant_id],
                    )
                    if c.rowcount == 0:
                        break
                    deleted += c.rowcount
            if deleted >= 100_000:
                with as_owner(), connection.cursor() as c:
                    c.execute(f"VACUUM {table}")
        with bypass_context():
            Tenant.objects.get(pk=tenant_id).delete()

    # --- the agent's columns ------------------------------------------------------------------

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


TICKET_COLUMNS = [
    "number",
    "status",
    "important",
    "sentiment",
    "addressed",
    "awaiting_response",
    "has_comments",
    "metadata",
    "subject",
    "last_message_preview",
    "created_at",
    "updated_at",
    "closed_at",
    "first_response_at",
    "last_customer_message_at",
    "last_agent_message_at",
    "waiting_since",
    "sla_due_at",
    "sla_risk_at",
    "sla_breached",
    "escalated_to",
    "account_id",
    "assignee_id",
    "customer_id",
    "department_id",
    "tenant_id",
    "bot_stage",
    "bot_attempts",
]
MESSAGE_COLUMNS = [
    "direction",
    "is_public",
    "author_kind",
    "text",
    "html",
    "is_mention",
    "status",
    "failure_reason",
    "send_attempts",
    "created_at",
    "sent_at",
    "account_id",
    "author_id",
    "tenant_id",
]


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
