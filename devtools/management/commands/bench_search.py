"""``manage.py bench_search``: every kind of search at scale, through the real page.

Seeds (or reuses, with ``--keep``) the same "bench" tenant as ``bench_inbox`` (1 M tickets and
5 M messages by default, written from a handful of phrases, so each of their words is in
hundreds of thousands of messages: the worst case for ranking), adds a few rare words and
names, then times ``GET /search/?q=…`` for each kind of search and prints p50 / p95 against
the target (100 ms), the SQL time, the queries per search, how many answers asked to refine the
search (the older history not read in time), and EXPLAIN ANALYZE of the costly statements (an
index, never a scan of the table).
"""

from __future__ import annotations

import resource
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from devtools.bench.inbox_seed import InboxSeeder, Seeded, verdict
from devtools.bench.measure import pct
from helpdesk.models import User
from helpdesk.tenancy import tenant_context
from tickets.models import Customer, Direction, Message, Ticket

TARGET_MS = 100.0
RARE_WORD = "impresora"
RARE_NAME = "Zúñiga"
RARE_COUNT = 40


class Command(InboxSeeder):
    help = "Seed (or reuse) the bench tenant and time every kind of search at scale."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=1_000_000)
        parser.add_argument("--messages", type=int, default=5_000_000)
        parser.add_argument("--customers", type=int, default=0)
        parser.add_argument("--rounds", type=int, default=20)
        parser.add_argument(
            "--keep",
            action="store_true",
            help="keep the bench tenant afterwards; reuse a kept one of the same --tickets",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        if o["messages"] < o["tickets"] or min(o["tickets"], o["rounds"]) < 1:
            raise CommandError("--tickets, --rounds >= 1 and --messages >= --tickets")
        self._migrate_if_needed()
        self.out(f"PostgreSQL: {self._scalar('SHOW server_version')}, role {self._role()}")
        self.load_average("start")
        seeded: Seeded | None = None
        try:
            seeded = self._prepare(o)
            self._rare_rows(seeded)
            self._measure(seeded.agent, o["rounds"])
            self._explain(seeded.agent)
        finally:
            if seeded is not None and not o["keep"]:
                self._drop(seeded.tenant.pk)
                self.out("\nbench tenant dropped")
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.out(f"peak RSS of this process: {rss:.0f} MB")

    def _rare_rows(self, seeded: Seeded) -> None:
        """A few messages with a word no phrase has, and customers with a rare surname."""
        tenant_id = seeded.tenant.pk
        with tenant_context(tenant_id):
            if Message.objects.filter(text__contains=RARE_WORD).exists():
                return
            tickets = list(
                Ticket.objects.order_by("-id").values_list("pk", "account_id")[:RARE_COUNT]
            )
            Message.objects.bulk_create(
                Message(
                    tenant_id=tenant_id,
                    ticket_id=ticket_id,
                    account_id=account_id,
                    direction=Direction.IN,
                    text=f"La {RARE_WORD} del local no imprime boletas",
                )
                for ticket_id, account_id in tickets
            )
            Customer.objects.bulk_create(
                Customer(tenant_id=tenant_id, name=f"Sebastián {RARE_NAME} {i}")
                for i in range(RARE_COUNT)
            )
        self._analyze(vacuum=False)

    def _cases(self) -> list[tuple[str, str]]:
        return [
            ("word in ~all messages", "pedido"),
            ("two common words", "boleta despacho"),
            ("rare word (stem)", "impresoras"),
            ("common surname", "gonzalez"),
            ("rare surname", "zuniga"),
            ("name prefix", "sebas zuñ"),
            ("typo (trigram)", "Sebastina Zuniga"),
            ("ticket number", "#123456"),
            ("phone", "+56 9 1234 5678"),
            ("email", "nadie@example.test"),
            ("handle prefix", "@sebaro"),
            ("RUT", "12.345.678-5"),
        ]

    def _measure(self, agent: User, rounds: int) -> None:
        self.head(f"GET /search/?q=… (target p95 < {TARGET_MS:.0f} ms)")
        self.load_average("this step")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(agent)
        self.out(
            f"{'search':<24} {'query':<20} {'p50 ms':>8} {'p95 ms':>8} {'sql p95':>8}"
            f" {'queries':>8} {'partial':>8}  verdict"
        )
        for label, query in self._cases():
            client.get("/search/", {"q": query})  # warm-up
            times: list[float] = []
            sql: list[float] = []
            partial = 0  # answers that asked to refine: the history was not read in time
            for _ in range(rounds):
                reset_queries()
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get("/search/", {"q": query})
                    times.append((time.perf_counter() - started) * 1000)
                sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
                if response.status_code not in (200, 302):
                    raise CommandError(f"{query!r} answered {response.status_code}")
                partial += b"search-partial" in response.content
            p95 = pct(times, 95)
            self.out(
                f"{label:<24} {query:<20} {pct(times, 50):8.1f} {p95:8.1f} {pct(sql, 95):8.1f}"
                f" {len(queries):8d} {partial:>5}/{rounds:<2}"
                f"  {verdict(p95, TARGET_MS)}"
            )

    def _explain(self, agent: User) -> None:
        """EXPLAIN ANALYZE of the statements the costly searches run, as the application role
        in the tenant's context (row-level security on), with the settings search uses."""
        self.head("Plans and timings of the costly statements (EXPLAIN ANALYZE, BUFFERS)")
        from tickets import search

        tenant_id = agent.tenant_id or 0
        words = [("pedido", "pedido"), ("boleta despacho", "boleta despacho")]
        words += [("impresoras", "impresoras")]
        cases: list[tuple[str, str, dict[str, Any], bool]] = []
        for label, text in words:
            params = {"tenant": tenant_id, "text": text, "probe": search.PROBE}
            params |= {"limit": search.MESSAGE_MATCHES, "window": search.FIRST_WINDOW}
            cases.append((f"{label}: newest messages", search.MESSAGES.window, params, False))
            cases.append((f"{label}: messages by GIN", search.MESSAGES.probe, params, True))
        names = {"tenant": tenant_id, "text": "gonzalez:*", "probe": search.PROBE}
        names |= {"limit": search.NAME_MATCHES, "window": search.FIRST_WINDOW}
        cases.append(("gonzalez: newest customers", search.NAMES.window, names, False))
        cases.append(("gonzalez: customers by GIN", search.NAMES.probe, names, True))
        typo = {"tenant": tenant_id, "text": "Sebastina Zuniga", "limit": search.TYPO_MATCHES}
        cases.append(("typo: trigram index", search.TYPO_INDEXED, typo, True))
        with tenant_context(tenant_id):
            for label, sql, params, bitmap in cases:
                with search._bitmap_plan(bitmap=bitmap) as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    self._plan(label, [row[0] for row in cursor.fetchall()])

    def _plan(self, label: str, plan: list[str]) -> None:
        scans = [line.strip().lstrip("-> ").split("  (")[0] for line in plan if "Scan" in line]
        took = next((line.split(":")[1].strip() for line in plan if "Execution" in line), "?")
        self.out(f"{label:<30} {took:>12}  {' | '.join(scans)}")
        if any("Seq Scan" in line for line in plan):
            self.out("  !! a sequential scan")
