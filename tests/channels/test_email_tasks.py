"""The polling tasks: the beat fan-out over tenants and the per-account task; parse failures
set aside with their raw bytes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels_conn.email.imap import poll_account
from channels_conn.models import ChannelAccount, InboundEmail
from channels_conn.services import inbound_process
from channels_conn.tasks import poll_all_mailboxes, poll_mailbox
from helpdesk.celery import app
from helpdesk.tenancy import bypass_context
from tests.channels.conftest import Dovecot
from tests.channels.test_email_imap import mail
from tests.conftest import Cast
from tests.tickets.factories import ChannelAccountFactory
from tickets.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager() -> Iterator[None]:
    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before


def test_beat_fan_out_polls_every_active_imap_account(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot, eager: None
) -> None:
    with bypass_context():
        ChannelAccountFactory(tenant=in_a.tenant_b, kind="email", settings={})  # no IMAP
        ChannelAccountFactory(
            tenant=in_a.tenant_b, kind="email", active=False, settings={"imap_host": "x"}
        )
    mailbox.append(mail("t1@example.test"))
    assert poll_all_mailboxes.apply().get() == 1
    assert Message.objects.filter(provider_id="t1@example.test").exists()


def test_poll_task_runs_in_the_tenant_and_is_idempotent(
    email_account: ChannelAccount, mailbox: Dovecot, eager: None
) -> None:
    mailbox.append(mail("t2@example.test"))
    first = poll_mailbox.delay(email_account.tenant_id, email_account.pk).get()
    again = poll_mailbox.delay(email_account.tenant_id, email_account.pk).get()
    assert first["stored"] == 1 and again["stored"] == 0
    assert Message.objects.filter(provider_id="t2@example.test").count() == 1


def test_unparseable_mail_keeps_its_raw_as_failed_and_can_be_retried(
    email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(b"Subject: sin remitente\r\nMessage-ID: <nofrom@x.test>\r\n\r\ncuerpo\r\n")
    mailbox.append(mail("after@example.test"))
    result = poll_account(email_account)
    assert (result.failed, result.processed) == (1, 1)  # the poison does not stop the rest
    failed = InboundEmail.objects.get(status=InboundEmail.Status.FAILED)
    assert b"cuerpo" in bytes(failed.raw) and "no sender" in failed.error
    InboundEmail.objects.filter(pk=failed.pk).update(
        raw=bytes(failed.raw).replace(b"Subject:", b"From: ana@example.test\r\nSubject:")
    )
    failed.refresh_from_db()
    assert inbound_process(failed) is not None  # retry after a fix
    assert InboundEmail.objects.get(pk=failed.pk).status == InboundEmail.Status.PROCESSED
