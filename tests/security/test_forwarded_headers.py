"""Attack class: a client claiming another address or HTTPS through forwarded headers.

daphne's --proxy-headers believed X-Forwarded-For from anyone: rotating it escaped the per-address
login lockout and the web chat's per-address limit. helpdesk.proxy believes those headers only
from TRUSTED_PROXIES (empty by default) and drops them otherwise (finding 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from deskconfig.accounts import ChannelAccount
from helpdesk.proxy import TrustedProxyMiddleware, forwarded_client
from helpdesk.tenancy import bypass_context, tenant_context
from tests.security.asgi_client import asgi_request

ROOT = Path(__file__).resolve().parents[2]
XFF = "x-forwarded-for"


def _scope(peer: str, *headers: tuple[bytes, bytes], kind: str = "http") -> dict[str, Any]:
    return {"type": kind, "client": (peer, 5555), "scheme": "http", "headers": list(headers)}


def test_nobody_is_trusted_by_default(settings):
    settings.TRUSTED_PROXIES = []
    scope = TrustedProxyMiddleware.rewrite(
        _scope(
            "203.0.113.7",
            (b"x-forwarded-for", b"1.2.3.4"),
            (b"x-forwarded-proto", b"https"),
            (b"X-Forwarded-Host", b"evil.example"),
            (b"forwarded", b"for=1.2.3.4;proto=https"),
        )
    )
    assert scope["client"][0] == "203.0.113.7"
    assert scope["scheme"] == "http"
    assert scope["headers"] == []  # nothing left for Django or a consumer to believe


def test_a_trusted_proxy_names_the_client_and_the_scheme(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "::1"]
    scope = TrustedProxyMiddleware.rewrite(
        _scope(
            "10.0.0.5",
            (b"x-forwarded-for", b"6.6.6.6, 198.51.100.20, 10.0.0.9"),
            (b"x-forwarded-proto", b"https"),
        )
    )
    # The right-most address that is not one of our proxies: the client's own entry on the
    # left (6.6.6.6) is whatever the client wrote, and is ignored.
    assert scope["client"][0] == "198.51.100.20"
    assert scope["scheme"] == "https"
    ws = TrustedProxyMiddleware.rewrite(
        _scope("::1", (b"x-forwarded-proto", b"https"), kind="websocket")
    )
    assert ws["scheme"] == "wss"
    assert forwarded_client("::ffff:10.0.0.5", [(b"x-forwarded-for", b"7.7.7.7")], ()) == (
        "::ffff:10.0.0.5",
        None,
    )


def test_a_client_cannot_claim_https(settings):
    settings.TRUSTED_PROXIES = []
    page = asgi_request(
        "GET", "/accounts/login/", peer="203.0.113.7", headers=[("X-Forwarded-Proto", "https")]
    )
    csp = page.headers["content-security-policy"]
    assert "ws://127.0.0.1" in csp and "wss://" not in csp
    settings.TRUSTED_PROXIES = ["203.0.113.7"]
    page = asgi_request(
        "GET", "/accounts/login/", peer="203.0.113.7", headers=[("X-Forwarded-Proto", "https")]
    )
    assert "wss://127.0.0.1" in page.headers["content-security-policy"]


@pytest.mark.django_db(transaction=True)
def test_rotating_x_forwarded_for_does_not_escape_the_chat_limit(cast, settings):
    from channels_conn.webchat import views

    settings.TRUSTED_PROXIES = []
    with tenant_context(cast.tenant_a.pk):
        chat = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
    path = f"/chat/{chat.uuid}/send/"
    answers = []
    for i in range(views.PER_MINUTE_IP + 1):
        # A new visitor (no cookie) and a new claimed address every time.
        response = asgi_request(
            "POST",
            path,
            peer="203.0.113.50",
            headers=[(XFF, f"198.51.100.{i % 250}"), ("HX-Request", "true")],
            body=urlencode({"text": f"spam {i}"}).encode(),
        )
        answers.append("muy rápido" in response.body.decode())
    assert not any(answers[:-1]) and answers[-1]
    with bypass_context():
        assert chat.tickets.count() == views.PER_MINUTE_IP  # type: ignore[attr-defined]


def test_compose_does_not_publish_the_app_port_and_trusts_only_its_proxy():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    assert "ports" not in web
    assert "--proxy-headers" not in web["command"]
    proxy = compose["services"]["proxy"]
    address = proxy["networks"]["default"]["ipv4_address"]
    assert compose["x-app"]["environment"]["TRUSTED_PROXIES"] == f"${{TRUSTED_PROXIES:-{address}}}"
    readme = (ROOT / "README.md").read_text()
    assert "`TRUSTED_PROXIES`" in readme
