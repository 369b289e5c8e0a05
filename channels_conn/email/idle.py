"""IMAP IDLE for one email account: fetch as soon as the server announces new mail.

Contract of :class:`IdleWatcher`: it keeps one IDLE connection to the account's folder (read
only) and, when the server sends ``EXISTS``, runs the same fetch as the beat's polling
(``channels_conn.tasks.poll_mailbox``: store raw first, then parse; a cache lock keeps it from
overlapping a beat poll). It fetches once on every (re)connection, renews IDLE before the
server's 30-minute limit, polls anyway every ``poll_every`` seconds as a safety net, and
reconnects with exponential backoff after any failure. It stops when ``stop`` is set, at the
deadline, or when the account is disconnected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from django.db import close_old_connections, connection

from channels_conn.email.imap import ImapSettings, connect
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.tenancy import tenant_context

RENEW_EVERY = 9 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes; many servers cut at 10
POLL_EVERY = 5 * 60  # a safety net: a lost notification waits at most this long
CHECK_EVERY = 5.0  # how often the loop looks at stop/deadline while idling
MAX_BACKOFF = 60.0


def _announces_new_mail(responses: list[Any]) -> bool:
    return any(
        isinstance(r, tuple) and len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses
    )


@dataclass
class IdleWatcher:
    tenant_id: int
    account_id: int
    stop: threading.Event = field(default_factory=threading.Event)
    say: Callable[[str], None] = print
    enqueue: bool = False  # hand the fetch to the Celery workers instead of doing it here
    poll_every: float = POLL_EVERY
    renew_every: float = RENEW_EVERY
    fetches: int = 0

    def run(self, deadline: float | None = None) -> None:
        backoff = 1.0
        while not self._over(deadline):
            try:
                if not self._session(deadline):
                    return  # the account is gone or disconnected
                backoff = 1.0
            except Exception as exc:  # any failure: reconnect, never die
                self.say(
                    f"account {self.account_id}: {type(exc).__name__}: {exc}; "
                    f"reconnecting in {backoff:.0f}s"
                )
                if not connection.in_atomic_block:
                    close_old_connections()  # a database that went away: reconnect too
                self.stop.wait(min(backoff, self._left(deadline)))
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _over(self, deadline: float | None) -> bool:
        return self.stop.is_set() or (deadline is not None and time.monotonic() >= deadline)

    def _left(self, deadline: float | None) -> float:
        return float("inf") if deadline is None else max(0.0, deadline - time.monotonic())

    def _account(self) -> ChannelAccount | None:
        with tenant_context(self.tenant_id):
            return ChannelAccount.objects.filter(
                # A login the server refused marks the account: stop until it is reconnected.
                pk=self.account_id,
                kind=ChannelKind.EMAIL,
                active=True,
                reconnect_reason="",
            ).first()

    def fetch(self) -> None:
        from channels_conn.tasks import poll_mailbox

        self.fetches += 1
        if self.enqueue:
            poll_mailbox.delay(self.tenant_id, self.account_id)
        else:
            result = poll_mailbox(self.tenant_id, self.account_id)
            if result:
                self.say(f"account {self.account_id}: fetched {result}")

    def _session(self, deadline: float | None) -> bool:
        """One connection: catch up, then IDLE until it breaks. False: stop watching."""
        account = self._account()
        if account is None or not (account.settings or {}).get("imap_host"):
            self.say(f"account {self.account_id}: not an active IMAP account; stopping")
            return False
        cfg = ImapSettings.of(account)
        self.fetch()  # whatever arrived while we were not listening
        last_fetch = time.monotonic()
        with connect(cfg) as client:
            client.select_folder(cfg.folder, readonly=True)
            if not client.has_capability("IDLE"):
                self.say(f"account {self.account_id}: the server has no IDLE; polling")
            else:
                self.say(f"account {self.account_id}: IDLE on {cfg.folder}")
            while not self._over(deadline):
                if client.has_capability("IDLE"):
                    new = self._idle_once(client, deadline, last_fetch)
                else:
                    self.stop.wait(min(self.poll_every, self._left(deadline)))
                    new = True
                if new and not self._over(deadline):
                    if self._account() is None:
                        return False
                    self.fetch()
                    last_fetch = time.monotonic()
                    # Mail that came during the fetch is reported by the next command.
                    if _announces_new_mail(client.noop()[1]):
                        self.fetch()
        return True

    def _idle_once(self, client: Any, deadline: float | None, last_fetch: float) -> bool:
        """IDLE until new mail, the renew time, the safety-net poll or the end. True: fetch."""
        started = time.monotonic()
        client.idle()
        quick_empty = 0
        try:
            while not self._over(deadline):
                now = time.monotonic()
                if now - started >= self.renew_every:
                    return False
                if now - last_fetch >= self.poll_every:
                    return True
                timeout = max(min(CHECK_EVERY, self._left(deadline)), 0.1)
                responses = client.idle_check(timeout=timeout)
                if _announces_new_mail(responses):
                    return True
                # imapclient's idle_check swallows EOF and returns nothing at once: a socket
                # that is "readable" again and again with nothing to read is a closed one.
                quick = not responses and time.monotonic() - now < timeout / 2
                quick_empty = quick_empty + 1 if quick else 0
                if quick_empty >= 3:
                    raise ConnectionError("the server closed the IDLE connection")
            return False
        finally:
            with suppress(Exception):  # the connection may be dead: reconnecting follows
                client.idle_done()
