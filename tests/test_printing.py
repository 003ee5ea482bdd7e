"""A passbook a senior can read, and a month's report, read back as a person reads them.

Each output (A4 HTML, XLSX, CSV) is parsed the way a reader meets it: the
names are there and no account or transaction id is; times are Beijing time;
minutes read as hours and minutes; the balance after each line runs in the
printed (service-date) order and ends at the ledger's balance. Through the
facade, the command line and the HTTP API, in Chinese and in English, on
SQLite, and once on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank import printing
from timebank.api import ApiSettings, create_app, issue_token
from timebank.bank import (
    ISSUANCE,
    SYSTEM,
    BankBook,
    TimeBank,
    member_account,
    passbook_print,
    sponsor_account,
)
from timebank.bank.commands import (
    AddSponsor,
    ConfirmCredit,
    CreditService,
    Give,
    Grant,
    RegisterMember,
    Relate,
)
from timebank.cli import main
from timebank.community import (
    CreditStatus,
    Provenance,
    RelationKind,
    ReportPeriodInvalid,
    Role,
    Vetting,
)
from timebank.demo import seed_demo
from timebank.i18n import catalog, text
from timebank.ledger import ManualClock, Transfer, credit, debit

BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING)
SECRET = "printing-tests-" + "p" * 32
DEMO_IDS = ("li-na", "wu-shuzhen", "chen-xiulan", "zhang-wei", "jinling-bank", "o-closed")
"""Member, sponsor and order ids of the demo book: none may show on paper."""
LEDGER_WORDS = ("m.", ".gifted", ".group", "issuance", "sponsor.", "served.", "confirm.")
LEDGER_WORDS += ("event.", "gift.", "credit.", "wish.", "Z", "+00:00")
"""Account and transaction ids, and UTC times, as the ledger writes them."""


def local(text_: str) -> datetime:
    """``2026-12-01 01:00`` in Beijing."""
    return datetime.strptime(text_, "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)


def assert_no_ids(shown: str) -> None:
    for word in (*DEMO_IDS, *LEDGER_WORDS):
        assert word not in shown, f"{word!r} shows on paper"


class Page(HTMLParser):
    """An HTML page as a reader meets it: its words, its language, its style, its tables."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.lang = ""
        self.words: list[str] = []
        self.style = ""
        self.header_cells: list[str] = []
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self._in: list[str] = []
        self.feed(data.decode("utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in.append(tag)
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""
        if tag == "tr" and "tbody" in self._in:
            self.rows.append([])
        if tag == "td" and self.rows and "tbody" in self._in:
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if "style" in self._in:
            self.style += data
            return
        self.words.append(data)
        if "th" in self._in and "thead" in self._in:
            self.header_cells.append(data)
        elif "td" in self._in and "tbody" in self._in and self.rows:
            self.rows[-1][-1] += data

    @property
    def text(self) -> str:
        return " ".join(self.words)


def sheet_of(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data)).active


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "no byte-order mark: Excel would garble Chinese"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- a small book, on a clock we set ---------------------------------------------------------


class Sunflower:
    """Book ``sunflower``: Li Na serves Chen Xiulan and gives minutes to her mother Wu Shuzhen.

    In ledger order: a service served on 24 November; one served at 01:00 Beijing
    on 1 December (17:00 UTC on 30 November); one served on 29 November but
    recorded on 2 December (a late paper record, so printed before the one of the
    1st); a gift of 30 minutes to her mother.
    """

    def __init__(self, bank: TimeBank, clock: ManualClock) -> None:
        self.bank = bank
        self.clock = clock
        self.book = bank.create_book("sunflower", "nanjing")
        people = (
            ("wang", "王芳", date(1980, 4, 1), {Role.COORDINATOR}),
            ("li", "李娜", date(1958, 3, 2), {Role.VOLUNTEER}),
            ("chen", "陈秀兰", date(1938, 6, 6), {Role.RECIPIENT}),
            ("wu", "吴淑珍", date(1936, 1, 8), {Role.RECIPIENT}),
        )
        for member_id, name, born, roles in people:
            self.book.members.register(
                RegisterMember(
                    member_id=member_id,
                    name=name,
                    birth_date=born,
                    community="ninghai",
                    roles=roles,
                    vetting=Vetting.STREET if Role.VOLUNTEER in roles else Vetting.PENDING,
                ),
                actor=SYSTEM,
            )
        self.book.members.relate(
            Relate(member_id="li", other_id="wu", kind=RelationKind.PARENT), actor="wang"
        )
        self.minutes = [self.serve(local("2026-11-24 15:00"), 60)]
        clock.advance(local("2026-12-02 10:00") - clock.now())
        self.minutes.append(self.serve(local("2026-12-01 01:00"), 90))
        self.minutes.append(self.serve(local("2026-11-29 09:00"), 120))
        self.book.gifts.give(Give(giver_id="li", receiver_id="wu", minutes=30), actor="li")

    def serve(self, served_at: datetime, minutes: int) -> int:
        record = self.book.credits.record(
            CreditService(
                provider_id="li",
                recipient_id="chen",
                category="meals",
                raw_minutes=minutes,
                served_at=served_at,
                provenance=Provenance.ORGANISATION_CONFIRMATION,
            ),
            actor="wang",
        )
        if record.status is CreditStatus.PENDING:
            record = self.book.credits.confirm(
                ConfirmCredit(credit_id=record.credit_id), actor="chen"
            )
        return record.credited_minutes


@pytest.fixture
def sunflower(tmp_path: Path) -> Iterator[Sunflower]:
    clock = ManualClock(START, tick=timedelta(seconds=1))
    with TimeBank.open(sqlite_path(tmp_path), clock=clock) as bank:
        yield Sunflower(bank, clock)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo community in a SQLite file (book ``demo``); tests must not change it."""
    path = str(tmp_path_factory.mktemp("printing") / "demo.db")
    with TimeBank.open(path) as bank:
        seed_demo(bank)
    return path


# --- the facade: lines, dates and the running balance ------------------------------------------


def test_lines_are_in_service_date_order_with_the_balance_running_in_that_order(
    sunflower: Sunflower,
) -> None:
    """A service recorded late prints where it was served; each balance is the one after its
    line in that order, and the last is the member's balance in the ledger."""
    a, b, c = sunflower.minutes
    printed = sunflower.book.statements.printable("li", actor="li")
    lines = list(printed.lines())
    assert [line.served_at.astimezone(BEIJING) for line in lines[:3]] == [
        local("2026-11-24 15:00"),
        local("2026-11-29 09:00"),
        local("2026-12-01 01:00"),
    ]
    assert [line.kind for line in lines] == ["service", "service", "service", "gift"]
    assert [line.delta_minutes for line in lines] == [a, c, b, -30]
    assert [line.balance_minutes for line in lines] == list(itertools.accumulate([a, c, b, -30]))
    balance = sunflower.book.statements.balance("li").total_minutes
    assert printed.opening_balance_minutes == 0
    assert printed.closing_balance_minutes == lines[-1].balance_minutes == balance
    assert (lines[0].party, lines[0].counterparty_account) == ("陈秀兰", ISSUANCE)
    assert (lines[-1].party, lines[-1].relation, lines[-1].counterparty) == (
        "吴淑珍",
        "parent",
        "吴淑珍",
    )


def test_a_period_is_of_service_dates_and_opens_with_what_was_served_before_it(
    sunflower: Sunflower,
) -> None:
    """December opens with November's services, the late one included though it was recorded
    in December; it closes at the ledger's balance. November closes where December opens."""
    a, b, c = sunflower.minutes
    book = sunflower.book
    december = book.statements.printable("li", since=date(2026, 12, 1), until=date(2026, 12, 31))
    assert december.opening_balance_minutes == a + c
    assert [line.delta_minutes for line in december.lines()] == [b, -30]
    assert december.closing_balance_minutes == book.statements.balance("li").total_minutes
    november = book.statements.printable("li", since=date(2026, 11, 1), until=date(2026, 11, 30))
    assert [line.delta_minutes for line in november.lines()] == [a, c]
    assert november.closing_balance_minutes == december.opening_balance_minutes
    with pytest.raises(ReportPeriodInvalid):
        book.statements.printable("li", since=date(2026, 12, 2), until=date(2026, 12, 1))


def test_whoever_may_read_the_passbook_may_print_it_and_no_one_else(sunflower: Sunflower) -> None:
    book = sunflower.book
    assert len(book.statements.printable("li", actor="li")) == 4
    assert len(book.statements.printable("li", actor="wang")) == 4
    with pytest.raises(Exception, match="no member 'li'"):
        book.statements.printable("li", actor="chen")


def test_a_printed_passbook_has_a_limit_on_its_lines(
    sunflower: Sunflower, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passbook_print, "PRINT_LINES_MAX", 2)
    with pytest.raises(ReportPeriodInvalid, match="shorter period"):
        sunflower.book.statements.printable("li")


# --- the outputs, read as a person reads them -------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_xlsx_names_the_member_and_zone_and_fits_a4(sunflower: Sunflower, lang: str) -> None:
    t = text(lang)
    printed = sunflower.book.statements.printable("li")
    sheet = sheet_of(printing.passbook_xlsx(printed, t))
    rows = list(sheet.iter_rows(values_only=True))
    title = rows[0][0]
    assert "李娜" in title
    assert "Asia/Shanghai" in title
    assert ("北京时间" if lang == "zh" else "Times in") in title
    assert sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.page_setup.orientation == "portrait"
    assert (sheet.page_setup.fitToWidth, sheet.sheet_properties.pageSetUpPr.fitToPage) == (1, True)
    header, lines = rows[2], rows[3:]
    assert header[:3] == (
        ("日期", "摘要", "对方") if lang == "zh" else ("Date", "What happened", "With")
    )
    when = [line[0] for line in lines]
    assert when[2] == datetime(2026, 12, 1, 1, 0)  # 01:00 Beijing on the 1st, not 17:00 UTC
    a, b, c = sunflower.minutes
    assert [line[6] or -(line[7] or 0) for line in lines] == [a, c, b, -30]
    assert [line[8] for line in lines] == list(itertools.accumulate([a, c, b, -30]))
    hours = "1小时30分" if lang == "zh" else "1 h 30 min"
    assert lines[2][3] == (hours if b == 90 else t.minutes(b))
    assert lines[3][4] == t.minutes(30)
    assert lines[3][5] == t.minutes(a + c + b - 30)
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
    assert set(widths) == set("ABCDEFGHI")
    longest = max(printing.text_width(line[1]) for line in lines)
    assert widths["B"] >= min(longest, printing.WIDTH_MAX)  # CJK characters count two
    assert widths["A"] >= len("2026-12-01 01:00")
    assert_no_ids(" ".join(str(cell) for row in rows for cell in row if cell is not None))


def test_cjk_characters_count_double_width() -> None:
    assert printing.text_width("李娜 ab") == 7
    assert printing.text_width("\uff26") == 2  # a full-width F


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_csv_names_the_zone_first_and_reads_as_utf8(sunflower: Sunflower, lang: str) -> None:
    t = text(lang)
    rows = csv_rows(printing.passbook_csv(sunflower.book.statements.printable("li"), t))
    assert "李娜" in rows[0][0]
    assert "Asia/Shanghai" in rows[0][0]
    assert len(rows[2]) == 9
    lines = rows[3:]
    assert [line[0] for line in lines][2] == "2026-12-01 01:00"
    assert lines[3][1] == ("赠与父母 吴淑珍" if lang == "zh" else "Gift to 吴淑珍 (Parent)")
    assert lines[0][1] == (
        "服务：助餐，服务对象 陈秀兰" if lang == "zh" else "Service: Meals for 陈秀兰"  # noqa: RUF001
    )
    assert lines[0][2] == ("时间银行" if lang == "zh" else "Time bank")
    assert lines[-1][8] == str(sunflower.book.statements.balance("li").total_minutes)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_html_is_a_self_contained_a4_page(sunflower: Sunflower, lang: str) -> None:
    t = text(lang)
    page = Page(printing.passbook_html(sunflower.book.statements.printable("li"), t))
    assert page.lang == ("zh-CN" if lang == "zh" else "en")
    assert "@page { size: A4" in page.style
    assert "thead { display: table-header-group; }" in page.style
    assert "html { font-size: 14pt; }" in page.style
    assert "@media print" in page.style
    assert not {"script", "link", "img", "iframe"} & set(page.tags)
    assert page.header_cells == (
        ["日期", "摘要", "对方", "存入", "支出", "余额"]
        if lang == "zh"
        else ["Date", "What happened", "With", "In", "Out", "Balance"]
    )
    assert [row[0] for row in page.rows][2] == "2026-12-01 01:00"
    shown = page.text
    programme = "南京市时间银行" if lang == "zh" else "Nanjing time bank"
    for words in ("李娜", "陈秀兰", "吴淑珍", programme, "Asia/Shanghai", t.minutes(30)):
        assert words in shown
    assert t.minutes(sunflower.book.statements.balance("li").total_minutes) in page.rows[-1][5]
    assert_no_ids(shown)


def test_every_value_is_escaped_and_no_formula_runs(sunflower: Sunflower) -> None:
    """A name like a tag shows as text in HTML; a name like a formula starts with a ' in a
    spreadsheet's cell, and stays text."""
    book, clock = sunflower.book, sunflower.clock
    book.members.register(
        RegisterMember(
            member_id="tag",
            name="<script>alert(1)</script>",
            birth_date=date(1930, 1, 1),
            community="ninghai",
            roles={Role.RECIPIENT},
        ),
        actor=SYSTEM,
    )
    clock.advance(timedelta(minutes=5))
    book.credits.record(
        CreditService(
            provider_id="li",
            recipient_id="tag",
            category="meals",
            raw_minutes=60,
            served_at=clock.now() - timedelta(minutes=1),
            provenance=Provenance.ORGANISATION_CONFIRMATION,
        ),
        actor="wang",
    )
    formula = '=HYPERLINK("http://x","y")'
    book.programme.add_sponsor(AddSponsor(sponsor_id="x", name=formula), actor=SYSTEM)
    book.gifts.grant(
        Grant(member_id="li", minutes=60, reason="-1+1", source=sponsor_account("x")),
        actor="wang",
    )
    printed = book.statements.printable("li", since=date(2026, 12, 2))
    t = text("en")
    html = printing.passbook_html(printed, t)
    assert b"<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.decode()
    page = Page(html)
    assert any("<script>alert(1)</script>" in row[1] for row in page.rows)
    assert "'" + formula in [row[2] for row in page.rows]
    rows = csv_rows(printing.passbook_csv(printed, t))
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert "'" + formula in [row[2] for row in rows[3:]]
    cells = [
        cell
        for row in sheet_of(printing.passbook_xlsx(printed, t)).iter_rows()
        for cell in row
        if cell.value is not None
    ]
    assert not any(cell.data_type == "f" for cell in cells)
    assert [cell.data_type for cell in cells if cell.value == "'" + formula] == ["s"]
    assert "Grant: -1+1" in [cell.value for cell in cells]


def test_the_demo_passbooks_read_in_words(demo_db: str) -> None:
    """Orders, events, wishes, gifts and grants in words, with names and titles."""
    t = text("zh")
    with TimeBank.open(demo_db) as bank:
        book = bank.book("demo")
        shown = {
            member_id: Page(printing.passbook_html(book.statements.printable(member_id), t))
            for member_id in ("li-na", "zhao-min", "wu-shuzhen", "chen-xiulan", "zhang-wei")
        }
    what = {member_id: [row[1] for row in page.rows] for member_id, page in shown.items()}
    assert what["li-na"][0].startswith("工单服务：")  # noqa: RUF001
    assert what["li-na"][0].endswith("服务对象 陈秀兰")
    assert "活动：重阳节敬老活动" in what["li-na"]  # noqa: RUF001
    assert "赠与父母 吴淑珍" in what["li-na"]
    assert "微心愿「想要一副老花镜」，心愿人 吴淑珍" in what["zhao-min"]  # noqa: RUF001
    assert what["wu-shuzhen"] == ["受赠：来自子女 李娜"]  # noqa: RUF001
    assert what["chen-xiulan"] == ["资助：独居老人 企业资助"]  # noqa: RUF001
    assert [row[2] for row in shown["chen-xiulan"].rows] == ["金陵银行"]
    assert what["zhang-wei"][0].endswith("服务对象 孙建国")  # confirmed later: the service date
    for page in shown.values():
        assert_no_ids(page.text)


def test_every_sentence_on_paper_has_a_chinese_translation() -> None:
    """The passbook's and the month's words, and the names of the programme's accounts."""
    import ast

    source = Path(printing.__file__).read_text()
    said: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        if getattr(node.func, "attr", None) == "pgettext" or getattr(node.func, "id", "") == "p":
            context, message = node.args[:2]
            if isinstance(context, ast.Constant) and isinstance(message, ast.Constant):
                said.add((context.value, message.value))
    for wordings in printing._WORDING.values():
        said.update(("passbook", wording) for wording in wordings if wording)
    chinese = catalog("zh")
    assert len(said) > 60
    assert sorted(m for m in said if m not in chinese) == []
    for account in ("pool", "issuance", "guarantee"):
        assert ("account", account) in chinese
        assert ("account", account) in catalog("en")


# --- reading the journal instead of the entries gives the same lines ---------------------------


def dense_book(bank: TimeBank) -> BankBook:
    """Li Na's 300 services, then 300 of Zhang Wei's, then 300 more of hers (one unit each)."""
    book = bank.create_book("dense", "nanjing")
    for member_id, name in (("li", "李娜"), ("zhang", "张伟"), ("chen", "陈秀兰")):
        book.members.register(
            RegisterMember(
                member_id=member_id,
                name=name,
                birth_date=date(1950, 1, 1),
                community="ninghai",
                roles={Role.VOLUNTEER, Role.RECIPIENT},
            ),
            actor=SYSTEM,
        )
    clock = bank.clock
    for stretch, member_id in enumerate(("li", "zhang", "li")):
        requests = []
        for number in range(300):
            now = clock.now()
            requests.append(
                Transfer(
                    transaction_id=f"{member_id}-{stretch}-{number}",
                    postings=(debit(ISSUANCE, 30), credit(member_account(member_id), 30)),
                    code="service",
                    metadata={
                        "kind": "service",
                        "category": "meals",
                        "provider": member_id,
                        "recipient": "chen",
                    },
                    effective_at=now - timedelta(minutes=(number * 7) % 100),
                )
            )
        book.ledger_book.submit_many(requests)
    return book


def test_the_journal_fast_path_prints_what_the_entries_print(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member the book is mostly about is read off the journal, and back off her entries
    where someone else fills it; the lines are the same as reading her entries alone."""
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC), tick=timedelta(seconds=7))
    with TimeBank.open(sqlite_path(tmp_path), clock=clock) as bank:
        book = dense_book(bank)
        monkeypatch.setattr(passbook_print, "ENTRY_CHUNK", 64)
        monkeypatch.setattr(passbook_print, "JOURNAL_CHUNK", 50)
        monkeypatch.setattr(passbook_print, "DENSE_ENTRIES_MIN", 32)
        read = passbook_print._journal_stretch
        stretches: list[int] = []

        def counted(*args: Any) -> Any:
            stretches.append(args[-1])
            return (yield from read(*args))

        monkeypatch.setattr(passbook_print, "_journal_stretch", counted)
        fast = list(book.statements.printable("li").lines())
        assert len(stretches) == 2  # her first 300, and her last 300
        monkeypatch.setattr(passbook_print, "DENSE_ENTRIES_MIN", 10**9)
        slow = list(book.statements.printable("li").lines())
        assert fast == slow
        assert len(fast) == 600
        assert fast[-1].balance_minutes == book.statements.balance("li").total_minutes
        assert {line.party for line in fast} == {"陈秀兰"}


def test_service_times_read_in_one_scan_give_the_same_lines(
    demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Confirmed credits and orders are dated by their credit records: read by id, or (when
    most of a member's are wanted) in one scan of them, the lines are the same."""
    with TimeBank.open(demo_db) as bank:
        book = bank.book("demo")
        members = ("li-na", "zhang-wei", "zhao-min")
        one_by_one = [list(book.statements.printable(m).lines()) for m in members]
        monkeypatch.setattr(passbook_print, "SCAN_WHEN_WANTED", (0, 1))
        scanned = [list(book.statements.printable(m).lines()) for m in members]
    assert scanned == one_by_one
    assert {line.kind for lines in scanned for line in lines} >= {"order", "service", "wish"}


# --- the month's report -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_month_counts_the_service_at_one_in_the_morning_of_the_first(
    sunflower: Sunflower, lang: str
) -> None:
    """Months are local: 01:00 Beijing on 1 December (30 November in UTC) is December's."""
    t = text(lang)
    a, b, c = sunflower.minutes
    december = printing.month_report(sunflower.book, "2026-12", actor="wang")
    november = printing.month_report(sunflower.book, "2026-11", actor="wang")
    assert [(v.name, v.services, v.credited_minutes) for v in december.volunteers] == [
        ("李娜", 1, b)
    ]
    assert [(v.name, v.services, v.credited_minutes) for v in november.volunteers] == [
        ("李娜", 2, a + c)
    ]
    page = Page(printing.month_html(december, t))
    assert page.lang == ("zh-CN" if lang == "zh" else "en")
    assert "@page { size: A4" in page.style
    assert ("2026年12月月度报表" if lang == "zh" else "Monthly report, 2026-12") in page.text
    volunteers = page.rows[: len(december.volunteers) + 1]
    assert volunteers[0][1:4] == ["李娜", "1", t.minutes(b)]
    assert volunteers[-1][1:3] == [t.pgettext("month", "Total"), "1"]
    sheet = sheet_of(printing.month_xlsx(december, t))
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.page_setup.paperSize == 9  # A4
    assert "Asia/Shanghai" in " ".join(str(row[0]) for row in rows[:4])
    named = [row for row in rows if row[1] == "李娜"]
    assert named == [(1, "李娜", 1, t.minutes(b), b, 0, None)]
    assert {key for key, dim in sheet.column_dimensions.items() if dim.width} >= set("ABCDEFG")


def test_only_staff_read_the_months_report(sunflower: Sunflower) -> None:
    with pytest.raises(Exception, match="read reports"):
        printing.month_report(sunflower.book, "2026-12", actor="li")


# --- the command line ------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    """The command as a coordinator runs it on a machine whose locale names no language."""
    quiet = {"TIMEBANK_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}
    result = CliRunner(env=quiet).invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def sunflower_db(tmp_path: Path) -> str:
    """Book ``sunflower`` in a SQLite file, for the command line."""
    path = str(tmp_path / "sunflower.db")
    clock = ManualClock(START, tick=timedelta(seconds=1))
    with TimeBank.open(path, clock=clock) as bank:
        Sunflower(bank, clock)
    return path


@pytest.mark.parametrize(("lang", "fmt"), [("zh", "html"), ("en", "xlsx"), ("zh", "csv")])
def test_export_passbook_writes_the_printed_passbook(
    sunflower_db: str, tmp_path: Path, lang: str, fmt: str
) -> None:
    out = tmp_path / f"li.{fmt}"
    code, output = run(
        *("--lang", lang, "export", "passbook", "--book", "sunflower", "--member", "li"),
        *("--database", sunflower_db, "--format", fmt, "--out", str(out)),
        *("--from", "2026-12-01", "--to", "2026-12-31"),
    )
    assert code == 0, output
    assert str(out) in output
    data = out.read_bytes()
    if fmt == "html":
        page = Page(data)
        assert page.lang == "zh-CN"
        assert [row[0] for row in page.rows] == ["2026-12-01 01:00", page.rows[1][0]]
        assert "期初余额" in page.text
        assert_no_ids(page.text)
    elif fmt == "xlsx":
        rows = list(sheet_of(data).iter_rows(values_only=True))
        assert rows[0][0].startswith("Passbook of 李娜 · 2026-12-01 to 2026-12-31")
        assert rows[3][0] == datetime(2026, 12, 1, 1, 0)
    else:
        rows = csv_rows(data)
        assert rows[0][0].startswith("李娜的时间存折 · 2026-12-01 至 2026-12-31")
        assert rows[3][0] == "2026-12-01 01:00"


def test_export_passbook_keeps_the_ledger_columns_on_request(
    sunflower_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "li.csv"
    args = ("export", "passbook", "--book", "sunflower", "--member", "li")
    code, output = run(*args, "--database", sunflower_db, "--ledger", "--out", str(out))
    assert code == 0, output
    header = out.read_bytes().decode("utf-8-sig").splitlines()[0]
    assert header.startswith("序号,记账时间 (北京时间),账户,")  # the ledger's lines, in Chinese
    assert "m.li" in out.read_text(encoding="utf-8-sig")  # with the ledger's account ids
    code, output = run(
        *args, "--database", sunflower_db, "--ledger", "--format", "html", "--out", str(out)
    )
    assert code == 2


@pytest.mark.parametrize("fmt", ["html", "xlsx"])
def test_export_month_writes_the_months_report(sunflower_db: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"month.{fmt}"
    code, output = run(
        *("--lang", "zh", "export", "month", "--book", "sunflower", "--month", "2026-12"),
        *("--database", sunflower_db, "--format", fmt, "--out", str(out)),
    )
    assert code == 0, output
    if fmt == "html":
        page = Page(out.read_bytes())
        assert "2026年12月月度报表" in page.text
        assert page.rows[0][1:3] == ["李娜", "1"]
    else:
        rows = list(sheet_of(out.read_bytes()).iter_rows(values_only=True))
        assert any(row[1] == "李娜" and row[2] == 1 for row in rows)
    code, output = run(
        *("export", "month", "--book", "sunflower", "--month", "2026-13", "--format", fmt),
        *("--database", sunflower_db, "--out", str(out)),
    )
    assert code == 1


# --- the HTTP API -----------------------------------------------------------------------------


@pytest.fixture
def api(demo_db: str, tmp_path: Path) -> Iterator[TestClient[Any]]:
    import shutil

    path = str(tmp_path / "demo.db")
    shutil.copyfile(demo_db, path)
    with TimeBank.open(path) as bank:
        app = create_app(bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
        with TestClient(app) as client:
            yield client


def as_(member_id: str, role: str = "member", lang: str = "zh-CN,zh;q=0.9") -> dict[str, str]:
    token = issue_token(SECRET, subject=member_id, role=role, book="demo")
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def test_the_passbook_page_over_http_in_the_readers_language(api: TestClient[Any]) -> None:
    path = "/books/demo/members/chen-xiulan/passbook.html"
    for reader, role in (
        ("chen-xiulan", "member"),
        ("huang-lei", "member"),
        ("wang-fang", "coordinator"),
    ):
        answer = api.get(path, headers=as_(reader, role))
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        page = Page(answer.content)
        assert page.lang == "zh-CN"
        assert "陈秀兰的时间存折" in page.text
        assert page.rows[0][2] == "金陵银行"
        assert_no_ids(page.text)
    english = Page(api.get(path, headers=as_("huang-lei", lang="en-GB")).content)
    assert (english.lang, "Passbook of 陈秀兰" in english.text) == ("en", True)
    assert api.get(path, headers=as_("li-na")).status_code == 404  # not hers to see
    after = api.get(path + "?since=2099-01-01", headers=as_("chen-xiulan"))
    assert "本期没有记录。" in Page(after.content).text
    wrong = api.get(path + "?since=2026-12-02&until=2026-12-01", headers=as_("chen-xiulan"))
    assert wrong.status_code == 422


def test_the_months_report_over_http(api: TestClient[Any]) -> None:
    month = datetime.now(BEIJING).strftime("%Y-%m")
    coordinator = as_("wang-fang", "coordinator")
    page = api.get(f"/books/demo/reports/month.html?month={month}", headers=coordinator)
    assert page.status_code == 200, page.text
    assert "月度报表" in Page(page.content).text
    sheet = api.get(f"/books/demo/reports/month.xlsx?month={month}", headers=coordinator)
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-disposition"].startswith("attachment;")
    assert sheet_of(sheet.content).page_setup.paperSize == 9
    refused = api.get(f"/books/demo/reports/month.html?month={month}", headers=as_("li-na"))
    assert refused.status_code == 403


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(postgres_base_url() is None, reason="needs TIMEBANK_TEST_POSTGRES_URL")
def test_printing_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same passbook on PostgreSQL: local dates, the running balance, the fast path."""
    clock = ManualClock(START, tick=timedelta(seconds=1))
    with postgres_schema() as (url, _schema), TimeBank.open(url, clock=clock) as bank:
        sunflower = Sunflower(bank, clock)
        a, _, c = sunflower.minutes
        printed = sunflower.book.statements.printable("li", since=date(2026, 12, 1))
        assert printed.opening_balance_minutes == a + c
        rows = list(
            sheet_of(printing.passbook_xlsx(printed, text("zh"))).iter_rows(values_only=True)
        )
        assert rows[3][0] == datetime(2026, 12, 1, 1, 0)
        assert rows[-1][8] == sunflower.book.statements.balance("li").total_minutes
        book = dense_book(bank)
        monkeypatch.setattr(passbook_print, "DENSE_ENTRIES_MIN", 32)
        fast = list(book.statements.printable("li").lines())
        monkeypatch.setattr(passbook_print, "DENSE_ENTRIES_MIN", 10**9)
        assert fast == list(book.statements.printable("li").lines())
