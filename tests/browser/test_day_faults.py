"""Faults of a day's work seen in a real Chromium: search finds a word a customer wrote (9 of
issue 18's list: 11), the audit log reads as people speak (9), the Ayuda snippet keeps
«</body>» and a missing page looks like the product (10)."""

from __future__ import annotations

import pytest

from deskconfig.accounts import ChannelAccount
from deskconfig.models import ConfigChange, Department
from helpdesk.tenancy import tenant_context
from tests.live import Daphne, chromium, login
from tickets import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_audit_help_and_a_missing_page(cast):
    with tenant_context(cast.tenant_a.pk):
        chat = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
        services.message_receive(
            account=chat,
            inbound=services.Inbound(
                identity="v-31", text="La impresora del local no imprime", customer_name="Rosa"
            ),
        )
        sales = Department.objects.create(tenant=cast.tenant_a, name="Ventas")
        ConfigChange.objects.create(
            tenant=cast.tenant_a,
            actor=cast.admin,
            section="users",
            action=ConfigChange.Action.UPDATE,
            object_type="user",
            object_id=str(cast.agent.pk),
            object_repr=str(cast.agent),
            before={"departments": []},
            after={"departments": [sales.pk], "invited_at": "2026-03-01T15:30:00+00:00"},
        )

    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            page = browser.new_context(locale="es-CL").new_page()
            login(page, server.url, cast.admin.email, cast.password)

            # 11: a word the customer wrote, typed in the top bar with another form of it.
            page.fill(".topsearch input", "impresoras")
            page.press(".topsearch input", "Enter")
            hit = page.locator(".text-hits .card", has_text="Rosa")
            hit.wait_for()
            assert hit.locator("mark").inner_text().lower() == "impresora"

            # 9: field names and departments as people call them.
            page.goto(f"{server.url}/admin/audit/")
            log = page.locator("table.audit").inner_text()
            assert "Departamentos" in log and "Ventas" in log and "Invitación enviada" in log
            assert "invited" not in log.lower() and "2026-03-01T" not in log

            # 10: the snippet sentence keeps «</body>»; a missing page is the product's.
            page.goto(f"{server.url}/help/")
            assert "</body>" in page.locator("main").inner_text()
            response = page.goto(f"{server.url}/no-existe/")
            assert response is not None and response.status == 404
            assert page.locator("h1").inner_text() == "No encontramos lo que buscas"
            assert page.locator("link[href*='app.css']").count() == 1
    finally:
        server.stop()


def test_a_reply_to_an_unreachable_mail_server_says_at_once_that_it_is_retried(cast, settings):
    """Fault 8: the agent sees within seconds, in Spanish, that the send is retried and why,
    instead of «En cola» for five minutes and then the library's English."""
    from celery.contrib.testing.worker import start_worker

    from helpdesk.celery import app

    settings.OUTBOUND_ALLOW_PRIVATE = True  # the worker may try the local (closed) port
    with tenant_context(cast.tenant_a.pk):
        mailbox = ChannelAccount.objects.create(
            tenant=cast.tenant_a,
            kind="email",
            name="Soporte",
            settings={"address": "soporte@tienda.test", "smtp_host": "127.0.0.1", "smtp_port": 1},
        )
        number = services.message_receive(
            account=mailbox,
            inbound=services.Inbound(identity="ana@example.test", text="Mi pedido no llegó"),
        ).message.ticket.number

    server = Daphne()
    server.start()
    try:
        with (
            chromium() as browser,
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
        ):
            page = browser.new_context(locale="es-CL").new_page()
            login(page, server.url, cast.agent.email, cast.password)
            page.goto(f"{server.url}/tickets/{number}/")
            page.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
            page.fill("#composer-text", "Lo revisamos y te escribimos hoy.")
            page.click("[data-action=send]")
            retrying = page.locator("#thread .msg.out .retrying")
            retrying.wait_for(timeout=15_000)
            text = retrying.inner_text()
            assert text.startswith("Reintentando:") and "rechazó la conexión" in text
            assert "SMTPServerDisconnected" not in text and "Errno" not in text
    finally:
        server.stop()
