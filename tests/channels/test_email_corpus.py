"""The mail corpus (tests/channels/corpus) through a real Dovecot and the whole receive path.

Each case starts from the same state: the customer Ana wrote once (ticket T, Message-ID
``seed@cliente.test``) and we answered (``ours-1@tienda.test``). The case's mails are appended,
the mailbox is polled, and what an agent would see is checked against the case's expectation.
"""

from __future__ import annotations

import html
import re

import pytest
from django.utils import timezone

from channels_conn.email.imap import poll_account
from channels_conn.models import ChannelAccount, EmailParticipant, InboundEmail
from deskconfig.models import TenantSettings
from tests.channels.conftest import Dovecot
from tests.channels.corpus import CASES, Case
from tests.channels.corpus.build import OURS_ID, SEED_ID, TICKET, mail
from tickets.models import (
    DeliveryStatus,
    Direction,
    Event,
    EventKind,
    IdentityKind,
    Message,
    Ticket,
    TicketStatus,
)
from tickets.templatetags.message_tags import message_html

pytestmark = pytest.mark.django_db
FOLD = '<details class="quoted">'


def _seed(account: ChannelAccount, mailbox: Dovecot) -> tuple[Ticket, Message]:
    mailbox.append(mail(SEED_ID, "Mi pedido 1001 no llega.", subject="Pedido 1001"))
    poll_account(account)
    ticket = Message.objects.get(provider_id=SEED_ID).ticket
    ours = Message.objects.create(
        tenant_id=account.tenant_id,
        ticket=ticket,
        account=account,
        direction=Direction.OUT,
        text="Lo revisamos.",
        provider_id=OURS_ID,
        status=DeliveryStatus.SENT,
    )
    return ticket, ours


def _text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _visible_and_folded(message: Message) -> tuple[str, str]:
    if not message.html:
        return " ".join(message.text.split()), ""
    rendered = str(message_html(message))
    assert "cid:" not in rendered
    shown, _sep, folded = rendered.partition(FOLD)
    if folded:
        assert "mostrar texto citado" in folded  # the toggle's label, in Spanish
    return _text_of(shown), _text_of(folded)


def _case_messages(case: Case, seed: Ticket) -> list[Message]:
    inbound = Message.objects.filter(direction=Direction.IN).exclude(provider_id=SEED_ID)
    if case.msgid:
        inbound = inbound.filter(provider_id__startswith=case.msgid)
    return list(inbound.select_related("ticket", "ticket__customer").order_by("id"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, email_account: ChannelAccount, mailbox: Dovecot) -> None:
    if case.aliases:
        email_account.settings = {**email_account.settings, "aliases": list(case.aliases)}
        email_account.save(update_fields=["settings"])
    seed, ours = _seed(email_account, mailbox)
    if case.reopen_hours:
        TenantSettings.objects.update_or_create(
            tenant_id=email_account.tenant_id,
            defaults={"reopen_window_hours": case.reopen_hours},
        )
    if case.close_seed:
        Ticket.objects.filter(pk=seed.pk).update(
            status=TicketStatus.CLOSED, closed_at=timezone.now()
        )
    for raw in case.mails:
        mailbox.append(raw.replace(TICKET, str(seed.number).encode()))
    result = poll_account(email_account)
    assert result.failed == 0, InboundEmail.objects.filter(status="failed").values("error")
    _check(case, seed, ours)


def _check(case: Case, seed: Ticket, ours: Message) -> None:
    expect = case.expect
    rows = InboundEmail.objects.exclude(message_id=SEED_ID).order_by("id")
    if case.msgid:
        rows = rows.filter(message_id=case.msgid)
    assert rows.count() == len(case.mails)  # every fetched mail stored, duplicates included
    assert rows.last().status == expect.status, rows.last().error
    messages = _case_messages(case, seed)
    if expect.messages is not None:
        assert len(messages) == expect.messages
    if expect.ticket == "none":
        assert messages == [] and Ticket.objects.count() == 1
        return
    assert messages, "the mail was not filed"
    message = messages[-1]
    if expect.ticket == "seed":
        assert message.ticket_id == seed.pk
    else:
        assert message.ticket_id != seed.pk
    seed.refresh_from_db()
    if expect.reopened:
        assert seed.status == TicketStatus.OPEN
    elif case.close_seed:
        assert seed.status == TicketStatus.CLOSED
    assert message.is_automatic == expect.automatic
    _check_autoreply_flag(case, message)
    _check_body(case, message)
    _check_people_and_files(case, message)
    if expect.reply_failed is not None:
        ours.refresh_from_db()
        assert ours.status == DeliveryStatus.FAILED
        assert expect.reply_failed in ours.failure_reason
    else:
        ours.refresh_from_db()
        assert ours.status == DeliveryStatus.SENT


def _check_autoreply_flag(case: Case, message: Message) -> None:
    event = Event.objects.get(kind=EventKind.MESSAGE_IN, data__message=message.pk)
    robot = case.expect.automatic or case.expect.no_autoreply
    assert bool(event.data.get("auto_submitted")) == robot


def _check_body(case: Case, message: Message) -> None:
    expect = case.expect
    visible, folded = _visible_and_folded(message)
    for needle in expect.shown:
        assert needle in visible, (needle, visible)
    for needle in expect.hidden:
        assert needle in folded and needle not in visible, (needle, visible, folded)
    for needle in expect.text:
        assert needle in message.text, (needle, message.text)
    ticket = message.ticket
    for value in (message.text, ticket.subject, ticket.customer.name, visible):
        assert "\ufffd" not in value and "=?" not in value, value
    if expect.subject is not None:
        assert ticket.subject == expect.subject


def _check_people_and_files(case: Case, message: Message) -> None:
    expect = case.expect
    ticket = message.ticket
    if expect.customer is not None:
        addresses = list(
            ticket.customer.identities.filter(kind=IdentityKind.EMAIL).values_list(
                "value", flat=True
            )
        )
        assert addresses == [expect.customer]
    if expect.customer_name is not None:
        assert ticket.customer.name == expect.customer_name
    if expect.participants is not None:
        found = set(
            EmailParticipant.objects.filter(ticket=ticket).values_list("address", flat=True)
        )
        assert found == set(expect.participants)
    names = {a.name: a for a in message.attachments.all()}
    for name in expect.files:
        assert name in names, (name, list(names))
    if expect.no_files:
        assert names == {}
    for name, content in expect.file_bytes.items():
        with names[name].file.open("rb") as handle:
            assert handle.read() == content
