"""Polling one IMAP folder of one email account (imapclient).

Contract of :func:`poll_account`: every message with a UID above the stored high-water mark is
stored raw (``channels_conn.services.inbound_store``) before anything else, then marked
``\\Seen`` (or moved) on the server, then parsed and filed. The high-water mark is saved after
every batch, so a connection lost mid-poll resumes where it stopped: nothing lost, nothing
stored twice. A message over ``max_size`` is stored as a failed row without its body. Network
I/O never happens inside a database transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from django.utils import timezone, translation
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from imapclient.imapclient import SEEN

from channels_conn.credentials import credentials_of, credentials_problem
from channels_conn.email.guarded import GuardedIMAPClient
from channels_conn.email.parse import message_ids
from channels_conn.models import ChannelAccount, InboundEmail, MailboxState
from channels_conn.services import StoredMail, inbound_process_batch, inbound_store_many
from deskconfig.reconnect import account_reconnect_needed

log = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 25 * 1024 * 1024
SIZE_BATCH = 200  # UIDs per RFC822.SIZE fetch
BODY_BATCH_BYTES = 8 * 1024 * 1024  # bodies fetched per round trip, at most (one if bigger)
LEFTOVER_BATCH = 200  # stored rows filed per transaction when sweeping what a poll left


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    user: str
    password: str
    ssl: bool = True
    starttls: bool = False
    folder: str = "INBOX"
    processed_policy: str = "seen"  # "seen" or "move:<folder>"
    max_size: int = DEFAULT_MAX_SIZE
    timeout: float = 30.0

    @classmethod
    def of(cls, account: ChannelAccount) -> ImapSettings:
        s: dict[str, Any] = account.settings or {}
        creds: dict[str, Any] = credentials_of(account)
        ssl = bool(s.get("imap_ssl", True))
        return cls(
            host=str(s["imap_host"]),
            port=int(s.get("imap_port") or (993 if ssl else 143)),
            user=str(s.get("imap_user") or s.get("address", "")),
            password=str(creds.get("imap_password", "")),
            ssl=ssl,
            starttls=bool(s.get("imap_starttls", False)),
            folder=str(s.get("imap_folder") or "INBOX"),
            processed_policy=str(s.get("processed_policy") or "seen"),
            max_size=int(s.get("max_size") or DEFAULT_MAX_SIZE),
            timeout=float(s.get("imap_timeout") or 30.0),
        )


@dataclass
class PollResult:
    stored: int = 0
    duplicates: int = 0
    oversize: int = 0
    processed: int = 0
    failed: int = 0


@contextmanager
def connect(cfg: ImapSettings) -> Iterator[IMAPClient]:
    """A logged-in client; logged out (or just closed, if the server is gone) afterwards."""
    client = GuardedIMAPClient(
        cfg.host, port=cfg.port, use_uid=True, ssl=cfg.ssl, timeout=cfg.timeout
    )
    try:
        if cfg.starttls and not cfg.ssl:
            client.starttls()
        client.login(cfg.user, cfg.password)
        yield client
    finally:
        try:
            client.logout()
        except Exception:  # the connection may be dead already
            with suppress(Exception):
                client.shutdown()


def _state(account: ChannelAccount, folder: str, uidvalidity: int) -> MailboxState:
    """The folder's state; a new UIDVALIDITY forgets the old UIDs (dedupe then by Message-ID)."""
    state, _created = MailboxState.objects.get_or_create(
        tenant_id=account.tenant_id, account=account, folder=folder
    )
    if state.uidvalidity != uidvalidity:
        if state.uidvalidity:  # 0: the first poll of this folder, nothing to forget
            log.warning("UIDVALIDITY of %s/%s changed: rescanning", account.pk, folder)
        state.uidvalidity, state.last_uid = uidvalidity, 0
        state.save(update_fields=["uidvalidity", "last_uid"])
    return state


def _new_uids(client: IMAPClient, last_uid: int) -> list[int]:
    # "UID n:*" always includes the highest UID even when it is below n: filter ourselves.
    return sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)


def _batches(sizes: dict[int, int], max_size: int) -> Iterator[list[int]]:
    """UIDs in order, grouped so that one round trip fetches at most BODY_BATCH_BYTES."""
    batch: list[int] = []
    total = 0
    for uid in sorted(sizes):
        size = min(sizes[uid], max_size)
        if batch and total + size > BODY_BATCH_BYTES:
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def _mark_processed(client: IMAPClient, uids: Sequence[int], policy: str) -> None:
    """Only called for UIDs already stored: never hide mail we do not have."""
    if not uids:
        return
    if policy.startswith("move:"):
        target = policy.split(":", 1)[1]
        if client.has_capability("MOVE"):
            client.move(uids, target)
        else:
            client.copy(uids, target)
            client.delete_messages(uids)
            client.uid_expunge(uids)
    else:
        client.add_flags(uids, [SEEN])


def _store_batch(
    client: IMAPClient,
    account: ChannelAccount,
    cfg: ImapSettings,
    uidvalidity: int,
    uids: list[int],
    sizes: dict[int, int],
    result: PollResult,
) -> list[InboundEmail]:
    """Fetch and store one batch (one insert for all of it); returns the rows to process."""
    small = [u for u in uids if sizes[u] <= cfg.max_size]
    bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
    pending: list[StoredMail] = []
    for uid in uids:
        if uid in bodies:
            raw = bytes(bodies[uid].get(b"BODY[]") or b"")
            ids = message_ids(_message_id_header(raw))
            pending.append(StoredMail(uid=uid, raw=raw, message_id=ids[0] if ids else ""))
        elif sizes[uid] > cfg.max_size:
            result.oversize += 1
            pending.append(
                StoredMail(
                    uid=uid,
                    raw=b"",
                    size=sizes[uid],
                    error=f"too large: {sizes[uid]} bytes (limit {cfg.max_size})",
                )
            )
        # else: expunged by another client between the two fetches: nothing to store
    rows = inbound_store_many(account=account, folder=cfg.folder, uidvalidity=uidvalidity,
                              mails=pending)  # fmt: skip
    result.duplicates += len(pending) - len(rows)
    result.stored += len(rows)
    return [row for row in rows if row.status == InboundEmail.Status.RECEIVED]


def _message_id_header(raw: bytes) -> str:
    """The Message-ID from the header block alone (cheap: no MIME parsing before storing)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    value = ""
    for line in head.splitlines():
        if value and line[:1] in (b" ", b"\t"):
            value += line.decode("latin-1").strip()
        elif value:
            break
        elif line.lower().startswith(b"message-id:"):
            value = line.split(b":", 1)[1].decode("latin-1").strip() or " "
    return value.strip()


def poll_account(account: ChannelAccount) -> PollResult:
    """Poll the account's folder once (see the module docstring). Raises on network errors
    after recording them on the folder's state; what was stored before stays stored."""
    problem = credentials_problem(account) or account.reconnect_reason
    if problem:  # nothing can be fetched until the admin fixes the login and reconnects
        _record(account, str((account.settings or {}).get("imap_folder") or "INBOX"), problem)
        return PollResult()
    cfg = ImapSettings.of(account)
    result = PollResult()
    _sweep_leftovers(account, result)
    try:
        with connect(cfg) as client:
            info = client.select_folder(cfg.folder)
            state = _state(account, cfg.folder, int(info[b"UIDVALIDITY"]))
            uids = _new_uids(client, state.last_uid)
            for start in range(0, len(uids), SIZE_BATCH):
                chunk = uids[start : start + SIZE_BATCH]
                fetched = client.fetch(chunk, ["RFC822.SIZE"])
                sizes = {u: int(fetched[u][b"RFC822.SIZE"]) for u in chunk if u in fetched}
                for batch in _batches(sizes, cfg.max_size):
                    rows = _store_batch(
                        client, account, cfg, state.uidvalidity, batch, sizes, result
                    )
                    _mark_processed(client, batch, cfg.processed_policy)
                    state.last_uid = max(batch)
                    state.save(update_fields=["last_uid"])
                    _process(rows, result)
    except Exception as exc:
        failure = _failure_text(account, cfg, exc)
        _record(account, cfg.folder, failure)
        if isinstance(exc, LoginError):  # the server refused the login: «Reconectar»
            account_reconnect_needed(account=account, reason=failure)
        raise
    _record(account, cfg.folder, "")
    return result


def _sweep_leftovers(account: ChannelAccount, result: PollResult) -> None:
    """File what an earlier poll stored but could not file (a crash, the database gone), in
    batches of :data:`LEFTOVER_BATCH` rows: memory stays flat however many were left."""
    after = 0
    while True:
        rows = list(
            InboundEmail.objects.filter(
                account=account, status=InboundEmail.Status.RECEIVED, id__gt=after
            ).order_by("id")[:LEFTOVER_BATCH]
        )
        if not rows:
            return
        for row in rows:
            row.account = account  # one account object: its cached own addresses are shared
        _process(rows, result)
        after = rows[-1].pk


def _process(rows: Sequence[InboundEmail], result: PollResult) -> None:
    """Parse and file stored rows, one transaction per batch (each mail in its own savepoint,
    so one poisonous mail is set aside alone). Rows a crash left unprocessed are swept at the
    next poll."""
    for status in inbound_process_batch(rows):
        if status == InboundEmail.Status.FAILED:
            result.failed += 1
        elif status == InboundEmail.Status.DUPLICATE:
            result.duplicates += 1
        else:
            result.processed += 1


def _failure_text(account: ChannelAccount, cfg: ImapSettings, exc: BaseException) -> str:
    """What went wrong, in the tenant's language, as the connection test would say it."""
    from channels_conn.email.probe import polling_failure

    with translation.override(account.tenant.language or "es"):
        return polling_failure(
            exc,
            host=cfg.host,
            port=cfg.port,
            user=cfg.user,
            folder=cfg.folder,
            timeout=cfg.timeout,
        )


def _record(account: ChannelAccount, folder: str, error: str) -> None:
    MailboxState.objects.update_or_create(
        tenant_id=account.tenant_id,
        account=account,
        folder=folder,
        defaults={"last_error": error[:2000], "polled_at": timezone.now()},
    )
