"""An agent works a ticket in a real Chromium while the customer writes and a colleague looks."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from deskconfig.accounts import ChannelAccount
from deskconfig.models import MessageTemplate
from helpdesk.celery import app
from helpdesk.tenancy import tenant_context
from tests.live import ARTIFACTS, Daphne, chromium, in_thread, login
from tickets import services
from tickets.models import DeliveryStatus, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _customer_writes(tenant_id: int, account_id: int, text: str) -> None:
    with tenant_context(tenant_id):
        account = ChannelAccount.objects.get(pk=account_id)
        services.message_receive(
            account=account,
            inbound=services.Inbound(identity="visitante-1", text=text, customer_name="Josefa"),
        )


def test_an_agent_answers_a_ticket_live(cast):
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(
            tenant=cast.tenant_a, kind="webchat", name="Chat", sla_minutes=30
        )
        MessageTemplate.objects.create(
            tenant=cast.tenant_a,
            name="Saludo",
            shortcut="saludo",
            body="Hola {cliente}, soy {ejecutivo}. ¿En qué te ayudo?",
        )
    _customer_writes(cast.tenant_a.pk, account.pk, "Hola, ¿mi pedido 10412?")
    with tenant_context(cast.tenant_a.pk):
        number = Ticket.objects.get().number

    server = Daphne()
    server.start()
    try:
        # A worker delivers the answer: it counts (Cerrar) once the channel accepted it.
        with (
            chromium() as browser,
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
        ):
            agent = browser.new_context(
                locale="es-CL", viewport={"width": 1400, "height": 900}
            ).new_page()
            login(agent, server.url, cast.agent.email, cast.password)
            agent.goto(f"{server.url}/tickets/{number}/")
            assert "Hola, ¿mi pedido 10412?" in agent.locator("#thread").inner_text()
            assert agent.locator("[data-action=close]").inner_text() == "Ignorar"

            colleague = browser.new_context(locale="es-CL").new_page()
            login(colleague, server.url, cast.admin.email, cast.password)
            colleague.goto(f"{server.url}/tickets/{number}/")
            agent.locator("#presence", has_text=cast.admin.name).wait_for(timeout=10_000)

            # The customer writes again: it appears without a reload.
            in_thread(_customer_writes, cast.tenant_a.pk, account.pk, "¿Siguen ahí?")
            agent.locator("#thread .msg.in", has_text="¿Siguen ahí?").wait_for(timeout=5_000)

            # "/" quick replies with the keyboard: one request once typing pauses, Escape
            # closes the list, ArrowDown + Enter takes the reply (Enter adds no new line).
            asked: list[str] = []
            agent.on("request", lambda r: asked.append(r.url) if "quick-replies" in r.url else None)
            agent.locator("#composer-text").press_sequentially("/sal", delay=30)
            agent.locator(".quick-item").first.wait_for()
            assert len(asked) == 1, asked
            agent.press("#composer-text", "Escape")
            assert agent.locator(".quick-item").count() == 0
            agent.locator("#composer-text").press_sequentially("u", delay=30)
            agent.locator(".quick-item").first.wait_for()
            agent.press("#composer-text", "ArrowDown")
            agent.press("#composer-text", "Enter")
            assert agent.input_value("#composer-text") == (
                f"Hola Josefa, soy {cast.agent.name}. ¿En qué te ayudo?"
            )
            colleague.locator("#typing", has_text=cast.agent.name).wait_for(timeout=5_000)
            agent.click("[data-action=send]")
            agent.locator("#thread .msg.out", has_text="soy").wait_for(timeout=5_000)
            agent.locator("#composer-text:placeholder-shown").wait_for()  # emptied after sending
            # The colleague sees the answer arrive, and the header now offers "Cerrar".
            colleague.locator("#thread .msg.out", has_text="soy").wait_for(timeout=5_000)
            colleague.locator("[data-action=close]", has_text="Cerrar").wait_for(timeout=5_000)

            ARTIFACTS.mkdir(exist_ok=True)
            agent.screenshot(path=str(ARTIFACTS / "ticket-light.png"))

            agent.click("[data-tab=historial]")
            agent.locator("#tabpanel[data-tab=historial]", has_text="Respuesta").wait_for()
            # Only the chosen tab is marked.
            assert agent.locator(".tabs a.active").all_inner_texts() == ["Historial"]

            # An internal comment mentions the admin with the keyboard: "@adm", ArrowDown
            # past nobody else, Enter takes the handle.
            agent.click("[data-tab=comentarios]")
            note = agent.locator("#tabpanel textarea[name=text]")
            note.press_sequentially("Revisa esto @adm", delay=20)
            agent.locator("#mention-list [data-handle=admin]").wait_for()
            assert agent.locator("#mention-list li:visible").count() == 1
            note.press("Enter")
            assert note.input_value() == "Revisa esto @admin "
            assert agent.locator("#mention-list").is_hidden()
            note.press_sequentially("por favor", delay=10)
            agent.click("#tabpanel button.btn.primary")
            agent.locator("#tabpanel .comments", has_text="Revisa esto @admin por favor").wait_for()
            agent.click("[data-action=close]")
            agent.locator(".status-chip", has_text="Cerrado").wait_for()
        with tenant_context(cast.tenant_a.pk):
            reply = Message.objects.get(text__startswith="Hola Josefa")
        assert reply.status == DeliveryStatus.SENT
    finally:
        server.stop()


def test_merged_messages_appear_without_a_reload(cast):
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(
            tenant=cast.tenant_a, kind="whatsapp", name="WhatsApp", sla_minutes=30
        )
    _customer_writes(cast.tenant_a.pk, account.pk, "Mi pedido 10412 no llegó")
    with tenant_context(cast.tenant_a.pk):
        old = Ticket.objects.get()
        services.ticket_close(ticket=old, actor=cast.agent)
    _customer_writes(cast.tenant_a.pk, account.pk, "¿Me ayudan?")
    with tenant_context(cast.tenant_a.pk):
        target = Ticket.objects.exclude(pk=old.pk).get()

    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            agent = browser.new_context(locale="es-CL").new_page()
            login(agent, server.url, cast.agent.email, cast.password)
            agent.goto(f"{server.url}/tickets/{target.number}/")
            agent.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
            assert "10412" not in agent.locator("#thread").inner_text()
            agent.click(".merge summary")
            agent.select_option(".merge select[name=source]", str(old.number))
            agent.click(".merge button.primary")
            agent.locator("#thread .msg.merged", has_text="10412").wait_for(timeout=5_000)
            assert agent.locator("#thread .msg", has_text="¿Me ayudan?").count() == 1
    finally:
        server.stop()


def test_a_public_comment_has_a_menu_to_answer_privately_or_copy_its_link(cast):
    with tenant_context(cast.tenant_a.pk):
        page_account = ChannelAccount.objects.create(
            tenant=cast.tenant_a, kind="facebook", name="Página", settings={"page_id": "55501"}
        )
        received = services.message_receive(
            account=page_account,
            inbound=services.Inbound(
                identity="9912345",
                text="¿Tienen esta lámpara en negro?",
                is_public=True,
                customer_name="Rocío",
            ),
        )
        number, message_id = received.message.ticket.number, received.message.pk

    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            context = browser.new_context(locale="es-CL")
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            agent = context.new_page()
            login(agent, server.url, cast.agent.email, cast.password)
            agent.goto(f"{server.url}/tickets/{number}/")
            comment = agent.locator(f"#msg-{message_id}")
            comment.locator(".msg-menu summary").click()
            comment.locator("[data-reply-private]").click()
            assert agent.input_value("#composer-visibility") == "private"
            assert agent.input_value("#composer input[name=reply_to]") == str(message_id)
            comment.locator(".msg-menu summary").click()
            comment.locator("[data-copy-link]").click()
            copied = comment.locator("[data-copy-link]")
            assert copied.get_attribute("data-url") == (
                f"{server.url}/tickets/{number}/#msg-{message_id}"
            )
    finally:
        server.stop()
