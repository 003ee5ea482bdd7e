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
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

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
from timebank.bank.reports import DEFINITIONS
from timebank.community import PassbookEntry

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from timebank.i18n import Text

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
    "human_cell",
    "human_header",
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
    note: str = ""
    """What the column means, where its header alone could be misread (an XLSX header note)."""

    def cell(self, line: object) -> Cell:
        return cell_of(self.get(line))


class Table(NamedTuple):
    """A header row and data rows; ``next`` is where a paged table goes on, if it does."""

    header: list[str]
    rows: list[list[Cell]]
    title: str = ""
    next: str | None = None
    notes: tuple[str, ...] = ()
    """Each column's note ("" for none), in header order; empty when no column has one."""


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

    @property
    def notes(self) -> tuple[str, ...]:
        notes = tuple(column.note for column in self.columns)
        return notes if any(notes) else ()

    def table(self, value: R, *, title: str = "") -> Table:
        return Table(self.header, self.rows(value), title, notes=self.notes)

    def records(self, value: R) -> list[dict[str, Cell]]:
        """The table as JSON-ready objects, one per row, keyed by column key, in column order."""
        return [dict(zip(self.keys, row, strict=True)) for row in self.rows(value)]

    def human(self, value: R, t: Text, zone: ZoneInfo, *, title: str = "") -> Table:
        """The table as a person reads it, in ``t``'s language and ``zone``'s time.

        Headers are the columns' names (a time column's names the zone); codes in a
        column of codes (a category, a status, a level) are their names; every time is
        the local time, without an offset (so each column keeps one convention).
        """
        header = [human_header(column.key, t, zone) for column in self.columns]
        contexts = [CODE_COLUMNS.get(column.key) for column in self.columns]
        rows = [
            [
                human_cell(column.cell(line), context, t, zone)
                for column, context in zip(self.columns, contexts, strict=True)
            ]
            for line in self.lines(value)
        ]
        notes = tuple(t(note) if note else "" for note in self.notes)
        return Table(header, rows, title, notes=notes)


CODE_COLUMNS: Mapping[str, str] = {
    "level": "level",
    "section": "section",
    "category": "category",
    "status": "status",
    "kind": "kind",
    "provenance": "provenance",
    "confirmation": "provenance",
}
"""Columns whose cells are codes, and the catalog context that names them."""


def human_header(key: str, t: Text, zone: ZoneInfo) -> str:
    """A column's name; a time column's (``..._at``) names the zone its times are in."""
    name = t.name("column", key)
    if not key.endswith("_at"):
        return name
    return f"{name} ({t.translation('zone', zone.key) or zone.key})"  # 记账时间 (北京时间)


def human_cell(value: Cell, context: str | None, t: Text, zone: ZoneInfo) -> Cell:
    """A cell as a person reads it: a code named, a time local (and naive: see ``human``)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(zone).replace(tzinfo=None)
    if context is not None and isinstance(value, str) and value:
        return t.name(context, value)
    return value


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


def _noted(columns: Iterable[Column], notes: Mapping[str, str]) -> tuple[Column, ...]:
    """The columns, a column named ``<name>`` or ``<name>_...`` carrying ``notes[name]``."""

    def note_of(key: str) -> str:
        return next(
            (text for name, text in notes.items() if key == name or key.startswith(name + "_")),
            "",
        )

    return tuple(replace(column, note=note_of(column.key)) for column in columns)


ORDERS: Layout[OrderReport] = Layout(
    "orders",
    (
        Column("level", "level", lambda line: line[0]),
        *_noted(struct_columns(OrderStats, lambda line: line[1]), DEFINITIONS),
    ),
    _order_lines,
)
"""Processing and satisfaction: the total, then by month, category and grid, then each line
(the headers of ``processed`` and the rates carry their definitions as notes in XLSX)."""

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
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M")  # a local time (``Layout.human``)
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


def xlsx_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    title: str,
    notes: Sequence[str] = (),
) -> bytes:
    """One sheet; ``notes`` (one per column, "" for none) become notes on the header cells."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
    from openpyxl.comments import Comment  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=NOT_IN_SHEET_TITLE.sub("_", title)[:31] or "Sheet1")

    def cell(value: Cell) -> Any:
        value = neutralised(value)
        if isinstance(value, datetime):
            # A local time (``Layout.human``) as it is; an aware one in UTC, said so by
            # its format, since a spreadsheet cell cannot hold an offset.
            utc = value.tzinfo is not None
            moment = value.astimezone(UTC).replace(tzinfo=None) if utc else value
            written = WriteOnlyCell(sheet, value=moment)
            written.number_format = "yyyy-mm-dd hh:mm" + ('" UTC"' if utc else "")
            return written
        if isinstance(value, date):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = "yyyy-mm-dd"
            return written
        if not isinstance(value, str):
            return value
        written = WriteOnlyCell(sheet, value=NOT_IN_XML.sub("\ufffd", value))
        written.data_type = "s"  # text, whatever it looks like: never a formula
        return written

    def heading(name: str, note: str) -> Any:
        written = cell(name)  # a header is text: a cell object
        if note:
            written.comment = Comment(NOT_IN_XML.sub("\ufffd", note), "timebank")
        return written

    padded = [*notes, *[""] * (len(header) - len(notes))]
    sheet.append([heading(name, note) for name, note in zip(header, padded, strict=False)])
    for row in rows:
        sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
