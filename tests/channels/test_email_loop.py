"""Our own outgoing mail coming back is not turned into a customer conversation (no loop):
from our own address with our Message-ID domain, or one of the Message-IDs we sent."""

from __future__ import annotations

import email
import email.policy

import pytest

from channels_conn.email.imap import poll_account
from channels_conn.models import ChannelAccount, InboundEmail
from tests.channels.conftest import ADDRESS, Dovecot, Smtp
from tests.channels.test_email_imap import mail
from tests.conftest import Cast
from tickets import services
from tickets.models import Customer, Event, EventKind, Message, Ticket

pytestmark = pytest.mark.django_db


def test_our_sent_mail_delivered_back_to_our_inbox_is_not_filed(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot, smtp_server: Smtp
) -> None:
    mailbox.append(mail("ask@example.test"))
    poll_account(email_account)
    inbound = Message.objects.get(provider_id="ask@example.test")
    out = services.message_send(ticket=inbound.ticket, author=in_a.agent, text="Respuesta")
    services.message_deliver(message_id=out.pk)
    # The exact bytes we sent land in our own inbox (a copy to ourselves, a synced folder...).
    sent = smtp_server.handler.envelopes[-1].content
    mailbox.append(sent)
    result = poll_account(email_account)
    assert (result.stored, result.processed, result.failed) == (1, 1, 0)
    assert Message.objects.count() == 2 and Ticket.objects.count() == 1
    assert not Customer.objects.filter(identities__value=ADDRESS).exists()
    assert InboundEmail.objects.filter(status=InboundEmail.Status.PROCESSED).count() == 2


def test_mail_from_our_address_with_our_domain_in_its_ids_is_not_filed(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    # E.g. an autoresponder elsewhere bounced our auto-reply back under our own name.
    mailbox.append(mail("loop-1@tienda.test", sender=ADDRESS, subject="Re: Recibimos tu mensaje"))
    mailbox.append(
        mail(
            "elsewhere@mailer.test",
            sender=ADDRESS,
            extra="In-Reply-To: <auto-9@tienda.test>\r\n",
        )
    )
    assert poll_account(email_account).processed == 2
    assert not Message.objects.exists() and not Ticket.objects.exists()


def test_our_address_from_another_domain_id_is_still_filed(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    # Someone typing from the shared mailbox in a mail client: a person, not an echo.
    mailbox.append(mail("typed@gmail.test", sender=ADDRESS, subject="Prueba"))
    poll_account(email_account)
    assert Message.objects.filter(provider_id="typed@gmail.test").exists()


def test_someone_elses_mail_with_our_message_id_domain_is_filed_as_automatic(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("odd-1@tienda.test", sender="ana@example.test"))
    poll_account(email_account)
    message = Message.objects.get(provider_id="odd-1@tienda.test")
    event = Event.objects.get(kind=EventKind.MESSAGE_IN, data__message=message.pk)
    assert event.data.get("auto_submitted") is True  # no automatic reply to it


def test_the_sent_mail_really_carries_our_domain(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot, smtp_server: Smtp
) -> None:
    """The premise of the checks above: our Message-IDs use the account address's domain."""
    mailbox.append(mail("ask2@example.test"))
    poll_account(email_account)
    inbound = Message.objects.get(provider_id="ask2@example.test")
    out = services.message_send(ticket=inbound.ticket, author=in_a.agent, text="Hola")
    services.message_deliver(message_id=out.pk)
    sent = email.message_from_bytes(
        smtp_server.handler.envelopes[-1].content, policy=email.policy.default
    )
    assert str(sent["Message-ID"]).strip("<>").endswith("@tienda.test")
