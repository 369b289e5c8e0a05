"""The "Probar conexión" button: the exact failure, in Spanish, on local Dovecot and aiosmtpd."""

from __future__ import annotations

import socket

import pytest

from channels_conn.email.devserver import PASSWORD, USER, Dovecot, free_port
from channels_conn.email.probe import Security, ServerConfig, probe_imap, probe_smtp
from deskconfig.accounts import ChannelAccount
from helpdesk.tenancy import tenant_context
from tests.channels.conftest import Smtp
from tests.conftest import Cast, client_for

pytestmark = pytest.mark.django_db


def imap(dovecot: Dovecot, **changes: object) -> ServerConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": dovecot.port,
        "security": Security.NONE,
        "user": USER,
        "password": PASSWORD,
        "folder": "INBOX",
        "timeout": 5.0,
    }
    values.update(changes)
    return ServerConfig(**values)  # type: ignore[arg-type]


def smtp(server: Smtp, **changes: object) -> ServerConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": Security.NONE,
        "user": "",
        "password": "",
        "timeout": 5.0,
    }
    values.update(changes)
    return ServerConfig(**values)  # type: ignore[arg-type]


def test_imap_success_logs_in_and_opens_the_folder(mailbox: Dovecot) -> None:
    result = probe_imap(imap(mailbox))
    assert result.ok and result.message == (
        "IMAP correcto: sesión iniciada y carpeta «INBOX» abierta."
    )
    assert probe_imap(imap(mailbox, folder="Processed")).ok


def test_imap_wrong_password(mailbox: Dovecot) -> None:
    result = probe_imap(imap(mailbox, password="no-es-esta"))
    assert not result.ok
    assert result.message == "El servidor IMAP rechazó el usuario «helpdesk» o su contraseña."
    assert "no-es-esta" not in result.message


def test_imap_missing_folder_names_the_folders_there_are(mailbox: Dovecot) -> None:
    result = probe_imap(imap(mailbox, folder="Soporte"))
    assert not result.ok
    assert result.message.startswith("La carpeta «Soporte» no existe en el buzón.")
    assert "INBOX" in result.message and "Processed" in result.message


def test_refused_port() -> None:
    port = free_port()  # nothing listens there
    cfg = ServerConfig("127.0.0.1", port, Security.NONE, USER, PASSWORD, timeout=3)
    for result in (probe_imap(cfg), probe_smtp(cfg)):
        assert not result.ok
        assert result.message == (
            f"127.0.0.1:{port} rechazó la conexión: revisa el puerto y que el servicio esté activo."
        )


def test_unknown_host() -> None:
    cfg = ServerConfig("correo.helpdesk.invalid", 993, Security.SSL, USER, PASSWORD, timeout=3)
    for result in (probe_imap(cfg), probe_smtp(cfg)):
        assert not result.ok
        assert result.message == (
            "No se encontró el servidor «correo.helpdesk.invalid» (el nombre no existe en el DNS)."
        )


def test_tls_to_a_plain_port(mailbox: Dovecot, smtp_server: Smtp) -> None:
    for result in (
        probe_imap(imap(mailbox, security=Security.SSL)),
        probe_smtp(smtp(smtp_server, security=Security.SSL)),
    ):
        assert not result.ok
        assert result.message.startswith("Falló la conexión cifrada (TLS) con 127.0.0.1:")
        assert "¿El puerto usa la seguridad elegida (SSL o STARTTLS)?" in result.message


def test_starttls_not_offered(mailbox: Dovecot, smtp_server: Smtp) -> None:
    assert "no ofrece STARTTLS" in probe_smtp(smtp(smtp_server, security=Security.STARTTLS)).message
    result = probe_imap(imap(mailbox, security=Security.STARTTLS))
    assert not result.ok and "STARTTLS" in result.message


def test_timeout() -> None:
    # A listener that never answers: the greeting never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        cfg = ServerConfig("127.0.0.1", port, Security.NONE, USER, PASSWORD, timeout=1)
        for result in (probe_imap(cfg), probe_smtp(cfg)):
            assert not result.ok
            assert result.message.startswith(f"127.0.0.1:{port} no respondió en 1 segundos")


def test_smtp_success_and_auth_not_offered(smtp_server: Smtp) -> None:
    result = probe_smtp(smtp(smtp_server))
    assert result.ok and result.message == "SMTP correcto: el servidor acepta enviar."
    refused = probe_smtp(smtp(smtp_server, user="soporte", password="x"))
    assert not refused.ok and "no ofrece AUTH" in refused.message


def test_the_button_on_the_email_form_probes_without_saving(
    cast: Cast, dovecot: Dovecot, smtp_server: Smtp
) -> None:
    form = {
        "name": "Soporte",
        "address": "soporte@tienda.test",
        "imap_host": "127.0.0.1",
        "imap_port": str(dovecot.port),
        "imap_security": "none",
        "imap_user": USER,
        "imap_password": PASSWORD,
        "imap_folder": "INBOX",
        "processed": "seen",
        "max_size_mb": "25",
        "smtp_host": "127.0.0.1",
        "smtp_port": str(smtp_server.port),
        "smtp_security": "none",
        "sla_minutes": "60",
        "probe": "1",
    }
    client = client_for(cast.admin)
    page = client.post("/admin/channels/new/email/", form).content.decode()
    assert "IMAP correcto" in page and "SMTP correcto" in page
    with tenant_context(cast.tenant_a.pk):
        assert not ChannelAccount.objects.exists()  # a probe saves nothing
    assert client.post("/admin/channels/new/email/", {**form, "probe": ""}).status_code == 302
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.get()
    # Editing: a blank password means the stored one, for the probe too.
    page = client.post(
        f"/admin/channels/{account.pk}/", {**form, "imap_password": "", "probe": "1"}
    ).content.decode()
    assert "IMAP correcto" in page
    page = client.post(
        f"/admin/channels/{account.pk}/", {**form, "imap_password": "mala", "probe": "1"}
    ).content.decode()
    assert "rechazó el usuario «helpdesk» o su contraseña" in page
    assert "mala" not in page
