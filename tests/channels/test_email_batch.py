"""Batched email filing: a fixed number of queries per batch, the same tickets as one by one,
and mail that needs a decision against what is filed (a reused Message-ID in the same batch)
still decided right.

Polls a real Dovecot into the real PostgreSQL; the query count covers the whole poll (storing,
filing, the workflow, the pushes after the commit)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_conn.email.imap import poll_account
from channels_conn.models import ChannelAccount, EmailParticipant, InboundEmail
from deskconfig.kinds import ChannelKind
from tests.channels.conftest import Dovecot
from tests.channels.test_email_imap import mail
from tests.conftest import Cast
from tests.tickets.factories import ChannelAccountFactory
from tickets.live import inbox_group, ticket_group
from tickets.models import Attachment, Direction, Event, EventKind, Message, Ticket
from tickets.services import Inbound, ticket_merge
from tickets.services.receive_batch import ReceiveItem, messages_receive_batch

pytestmark = pytest.mark.django_db(transaction=True)

PDF = base64.b64encode(b"%PDF-1.4 boleta " + bytes(range(256)) * 8).decode()
# The whole poll of one batch, whatever its size: the account's leftovers, the folder's
# state, storing, filing (see tickets.services.receive_batch), the workflow's configuration,
# the statuses, and the pushes after the commit.
QUERIES_PER_BATCH = 50


def varied(n: int) -> bytes:
    """Mail ``n`` of a batch: every fourth answers the mail before it (same batch), every
    fifth carries a PDF, every third copies someone; seven customers take turns."""
    sender = f"cliente{n % 7}@example.test"
    extra = f"In-Reply-To: <batch-{n - 1}@example.test>\r\n" if n % 4 == 3 else ""
    extra += "Cc: Jefa <jefa@example.test>\r\n" if n % 3 == 0 else ""
    if n % 5 == 4:
        return (
            f"From: Cliente <{sender}>\r\nTo: soporte@tienda.test\r\nSubject: Boleta {n}\r\n"
            f"Message-ID: <batch-{n}@example.test>\r\n{extra}MIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAdjunto la boleta\r\n"
            "--B\r\nContent-Type: application/pdf\r\n"
            f'Content-Disposition: attachment; filename="boleta-{n}.pdf"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{PDF}\r\n--B--\r\n"
        ).encode()
    return mail(f"batch-{n}@example.test", sender=sender, subject=f"Pedido {n}", extra=extra)


def _poll_counting(account: ChannelAccount) -> int:
    with CaptureQueriesContext(connection) as queries:
        result = poll_account(account)
    assert result.failed == 0
    return len(queries)


@pytest.mark.parametrize("count", [10, 50])
def test_a_batch_costs_the_same_queries_whatever_its_size(
    count: int, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    for n in range(count):
        mailbox.append(varied(n))
    queries = _poll_counting(email_account)
    assert queries <= QUERIES_PER_BATCH, f"{queries} queries for {count} mails"

    messages = Message.objects.filter(direction=Direction.IN)
    assert messages.count() == count
    replies = [n for n in range(count) if n % 4 == 3]
    assert Ticket.objects.count() == count - len(replies)
    for n in replies:  # an answer to a mail of the same batch joins its ticket, as a reply
        answer = messages.get(provider_id=f"batch-{n}@example.test")
        assert answer.ticket.messages.filter(provider_id=f"batch-{n - 1}@example.test").exists()
        assert answer.reply_to is not None
        assert answer.reply_to.provider_id == f"batch-{n - 1}@example.test"
    pdfs = [n for n in range(count) if n % 5 == 4]
    files = Attachment.objects.order_by("name")
    assert sorted(a.name for a in files) == sorted(f"boleta-{n}.pdf" for n in pdfs)
    assert all(a.file.read().startswith(b"%PDF-1.4 boleta") for a in files)
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))  # gapless, as one by one
    assert Event.objects.filter(kind=EventKind.MESSAGE_IN).count() == count
    assert Event.objects.filter(kind=EventKind.CREATED).count() == len(numbers)
    copied = EmailParticipant.objects.filter(address="jefa@example.test")
    assert copied.count() == len({messages.get(provider_id=f"batch-{n}@example.test").ticket_id
                                  for n in range(0, count, 3)})  # fmt: skip
    statuses = set(InboundEmail.objects.values_list("status", flat=True))
    assert statuses == {InboundEmail.Status.PROCESSED}


def test_a_message_id_reused_inside_a_batch_is_decided_by_content(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("same@example.test", body="Primera"))
    mailbox.append(mail("same@example.test", body="Primera"))  # the same mail twice
    mailbox.append(mail("same@example.test", body="Otra distinta"))  # a broken sender
    mailbox.append(mail("after@example.test", extra="In-Reply-To: <same@example.test>\r\n"))
    result = poll_account(email_account)
    assert (result.processed, result.duplicates, result.failed) == (3, 1, 0)
    ids = sorted(Message.objects.values_list("provider_id", flat=True))
    assert ids[0] == "after@example.test" and ids[1] == "same@example.test"
    assert ids[2].startswith("same@example.test#") and len(ids) == 3
    first = Message.objects.get(provider_id="same@example.test")
    assert Message.objects.get(provider_id="after@example.test").ticket_id == first.ticket_id


def test_a_chat_batch_keeps_one_open_conversation_per_customer(in_a: Cast) -> None:
    """Generic over channels: a chat's messages of one batch share its open ticket."""
    account: ChannelAccount = ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.WEBCHAT)
    items = [
        ReceiveItem(account=account, inbound=Inbound(identity=who, text=text, provider_id=pid))
        for who, text, pid in [
            ("visitante-1", "Hola", "w1"),
            ("visitante-2", "Buenas", "w2"),
            ("visitante-1", "¿Siguen ahí?", "w3"),
            ("visitante-1", "Hola", "w1"),  # a provider's retry: the same message
        ]
    ]
    received = messages_receive_batch(tenant_id=account.tenant_id, items=items)
    assert [r.created for r in received] == [True, True, True, False]
    assert received[3].message.pk == received[0].message.pk
    assert received[0].message.ticket_id == received[2].message.ticket_id
    assert received[0].message.ticket_id != received[1].message.ticket_id
    again = messages_receive_batch(
        tenant_id=account.tenant_id,
        items=[ReceiveItem(account=account, inbound=Inbound(identity="visitante-2", text="x"))],
    )
    assert again[0].message.ticket_id == received[1].message.ticket_id  # still open: appended
    ticket = Ticket.objects.get(pk=received[1].message.ticket_id)
    assert ticket.awaiting_response and ticket.last_message_preview == "x"
    assert Ticket.objects.count() == 2


def _events(layer: Any, channel: str) -> list[dict[str, Any]]:
    """Everything the channel got until it stays quiet for a second."""

    async def drain() -> list[dict[str, Any]]:
        got = []
        while True:
            try:
                got.append(await asyncio.wait_for(layer.receive(channel), timeout=1.0))
            except TimeoutError:
                return got

    return async_to_sync(drain)()


def test_a_batch_pushes_each_ticket_once_and_each_message_once(in_a: Cast) -> None:
    account: ChannelAccount = ChannelAccountFactory(tenant=in_a.tenant_a, kind=ChannelKind.WEBCHAT)
    tenant_id = account.tenant_id
    first = messages_receive_batch(
        tenant_id=tenant_id,
        items=[ReceiveItem(account=account, inbound=Inbound(identity="v-1", text="Hola"))],
    )
    open_ticket = first[0].message.ticket_id
    layer = get_channel_layer()
    inbox, page = async_to_sync(layer.new_channel)(), async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(inbox_group(tenant_id), inbox)
    async_to_sync(layer.group_add)(ticket_group(open_ticket), page)
    texts = [("v-1", "uno"), ("v-1", "dos"), ("v-2", "tres"), ("v-2", "cuatro")]
    received = messages_receive_batch(
        tenant_id=tenant_id,
        items=[
            ReceiveItem(account=account, inbound=Inbound(identity=who, text=text))
            for who, text in texts
        ],
    )
    new_ticket = received[2].message.ticket_id
    to_inbox = _events(layer, inbox)
    tickets = [e["snapshot"]["id"] for e in to_inbox if e["event"] == "ticket"]
    assert sorted(tickets) == sorted([open_ticket, new_ticket])  # once each, coalesced
    assert all(e["reason"] == "customer_message" for e in to_inbox if e["event"] == "ticket")
    cards = [e["snapshot"]["id"] for e in to_inbox if e["event"] == "message"]
    assert cards == [r.message.pk for r in received]
    to_page = _events(layer, page)
    shown = [e["html"] for e in to_page if e["event"] == "message"]
    assert len(shown) == 2 and "uno" in shown[0] and "dos" in shown[1]
    assert [e.get("refresh") for e in to_page if e["event"] == "ticket"] == ["header"]


def test_a_mail_the_database_refuses_fails_alone_and_the_batch_is_filed(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    """A sender address longer than any identity column (a hostile or broken mail) makes the
    set-based insert fail: the batch goes one by one and only that mail is set aside."""
    mailbox.append(mail("ok-1@example.test", sender="bea@example.test"))
    mailbox.append(mail("long@example.test", sender=f"{'x' * 300}@example.test"))
    mailbox.append(mail("ok-2@example.test", sender="carla@example.test"))
    result = poll_account(email_account)
    assert (result.processed, result.failed) == (2, 1)
    ids = sorted(Message.objects.values_list("provider_id", flat=True))
    assert ids == ["ok-1@example.test", "ok-2@example.test"]
    failed = InboundEmail.objects.get(status=InboundEmail.Status.FAILED)
    assert failed.message_id == "long@example.test" and bytes(failed.raw).startswith(b"From")
    assert "DataError" in failed.error


def test_an_answer_to_a_merged_ticket_joins_the_ticket_it_was_merged_into(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("a@example.test", subject="Primero"))
    mailbox.append(mail("b@example.test", subject="Segundo"))
    poll_account(email_account)
    source = Message.objects.get(provider_id="a@example.test").ticket
    target = Message.objects.get(provider_id="b@example.test").ticket
    ticket_merge(source=source, target=target, actor=in_a.admin)
    mailbox.append(
        mail(
            "c@example.test",
            subject="Re: Primero",
            body="Sigo esperando",
            extra="In-Reply-To: <a@example.test>\r\n",
        )
    )
    poll_account(email_account)
    answer = Message.objects.get(provider_id="c@example.test")
    assert answer.ticket_id == target.pk
    target.refresh_from_db()
    assert target.last_message_preview == "Sigo esperando" and target.awaiting_response
    assert Ticket.objects.count() == 2


def _mixed() -> list[bytes]:
    """Mail whose filing depends on what came before it: threads across the batch, a
    duplicate, a reused Message-ID, robots, a list, a foreign sender."""
    auto = "Auto-Submitted: auto-replied\r\n"
    return [
        mail("m1@example.test", subject="Pedido 1"),
        mail("m2@example.test", subject="Otra cosa"),
        mail("m3@example.test", subject="Re: Pedido 1", extra="In-Reply-To: <m1@example.test>\r\n"),
        mail(
            "m4@example.test",
            sender="bea@example.test",
            subject="Re: Pedido 1",
            extra="References: <m2@example.test> <m3@example.test>\r\n",
        ),
        mail("m5@example.test", extra=auto + "In-Reply-To: <m2@example.test>\r\n"),
        mail("m1@example.test", subject="Pedido 1"),  # delivered twice
        mail("m2@example.test", subject="Otra cosa", body="Otro texto, mismo Message-ID"),
        mail("m8@example.test", sender="lista@example.test", extra="List-Id: <x.example.test>\r\n"),
        mail("m9@example.test", subject="Re: lista", extra="In-Reply-To: <m8@example.test>\r\n"),
        mail("m10@example.test", extra=auto),
    ]


def _outcome(account: ChannelAccount) -> tuple[list[list[str]], list[str], list[str]]:
    """How the account's mail was filed, in terms that do not depend on ids."""
    tickets: dict[int, list[str]] = {}
    for provider_id, ticket_id in Message.objects.filter(account=account).values_list(
        "provider_id", "ticket_id"
    ):
        tickets.setdefault(ticket_id, []).append(provider_id.split("#")[0])
    statuses = list(
        InboundEmail.objects.filter(account=account)
        .order_by("uid")
        .values_list("status", flat=True)
    )
    muted = sorted(
        p or ""
        for p in Message.objects.filter(account=account, is_automatic=True).values_list(
            "provider_id", flat=True
        )
    )
    return sorted(sorted(ids) for ids in tickets.values()), statuses, muted


def test_one_batch_files_mail_as_one_by_one_does(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    """The same mail filed in one batch (INBOX) and one poll per mail (another folder of a
    second mailbox) ends in the same tickets, statuses and muted messages."""
    settings = {**email_account.settings, "imap_folder": "Uno"}
    single: ChannelAccount = ChannelAccountFactory(
        tenant=in_a.tenant_a,
        kind=ChannelKind.EMAIL,
        name="Uno a uno",
        settings=settings,
        credentials=dict(email_account.credentials),
    )
    with mailbox.client() as client:
        client.create_folder("Uno")
    for raw in _mixed():
        mailbox.append(raw)
    poll_account(email_account)
    for raw in _mixed():
        mailbox.append(raw, folder="Uno")
        poll_account(single)
    batched, one_by_one = _outcome(email_account), _outcome(single)
    assert batched == one_by_one
    groups, statuses, muted = batched
    assert ["m1@example.test", "m3@example.test", "m4@example.test"] in groups
    assert statuses.count(InboundEmail.Status.DUPLICATE) == 1
    assert statuses.count(InboundEmail.Status.IGNORED) == 1
    assert muted == ["m5@example.test"]
