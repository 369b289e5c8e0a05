"""What an agent sees of real-world mail beyond the corpus: the quoted toggle on the ticket page,
reply-all to the customer's Cc, the mailbox's «correo ignorado» list, and chat channels keeping
their one-open-conversation rule while email opens a ticket per conversation."""

from __future__ import annotations

import email
import email.policy

import pytest

from channels_conn.email.imap import poll_account
from channels_conn.models import ChannelAccount, InboundEmail
from deskconfig.kinds import ChannelKind
from tests.channels.conftest import Dovecot, Smtp
from tests.channels.test_email_imap import mail
from tests.conftest import Cast, client_for
from tests.tickets.factories import ChannelAccountFactory
from tickets import services
from tickets.models import DeliveryStatus, Message, Ticket

pytestmark = pytest.mark.django_db

QUOTED = (
    "Gracias, ya llegó.\r\n\r\nEl lun, 30 nov 2026 a las 10:00, Soporte escribió:\r\n"
    "> Su pedido va en camino.\r\n"
)


def test_the_ticket_page_folds_the_quoted_history(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("q1@example.test", body=QUOTED))
    poll_account(email_account)
    ticket = Message.objects.get(provider_id="q1@example.test").ticket
    page = client_for(in_a.agent).get(f"/tickets/{ticket.number}/").content.decode()
    body = page.split('class="msg-body"', 1)[1].split("</article>", 1)[0]
    shown, folded = body.split('<details class="quoted">', 1)
    assert "Gracias, ya llegó." in shown and "Su pedido va en camino" not in shown
    assert "mostrar texto citado" in folded and "Su pedido va en camino" in folded
    assert ticket.last_message_preview == "Gracias, ya llegó."


def test_reply_all_keeps_the_customers_cc(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot, smtp_server: Smtp
) -> None:
    mailbox.append(
        mail(
            "cc1@example.test",
            extra="Cc: Jefe <jefe@example.test>, soporte@tienda.test\r\n",
        )
    )
    poll_account(email_account)
    inbound = Message.objects.get(provider_id="cc1@example.test")
    out = services.message_send(
        ticket=inbound.ticket, author=in_a.agent, text="Lo vemos.", reply_to=inbound
    )
    services.message_deliver(message_id=out.pk)
    out.refresh_from_db()
    assert out.status == DeliveryStatus.SENT
    envelope = smtp_server.handler.envelopes[-1]
    assert sorted(envelope.rcpt_tos) == ["ana@example.test", "jefe@example.test"]
    sent = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "jefe@example.test" in str(sent["Cc"]) and "soporte@" not in str(sent["Cc"])


def test_the_account_page_lists_ignored_mail(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(
        mail("ooo@example.test", subject="Fuera de la oficina", extra="X-Autoreply: yes\r\n")
    )
    poll_account(email_account)
    ignored = InboundEmail.objects.get(message_id="ooo@example.test")
    assert ignored.status == InboundEmail.Status.IGNORED and not Ticket.objects.exists()
    page = client_for(in_a.admin).get(f"/admin/channels/{email_account.pk}/").content.decode()
    section = page.split('id="ignored"')[1].split("</section>")[0]
    assert f'data-email="{ignored.pk}"' in section and "Fuera de la oficina" in section
    assert f"/admin/channels/{email_account.pk}/emails/{ignored.pk}/eml/" in section


def test_chat_keeps_one_open_conversation_while_email_opens_one_per_thread(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    chat: ChannelAccount = ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.WEBCHAT)
    for n in (1, 2):
        services.message_receive(
            account=chat, inbound=services.Inbound(identity="visitor-1", text=f"hola {n}")
        )
    assert Ticket.objects.filter(account=chat).count() == 1
    mailbox.append(mail("t1@example.test", subject="Pedido"))
    mailbox.append(mail("t2@example.test", subject="Factura"))
    poll_account(email_account)
    assert Ticket.objects.filter(account=email_account).count() == 2


def test_an_automatic_message_leaves_the_ticket_as_it_was(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("base@example.test"))
    poll_account(email_account)
    ticket = Ticket.objects.get()
    Ticket.objects.filter(pk=ticket.pk).update(awaiting_response=False)
    mailbox.append(
        mail(
            "auto2@example.test",
            extra="Auto-Submitted: auto-replied\r\nIn-Reply-To: <base@example.test>\r\n",
        )
    )
    poll_account(email_account)
    ticket.refresh_from_db()
    assert ticket.awaiting_response is False  # a robot's mail is nobody waiting for us
    assert Message.objects.get(provider_id="auto2@example.test").is_automatic
