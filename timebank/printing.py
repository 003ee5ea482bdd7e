"""Paper a person reads: a member's passbook and a month's report, as A4 HTML, XLSX and CSV.

The facade gives the data with names, titles and service times
(``book.statements.printable``, ``book.reports``); this module words it in
the reader's language (``timebank.i18n``: ``1小时30分``, ``北京时间``, the
catalog's sentences) and lays it out:

- **HTML**: one self-contained A4 document (inline CSS, no script, no fetch):
  an ``@page`` rule for A4, type of 14pt and more, the header row repeated on
  every printed page, the member's name, the programme, the period, the time
  zone named, the opening and closing balances, the moment it was printed.
  Every value is HTML-escaped.
- **XLSX**: one sheet, written row by row straight into the file (so a year
  of lines holds no more memory than a month): a title row naming the member,
  the period and the zone, a row of balances, a frozen header row repeated on
  every printed page, columns as wide as their content (a CJK character
  counts twice), minutes as ``1小时30分`` text and again as numbers (so sums
  still work), times as spreadsheet dates, A4 portrait fitted to the width.
  The writer is this module's own: openpyxl's write-only mode (without lxml)
  took ten times as long for a year of 100,000 lines, past the two seconds an
  export may take (``bench/passbook.py``); openpyxl reads the files back.
- **CSV**: UTF-8 with a byte-order mark, the same rows (the first names the
  member, the period and the zone).

Every cell of every output passes through ``timebank.tables.neutralised``, so
a name (or a negative balance) that looks like a formula is shown, never run.
Writers take a binary stream (``write_passbook_html(printed, t, file)``...);
``passbook_html(printed, t)`` and the like return the whole file as bytes.

This module sits beside ``timebank.tables`` and imports no web framework.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import IO, Final, NamedTuple
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo

from msgspec import Struct

from timebank.bank import BankBook, OrderStats, VolunteerOfMonth
from timebank.bank.capabilities import BOARD_MAX
from timebank.bank.passbook_print import PrintedLine, PrintedPassbook
from timebank.bank.viewer import SYSTEM
from timebank.i18n import Text
from timebank.tables import NOT_IN_XML, neutralised

__all__ = [
    "MonthReport",
    "month_html",
    "month_report",
    "month_title",
    "month_xlsx",
    "passbook_csv",
    "passbook_html",
    "passbook_title",
    "passbook_xlsx",
    "text_width",
    "write_month_html",
    "write_month_xlsx",
    "write_passbook_csv",
    "write_passbook_html",
    "write_passbook_xlsx",
]

PrintCell = str | int | datetime | None
"""A cell of a printed table: text, a number of minutes, a local (naive) time, or nothing."""

WIDTH_MIN: Final = 6
WIDTH_MAX: Final = 48
"""Column widths in spreadsheet characters; longer text wraps."""
ROWS_PER_WRITE: Final = 500
"""Rows rendered before each write to the output."""

# --- words ----------------------------------------------------------------------------------


def text_width(value: str) -> int:
    """Columns ``value`` takes in a spreadsheet: wide (CJK) and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in value)


def _passbook_title(t: Text, name: str) -> str:
    return t.pgettext("passbook", "Passbook of {name}", name=name)


def passbook_title(passbook: PrintedPassbook, t: Text) -> str:
    """``李娜的时间存折`` / ``Passbook of 李娜``."""
    return _passbook_title(t, passbook.member_name)


def month_title(report: MonthReport, t: Text) -> str:
    """``2026年11月月度报表`` / ``Monthly report, 2026-11``."""
    return _month_heading(t, report)[0]


def _period(t: Text, since: date | None, until: date | None) -> str:
    if since is not None and until is not None:
        return t.pgettext("passbook", "{first} to {last}", first=t.day(since), last=t.day(until))
    if since is not None:
        return t.pgettext("passbook", "from {first}", first=t.day(since))
    if until is not None:
        return t.pgettext("passbook", "up to {last}", last=t.day(until))
    return t.pgettext("passbook", "all entries")


def _fact(t: Text, label: str, value: str) -> str:
    return t.pgettext("passbook", "{label}: {value}", label=label, value=value)


def _programme(t: Text, programme: str, book_id: str) -> str:
    # A preset's name is named in the catalog; a programme's own name is shown as it is.
    named = t.translation("programme", programme) or programme
    return t.pgettext("passbook", "{programme} (book {book})", programme=named, book=book_id)


class _Said:
    """What happened and with whom, as text and as each output writes it (once per kind of
    line: a passbook repeats itself)."""

    __slots__ = (
        "what",
        "what_cell",
        "what_html",
        "what_xml",
        "who",
        "who_cell",
        "who_html",
        "who_xml",
    )

    def __init__(self, what: str, who: str) -> None:
        self.what, self.who = what, who
        self.what_cell, self.who_cell = str(neutralised(what)), str(neutralised(who))
        self.what_xml, self.who_xml = _xml_text(self.what_cell), _xml_text(self.who_cell)
        self.what_html, self.who_html = _e(what), _e(who)


class _Words:
    """How one language words passbook lines; each distinct line is worded once."""

    def __init__(self, t: Text) -> None:
        self.t = t
        self._said: dict[tuple[str, ...], _Said] = {}

    def line(self, line: PrintedLine) -> _Said:
        """What happened and with whom, on a line."""
        key = (
            line.kind,
            line.category,
            line.title,
            line.party,
            line.relation,
            line.counterparty,
            line.counterparty_account,
            "+" if line.delta_minutes > 0 else "-",
        )
        said = self._said.get(key)
        if said is None:
            said = self._said[key] = _Said(self.what(line), self.who(line))
        return said

    def who(self, line: PrintedLine) -> str:
        if line.counterparty_account:
            return self.t.name("account", line.counterparty_account)
        return line.counterparty

    def what(self, line: PrintedLine) -> str:
        """The first of the kind's sentences whose every field has a value, filled in."""
        t = self.t
        wordings = _WORDING.get((line.kind, line.delta_minutes > 0)) or _WORDING.get(
            (line.kind, None)
        )
        if wordings is None:
            return t.name("kind", line.kind)
        if line.kind == "grant" and line.title == "starting grant":
            return t.pgettext("passbook", "Starting grant for a new member")
        fields = {
            "category": t.name("category", line.category) if line.category else "",
            "name": line.party,
            "title": line.title,
            "relation": t.name("relation", line.relation) if line.relation else "",
        }
        for wording in wordings:
            if all(value for key, value in fields.items() if f"{{{key}}}" in wording):
                return t.pgettext("passbook", wording, **fields)
        return t.pgettext("passbook", wordings[-1], **fields)


_WORDING: dict[tuple[str, bool | None], tuple[str, ...]] = {
    # (kind, minutes in? None: either way) -> sentences, the fullest first
    ("service", True): ("Service: {category} for {name}", "Service: {category}", "Service"),
    ("service", False): (
        "Service received: {category} from {name}",
        "Service received: {category}",
        "Service received",
    ),
    ("order", True): ("Order: {category} for {name}", "Order: {category}", "Order"),
    ("order", False): (
        "Order received: {category} from {name}",
        "Order received: {category}",
        "Order received",
    ),
    ("wish", None): ("Micro-wish “{title}” for {name}", "Micro-wish “{title}”", "Micro-wish"),
    ("event", None): ("Event: {title}", "Event"),
    ("redemption", False): (
        "Redeemed: {category} from {name}",
        "Redeemed: {category}",
        "Redeemed from {name}",
        "Redeemed",
    ),
    ("redemption", True): (
        "Redeemed service: {category} for {name}",
        "Redeemed service: {category}",
        "Redeemed service for {name}",
        "Redeemed service",
    ),
    ("gift", False): ("Gift to {name} ({relation})", "Gift to {name}", "Gift"),
    ("gift", True): ("Gift from {name} ({relation})", "Gift from {name}", "Gift received"),
    ("donation", None): ("Donation to the community pool",),
    ("grant", None): ("Grant: {title}", "Grant"),
    ("expiry", None): ("Minutes expired",),
    ("estate", True): ("Inherited from {name}", "Inherited minutes"),
    ("estate", False): ("Minutes passed on as an estate",),
    ("correction", None): ("Correction: {title}", "Correction"),
}
"""The English sentences (catalog ``msgid``s, context ``passbook``) a line is worded with."""


# --- the passbook as rows -------------------------------------------------------------------


def _passbook_header(t: Text, *, numbers: bool) -> list[str]:
    p = t.pgettext
    header = [
        p("passbook", "Date"),
        p("passbook", "What happened"),
        p("passbook", "With"),
        p("passbook", "In"),
        p("passbook", "Out"),
        p("passbook", "Balance"),
    ]
    if numbers:
        header += [
            p("passbook", "In (minutes)"),
            p("passbook", "Out (minutes)"),
            p("passbook", "Balance (minutes)"),
        ]
    return header


def _passbook_heading(t: Text, passbook: PrintedPassbook) -> tuple[str, str]:
    """The title row (member, period, zone) and the facts row (programme, balances, printed)."""
    zone = passbook.zone
    title = " · ".join(
        (
            _passbook_title(t, passbook.member_name),
            _period(t, passbook.since, passbook.until),
            _fact(t, t.pgettext("passbook", "Times in"), t.zone_name(zone)),
        )
    )
    facts = " · ".join(
        (
            _programme(t, passbook.programme_name, passbook.book_id),
            _fact(
                t,
                t.pgettext("passbook", "Opening balance"),
                t.minutes(passbook.opening_balance_minutes),
            ),
            _fact(
                t,
                t.pgettext("passbook", "Closing balance"),
                t.minutes(passbook.closing_balance_minutes),
            ),
            _fact(t, t.pgettext("passbook", "Printed"), t.moment(passbook.generated_at, zone)),
        )
    )
    return title, facts


class _LocalTimes:
    """Times in a zone, to the minute, as text (``t.day`` and ``HH:MM``) and as spreadsheet
    serial numbers; the zone's offset is looked up once per quarter hour of UTC."""

    def __init__(self, t: Text, zone: ZoneInfo) -> None:
        self._t = t
        self._zone = zone
        self._offsets: dict[int, int] = {}
        self._days: dict[int, str] = {}

    def local_minute(self, micros: int) -> int:
        """Minutes since 1970-01-01 00:00 on the zone's clock, of a time in microseconds since
        1970 UTC."""
        seconds = micros // 1_000_000
        quarter = seconds // 900  # zones change their offset on a quarter hour of UTC
        offset = self._offsets.get(quarter)
        if offset is None:
            shift = self._zone.utcoffset(datetime.fromtimestamp(quarter * 900, UTC))
            offset = self._offsets[quarter] = 0 if shift is None else int(shift.total_seconds())
        return (seconds + offset) // 60

    def text(self, minute: int) -> str:
        day, in_day = divmod(minute, 1_440)
        shown = self._days.get(day)
        if shown is None:
            shown = self._days[day] = self._t.day(_UNIX_DAY + timedelta(days=day))
        return f"{shown} {_CLOCK[in_day]}"

    @staticmethod
    def serial(minute: int) -> float:
        return minute / 1_440 + _UNIX_SERIAL


_UNIX_DAY = date(1970, 1, 1)
_UNIX_SERIAL = 25_569
"""1970-01-01 as a spreadsheet's day number (days since 1899-12-30)."""
_CLOCK = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]


class _Row(NamedTuple):
    """One passbook line ready to write: its local minute, words and minutes."""

    minute: int
    said: _Said
    minutes_in: str
    minutes_out: str
    balance: str
    delta_minutes: int
    balance_minutes: int


def _passbook_rows(t: Text, passbook: PrintedPassbook, words: _Words) -> Iterator[_Row]:
    """The lines in printed order, each with its local minute, its words and its minutes."""
    times, minutes = _LocalTimes(t, passbook.zone), t.minutes
    said = [words.line(sample) for sample in passbook.samples()]
    amounts: dict[int, str] = {}
    for label, micros, delta, balance in passbook.compact():
        amount = amounts.get(delta)
        if amount is None:
            amount = amounts[delta] = minutes(abs(delta))
        yield _Row(
            times.local_minute(micros),
            said[label],
            amount if delta > 0 else "",
            amount if delta < 0 else "",
            minutes(balance),
            delta,
            balance,
        )


def _passbook_widths(t: Text, passbook: PrintedPassbook, words: _Words) -> list[float]:
    """Column widths for the content: the widest description and name among the distinct
    lines, the widest minutes any balance can reach."""
    header = _passbook_header(t, numbers=True)
    what = [text_width(words.line(line).what) for line in passbook.samples()]
    who = [text_width(words.line(line).who) for line in passbook.samples()]
    reach = passbook.opening_balance_minutes
    extremes = (reach + passbook.minutes_in, reach - passbook.minutes_out, passbook.minutes_in)
    hours = max(text_width(t.minutes(value)) for value in extremes)
    digits = max(len(str(value)) for value in extremes)
    content = [16, max(what, default=0), max(who, default=0), hours, hours, hours]
    content += [digits, digits, digits]
    return [
        float(min(WIDTH_MAX, max(WIDTH_MIN, width, text_width(name)) + 2))
        for width, name in zip(content, header, strict=True)
    ]


# --- CSV ------------------------------------------------------------------------------------


def _csv_cell(value: PrintCell) -> str | int:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str):
        return str(neutralised(value))
    return value


def write_passbook_csv(passbook: PrintedPassbook, t: Text, out: IO[bytes]) -> None:
    """The passbook as CSV (UTF-8 with a BOM): title, facts, header, then one row per line."""
    words = _Words(t)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    title, facts = _passbook_heading(t, passbook)
    writer.writerow([_csv_cell(title)])
    writer.writerow([_csv_cell(facts)])
    writer.writerow([_csv_cell(name) for name in _passbook_header(t, numbers=True)])
    out.write(codecs.BOM_UTF8)
    times = _LocalTimes(t, passbook.zone)
    for number, row in enumerate(_passbook_rows(t, passbook, words), start=1):
        delta = row.delta_minutes
        writer.writerow(
            (
                times.text(row.minute),
                row.said.what_cell,
                row.said.who_cell,
                row.minutes_in,
                row.minutes_out,
                neutralised(row.balance),  # a debt (-1小时) is text, not a formula
                delta if delta > 0 else "",
                -delta if delta < 0 else "",
                row.balance_minutes,
            )
        )
        if number % ROWS_PER_WRITE == 0:
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue().encode("utf-8"))


def passbook_csv(passbook: PrintedPassbook, t: Text) -> bytes:
    buffer = io.BytesIO()
    write_passbook_csv(passbook, t, buffer)
    return buffer.getvalue()


# --- XLSX -----------------------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_EXCEL_EPOCH = datetime(1899, 12, 30)

# Cell styles (indexes into styles.xml's cellXfs).
PLAIN, TITLE, HEADER, WHEN, NUMBER, WRAPPED, BOLD = range(7)


def _styles(font: str) -> str:
    fonts = (
        f'<font><sz val="12"/><name val="{font}"/></font>'
        f'<font><b/><sz val="16"/><name val="{font}"/></font>'
        f'<font><b/><sz val="12"/><name val="{font}"/></font>'
    )
    top = '<alignment vertical="top"/>'
    wrap = '<alignment vertical="top" wrapText="1"/>'
    xfs = (
        f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" applyAlignment="1">{top}</xf>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" applyFont="1"/>'
        '<xf numFmtId="0" fontId="2" fillId="2" borderId="1" applyFont="1" applyFill="1"'
        f' applyBorder="1" applyAlignment="1">{wrap}</xf>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"'
        f' applyAlignment="1">{top}</xf>'
        '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"'
        f' applyAlignment="1">{top}</xf>'
        f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" applyAlignment="1">{wrap}</xf>'
        '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" applyFont="1"/>'
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_MAIN}">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
        f'<fonts count="3">{fonts}</fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFE7E6E6"/></patternFill></fill>'
        "</fills>"
        '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
        '<border><left/><right/><top/><bottom style="thin"><color rgb="FF000000"/></bottom>'
        "<diagonal/></border></borders>"
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        f'<cellXfs count="7">{xfs}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(value: str) -> str:
    return xml_escape(NOT_IN_XML.sub("\ufffd", value))


class _Sheet:
    """One worksheet written row by row into an XLSX package (inline strings, no shared table)."""

    def __init__(
        self,
        out: IO[bytes],
        *,
        title: str,
        widths: Sequence[float],
        header_row: int | None,
        font: str,
    ) -> None:
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._title = "".join(c for c in title if c not in "\\/*?:[]'")[:31] or "Sheet1"
        self._header_row = header_row
        self._font = font
        self._columns = [_column_letter(i) for i in range(len(widths))]
        self._row = 0
        self._merges: list[str] = []
        self._pending: list[str] = []
        self._file = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        frozen = (
            ""
            if header_row is None
            else f'<pane ySplit="{header_row}" topLeftCell="A{header_row + 1}"'
            ' activePane="bottomLeft" state="frozen"/>'
        )
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{w:.1f}" customWidth="1"/>'
            for i, w in enumerate(widths, start=1)
        )
        self._write(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}">'
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            f'<sheetViews><sheetView workbookViewId="0">{frozen}</sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="18"/>'
            f"<cols>{cols}</cols><sheetData>"
        )

    def _write(self, text: str) -> None:
        self._file.write(text.encode("utf-8"))

    def row(self, values: Sequence[PrintCell], styles: Sequence[int] | int = PLAIN) -> None:
        """Append a row; ``styles`` is one style for every cell, or one per cell."""
        self._row += 1
        number = self._row
        parts = [f'<row r="{number}">']
        for index, value in enumerate(values):
            if value is None or value == "":
                continue
            style = styles if isinstance(styles, int) else styles[index]
            where = f"{self._columns[index]}{number}"
            if isinstance(value, str):
                shown = _xml_text(str(neutralised(value)))
                parts.append(
                    f'<c r="{where}" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
                    f"{shown}</t></is></c>"
                )
            elif isinstance(value, datetime):
                serial = (value - _EXCEL_EPOCH).total_seconds() / 86_400
                parts.append(f'<c r="{where}" s="{WHEN}"><v>{serial:.10f}</v></c>')
            else:
                parts.append(f'<c r="{where}" s="{style}"><v>{int(value)}</v></c>')
        parts.append("</row>")
        self._pending.append("".join(parts))
        if len(self._pending) >= ROWS_PER_WRITE:
            self.flush()

    @property
    def next_row(self) -> int:
        return self._row + 1

    def raw_row(self, xml: str) -> None:
        """Append a row already written as XML (numbered ``next_row``)."""
        self._row += 1
        self._pending.append(xml)
        if len(self._pending) >= ROWS_PER_WRITE:
            self.flush()

    def merge_row(self) -> None:
        """Let the last row's first cell run across every column (a title)."""
        self._merges.append(f"A{self._row}:{self._columns[-1]}{self._row}")

    def flush(self) -> None:
        self._write("".join(self._pending))
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in self._merges)
        self._write(
            "</sheetData>"
            + (f'<mergeCells count="{len(self._merges)}">{merges}</mergeCells>' if merges else "")
            + '<printOptions horizontalCentered="1"/>'
            '<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.7" header="0.3" footer="0.3"/>'
            '<pageSetup paperSize="9" orientation="portrait" fitToWidth="1" fitToHeight="0"/>'
            "<headerFooter><oddFooter>&amp;C&amp;P / &amp;N</oddFooter></headerFooter>"
            "</worksheet>"
        )
        self._file.close()
        self._package()
        self._zip.close()

    def _package(self) -> None:
        sheet = xml_escape(self._title, {'"': "&quot;"})
        titles = (
            ""
            if self._header_row is None
            else "<definedNames>"
            f'<definedName name="_xlnm.Print_Titles" localSheetId="0">\'{sheet}\'!'
            f"${self._header_row}:${self._header_row}</definedName></definedNames>"
        )
        files = {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns='
                '"http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType='
                '"application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                '<Override PartName="/xl/styles.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                "</Types>"
            ),
            "_rels/.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{_PACKAGE_RELS}">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
            "xl/workbook.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
                f'<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets>'
                f"{titles}</workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{_PACKAGE_RELS}">'
                f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
                f'<Relationship Id="rId2" Type="{_RELS}/styles" Target="styles.xml"/>'
                "</Relationships>"
            ),
            "xl/styles.xml": _styles(self._font),
        }
        for name, body in files.items():
            self._zip.writestr(name, body)


def _font(t: Text) -> str:
    return "等线" if t.lang == "zh" else "Calibri"


def write_passbook_xlsx(passbook: PrintedPassbook, t: Text, out: IO[bytes]) -> None:
    """The passbook as one A4 sheet: title, facts, a frozen header, one row per line."""
    words = _Words(t)
    sheet = _Sheet(
        out,
        title=_passbook_title(t, passbook.member_name),
        widths=_passbook_widths(t, passbook, words),
        header_row=3,
        font=_font(t),
    )
    title, facts = _passbook_heading(t, passbook)
    sheet.row([title], TITLE)
    sheet.merge_row()
    sheet.row([facts])
    sheet.merge_row()
    sheet.row(_passbook_header(t, numbers=True), HEADER)
    for row in _passbook_rows(t, passbook, words):
        sheet.raw_row(_passbook_xml(sheet.next_row, row))
    sheet.close()


def _passbook_xml(r: int, row: _Row) -> str:
    """A passbook line as a worksheet row, its cells in column order (A to I)."""
    delta = row.delta_minutes
    if delta > 0:
        words = f'<c r="D{r}" s="{PLAIN}" t="inlineStr"><is><t>{row.minutes_in}</t></is></c>'
        number = f'<c r="G{r}" s="{NUMBER}"><v>{delta}</v></c>'
    else:
        words = f'<c r="E{r}" s="{PLAIN}" t="inlineStr"><is><t>{row.minutes_out}</t></is></c>'
        number = f'<c r="H{r}" s="{NUMBER}"><v>{-delta}</v></c>'
    return (
        f'<row r="{r}"><c r="A{r}" s="{WHEN}"><v>{_LocalTimes.serial(row.minute)!r}</v></c>'
        f'<c r="B{r}" s="{WRAPPED}" t="inlineStr"><is><t xml:space="preserve">'
        f"{row.said.what_xml}</t></is></c>"
        f'<c r="C{r}" s="{WRAPPED}" t="inlineStr"><is><t xml:space="preserve">'
        f"{row.said.who_xml}</t></is></c>{words}"
        f'<c r="F{r}" s="{PLAIN}" t="inlineStr"><is><t>{row.balance}</t></is></c>{number}'
        f'<c r="I{r}" s="{NUMBER}"><v>{row.balance_minutes}</v></c></row>'
    )


def passbook_xlsx(passbook: PrintedPassbook, t: Text) -> bytes:
    buffer = io.BytesIO()
    write_passbook_xlsx(passbook, t, buffer)
    return buffer.getvalue()


# --- HTML -----------------------------------------------------------------------------------

PAGE_CSS: Final = """
@page { size: A4 portrait; margin: 14mm 12mm 16mm 12mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 10pt; } }
html { font-size: 14pt; }
body { margin: 0 auto; max-width: 186mm; padding: 8mm 6mm; color: #000; background: #fff;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
    "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif;
  line-height: 1.5; }
h1 { font-size: 22pt; margin: 0 0 2pt; }
h2 { font-size: 17pt; margin: 14pt 0 4pt; }
.programme { font-size: 14pt; margin: 0 0 8pt; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2pt 12pt; margin: 0 0 8pt; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
p.note { font-size: 14pt; margin: 4pt 0 8pt; }
table { width: 100%; border-collapse: collapse; font-size: 14pt; }
table.lines { table-layout: fixed; }
td { overflow-wrap: anywhere; }
caption { text-align: left; font-weight: bold; padding: 4pt 0; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #333; padding: 3pt 3pt; vertical-align: top; text-align: left; }
th { background: #e7e6e6; font-weight: bold; }
td.when { word-break: keep-all; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; border-top: 2px solid #000; }
footer { margin-top: 10pt; font-size: 14pt; }
@media print {
  body { max-width: none; padding: 0; }
  h1, h2 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
""".strip()


def _e(value: object) -> str:
    """A value as HTML text: neutralised like a spreadsheet cell, then escaped."""
    shown = neutralised(value if isinstance(value, (str, int)) else str(value))
    return html.escape(str(shown), quote=True)


def _document_start(t: Text, title: str) -> str:
    lang = "zh-CN" if t.lang == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>\n{PAGE_CSS}\n</style>\n</head>\n<body>\n"
    )


def _facts(pairs: Iterable[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in pairs)
    return f'<dl class="facts">{items}</dl>\n'


_NUM = ' class="num"'
_PASSBOOK_COLUMNS = (
    '<colgroup><col style="width: 16%"><col style="width: 27%"><col style="width: 12%">'
    '<col style="width: 14%"><col style="width: 14%"><col style="width: 17%"></colgroup>\n'
)
"""The passbook's columns on A4: the words get the room, times and minutes wrap if they must."""


def _head_row(names: Sequence[str], numeric: Sequence[bool]) -> str:
    cells = "".join(
        f'<th scope="col"{_NUM if is_num else ""}>{_e(name)}</th>'
        for name, is_num in zip(names, numeric, strict=True)
    )
    return f"<thead><tr>{cells}</tr></thead>\n"


def write_passbook_html(passbook: PrintedPassbook, t: Text, out: IO[bytes]) -> None:
    """The passbook as one self-contained A4 HTML document (UTF-8)."""
    words, zone, p = _Words(t), passbook.zone, t.pgettext
    title = _passbook_title(t, passbook.member_name)

    def write(text: str) -> None:
        out.write(text.encode("utf-8"))

    write(_document_start(t, title))
    write(f"<header>\n<h1>{_e(title)}</h1>\n")
    write(
        f'<p class="programme">{_e(_programme(t, passbook.programme_name, passbook.book_id))}</p>\n'
    )
    write(
        _facts(
            (
                (p("passbook", "Period"), _period(t, passbook.since, passbook.until)),
                (p("passbook", "Times in"), t.zone_name(zone)),
                (p("passbook", "Opening balance"), t.minutes(passbook.opening_balance_minutes)),
                (p("passbook", "Closing balance"), t.minutes(passbook.closing_balance_minutes)),
                (p("passbook", "Printed"), t.moment(passbook.generated_at, zone)),
            )
        )
    )
    write("</header>\n<main>\n")
    note = p(
        "passbook",
        "Lines are in order of service date; the balance after each line follows that order.",
    )
    write(f'<p class="note">{_e(note)}</p>\n<table class="lines">\n{_PASSBOOK_COLUMNS}')
    numeric = (False, False, False, True, True, True)
    write(_head_row(_passbook_header(t, numbers=False), numeric))
    write("<tbody>\n")
    pending: list[str] = []
    times = _LocalTimes(t, zone)
    for row in _passbook_rows(t, passbook, words):
        pending.append(
            f'<tr><td class="when">{times.text(row.minute)}</td>'
            f'<td>{row.said.what_html}</td><td class="who">{row.said.who_html}</td>'
            f'<td class="num">{row.minutes_in}</td><td class="num">{row.minutes_out}</td>'
            f'<td class="num">{row.balance}</td></tr>\n'
        )
        if len(pending) >= ROWS_PER_WRITE:
            write("".join(pending))
            pending.clear()
    write("".join(pending))
    if not len(passbook):
        empty = p("passbook", "No entries in this period.")
        write(f'<tr><td colspan="6">{_e(empty)}</td></tr>\n')
    write("</tbody>\n</table>\n</main>\n<footer>\n")
    write(
        _facts(
            (
                (p("passbook", "Total in"), t.minutes(passbook.minutes_in)),
                (p("passbook", "Total out"), t.minutes(passbook.minutes_out)),
                (p("passbook", "Closing balance"), t.minutes(passbook.closing_balance_minutes)),
            )
        )
    )
    write("</footer>\n</body>\n</html>\n")


def passbook_html(passbook: PrintedPassbook, t: Text) -> bytes:
    buffer = io.BytesIO()
    write_passbook_html(passbook, t, buffer)
    return buffer.getvalue()


# --- the month's report ---------------------------------------------------------------------


class MonthReport(Struct, frozen=True, kw_only=True):
    """A coordinator's month: the volunteers' services (the board) and the service orders."""

    book_id: str
    programme_name: str
    month: str
    zone: str
    generated_at: datetime
    volunteers: tuple[VolunteerOfMonth, ...]
    """The month's volunteer board (``book.reports.volunteer_board``), every place up to 100."""
    orders: OrderStats
    """The orders requested in the month (``book.reports.orders``)."""
    by_category: tuple[OrderStats, ...]


def month_report(book: BankBook, month: str, *, actor: str = SYSTEM) -> MonthReport:
    """The month's report from the facade's reports, as ``actor`` sees them (staff only)."""
    board = book.reports.volunteer_board(month, limit=BOARD_MAX, actor=actor)
    orders = book.reports.orders(month, actor=actor)
    return MonthReport(
        book_id=book.book_id,
        programme_name=book.programme.policy(actor=actor).rules.name,
        month=month,
        zone=book.zone.key,
        generated_at=book.clock_now(),
        volunteers=tuple(board),
        orders=orders.total,
        by_category=orders.by_category,
    )


def _month_name(t: Text, month: str) -> str:
    return t.pgettext("month", "{year}-{month:02d}", year=month[:4], month=int(month[5:]))


def _rate(stats: OrderStats, field: str) -> str:
    percent: Decimal | None = getattr(stats, field).percent
    return "—" if percent is None else f"{percent}%"


def _month_sections(t: Text, report: MonthReport) -> list[_Section]:
    """The report's tables: the volunteers (with a total), the orders, the orders by category."""
    p = t.pgettext
    volunteers = _Section(
        p("month", "Volunteers"),
        [
            p("month", "Place"),
            p("month", "Name"),
            p("month", "Services"),
            p("month", "Time served"),
            p("month", "Minutes"),
            p("month", "Orders"),
            p("month", "Mean rating"),
        ],
        (False, False, True, True, True, True, True),
        [
            [
                v.place,
                v.name,
                v.services,
                t.minutes(v.credited_minutes),
                v.credited_minutes,
                v.orders,
                "" if v.mean_rating is None else str(v.mean_rating),
            ]
            for v in report.volunteers
        ],
        total=[
            "",
            p("month", "Total"),
            sum(v.services for v in report.volunteers),
            t.minutes(sum(v.credited_minutes for v in report.volunteers)),
            sum(v.credited_minutes for v in report.volunteers),
            sum(v.orders for v in report.volunteers),
            "",
        ],
        empty=p("month", "No volunteer was credited for a service this month."),
    )
    stats_header = [
        p("month", "Requested"),
        p("month", "Cancelled"),
        p("month", "Processed"),
        p("month", "Processing rate"),
        p("month", "Satisfaction rate"),
        p("month", "Time credited"),
    ]

    def figures(stats: OrderStats) -> list[PrintCell]:
        return [
            stats.requested,
            stats.cancelled,
            stats.processed,
            _rate(stats, "processing_rate"),
            _rate(stats, "satisfaction_rate"),
            t.minutes(stats.credited_minutes),
        ]

    orders = _Section(
        p("month", "Service orders requested this month"),
        stats_header,
        (True,) * 6,
        [figures(report.orders)],
    )
    categories = _Section(
        p("month", "Service orders by category"),
        [p("month", "Category"), *stats_header],
        (False, *(True,) * 6),
        [[t.name("category", s.category), *figures(s)] for s in report.by_category],
        empty=p("month", "No service order was requested this month."),
    )
    return [volunteers, orders, categories]


class _Section:
    """One table of the month's report."""

    def __init__(
        self,
        title: str,
        header: list[str],
        numeric: Sequence[bool],
        rows: list[list[PrintCell]],
        *,
        total: list[PrintCell] | None = None,
        empty: str = "",
    ) -> None:
        self.title = title
        self.header = header
        self.numeric = numeric
        self.rows = rows
        self.total = total if rows else None
        self.empty = empty


def _month_heading(t: Text, report: MonthReport) -> tuple[str, list[tuple[str, str]]]:
    p, zone = t.pgettext, ZoneInfo(report.zone)
    title = p("month", "Monthly report, {month}", month=_month_name(t, report.month))
    facts = [
        (p("passbook", "Programme"), _programme(t, report.programme_name, report.book_id)),
        (p("passbook", "Times in"), t.zone_name(zone)),
        (p("passbook", "Printed"), t.moment(report.generated_at, zone)),
    ]
    return title, facts


def _month_note(t: Text) -> str:
    return t.pgettext(
        "month",
        "A service counts in the month it was given, in local time; service orders count in"
        " the month they were requested.",
    )


def write_month_html(report: MonthReport, t: Text, out: IO[bytes]) -> None:
    """The month's report as one self-contained A4 HTML document (UTF-8)."""
    title, facts = _month_heading(t, report)
    parts = [_document_start(t, title), f"<header>\n<h1>{_e(title)}</h1>\n", _facts(facts)]
    parts.append(f'<p class="note">{_e(_month_note(t))}</p>\n</header>\n<main>\n')
    for section in _month_sections(t, report):
        parts.append(f"<section>\n<h2>{_e(section.title)}</h2>\n<table>\n")
        parts.append(_head_row(section.header, section.numeric))
        parts.append("<tbody>\n")
        for row in section.rows:
            parts.append(_html_row(row, section.numeric))
        if section.total is not None:
            parts.append(_html_row(section.total, section.numeric, css=' class="total"'))
        if not section.rows:
            parts.append(f'<tr><td colspan="{len(section.header)}">{_e(section.empty)}</td></tr>\n')
        parts.append("</tbody>\n</table>\n</section>\n")
    parts.append("</main>\n</body>\n</html>\n")
    out.write("".join(parts).encode("utf-8"))


def _html_row(row: Sequence[PrintCell], numeric: Sequence[bool], css: str = "") -> str:
    cells = "".join(
        f"<td{_NUM if is_num else ''}>{'' if value is None else _e(value)}</td>"
        for value, is_num in zip(row, numeric, strict=True)
    )
    return f"<tr{css}>{cells}</tr>\n"


def month_html(report: MonthReport, t: Text) -> bytes:
    buffer = io.BytesIO()
    write_month_html(report, t, buffer)
    return buffer.getvalue()


def _month_widths(sections: Sequence[_Section], columns: int) -> list[float]:
    widths = [float(WIDTH_MIN)] * columns
    for section in sections:
        rows: list[Sequence[PrintCell]] = [section.header, *section.rows]
        if section.total is not None:
            rows.append(section.total)
        for row in rows:
            for index, value in enumerate(row):
                shown = "" if value is None else str(value)
                widths[index] = max(widths[index], float(min(WIDTH_MAX, text_width(shown) + 2)))
    return widths


def write_month_xlsx(report: MonthReport, t: Text, out: IO[bytes]) -> None:
    """The month's report as one A4 sheet: a title, facts, then each table under its name."""
    title, facts = _month_heading(t, report)
    sections = _month_sections(t, report)
    columns = max(len(section.header) for section in sections)
    sheet = _Sheet(
        out, title=title, widths=_month_widths(sections, columns), header_row=None, font=_font(t)
    )
    sheet.row([title], TITLE)
    sheet.merge_row()
    for label, value in facts:
        sheet.row([_fact(t, label, value)])
        sheet.merge_row()
    sheet.row([_month_note(t)], WRAPPED)
    sheet.merge_row()
    for section in sections:
        sheet.row([])
        sheet.row([section.title], BOLD)
        sheet.row(section.header, HEADER)
        styles = [NUMBER if is_num else PLAIN for is_num in section.numeric]
        for row in section.rows:
            sheet.row(row, styles)
        if section.total is not None:
            sheet.row(section.total, BOLD)
        if not section.rows:
            sheet.row([section.empty])
    sheet.close()


def month_xlsx(report: MonthReport, t: Text) -> bytes:
    buffer = io.BytesIO()
    write_month_xlsx(report, t, buffer)
    return buffer.getvalue()
