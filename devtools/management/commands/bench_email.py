"""Measure email ingestion end to end: N varied mails appended to a throwaway Dovecot, then
polled, stored raw, parsed and filed as tickets; prints messages/second and peak RSS.

Development only (needs root and Dovecot, see channels_conn.email.devserver)::

    DEBUG=1 .venv/bin/python -m helpdesk.devservices -- .venv/bin/python manage.py bench_email

It creates the tenant ``bench-email`` and deletes it afterwards (unless ``--keep``).
"""

from __future__ import annotations

import base64
import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import override_settings

from channels_conn.email.devserver import PASSWORD, USER, Dovecot
from channels_conn.email.imap import poll_account
from channels_conn.models import ChannelAccount, InboundEmail
from deskconfig.kinds import ChannelKind
from devtools.bench.measure import StatementCounter
from helpdesk.models import Tenant
from helpdesk.services import tenant_create
from helpdesk.tenancy import bypass_context, tenant_context
from tickets.models import Attachment, Message, Ticket

SLUG, NAME = "bench-email", "Bench email"
PDF = base64.b64encode(b"%PDF-1.4 " + b"x" * 20_000).decode()


def varied_mail(n: int) -> bytes:
    """Mail number ``n``: plain, HTML, latin-1, with an attachment, or a reply (by turns)."""
    sender = f"cliente{n % 997}@example.test"
    head = (
        f"From: Cliente {n} <{sender}>\r\nTo: soporte@bench.test\r\n"
        f"Message-ID: <bench-{n}@example.test>\r\nDate: Tue, 24 Nov 2026 10:00:00 -0300\r\n"
    )
    kind = n % 5
    if kind == 0:
        return (head + f"Subject: Pedido {n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                f"Hola, consulta número {n}.\r\n").encode()  # fmt: skip
    if kind == 1:
        return (head + f"Subject: HTML {n}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                f"<p>Hola <b>{n}</b></p><script>x()</script>\r\n").encode()  # fmt: skip
    if kind == 2:
        return (head + "Subject: Cami\xf3n\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
                "Cami\xf3n atrasado\r\n").encode("latin-1")  # fmt: skip
    if kind == 3:
        return (
            head + f"Subject: Boleta {n}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nAdjunto boleta\r\n"
            "--B\r\nContent-Type: application/pdf\r\n"
            'Content-Disposition: attachment; filename="b.pdf"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{PDF}\r\n--B--\r\n"
        ).encode()
    return (head + f"Subject: Re: Pedido {n - 4}\r\nIn-Reply-To: <bench-{n - 4}@example.test>\r\n"
            "Content-Type: text/plain\r\n\r\nGracias\r\n\r\n> antes\r\n").encode()  # fmt: skip


class Command(BaseCommand):
    help = "Email ingestion throughput (IMAP poll to tickets) against a throwaway Dovecot."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=5000)
        parser.add_argument("--keep", action="store_true", help="keep the bench tenant")

    def handle(self, *args: Any, **o: Any) -> None:
        with bypass_context():
            if Tenant.objects.filter(slug=SLUG).exists():
                raise CommandError(f"tenant '{SLUG}' exists: drop it first (or run without it)")
        tenant = tenant_create(name=NAME, slug=SLUG)
        try:
            with Dovecot.running() as server:
                self._run(tenant, server, o["count"])
        finally:
            if not o["keep"]:
                self._drop(tenant.pk)

    def _run(self, tenant: Tenant, server: Dovecot, count: int) -> None:
        started = time.perf_counter()
        with server.client() as client:
            for n in range(count):
                client.append("INBOX", varied_mail(n))
        appended = time.perf_counter() - started
        self.stdout.write(f"appended {count} mails in {appended:.1f}s")
        with tenant_context(tenant.pk):
            account = ChannelAccount.objects.create(
                tenant=tenant,
                kind=ChannelKind.EMAIL,
                name="Bench",
                settings={"address": "soporte@bench.test", "imap_host": "127.0.0.1",
                          "imap_port": server.port, "imap_ssl": False, "imap_user": USER},
                credentials={"imap_password": PASSWORD},
            )  # fmt: skip
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            queries = StatementCounter()
            started, cpu_started = time.perf_counter(), time.process_time()
            # DEBUG off while polling, as in production: Django's debug log keeps the text of
            # the last 9,000 queries, raw mails inlined, which would measure the log's memory.
            with override_settings(DEBUG=False), connection.execute_wrapper(queries):
                result = poll_account(account)
            elapsed = time.perf_counter() - started
            # CPU seconds of this worker process: the machine is shared, so wall time says
            # more about the neighbours than about us; mails per CPU second is per core.
            cpu = time.process_time() - cpu_started
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            messages = Message.objects.filter(account=account).count()
            failed = InboundEmail.objects.filter(account=account, status="failed").count()
            tickets = Ticket.objects.filter(account=account).count()
            files = Attachment.objects.filter(message__account=account).count()
        self.stdout.write(
            f"ingested {result.stored} stored / {result.processed} processed / {failed} failed"
            f" -> {messages} messages in {elapsed:.1f}s = {result.stored / elapsed:.0f} mails/s"
            f" wall; {cpu:.1f} CPU s in this process = {result.stored / max(cpu, 1e-9):.0f}"
            " mails per CPU second"
        )
        self.stdout.write(
            f"{queries.count} queries = {queries.count / max(result.stored, 1):.1f} per mail;"
            f" peak RSS {rss_after / 1024:.0f} MiB (before polling {rss_before / 1024:.0f} MiB)"
        )
        # What the corpus must give (see varied_mail): every fifth mail answers an earlier one,
        # every fifth carries a PDF. A shortfall is printed, never hidden.
        want_tickets = sum(1 for n in range(count) if n % 5 != 4)
        want_files = sum(1 for n in range(count) if n % 5 == 3)
        self.stdout.write(
            f"{tickets} tickets (expected {want_tickets}); {files} attachments kept"
            f" (expected {want_files})"
        )

    def _drop(self, tenant_id: int) -> None:
        """Delete everything of the bench tenant (children first: PROTECT foreign keys)."""
        with bypass_context(), connection.cursor() as c:
            c.execute(
                "UPDATE tickets_message SET reply_to_id = NULL WHERE tenant_id = %s", [tenant_id]
            )
            c.execute(
                "UPDATE tickets_ticket SET previous_ticket_id = NULL, merged_into_id = NULL"
                " WHERE tenant_id = %s",
                [tenant_id],
            )
            for table in (
                "tickets_attachment",
                "tickets_message",
                "tickets_event",
                "tickets_ticket",
                "tickets_customeridentity",
                "tickets_customer",
                "channels_conn_inboundemail",
                "channels_conn_mailboxstate",
            ):
                c.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])  # noqa: S608
        with bypass_context():
            Tenant.objects.filter(pk=tenant_id).delete()
