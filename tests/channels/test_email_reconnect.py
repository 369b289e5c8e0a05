"""One «Reconectar» for email: the real Dovecot refusing the IMAP login, or a real aiosmtpd
refusing the SMTP AUTH, marks the account with the reason (audited, still active); the beat and
IMAP IDLE leave it alone; sends are refused with the reason; typing the right password (or
«Probar conexión» of what is stored) clears the mark and the mailbox is read again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from imapclient.exceptions import LoginError

from channels_conn.base import ConnectorError
from channels_conn.email.devserver import PASSWORD, USER
from channels_conn.email.imap import poll_account
from channels_conn.email.smtp import SmtpConnector
from channels_conn.management.commands.imap_idle import _accounts
from channels_conn.models import MailboxState
from channels_conn.tasks import poll_all_mailboxes
from deskconfig.accounts import ChannelAccount
from deskconfig.models import ConfigChange
from tests.channels.conftest import Collector, Dovecot, smtp_with_login
from tests.channels.test_email_imap import mail
from tests.conftest import Cast, client_for
from tickets import services
from tickets.models import DeliveryStatus, Message

pytestmark = pytest.mark.django_db

SMTP_USER = "envios@tienda.test"
SMTP_PASSWORD = "smtp-clave-buena"


@pytest.fixture(scope="module")
def smtp_with_auth() -> Iterator[tuple[int, Collector]]:
    with smtp_with_login(SMTP_USER, SMTP_PASSWORD) as server:
        yield server


def _form(account: ChannelAccount, dovecot: Dovecot, **over: str) -> dict[str, str]:
    s = account.settings
    return {
        "name": account.name,
        "address": s["address"],
        "imap_host": "127.0.0.1",
        "imap_port": str(dovecot.port),
        "imap_security": "none",
        "imap_user": USER,
        "imap_password": "",
        "imap_folder": "INBOX",
        "processed": "seen",
        "processed_folder": "",
        "max_size_mb": "1",
        "smtp_host": "127.0.0.1",
        "smtp_port": str(s["smtp_port"]),
        "smtp_security": "none",
        "smtp_user": str(s.get("smtp_user") or ""),
        "smtp_password": "",
        "sla_minutes": "60",
        "resolution_minutes": "",
        "schedule": "",
        **over,
    }


def _changes() -> list[ConfigChange]:
    return list(ConfigChange.objects.filter(section="channels").order_by("at", "id"))


def test_a_refused_imap_login_marks_the_account_and_a_new_password_clears_it(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    mailbox.append(mail("antes@example.test"))
    email_account.credentials = {"imap_password": "clave-vieja", "smtp_password": ""}
    email_account.save()
    with pytest.raises(LoginError):  # the poll raises what the server said
        poll_account(email_account)
    email_account.refresh_from_db()
    assert email_account.active
    reason = email_account.reconnect_reason
    assert f"rechazó el usuario «{USER}» o su contraseña" in reason
    assert email_account.reconnect_since is not None
    assert MailboxState.objects.get(account=email_account).last_error == reason
    (marked,) = _changes()
    assert marked.actor_id is None and marked.after["reconnect_reason"] == reason

    # Neither the beat nor IMAP IDLE tries the refused login again (a provider would lock the
    # mailbox after a few); a poll of the marked account does not connect.
    assert poll_all_mailboxes() == 0
    assert (in_a.tenant_a.pk, email_account.pk) not in _accounts(None)
    assert poll_account(email_account).stored == 0

    # The Channels list shows the chip; the account page says what to do.
    admin = client_for(in_a.admin)
    row = admin.get("/admin/channels/").content.decode()
    row = row.split(f'data-account="{email_account.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "ch-reconnect" in row and "rechazó el usuario" in row
    page = admin.get(f"/admin/channels/{email_account.pk}/").content.decode()
    assert "Corrige el usuario o la contraseña de IMAP o SMTP" in page

    # A probe that types the right password (not saved) proves nothing about what is stored.
    probe = _form(email_account, mailbox, imap_password=PASSWORD, probe="1")
    assert (
        "IMAP correcto"
        in admin.post(f"/admin/channels/{email_account.pk}/", probe).content.decode()
    )
    email_account.refresh_from_db()
    assert email_account.reconnect_reason == reason
    # Saving it does: the mark goes (audited) and the mailbox is read again.
    saved = admin.post(
        f"/admin/channels/{email_account.pk}/",
        _form(email_account, mailbox, imap_password=PASSWORD),
    )
    assert saved.status_code == 302
    email_account.refresh_from_db()
    assert email_account.reconnect_reason == "" and email_account.reconnect_since is None
    assert _changes()[-1].actor_id == in_a.admin.pk
    assert poll_all_mailboxes() == 1
    assert poll_account(email_account).stored == 1
    assert Message.objects.filter(provider_id="antes@example.test").exists()


def test_a_refused_smtp_login_marks_the_account_and_the_next_send_says_why(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot, smtp_with_auth
) -> None:
    port, handler = smtp_with_auth
    email_account.settings = {**email_account.settings, "smtp_port": port, "smtp_user": SMTP_USER}
    email_account.credentials = {"imap_password": PASSWORD, "smtp_password": "clave-mala"}
    email_account.save()
    mailbox.append(mail("cliente@example.test"))
    poll_account(email_account)
    inbound = Message.objects.select_related("ticket").get(provider_id="cliente@example.test")
    out = services.message_send(ticket=inbound.ticket, author=in_a.agent, text="Hola Ana")
    with pytest.raises(ConnectorError) as refused:
        SmtpConnector().send(email_account, out)
    assert refused.value.permanent
    assert f"El servidor SMTP rechazó el usuario «{SMTP_USER}»" in refused.value.reason
    email_account.refresh_from_db()
    assert email_account.active and email_account.reconnect_reason == refused.value.reason
    assert not handler.envelopes

    # The agent: the composer names the account and the reason; a reply is refused with it.
    agent = client_for(in_a.agent)
    page = agent.get(f"/tickets/{inbound.ticket.number}/").content.decode()
    assert "La cuenta Soporte necesita reconectarse: El servidor SMTP rechazó" in page
    answer = agent.post(
        f"/tickets/{inbound.ticket.number}/reply/", {"text": "Otra vez"}, follow=True
    )
    assert "necesita reconectarse" in answer.content.decode()
    assert Message.objects.filter(ticket=inbound.ticket, direction="out").count() == 1
    # A retry of the queued reply fails with the same reason, never a generic error.
    with pytest.raises(ConnectorError) as again:
        SmtpConnector().send(email_account, out)
    assert "necesita reconectarse" in again.value.reason

    # The right password saved: the mark goes, the retry is delivered.
    admin = client_for(in_a.admin)
    form = _form(email_account, mailbox, smtp_password=SMTP_PASSWORD)
    assert admin.post(f"/admin/channels/{email_account.pk}/", form).status_code == 302
    email_account.refresh_from_db()
    assert email_account.reconnect_reason == ""
    services.message_deliver(message_id=out.pk)
    out.refresh_from_db()
    assert out.status == DeliveryStatus.SENT and len(handler.envelopes) == 1


def test_a_successful_probe_of_what_is_stored_clears_the_mark(
    in_a: Cast, email_account: ChannelAccount, mailbox: Dovecot
) -> None:
    from deskconfig.reconnect import account_reconnect_needed

    admin = client_for(in_a.admin)
    # Saved once through the form, so the stored settings are what the form would write.
    assert admin.post(f"/admin/channels/{email_account.pk}/", _form(email_account, mailbox))
    email_account.refresh_from_db()
    account_reconnect_needed(account=email_account, reason="El servidor IMAP rechazó el login.")
    probe = _form(email_account, mailbox, probe="1")
    page = admin.post(f"/admin/channels/{email_account.pk}/", probe).content.decode()
    assert "IMAP correcto" in page and "SMTP correcto" in page
    email_account.refresh_from_db()
    assert email_account.reconnect_reason == ""
