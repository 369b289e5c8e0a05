"""Writing rows to a CSV or XLSX file in chunks, with flat memory: the rows come from a
server-side cursor and go straight to the file (openpyxl's write-only mode streams its sheet to
a temporary file too)."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from exports.sql import neutralise

CHUNK = 5_000
# An Excel sheet has 1,048,576 rows: one is the header, the rest continue on a new sheet.
XLSX_SHEET_ROWS = 1_048_575

Progress = Callable[[int], None]


def chunks(rows: Iterable[Sequence[Any]], size: int = CHUNK) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def write_csv(
    path: Path, headers: list[str], rows: Iterable[Sequence[Any]], progress: Progress
) -> int:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the accents right."""
    count = 0
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([neutralise(h) for h in headers])
        for chunk in chunks(rows):
            writer.writerows(chunk)
            count += len(chunk)
            progress(count)
    return count


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
