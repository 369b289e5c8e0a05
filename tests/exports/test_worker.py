"""The whole path with a real Celery worker on the real broker: the form queues a job, the
worker writes the file, the list shows it ready, and the download is that file."""

from __future__ import annotations

import csv
import io
import time

import pytest
from celery.contrib.testing.worker import start_worker

from exports.models import ExportJob, ExportStatus
from helpdesk.celery import app
from helpdesk.tenancy import bypass_context
from tests.conftest import client_for
from tests.exports.test_pages import _post

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_done(timeout: float = 60) -> ExportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with bypass_context():
            job = ExportJob.all_tenants.get()
        if job.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return job
        time.sleep(0.2)
    raise AssertionError(f"the worker did not finish the export (status {job.status})")


def test_a_worker_builds_the_file_the_person_downloads(desk):
    client = client_for(desk.cast.analyst)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        response = _post(client, desk, kind="messages", direction="out")
        assert response.status_code == 302
        job = _wait_done()
    assert job.status == ExportStatus.DONE, job.error
    assert job.row_count == 3 and job.total_rows == 3 and job.size > 0
    assert job.started_at and job.finished_at and job.finished_at >= job.started_at
    page = client.get("/admin/exports/").content.decode()
    assert f"/admin/exports/{job.token}/download/" in page and "every 1s" not in page
    response = client.get(f"/admin/exports/{job.token}/download/")
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Ticket", "Fecha", "Dirección"]
    assert sorted(r[8] for r in rows[1:]) == ["Elige un área", "Lo revisamos", "Resuelto"]
    assert {r[2] for r in rows[1:]} == {"Saliente"}
