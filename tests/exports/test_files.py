"""The files themselves: columns and headers (Spanish, or English for an English speaker),
times in the tenant's zone, one column per ticket metadata field, formula injection
neutralised in CSV and XLSX, and XLSX sheets that continue past Excel's row limit."""

from __future__ import annotations

import csv
import zoneinfo
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from deskconfig.models import FieldType, MetadataField
from exports.models import ExportJob, ExportStatus
from exports.services import export_run, job_path
from exports.sql import FORMULA_STARTS
from exports.writers import write_xlsx
from helpdesk.tenancy import tenant_context
from tests.exports.conftest import Desk
from tests.exports.helpers import job_for
from tickets.models import Customer, Message

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.test","clic")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


def _csv(job: ExportJob) -> list[list[str]]:
    with job_path(job).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _xlsx(job: ExportJob) -> list[list[Any]]:
    book = openpyxl.load_workbook(job_path(job))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"a formula cell: {cell.value!r}"
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _built(desk: Desk, **form: Any) -> ExportJob:
    job = job_for(desk.cast.analyst, **form)
    built = export_run(job_id=job.pk)
    assert built is not None and built.status == ExportStatus.DONE, built and built.error
    return built


def _by_header(table: list[list[Any]]) -> list[dict[str, Any]]:
    header = table[0]
    return [dict(zip(header, row, strict=True)) for row in table[1:]]


def test_ticket_columns_in_spanish_with_local_times_and_metadata(desk):
    with tenant_context(desk.cast.tenant_a.pk):
        job = _built(desk)
        rows = {int(r["Número"]): r for r in _by_header(_csv(job))}
    assert list(rows) == [1, 2, 3, 4, 5]
    one, two = rows[1], rows[2]
    zone = zoneinfo.ZoneInfo("America/Santiago")
    created = desk.tickets[0].created_at.astimezone(zone)
    assert one["Creado"] == created.strftime("%Y-%m-%d %H:%M:%S")
    assert one["Tiempo de primera respuesta (min)"] == "15.0"
    assert one["Estado"] == "Abierto" and one["Abordado"] == "Sí" and one["Importante"] == "Sí"
    assert one["Canal"] == "Correo" and one["Cuenta"] == "Soporte correo"
    assert one["Cliente"] == "Ana Pérez" and one["Identidad del cliente"] == "ana@example.test"
    assert one["Asignado a"] == desk.cast.agent.name and one["Departamento"] == "Ventas"
    assert one["Motivo"] == "Reclamo" and one["Etiquetas"] == "vip, web"
    assert one["Mensajes recibidos"] == "1" and one["Mensajes enviados"] == "1"
    # WhatsApp shows the phone, and the bot assigned, breached SLA.
    assert two["Identidad del cliente"] == "56933334444" and two["Canal"] == "WhatsApp"
    assert two["SLA vencido"] == "Sí" and two["Asignado a"] == "Bot"
    assert rows[3]["Estado"] == "Cerrado" and rows[3]["Cerrado"] != ""
    assert rows[4]["Estado"] == "Ignorado" and rows[5]["SLA vencido"] == "No"


def test_message_columns(desk):
    with tenant_context(desk.cast.tenant_a.pk):
        rows = _by_header(_csv(_built(desk, kind="messages")))
    by_text = {r["Texto"]: r for r in rows}
    reply = by_text["Lo revisamos"]
    assert reply["Ticket"] == "1" and reply["Dirección"] == "Saliente"
    assert reply["Autor"] == desk.cast.agent.name and reply["Adjuntos"] == "guia.pdf"
    assert reply["Estado de entrega"] == "Entregado" and reply["Público o privado"] == "Privado"
    bot = by_text["Elige un área"]
    assert bot["Autor"] == "Bot" and bot["Estado de entrega"] == "Falló"
    assert bot["Motivo del fallo"] == "Ventana cerrada" and bot["Canal"] == "WhatsApp"
    inbound = by_text["¿tienen stock? @tienda"]
    assert inbound["Autor"] == "Cliente" and inbound["Cliente"] == "Beto Soto"
    assert inbound["Público o privado"] == "Público" and inbound["Dirección"] == "Entrante"
    assert [r["Fecha"] for r in rows] == sorted(r["Fecha"] for r in rows)


def test_an_english_speaker_gets_english_headers_and_labels(desk):
    with tenant_context(desk.cast.tenant_a.pk):
        job = job_for(desk.cast.analyst)
        job.language = "en"
        job.save(update_fields=["language"])
        export_run(job_id=job.pk)
        job.refresh_from_db()
        rows = _by_header(_csv(job))
    assert {"Status", "Channel", "Customer"} <= set(rows[0])
    assert {r["Status"] for r in rows} == {"Open", "Closed", "Ignored"}


def _plant_hostile_values(desk: Desk) -> None:
    """Every free-text source of a cell gets a formula: names, texts, metadata, a header."""
    MetadataField.objects.create(
        target=MetadataField.Target.TICKET,
        key="nota",
        label="=Nota",
        field_type=FieldType.TEXT,
        position=3,
    )
    customers = list(Customer.objects.order_by("pk"))
    for i, value in enumerate(HOSTILE):
        ticket = desk.tickets[i % 5]
        Message.objects.create(
            ticket=ticket,
            account=ticket.account,
            direction="in",
            author_kind="customer",
            status="received",
            text=value,
            created_at=ticket.created_at,
        )
    customers[0].name = HOSTILE[0]
    customers[0].save(update_fields=["name"])
    desk.email.name = HOSTILE[-1]
    desk.email.save(update_fields=["name"])
    t = desk.tickets[0]
    t.metadata = {**t.metadata, "nota": "@SUM(1+1)*cmd|' /C calc'!A0"}
    t.save(update_fields=["metadata"])


def _assert_neutral(table: list[list[Any]]) -> None:
    cells = [c for row in table for c in row if isinstance(c, str)]
    dangerous = [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert not dangerous, dangerous
    # XML turns a carriage return into a line feed when the XLSX is read back.
    unified = {c.replace("\r", "\n") for c in cells}
    for value in HOSTILE:
        assert ("'" + value).replace("\r", "\n") in unified, value


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formulas_are_neutralised(desk, fmt):
    with tenant_context(desk.cast.tenant_a.pk):
        _plant_hostile_values(desk)
        messages = _built(desk, kind="messages", format=fmt)
        tickets = _built(desk, kind="tickets", format=fmt)
    read = _csv if fmt == "csv" else _xlsx
    message_table, ticket_table = read(messages), read(tickets)
    _assert_neutral(message_table)
    ticket_cells = {c for row in ticket_table for c in row if isinstance(c, str)}
    assert "'" + HOSTILE[0] in ticket_cells and "'" + HOSTILE[-1] in ticket_cells
    assert "'=Nota" in ticket_table[0]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in ticket_cells
    assert not [c for c in ticket_cells if c.startswith(FORMULA_STARTS)]


def test_xlsx_drops_characters_xml_cannot_hold(desk):
    with tenant_context(desk.cast.tenant_a.pk):
        ticket = desk.tickets[0]
        Message.objects.create(
            ticket=ticket,
            account=ticket.account,
            direction="in",
            author_kind="customer",
            status="received",
            text="campana\x07 y\x1b escape",
            created_at=ticket.created_at,
        )
        table = _xlsx(_built(desk, kind="messages", format="xlsx"))
    assert "campana y escape" in {c for row in table for c in row}


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(tmp_path: Path):
    path = tmp_path / "big.xlsx"
    rows = [(i, f"fila {i}") for i in range(5)]
    assert (
        write_xlsx(path, ["n", "texto"], rows, lambda n: None, title="Tickets", sheet_rows=2) == 5
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tickets", "Tickets 2", "Tickets 3"]
    assert [r[0] for r in book["Tickets 3"].iter_rows(values_only=True)] == ["n", 4]
