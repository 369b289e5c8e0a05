"""A real Dovecot (IMAP) and a real aiosmtpd (SMTP) on loopback for the email tests.

Dovecot is configured exactly as ../shared/CHANNELS.md §5 says (as root, in a temporary
folder, on a free port) and stopped after the module; tests seed it with IMAP APPEND."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from channels_conn.email.devserver import PASSWORD, USER, Dovecot, free_port
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from tests.conftest import Cast
from tests.tickets.factories import ChannelAccountFactory

ADDRESS = "soporte@tienda.test"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if os.geteuid() != 0 or shutil.which("dovecot") is None:
        pytest.fail("the email tests need root and Dovecot (see CHANNELS.md §5)")
    with Dovecot.running() as server:
        yield server


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Iterator[Dovecot]:
    """Dovecot with an empty mailbox for this test."""
    dovecot.reset()
    yield dovecot
    dovecot.reset()


@dataclass
class Collector:
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@dataclass
class Smtp:
    port: int
    handler: Collector


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[Smtp]:
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(port, handler)
    finally:
        controller.stop()


class LoginChecker:
    """Accepts one user and password, like a real submission server."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_with_login(user: str, password: str, **options: Any) -> Iterator[tuple[int, Collector]]:
    """A real aiosmtpd on loopback that asks for a login and accepts only this one
    (``options`` go to its SMTP server, e.g. ``auth_exclude_mechanism``)."""
    handler = Collector()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=LoginChecker(user, password),
        auth_require_tls=False,  # loopback test server: plain AUTH as a local relay allows
        **options,
    )
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def email_account(in_a: Cast, dovecot: Dovecot, smtp_server: Smtp) -> ChannelAccount:
    """Tenant A's mailbox on the test Dovecot and the test SMTP server."""
    account: ChannelAccount = ChannelAccountFactory(
        tenant=in_a.tenant_a,
        kind=ChannelKind.EMAIL,
        name="Soporte",
        settings={
            "address": ADDRESS,
            "imap_host": "127.0.0.1",
            "imap_port": dovecot.port,
            "imap_ssl": False,
            "imap_user": USER,
            "imap_folder": "INBOX",
            "processed_policy": "seen",
            "max_size": 100_000,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_starttls": False,
        },
        credentials={"imap_password": PASSWORD, "smtp_password": ""},
    )
    return account


@pytest.fixture(autouse=True)
def local_mail_servers_allowed(settings: Any) -> None:
    """The test servers listen on loopback, which production refuses to let tenants aim at
    (helpdesk.outbound); the platform operator's switch allows it, as in development."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
