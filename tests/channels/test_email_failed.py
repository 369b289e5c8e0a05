"""Failed stored mail on the email account's page: listed with date, size and error; retried
from the stored raw bytes; the raw .eml downloaded (admin only, tenant-checked)."""

from __future__ import annotations

import pytest

from channels_conn.email.imap import poll_account
from channels_conn.models import ChannelAccount, InboundEmail
from helpdesk.tenancy import bypass_context
from tests.channels.conftest import Dovecot
from tests.channels.test_email_imap import mail
from tests.conftest import Cast, client_for
from tests.tickets.factories import ChannelAccountFactory
from tickets.models import Message

pytestmark = pytest.mark.django_db

POISON = b"Subject: sin remitente\r\nMessage-ID: <nofrom@x.test>\r\n\r\ncuerpo roto\r\n"


def _failed_one(account: ChannelAccount, mailbox: Dovecot) -> InboundEmail:
    mailbox.append(POISON)
    mailbox.append(mail("fine@example.test"))
    result = poll_account(account)
    assert (result.failed, result.processed) == (1, 1)
    return InboundEmail.objects.get(status=InboundEmail.Status.FAILED)


def test_the_account_page_lists_failed_mail(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    failed = _failed_one(email_account, mailbox)
    page = client_for(in_a.admin).get(f"/admin/channels/{email_account.pk}/").content.decode()
    section = page.split('id="failed"')[1]
    assert f'data-email="{failed.pk}"' in section
    assert "the email has no sender address" in section  # the error
    assert f"{len(POISON)}\xa0bytes" in section  # the size
    assert "nofrom@x.test" in section
    assert f"/admin/channels/{email_account.pk}/emails/{failed.pk}/retry/" in section
    assert section.count("data-email=") == 1  # the processed one is not listed
    listing = client_for(in_a.admin).get("/admin/channels/").content.decode()
    assert "1 correo fallido" in listing


def test_retry_runs_the_stored_raw_again(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    failed = _failed_one(email_account, mailbox)
    client = client_for(in_a.admin)
    url = f"/admin/channels/{email_account.pk}/emails/{failed.pk}/retry/"
    assert client.get(url).status_code == 405
    # Still broken: it fails again, visibly, and stays listed.
    response = client.post(url, follow=True)
    assert "El correo volvió a fallar" in response.content.decode()
    assert InboundEmail.objects.get(pk=failed.pk).status == InboundEmail.Status.FAILED
    # Once what broke it is fixed (here: the stored bytes), Reintentar files it.
    InboundEmail.objects.filter(pk=failed.pk).update(
        raw=POISON.replace(b"Subject:", b"From: Bea <bea@example.test>\r\nSubject:")
    )
    response = client.post(url, follow=True)
    page = response.content.decode()
    assert "Correo recibido: ya está en su ticket." in page
    assert InboundEmail.objects.get(pk=failed.pk).status == InboundEmail.Status.PROCESSED
    message = Message.objects.get(provider_id="nofrom@x.test")
    assert message.ticket.subject == "sin remitente"
    assert f'data-email="{failed.pk}"' not in page
    client.post(url)  # retrying a processed mail does nothing
    assert Message.objects.filter(provider_id="nofrom@x.test").count() == 1


def test_raw_download(in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot) -> None:
    failed = _failed_one(email_account, mailbox)
    url = f"/admin/channels/{email_account.pk}/emails/{failed.pk}/eml/"
    response = client_for(in_a.admin).get(url)
    assert response.status_code == 200
    assert response.content == POISON
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="correo-{failed.pk}.eml"'
    assert response["X-Content-Type-Options"] == "nosniff"
    for user in (in_a.agent, in_a.analyst):
        assert client_for(user).get(url).status_code == 403
    assert client_for(in_a.outsider).get(url).status_code == 404


def test_an_email_of_another_account_or_tenant_is_404(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    failed = _failed_one(email_account, mailbox)
    other: ChannelAccount = ChannelAccountFactory(tenant=in_a.tenant_a, kind="email")
    client = client_for(in_a.admin)
    # The mail exists, but not under this account's URL.
    assert client.get(f"/admin/channels/{other.pk}/emails/{failed.pk}/eml/").status_code == 404
    assert client.post(f"/admin/channels/{other.pk}/emails/{failed.pk}/retry/").status_code == 404
    with bypass_context():
        theirs_account: ChannelAccount = ChannelAccountFactory(tenant=in_a.tenant_b, kind="email")
        theirs = InboundEmail.all_tenants.create(
            tenant=in_a.tenant_b,
            account=theirs_account,
            folder="INBOX",
            uidvalidity=1,
            uid=1,
            raw=b"From: b@b.test\r\n\r\nsecreto de B",
            status=InboundEmail.Status.FAILED,
        )
    for path in (
        f"/admin/channels/{theirs_account.pk}/emails/{theirs.pk}/eml/",
        f"/admin/channels/{email_account.pk}/emails/{theirs.pk}/eml/",
    ):
        response = client.get(path)
        assert response.status_code == 404 and b"secreto de B" not in response.content


def test_an_oversize_mail_is_listed_without_retry_or_download(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("big@example.test", body="x" * 150_000))  # limit: 100,000 bytes
    assert poll_account(email_account).oversize == 1
    big = InboundEmail.objects.get()
    client = client_for(in_a.admin)
    page = client.get(f"/admin/channels/{email_account.pk}/").content.decode()
    section = page.split('id="failed"')[1]
    assert "too large" in section and "No se descargó del servidor" in section
    assert f"/emails/{big.pk}/retry/" not in section
    assert client.get(f"/admin/channels/{email_account.pk}/emails/{big.pk}/eml/").status_code == 404
