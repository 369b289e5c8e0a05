"""Attack class: learning what is not yours to know (finding 7). An invitation answers the same
for an address registered in another tenant; /healthz tells the public only that it is alive;
the CSP lets pages open websockets to our own host only."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from helpdesk.models import User
from helpdesk.tenancy import bypass_context
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Cordillera-de-los-Andes-77"


def _invite(cast, email: str):
    return client_for(cast.admin).post(
        "/admin/users/new/",
        {"name": "Persona", "email": email, "role": "agent", "max_open_tickets": 5},
    )


def _link() -> str:
    match = re.search(r"http://testserver(/accounts/invite/[^/\s]+/)", mail.outbox[-1].body)
    assert match
    return match.group(1)


def test_inviting_another_tenants_address_answers_as_for_any_address(cast):
    unknown = _invite(cast, "nadie@otra.test")
    registered = _invite(cast, "ADMIN@B.test")  # the outsider's address, in any spelling
    assert registered.status_code == unknown.status_code == 302
    assert registered["Location"] == unknown["Location"]
    listing = client_for(cast.admin).get("/admin/users/").content.decode()
    assert "admin@b.test" in listing and "nadie@otra.test" in listing
    assert cast.tenant_b.name not in listing
    assert [m.to for m in mail.outbox] == [["nadie@otra.test"], ["admin@b.test"]]


def test_the_invited_owner_of_the_address_is_told_at_acceptance(cast):
    _invite(cast, "admin@b.test")
    link = _link()
    page = Client().get(link)
    assert page.status_code == 409
    assert "ya tiene una cuenta en el helpdesk de otra empresa" in page.content.decode()
    refused = Client().post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert refused.status_code == 409
    # Their own account is untouched and still logs in; the invitation never does.
    with bypass_context():
        assert User.objects.get(pk=cast.outsider.pk).check_password(cast.password)
    login = Client().post(
        "/accounts/login/", {"username": "admin@b.test", "password": cast.password}
    )
    assert login.status_code == 302
    with bypass_context():
        assert User.objects.filter(email="admin@b.test").count() == 2  # one pending invitation


def test_healthz_tells_the_public_only_that_it_lives(cast, settings):
    settings.HEALTHZ_TOKEN = "sonda-secreta"
    public = Client().get("/healthz")
    assert public.status_code == 200 and public.json() == {"ok": True}
    wrong = Client().get("/healthz", HTTP_AUTHORIZATION="Bearer otra-cosa")
    assert wrong.json() == {"ok": True}
    assert client_for(cast.admin).get("/healthz").json() == {"ok": True}  # a tenant admin
    probe = Client().get("/healthz", HTTP_AUTHORIZATION="Bearer sonda-secreta")
    assert {"database", "redis", "celery"} <= set(probe.json())
    settings.HEALTHZ_TOKEN = ""
    assert Client().get("/healthz", HTTP_AUTHORIZATION="Bearer ").json() == {"ok": True}
    with bypass_context():
        operator = User.objects.create_superuser(
            email="ops@platform.test", password="x-y-z-123456", name="Ops"
        )
    assert "database" in client_for(operator).get("/healthz").json()


def test_pages_may_open_websockets_to_our_own_host_only(client):
    csp = client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000")["Content-Security-Policy"]
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()
    assert connect == ["connect-src", "'self'", "ws://127.0.0.1:8000"]
    secure = client.get("/accounts/login/", HTTP_HOST="localhost", secure=True)
    connect = next(
        d for d in secure["Content-Security-Policy"].split(";") if "connect-src" in d
    ).split()
    assert connect == ["connect-src", "'self'", "wss://localhost"]
