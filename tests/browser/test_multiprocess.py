"""Two web processes on the Redis channel layer: a change made through one reaches a browser
connected to the other (the production topology runs several)."""

from __future__ import annotations

import pytest

from deskconfig.accounts import ChannelAccount
from helpdesk.tenancy import tenant_context
from tests.live import Daphne, chromium, login
from tickets import columns as column_services
from tickets import services
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_change_through_one_process_reaches_a_browser_on_the_other(cast):
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccount.objects.create(tenant=cast.tenant_a, kind="email", name="Soporte")
        services.message_receive(
            account=account,
            inbound=services.Inbound(
                identity="rosa@cliente.cl", text="¿Y mi boleta?", customer_name="Rosa Pérez"
            ),
        )
        number = Ticket.objects.get().number
        supervisor = column_services.columns_apply_flow(user=cast.admin, flow="supervisor")
    unassigned = supervisor[0].pk

    one, two = Daphne(), Daphne()
    one.start()
    two.start()
    try:
        with chromium() as browser:
            watcher = browser.new_context(locale="es-CL").new_page()
            login(watcher, two.url, cast.admin.email, cast.password)  # on process two
            watcher.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
            card = watcher.locator(f"#col-{unassigned}-cards .tcard", has_text="Rosa Pérez")
            card.wait_for(timeout=5_000)

            actor = browser.new_context(locale="es-CL").new_page()
            login(actor, one.url, cast.agent.email, cast.password)  # on process one
            actor.goto(f"{one.url}/tickets/{number}/")
            actor.select_option("#assignee", str(cast.agent.pk))
            # The card leaves "Sin asignar" in the browser served by the other process.
            card.wait_for(state="detached", timeout=5_000)
    finally:
        one.stop()
        two.stop()
