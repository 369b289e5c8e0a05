"""Sending email through the SMTP connector to a real aiosmtpd, and the customer's reply
threading back from Dovecot into the same ticket."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from channels_conn.base import ConnectorError, connector_for
from channels_conn.email.imap import poll_account
from channels_conn.email.smtp import SmtpConnector
from deskconfig.accounts import ChannelAccount
from tests.channels.conftest import Dovecot, Smtp
from tests.channels.test_email_imap import mail
from tests.conftest import Cast
from tickets import services
from tickets.models import DeliveryStatus, Message

pytestmark = pytest.mark.django_db


def _last_mail(smtp: Smtp) -> EmailMessage:
    envelope = smtp.handler.envelopes[-1]
    parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _reply(in_a: Cast, inbound: Message, text: str, **kw: object) -> Message:
    return services.message_send(
        ticket=inbound.ticket, author=in_a.agent, text=text, reply_to=inbound, **kw
    )  # type: ignore[arg-type]


def test_the_email_connector_is_registered() -> None:
    assert isinstance(connector_for("email"), SmtpConnector)


def test_reply_is_sent_threaded_and_the_answer_comes_back(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot, smtp_server: Smtp
) -> None:
    mailbox.append(mail("cust1@example.test"))
    poll_account(email_account)
    inbound = Message.objects.get(provider_id="cust1@example.test")
    out = services.message_send(
        ticket=inbound.ticket,
        author=in_a.agent,
        text="Hola Ana,\n<revisamos> tu pedido.",
        reply_to=inbound,
        files=[
            services.IncomingFile(name="guia.pdf", content=b"%PDF", content_type="application/pdf")
        ],
        is_public=False,
    )
    services.message_deliver(message_id=out.pk)
    out.refresh_from_db()
    assert out.status == DeliveryStatus.SENT
    assert out.provider_id is not None and out.provider_id.endswith("@tienda.test")

    sent = _last_mail(smtp_server)
    number = inbound.ticket.number
    assert sent["Subject"] == f"[#{number}] Pedido atrasado"
    assert sent["From"].addresses[0].addr_spec == "soporte@tienda.test"
    assert sent["To"].addresses[0].addr_spec == "ana@example.test"
    assert sent["Message-ID"] == f"<{out.provider_id}>"
    assert sent["In-Reply-To"] == "<cust1@example.test>"
    assert "<cust1@example.test>" in sent["References"]
    body = sent.get_body(preferencelist=("plain",))
    html = sent.get_body(preferencelist=("html",))
    assert body is not None and "<revisamos>" in body.get_content()
    assert html is not None and "&lt;revisamos&gt;" in html.get_content()
    files = {p.get_filename(): p.get_content() for p in sent.iter_attachments()}
    assert files == {"guia.pdf": b"%PDF"}

    # The customer answers our mail (only In-Reply-To links it; the subject has no token).
    mailbox.append(
        mail(
            "cust2@example.test",
            subject="Re: su pedido",
            extra=f"In-Reply-To: <{out.provider_id}>\r\n",
        )
    )
    poll_account(email_account)
    answer = Message.objects.get(provider_id="cust2@example.test")
    assert answer.ticket_id == inbound.ticket_id


def test_refused_recipient_is_permanent_and_refused_connection_transient(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot, smtp_server: Smtp
) -> None:
    mailbox.append(mail("cust3@example.test"))
    poll_account(email_account)
    inbound = Message.objects.get(provider_id="cust3@example.test")
    out = services.message_send(ticket=inbound.ticket, author=in_a.agent, text="Hola")
    connector = SmtpConnector()

    email_account.settings = {**email_account.settings, "smtp_port": 1}
    with pytest.raises(ConnectorError) as transient:
        connector.send(email_account, out)
    assert transient.value.permanent is False
    # Told as «Probar conexión» tells it, in Spanish, never the library's English.
    assert "rechazó la conexión" in transient.value.reason
    assert "Error" not in transient.value.reason and "Refused" not in transient.value.reason

    email_account.settings = {**email_account.settings, "address": "sin-arroba"}
    with pytest.raises(ConnectorError) as permanent:
        connector.send(email_account, out)
    assert permanent.value.permanent is True
