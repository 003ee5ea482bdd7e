"""Reports and lists as tables: one column layout per report, for every output.

A ``Layout`` is the single definition of a report's table: its columns, each a
key, a header and how to get the cell from a line, and how to split the
report's value into lines. The CSV and XLSX downloads of the API, the files
``timebank export`` writes, ``timebank report``'s terminal table and
``Layout.records`` (a JSON-ready table keyed by column) all come from it, so
every output of one report has the same columns in the same order.

Cells are plain values (strings, integers, decimals, dates, datetimes, None):
a flag is 0 or 1, a nested Struct (a rate) is spelled out as columns of its
own (``processing_rate_numerator``, ``..._denominator``, ``..._percent``),
anything else nested is JSON.

The writers: CSV is UTF-8 with a BOM, so Excel on Chinese Windows reads it;
XLSX is one sheet. Every cell passes through ``neutralised`` on its way out: a
text cell a spreadsheet would run as a formula (it starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return, as OWASP's advice on CSV injection
lists) gets a leading ``'``, so that a member named ``=HYPERLINK(...)`` is
shown, not run. Numbers stay numbers: ``-5`` the integer is a number, only
text is touched. In XLSX every text cell is also written as a string, never as
a formula.

This module sits beside ``timebank.api`` and ``timebank.cli`` (both use it) and
imports neither, nor any web framework.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, NamedTuple, TypeVar

import msgspec

from timebank.bank import (
    GapLine,
    InactiveMember,
    LiabilityForecast,
    OrderReport,
    OrderStats,
    VisitsDue,
    VolunteerOfMonth,
    WishAdoption,
)
from timebank.community import PassbookEntry

__all__ = [
    "INACTIVE_MEMBERS",
    "LAYOUTS",
    "LIABILITY_FORECAST",
    "ORDERS",
    "PASSBOOK",
    "SUPPLY_DEMAND_GAP",
    "VISITS_DUE",
    "VOLUNTEER_BOARD",
    "WISH_ADOPTION",
    "Cell",
    "Column",
    "Layout",
    "Table",
    "csv_bytes",
    "neutralised",
    "rows_of",
    "struct_columns",
    "xlsx_bytes",
]

Cell = str | int | Decimal | date | datetime | None
R = TypeVar("R")
"""What a report returns (a Struct, or a sequence of them)."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP, CSV injection)."""
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Characters an XLSX file cannot hold (openpyxl refuses them)."""
NOT_IN_SHEET_TITLE = re.compile(r"[\\/*?:\[\]]")


def cell_of(value: object) -> Cell:
    """A value as a cell: a flag is 0 or 1, a scalar stays, anything else is JSON."""
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (str, int, Decimal, date, datetime)):
        return value
    return msgspec.json.encode(value).decode()


@dataclass(frozen=True)
class Column:
    """One column: ``key`` names it in JSON, ``header`` heads it, ``get`` reads it from a line."""

    key: str
    header: str
    get: Callable[[Any], object]

    def cell(self, line: object) -> Cell:
        return cell_of(self.get(line))


class Table(NamedTuple):
    """A header row and data rows; ``next`` is where a paged table goes on, if it does."""

    header: list[str]
    rows: list[list[Cell]]
    title: str = ""
    next: str | None = None


@dataclass(frozen=True)
class Layout(Generic[R]):
    """A report's one table layout: its columns, and how its value splits into lines."""

    name: str
    columns: tuple[Column, ...]
    lines: Callable[[R], Iterable[Any]]

    @property
    def keys(self) -> list[str]:
        return [column.key for column in self.columns]

    @property
    def header(self) -> list[str]:
        return [column.header for column in self.columns]

    def rows(self, value: R) -> list[list[Cell]]:
        return [[column.cell(line) for column in self.columns] for line in self.lines(value)]

    def table(self, value: R, *, title: str = "") -> Table:
        return Table(self.header, self.rows(value), title)

    def records(self, value: R) -> list[dict[str, Cell]]:
        """The table as JSON-ready objects, one per row, keyed by column key, in column order."""
        return [dict(zip(self.keys, row, strict=True)) for row in self.rows(value)]


def _path_getter(path: tuple[str, ...], via: Callable[[Any], object]) -> Callable[[Any], object]:
    def get(line: object) -> object:
        item = via(line)
        for name in path:
            item = getattr(item, name)
        return item

    return get


def _paths(kind: type[msgspec.Struct]) -> list[tuple[str, ...]]:
    """Field paths of a Struct, nested Structs spelled out (``processing_rate.percent``)."""
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    paths: list[tuple[str, ...]] = []
    for field in info.fields:
        if isinstance(field.type, msgspec.inspect.StructType):
            paths.extend((field.name, *inner) for inner in _paths(field.type.cls))
        else:
            paths.append((field.name,))
    return paths


def _same(line: object) -> object:
    return line


def struct_columns(
    kind: type[msgspec.Struct], via: Callable[[Any], object] = _same
) -> tuple[Column, ...]:
    """One column per (nested) field of ``kind``, read from ``via(line)``."""
    return tuple(
        Column("_".join(path), "_".join(path), _path_getter(path, via)) for path in _paths(kind)
    )


def _key_getter(key: str) -> Callable[[Mapping[str, object]], object]:
    def get(line: Mapping[str, object]) -> object:
        return line.get(key)

    return get


def _keyed(*keys: str) -> tuple[Column, ...]:
    """Columns read from a mapping line; a key the line lacks is an empty cell."""
    return tuple(Column(key, key, _key_getter(key)) for key in keys)


def _each(items: Iterable[R]) -> Iterable[R]:
    return items


def _one(item: R) -> Iterable[R]:
    return (item,)


# --- the reports ----------------------------------------------------------------------------


def _order_lines(report: OrderReport) -> Iterable[tuple[str, OrderStats]]:
    yield "total", report.total
    for level, group in (
        ("month", report.by_month),
        ("category", report.by_category),
        ("grid", report.by_grid),
        ("line", report.lines),
    ):
        for stats in group:
            yield level, stats


def _forecast_lines(forecast: LiabilityForecast) -> Iterable[Mapping[str, object]]:
    yield {"section": "total", "minutes": forecast.total_minutes}
    for cohort in forecast.cohorts:
        yield {"section": "cohort", **msgspec.structs.asdict(cohort)}
    for year in forecast.years:
        yield {"section": "year", **msgspec.structs.asdict(year)}


ORDERS: Layout[OrderReport] = Layout(
    "orders",
    (
        Column("level", "level", lambda line: line[0]),
        *struct_columns(OrderStats, lambda line: line[1]),
    ),
    _order_lines,
)
"""Processing and satisfaction: the total, then by month, category and grid, then each line."""

VOLUNTEER_BOARD: Layout[Sequence[VolunteerOfMonth]] = Layout(
    "volunteer-board", struct_columns(VolunteerOfMonth), _each
)
WISH_ADOPTION: Layout[WishAdoption] = Layout("wish-adoption", struct_columns(WishAdoption), _one)
SUPPLY_DEMAND_GAP: Layout[Sequence[GapLine]] = Layout(
    "supply-demand-gap", struct_columns(GapLine), _each
)
LIABILITY_FORECAST: Layout[LiabilityForecast] = Layout(
    "liability-forecast",
    _keyed(
        "section",
        "cohort",
        "members",
        "minutes",
        "year",
        "claims_minutes",
        "supply_minutes",
        "cumulative_gap_minutes",
    ),
    _forecast_lines,
)
"""One row for the total, one per age cohort, one per year."""

INACTIVE_MEMBERS: Layout[Sequence[InactiveMember]] = Layout(
    "inactive-members", struct_columns(InactiveMember), _each
)
VISITS_DUE: Layout[Sequence[VisitsDue]] = Layout("visits-due", struct_columns(VisitsDue), _each)
PASSBOOK: Layout[Sequence[PassbookEntry]] = Layout("passbook", struct_columns(PassbookEntry), _each)
"""A member's statement (存折), one row per entry."""

LAYOUTS: Mapping[str, Layout[Any]] = {
    layout.name: layout
    for layout in (
        ORDERS,
        VOLUNTEER_BOARD,
        WISH_ADOPTION,
        SUPPLY_DEMAND_GAP,
        LIABILITY_FORECAST,
        INACTIVE_MEMBERS,
        VISITS_DUE,
        PASSBOOK,
    )
}
"""Every report's layout by its name (the API's path name)."""


def rows_of(items: Iterable[msgspec.Struct]) -> tuple[list[str], list[list[Cell]]]:
    """Any Structs as a table: the fields of the first item, one row per item (nested as JSON)."""
    header: list[str] = []
    rows: list[list[Cell]] = []
    for item in items:
        if not header:
            header = list(item.__struct_fields__)
        rows.append([cell_of(getattr(item, name)) for name in header])
    return header, rows


# --- the writers ----------------------------------------------------------------------------


def neutralised(value: Cell) -> Cell:
    """The cell as a spreadsheet should show it: text that would start a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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
