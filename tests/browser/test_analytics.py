"""Analítica in a real Chromium: a period in the URL, a filter that swaps the panels and stays
in the address, a click from the agent table, a preset, a reload and a CSV download."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analytics.conftest import history  # noqa: F401 - the hand-built history
from tests.live import ARTIFACTS, chromium, daphne, login
from tests.tickets.conftest import account, connector, media_root  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PERIOD = "range=custom&from=2025-06-06&to=2025-06-11"


def created(page) -> str:
    return page.locator(".kpi", has_text="Creados").locator("strong").inner_text()


def test_filters_apply_to_every_panel_and_stay_in_the_url(eager_celery, history, cast):  # noqa: F811
    with daphne() as server, chromium() as browser:
        context = browser.new_context(
            locale="es-CL", viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        login(page, server.url, cast.analyst.email, cast.password)
        page.goto(f"{server.url}/analytics/?{PERIOD}")
        assert created(page) == "4"
        assert page.locator(".panel-agents tbody tr").count() == 2

        # A filter swaps the panels (htmx) and is pushed to the address bar.
        page.select_option("select[name=channel]", "webchat")
        page.wait_for_url("**channel=webchat**")
        page.locator(".kpi", has_text="Creados").locator("strong", has_text="3").wait_for()
        assert "2025-06-06" in page.url  # the period is kept

        # A name in the agent table narrows everything to that person.
        page.click(".panel-agents a:has-text('Beto Ñandú')")
        page.wait_for_url(f"**agent={history['beto'].pk}**")
        assert created(page) == "1"
        assert "channel=webchat" in page.url

        # Shared as a link: a reload shows the same view.
        page.reload()
        assert created(page) == "1"
        assert page.locator("select[name=channel]").input_value() == "webchat"
        assert page.locator("select[name=agent]").input_value() == str(history["beto"].pk)

        # The CSV of a panel carries the same filters.
        with page.expect_download() as download:
            page.click("#panel-agents a.csv")
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert text.splitlines()[0].startswith("Ejecutivo,Asignados,Respondidos")
        assert "Beto Ñandú" in text and "Ana Ñandú" not in text

        # A preset keeps the filters and changes the period.
        page.click('a[data-range="7d"]')
        page.wait_for_url("**range=7d**")
        assert "channel=webchat" in page.url and "from=" not in page.url
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "analytics-filtered.png"), full_page=True)
        context.close()
