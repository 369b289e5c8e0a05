"""Filing one parsed, stored email: which ticket, who the customer is, what a robot sent.

Contract of :func:`email_file`: decides and files, inside the account's tenant context, and
returns an :class:`Outcome` (the InboundEmail status to record, the message if one was filed,
a note). The decisions, each from the issue it fixes:

* duplicates — the same Message-ID with the same content (``parse.content_hash``) is one
  message; a different mail reusing a Message-ID gets its own provider id;
* threading — ``[#n]`` in the subject, else In-Reply-To/References against the account's
  messages; no reference means a new conversation (a new ticket), however many tickets the
  customer has open; a reply to a closed ticket follows the reopen window;
* automatic mail and bounces never open a ticket: shown muted on the ticket they refer to, or
  set aside as ``ignored`` for the mailbox's «correo ignorado» list; a bounce of our reply
  marks it failed with the reason;
* who to answer — ``Reply-To`` is the customer when a person's mail carries one that is not
  ours; the other To/Cc people are the ticket's participants (never our own addresses).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass

from django.db import transaction

from channels_conn.email import classify
from channels_conn.email.parse import ParsedEmail, content_hash
from channels_conn.models import ChannelAccount, EmailParticipant, InboundEmail
from deskconfig.kinds import ChannelKind
from tickets import live
from tickets import services as tickets
from tickets.history import event_record
from tickets.models import (
    Attachment,
    AuthorKind,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Ticket,
)

log = logging.getLogger(__name__)
Status = InboundEmail.Status


@dataclass(frozen=True)
class Outcome:
    status: str
    message: Message | None = None
    note: str = ""


def own_addresses(account: ChannelAccount) -> set[str]:
    """Every address the desk receives at (all the tenant's mailboxes and their aliases)."""
    cached = getattr(account, "_own_addresses", None)
    if cached is not None:
        return set(cached)
    found: set[str] = set()
    for settings in ChannelAccount.objects.filter(kind=ChannelKind.EMAIL).values_list(
        "settings", flat=True
    ):
        s = settings or {}
        for value in [s.get("address"), s.get("imap_user"), *(s.get("aliases") or [])]:
            if value and "@" in str(value):
                found.add(str(value).strip().lower())
    account._own_addresses = frozenset(found)  # type: ignore[attr-defined]
    return found


def _own_domain(account: ChannelAccount) -> str:
    address = str((account.settings or {}).get("address") or "").strip().lower()
    return address.rsplit("@", 1)[1] if "@" in address else ""


def _domain_of(message_id: str) -> str:
    return message_id.rsplit("@", 1)[1].lower() if "@" in message_id else ""


# --- duplicates ------------------------------------------------------------------------------


ECHO = "echo"  # provider_id_for: one of the mails we sent, coming back


def provider_id_for(stored: InboundEmail, parsed: ParsedEmail) -> str | None:
    """The message's provider id; None when this mail was filed already (a duplicate);
    :data:`ECHO` when it is a mail we sent.

    A Message-ID already used by a different mail gets a suffix of this mail's content hash,
    so that broken senders who reuse ids lose nothing."""
    base = parsed.message_id or f"imap:{stored.folder}:{stored.uidvalidity}:{stored.uid}"
    direction = (
        Message.objects.filter(account=stored.account, provider_id=base)
        .values_list("direction", flat=True)
        .first()
    )
    if direction is None:
        return base
    if direction == Direction.OUT:
        return ECHO
    if _same_content_filed(stored, parsed):
        return None
    alternate = f"{base[:200]}#{parsed.content_hash[:16]}"
    if Message.objects.filter(account=stored.account, provider_id=alternate).exists():
        return None
    return alternate


def _same_content_filed(stored: InboundEmail, parsed: ParsedEmail) -> bool:
    earlier = (
        InboundEmail.objects.filter(account=stored.account, message_id=stored.message_id)
        .exclude(pk=stored.pk)
        .filter(status=Status.PROCESSED)
        .only("id", "content_hash")
    )
    for row in earlier:
        digest = row.content_hash
        if not digest:  # stored before hashes were kept
            raw = InboundEmail.objects.filter(pk=row.pk).values_list("raw", flat=True).first()
            digest = content_hash(bytes(raw or b""))
        if digest == parsed.content_hash:
            return True
    return False


# --- threading -------------------------------------------------------------------------------


def thread_ticket(account: ChannelAccount, parsed: ParsedEmail) -> Ticket | None:
    """The ticket this mail answers, whatever its status (merges followed); None: new."""
    ticket = None
    if parsed.ticket_number is not None:
        ticket = Ticket.objects.filter(account=account, number=parsed.ticket_number).first()
    ids = [i for i in (parsed.in_reply_to, *reversed(parsed.references)) if i]
    if ticket is None and ids:
        rows = dict(
            Message.objects.filter(account=account, provider_id__in=ids).values_list(
                "provider_id", "ticket_id"
            )
        )
        found = next((rows[i] for i in ids if i in rows), None)
        ticket = Ticket.objects.filter(pk=found).first() if found else None
    for _hop in range(10):  # a merged ticket's mail goes where it was merged
        if ticket is None or ticket.merged_into_id is None:
            break
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
    return ticket


# --- automatic mail --------------------------------------------------------------------------


def _apply_bounce(account: ChannelAccount, parsed: ParsedEmail) -> Message | None:
    """Our reply that bounced, marked failed with the reason; None when it is not ours."""
    if not parsed.bounce_original_id:
        return None
    ours = Message.objects.filter(
        account=account, provider_id=parsed.bounce_original_id, direction=Direction.OUT
    ).first()
    if ours is not None:
        tickets.message_update_status(
            account=account,
            provider_id=parsed.bounce_original_id,
            status=DeliveryStatus.FAILED,
            reason=parsed.bounce_reason or parsed.subject or "bounce",
        )
    return ours


def automatic_message_add(
    *, account: ChannelAccount, ticket: Ticket, parsed: ParsedEmail, provider_id: str
) -> Message:
    """A robot's mail shown muted on ``ticket``: no reopening, no SLA, no automatic answer."""
    with transaction.atomic():
        message = Message.objects.create(
            tenant_id=account.tenant_id,
            ticket=ticket,
            account=account,
            direction=Direction.IN,
            author_kind=AuthorKind.CUSTOMER,
            text=parsed.text,
            html=parsed.html,
            provider_id=provider_id,
            is_automatic=True,
            status=DeliveryStatus.RECEIVED,
            created_at=parsed.date or ticket.updated_at,
        )
        store_files(message, parsed)
        event_record(
            ticket=ticket,
            kind=EventKind.MESSAGE_IN,
            data={"message": message.pk, "auto_submitted": True, "automatic": parsed.kind},
            push=False,  # the ticket itself does not change: only its thread gets the message
        )
        live.message_added(message)
    return message


def store_files(message: Message, parsed: ParsedEmail) -> None:
    from django.core.files.base import ContentFile

    for item in parsed.attachments:
        attachment = Attachment(
            tenant_id=message.tenant_id,
            message=message,
            name=item.name[:255],
            size=len(item.content),
            content_type=item.content_type[:120],
            sha256=hashlib.sha256(item.content).hexdigest(),
            content_id=item.content_id[:255],
        )
        attachment.file.save(item.name, ContentFile(item.content), save=False)
        attachment.save()


def _file_automatic(stored: InboundEmail, parsed: ParsedEmail, provider_id: str) -> Outcome:
    account = stored.account
    ticket = thread_ticket(account, parsed)
    note = ""
    if parsed.is_bounce:
        ours = _apply_bounce(account, parsed)
        if ours is not None:
            ticket = ours.ticket
            note = f"rebote de {parsed.bounce_original_id}: {parsed.bounce_reason}"
    elif ticket is None and parsed.bounce_original_id:  # a delay notice names its mail
        about = (
            Message.objects.filter(account=account, provider_id=parsed.bounce_original_id)
            .select_related("ticket")
            .first()
        )
        ticket = about.ticket if about is not None else None
    if ticket is None:
        reason = parsed.bounce_reason or parsed.subject or parsed.kind
        return Outcome(Status.IGNORED, None, f"{_kind_label(parsed)}: {reason}"[:2000])
    message = automatic_message_add(
        account=account, ticket=ticket, parsed=parsed, provider_id=provider_id
    )
    return Outcome(Status.PROCESSED, message, note)


def _kind_label(parsed: ParsedEmail) -> str:
    return "rebote" if parsed.is_bounce else "automático"


# --- people ----------------------------------------------------------------------------------


def is_our_own_echo(account: ChannelAccount, parsed: ParsedEmail) -> bool:
    """Our own outgoing mail coming back (a copy to ourselves, a looping forward, a synced
    sent folder) from our address with our domain; one of the Message-IDs we sent is found
    by :func:`provider_id_for`."""
    if parsed.from_address not in own_addresses(account):
        return False
    domain = _own_domain(account)
    return bool(domain) and domain in {
        _domain_of(parsed.message_id),
        _domain_of(parsed.in_reply_to),
    }


def customer_of(account: ChannelAccount, parsed: ParsedEmail) -> tuple[str, str]:
    """(address, name) of the person to answer: Reply-To on a person's mail (a web form's
    relay is not the customer), else From."""
    reply = parsed.reply_to_address
    if reply and parsed.kind == classify.PERSON and reply not in own_addresses(account):
        return reply, parsed.reply_to_name
    return parsed.from_address, parsed.from_name


def participants_add(
    account: ChannelAccount, ticket: Ticket, parsed: ParsedEmail, customer: str
) -> None:
    """The mail's other people (To, Cc, a From that Reply-To replaced) on the ticket."""
    rows = participant_rows(account, ticket, parsed, customer)
    if rows:
        EmailParticipant.objects.bulk_create(rows, ignore_conflicts=True)


def participant_rows(
    account: ChannelAccount, ticket: Ticket, parsed: ParsedEmail, customer: str
) -> list[EmailParticipant]:
    """The rows :func:`participants_add` inserts (a batch inserts all of its mails' at once)."""
    ours = own_addresses(account)
    people = [*parsed.to, *parsed.cc]
    if parsed.from_address != customer:
        people.append((parsed.from_name, parsed.from_address))
    if parsed.kind != classify.PERSON:
        people = list(parsed.cc)
    rows = {
        addr: EmailParticipant(
            tenant_id=account.tenant_id, ticket=ticket, address=addr, name=name[:200]
        )
        for name, addr in people
        if addr and addr not in ours and addr != customer and len(addr) <= 254
    }
    return list(rows.values())


def participants_of(ticket: Ticket) -> list[str]:
    """The addresses kept on the Cc of replies on ``ticket`` (never the desk's own)."""
    return list(
        EmailParticipant.objects.filter(ticket=ticket)
        .order_by("id")
        .values_list("address", flat=True)
    )


def inbound_of(
    parsed: ParsedEmail, provider_id: str, thread: Ticket | None, customer: tuple[str, str]
) -> tickets.Inbound:
    files = tuple(
        tickets.IncomingFile(
            name=f.name, content=f.content, content_type=f.content_type, content_id=f.content_id
        )
        for f in parsed.attachments
    )
    return tickets.Inbound(
        identity=customer[0],
        text=parsed.text,
        html=parsed.html,
        provider_id=provider_id,
        customer_name=customer[1],
        subject=parsed.subject,
        reply_to_provider_id=parsed.in_reply_to or None,
        received_at=parsed.date,
        attachments=files,
        thread_ticket_number=thread.number if thread is not None else None,
        auto_submitted=parsed.auto_submitted,
        preview=parsed.preview_text,
        new_conversation=True,
    )


def email_file(stored: InboundEmail, parsed: ParsedEmail) -> Outcome:
    """See the module docstring."""
    account = stored.account
    provider_id = provider_id_for(stored, parsed)
    if provider_id is None:
        return Outcome(Status.DUPLICATE, None, f"duplicado de {parsed.message_id}")
    if parsed.is_automatic and provider_id != ECHO:
        return _file_automatic(stored, parsed, provider_id)
    if provider_id == ECHO or is_our_own_echo(account, parsed):
        log.info("email %s of account %s is our own mail: not filed", stored.pk, account.pk)
        return Outcome(Status.PROCESSED, None, "")
    if _domain_of(parsed.message_id) == _own_domain(account) and parsed.kind == classify.PERSON:
        # Our own sending domain on someone else's mail: no automatic answer (loop guard).
        parsed = dataclasses.replace(parsed, kind=classify.BULK)
    customer = customer_of(account, parsed)
    if not customer[0]:
        raise ValueError("the email has no sender address")
    thread = thread_ticket(account, parsed)
    received = tickets.message_receive(
        account=account, inbound=inbound_of(parsed, provider_id, thread, customer)
    )
    participants_add(account, received.message.ticket, parsed, customer[0])
    return Outcome(Status.PROCESSED, received.message, "")
