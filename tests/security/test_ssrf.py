"""Attack class: making our servers connect where a tenant admin points them (finding 3).

«Probar conexión» and the saved mailbox connected to any host and port (loopback services, the
cloud's metadata address, the private network). helpdesk.outbound refuses non-public addresses
after resolving the name, on every connect, unless the operator sets OUTBOUND_ALLOW_PRIVATE."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from channels_conn.email import imap
from channels_conn.models import MailboxState
from deskconfig.accounts import ChannelAccount
from helpdesk import outbound
from helpdesk.tenancy import tenant_context
from tests.conftest import Cast, client_for

pytestmark = pytest.mark.django_db

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "0.0.0.0",  # noqa: S104 - an address we refuse, not one we bind
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "169.254.169.254",  # cloud metadata
    "192.0.0.8",
    "198.18.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1 is not global either
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "200.1.123.4", "2001:4860:4860::8888", "2800:3f0:4002::1"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address):
    assert not outbound.is_public(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_pass(address):
    assert outbound.is_public(address)


class Listener:
    """A loopback service that counts who connects to it (what an attacker probes for)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def production(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    return settings


def _email_form(host: str, port: int) -> dict[str, str]:
    return {
        "name": "Soporte",
        "address": "soporte@tienda.test",
        "imap_host": host,
        "imap_port": str(port),
        "imap_security": "none",
        "imap_user": "u",
        "imap_password": "p",
        "imap_folder": "INBOX",
        "processed": "seen",
        "max_size_mb": "25",
        "smtp_host": host,
        "smtp_port": str(port),
        "smtp_security": "none",
        "sla_minutes": "60",
        "probe": "1",
    }


def test_the_probe_button_does_not_reach_a_loopback_service(cast: Cast, production, listener):
    page = client_for(cast.admin).post(
        "/admin/channels/new/email/", _email_form("127.0.0.1", listener.port)
    )
    body = page.content.decode()
    assert "apunta a una dirección interna o reservada (127.0.0.1)" in body
    assert listener.accepted == 0


def test_the_probe_button_refuses_the_metadata_address_by_name(cast: Cast, production):
    page = client_for(cast.admin).post(
        "/admin/channels/new/email/", _email_form("169.254.169.254", 80)
    )
    assert "(169.254.169.254)" in page.content.decode()
    # "localhost" resolves first, then is refused: names are no way around the rule.
    page = client_for(cast.admin).post("/admin/channels/new/email/", _email_form("localhost", 25))
    assert "«localhost» apunta a una dirección interna" in page.content.decode()


def test_a_saved_mailbox_is_not_polled_on_a_private_address(cast: Cast, production, listener):
    admin = client_for(cast.admin)
    form = {**_email_form("127.0.0.1", listener.port), "probe": ""}
    assert admin.post("/admin/channels/new/email/", form).status_code == 302
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.get()
        with pytest.raises(outbound.OutboundRefused):
            imap.poll_account(account)
        error = MailboxState.objects.get(account=account).last_error
    assert "dirección interna o reservada" in error
    assert listener.accepted == 0


def test_the_operator_may_allow_private_addresses(settings, listener):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    sock = outbound.create_connection("127.0.0.1", listener.port, timeout=2)
    sock.close()
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(outbound.OutboundRefused):
        outbound.create_connection("127.0.0.1", listener.port, timeout=2)


def test_the_connection_goes_to_the_address_that_was_checked(settings, listener, monkeypatch):
    """Against DNS rebinding: one resolution per connect, and the socket connects to the very
    address that passed the check (a second answer, private, is never asked for)."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    answers = iter(["127.0.0.1", "10.255.255.1"])
    calls = []
    real = socket.getaddrinfo

    def rebinding_dns(host, port, *args, **kwargs):
        calls.append(host)
        return real(next(answers), port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    sock = outbound.create_connection("mail.rebind.test", listener.port, timeout=2)
    assert sock.getpeername()[0] == "127.0.0.1"
    sock.close()
    assert calls == ["mail.rebind.test"]


def test_webhook_calls_through_the_guarded_session(httpserver, settings):
    httpserver.expect_request("/hook").respond_with_data("ok")
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(requests.ConnectionError) as caught:
        outbound.session().get(httpserver.url_for("/hook"), timeout=3)
    assert "non-public address" in str(caught.value)
    settings.OUTBOUND_ALLOW_PRIVATE = True
    assert outbound.session().get(httpserver.url_for("/hook"), timeout=3).text == "ok"
