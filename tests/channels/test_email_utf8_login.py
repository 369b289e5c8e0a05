"""A mailbox password with «ñ» or an accent logs in: the real Dovecot over IMAP and a real
aiosmtpd over SMTP (SASL PLAIN in UTF-8), where Python's ASCII-only LOGIN used to crash the
poll with UnicodeEncodeError; a wrong one is still refused with the usual clear message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels_conn.email.devserver import UTF8_PASSWORD, UTF8_USER
from channels_conn.email.guarded import GuardedIMAPClient
from channels_conn.email.probe import Security, ServerConfig, probe_imap, probe_smtp
from tests.channels.conftest import Dovecot, smtp_with_login

SMTP_USER, SMTP_PASSWORD = "envíos@tienda.test", "clave-señora-José"


@pytest.fixture(scope="module")
def smtp_port() -> Iterator[int]:
    with smtp_with_login(SMTP_USER, SMTP_PASSWORD) as (port, _handler):
        yield port


def test_an_imap_password_with_accents_logs_in_and_reads_the_folder(dovecot: Dovecot):
    cfg = ServerConfig("127.0.0.1", dovecot.port, Security.NONE, UTF8_USER, UTF8_PASSWORD)
    assert probe_imap(cfg).ok
    client = GuardedIMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=5)
    client.login(UTF8_USER, UTF8_PASSWORD)
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    client.logout()
    wrong = probe_imap(
        ServerConfig("127.0.0.1", dovecot.port, Security.NONE, UTF8_USER, "contraseña-mala")
    )
    assert not wrong.ok and "rechazó el usuario «acentos» o su contraseña" in wrong.message


def test_an_smtp_password_with_accents_logs_in(smtp_port: int):
    cfg = ServerConfig("127.0.0.1", smtp_port, Security.NONE, SMTP_USER, SMTP_PASSWORD)
    result = probe_smtp(cfg)
    assert result.ok, result.message
    wrong = probe_smtp(
        ServerConfig("127.0.0.1", smtp_port, Security.NONE, SMTP_USER, "clave-señor-equivocada")
    )
    assert not wrong.ok and "rechazó el usuario" in wrong.message


def test_a_server_without_auth_plain_says_what_to_do_with_such_a_password():
    with smtp_with_login(SMTP_USER, SMTP_PASSWORD, auth_exclude_mechanism=["PLAIN"]) as (port, _h):
        result = probe_smtp(
            ServerConfig("127.0.0.1", port, Security.NONE, SMTP_USER, SMTP_PASSWORD)
        )
    assert not result.ok
    assert "no acepta usuarios o contraseñas con tildes" in result.message
    assert "cambia la contraseña" in result.message
