"""Every main page on a phone (390 by 844): nothing wider than the screen, no control cut off at
its right edge, no control under 40 px to the finger; the inbox shows one column at a time and
a ticket opens full screen with a short header; the
customers' chat page fits from 320 to 430 px with the keyboard open. Screenshots at 390 and
1440, light and dark, go to artifacts/ for the note."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import get_resolver

from deskconfig.accounts import ChannelAccount
from helpdesk.tenancy import bypass_context
from tests.live import ARTIFACTS, Daphne, chromium, login
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
PASSWORD = "demo1234"

# How wide the document is, the visible controls whose right edge is past the screen (a control
# inside a box that scrolls sideways can be reached, so it does not count), and the controls a
# finger can hardly hit: under 40 px tall (an invisible ::after margin counts; links inside running
# text, check boxes and radio buttons with their labels do not).
OVERFLOW_JS = """() => {
  const W = document.documentElement.clientWidth, cut = [], small = [];
  const scrolls = el => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === 'auto' || o === 'scroll') && p.clientWidth <= W) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll('a, button, input, select, textarea, summary')) {
    if (!el.checkVisibility()) continue;
    const r = el.getBoundingClientRect();
    const what = `${el.tagName} "${(el.innerText || el.name || '').trim().slice(0, 30)}"`;
    if (r.width && r.right > W + 1 && !scrolls(el)) cut.push(`${what} ${r.right}`);
    if (!r.width || ['hidden', 'checkbox', 'radio', 'file'].includes(el.type)) continue;
    const inText = el.tagName === 'A' && getComputedStyle(el).display === 'inline';
    if (inText && !el.closest('nav')) continue;
    const after = getComputedStyle(el, '::after');
    const margin = after.position === 'absolute' ? parseFloat(after.height) || 0 : 0;
    const reach = Math.max(r.height, margin);
    if (reach < 39.5) small.push(`${what} ${Math.round(r.width)}x${Math.round(reach)}`);
  }
  return {width: document.documentElement.scrollWidth, screen: W, cut, small};
}"""

AT_LEFT_EDGE_JS = """id => {
  const box = document.getElementById(`col-${id}`).getBoundingClientRect();
  return Math.abs(box.x) < 2;
}"""


def _plain_paths(prefixes: tuple[str, ...]) -> list[str]:
    """Every URL under these prefixes that takes no argument: new pages join by themselves."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, route)
            elif "<" not in route and route.startswith(prefixes):
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def _last_ticket() -> int:
    with bypass_context():
        return Ticket.objects.filter(tenant__slug="demo").order_by("-number")[0].number


def _pages(number: int) -> dict[str, list[str]]:
    common = ["/inbox/", f"/tickets/{number}/", "/search/?q=pedido", "/tickets/new/", "/help/"]
    common += ["/inbox/columns/new/", "/me/preferences/"]
    admin = _plain_paths(("admin/", "analytics/", "publishing/", "exports/"))
    return {"agent@demo.test": common, "admin@demo.test": common + admin}


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, "not on screen"
    return dict(box)


def _fits(page: Any, path: str) -> None:
    report = page.evaluate(OVERFLOW_JS)
    assert report["width"] <= report["screen"], f"{path}: {report}"
    assert not report["cut"], f"{path}: {report['cut']}"
    assert not report["small"], f"{path}: too small to tap: {report['small']}"


def test_every_main_page_fits_a_phone(db: None) -> None:
    call_command("seed_demo", verbosity=0)
    number = _last_ticket()
    pages = _pages(number)
    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            for email, paths in pages.items():
                context = browser.new_context(locale="es-CL", viewport=PHONE)
                page = context.new_page()
                login(page, server.url, email, PASSWORD)
                for path in paths:
                    probe = page.request.get(server.url + path)
                    if probe.status == 405:  # answers POSTs only (a tester, a setting)
                        continue
                    assert probe.status == 200, path
                    page.goto(server.url + path)
                    page.wait_for_load_state("networkidle")
                    _fits(page, path)
                # The user menu opens inside the screen.
                page.goto(server.url + "/inbox/")
                page.click("#user-menu summary")
                _fits(page, "/inbox/ with the user menu open")
                context.close()
            _screenshots(browser, server.url, number)
    finally:
        server.stop()


def test_the_inbox_and_the_chat_on_a_phone(db: None) -> None:
    call_command("seed_demo", verbosity=0)
    with bypass_context():
        account = ChannelAccount.objects.get(tenant__slug="demo", kind="webchat")
    chat_path = f"/chat/{account.uuid}/"
    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            page = browser.new_context(locale="es-CL", viewport=PHONE).new_page()
            login(page, server.url, "agent@demo.test", PASSWORD)
            # One column fills the screen; the column list hides behind its button.
            first = page.locator("#columns .column").first
            assert round(_box(first)["width"]) == PHONE["width"]
            assert not page.locator("#mycols").is_visible()
            page.click("#mycols-toggle")
            assert page.locator("#mycols").is_visible()
            page.click("#mycols-toggle")

            # The top search is an icon-sized box that opens across the bar to type in.
            search = page.locator(".topsearch input")
            assert _box(search)["width"] < 160
            search.focus()
            assert _box(search)["width"] > PHONE["width"] - 40
            _fits(page, "/inbox/ while typing a search")
            search.blur()

            # The switcher brings another column into view, and follows a swipe back.
            options = page.locator("#column-switch option")
            assert options.count() >= 2
            second = options.nth(1).get_attribute("value")
            page.select_option("#column-switch", second)
            column = page.locator(f"#col-{second}")
            page.wait_for_function(AT_LEFT_EDGE_JS, arg=second)
            assert _box(column)["x"] == pytest.approx(0, abs=2)
            page.evaluate("document.getElementById('columns').scrollTo({left: 0})")
            first_id = options.nth(0).get_attribute("value")
            page.wait_for_function(
                "v => document.getElementById('column-switch').value === v", arg=first_id
            )

            # A card opens its ticket over the whole screen; «Volver» brings the columns back.
            page.locator("#columns .tcard-link").first.click()
            page.locator("#ticket-pane .ticket-head").wait_for()
            box = _box(page.locator("#ticket-pane"))
            assert (box["x"], box["width"]) == (0, PHONE["width"])
            # Name and status share the first line, «Volver» sits beside them: the header
            # leaves most of the screen to the conversation.
            head = _box(page.locator("#ticket-pane .ticket-head"))
            status = _box(page.locator("#ticket-pane .status-chip"))
            name = _box(page.locator("#ticket-pane .ticket-head h1"))
            assert abs(status["y"] + status["height"] / 2 - (name["y"] + name["height"] / 2)) < 8
            assert head["height"] < 200, head
            _fits(page, "/inbox/ with a ticket open")
            back = page.locator("#ticket-pane [data-close-pane]")
            assert "Volver" in back.inner_text()
            back.click()
            assert page.locator("#ticket-pane").is_hidden()

            # The customers' chat page, from the smallest phone to the largest.
            for width in (320, 390, 430):
                _chat_fits(browser, server.url, chat_path, width)
    finally:
        server.stop()


def _chat_fits(browser: Any, base: str, chat_path: str, width: int) -> None:
    # The keyboard takes about 40 % of the height: the box follows the visible height.
    page = browser.new_context(locale="es-CL", viewport={"width": width, "height": 480}).new_page()
    page.goto(base + chat_path)
    _fits(page, f"chat at {width} px")
    send = page.locator("#chat-form button[type=submit]")
    box = _box(send)
    assert box["x"] + box["width"] <= width
    assert box["y"] + box["height"] <= 480, "«Enviar» is below the visible area"
    page.fill("#chat-text", "Hola, ¿tienen despacho a Arica?")
    send.click()
    page.locator("#chat-thread .cmsg.me", has_text="Arica").wait_for()
    _fits(page, f"chat at {width} px after sending")
    page.context.close()


def _screenshots(browser: Any, base: str, number: int) -> None:
    """Not an assertion of looks: the pictures a person opens to judge them."""
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            context = browser.new_context(locale="es-CL", viewport=viewport, color_scheme=scheme)
            page = context.new_page()
            login(page, base, "agent@demo.test", PASSWORD)
            for label, path in (("inbox", "/inbox/"), ("ticket", f"/tickets/{number}/")):
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                shot = ARTIFACTS / f"{label}-{name}-{scheme}.png"
                page.screenshot(path=str(shot))
                assert shot.stat().st_size > 10_000
            context.close()
