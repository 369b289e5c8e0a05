"""Channel secrets encrypted with one FIELD_ENCRYPTION_KEY, the server started with another:
pages that show no secret still open (they decrypt none), the account shows «Reconectar» with
the reason, and typing the secrets again reconnects it."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from channels_conn.credentials import credentials_of
from channels_conn.models import ChannelAccount
from helpdesk.crypto import SecretUnreadable
from helpdesk.tenancy import tenant_context
from tests.admin.test_channels_page import COMMON, SECRETS, VALID
from tests.conftest import Cast, client_for
from tickets import services

pytestmark = pytest.mark.django_db

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
REASON = "Sus credenciales guardadas no se pueden leer"


def test_another_key_breaks_no_page_and_the_account_asks_to_be_reconnected(cast: Cast, settings):
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    admin, agent = client_for(cast.admin), client_for(cast.agent)
    assert (
        admin.post("/admin/channels/new/whatsapp/", {**COMMON, **VALID["whatsapp"]}).status_code
        == 302
    )
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.get(kind="whatsapp")
        chat = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
        ticket = services.message_receive(
            account=account, inbound=services.Inbound(identity="+56911114444", text="hola")
        ).message.ticket
        services.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.admin)

    settings.FIELD_ENCRYPTION_KEY = KEY_B  # restarted with another key
    for client, path in (
        (agent, "/inbox/"),
        (agent, f"/tickets/{ticket.number}/"),
        (agent, f"/tickets/{ticket.number}/header/"),
        (admin, f"/tickets/{ticket.number}/"),
    ):
        assert client.get(path).status_code == 200, path
    listing = admin.get("/admin/channels/")
    assert listing.status_code == 200
    page = listing.content.decode()
    row = page.split(f'data-account="{account.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Reconectar" in row and REASON in row
    chat_row = page.split(f'data-account="{chat.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Reconectar" not in chat_row  # nothing stored: nothing to read
    edit = admin.get(f"/admin/channels/{account.pk}/")
    assert edit.status_code == 200 and REASON in edit.content.decode()
    with tenant_context(cast.tenant_a.pk), pytest.raises(SecretUnreadable):
        credentials_of(ChannelAccount.objects.get(pk=account.pk))  # only a reader fails

    # Typing the secrets again reconnects it (a blank one would keep the unreadable value).
    saved = admin.post(f"/admin/channels/{account.pk}/", {**COMMON, **VALID["whatsapp"]})
    assert saved.status_code == 302
    assert (
        "Reconectar"
        not in admin.get("/admin/channels/")
        .content.decode()
        .split(f'data-account="{account.pk}"', 1)[1]
        .split("</tr>", 1)[0]
    )
    with tenant_context(cast.tenant_a.pk):
        creds = credentials_of(ChannelAccount.objects.get(pk=account.pk))
    assert creds["access_token"] == SECRETS["access_token"]


def test_a_secret_is_decrypted_only_when_read_and_saved_back_untouched(cast: Cast, settings):
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(
            tenant=cast.tenant_a, kind="whatsapp", name="WA", credentials={"access_token": "t"}
        )
    settings.FIELD_ENCRYPTION_KEY = KEY_B
    with tenant_context(cast.tenant_a.pk):
        loaded = ChannelAccount.objects.get(pk=account.pk)
        loaded.name = "WhatsApp ventas"
        loaded.save()  # every field saved: the unread secret goes back as it was
        with pytest.raises(SecretUnreadable):
            loaded.credentials  # noqa: B018 - reading it is what decrypts
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    with tenant_context(cast.tenant_a.pk):
        assert credentials_of(ChannelAccount.objects.get(pk=account.pk)) == {"access_token": "t"}


def test_mail_that_needs_the_unreadable_password_says_why(cast: Cast, settings):
    from channels_conn.base import ConnectorError
    from channels_conn.email.imap import poll_account
    from channels_conn.email.smtp import SmtpConnector
    from channels_conn.models import MailboxState

    settings.FIELD_ENCRYPTION_KEY = KEY_A
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(
            tenant=cast.tenant_a,
            kind="email",
            name="Soporte",
            settings={"address": "soporte@a.test", "imap_host": "127.0.0.1", "imap_port": 9},
            credentials={"imap_password": "x", "smtp_password": "y"},
        )
        message = services.message_receive(
            account=account, inbound=services.Inbound(identity="ana@cliente.test", text="hola")
        ).message
    settings.FIELD_ENCRYPTION_KEY = KEY_B
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.get(pk=account.pk)
        assert poll_account(account).stored == 0  # no connection tried: it could not log in
        assert REASON in MailboxState.objects.get(account=account).last_error
        with pytest.raises(ConnectorError) as failed:
            SmtpConnector().send(account, message)
    assert failed.value.permanent and REASON in failed.value.reason
