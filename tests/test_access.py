"""Who may open what: the role matrix, anonymous users, and the outsider walk over every URL."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from helpdesk.models import Notification
from helpdesk.tenancy import bypass_context
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# Every page of the shell and who gets it: 200 (or a redirect where noted) or 403.
MATRIX = {
    # path: (agent, analyst, admin)
    "/inbox/": (200, 200, 200),
    "/help/": (200, 200, 200),
    "/analytics/": (403, 200, 200),
    "/analytics/csv/agents/": (403, 200, 200),
    "/analytics/csv/sla/": (403, 200, 200),
    "/admin/": (403, 302, 200),  # an analyst's Admin is Exports only
    "/admin/exports/": (403, 200, 200),
    "/admin/exports/list/": (403, 200, 200),
    "/me/notifications/": (200, 200, 200),
    "/me/preferences/": (200, 200, 200),
    "/search/": (200, 200, 200),
    "/tickets/new/": (200, 200, 200),
    "/inbox/columns/new/": (200, 200, 200),
    "/publishing/": (200, 403, 200),
}

# Pages of one ticket or attachment: every role of the tenant opens them; another tenant's
# number or token is a 404 (tests/test_ticket_pages.py walks each one as the outsider).
TENANT_OBJECT_PAGES = {
    "/tickets/<int:number>/",
    "/tickets/<int:number>/header/",
    "/tickets/<int:number>/older/",
    "/tickets/<int:number>/reply/",
    "/tickets/<int:number>/reply/template/",
    "/tickets/<int:number>/quick-replies/",
    "/tickets/<int:number>/tab/<slug:tab>/",
    "/tickets/<int:number>/do/<slug:action>/",
    "/tickets/<int:number>/messages/<int:message_id>/retry/",
    "/attachments/<str:token>/",
    # A column is its owner's only: anyone else's (same tenant or not) is a 404
    # (tests/test_inbox.py).
    "/inbox/columns/<int:column_id>/",
    "/inbox/columns/<int:column_id>/page/",
    "/inbox/columns/<int:column_id>/delete/",
    "/inbox/columns/<int:column_id>/move/",
    # A scheduled post: admins and the agents the account is open to; analysts 403; another
    # tenant's (or a closed account's) post is a 404 (tests/publishing/test_pages.py).
    "/publishing/<int:pk>/edit/",
    "/publishing/<int:pk>/cancel/",
    "/publishing/<int:pk>/retry/",
}

# The CSV of each Analítica panel: two of them are in the matrix (and the outsider walk);
# tests/analytics/test_pages.py walks every panel for every role and as the outsider.
PANEL_CSV = {"/analytics/csv/<slug:panel>/"}

# A file of one export: analysts and admins of its tenant (an analyst only their own); an
# agent gets 403, anyone else's token is a 404 (tests/exports/test_pages.py walks each case).
EXPORT_FILES = {"/admin/exports/<str:token>/download/"}

# URLs that are not tenant pages, with the reason.
PUBLIC = {
    "/": "redirects to the login or the inbox",
    "/healthz": "health check for the load balancer",
    "/accounts/login/": "login",
    "/accounts/logout/": "logout (POST)",
    "/accounts/password-reset/": "password reset",
    "/accounts/password-reset/sent/": "password reset",
    "/accounts/reset/<uidb64>/<token>/": "password reset",
    "/accounts/reset/done/": "password reset",
    "/accounts/invite/<str:token>/": "an invited person sets a password (tests/admin)",
    "/me/language/": "language switch, also on the login page (POST)",
    "/chat/<uuid:account_uuid>/": "the web chat page (tests/test_webchat.py)",
    "/chat/<uuid:account_uuid>/send/": "a visitor's message (tests/test_webchat.py)",
    "/chat/<uuid:account_uuid>/widget.js": "the web chat widget script",
    "/webhooks/meta/": "Meta's signed webhook, routed by the ids inside (tests/meta)",
    "/webhooks/meta/files/<str:token>/": "a file we send on Instagram, fetched by Meta through "
    "a signed link that expires in the hour; altered, expired, inbound or another tenant's: 404 "
    "(tests/meta/test_instagram_files.py)",
}
POST_ONLY = {
    "/me/notifications/read/",
    "/me/theme/",
    "/me/availability/",
    "/inbox/layout/",
    "/inbox/columns/flow/",
    "/inbox/columns/order/",
    "/publishing/settings/",
}


def _all_paths() -> set[str]:
    paths: set[str] = set()

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("djadmin/"):
                    continue  # Django's admin: platform operators only, tested below
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                paths.add("/" + prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "")
    return paths


def _admin_only_paths() -> list[str]:
    """Every administration URL except the index and Exports: Admin role only, whatever the
    method, checked before any object is looked up (so a made-up id still answers 403)."""
    return sorted(
        p
        for p in _all_paths()
        if p.startswith("/admin/") and p not in MATRIX and p not in PUBLIC and p not in EXPORT_FILES
    )


def _concrete(path: str) -> str:
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", path)


def test_every_url_is_classified():
    """A new URL must join the matrix (and so the isolation walk) or be declared public."""
    unknown = (
        _all_paths()
        - set(MATRIX)
        - set(PUBLIC)
        - POST_ONLY
        - TENANT_OBJECT_PAGES
        - PANEL_CSV
        - EXPORT_FILES
        - set(_admin_only_paths())
    )
    assert not unknown, f"classify these URLs in tests/test_access.py: {sorted(unknown)}"


def test_administration_is_for_admins_only(cast):
    """Agents and analysts get 403 on every administration URL, by GET and by POST; anonymous
    visitors go to the login page."""
    paths = _admin_only_paths()
    assert "/admin/audit/" in paths
    for path in paths:
        url = _concrete(path)
        for user in (cast.agent, cast.analyst):
            client = client_for(user)
            assert client.get(url).status_code == 403, f"{user.role} GET {url}"
            assert client.post(url).status_code == 403, f"{user.role} POST {url}"
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], url


def test_reconnect_is_404_with_another_tenants_account(cast):
    """«Reconectar» and «Probar conexión» take the account id from the path: another tenant's
    marked account is a 404 for its outsider admin and keeps its mark (nothing audited)."""
    from deskconfig.accounts import ChannelAccount
    from deskconfig.models import ConfigChange
    from deskconfig.reconnect import account_reconnect_needed

    with bypass_context():
        theirs = ChannelAccount.all_tenants.create(
            tenant=cast.tenant_a, kind="whatsapp", name="WhatsApp A", active=False
        )
        account_reconnect_needed(account=theirs, reason="Meta rechazó el token.")
        audited = ConfigChange.all_tenants.count()
    outsider = client_for(cast.outsider)
    for action in ("reconnect/", "probe/", ""):
        response = outsider.post(f"/admin/channels/{theirs.pk}/{action}")
        assert response.status_code == 404, action
    assert outsider.get(f"/admin/channels/{theirs.pk}/").status_code == 404
    with bypass_context():
        theirs.refresh_from_db()
        assert theirs.reconnect_reason == "Meta rechazó el token." and not theirs.active
        assert ConfigChange.all_tenants.count() == audited
    # Its own admin reconnects it: connected again, mark gone, both audited.
    assert client_for(cast.admin).post(f"/admin/channels/{theirs.pk}/reconnect/").status_code == 302
    with bypass_context():
        theirs.refresh_from_db()
        assert theirs.reconnect_reason == "" and theirs.active
        assert ConfigChange.all_tenants.count() == audited + 2


@pytest.mark.parametrize("path", sorted(MATRIX))
def test_role_matrix(cast, path):
    for user, expected in zip((cast.agent, cast.analyst, cast.admin), MATRIX[path], strict=True):
        response = client_for(user).get(path)
        assert response.status_code == expected, f"{user.role} on {path}"


@pytest.mark.parametrize("path", sorted(MATRIX) + sorted(POST_ONLY))
def test_anonymous_users_are_sent_to_login(client, path):
    response = client.post(path) if path in POST_ONLY else client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_menu_shows_only_what_the_role_may_open(cast):
    agent = client_for(cast.agent).get("/inbox/").content.decode()
    analyst = client_for(cast.analyst).get("/inbox/").content.decode()
    admin = client_for(cast.admin).get("/inbox/").content.decode()
    assert 'data-nav="analytics"' not in agent and 'data-nav="admin"' not in agent
    assert 'data-nav="analytics"' in analyst and 'href="/admin/exports/"' in analyst
    assert 'href="/admin/"' not in analyst
    assert 'href="/admin/"' in admin and 'data-nav="analytics"' in admin
    for page in (agent, analyst, admin):
        assert 'data-nav="help"' in page and 'data-nav="inbox"' in page
        assert 'id="conn-status"' in page and 'id="bell"' in page and 'data-action="logout"' in page


def test_outsider_sees_nothing_of_another_tenant(cast):
    """The outsider (tenant B) walks every tenant page; no tenant A data may appear."""
    with bypass_context():
        Notification.all_tenants.create(
            tenant=cast.tenant_a, user=cast.agent, text="Secreto de la tienda A"
        )
    outsider = client_for(cast.outsider)
    for path in MATRIX:
        response = outsider.get(path, follow=True)
        assert response.status_code in (200, 404), path
        body = response.content.decode()
        assert "Secreto de la tienda A" not in body, path
        assert cast.tenant_a.name not in body, path
        assert cast.agent.email not in body, path


def test_the_bell_shows_my_notifications_only(cast):
    with bypass_context():
        Notification.all_tenants.create(tenant=cast.tenant_a, user=cast.agent, text="Para ti")
        Notification.all_tenants.create(tenant=cast.tenant_a, user=cast.admin, text="Para otra")
    agent = client_for(cast.agent)
    page = agent.get("/me/notifications/").content.decode()
    assert "Para ti" in page and "Para otra" not in page
    assert 'id="bell-count"' in agent.get("/inbox/").content.decode()
    agent.post("/me/notifications/read/")
    with bypass_context():
        assert Notification.all_tenants.get(text="Para ti").read_at is not None
        assert Notification.all_tenants.get(text="Para otra").read_at is None


def test_platform_admin_is_for_operators_only(cast, django_user_model):
    with bypass_context():
        operator = django_user_model.objects.create_superuser(
            email="ops@platform.test", password="x-y-z-123456", name="Ops"
        )
    assert client_for(cast.admin).get("/djadmin/").status_code == 302  # to the admin's login
    ops = client_for(operator)
    page = ops.get("/djadmin/helpdesk/tenant/")
    assert page.status_code == 200
    body = page.content.decode()
    assert cast.tenant_a.name in body and cast.tenant_b.name in body
    assert ops.get("/")["Location"] == "/djadmin/"
