"""The inbox proof: a message arrives, its card appears without a reload; the agent takes and
answers it from the split view; the card moves; a second agent's inbox follows."""

from __future__ import annotations

import pytest

from deskconfig.accounts import ChannelAccount
from helpdesk.tenancy import tenant_context
from tests.live import ARTIFACTS, Daphne, chromium, in_thread, login
from tickets import columns as column_services
from tickets import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _customer_writes(tenant_id: int, account_id: int, text: str) -> None:
    with tenant_context(tenant_id):
        account = ChannelAccount.objects.get(pk=account_id)
        services.message_receive(
            account=account,
            inbound=services.Inbound(identity="v-42", text=text, customer_name="Martina Rojas"),
        )


def _other_customer_writes(tenant_id: int, account_id: int) -> None:
    with tenant_context(tenant_id):
        services.message_receive(
            account=ChannelAccount.objects.get(pk=account_id),
            inbound=services.Inbound(
                identity="v-77", text="Mientras estabas fuera", customer_name="Óscar Leiva"
            ),
        )


def test_cards_appear_move_and_follow_in_two_inboxes(cast):
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
        columns = column_services.columns_apply_flow(user=cast.agent, flow="four")
        unassigned, new, addressed, _waiting = (c.pk for c in columns)
        supervisor = column_services.columns_apply_flow(user=cast.admin, flow="supervisor")
        sup_unassigned = supervisor[0].pk

    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            agent = browser.new_context(
                locale="es-CL", viewport={"width": 1500, "height": 900}
            ).new_page()
            # A live session logs no error in the console (htmx's oobErrorNoTarget included).
            errors: list[str] = []
            agent.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            login(agent, server.url, cast.agent.email, cast.password)
            agent.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
            admin = browser.new_context(locale="es-CL").new_page()
            admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            login(admin, server.url, cast.admin.email, cast.password)
            admin.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)

            in_thread(
                _customer_writes, cast.tenant_a.pk, account.pk, "Hola, ¿hacen envíos a Arica?"
            )
            card = agent.locator(f"#col-{unassigned}-cards .tcard", has_text="Martina Rojas")
            card.wait_for(timeout=5_000)
            admin.locator(f"#col-{sup_unassigned}-cards .tcard", has_text="Martina Rojas").wait_for(
                timeout=5_000
            )
            assert "(1)" in agent.title()  # the tab shows what is new

            # The column list collapses to a thin bar and stays so after a reload.
            agent.click("#mycols-collapse")
            assert agent.locator("#mycols ul").is_hidden()
            agent.reload()
            agent.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
            assert agent.locator("#mycols ul").is_hidden()
            agent.click("#mycols-collapse")
            assert agent.locator("#mycols ul").is_visible()

            # Split view: the ticket opens beside the columns; the agent takes it.
            card.locator("a").click()
            agent.locator("#ticket-pane #ticket-header").wait_for(timeout=5_000)
            agent.select_option("#ticket-pane #assignee", str(cast.agent.pk))
            agent.locator(f"#col-{new}-cards .tcard", has_text="Martina Rojas").wait_for(
                timeout=5_000
            )
            assert agent.locator(f"#col-{unassigned}-cards .tcard").count() == 0
            admin.locator(f"#col-{sup_unassigned}-cards .tcard").first.wait_for(
                state="detached", timeout=5_000
            )
            agent.locator("#metric-open", has_text="1").wait_for(timeout=5_000)

            agent.fill("#ticket-pane #composer-text", "¡Hola Martina! Sí, enviamos a Arica.")
            agent.click("#ticket-pane [data-action=send]")
            agent.locator(f"#col-{addressed}-cards .tcard", has_text="Martina Rojas").wait_for(
                timeout=5_000
            )
            assert agent.locator(f"#col-{new}-cards .tcard").count() == 0
            agent.locator("#metric-addressed", has_text="1").wait_for(timeout=5_000)
            # The counters keep their look after live updates (bold, the waiting one coloured).
            assert agent.locator(".metric b").count() == 3

            # The pane follows too: the answer in the thread, the header now offers "Cerrar".
            agent.locator("#ticket-pane #thread .msg.out", has_text="Arica").wait_for(timeout=5_000)
            agent.locator("#ticket-pane [data-action=close]", has_text="Cerrar").wait_for(
                timeout=5_000
            )
            agent.locator("#ticket-pane #composer-text:placeholder-shown").wait_for()

            # Escape in an empty composer closes the pane; with a draft it asks first.
            agent.fill("#ticket-pane #composer-text", "borrador")
            agent.once("dialog", lambda dialog: dialog.dismiss())
            agent.press("#ticket-pane #composer-text", "Escape")
            assert agent.locator("#ticket-pane").is_visible()
            agent.fill("#ticket-pane #composer-text", "")
            agent.press("#ticket-pane #composer-text", "Escape")
            agent.locator("#ticket-pane").wait_for(state="hidden")
            card = agent.locator(f"#col-{addressed}-cards .tcard", has_text="Martina Rojas")
            card.locator("a").click()
            agent.locator("#ticket-pane #composer-text").wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            agent.screenshot(path=str(ARTIFACTS / "inbox-split-light.png"))
            dark = browser.new_context(
                locale="es-CL", color_scheme="dark", viewport={"width": 1500, "height": 900}
            ).new_page()
            login(dark, server.url, cast.agent.email, cast.password)
            dark.screenshot(path=str(ARTIFACTS / "inbox-dark.png"))
            assert errors == []
    finally:
        server.stop()


def test_after_a_drop_the_inbox_catches_up_without_duplicates(cast):
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
        unassigned = column_services.columns_apply_flow(user=cast.agent, flow="four")[0].pk
    _customer_writes(cast.tenant_a.pk, account.pk, "Primero")

    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            page = browser.new_context(locale="es-CL").new_page()
            login(page, server.url, cast.agent.email, cast.password)
            page.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
            cards = page.locator(f"#col-{unassigned}-cards .tcard")
            assert cards.count() == 1

            server.stop()
            page.locator("#conn-status:not([data-state=connected])").wait_for(timeout=10_000)
            # While this page is offline another customer writes.
            in_thread(_other_customer_writes, cast.tenant_a.pk, account.pk)
            server.start()
            page.locator("#conn-status[data-state=connected]").wait_for(timeout=30_000)
            page.locator(f"#col-{unassigned}-cards .tcard", has_text="Óscar Leiva").wait_for(
                timeout=10_000
            )
            assert cards.count() == 2  # caught up, nothing duplicated
            # And live again after the catch-up.
            in_thread(_customer_writes, cast.tenant_a.pk, account.pk, "Ya volvió")
            page.locator(f"#col-{unassigned}-cards .tcard", has_text="Ya volvió").wait_for(
                timeout=5_000
            )
            assert cards.count() == 2
    finally:
        server.stop()


# Records what the inbox does with the browser's Notification and Web Audio APIs (the real
# ones still run: the permission is the context's).
_RECORD_ALERTS = """
window.__notes = [];
window.__rings = 0;
if (window.Notification) {
  window.Notification = new Proxy(window.Notification, {
    construct(target, args) {
      window.__notes.push({title: args[0], body: (args[1] || {}).body || ""});
      return Reflect.construct(target, args);
    }
  });
}
const RealAudio = window.AudioContext || window.webkitAudioContext;
if (RealAudio) {
  window.AudioContext = function () {
    const audio = new RealAudio();
    const create = audio.createOscillator.bind(audio);
    audio.createOscillator = function () {
      const osc = create();
      const start = osc.start.bind(osc);
      osc.start = function (...args) { window.__rings += 1; return start(...args); };
      return osc;
    };
    return audio;
  };
}
"""


def test_a_column_rings_and_notifies_a_new_customer_message(cast):
    """A column with sound and desktop notifications on: a customer's new message plays the
    sound and shows a notification naming the column and the customer; the prompt asking for
    the permission shows where it is not granted yet."""
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat")
        columns = column_services.columns_apply_flow(user=cast.agent, flow="four")
        unassigned, new = columns[0], columns[1]
        type(unassigned).objects.filter(pk=unassigned.pk).update(sound=True, desktop_notify=True)

    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            asking = browser.new_context(locale="es-CL").new_page()
            login(asking, server.url, cast.agent.email, cast.password)
            asking.locator("#notify-permission").wait_for(state="visible", timeout=5_000)

            context = browser.new_context(locale="es-CL", permissions=["notifications"])
            context.add_init_script(_RECORD_ALERTS)
            page = context.new_page()
            login(page, server.url, cast.agent.email, cast.password)
            page.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
            assert page.locator("#notify-permission").is_hidden()  # already granted

            in_thread(_customer_writes, cast.tenant_a.pk, account.pk, "¿Tienen talla M?")
            page.locator(f"#col-{unassigned.pk}-cards .tcard", has_text="Martina Rojas").wait_for(
                timeout=5_000
            )
            page.wait_for_function("window.__notes.length > 0", timeout=5_000)
            notes = page.evaluate("window.__notes")
            assert len(notes) == 1
            assert notes[0]["title"] == f"{unassigned.name}: Martina Rojas"
            assert "¿Tienen talla M?" in notes[0]["body"]
            assert page.evaluate("window.__rings") == 1
            badge = page.locator(f'.column-head [data-new-for="{unassigned.pk}"]')
            assert badge.inner_text() == "1"
            assert page.locator(f'.column-head [data-new-for="{new.pk}"]').is_hidden()
    finally:
        server.stop()
