"""Tables as downloads: CSV (UTF-8 with a BOM, so Excel on Chinese Windows reads it) and XLSX.

A table is a header row and data rows of plain values (strings, integers,
decimals, dates, datetimes, None). ``rows_of`` flattens msgspec Structs into
such rows, one column per field, nested values as JSON.

Every cell passes through ``neutralised`` on its way out: a text cell a
spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return, as OWASP's advice on CSV injection lists) gets a
leading ``'``, so that a member named ``=HYPERLINK(...)`` is shown, not run.
Numbers stay numbers: ``-5`` the integer is a number, only text is touched. In
XLSX every text cell is also written as a string, never as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

__all__ = [
    "CSV_MEDIA_TYPE",
    "XLSX_MEDIA_TYPE",
    "csv_bytes",
    "neutralised",
    "rows_of",
    "xlsx_bytes",
]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | Decimal | date | datetime | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP, CSV injection)."""
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Characters an XLSX file cannot hold (openpyxl refuses them)."""
NOT_IN_SHEET_TITLE = re.compile(r"[\\/*?:\[\]]")


def neutralised(value: Cell) -> Cell:
    """The cell as a spreadsheet should show it: text that would start a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, (str, int, Decimal, date, datetime)):
        return value if not isinstance(value, bool) else int(value)
    return msgspec.json.encode(value).decode()


def rows_of(items: Iterable[msgspec.Struct]) -> tuple[list[str], list[list[Cell]]]:
    """A header (the fields of the first item) and one row per item."""
    header: list[str] = []
    rows: list[list[Cell]] = []
    for item in items:
        if not header:
            header = list(item.__struct_fields__)
        rows.append([_cell(getattr(item, name)) for name in header])
    return header, rows


def _csv_value(value: Cell) -> str | int | Decimal:
    value = neutralised(value)
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_value(name) for name in header])
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=NOT_IN_SHEET_TITLE.sub("_", title)[:31] or "Sheet1")

    def cell(value: Cell) -> Any:
        value = neutralised(value)
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        if not isinstance(value, str):
            return value
        written = WriteOnlyCell(sheet, value=NOT_IN_XML.sub("\ufffd", value))
        written.data_type = "s"  # text, whatever it looks like: never a formula
        return written

    sheet.append([cell(name) for name in header])
    for row in rows:
        sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
