"""The Messenger journey in a real Chromium: a customer known only by a PSID writes; the card
appears live with the name Graph gave; the agent answers (RESPONSE); three days later the
composer says the answer goes as a human agent and Graph receives the HUMAN_AGENT tag; after
seven days the composer says why nothing can be sent."""

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
from helpdesk.celery import app
from helpdesk.tenancy import tenant_context
from tests.live import ARTIFACTS, Daphne, agent_page, chromium, in_thread
from tests.meta.conftest import answer_profiles
from tests.meta.payloads import PAGE, SECRET, body, messenger_event
from tickets import columns as column_services
from tickets.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TOKEN = "EAAbrowser-page-token"
PSID = "24680135790"


def _post(server: Daphne, raw: bytes) -> None:
    response = requests.post(
        f"{server.url}/webhooks/meta/", data=raw, timeout=10,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, SECRET)},
    )  # fmt: skip
    assert response.status_code == 200


def _age(tenant_id: int, days: int) -> int:
    """The customer's message is ``days`` old: the ticket's number."""
    with tenant_context(tenant_id):
        incoming = Message.objects.select_related("ticket").get(provider_id="m_in1")
        Message.objects.filter(pk=incoming.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=days)
        )
        return int(incoming.ticket.number)


def test_a_messenger_conversation_through_its_windows(
    cast, settings, monkeypatch, httpserver: HTTPServer
):
    graph = httpserver.url_for("").rstrip("/")
    monkeypatch.setenv("META_APP_SECRET", SECRET)
    monkeypatch.setenv("GRAPH_API_BASE_URL", graph)
    settings.META_APP_SECRET, settings.GRAPH_API_BASE_URL = SECRET, graph
    with tenant_context(cast.tenant_a.pk):
        ChannelAccount.objects.create(
            tenant=cast.tenant_a, kind=ChannelKind.FACEBOOK, name="Página tienda",
            settings={"page_id": PAGE}, credentials={"page_access_token": TOKEN},
        )  # fmt: skip
        unassigned = column_services.columns_apply_flow(user=cast.agent, flow="four")[0].pk
    answer_profiles(httpserver)
    sent: list[dict] = []

    def messages_endpoint(request: Request) -> Response:
        sent.append(json.loads(request.data))
        return Response(json.dumps({"recipient_id": PSID, "message_id": f"m_out{len(sent)}"}),
                        content_type="application/json")  # fmt: skip

    httpserver.expect_request(
        f"/v25.0/{PAGE}/messages", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_handler(messages_endpoint)
    now = int(timezone.now().timestamp() * 1000)

    server = Daphne()
    server.start()
    try:
        with (
            chromium() as browser,
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
        ):
            agent = agent_page(browser, server.url, cast.agent.email, cast.password)

            event = messenger_event(
                sender=PSID, ts=now, message={"mid": "m_in1", "text": "¿Llegó mi pedido?"}
            )
            _post(server, body("page", event))
            card = agent.locator(f"#col-{unassigned}-cards .tcard", has_text="Valentina Soto")
            card.wait_for(timeout=10_000)
            card.locator("a").click()
            agent.locator("#ticket-pane [data-meta-window=response]").wait_for(timeout=5_000)
            agent.fill("#ticket-pane #composer-text", "Hola Valentina, va en camino.")
            agent.click("#ticket-pane [data-action=send]")
            out = agent.locator("#ticket-pane #thread .msg.out", has_text="va en camino")
            out.locator(".delivery.sent").wait_for(timeout=10_000)
            assert sent[-1] == {
                "recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                "message": {"text": "Hola Valentina, va en camino."},
            }  # fmt: skip

            number = in_thread(_age, cast.tenant_a.pk, 3)
            agent.goto(f"{server.url}/tickets/{number}/")
            agent.locator("[data-meta-window=human_agent]").wait_for(timeout=5_000)
            ARTIFACTS.mkdir(exist_ok=True)
            agent.screenshot(path=str(ARTIFACTS / "messenger-human-agent.png"))
            agent.fill("#composer-text", "Te aviso apenas llegue.")
            agent.click("[data-action=send]")
            agent.locator("#thread .msg.out", has_text="apenas llegue").locator(
                ".delivery.sent"
            ).wait_for(timeout=10_000)
            assert sent[-1]["messaging_type"] == "MESSAGE_TAG"
            assert sent[-1]["tag"] == "HUMAN_AGENT"

            in_thread(_age, cast.tenant_a.pk, 8)
            agent.goto(f"{server.url}/tickets/{number}/")
            agent.locator("[data-meta-window=closed]").wait_for(timeout=5_000)
            assert agent.locator("#composer-text:visible").count() == 0
            agent.screenshot(path=str(ARTIFACTS / "messenger-window-closed.png"))
            assert len(sent) == 2
    finally:
        server.stop()
