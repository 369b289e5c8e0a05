"""Receiving email: store the raw bytes first, then parse and hand them to the tickets.

Contract: :func:`inbound_store` is insert-or-ignore on (account, folder, UIDVALIDITY, UID) and,
as a second guard, on the Message-ID; it does no parsing, so nothing the server gave us is
lost. :func:`inbound_process` parses a stored email and calls
``tickets.services.message_receive``; a failure leaves the raw bytes with status ``failed``
and the error, visible to admins and retriable. Both run inside the account's tenant context
and contain no network calls.
"""

from __future__ import annotations

import dataclasses
import logging

from django.db import IntegrityError, transaction

from channels_conn.email.parse import ParsedEmail, parse_email
from channels_conn.models import ChannelAccount, InboundEmail
from helpdesk.tenancy import current_tenant_id
from tickets import services as tickets
from tickets.models import DeliveryStatus, Direction, Message

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

    Returns the new row, or None when this UID or this Message-ID was stored already."""
    _check_tenant(account)
    if message_id and InboundEmail.objects.filter(account=account, message_id=message_id).exists():
        return None
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


def _thread_number(account: ChannelAccount, parsed: ParsedEmail) -> int | None:
    """The ticket this email answers: "[#n]" in the subject, else its In-Reply-To/References
    matched against the account's stored Message-IDs (ours and the customers')."""
    if parsed.ticket_number is not None:
        return parsed.ticket_number
    ids = [i for i in (parsed.in_reply_to, *reversed(parsed.references)) if i]
    if not ids:
        return None
    rows = dict(
        Message.objects.filter(account=account, provider_id__in=ids).values_list(
            "provider_id", "ticket__number"
        )
    )
    return next((rows[i] for i in ids if i in rows), None)


def _inbound_of(parsed: ParsedEmail, provider_id: str, thread: int | None) -> tickets.Inbound:
    files = tuple(
        tickets.IncomingFile(
            name=f.name, content=f.content, content_type=f.content_type, content_id=f.content_id
        )
        for f in parsed.attachments
    )
    return tickets.Inbound(
        identity=parsed.from_address,
        text=parsed.text,
        html=parsed.html,
        provider_id=provider_id,
        customer_name=parsed.from_name,
        subject=parsed.subject,
        reply_to_provider_id=parsed.in_reply_to or None,
        received_at=parsed.date,
        attachments=files,
        thread_ticket_number=thread,
        auto_submitted=parsed.auto_submitted,
        preview=parsed.preview_text,
    )


def _apply_bounce(account: ChannelAccount, parsed: ParsedEmail) -> bool:
    """Mark our original message failed; True when the bounce was about one of ours."""
    if not parsed.bounce_original_id:
        return False
    ours = Message.objects.filter(
        account=account, provider_id=parsed.bounce_original_id, direction=Direction.OUT
    ).exists()
    if ours:
        tickets.message_update_status(
            account=account,
            provider_id=parsed.bounce_original_id,
            status=DeliveryStatus.FAILED,
            reason=parsed.bounce_reason or parsed.subject or "bounce",
        )
    return ours


def _own_address(account: ChannelAccount) -> str:
    return str((account.settings or {}).get("address") or "").strip().lower()


def _domain_of(message_id: str) -> str:
    return message_id.rsplit("@", 1)[1].lower() if "@" in message_id else ""


def _is_our_own_echo(account: ChannelAccount, parsed: ParsedEmail) -> bool:
    """Our own outgoing mail coming back (a copy to ourselves, a forward that loops, a sent
    folder synced into the inbox): from our own address and carrying our Message-ID domain in
    its Message-ID or In-Reply-To, or simply one of the Message-IDs we sent. Filing it would
    make us our own customer and, with automatic replies, a loop."""
    if parsed.message_id and (
        Message.objects.filter(
            account=account, provider_id=parsed.message_id, direction=Direction.OUT
        ).exists()
    ):
        return True
    own = _own_address(account)
    if not own or parsed.from_address != own:
        return False
    domain = own.rsplit("@", 1)[-1]
    return domain in {_domain_of(parsed.message_id), _domain_of(parsed.in_reply_to)}


def _carries_our_domain(account: ChannelAccount, parsed: ParsedEmail) -> bool:
    """A Message-ID of our own sending domain on someone else's mail: treated as automatic
    (no auto-reply), as CHANNELS.md's loop rules say; the mail itself is filed."""
    own = _own_address(account)
    return bool(own) and _domain_of(parsed.message_id) == own.rsplit("@", 1)[-1]


def inbound_process(stored: InboundEmail) -> Message | None:
    """Parse ``stored`` and file it on its ticket. Idempotent (the Message-ID is the
    message's provider id). Returns the message, or None for a bounce of ours, our own mail
    coming back (not filed: see ``_is_our_own_echo``), or a failure."""
    account = stored.account
    _check_tenant(account)
    if stored.status == InboundEmail.Status.PROCESSED:
        return None
    try:
        parsed = parse_email(bytes(stored.raw))
        if parsed.is_bounce and _apply_bounce(account, parsed):
            message = None
        elif _is_our_own_echo(account, parsed):
            log.info("email %s of account %s is our own mail: not filed", stored.pk, account.pk)
            message = None
        else:
            if _carries_our_domain(account, parsed) and not parsed.auto_submitted:
                parsed = dataclasses.replace(parsed, auto_submitted=True)
            if not parsed.from_address:
                raise ValueError("the email has no sender address")
            provider_id = parsed.message_id or (
                f"imap:{stored.folder}:{stored.uidvalidity}:{stored.uid}"
            )
            thread = _thread_number(account, parsed)
            received = tickets.message_receive(
                account=account, inbound=_inbound_of(parsed, provider_id, thread)
            )
            message = received.message
    except Exception as exc:  # a poisonous email is set aside, the rest flows
        log.exception("email %s of account %s failed", stored.pk, account.pk)
        InboundEmail.objects.filter(pk=stored.pk).update(
            status=InboundEmail.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return None
    InboundEmail.objects.filter(pk=stored.pk).update(status=InboundEmail.Status.PROCESSED, error="")
    return message


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
