"""Exportaciones as an analyst uses it, in a real Chromium against a real server and a real
Celery worker: a range over two months is refused in the form; a valid request shows a live
row that turns into «Descargar»; the downloaded XLSX opens with openpyxl and holds the rows
the filter chose."""

from __future__ import annotations

import datetime

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker

from exports.forms import tenant_today
from exports.models import ExportJob
from helpdesk.celery import app
from helpdesk.tenancy import bypass_context
from tests.browser.test_admin import ConsoleErrors
from tests.exports.conftest import desk, media_root  # noqa: F401 - the fixtures
from tests.live import Daphne, chromium, in_thread, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _job_count() -> int:
    with bypass_context():
        return ExportJob.all_tenants.count()


def test_an_analyst_exports_open_tickets_to_xlsx_and_opens_the_file(
    desk,  # noqa: F811
    settings,
    monkeypatch,
    tmp_path,
):
    # The server process writes nothing, but serves the files the worker (here) writes.
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))
    today = tenant_today(desk.cast.tenant_a)
    server = Daphne()
    server.start()
    try:
        with (
            chromium() as browser,
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
        ):
            context = browser.new_context(
                locale="es-CL", viewport={"width": 1300, "height": 900}, accept_downloads=True
            )
            page = context.new_page()
            console = ConsoleErrors(page)
            login(page, server.url, desk.cast.analyst.email, desk.cast.password)
            page.goto(server.url + "/admin/exports/")
            assert page.input_value("input[name=date_to]") == today.isoformat()

            page.fill("input[name=date_from]", (today - datetime.timedelta(days=90)).isoformat())
            page.click("[data-action=export]")
            page.locator("#range-error", has_text="dos meses como máximo").wait_for()
            assert in_thread(_job_count) == 0

            page.fill("input[name=date_from]", (today - datetime.timedelta(days=6)).isoformat())
            page.locator("label", has_text="Excel (XLSX)").click()
            page.locator("fieldset", has_text="Estado").get_by_label("Abierto").check()
            page.click("[data-action=export]")
            page.locator(".flash", has_text="Exportación en cola").wait_for()
            link = page.locator("[data-action=download]")
            link.wait_for(timeout=60_000)  # the list polls until the worker is done
            assert page.locator("tr[data-status=done]").count() == 1
            with page.expect_download() as info:
                link.click()
            download = info.value
            assert download.suggested_filename.endswith(".xlsx")
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            assert console.errors == []
    finally:
        server.stop()

    book = openpyxl.load_workbook(saved, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["Número", "Creado", "Tiempo de primera respuesta (min)"]
    assert "Motivo" in header and "Etiquetas" in header
    numbers = [r[0] for r in rows[1:]]
    assert numbers == [1, 2, 5]  # the open ones, in number order
    by_number = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_number[1]["Motivo"] == "Reclamo" and by_number[1]["Etiquetas"] == "vip, web"
    assert by_number[2]["Canal"] == "WhatsApp" and by_number[2]["Estado"] == "Abierto"
