"""Publishing scheduled posts: on X through tweepy and on a Facebook page through Graph, at
most once (a concurrency test), oldest first after downtime, missed beyond the tenant's limit,
failures with their reason and Reintentar."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.utils import timezone

from publishing import services
from publishing.models import PublishingSettings
from tests.conftest import client_for
from tests.tickets.helpers import run_in_threads
from tickets.models import ScheduledPost

pytestmark = pytest.mark.django_db(transaction=True)

S = ScheduledPost.Status
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _schedule(actor, accounts, text="Nueva colección 🌸", minutes_ago=0, **kw):
    posts = services.post_create(
        actor=actor,
        accounts=accounts,
        text=text,
        publish_at=timezone.now() + datetime.timedelta(minutes=5),
        **kw,
    )
    when = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    ScheduledPost.objects.filter(pk__in=[p.pk for p in posts]).update(publish_at=when)
    return posts


def test_due_posts_go_out_on_x_and_on_the_page(in_a, x_account, page_account, x_api, graph):
    x_post, page_post = _schedule(in_a.admin, [x_account, page_account], minutes_ago=1)
    later = _schedule(in_a.admin, [x_account], text="Mañana")[0]
    ScheduledPost.objects.filter(pk=later.pk).update(
        publish_at=timezone.now() + datetime.timedelta(hours=1)
    )

    assert services.posts_publish_due() == 2

    x_post.refresh_from_db()
    page_post.refresh_from_db()
    assert x_post.status == S.PUBLISHED and page_post.status == S.PUBLISHED
    assert x_api.created_tweets[0]["text"] == "Nueva colección 🌸"
    assert x_post.url == f"https://x.com/TiendaDemoCL/status/{x_post.provider_id}"
    assert graph.posts[0]["message"] == "Nueva colección 🌸" and not graph.posts[0]["photo"]
    assert page_post.provider_id == graph.posts[0]["id"]
    assert page_post.url == f"https://www.facebook.com/{graph.posts[0]['id']}"
    later.refresh_from_db()
    assert later.status == S.SCHEDULED


def test_an_image_goes_with_the_post(in_a, x_account, page_account, x_api, graph):
    image = services.Image(name="foto.png", content=PNG, content_type="image/png")
    _schedule(in_a.admin, [x_account, page_account], minutes_ago=1, image=image)
    services.posts_publish_due()
    assert x_api.uploads == 1 and "media" in x_api.created_tweets[0]
    assert graph.posts[0]["photo"] and graph.posts[0]["image_bytes"] == len(PNG)


def test_failures_keep_the_reason_and_reintentar_publishes_again(in_a, page_account, graph):
    graph.fail(190, "Error validating access token: Session has expired")
    post = _schedule(in_a.admin, [page_account], minutes_ago=1)[0]
    services.posts_publish_due()
    post.refresh_from_db()
    assert post.status == S.FAILED and "190" in post.error and "token" in post.error
    page = client_for(in_a.admin).get("/publishing/").content.decode()
    assert "Reintentar" in page and "venció" in page

    response = client_for(in_a.admin).post(f"/publishing/{post.pk}/retry/")
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status in (S.SCHEDULED, S.PUBLISHED)  # the task may have run already
    services.posts_publish_due()
    post.refresh_from_db()
    assert post.status == S.PUBLISHED and len(graph.posts) == 1


def test_an_x_post_over_the_limit_is_refused_when_written(in_a, x_account, page_account):
    with pytest.raises(services.ActionRefused, match="de 280"):
        _schedule(in_a.admin, [x_account, page_account], text="a" * 281)
    assert _schedule(in_a.admin, [page_account], text="a" * 281)  # a page takes it


def test_after_downtime_oldest_first_and_too_old_ones_missed(in_a, x_account, x_api):
    PublishingSettings.objects.create(tenant=in_a.tenant_a, missed_after_minutes=30)
    too_old = _schedule(in_a.admin, [x_account], text="hace 2 horas", minutes_ago=120)[0]
    newer = _schedule(in_a.admin, [x_account], text="hace 5 minutos", minutes_ago=5)[0]
    older = _schedule(in_a.admin, [x_account], text="hace 20 minutos", minutes_ago=20)[0]

    services.posts_publish_due()

    assert [t["text"] for t in x_api.created_tweets] == ["hace 20 minutos", "hace 5 minutos"]
    for post in (too_old, newer, older):
        post.refresh_from_db()
    assert too_old.status == S.MISSED and "a tiempo" in too_old.error
    assert newer.status == older.status == S.PUBLISHED


def test_a_post_left_publishing_by_a_crash_is_failed_not_sent_again(in_a, x_account, x_api):
    post = _schedule(in_a.admin, [x_account], minutes_ago=30)[0]
    ScheduledPost.objects.filter(pk=post.pk).update(
        status=S.PUBLISHING, claimed_at=timezone.now() - datetime.timedelta(minutes=11)
    )
    services.posts_publish_due()
    post.refresh_from_db()
    assert post.status == S.FAILED and "no se sabe si salió" in post.error
    assert x_api.created_tweets == []


def test_two_publishers_at_once_never_publish_a_post_twice(cast, x_account, x_api):
    with_tenant = cast.tenant_a.pk
    posts = [
        p.pk
        for n in range(12)
        for p in _schedule(cast.admin, [x_account], text=f"post {n}", minutes_ago=1)
    ]

    def publisher() -> int:
        done = 0
        while claimed := services.posts_publish_due(limit=3):
            done += claimed
        return done

    claimed = run_in_threads(with_tenant, [publisher] * 4)

    texts = [t["text"] for t in x_api.created_tweets]
    assert sorted(texts) == sorted(f"post {n}" for n in range(12))  # each exactly once
    assert sum(claimed) == 12
    assert set(ScheduledPost.objects.filter(pk__in=posts).values_list("status", flat=True)) == {
        S.PUBLISHED
    }


def test_edit_and_cancel_only_until_it_goes(in_a, x_account, x_api):
    post = _schedule(in_a.admin, [x_account])[0]
    later = timezone.now() + datetime.timedelta(days=1)
    services.post_update(actor=in_a.admin, post=post, text="Cambiado", publish_at=later)
    post.refresh_from_db()
    assert post.text == "Cambiado" and post.publish_at == later
    services.post_cancel(actor=in_a.admin, post=post)
    with pytest.raises(services.ActionRefused, match="Cancelado"):
        services.post_update(actor=in_a.admin, post=post, text="otra", publish_at=later)


def test_every_change_is_pushed_to_the_scheduled_columns(in_a, x_account, x_api):
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from tickets.live import inbox_group

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(inbox_group(in_a.tenant_a.pk), channel)

    async def next_event() -> dict:
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    post = _schedule(in_a.admin, [x_account], minutes_ago=1)[0]
    services.posts_publish_due()
    statuses: list[str] = []
    while statuses[-1:] != ["published"]:
        event = async_to_sync(next_event)()
        assert event["event"] == "post" and event["snapshot"]["id"] == post.pk
        statuses.append(event["snapshot"]["status"])
    assert statuses == ["scheduled", "publishing", "published"]
