"""``manage.py imap_idle``: fetch email the moment it arrives, with IMAP IDLE.

Optional, next to the beat's polling (which stays on as the safety net): one IDLE connection
per active email account (or only ``--account``), each in its own thread, fetching through the
same code as polling when the server announces new mail, reconnecting with backoff. Accounts
connected later are picked up within a minute; a disconnected account's watcher stops.
Run it as one long-lived process (e.g. a fourth service next to web, worker and beat)::

    python manage.py imap_idle              # every active email account
    python manage.py imap_idle --account 7  # one account (by id)
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from channels_conn.email.idle import IdleWatcher
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from helpdesk.tenancy import bypass_context

RESCAN_EVERY = 60.0


def _accounts(account_id: int | None) -> list[tuple[int, int]]:
    """(tenant id, account id) of the active IMAP accounts to watch."""
    with bypass_context():
        rows = ChannelAccount.all_tenants.filter(
            kind=ChannelKind.EMAIL, active=True, reconnect_reason="", settings__has_key="imap_host"
        )
        if account_id is not None:
            rows = rows.filter(pk=account_id)
        return list(rows.values_list("tenant_id", "pk"))


class Command(BaseCommand):
    help = "Keep an IMAP IDLE connection per active email account and fetch new mail at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, help="only this email account (its id)")
        parser.add_argument(
            "--max-seconds",
            type=float,
            default=None,
            help="stop after this many seconds (default: run until stopped)",
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="hand each fetch to the Celery workers instead of fetching in this process",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        account_id: int | None = options["account"]
        max_seconds: float | None = options["max_seconds"]
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        stop = threading.Event()
        lock = threading.Lock()

        def say(text: str) -> None:
            with lock:
                self.stdout.write(text)
                self.stdout.flush()

        def watcher(tenant_id: int, pk: int) -> IdleWatcher:
            return IdleWatcher(tenant_id, pk, stop=stop, say=say, enqueue=options["enqueue"])

        accounts = _accounts(account_id)
        if account_id is not None:
            if not accounts:
                raise CommandError(f"account {account_id} is not an active IMAP email account")
            # One account: watch it in this thread (simplest to stop, and to test).
            with self._signals_stop(stop):
                watcher(*accounts[0]).run(deadline)
            return
        with self._signals_stop(stop):
            self._watch_all(accounts, watcher, stop, deadline, say)

    def _watch_all(
        self,
        accounts: list[tuple[int, int]],
        watcher: Callable[[int, int], IdleWatcher],
        stop: threading.Event,
        deadline: float | None,
        say: Callable[[str], None],
    ) -> None:
        def run(w: IdleWatcher) -> None:
            try:
                w.run(deadline)
            finally:
                connections.close_all()  # this thread's own database connection

        threads: dict[int, threading.Thread] = {}
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            for tenant_id, pk in accounts:
                if pk not in threads or not threads[pk].is_alive():
                    thread = threading.Thread(
                        target=run,
                        args=(watcher(tenant_id, pk),),
                        name=f"imap-idle-{pk}",
                        daemon=True,
                    )
                    threads[pk] = thread
                    thread.start()
            if not threads:
                say("no active IMAP email account yet; waiting")
            left = (
                RESCAN_EVERY if deadline is None else min(RESCAN_EVERY, deadline - time.monotonic())
            )
            stop.wait(max(0.0, left))
            accounts = _accounts(None)
        stop.set()
        for thread in threads.values():
            thread.join(timeout=15)

    @contextmanager
    def _signals_stop(self, stop: threading.Event) -> Iterator[None]:
        """SIGTERM/SIGINT end the watchers cleanly (main thread only; restored afterwards)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(*_args: object) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
