"""The shell in a real Chromium: log in, see it in Spanish, stay live across a server drop."""

from __future__ import annotations

import pytest

from helpdesk.live import publish, tenant_group
from tests.live import ARTIFACTS, Daphne, chromium, in_thread, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BADGE = '<span class="badge" id="bell-count" hx-swap-oob="true">{}</span>'


def _push(tenant_id: int, html: str) -> None:
    """Publish as a service would."""
    in_thread(publish, tenant_group(tenant_id), {"html": html})


def test_login_live_indicator_push_and_reconnect(cast):
    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            context = browser.new_context(locale="es-CL", viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(server.url + "/inbox/")
            assert "/accounts/login/" in page.url  # anonymous: to the login page
            assert page.locator("h1").inner_text() == "Iniciar sesión"

            page.fill("input[name=username]", cast.agent.email)
            page.fill("input[name=password]", "mala")
            page.click("form:has(input[type=password]) [type=submit]")
            assert "El correo o la contraseña no son correctos" in page.content()

            login(page, server.url, cast.agent.email, cast.password)
            status = page.locator("#conn-status")
            status.and_(page.locator("[data-state=connected]")).wait_for(timeout=10_000)
            assert status.inner_text().strip() == "Conectado"
            assert page.locator(".mainnav").inner_text().split() == [
                "Bandeja",
                "Publicaciones",
                "Ayuda",
            ]

            # A push to the tenant's group reaches this page (an out-of-band swap).
            _push(cast.tenant_a.pk, BADGE.format(7))
            page.locator("#bell-count", has_text="7").wait_for(timeout=5_000)

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "shell-inbox-light.png"))

            # The server goes away: the indicator says so; it comes back: the page reconnects.
            server.stop()
            page.locator("#conn-status:not([data-state=connected])").wait_for(timeout=10_000)
            assert page.locator("#conn-status").get_attribute("data-state") in {
                "reconnecting",
                "offline",
            }
            server.start()
            page.locator("#conn-status[data-state=connected]").wait_for(timeout=30_000)
            _push(cast.tenant_a.pk, BADGE.format(8))
            page.locator("#bell-count", has_text="8").wait_for(timeout=5_000)

            # User menu: English, then dark mode, then log out.
            page.click("#user-menu summary")
            page.click("#user-menu button[value=en]")
            page.locator("[data-nav=inbox]", has_text="Inbox").wait_for()
            page.click("#user-menu summary")
            page.click("#user-menu button[value=true]")
            assert page.locator("html").get_attribute("data-theme") == "dark"
            page.screenshot(path=str(ARTIFACTS / "shell-inbox-dark-en.png"))
            page.click("#user-menu summary")
            page.click("[data-action=logout]")
            page.wait_for_url(server.url + "/accounts/login/")
            context.close()
    finally:
        server.stop()


def test_menus_follow_the_role(cast):
    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            admin = browser.new_context(locale="es-CL").new_page()
            login(admin, server.url, cast.admin.email, cast.password)
            assert admin.locator(".mainnav").inner_text().split() == [
                "Bandeja",
                "Publicaciones",
                "Analítica",
                "Administración",
                "Ayuda",
            ]
            admin.click("[data-nav=admin]")
            assert admin.locator("[data-section]").count() == 13

            analyst = browser.new_context(locale="es-CL").new_page()
            login(analyst, server.url, cast.analyst.email, cast.password)
            analyst.click("[data-nav=admin]")
            analyst.wait_for_url(server.url + "/admin/exports/")
            assert analyst.locator("h1").inner_text() == "Exportaciones"
            # The menu hides what the server refuses anyway.
            analyst.goto(server.url + "/admin/")
            assert analyst.url.endswith("/admin/exports/")
    finally:
        server.stop()
