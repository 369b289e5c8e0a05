"""The seeder of ``manage.py bench_inbox``: a dedicated tenant ("bench") with customers,
tickets and messages loaded by COPY, and its removal afterwards.

Loading: PostgreSQL refuses ``COPY ... FROM`` into a table under row-level security ("COPY
FROM not supported with row-level security"), for the application role and, since the policies
are FORCEd, for the tables' owner too. So the rows are COPYed into temporary tables (the
session's own, without RLS) and moved with one ``INSERT ... SELECT`` each in the bypass
context, which the policies' WITH CHECK accepts. The command checks that first and says so.
"""

import datetime
import itertools
import os
import random
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department
from helpdesk.dbroles import as_owner
from helpdesk.models import Role, Tenant, User
from helpdesk.services import tenant_bot, tenant_create
from helpdesk.tenancy import bypass_context, tenant_context
from tickets.models import ColumnSort, TicketCounter

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


class InboxSeeder(BaseCommand):
    """Seeding, loading and dropping the bench tenant, and the output helpers the command uses."""

    tenant_id: int

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

    def _zeros(self, table: str, given: list[str]) -> dict[str, str]:
        """SQL literals for the table's required columns that ``given`` leaves out."""
        empty = {"boolean": "false", "jsonb": "'{}'::jsonb", "json": "'{}'::json"}
        with connection.cursor() as c:
            c.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL"
                " AND is_identity = 'NO' AND is_generated = 'NEVER'",
                [table],
            )
            rows = c.fetchall()
        numeric = ("integer", "bigint", "smallint", "numeric", "double precision", "real")
        zeros = {}
        for name, kind in rows:
            if name in given:
                continue
            zeros[name] = empty.get(kind, "0" if kind in numeric else "''")
        return zeros

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
        # Columns added to the table since these rows were written (NOT NULL, no database
        # default: Django fills them in Python) get their empty value, so a new field never
        # breaks the seeder.
        zeros = self._zeros(table, [*columns, *([key[0]] if key else [])])
        cols = ", ".join([*columns, *zeros])
        select = ", ".join([select, *zeros.values()]) if zeros else select
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
