"""`manage.py imap_idle` against the real Dovecot: a mail delivered while the command idles
reaches a ticket at once; a server that goes away is reconnected to with backoff."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time

import pytest
from django.core.management import CommandError, call_command

from deskconfig.accounts import ChannelAccount
from tests.channels.conftest import Dovecot, free_port
from tests.channels.test_email_imap import mail
from tests.conftest import Cast
from tickets.models import Message

pytestmark = pytest.mark.django_db


class Output(io.StringIO):
    """The command's output, with an event per line we wait for."""

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[str, threading.Event] = {}

    def when(self, text: str) -> threading.Event:
        return self.events.setdefault(text, threading.Event())

    def write(self, s: str) -> int:
        for text, event in list(self.events.items()):
            if text in s:
                event.set()
        return super().write(s)


def _in_background(target: object) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_mail_delivered_while_idling_reaches_a_ticket(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("before@example.test"))  # waiting before the command starts
    out = Output()
    idling = out.when("IDLE on INBOX")
    delivered: list[float] = []

    def deliver() -> None:
        if idling.wait(30):
            mailbox.append(mail("during@example.test", sender="bea@example.test"))
            delivered.append(time.monotonic())

    helper = _in_background(deliver)
    call_command("imap_idle", account=email_account.pk, max_seconds=12, stdout=out)
    helper.join(5)
    assert delivered, out.getvalue()
    log = out.getvalue()
    # Caught up on connecting, then fetched once more because the server said EXISTS
    # (the safety-net poll is minutes away, so nothing else could have fetched it).
    assert log.count("fetched") == 2, log
    during = Message.objects.get(provider_id="during@example.test")
    assert during.ticket.customer.identities.filter(value="bea@example.test").exists()
    assert Message.objects.filter(provider_id="before@example.test").exists()


class Proxy:
    """A TCP relay to Dovecot that the test can cut (every connection dropped, new ones
    refused) and restore: the server "going away" without touching the shared Dovecot."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.sockets: list[socket.socket] = []
        self.open = False

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        listener.settimeout(0.1)
        self.open = True
        _in_background(lambda: self._accept(listener))

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self.open:
                try:
                    client, _addr = listener.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
                self.sockets += [client, upstream]
                _in_background(lambda a=client, b=upstream: self._pipe(a, b))
                _in_background(lambda a=upstream, b=client: self._pipe(a, b))

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        time.sleep(0.3)  # the listener closes
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.sockets.clear()


def test_a_server_that_goes_away_is_reconnected_with_backoff(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    proxy = Proxy(mailbox.port)
    proxy.start()
    email_account.settings = {**email_account.settings, "imap_port": proxy.port}
    email_account.save(update_fields=["settings"])
    out = Output()
    first_idle = out.when("IDLE on INBOX")
    second_failure = out.when("reconnecting in 2s")  # the second failure doubles the wait

    def outage() -> None:
        if not first_idle.wait(30):
            return
        second_idle = out.events["IDLE on INBOX"] = threading.Event()
        proxy.cut()
        second_failure.wait(30)
        proxy.start()
        if second_idle.wait(30):
            mailbox.append(mail("after-outage@example.test"))

    helper = _in_background(outage)
    call_command("imap_idle", account=email_account.pk, max_seconds=20, stdout=out)
    helper.join(5)
    proxy.cut()
    log = out.getvalue()
    assert "reconnecting in 1s" in log and "reconnecting in 2s" in log, log
    assert "ConnectionRefusedError" in log, log  # the first reconnection found it down
    assert Message.objects.filter(provider_id="after-outage@example.test").exists(), log


def test_an_account_that_is_not_active_imap_is_refused(
    in_a: Cast, email_account: ChannelAccount
) -> None:
    ChannelAccount.objects.filter(pk=email_account.pk).update(active=False)
    with pytest.raises(CommandError, match="not an active IMAP email account"):
        call_command("imap_idle", account=email_account.pk, max_seconds=1)
