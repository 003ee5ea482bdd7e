"""Reading the spreadsheets people fill in by hand: CSV, tab-separated text and XLSX, as Excel
and WPS write them, and their cells.

- **Files.** ``.csv`` (comma-separated; tab-separated when the header has tabs and no
  commas), ``.tsv`` and ``.txt`` (Excel's "Unicode text": UTF-16, tab-separated), and
  ``.xlsx`` (the first sheet). Text is UTF-8 (with or without a BOM), UTF-16 (with a BOM) or
  GB18030, which contains GBK and GB2312: what Excel's plain "CSV" writes on Chinese Windows.
  The encoding is decided by decoding the whole file, strict UTF-8 first, then GB18030, never
  by guessing from a sample; then the file is read as a stream, one record at a time.
- **Rows** are numbered as a spreadsheet shows them: the header is row 1, and a record that
  spans lines (a quoted cell with a line break) is one row. Blank rows are skipped.
- **Headers** are matched after normalisation, ignoring case, spaces, ``_``, ``-`` and ``*``,
  by their English name or a Chinese one (``出生日期`` is ``birth_date``: see
  :data:`MEMBER_COLUMNS` and :data:`SERVICE_COLUMNS`).
- **Cells** are normalised before they are read: full-width letters, digits and spaces
  (U+FF21 for ``A``, U+FF19 for ``9``, U+3000) become their ASCII forms, and so does other
  full-width punctuation (U+FF0D, U+FF0F, U+FF1A for ``-/:``) except in free text (names and
  notes keep the Chinese punctuation people write, such as the full-width comma); every other
  space (no-break spaces) becomes a plain space, zero-width spaces go, and the cell is trimmed.
  Chinese characters are never changed.
- **Dates** are real date cells, or text as people and Excel write them: ``1962-04-05``,
  ``1962/4/5``, ``1962-4-5``, ``1962.4.5``, ``1962年4月5日``, with a time ``14:00`` or
  ``14:00:00`` after a space, or ISO 8601 with an offset. A time without an offset is local time
  in the zone given. A number where a date belongs (a spreadsheet's day number) is refused.
- **Minutes** are whole numbers: ``90`` (in full-width digits too), ``90.0`` (a spreadsheet's
  float), ``1,200``, and ``90分钟`` or ``90分`` (the column's own unit); ``1.5``, ``-5`` and
  ``1小时`` are refused.

Nothing here prints or knows the command line: errors carry the row, the column as the file's
header named it, the value and what was expected (an English phrase, translated by the caller
under the context ``expected``), with a ``code`` and an English ``template`` like the ledger's
errors.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from itertools import chain
from pathlib import Path
from typing import ClassVar, TypeVar

__all__ = [
    "DATE_EXPECTED",
    "DATE_ONLY_EXPECTED",
    "DAY_NUMBER_EXPECTED",
    "MEMBER_COLUMNS",
    "MOMENT_EXPECTED",
    "MOMENT_NUMBER_EXPECTED",
    "SERVICE_COLUMNS",
    "TEXT_SUFFIXES",
    "WHOLE_EXPECTED",
    "XLSX_SUFFIXES",
    "CellEmpty",
    "CellError",
    "CellInvalid",
    "Columns",
    "EncodingUnknown",
    "HeaderInvalid",
    "Raw",
    "Record",
    "RowError",
    "RowTooLong",
    "SheetEmpty",
    "SheetError",
    "SheetTypeUnknown",
    "SheetUnreadable",
    "TooManyRows",
    "normalise",
    "parse_day",
    "parse_moment",
    "parse_whole",
    "read",
]

T = TypeVar("T")

Raw = str | int | float | datetime | date | time | None
"""A cell as read: text from CSV; text, numbers (often floats), datetimes or times from XLSX."""

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CHUNK = 1 << 20
"""Bytes decoded at a time while the encoding is decided."""
SHOWN_MAX = 64
"""Characters of a refused value repeated in a message."""

DATE_EXPECTED = "a date (such as 1962-04-05 or 1962/4/5)"
DATE_ONLY_EXPECTED = "a date without a time of day (such as 1962-04-05)"
DAY_NUMBER_EXPECTED = (
    "a date (such as 1962-04-05): it looks like a spreadsheet's day number;"
    " format the column as a date"
)
MOMENT_EXPECTED = "a date and time (such as 2026-11-30 14:00 or 2026/11/30 14:00)"
MOMENT_NUMBER_EXPECTED = (
    "a date and time (such as 2026/11/30 14:00): it looks like a spreadsheet's day number;"
    " format the column as a date and time"
)
WHOLE_EXPECTED = "a whole number of minutes (such as 90)"


# --- columns ---------------------------------------------------------------------------------


def _key(heading: str) -> str:
    """A heading as it is compared: normalised, lower case, without spaces, ``_``, ``-``, ``*``."""
    return re.sub(r"[\s_\-*]+", "", normalise(heading).lower())


@dataclass(frozen=True, kw_only=True)
class Columns:
    """The columns one kind of import file has, and the other names people give them."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Other headings of a column (Chinese names first: the first is the one shown)."""
    prose: frozenset[str] = frozenset()
    """Columns of free text, where full-width punctuation is kept."""

    @property
    def known(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)

    def column(self, heading: str) -> str | None:
        """The column a heading names (``出生日期`` is ``birth_date``), or None."""
        wanted = _key(heading)
        for column in self.known:
            if wanted in (_key(column), *map(_key, self.aliases.get(column, ()))):
                return column
        return None


MEMBER_COLUMNS = Columns(
    required=("member_id", "name", "birth_date", "community"),
    optional=("grid", "roles", "vetting", "flags"),
    aliases={
        "member_id": ("会员编号", "编号", "成员编号", "会员号"),
        "name": ("姓名", "名字"),
        "birth_date": ("出生日期", "生日", "出生年月日"),
        "community": ("社区",),
        "grid": ("网格",),
        "roles": ("角色", "身份"),
        "vetting": ("审核", "审核级别", "审核状态"),
        "flags": ("标记", "标签"),
    },
    prose=frozenset({"name"}),
)
"""Members: the columns of ``timebank import members`` and their Chinese headings."""

SERVICE_COLUMNS = Columns(
    required=("provider_id", "recipient_id", "category", "raw_minutes", "served_at"),
    optional=("note",),
    aliases={
        "provider_id": ("服务者编号", "志愿者编号"),
        "recipient_id": ("服务对象编号", "受助者编号"),
        "category": ("服务类别", "类别"),
        "raw_minutes": ("服务时长(分钟)", "时长(分钟)", "服务时长", "时长"),
        "served_at": ("服务时间",),
        "note": ("备注",),
    },
    prose=frozenset({"note"}),
)
"""Paper service records: the columns of ``timebank import services`` and their Chinese
headings."""


# --- cells -----------------------------------------------------------------------------------

_SPACES = "\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
"""Every space separator (Unicode category Zs) but the ASCII space: no-break, ideographic..."""
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
"""Zero-width spaces and joiners, and a byte-order mark left inside a cell."""
_PLAIN: dict[int, int | None] = {
    **dict.fromkeys(map(ord, _SPACES), ord(" ")),
    **dict.fromkeys(map(ord, _INVISIBLE)),
}
_FULL_WIDTH = {**_PLAIN, **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}}
"""Full-width ASCII (U+FF01 to U+FF5E) to ASCII, spaces plain, invisible ones gone."""
_FULL_WIDTH_WORDS = {
    **_PLAIN,
    **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code - 0xFEE0).isalnum()},
}
"""The same for free text, where only full-width letters and digits change."""


def normalise(value: str, *, prose: bool = False) -> str:
    """A cell's text as it is read: full-width ASCII half-width, spaces plain, trimmed.

    Every kind of space (U+3000, no-break spaces) becomes a plain space, zero-width spaces
    go, and the ends are trimmed. Full-width letters and digits become ASCII; so does
    full-width punctuation (U+FF01 to U+FF5E), except in ``prose`` (names, notes), where it is the
    Chinese punctuation people write. Chinese characters and other text are kept as they are.
    """
    if value.isascii():
        return value.strip()
    return value.translate(_FULL_WIDTH_WORDS if prose else _FULL_WIDTH).strip()


_DAY = (
    r"(?P<year>\d{4})(?:"
    r"(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"
    r"|\s*年\s*(?P<cn_month>\d{1,2})\s*月\s*(?P<cn_day>\d{1,2})\s*日?"
    r")"
)
_TIME = (
    r"(?:(?:\s+|T)(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?"
    r"\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_MOMENT = re.compile(_DAY + _TIME, re.ASCII)
_DAY_NUMBER = re.compile(r"\d{5}(?:\.\d*)?", re.ASCII)
"""A spreadsheet's day number written out (45991 is 2025-11-30; 5 digits from 1927 to 2173)."""
_WHOLE = re.compile(
    r"(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?:\.0*)?\s*(?:分钟|分|min|minutes)?", re.ASCII
)
WHOLE_DIGITS_MAX = 9


def _parts(text: str) -> tuple[date, time | None]:
    """A date and, when written, a time (aware when it had an offset); ValueError otherwise."""
    matched = _MOMENT.fullmatch(text)
    if matched is None:
        raise ValueError(f"not a date: {text!r}")
    found = matched.groupdict()
    month = found["month"] or found["cn_month"]
    day = date(int(found["year"]), int(month), int(found["day"] or found["cn_day"]))
    if found["hour"] is None:
        return day, None
    zone: tzinfo | None = None
    if found["offset"] == "Z":
        zone = UTC
    elif found["offset"]:
        digits = found["offset"][1:].replace(":", "")
        shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        zone = timezone(-shift if found["offset"][0] == "-" else shift)
    fraction = (found["fraction"] or "").ljust(6, "0")
    at = time(
        int(found["hour"]),
        int(found["minute"]),
        int(found["second"] or 0),
        int(fraction),
        tzinfo=zone,
    )
    return day, at


def parse_day(text: str) -> date:
    """A date written as ``1962-04-05``, ``1962/4/5``, ``1962-4-5``, ``1962.4.5`` or
    ``1962年4月5日`` (full-width digits too); a time of ``0:00`` after it is allowed.

    Raises ValueError for anything else, and for an impossible date (``2026/2/30``).
    """
    day, at = _parts(normalise(text))
    if at is not None and (at.replace(tzinfo=None) != time() or at.tzinfo is not None):
        raise ValueError(f"a date and a time of day: {text!r}")
    return day


def parse_moment(text: str, zone: tzinfo) -> datetime:
    """A date and time as :func:`parse_day` writes dates, then ``14:00`` or ``14:00:00``
    after a space (or ``T``), optionally with an offset (``+08:00``, ``Z``).

    A date alone is midnight. Without an offset, the time is local time in ``zone``.
    Raises ValueError for anything else.
    """
    day, at = _parts(normalise(text))
    moment = datetime.combine(day, at or time())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def parse_whole(text: str) -> int:
    """A whole number of minutes: ``90`` (full-width digits too), ``90.0``, ``1,200``,
    ``90分钟``, ``90分``.

    Raises ValueError for anything else (fractions, signs, other units, more than nine digits).
    """
    matched = _WHOLE.fullmatch(normalise(text))
    if matched is None:
        raise ValueError(f"not a whole number: {text!r}")
    digits = matched["digits"].replace(",", "")
    if len(digits.lstrip("0")) > WHOLE_DIGITS_MAX:
        raise ValueError(f"too large: {text!r}")
    return int(digits)


def _as_text(value: Raw, *, prose: bool = False) -> str:
    """A cell as text: spreadsheets turn ids like 1001 into numbers, so integers come back."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return normalise(str(value), prose=prose)


def _shown(value: Raw) -> str:
    """A refused value as a message repeats it: at most 64 characters, none invisible."""
    text = _as_text(value)
    if len(text) > SHOWN_MAX:
        text = text[: SHOWN_MAX - 1] + "…"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# --- errors ----------------------------------------------------------------------------------


class SheetError(ValueError):
    """A file, header, row or cell of an import file that cannot be read.

    Like the ledger's errors, it carries a ``code``, an English ``template`` and its data
    (:meth:`fields`, :meth:`to_dict`); its ``str`` is the template filled in, in English.
    """

    code: ClassVar[str] = "sheet_invalid"
    template: ClassVar[str] = "the file cannot be read"

    def fields(self) -> dict[str, object]:
        """The data this error carries, by field name."""
        return {}

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, **self.fields()}

    def _said(self) -> None:
        super().__init__(self.template.format(**self.fields()))


class SheetTypeUnknown(SheetError):
    """Not a file this module reads (by its extension)."""

    code: ClassVar[str] = "sheet_type_unknown"
    template: ClassVar[str] = "{file}: use a .csv, .tsv or .txt (tab-separated), or .xlsx file"

    def __init__(self, file: str) -> None:
        self.file = file
        self._said()

    def fields(self) -> dict[str, object]:
        return {"file": self.file}


class RowError(SheetError):
    """An error at a row, numbered as a spreadsheet shows it (the header is row 1)."""

    def __init__(self, row: int) -> None:
        self.row = row
        self._said()

    def fields(self) -> dict[str, object]:
        return {"row": self.row}


class SheetEmpty(RowError):
    code: ClassVar[str] = "sheet_empty"
    template: ClassVar[str] = "row {row}: the file is empty: a header row is needed"


class EncodingUnknown(RowError):
    """The bytes are none of the encodings tried (decoded in full, strictly)."""

    code: ClassVar[str] = "sheet_encoding_unknown"
    template: ClassVar[str] = (
        "row {row}: the file cannot be read as text in any of {encodings}"
        " (in Excel, save it as 'CSV UTF-8')"
    )

    def __init__(self, row: int, encodings: Sequence[str]) -> None:
        self.encodings = tuple(encodings)
        super().__init__(row)

    def fields(self) -> dict[str, object]:
        return {**super().fields(), "encodings": ", ".join(self.encodings)}


class SheetUnreadable(RowError):
    """The file is damaged or not of its kind; ``error`` is what the reader said."""

    code: ClassVar[str] = "sheet_unreadable"
    template: ClassVar[str] = "row {row}: the file cannot be read as {format}: {error}"

    def __init__(self, row: int, format: str, error: str) -> None:
        self.format = format
        self.error = error
        super().__init__(row)

    def fields(self) -> dict[str, object]:
        return {**super().fields(), "format": self.format, "error": self.error}


class HeaderInvalid(RowError):
    """The header names unknown columns, misses required ones, or repeats one."""

    code: ClassVar[str] = "header_invalid"
    template: ClassVar[str] = "row {row}: {problems} (columns: {columns})"

    def __init__(
        self,
        *,
        unknown: Sequence[str],
        missing: Sequence[str],
        repeated: Sequence[str],
        columns: Columns,
    ) -> None:
        self.unknown = tuple(unknown)
        self.missing = tuple(missing)
        self.repeated = tuple(repeated)
        self.columns = columns
        super().__init__(1)

    def fields(self) -> dict[str, object]:
        problems = [f"unknown column {name!r}" for name in self.unknown]
        problems += [f"missing column {name!r}" for name in self.missing]
        problems += [f"column {name!r} is repeated" for name in self.repeated]
        return {
            "row": self.row,
            "problems": "; ".join(problems),
            "columns": ", ".join(self.columns.known),
        }


class RowTooLong(RowError):
    code: ClassVar[str] = "row_too_long"
    template: ClassVar[str] = "row {row}: more cells than the {columns} columns"

    def __init__(self, row: int, columns: int) -> None:
        self.columns = columns
        super().__init__(row)

    def fields(self) -> dict[str, object]:
        return {**super().fields(), "columns": self.columns}


class TooManyRows(RowError):
    code: ClassVar[str] = "too_many_rows"
    template: ClassVar[str] = "row {row}: an import takes at most {maximum:,} rows"

    def __init__(self, row: int, maximum: int) -> None:
        self.maximum = maximum
        super().__init__(row)

    def fields(self) -> dict[str, object]:
        return {**super().fields(), "maximum": self.maximum}


class CellError(RowError):
    """A cell that cannot be read as its column's type.

    ``column`` is the heading as the file wrote it (``出生日期``); ``key`` the column it
    names (``birth_date``).
    """

    def __init__(self, row: int, column: str, key: str) -> None:
        self.column = column
        self.key = key
        super().__init__(row)

    def fields(self) -> dict[str, object]:
        return {**super().fields(), "column": self.column, "key": self.key}


class CellEmpty(CellError):
    code: ClassVar[str] = "cell_empty"
    template: ClassVar[str] = "row {row}, {column}: the cell is empty; it must be filled in"


class CellInvalid(CellError):
    """A cell's value is not what its column holds; ``expected`` is an English phrase."""

    code: ClassVar[str] = "cell_invalid"
    template: ClassVar[str] = "row {row}, {column}: {value!r} is not {expected}"

    def __init__(self, row: int, column: str, key: str, value: Raw, expected: str) -> None:
        self.value = _shown(value)
        self.expected = expected
        super().__init__(row, column, key)

    def fields(self) -> dict[str, object]:
        return {**super().fields(), "value": self.value, "expected": self.expected}


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """A data row: its number (the header is row 1), its cells and the headings that named them.

    Its readers normalise each cell and raise :class:`CellError` naming the row and the
    column as the file's header wrote it.
    """

    number: int
    cells: Mapping[str, Raw]
    """Cells by column (``birth_date``), as read."""
    headings: Mapping[str, str]
    """The file's heading of each column (``出生日期``)."""
    prose: frozenset[str] = frozenset()

    def heading(self, column: str) -> str:
        return self.headings.get(column, column)

    def invalid(self, column: str, value: Raw, expected: str) -> CellInvalid:
        return CellInvalid(self.number, self.heading(column), column, value, expected)

    def text(self, column: str) -> str:
        """The cell as normalised text; empty when the cell or the column is absent."""
        return _as_text(self.cells.get(column), prose=column in self.prose)

    def required(self, column: str) -> str:
        found = self.text(column)
        if not found:
            raise CellEmpty(self.number, self.heading(column), column)
        return found

    def items(self, column: str) -> list[str]:
        """Values separated by ``;`` (or its full-width form), ``,`` or ``、``; none empty."""
        return [part.strip() for part in re.split(r"[;,、]", self.text(column)) if part.strip()]

    def choices(self, column: str, allowed: Mapping[str, T], expected: str) -> list[T]:
        """Each of :meth:`items` looked up (in lower case) in ``allowed``."""
        chosen: list[T] = []
        for part in self.items(column):
            found = allowed.get(part.lower())
            if found is None:
                raise self.invalid(column, part, expected)
            chosen.append(found)
        return chosen

    def day(self, column: str) -> date:
        """A date: a date cell (a datetime at midnight is a date), or text :func:`parse_day`
        reads."""
        value = self.cells.get(column)
        if isinstance(value, datetime):
            if value.timetz().replace(tzinfo=None) != time():
                raise self.invalid(column, value, DATE_ONLY_EXPECTED)
            return value.date()
        if isinstance(value, date):
            return value
        if value is None or (isinstance(value, str) and not normalise(value)):
            raise CellEmpty(self.number, self.heading(column), column)
        if isinstance(value, int | float) or _DAY_NUMBER.fullmatch(_as_text(value)):
            raise self.invalid(column, value, DAY_NUMBER_EXPECTED)
        try:
            return parse_day(_as_text(value))
        except ValueError:
            raise self.invalid(column, value, DATE_EXPECTED) from None

    def moment(self, column: str, zone: tzinfo) -> datetime:
        """A datetime cell or text :func:`parse_moment` reads; local time in ``zone`` unless
        it has an offset (a date alone is midnight)."""
        value = self.cells.get(column)
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=zone)
        if value is None or (isinstance(value, str) and not normalise(value)):
            raise CellEmpty(self.number, self.heading(column), column)
        if isinstance(value, int | float) or _DAY_NUMBER.fullmatch(_as_text(value)):
            raise self.invalid(column, value, MOMENT_NUMBER_EXPECTED)
        try:
            return parse_moment(_as_text(value), zone)
        except ValueError:
            raise self.invalid(column, value, MOMENT_EXPECTED) from None

    def whole(self, column: str) -> int:
        """A whole number of minutes: a number cell, or text :func:`parse_whole` reads."""
        value = self.cells.get(column)
        if isinstance(value, bool):
            raise self.invalid(column, value, WHOLE_EXPECTED)
        if isinstance(value, int) and 0 <= value < 10**WHOLE_DIGITS_MAX:
            return value
        if isinstance(value, float) and value.is_integer() and 0 <= value < 10**WHOLE_DIGITS_MAX:
            return int(value)
        if value is None or (isinstance(value, str) and not normalise(value)):
            raise CellEmpty(self.number, self.heading(column), column)
        if not isinstance(value, str):
            raise self.invalid(column, value, WHOLE_EXPECTED)
        try:
            return parse_whole(value)
        except ValueError:
            raise self.invalid(column, value, WHOLE_EXPECTED) from None


def read(path: Path, columns: Columns, *, max_rows: int) -> Iterator[Record]:
    """Each non-blank data row of a CSV, tab-separated or XLSX file, streamed.

    The header (row 1) is checked first. Raises :class:`SheetTypeUnknown` for another kind of
    file, :class:`RowError` for a bad header, an unreadable file or row, a row with more cells
    than the header has columns, or more than ``max_rows`` data rows.
    """
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        records = _text_records(path)
    elif suffix in XLSX_SUFFIXES:
        records = _xlsx_records(path)
    else:
        raise SheetTypeUnknown(path.name)
    keys: list[str] | None = None
    headings: dict[str, str] = {}
    for number, cells in records:
        if keys is None:
            keys, headings = _header(cells, columns)
            continue
        if all(_as_text(cell) == "" for cell in cells):
            continue
        if number > max_rows + 1:
            raise TooManyRows(number, max_rows)
        if any(_as_text(cell) for cell in cells[len(keys) :]):
            raise RowTooLong(number, len(keys))
        yield Record(number, dict(zip(keys, cells, strict=False)), headings, columns.prose)
    if keys is None:
        raise SheetEmpty(1)


def _header(cells: Sequence[Raw], columns: Columns) -> tuple[list[str], dict[str, str]]:
    """The column each heading names, and the heading of each column."""
    written = [_as_text(cell) for cell in cells]
    while written and not written[-1]:
        written.pop()
    keys: list[str] = []
    unknown: list[str] = []
    repeated: list[str] = []
    headings: dict[str, str] = {}
    for heading in written:
        column = columns.column(heading) if heading else None
        if column is None:
            unknown.append(heading)
        elif column in headings:
            repeated.append(heading)
        else:
            headings[column] = heading
        keys.append(column or heading)
    missing = [column for column in columns.required if column not in headings]
    if unknown or missing or repeated:
        raise HeaderInvalid(unknown=unknown, missing=missing, repeated=repeated, columns=columns)
    return keys, headings


def _encoding(path: Path) -> str:
    """The encoding the whole file decodes in: by its BOM, else strict UTF-8, else GB18030."""
    with path.open("rb") as file:
        start = file.read(4)
    if start.startswith(codecs.BOM_UTF8):
        candidates = {"UTF-8": "utf-8-sig"}
    elif start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = {"UTF-16": "utf-16"}
    else:
        candidates = {"UTF-8": "utf-8", "GB18030": "gb18030"}
    for encoding in candidates.values():
        if _decodes(path, encoding):
            return encoding
    raise EncodingUnknown(1, list(candidates))


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes, strictly; the text is decoded a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with path.open("rb") as file:
            while chunk := file.read(CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _text_records(path: Path) -> Iterator[tuple[int, list[Raw]]]:
    """CSV or tab-separated records, streamed; a record may span lines.

    The delimiter is a tab when the header line has tabs and no commas, else a comma.
    """
    encoding = _encoding(path)
    number = 0
    try:
        with path.open(encoding=encoding, newline="") as file:
            first = file.readline()
            delimiter = "\t" if "\t" in first and "," not in first else ","
            lines: Iterable[str] = chain([first], file) if first else ()
            for number, record in enumerate(csv.reader(lines, delimiter=delimiter), start=1):
                cells: list[Raw] = list(record)
                yield number, cells
    except UnicodeDecodeError as error:  # the file changed since its encoding was decided
        raise SheetUnreadable(number + 1, "text", str(error)) from error
    except csv.Error as error:
        raise SheetUnreadable(number + 1, "CSV", str(error)) from error


def _xlsx_records(path: Path) -> Iterator[tuple[int, list[Raw]]]:
    """The first sheet's rows, streamed (openpyxl's read-only mode)."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not XLSX
        raise SheetUnreadable(1, "XLSX", str(error) or type(error).__name__) from error
    number = 0
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                break
            except Exception as error:  # a damaged sheet, found while it is streamed
                raise SheetUnreadable(number + 1, "XLSX", str(error)) from error
            number += 1
            yield number, list(values)
    finally:
        workbook.close()
