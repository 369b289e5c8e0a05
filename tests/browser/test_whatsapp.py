"""The WhatsApp journey in a real Chromium: a message posted to Meta's webhook becomes a card
live; the agent answers; the local Graph server receives the exact send; delivered then read
statuses turn the ticks; after 24 hours the composer offers only templates."""

from __future__ import annotations

import datetime
import json

import pytest
import requests
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from channels_conn.meta.signature import sign
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import WhatsAppTemplate
from helpdesk.celery import app
from helpdesk.tenancy import tenant_context
from tests.live import ARTIFACTS, Daphne, agent_page, chromium, in_thread
from tests.meta.payloads import NUMBER_A, SECRET, wa_message, wa_status, whatsapp
from tickets import columns as column_services
from tickets.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TOKEN = "EAAbrowser-token"


def _post(server: Daphne, raw: bytes) -> None:
    response = requests.post(
        f"{server.url}/webhooks/meta/", data=raw, timeout=10,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, SECRET)},
    )  # fmt: skip
    assert response.status_code == 200


def _a_day_later(tenant_id: int) -> int:
    """The customer's message is 25 hours old: the ticket's number."""
    with tenant_context(tenant_id):
        incoming = Message.objects.select_related("ticket").get(provider_id="wamid.IN1")
        Message.objects.filter(pk=incoming.pk).update(
            created_at=timezone.now() - datetime.timedelta(hours=25)
        )
        return int(incoming.ticket.number)


def test_a_whatsapp_conversation_in_the_browser(
    cast, settings, monkeypatch, httpserver: HTTPServer
):
    graph = httpserver.url_for("").rstrip("/")
    monkeypatch.setenv("META_APP_SECRET", SECRET)
    monkeypatch.setenv("GRAPH_API_BASE_URL", graph)
    settings.META_APP_SECRET, settings.GRAPH_API_BASE_URL = SECRET, graph
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(
            tenant=cast.tenant_a, kind=ChannelKind.WHATSAPP, name="WhatsApp ventas",
            settings={"phone_number_id": NUMBER_A, "waba_id": "1"},
            credentials={"access_token": TOKEN},
        )  # fmt: skip
        WhatsAppTemplate.objects.create(
            tenant=cast.tenant_a, account=account, name="seguimiento", language="es",
            body="Hola {{1}}, ¿pudimos resolver tu consulta?",
            status=WhatsAppTemplate.Status.APPROVED,
        )  # fmt: skip
        unassigned = column_services.columns_apply_flow(user=cast.agent, flow="four")[0].pk
    sent: list[dict] = []

    def messages_endpoint(request: Request) -> Response:
        sent.append(json.loads(request.data))
        return Response(json.dumps({"messaging_product": "whatsapp",
                                    "messages": [{"id": f"wamid.OUT{len(sent)}"}]}),
                        content_type="application/json")  # fmt: skip

    httpserver.expect_request(
        f"/v25.0/{NUMBER_A}/messages", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_handler(messages_endpoint)
    now = str(int(timezone.now().timestamp()))

    server = Daphne()
    server.start()
    try:
        with (
            chromium() as browser,
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
        ):
            agent = agent_page(browser, server.url, cast.agent.email, cast.password)

            _post(
                server,
                whatsapp(
                    wa_message(
                        wamid="wamid.IN1",
                        name="Josefa Díaz",
                        ts=now,
                        text={"body": "Hola, ¿tienen la talla 38?"},
                    )
                ),
            )
            card = agent.locator(f"#col-{unassigned}-cards .tcard", has_text="Josefa Díaz")
            card.wait_for(timeout=10_000)

            card.locator("a").click()
            agent.locator("#ticket-pane #composer-text").wait_for(timeout=5_000)
            agent.fill("#ticket-pane #composer-text", "¡Hola Josefa! Sí, nos queda una.")
            agent.click("#ticket-pane [data-action=send]")
            out = agent.locator("#ticket-pane #thread .msg.out", has_text="nos queda una")
            out.locator(".delivery.sent").wait_for(timeout=10_000)
            assert sent == [{
                "messaging_product": "whatsapp", "recipient_type": "individual",
                "to": "+56912345678", "type": "text",
                "text": {"preview_url": False, "body": "¡Hola Josefa! Sí, nos queda una."},
            }]  # fmt: skip

            _post(server, whatsapp(wa_status("wamid.OUT1", "delivered")))
            out.locator(".delivery.delivered").wait_for(timeout=10_000)
            _post(server, whatsapp(wa_status("wamid.OUT1", "read", ts="1750030999")))
            out.locator(".delivery.read").wait_for(timeout=10_000)
            ARTIFACTS.mkdir(exist_ok=True)
            agent.screenshot(path=str(ARTIFACTS / "whatsapp-ticks.png"))

            # A day later the window is closed: the composer offers only the templates.
            number = in_thread(_a_day_later, cast.tenant_a.pk)
            agent.goto(f"{server.url}/tickets/{number}/")
            agent.locator(".wa-window.closed").wait_for(timeout=5_000)
            assert agent.locator("#composer-text:visible").count() == 0
            assert agent.locator("[data-action=send-template]").is_visible()
    finally:
        server.stop()
