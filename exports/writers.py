"""Writing rows to a CSV or XLSX file in chunks, with flat memory: the rows come from a
server-side cursor and go straight to the file (openpyxl's write-only mode streams its sheet to
a temporary file too)."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.db import connection
from openpyxl import Workbook

from exports.sql import neutralise

CHUNK = 5_000
PROGRESS_EVERY = 20_000
# An Excel sheet has 1,048,576 rows: one is the header, the rest continue on a new sheet.
XLSX_SHEET_ROWS = 1_048_575

Progress = Callable[[int], None]


def chunks(rows: Iterable[Sequence[Any]], size: int = CHUNK) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def csv_header(headers: list[str]) -> bytes:
    """The first line: a UTF-8 byte-order mark (so spreadsheet programs read the accents
    right) and the headers, quoted as PostgreSQL's CSV quotes the rows that follow."""
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([neutralise(h) for h in headers])
    return "\ufeff".encode() + line.getvalue().encode()


def write_csv(
    path: Path, headers: list[str], sql: str, params: Sequence[Any], progress: Progress
) -> int:
    """PostgreSQL writes the CSV itself (``COPY (query) TO STDOUT``): the rows arrive as
    blocks of bytes that go straight to the file, with no Python work per row."""
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    lines = 0
    with path.open("wb") as fh, raw.cursor() as cursor:
        fh.write(csv_header(headers))
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for block in copy:
                fh.write(block)
                # Line ends, not rows (a text may hold newlines): good enough for the bar.
                before, lines = lines, lines + bytes(block).count(b"\n")
                if lines // PROGRESS_EVERY != before // PROGRESS_EVERY:
                    progress(lines)
        return int(cursor.rowcount)


def server_rows(sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` through a server-side cursor, CHUNK at a time (call inside a
    transaction)."""
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor(name="export_rows") as cursor:
        cursor.itersize = CHUNK
        cursor.execute(sql, params)
        yield from cursor


def write_xlsx(
    path: Path,
    headers: list[str],
    rows: Iterable[Sequence[Any]],
    progress: Progress,
    *,
    title: str,
    sheet_rows: int = XLSX_SHEET_ROWS,
) -> int:
    book = Workbook(write_only=True)
    header = [neutralise(h) for h in headers]
    count = 0
    sheet: Any = None
    in_sheet = sheet_rows
    for chunk in chunks(rows):
        for row in chunk:
            if in_sheet >= sheet_rows:
                number = len(book.worksheets) + 1
                sheet = book.create_sheet(title if number == 1 else f"{title} {number}")
                sheet.append(header)
                in_sheet = 0
            sheet.append(row)
            in_sheet += 1
        count += len(chunk)
        progress(count)
    if sheet is None:
        book.create_sheet(title).append(header)
    book.save(path)
    return count
