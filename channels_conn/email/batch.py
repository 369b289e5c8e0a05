"""Filing a batch of stored emails in one transaction (``tickets.services.receive_batch``).

Contract of :func:`emails_file_batch`: every stored row ends ``processed``, ``duplicate``,
``ignored`` or ``failed`` exactly as :func:`channels_conn.services.inbound_process` would have
left it one by one, in the order given. A customer's new mail (the common case) is collected
and filed with the others in one ``messages_receive_batch``; anything that needs a decision
against what is already filed (a Message-ID seen before, in the database or earlier in the
batch; automatic mail and bounces; our own mail coming back) first files what was collected,
then goes the one-by-one way (``receive.email_file``) in its own savepoint. A mail that cannot
be parsed or filed is marked failed alone: its raw bytes stay, visible and retriable. When the
set-based filing fails (a concurrent poll created the same customer meanwhile), its savepoint
is rolled back and those mails go one by one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, transaction

from channels_conn.email import classify
from channels_conn.email.parse import ParsedEmail, parse_email
from channels_conn.email.receive import (
    Outcome,
    _domain_of,
    _own_domain,
    customer_of,
    email_file,
    inbound_of,
    is_our_own_echo,
    participant_rows,
)
from channels_conn.models import EmailParticipant, InboundEmail
from tickets.models import Message
from tickets.services.receive_batch import ReceiveItem, messages_receive_batch

log = logging.getLogger(__name__)
Status = InboundEmail.Status


@dataclass
class _Pending:
    row: InboundEmail
    parsed: ParsedEmail
    item: ReceiveItem
    customer: str


def emails_file_batch(rows: Sequence[InboundEmail]) -> None:
    """See the module docstring. Sets each row's ``status``; the caller's transaction (or
    savepoint) holds the batch."""
    parsed = {row.pk: _parse(row) for row in rows if row.status != Status.PROCESSED}
    filed = _filed_ids(rows, parsed)
    seen: set[tuple[int, str]] = set()
    pending: list[_Pending] = []
    for row in rows:
        mail = parsed.get(row.pk)
        if mail is None:
            continue  # processed already, or failed to parse (marked)
        fast = _fast_item(row, mail, filed, seen)
        if fast is not None:
            pending.append(fast)
            continue
        _flush(pending)
        pending = []
        _one_by_one(row, mail)
        seen.add(_id_key(row, mail))
    _flush(pending)


def _id_key(row: InboundEmail, parsed: ParsedEmail) -> tuple[int, str]:
    return row.account_id, parsed.message_id or f"imap:{row.folder}:{row.uidvalidity}:{row.uid}"


def _parse(row: InboundEmail) -> ParsedEmail | None:
    try:
        return parse_email(bytes(row.raw))
    except Exception as exc:  # a poisonous email is set aside, the rest flows
        _fail(row, exc)
        return None


def _fail(row: InboundEmail, exc: BaseException) -> None:
    log.error("email %s of account %s failed", row.pk, row.account_id, exc_info=exc)
    error = f"{type(exc).__name__}: {exc}"[:2000]
    InboundEmail.objects.filter(pk=row.pk).update(status=Status.FAILED, error=error)
    row.status, row.error = Status.FAILED, error


def _filed_ids(
    rows: Sequence[InboundEmail], parsed: dict[int, ParsedEmail | None]
) -> set[tuple[int, str]]:
    """The batch's Message-IDs already used by a message of their account: one query."""
    keys = {_id_key(row, p) for row in rows if (p := parsed.get(row.pk)) is not None}
    accounts = {account_id for account_id, _id in keys}
    found = Message.objects.filter(
        account_id__in=accounts, provider_id__in={i for _a, i in keys}
    ).values_list("account_id", "provider_id")
    return {(a, p or "") for a, p in found}


def _fast_item(
    row: InboundEmail,
    parsed: ParsedEmail,
    filed: set[tuple[int, str]],
    seen: set[tuple[int, str]],
) -> _Pending | None:
    """The mail as a batch item when it is a person's new mail; None: one by one."""
    key = _id_key(row, parsed)
    account = row.account
    if key in filed or key in seen or parsed.is_automatic or is_our_own_echo(account, parsed):
        return None
    if _domain_of(parsed.message_id) == _own_domain(account) and parsed.kind == classify.PERSON:
        # Our own sending domain on someone else's mail: no automatic answer (loop guard).
        parsed = dataclasses.replace(parsed, kind=classify.BULK)
    customer = customer_of(account, parsed)
    if not customer[0]:
        return None  # fails one by one, with its reason
    seen.add(key)
    inbound = dataclasses.replace(
        inbound_of(parsed, key[1], None, customer), thread_ticket_number=parsed.ticket_number
    )
    references = tuple(i for i in (parsed.in_reply_to, *reversed(parsed.references)) if i)
    item = ReceiveItem(account=account, inbound=inbound, references=references)
    return _Pending(row, parsed, item, customer[0])


def _flush(pending: list[_Pending]) -> None:
    """File the collected mails in one set-based step; one by one if that fails."""
    if not pending:
        return
    try:
        with transaction.atomic():
            received = messages_receive_batch(
                tenant_id=pending[0].row.tenant_id, items=[p.item for p in pending]
            )
            people: list[EmailParticipant] = []
            for p, result in zip(pending, received, strict=True):
                ticket = result.message.ticket
                people += participant_rows(p.row.account, ticket, p.parsed, p.customer)
            EmailParticipant.objects.bulk_create(people, ignore_conflicts=True)
            for p in pending:
                p.row.status, p.row.error = Status.PROCESSED, ""
                p.row.content_hash = p.parsed.content_hash
            InboundEmail.objects.bulk_update(
                [p.row for p in pending], ["status", "error", "content_hash"]
            )
    except (OperationalError, InterfaceError):
        raise  # the database is gone: the rows stay stored, the next poll files them
    except Exception:
        log.warning("a batch of %d emails goes one by one", len(pending), exc_info=True)
        for p in pending:
            p.row.status = Status.RECEIVED
            _one_by_one(p.row, p.parsed)


def _one_by_one(row: InboundEmail, parsed: ParsedEmail) -> None:
    """``inbound_process`` with the mail parsed already: its own savepoint."""
    try:
        with transaction.atomic():
            outcome: Outcome = email_file(row, parsed)
            InboundEmail.objects.filter(pk=row.pk).update(
                status=outcome.status, error=outcome.note[:2000], content_hash=parsed.content_hash
            )
    except Exception as exc:
        _fail(row, exc)
        return
    row.status = outcome.status
