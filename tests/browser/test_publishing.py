"""The publishing journey: an agent schedules a post for X on «Publicaciones programadas»;
its card appears in the inbox's scheduled column; when it goes out, the card leaves the column
live and the page lists it as published, with its link."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone

from deskconfig.accounts import ChannelAccount
from helpdesk.tenancy import tenant_context
from publishing import services
from tests.live import ARTIFACTS, Daphne, chromium, in_thread, login
from tests.twitter.conftest import make_x_account
from tests.xapi import FakeX
from tickets.models import Column, ColumnKind, ScheduledPost

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _time_arrives(tenant_id: int) -> int:
    """The scheduled minute comes: the publisher (as beat runs it) publishes what is due."""
    with tenant_context(tenant_id):
        ScheduledPost.objects.update(publish_at=timezone.now())
        return services.posts_publish_due()


def test_schedule_a_post_and_see_it_go_from_scheduled_to_published(
    cast, httpserver: Any, settings: Any
):
    settings.TWITTER_API_BASE_URL = httpserver.url_for("").rstrip("/")
    x_api = FakeX(httpserver)
    with tenant_context(cast.tenant_a.pk):
        account: ChannelAccount = make_x_account(cast.tenant_a)
        column = Column.objects.create(
            tenant=cast.tenant_a,
            user=cast.agent,
            name="Programados",
            kind=ColumnKind.SCHEDULED,
            filters={"channels": ["twitter"]},
        )
    zone = zoneinfo.ZoneInfo(cast.tenant_a.time_zone)
    when = (timezone.now() + datetime.timedelta(hours=2)).astimezone(zone)

    server = Daphne()
    server.start()
    try:
        with chromium() as browser:
            page = browser.new_context(
                locale="es-CL", viewport={"width": 1400, "height": 900}
            ).new_page()
            login(page, server.url, cast.agent.email, cast.password)
            page.click("[data-nav=publishing]")
            page.check(f"input[name=accounts][value='{account.pk}']")
            page.fill("textarea[name=text]", "¡Llegó la temporada de invierno! ❄️")
            page.fill("input[name=publish_at]", when.strftime("%Y-%m-%dT%H:%M"))
            page.click("[data-action=schedule]")
            page.locator("#posts-scheduled .post-row", has_text="temporada de invierno").wait_for(
                timeout=5_000
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "publishing-scheduled.png"), full_page=True)

            page.click("[data-nav=inbox]")
            page.locator("#conn-status[data-state=connected]").wait_for(timeout=10_000)
            card = page.locator(f"#col-{column.pk}-cards .pcard", has_text="temporada de invierno")
            card.wait_for(timeout=5_000)
            assert card.locator("time").inner_text().strip()

            assert in_thread(_time_arrives, cast.tenant_a.pk) == 1
            card.wait_for(state="detached", timeout=5_000)  # gone from «scheduled», live

            page.click("[data-nav=publishing]")
            published = page.locator("#posts-published .post-row", has_text="temporada de invierno")
            published.wait_for(timeout=5_000)
            tweet = x_api.created_tweets[0]
            link = published.locator("a", has_text="Ver publicación")
            assert link.get_attribute("href") == (
                f"https://x.com/TiendaDemoCL/status/{tweet['id']}"
            )
            assert page.locator("#posts-scheduled .post-row").count() == 0
            page.screenshot(path=str(ARTIFACTS / "publishing-published.png"), full_page=True)
    finally:
        server.stop()
