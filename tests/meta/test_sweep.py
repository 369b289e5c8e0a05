"""A stored Meta event whose drain task was lost (a worker killed before acknowledging it, a
broker restart) is filed by the beat's sweep within a minute, not at the tenant's next webhook."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from channels_conn.meta.models import MetaWebhookEvent
from channels_conn.meta.services import drain_flag, event_store
from channels_conn.meta.tasks import sweep_meta_events
from helpdesk.tenancy import tenant_context
from tests.meta.payloads import wa_message
from tickets.models import Message

pytestmark = pytest.mark.django_db
Status = MetaWebhookEvent.Status


def test_the_sweep_files_an_event_whose_drain_was_lost_and_leaves_fresh_ones_to_their_drain(
    wa, cast, django_capture_on_commit_callbacks, eager_celery
):
    with tenant_context(cast.tenant_a.pk):
        # Stored, but its drain never runs: the on-commit enqueue is dropped, as a lost task.
        with django_capture_on_commit_callbacks(execute=False):
            lost = event_store(
                account=wa,
                obj="whatsapp_business_account",
                entry=wa_message(wamid="wamid.LOST", sender="56910001111"),
            )
            fresh = event_store(
                account=wa,
                obj="whatsapp_business_account",
                entry=wa_message(wamid="wamid.FRESH", sender="56910002222"),
            )
        MetaWebhookEvent.objects.filter(pk=lost).update(
            created_at=timezone.now() - datetime.timedelta(minutes=5)
        )
    cache.delete(drain_flag(cast.tenant_a.pk))
    assert sweep_meta_events() == 1  # its drain runs here (eager Celery: configuration)

    with tenant_context(cast.tenant_a.pk):
        assert MetaWebhookEvent.objects.get(pk=lost).status == Status.PROCESSED
        assert Message.objects.filter(provider_id="wamid.LOST").count() == 1
        # The drain took whatever was pending, the fresh event too; nothing is left to sweep.
        assert MetaWebhookEvent.objects.get(pk=fresh).status == Status.PROCESSED
    assert sweep_meta_events() == 0
