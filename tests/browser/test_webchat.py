"""A visitor on the chat page and an agent on the inbox: messages both ways, live; the visitor
reloads and sees the conversation."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from deskconfig.accounts import ChannelAccount
from helpdesk.celery import app
from helpdesk.tenancy import tenant_context
from tests.live import ARTIFACTS, Daphne, agent_page, chromium
from tickets import columns as column_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_and_agent_talk_live(cast):
    with tenant_context(cast.tenant_a.pk):
        chat = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
        unassigned = column_services.columns_apply_flow(user=cast.agent, flow="four")[0].pk

    server = Daphne()
    server.start()
    try:
        with (
            chromium() as browser,
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
        ):
            agent = agent_page(browser, server.url, cast.agent.email, cast.password)

            visitor = browser.new_context(
                locale="es-CL", viewport={"width": 420, "height": 640}
            ).new_page()
            visitor.goto(f"{server.url}/chat/{chat.uuid}/")
            assert "Estamos en línea" in visitor.content()  # an agent is connected
            visitor.fill("input[name=name]", "Camila Soto")
            visitor.fill("#chat-text", "Hola, ¿despachan a Punta Arenas?")
            visitor.keyboard.press("Enter")
            visitor.locator(".cmsg.me", has_text="Punta Arenas").wait_for(timeout=5_000)

            card = agent.locator(f"#col-{unassigned}-cards .tcard", has_text="Camila Soto")
            card.wait_for(timeout=5_000)
            card.locator("a").click()
            agent.locator("#ticket-pane #composer-text").wait_for(timeout=5_000)
            agent.fill("#ticket-pane #composer-text", "¡Hola Camila! Sí, en 3 a 5 días hábiles.")
            typing = visitor.locator("#chat-typing", has_text=cast.agent.get_short_name())
            # The page announces typing at most every 3 s: type on until the visitor sees it.
            for _ in range(4):
                try:
                    typing.wait_for(timeout=3_500)
                    break
                except PlaywrightTimeout:
                    agent.type("#ticket-pane #composer-text", " ")
            typing.wait_for(timeout=1_000)
            agent.click("#ticket-pane [data-action=send]")
            visitor.locator(".cmsg.them", has_text="3 a 5 días").wait_for(timeout=10_000)

            visitor.fill("#chat-text", "¡Gracias!")
            visitor.keyboard.press("Enter")
            agent.locator("#ticket-pane #thread .msg.in", has_text="¡Gracias!").wait_for(
                timeout=5_000
            )

            ARTIFACTS.mkdir(exist_ok=True)
            visitor.screenshot(path=str(ARTIFACTS / "webchat-visitor.png"))
            visitor.reload()
            texts = visitor.locator("#chat-thread").inner_text()
            assert "Punta Arenas" in texts and "3 a 5 días" in texts and "¡Gracias!" in texts
    finally:
        server.stop()
