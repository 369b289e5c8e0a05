"""The administration as people use it, in a real Chromium against a real server: an admin
invites an agent who sets a password from the mailed link; automatic assignment puts a web chat
visitor's ticket in a connected agent's column live; the skills bot asks the visitor for a
department; a forbidden word stops an agent's reply; a schedule is built with the weekly editor
and given to an account; and every section page opens without console errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse

from admin_config.sections import SECTIONS
from deskconfig.accounts import ChannelAccount
from deskconfig.models import (
    AssignmentMode,
    AssignmentRule,
    BusinessSchedule,
    ConfigChange,
    Department,
    DepartmentMembership,
    ForbiddenWord,
    SkillsBot,
    SkillsBotOption,
)
from helpdesk.celery import app
from helpdesk.models import User
from helpdesk.tenancy import tenant_context
from tests.live import ARTIFACTS, Daphne, agent_page, chromium, in_thread, login
from tickets import columns as column_services
from tickets import services
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@contextmanager
def _server() -> Iterator[Daphne]:
    server = Daphne()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class ConsoleErrors:
    """Console errors, uncaught exceptions and CSP violations of one page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.errors.append(message.text)


def _mail_in(folder: Path) -> list[Any]:
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(folder.glob("*.log"))
    ]


def test_an_invited_agent_sets_a_password_and_lands_in_the_inbox(cast, tmp_path, monkeypatch):
    outbox = tmp_path / "mail"
    outbox.mkdir()
    # The server is another process: it writes its mail to files this test reads.
    monkeypatch.setenv("EMAIL_URL", f"filemail:///{outbox}")  # the path after the third slash
    with tenant_context(cast.tenant_a.pk):
        Department.objects.create(tenant=cast.tenant_a, name="Ventas")

    with _server() as server, chromium() as browser:
        admin = browser.new_context(locale="es-CL").new_page()
        console = ConsoleErrors(admin)
        login(admin, server.url, cast.admin.email, cast.password)
        admin.goto(server.url + "/admin/users/")
        admin.get_by_role("link", name="Invitar persona").first.click()
        admin.wait_for_url(server.url + "/admin/users/new/")
        admin.fill("input[name=name]", "Renata Fuentes")
        admin.fill("input[name=email]", "Renata@A.test")
        admin.select_option("select[name=role]", "agent")
        admin.get_by_label("Ventas").check()
        admin.fill("input[name=max_open_tickets]", "6")
        admin.get_by_role("button", name="Enviar invitación").click()
        admin.wait_for_url(server.url + "/admin/users/")
        row = admin.locator("table.data tr", has_text="Renata Fuentes")
        assert "renata@a.test" in row.inner_text()
        assert "pendiente" in row.inner_text().lower()
        assert console.errors == []

        mails = _mail_in(outbox)
        assert len(mails) == 1
        mail = mails[0]
        assert mail["To"] == "renata@a.test"
        body = mail.get_body(preferencelist=("plain",)).get_content()
        link = re.search(r"https?://\S+/accounts/invite/\S+/", body)
        assert link, body

        newcomer = browser.new_context(locale="es-CL").new_page()
        newcomer.goto(link.group(0))
        assert "Hola, Renata" in newcomer.content()
        newcomer.fill("input[name=new_password1]", "otra-clave-larga-2026")
        newcomer.fill("input[name=new_password2]", "otra-clave-larga-2026")
        newcomer.click("form [type=submit]")
        newcomer.wait_for_url(server.url + "/inbox/")
        newcomer.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)

        # The link is spent; the new password works.
        newcomer.goto(link.group(0))
        assert "ya se usó" in newcomer.content()
        other = browser.new_context(locale="es-CL").new_page()
        login(other, server.url, "renata@a.test", "otra-clave-larga-2026")

        admin.reload()
        row = admin.locator("table.data tr", has_text="Renata Fuentes")
        assert "pendiente" not in row.inner_text().lower()
    with tenant_context(cast.tenant_a.pk):
        renata = User.objects.get(email="renata@a.test")
        assert renata.invited_at is None and renata.max_open_tickets == 6
        assert ConfigChange.objects.filter(object_id=str(renata.pk)).exists()


def _webchat(cast: Any) -> ChannelAccount:
    with tenant_context(cast.tenant_a.pk):
        return ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat web")


def _mode(tenant_id: int, user_id: int, account_id: int) -> str:
    with tenant_context(tenant_id):
        return AssignmentRule.objects.get(user_id=user_id, account_id=account_id).mode


def test_automatic_assignment_puts_a_visitor_in_the_connected_agents_column(cast):
    chat = _webchat(cast)
    with tenant_context(cast.tenant_a.pk):
        new = column_services.columns_apply_flow(user=cast.agent, flow="four")[1].pk

    with (
        _server() as server,
        chromium() as browser,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        admin = browser.new_context(locale="es-CL", viewport={"width": 1400, "height": 900})
        page = admin.new_page()
        console = ConsoleErrors(page)
        login(page, server.url, cast.admin.email, cast.password)
        page.goto(server.url + "/admin/assignments/")
        cell = page.get_by_label(f"{cast.agent} · {chat}")
        cell.select_option(AssignmentMode.AUTOMATIC)
        page.locator("[data-matrix-pending]", has_text="1 cambio").wait_for()
        page.locator(".matrix-bar [type=submit]").click()
        page.wait_for_load_state()
        page.get_by_label(f"{cast.agent} · {chat}").wait_for()
        assert page.get_by_label(f"{cast.agent} · {chat}").input_value() == AssignmentMode.AUTOMATIC
        assert console.errors == []
        assert in_thread(_mode, cast.tenant_a.pk, cast.agent.pk, chat.pk) == "auto"

        agent = agent_page(browser, server.url, cast.agent.email, cast.password)
        # The matrix shows who is connected.
        page.reload()
        page.locator("tr", has_text=cast.agent.name).locator(".presence-dot.on").first.wait_for()

        visitor = browser.new_context(
            locale="es-CL", viewport={"width": 420, "height": 640}
        ).new_page()
        visitor.goto(f"{server.url}/chat/{chat.uuid}/")
        visitor.fill("input[name=name]", "Ignacio Pérez")
        visitor.fill("#chat-text", "Hola, ¿tienen la talla 42?")
        visitor.keyboard.press("Enter")
        visitor.locator(".cmsg.me", has_text="talla 42").wait_for(timeout=5_000)

        agent.locator(f"#col-{new}-cards .tcard", has_text="Ignacio Pérez").wait_for(timeout=10_000)
    with tenant_context(cast.tenant_a.pk):
        assert Ticket.objects.get().assignee_id == cast.agent.pk


def _only_ticket_number(tenant_id: int) -> int:
    with tenant_context(tenant_id):
        return Ticket.objects.get().number


def test_the_skills_bot_asks_the_visitor_for_a_department(cast):
    chat = _webchat(cast)
    with tenant_context(cast.tenant_a.pk):
        names = ["Atención al cliente", "Facturación", "Logística"]
        departments = [Department.objects.create(tenant=cast.tenant_a, name=n) for n in names]
        bot = SkillsBot.objects.create(
            tenant=cast.tenant_a,
            account=chat,
            enabled=True,
            greeting="¡Hola! Responde con el número del área:",
            retry_text="No entendí. Escribe el número o el nombre del área:",
        )
        for position, department in enumerate(departments, start=1):
            SkillsBotOption.objects.create(
                tenant=cast.tenant_a, bot=bot, department=department, position=position
            )
        # The billing agent takes the web chat automatically, once the bot placed the ticket.
        DepartmentMembership.objects.create(
            tenant=cast.tenant_a, user=cast.agent, department=departments[1]
        )
        AssignmentRule.objects.create(
            tenant=cast.tenant_a, user=cast.agent, account=chat, mode=AssignmentMode.AUTOMATIC
        )
        new = column_services.columns_apply_flow(user=cast.agent, flow="four")[1].pk

    with (
        _server() as server,
        chromium() as browser,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        agent = browser.new_context(locale="es-CL").new_page()
        login(agent, server.url, cast.agent.email, cast.password)
        agent.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
        visitor = browser.new_context(
            locale="es-CL", viewport={"width": 420, "height": 640}
        ).new_page()
        console = ConsoleErrors(visitor)
        visitor.goto(f"{server.url}/chat/{chat.uuid}/")
        visitor.fill("input[name=name]", "Valentina Díaz")
        visitor.fill("#chat-text", "Hola, me cobraron dos veces")
        visitor.keyboard.press("Enter")
        greeting = visitor.locator(".cmsg.them", has_text="número del área")
        greeting.wait_for(timeout=10_000)
        visitor.wait_for_timeout(500)  # the live copy of the bot's message arrives too
        assert greeting.count() == 1
        text = greeting.inner_text()
        assert "1. Atención al cliente" in text and "2. Facturación" in text, text

        visitor.fill("#chat-text", "facturacion")  # no accent, lower case
        visitor.keyboard.press("Enter")
        visitor.locator(".cmsg.me", has_text="facturacion").wait_for(timeout=5_000)
        number = in_thread(_only_ticket_number, cast.tenant_a.pk)

        # The visitor hears where the conversation goes (the bot's standard sentence).
        visitor.locator(".cmsg.them", has_text="Te comunicamos con Facturación").wait_for(
            timeout=10_000
        )
        # Placed in Facturación, the ticket goes to its automatic agent: in their column, live,
        # its card showing what the visitor asked, not their answer to the menu.
        card = agent.locator(f"#col-{new}-cards .tcard", has_text="Valentina Díaz")
        card.wait_for(timeout=10_000)
        assert "me cobraron dos veces" in card.locator(".tcard-preview").inner_text()
        chip = agent.locator("#ticket-header [data-department]", has_text="Facturación")
        for _ in range(20):  # the answer is processed as it arrives; give it a moment
            agent.goto(f"{server.url}/tickets/{number}/")
            if chip.count():
                break
            agent.wait_for_timeout(250)
        assert chip.count() == 1
        assert console.errors == []


def test_a_forbidden_word_is_tested_then_refused_in_a_reply(cast):
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(
            tenant=cast.tenant_a, kind="whatsapp", name="WhatsApp"
        )
        services.message_receive(
            account=account,
            inbound=services.Inbound(identity="+56 9 3333 4444", text="Hola", customer_name="Eva"),
        )
        number = Ticket.objects.get().number

    with _server() as server, chromium() as browser:
        admin = browser.new_context(locale="es-CL").new_page()
        console = ConsoleErrors(admin)
        login(admin, server.url, cast.admin.email, cast.password)
        admin.goto(server.url + "/admin/forbidden-words/")
        admin.get_by_role("link", name="Agregar").first.click()
        admin.fill("input[name=word]", "Gratis")
        admin.click("form.admin-form [type=submit]")
        admin.wait_for_url(server.url + "/admin/forbidden-words/")
        assert admin.locator("table.data", has_text="gratis").count() == 1 or (
            admin.locator("table.data", has_text="Gratis").count() == 1
        )

        admin.fill("#words-tester textarea, #words-tester input[name=text]", "Envío GRATIS hoy")
        admin.click("#words-tester [type=submit]")
        result = admin.locator(".tester-result.hit")
        result.wait_for(timeout=5_000)
        assert "gratis" in result.inner_text().lower()
        admin.fill("#words-tester textarea, #words-tester input[name=text]", "Envío a domicilio")
        admin.click("#words-tester [type=submit]")
        admin.locator(".tester-result.clean").wait_for(timeout=5_000)
        assert console.errors == []

        agent = browser.new_context(locale="es-CL").new_page()
        login(agent, server.url, cast.agent.email, cast.password)
        agent.goto(f"{server.url}/tickets/{number}/")
        agent.fill("#composer-text", "Hola Eva, el envío es gratis.")
        agent.click("[data-action=send]")
        refusal = agent.get_by_text(re.compile("palabras no permitidas"))
        refusal.first.wait_for(timeout=5_000)
        assert "gratis" in refusal.first.inner_text().lower()
        assert agent.locator("#thread .msg.out", has_text="gratis").count() == 0
    with tenant_context(cast.tenant_a.pk):
        assert ForbiddenWord.objects.count() == 1
        assert not Ticket.objects.get().messages.filter(text__contains="gratis").exists()


def test_a_schedule_is_built_week_by_week_and_given_to_an_account(cast):
    with tenant_context(cast.tenant_a.pk):
        ChannelAccount.objects.create(tenant=cast.tenant_a, kind="email", name="Soporte")

    with _server() as server, chromium() as browser:
        page = browser.new_context(locale="es-CL", viewport={"width": 1280, "height": 900})
        admin = page.new_page()
        console = ConsoleErrors(admin)
        login(admin, server.url, cast.admin.email, cast.password)
        admin.goto(server.url + "/admin/business-hours/")
        admin.get_by_role("link", name="Agregar horario").first.click()
        admin.wait_for_url(server.url + "/admin/business-hours/new/")
        admin.fill("input[name=name]", "Oficina Santiago")
        # A new schedule starts from office hours, Monday to Friday 09:00-18:00: Monday gets a
        # lunch break and Saturday morning is added, with the button.
        rows = admin.locator("#intervals-rows tr")
        before = rows.count()  # the five days and an empty row
        rows.nth(0).locator("input[name$=end]").fill("13:00")
        for weekday, start, end in [("0", "14:00", "18:00"), ("5", "10:00", "14:00")]:
            admin.click("[data-rows-add=intervals]")
            row = rows.nth(rows.count() - 1)
            row.locator("select[name$=weekday]").select_option(weekday)
            row.locator("input[name$=start]").fill(start)
            row.locator("input[name$=end]").fill(end)
        assert rows.count() == before + 2
        # Friday is removed.
        rows.nth(4).locator("[data-row-remove]").check()
        assert "removed" in (rows.nth(4).get_attribute("class") or "")
        admin.click("[data-rows-add=holidays]")
        holiday = admin.locator("#holidays-rows tr").last
        holiday.locator("input[name$=date]").fill("2026-12-25")
        holiday.locator("input[name$=name]").fill("Navidad")
        admin.click(".hours-form .form-actions [type=submit]")
        admin.wait_for_load_state()
        assert admin.locator(".error").all_inner_texts() == []
        admin.wait_for_url(server.url + "/admin/business-hours/")
        listed = admin.locator("table.data tr", has_text="Oficina Santiago")
        listed.wait_for()
        assert console.errors == []

        admin.goto(server.url + "/admin/sla/")
        row = admin.locator("tr", has_text="Soporte")
        row.locator("select[name$=schedule]").select_option(label="Oficina Santiago")
        row.locator("input[name$=sla_minutes]").fill("45")
        admin.click(".sla-form .form-actions [type=submit]")
        admin.wait_for_url(server.url + "/admin/sla/")
        row = admin.locator("tr", has_text="Soporte")
        assert row.locator("select[name$=schedule] option:checked").inner_text() == (
            "Oficina Santiago"
        )
        assert console.errors == []
    with tenant_context(cast.tenant_a.pk):
        schedule = BusinessSchedule.objects.get(name="Oficina Santiago")
        assert schedule.intervals.count() == 6
        assert not schedule.intervals.filter(weekday=4).exists()
        assert schedule.holidays.count() == 1
        account = ChannelAccount.objects.get(name="Soporte")
        assert account.schedule_id == schedule.pk and account.sla_minutes == 45


NEW_PAGES = [
    "users",
    "departments",
    "hours",
    "templates",
    "wa_templates",
    "words",
    "metadata",
    "routing",
]


def test_every_section_opens_without_console_errors(cast):
    with tenant_context(cast.tenant_a.pk):
        chat = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="webchat", name="Chat web")
        sales = Department.objects.create(tenant=cast.tenant_a, name="Ventas")
    urls = ["/admin/", reverse("admin_config:audit")]
    urls += [section.url for section in SECTIONS if section.url]
    # The forms too: each "new" page, a person, a department and one account's pages.
    for name in NEW_PAGES:
        urls.append(reverse(f"admin_config:{name}_new"))
    urls += [
        reverse("admin_config:users_edit", args=[cast.agent.pk]),
        reverse("admin_config:departments_edit", args=[sales.pk]),
        reverse("admin_config:automation_account", args=[chat.pk]),
        reverse("admin_config:skills_bot_account", args=[chat.pk]),
    ]

    with _server() as server, chromium() as browser:
        page = browser.new_context(locale="es-CL", viewport={"width": 1280, "height": 900})
        admin = page.new_page()
        console = ConsoleErrors(admin)
        login(admin, server.url, cast.admin.email, cast.password)
        failures = []
        for url in urls:
            response = admin.goto(server.url + url)
            admin.wait_for_load_state("networkidle")
            if response is None or response.status != 200:
                failures.append(f"{url}: {response and response.status}")
            if console.errors:
                failures.append(f"{url}: {console.errors}")
                console.errors.clear()
        assert failures == []
        ARTIFACTS.mkdir(exist_ok=True)
        admin.goto(server.url + "/admin/audit/")
        admin.screenshot(path=str(ARTIFACTS / "admin-audit.png"), full_page=True)
