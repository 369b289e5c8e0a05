"""Attack class: stored XSS (OTRS CVE-2021-21441, Zammad CVE-2018-1000154). Markup planted by a
customer (name, message, email subject and HTML), by a colleague (comment, department name) or
by the system (a notification) is shown as text in a real Chromium on every page that shows it:
the inbox, the ticket and each of its tabs, search, notifications and the audit log.

The CSP alone would stop inline script from running, so the test does not wait for an alert: it
looks for any element the payloads would create (they all carry ``data-xss``) and for any CSP
violation (the browser reports one when injected script or handlers are refused)."""

from __future__ import annotations

from typing import Any

import pytest

from desk.views import TABS
from deskconfig.accounts import ChannelAccount
from helpdesk.notify import notify
from helpdesk.tenancy import tenant_context
from tests.conftest import client_for
from tests.live import Daphne, chromium, login
from tickets import services
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = [
    '<img data-xss src=x onerror="document.title=1">',
    "<script data-xss>document.title=1</script>",
    '"><svg data-xss onload="document.title=1">',
    "'><iframe data-xss src=javascript:alert(1)>",
    '<a data-xss href="javascript:alert(1)">x</a>',
    "{{7*7}}<b data-xss>",
]
NAME = "Eva " + PAYLOADS[0]
TEXT = " ".join(PAYLOADS)

# Collects CSP violations from the first moment of every document.
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective));
"""


def _plant(cast: Any) -> int:
    with tenant_context(cast.tenant_a.pk):
        mail = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="email", name="Correo")
        ticket = services.message_receive(
            account=mail,
            inbound=services.Inbound(
                identity="eva@x.cl",
                customer_name=NAME,
                subject="Pedido " + PAYLOADS[1],
                text=TEXT,
                html="<p>Hola</p>" + TEXT + '<form data-xss action="https://evil.example">',
            ),
        ).message.ticket
        services.message_receive(  # a second ticket: "Tickets anteriores" lists the first
            account=mail,
            inbound=services.Inbound(identity="eva@x.cl", text=PAYLOADS[2]),
        )
        services.ticket_close(ticket=Ticket.objects.get(pk=ticket.pk), actor=cast.admin)
        services.comment_add(ticket=ticket, author=cast.admin, text="@agent " + TEXT)
        notify(user=cast.agent, text="Aviso " + PAYLOADS[3], url=f"/tickets/{ticket.number}/")
        notify(user=cast.admin, text="Aviso " + PAYLOADS[4], url=f"/tickets/{ticket.number}/")
    # An administration change lands in the audit log, with the name as typed.
    client_for(cast.admin).post("/admin/departments/new/", {"name": "Depto " + PAYLOADS[5]})
    return int(ticket.number)


def _injected(page: Any) -> dict[str, Any]:
    return page.evaluate(
        "() => ({elements: document.querySelectorAll('[data-xss]').length,"
        " csp: window.__csp || [], title: document.title})"
    )


def test_planted_markup_is_shown_as_text_everywhere(cast):
    number = _plant(cast)
    pages_agent = [
        "/inbox/",
        f"/tickets/{number}/",
        *[f"/tickets/{number}/tab/{tab}/" for tab in TABS],
        "/search/?q=Eva",
        "/search/?q=eva%40x.cl",
        "/me/notifications/",
    ]
    pages_admin = ["/admin/audit/", "/admin/departments/", "/me/notifications/"]
    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            for user, pages in ((cast.agent, pages_agent), (cast.admin, pages_admin)):
                context = browser.new_context(locale="es-CL")
                context.add_init_script(WATCH)
                page = context.new_page()
                login(page, server.url, user.email, cast.password)
                for path in pages:
                    page.goto(server.url + path)
                    page.wait_for_load_state("networkidle")
                    found = _injected(page)
                    assert found["elements"] == 0, f"markup became elements on {path}"
                    assert found["csp"] == [], f"refused injected script on {path}: {found}"
                    assert found["title"] != "1", path
                context.close()
    finally:
        server.stop()


def test_the_payloads_are_visible_as_typed(cast):
    """Escaped, not dropped: the agent reads what the customer wrote."""
    number = _plant(cast)
    body = client_for(cast.agent).get(f"/tickets/{number}/").content.decode()
    assert "&lt;img data-xss" in body
    assert "<img data-xss" not in body and "<script data-xss" not in body
