"""Attack class: files we store and serve back. A customer's attachment never runs in our
origin: anything but a plain image or PDF downloads (octet-stream, attachment, nosniff), even
inline ones carry a sandboxing CSP, names lose their paths, tokens are unguessable, and other
tenants' tokens are a 404."""

from __future__ import annotations

import pytest
from django.test import Client

from deskconfig.accounts import ChannelAccount
from helpdesk.tenancy import tenant_context
from tests.conftest import client_for
from tickets import services
from tickets.models import Attachment

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(document.domain)</script>"


def _attach(cast, name: str, content: bytes, content_type: str) -> Attachment:
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.get_or_create(
            tenant=cast.tenant_a, kind="email", name="Soporte"
        )[0]
        message = services.message_receive(
            account=account,
            inbound=services.Inbound(
                identity="ana@x.cl",
                text="ver adjunto",
                attachments=[services.IncomingFile(name, content, content_type)],
            ),
        ).message
        return Attachment.objects.filter(message=message).latest("id")


@pytest.mark.parametrize(
    "name, content_type",
    [
        ("../../etc/x.html", "text/html"),
        ("logo.svg", "image/svg+xml"),
        ("app.js", "application/javascript"),
        ("pagina.xhtml", "application/xhtml+xml"),
        ("foto.png", "text/html"),  # a name that lies about the content
        ("sin-tipo", ""),
    ],
)
def test_active_content_downloads_and_never_renders(cast, name, content_type):
    item = _attach(cast, name, SCRIPT, content_type)
    assert "/" not in item.name and ".." not in item.name
    download = client_for(cast.agent).get(f"/attachments/{item.token}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download["Content-Security-Policy"]


def test_images_show_inline_only_sandboxed_and_unsniffed(cast):
    item = _attach(cast, "foto.png", SCRIPT, "image/png")
    shown = client_for(cast.agent).get(f"/attachments/{item.token}/")
    assert shown["Content-Type"] == "image/png"  # a browser will not run a "png"
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert shown["Content-Security-Policy"] == "default-src 'none'; sandbox"
    forced = client_for(cast.agent).get(f"/attachments/{item.token}/?download=1")
    assert forced["Content-Disposition"].startswith("attachment")


def test_tokens_are_unguessable_and_tenant_bound(cast):
    first = _attach(cast, "a.pdf", b"%PDF-1.4 a", "application/pdf")
    second = _attach(cast, "b.pdf", b"%PDF-1.4 b", "application/pdf")
    for item in (first, second):
        assert len(item.token) >= 32  # >= 192 bits of secrets.token_urlsafe
    assert first.token[:8] != second.token[:8]
    url = f"/attachments/{first.token}/"
    assert client_for(cast.outsider).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(cast.agent).get(f"/attachments/{first.token[:-1]}x/").status_code == 404
