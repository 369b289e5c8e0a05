"""Receiving email from a real Dovecot: storing, threading, duplicates, failures."""

from __future__ import annotations

import socket
import time

import pytest
from imapclient import IMAPClient

from channels_conn.email.imap import poll_account
from channels_conn.models import ChannelAccount, InboundEmail, MailboxState
from tests.channels.conftest import Dovecot
from tests.channels.test_email_parse import bounce_of
from tickets.models import DeliveryStatus, Direction, Event, EventKind, Message, Ticket

pytestmark = pytest.mark.django_db


def mail(
    msgid: str,
    *,
    sender: str = "ana@example.test",
    subject: str = "Pedido atrasado",
    body: str = "Hola, mi pedido no llega.",
    extra: str = "",
) -> bytes:
    return (
        f"From: Ana <{sender}>\r\nTo: soporte@tienda.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <{msgid}>\r\nDate: Tue, 24 Nov 2026 10:00:00 -0300\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def seen_flags(dovecot: Dovecot) -> list[bool]:
    with dovecot.client() as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search(["ALL"]))
    return [b"\\Seen" in f for _uid, f in sorted(flags.items())]


def test_plain_mail_becomes_a_ticket_and_is_marked_seen(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("m1@example.test"))
    result = poll_account(email_account)
    assert (result.stored, result.processed, result.failed) == (1, 1, 0)
    message = Message.objects.get(provider_id="m1@example.test")
    assert message.text.strip() == "Hola, mi pedido no llega."
    assert message.ticket.subject == "Pedido atrasado"
    stored = InboundEmail.objects.get()
    assert stored.status == InboundEmail.Status.PROCESSED and bytes(stored.raw).startswith(b"From")
    assert seen_flags(mailbox) == [True]
    assert poll_account(email_account).stored == 0  # nothing new the second time


def test_reply_threads_by_header_and_by_subject_token(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("first@example.test"))
    poll_account(email_account)
    ticket = Message.objects.get(provider_id="first@example.test").ticket
    # A reply from another address, found by In-Reply-To: a foreign sender on the same ticket.
    mailbox.append(
        mail(
            "second@example.test",
            sender="jefe@example.test",
            subject="Re: Pedido atrasado",
            extra="In-Reply-To: <first@example.test>\r\n",
        )
    )
    # A reply found only by the "[#n]" token in its subject.
    mailbox.append(mail("third@example.test", subject=f"RE: [#{ticket.number}] Pedido atrasado"))
    poll_account(email_account)
    second = Message.objects.get(provider_id="second@example.test")
    third = Message.objects.get(provider_id="third@example.test")
    assert second.ticket_id == ticket.pk and third.ticket_id == ticket.pk
    assert second.reply_to is not None and second.reply_to.provider_id == "first@example.test"
    foreign = Event.objects.get(ticket=ticket, kind=EventKind.MESSAGE_IN, data__message=second.pk)
    assert foreign.data.get("foreign_sender") is True


def test_token_of_a_closed_ticket_opens_a_new_one(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("a@example.test"))
    poll_account(email_account)
    ticket = Message.objects.get(provider_id="a@example.test").ticket
    Ticket.objects.filter(pk=ticket.pk).update(status="closed")
    mailbox.append(mail("b@example.test", subject=f"Re: [#{ticket.number}] Pedido"))
    poll_account(email_account)
    assert Message.objects.get(provider_id="b@example.test").ticket_id != ticket.pk


def test_same_message_delivered_twice_is_kept_once(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("dup@example.test"))
    mailbox.append(mail("dup@example.test"))
    result = poll_account(email_account)
    # Both raw copies are stored; the second is recognised as the same mail after storing.
    assert (result.stored, result.duplicates) == (2, 1)
    assert Message.objects.filter(direction=Direction.IN).count() == 1
    statuses = sorted(InboundEmail.objects.values_list("status", flat=True))
    assert statuses == [InboundEmail.Status.DUPLICATE, InboundEmail.Status.PROCESSED]
    assert seen_flags(mailbox) == [True, True]


def test_uidvalidity_change_rescans_without_duplicates(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("u1@example.test"))
    poll_account(email_account)
    before = MailboxState.objects.get().uidvalidity
    time.sleep(1.1)  # Dovecot's UIDVALIDITY is the creation time in seconds
    mailbox.reset()  # the server recreates the mailbox: a new UIDVALIDITY, UIDs from 1 again
    mailbox.append(mail("u1@example.test"))
    mailbox.append(mail("u2@example.test"))
    poll_account(email_account)
    state = MailboxState.objects.get()
    assert state.uidvalidity != before and state.last_uid == 2
    assert sorted(Message.objects.values_list("provider_id", flat=True)) == [
        "u1@example.test",
        "u2@example.test",
    ]


def test_oversize_mail_is_kept_as_a_visible_failure(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("big@example.test", body="x" * 150_000))
    mailbox.append(mail("small@example.test"))
    result = poll_account(email_account)
    assert (result.oversize, result.processed) == (1, 1)
    big = InboundEmail.objects.get(status=InboundEmail.Status.FAILED)
    assert big.size > 150_000 and bytes(big.raw) == b"" and "too large" in big.error
    assert Message.objects.filter(provider_id="small@example.test").exists()


def test_auto_reply_is_stored_and_flagged(email_account: ChannelAccount, mailbox: Dovecot) -> None:
    mailbox.append(mail("first@example.test"))
    mailbox.append(mail("lost@example.test", extra="Auto-Submitted: auto-replied\r\n"))
    mailbox.append(
        mail(
            "auto@example.test",
            extra="Auto-Submitted: auto-replied\r\nIn-Reply-To: <first@example.test>\r\n",
        )
    )
    poll_account(email_account)
    # About a ticket: shown muted on it. About nothing we know: set aside, not a ticket.
    message = Message.objects.get(provider_id="auto@example.test")
    assert message.is_automatic and message.ticket.messages.count() == 2
    event = Event.objects.get(kind=EventKind.MESSAGE_IN, data__message=message.pk)
    assert event.data.get("auto_submitted") is True
    assert Ticket.objects.count() == 1
    ignored = InboundEmail.objects.get(message_id="lost@example.test")
    assert ignored.status == InboundEmail.Status.IGNORED


def test_bounce_marks_our_message_failed(email_account: ChannelAccount, mailbox: Dovecot) -> None:
    mailbox.append(mail("c@example.test"))
    poll_account(email_account)
    inbound = Message.objects.get(provider_id="c@example.test")
    ours = Message.objects.create(
        tenant_id=email_account.tenant_id,
        ticket=inbound.ticket,
        account=email_account,
        direction=Direction.OUT,
        text="Respuesta",
        provider_id="ours@tienda.test",
        status=DeliveryStatus.SENT,
    )
    mailbox.append(bounce_of("ours@tienda.test"))
    poll_account(email_account)
    ours.refresh_from_db()
    assert ours.status == DeliveryStatus.FAILED and "User unknown" in ours.failure_reason
    assert Ticket.objects.count() == 1  # no ticket for it: shown muted on ours
    bounce = Message.objects.get(direction=Direction.IN, is_automatic=True)
    assert bounce.ticket_id == inbound.ticket_id


def test_server_going_away_loses_and_duplicates_nothing(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("s1@example.test"))
    poll_account(email_account)
    mailbox.append(mail("s2@example.test"))
    mailbox.stop()
    try:
        with pytest.raises(OSError):
            poll_account(email_account)
        # Told as the connection test tells it, in the tenant's language.
        assert "rechazó la conexión" in MailboxState.objects.get().last_error
    finally:
        mailbox.start()
    mailbox.append(mail("s3@example.test"))
    poll_account(email_account)
    assert MailboxState.objects.get().last_error == ""
    assert sorted(Message.objects.values_list("provider_id", flat=True)) == [
        "s1@example.test",
        "s2@example.test",
        "s3@example.test",
    ]


def test_server_dying_between_batches_resumes_from_the_saved_uid(
    email_account: ChannelAccount, mailbox: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dovecot dies after the first batch was stored and marked: the rest is fetched
    by the next poll, the first batch is not stored again."""
    from channels_conn.email import imap

    for n in range(3):
        mailbox.append(mail(f"mid{n}@example.test"))
    monkeypatch.setattr(imap, "BODY_BATCH_BYTES", 1)  # one message per batch
    real_mark = imap._mark_processed

    def mark_then_die(client: IMAPClient, *args: object) -> None:
        real_mark(client, *args)  # type: ignore[arg-type]
        mailbox.stop()
        # Dovecot's running imap process may outlive its master: drop our socket too.
        client.socket().shutdown(socket.SHUT_RDWR)

    monkeypatch.setattr(imap, "_mark_processed", mark_then_die)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the dead socket raises
            poll_account(email_account)
    finally:
        monkeypatch.setattr(imap, "_mark_processed", real_mark)
        mailbox.start()
    state = MailboxState.objects.get()
    assert state.last_uid == 1 and state.last_error
    assert InboundEmail.objects.count() == 1
    poll_account(email_account)
    assert sorted(Message.objects.values_list("provider_id", flat=True)) == [
        f"mid{n}@example.test" for n in range(3)
    ]
    assert InboundEmail.objects.count() == 3


def test_move_policy_moves_stored_mail_to_the_processed_folder(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    email_account.settings = {**email_account.settings, "processed_policy": "move:Processed"}
    mailbox.append(mail("mv@example.test"))
    poll_account(email_account)
    assert Message.objects.filter(provider_id="mv@example.test").exists()
    with mailbox.client() as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["ALL"]) == []
        client.select_folder("Processed", readonly=True)
        assert len(client.search(["ALL"])) == 1
