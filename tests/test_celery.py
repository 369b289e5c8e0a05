"""Celery against the real Redis broker: a worker in this process, tasks in their tenant."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client

from helpdesk.celery import TenantTask, app
from helpdesk.models import Notification
from helpdesk.tenancy import bypass_context, current_tenant_id
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@app.task(base=TenantTask, name="tests.count_notifications")
def count_notifications(tenant_id: int) -> tuple[int | None, int]:
    return current_tenant_id(), Notification.objects.count()


@pytest.fixture
def worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


@app.task(base=TenantTask, name="tests.leave_a_note")
def leave_a_note(tenant_id: int, user_id: int) -> None:
    visible = Notification.objects.count()
    Notification.objects.create(user_id=user_id, text=f"ctx={current_tenant_id()} saw={visible}")


def test_a_tenant_task_runs_inside_its_tenant_context(cast, worker):
    with bypass_context():
        NotificationFactory.create_batch(2, user=cast.agent)
        NotificationFactory.create_batch(5, user=cast.outsider)
    assert count_notifications.apply(args=[cast.tenant_a.pk]).get() == (cast.tenant_a.pk, 2)
    assert count_notifications.apply(args=[cast.tenant_b.pk]).get() == (cast.tenant_b.pk, 5)
    assert current_tenant_id() is None

    # Through the broker: the worker picks it up and writes in tenant B only.
    leave_a_note.delay(cast.tenant_b.pk, cast.outsider.pk)
    deadline = time.monotonic() + 10
    note = None
    while note is None and time.monotonic() < deadline:
        with bypass_context():
            note = Notification.all_tenants.filter(text__startswith="ctx=").first()
        time.sleep(0.1)
    assert note is not None, "the worker did not run the task"
    assert note.tenant_id == cast.tenant_b.pk
    assert note.text == f"ctx={cast.tenant_b.pk} saw=5"


HEALTH_TOKEN = "token-de-la-sonda-de-salud"


def _health(settings):
    settings.HEALTHZ_TOKEN = HEALTH_TOKEN
    return Client().get("/healthz", HTTP_AUTHORIZATION=f"Bearer {HEALTH_TOKEN}")


def test_healthz_reports_the_database_redis_and_workers(worker, settings):
    # A worker that has just started may miss the first 1-second ping on a busy machine.
    for _ in range(10):
        response = _health(settings)
        if response.status_code == 200:
            break
        time.sleep(0.5)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["celery"]["count"] >= 1


def test_healthz_is_503_without_workers(settings):
    response = _health(settings)
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["celery"]["ok"] is False
