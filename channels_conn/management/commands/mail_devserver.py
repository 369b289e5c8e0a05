"""``manage.py mail_devserver``: a local mailbox for trying the email channel by hand.

Development only (needs root and Debian's ``dovecot-imapd``, as the tests do). Starts a
throwaway Dovecot (IMAP, see channels_conn/email/devserver.py) and an SMTP server that prints
what the helpdesk sends, points one email account at them, and optionally drops a sample
customer mail in the inbox. While it runs, ``make run``'s beat polls the mailbox every minute;
mail you put in with any IMAP client (user ``helpdesk``, password ``secret``) becomes tickets,
and the agents' answers show up here. Ctrl-C stops both servers (the account then shows a
polling error on Administración > Canales until you point it elsewhere).
"""

from __future__ import annotations

import signal
import time
from email.utils import format_datetime, make_msgid
from typing import Any

from aiosmtpd.controller import Controller
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from channels_conn.credentials import readable_credentials
from channels_conn.email.devserver import PASSWORD, USER, Dovecot, free_port
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.tenancy import bypass_context, tenant_context


class _Printer:
    def __init__(self, write: Any) -> None:
        self.write = write

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = envelope.content.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        subject = next((ln for ln in head.splitlines() if ln.lower().startswith("subject:")), "")
        self.write(f"SMTP  {envelope.mail_from} -> {', '.join(envelope.rcpt_tos)}  {subject}")
        return "250 OK"


def sample_mail(to: str) -> bytes:
    return (
        "From: Valentina Rojas <valentina.rojas@example.test>\r\n"
        f"To: {to}\r\nSubject: Consulta por mi pedido\r\n"
        f"Message-ID: {make_msgid(domain='example.test')}\r\n"
        f"Date: {format_datetime(timezone.now())}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Hola, compré un escritorio hace una semana y aún no llega. ¿Me pueden ayudar?\r\n"
    ).encode()


class Command(BaseCommand):
    help = "Run a local IMAP + SMTP mailbox and point an email account at it (development)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account", type=int, help="email account id (default: the demo's first mailbox)"
        )
        parser.add_argument("--sample", action="store_true", help="put a customer mail in")

    def handle(self, *args: Any, **options: Any) -> None:
        account = self._account(options["account"])

        def stop(*_args: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        smtp_port = free_port()
        controller = Controller(_Printer(self.stdout.write), hostname="127.0.0.1", port=smtp_port)
        with Dovecot.running() as dovecot:
            controller.start()
            try:
                self._point(account, dovecot.port, smtp_port)
                address = str(account.settings.get("address") or "")
                self.stdout.write(
                    f"«{account.name}» now reads IMAP 127.0.0.1:{dovecot.port} (user {USER}, "
                    f"password {PASSWORD}, plain) and sends through SMTP 127.0.0.1:{smtp_port}."
                )
                if options["sample"]:
                    dovecot.append(sample_mail(address))
                    self.stdout.write("A customer mail is in the inbox: a ticket within a minute.")
                self.stdout.write("Ctrl-C stops.")
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
            finally:
                controller.stop()

    def _account(self, account_id: int | None) -> ChannelAccount:
        with bypass_context():
            rows = ChannelAccount.all_tenants.filter(kind=ChannelKind.EMAIL).order_by("pk")
            if account_id is not None:
                rows = rows.filter(pk=account_id)
            else:
                rows = rows.filter(tenant__slug="demo")
            account = rows.first()
        if account is None:
            raise CommandError("no such email account (give --account <id>)")
        return account

    def _point(self, account: ChannelAccount, imap_port: int, smtp_port: int) -> None:
        with tenant_context(account.tenant_id):
            account.refresh_from_db()
            account.settings = {
                **(account.settings or {}),
                "imap_host": "127.0.0.1",
                "imap_port": imap_port,
                "imap_ssl": False,
                "imap_starttls": False,
                "imap_user": USER,
                "imap_folder": "INBOX",
                "processed_policy": "seen",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "smtp_ssl": False,
                "smtp_starttls": False,
                "smtp_user": "",
            }
            creds = readable_credentials(account)
            account.credentials = {**creds, "imap_password": PASSWORD}  # type: ignore[assignment]
            account.active = True
            account.save(update_fields=["settings", "credentials", "active"])
