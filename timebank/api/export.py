"""Tables as downloads: CSV (UTF-8 with a BOM, so Excel on Chinese Windows reads it) and XLSX.

A table is a header row and data rows of plain values (strings, integers,
decimals, dates, datetimes, None). ``rows_of`` flattens msgspec Structs into
such rows, one column per field, nested values as JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

__all__ = ["CSV_MEDIA_TYPE", "XLSX_MEDIA_TYPE", "csv_bytes", "rows_of", "xlsx_bytes"]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | Decimal | date | datetime | None


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


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                "" if v is None else v.isoformat() if isinstance(v, (date, datetime)) else v
                for v in row
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet1")
    sheet.append(list(header))
    for row in rows:
        sheet.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
