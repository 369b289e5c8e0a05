"""Receiving email: store the raw bytes first, then parse and hand them to the tickets.

Contract: :func:`inbound_store` is insert-or-ignore on (account, folder, UIDVALIDITY, UID); it
does no parsing and no duplicate decision, so nothing the server gave us is lost.
:func:`inbound_process` parses a stored email and files it (``email.receive``, which calls
``tickets.services.message_receive``); a failure leaves the raw bytes with status ``failed``
and the error, visible to admins and retriable. Both run inside the account's tenant context
and contain no network calls.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from django.db import IntegrityError, transaction

from channels_conn.email.batch import emails_file_batch
from channels_conn.email.parse import parse_email
from channels_conn.email.receive import email_file
from channels_conn.models import ChannelAccount, InboundEmail
from helpdesk import live
from helpdesk.tenancy import current_tenant_id
from tickets.models import Message

log = logging.getLogger(__name__)


def _check_tenant(account: ChannelAccount) -> None:
    # Row-level security would refuse the rows anyway; this says why, early.
    if current_tenant_id() != account.tenant_id:
        raise RuntimeError("email ingestion must run inside the account's tenant context")


def inbound_store(
    *,
    account: ChannelAccount,
    folder: str,
    uidvalidity: int,
    uid: int,
    raw: bytes,
    size: int | None = None,
    message_id: str = "",
    error: str = "",
) -> InboundEmail | None:
    """Store one email as received (or, with ``error``, as failed without its body).

    Returns the new row, or None when this UID was stored already. A Message-ID seen before
    is stored all the same: whether it is a duplicate is decided after, from the content."""
    _check_tenant(account)
    try:
        with transaction.atomic():
            return InboundEmail.objects.create(
                tenant_id=account.tenant_id,
                account=account,
                folder=folder,
                uidvalidity=uidvalidity,
                uid=uid,
                message_id=message_id[:255],
                raw=raw,
                size=len(raw) if size is None else size,
                status=InboundEmail.Status.FAILED if error else InboundEmail.Status.RECEIVED,
                error=error,
            )
    except IntegrityError:
        return None  # the same UID, stored by a concurrent poll


@dataclasses.dataclass(frozen=True)
class StoredMail:
    """One fetched mail to store: its bytes, or (with ``error``) only its size."""

    uid: int
    raw: bytes
    message_id: str = ""
    size: int | None = None
    error: str = ""


def inbound_store_many(
    *, account: ChannelAccount, folder: str, uidvalidity: int, mails: Sequence[StoredMail]
) -> list[InboundEmail]:
    """:func:`inbound_store` for a batch in one insert: the UIDs stored already are skipped.
    Returns the new rows in UID order. A concurrent poll storing the same UIDs meanwhile
    falls back to one insert per mail (each still insert-or-ignore)."""
    _check_tenant(account)
    if not mails:
        return []
    known = set(
        InboundEmail.objects.filter(
            account=account, folder=folder, uidvalidity=uidvalidity,
            uid__in=[m.uid for m in mails],
        ).values_list("uid", flat=True)
    )  # fmt: skip
    rows = [
        InboundEmail(
            tenant_id=account.tenant_id,
            account=account,
            folder=folder,
            uidvalidity=uidvalidity,
            uid=m.uid,
            message_id=m.message_id[:255],
            raw=m.raw,
            size=len(m.raw) if m.size is None else m.size,
            status=InboundEmail.Status.FAILED if m.error else InboundEmail.Status.RECEIVED,
            error=m.error,
        )
        for m in mails
        if m.uid not in known
    ]
    try:
        with transaction.atomic():
            return InboundEmail.objects.bulk_create(rows)
    except IntegrityError:
        stored = [
            inbound_store(account=account, folder=folder, uidvalidity=uidvalidity, uid=m.uid,
                          raw=m.raw, size=m.size, message_id=m.message_id, error=m.error)
            for m in mails
            if m.uid not in known
        ]  # fmt: skip
        return [row for row in stored if row is not None]


def inbound_process_batch(rows: Sequence[InboundEmail]) -> list[str]:
    """:func:`inbound_process` for stored rows in one transaction (one commit, each ticket
    pushed once), set-based (``email.batch``). Returns each row's status."""
    if rows:
        _check_tenant(rows[0].account)
    with live.collecting(), transaction.atomic():
        emails_file_batch(rows)
    return [row.status for row in rows]


def inbound_process(stored: InboundEmail) -> Message | None:
    """Parse ``stored`` and file it (``channels_conn.email.receive``). Idempotent. Returns the
    message filed, or None (a duplicate, our own mail coming back, automatic mail set aside,
    or a failure, recorded on the row)."""
    account = stored.account
    _check_tenant(account)
    if stored.status == InboundEmail.Status.PROCESSED:
        return None
    try:
        parsed = parse_email(bytes(stored.raw))
        with transaction.atomic():
            outcome = email_file(stored, parsed)
            InboundEmail.objects.filter(pk=stored.pk).update(
                status=outcome.status, error=outcome.note[:2000], content_hash=parsed.content_hash
            )
    except Exception as exc:  # a poisonous email is set aside, the rest flows
        log.exception("email %s of account %s failed", stored.pk, account.pk)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        InboundEmail.objects.filter(pk=stored.pk).update(
            status=InboundEmail.Status.FAILED, error=error
        )
        stored.status, stored.error = InboundEmail.Status.FAILED, error
        return None
    stored.status = outcome.status
    return outcome.message


def inbound_retry(stored: InboundEmail) -> InboundEmail:
    """Run a failed email through parsing and filing again, from its stored raw bytes (after
    a fix, or when the failure was passing). A row stored without its body (over the size
    limit) cannot be retried from here. Returns the row as it ends (processed or failed)."""
    _check_tenant(stored.account)
    if stored.status != InboundEmail.Status.FAILED or not stored.raw:
        return stored
    InboundEmail.objects.filter(pk=stored.pk, status=InboundEmail.Status.FAILED).update(
        status=InboundEmail.Status.RECEIVED
    )
    stored.status = InboundEmail.Status.RECEIVED
    inbound_process(stored)
    stored.refresh_from_db(fields=["status", "error"])
    return stored
