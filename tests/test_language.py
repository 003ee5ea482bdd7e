"""What a coordinator reads is in their language and their book's time.

In Chinese (``--lang zh``, ``Accept-Language: zh-CN``), the reports the command
line prints and writes (CSV and XLSX) and the API's downloads carry no English
phrase: headers, titles, codes (a category, a level, a status) are named from the
catalogs, and only data (ids, names, community codes) stays as it was entered.
Every time a person reads is local to the book, one convention per column, with
the zone named in the column's header; a service at 01:00 Beijing time on the
1st belongs to that day and that month. A book keeps the zone it was created in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from tests.human import has_chinese, untranslated
from timebank.api import ApiSettings, create_app, issue_token
from timebank.bank import SYSTEM, TimeBank
from timebank.bank.commands import ConfirmCredit, CreditService, RegisterMember
from timebank.cli import REPORTS, main
from timebank.community import Provenance, Role, TimeZoneUnknown, Vetting
from timebank.demo import DEMO_BOOK, seed_demo
from timebank.ledger import ManualClock

SECRET = "language-tests-" + "l" * 32
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("language") / "demo.db")
    with TimeBank.open(path) as bank:
        seed_demo(bank)
    return path


@pytest.fixture(scope="module")
def data(demo_db: str) -> set[str]:
    """What the demo's people entered (ids, names, places, titles): shown as it is."""
    with TimeBank.open(demo_db, create=False) as bank:
        book = bank.book(DEMO_BOOK)
        members = book.members.list(limit=500)
        values = {DEMO_BOOK, "nanjing"}
        for member in members:
            values |= {member.member_id, member.name, member.community, member.grid}
        for wish in book.wishes.list():
            values |= {wish.wish_id, wish.title}
    return {value for value in values if value}


def zh(*args: str) -> str:
    result = CliRunner().invoke(main, ["--lang", "zh", *args])
    assert result.exit_code == 0, result.output
    return result.output


def cells_of_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def cells_of_xlsx(content: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def english_in(rows: list[list[Any]], data: set[str]) -> list[str]:
    found: list[str] = []
    for row in rows:
        for cell in row:
            if isinstance(cell, str):
                found += untranslated(cell, data)
    return found


OPTIONS = {"board": ["--month", NOW.strftime("%Y-%m")], "inactive": ["--days", "1"]}


@pytest.mark.parametrize("name", REPORTS)
def test_a_report_printed_in_chinese_has_no_english(
    name: str, demo_db: str, data: set[str]
) -> None:
    shown = zh("report", name, "--book", DEMO_BOOK, "--database", demo_db, *OPTIONS.get(name, []))
    assert has_chinese(shown)
    assert untranslated(shown, data) == []


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_report_written_in_chinese_has_chinese_headers_and_names(
    name: str, fmt: str, demo_db: str, data: set[str], tmp_path: Path
) -> None:
    out = tmp_path / f"{name}.{fmt}"
    said = zh(
        *("export", "report", name, "--book", DEMO_BOOK, "--database", demo_db),
        *OPTIONS.get(name, []),
        *("--format", fmt, "--out", str(out)),
    )
    assert untranslated(said, {*data, str(out)}) == []
    rows = cells_of_csv(out.read_bytes()) if fmt == "csv" else cells_of_xlsx(out.read_bytes())
    assert all(has_chinese(str(header)) for header in rows[0]), rows[0]
    assert english_in(rows, data) == []


def test_the_orders_report_names_its_levels_and_categories(demo_db: str, tmp_path: Path) -> None:
    out = tmp_path / "orders.csv"
    zh("export", "report", "orders", "--book", DEMO_BOOK, "--database", demo_db, "--out", str(out))
    rows = cells_of_csv(out.read_bytes())
    assert rows[0][:4] == ["层级", "月份", "服务类别", "网格"]
    assert rows[1][0] == "合计"
    assert {row[0] for row in rows[1:]} <= {"合计", "按月", "按类别", "按网格", "明细"}


def test_verify_and_backup_speak_chinese(demo_db: str, tmp_path: Path) -> None:
    said = zh("verify", "--database", demo_db)
    assert said.startswith(f"{DEMO_BOOK}: 核对无误")
    copy = tmp_path / "copy.db"
    said = zh("backup", "--database", demo_db, str(copy))
    assert f"备份 {copy} 已完成" in said
    assert untranslated(said, {DEMO_BOOK, str(copy)}) == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "C.UTF-8"}, "微心愿认领情况"),
        ({"LANG": "zh_CN.UTF-8"}, "微心愿认领情况"),
        ({"LANG": "en_US.UTF-8"}, "Micro-wishes"),
        ({"LANG": "en_US.UTF-8", "TIMEBANK_LANG": "zh"}, "微心愿认领情况"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "Micro-wishes"),
    ],
)
def test_the_command_line_speaks_the_locales_language_and_else_chinese(
    env: dict[str, str], expected: str, demo_db: str
) -> None:
    unset = {"LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "TIMEBANK_LANG": None}
    result = CliRunner(env={**unset, **env}).invoke(
        main, ["report", "wishes", "--book", DEMO_BOOK, "--database", demo_db]
    )
    assert expected in result.output


def test_an_error_on_the_command_line_is_in_chinese(demo_db: str) -> None:
    result = CliRunner().invoke(
        main, ["--lang", "zh", "report", "orders", "--book", "nowhere", "--database", demo_db]
    )
    assert result.exit_code == 1
    assert "出错了: 账簿 “nowhere” 不存在" in result.output


# --- the book's time --------------------------------------------------------------------------


def served_at_one_on_the_first(bank: TimeBank, book_id: str, zone: str, served: datetime) -> None:
    """A volunteer's visit at ``served`` (local time), recorded on paper."""
    book = bank.create_book(book_id, "timeoverflow", timezone=zone)
    for member_id, name in (("li", "李娜"), ("chen", "陈秀兰")):
        book.members.register(
            RegisterMember(
                member_id=member_id,
                name=name,
                birth_date=date(1950, 1, 1),
                community="ninghai",
                roles=frozenset({Role.VOLUNTEER, Role.RECIPIENT}),
                vetting=Vetting.STREET,
            ),
            actor=SYSTEM,
        )
    local = served.replace(tzinfo=book.zone)
    book.credits.record(
        CreditService(
            request_id="visit",
            provider_id="li",
            recipient_id="chen",
            category="companionship",
            raw_minutes=90,
            served_at=local,
            provenance=Provenance.PAPER_RECORD,
        ),
        actor=SYSTEM,
    )
    book.credits.confirm(ConfirmCredit(credit_id="visit"), actor="chen")


@pytest.fixture
def night_bank(tmp_path: Path) -> Iterator[tuple[TimeBank, str]]:
    path = str(tmp_path / "night.db")
    # Recorded at 01:05 Beijing time on the 1st: 17:05 UTC on 30 November.
    clock = ManualClock(datetime(2026, 11, 30, 17, 5, tzinfo=UTC))
    with TimeBank.open(path, clock=clock) as bank:
        served_at_one_on_the_first(bank, "beijing", "Asia/Shanghai", datetime(2026, 12, 1, 1, 0))
        served_at_one_on_the_first(bank, "london", "Europe/London", datetime(2026, 11, 30, 9, 0))
        yield bank, path


def test_a_passbook_file_shows_local_time_and_names_the_zone(
    night_bank: tuple[TimeBank, str], tmp_path: Path
) -> None:
    _, path = night_bank
    out = tmp_path / "li.csv"
    zh(*("export", "passbook", "--book", "beijing", "--member", "li", "--database", path),
       *("--out", str(out)))  # fmt: skip
    text = out.read_bytes().decode("utf-8-sig")
    assert "北京时间" in text
    assert "2026-12-01 01:0" in text
    assert "2026-11-30" not in text
    assert "T17:" not in text
    assert "+00:00" not in text


def test_a_book_keeps_its_own_zone(night_bank: tuple[TimeBank, str]) -> None:
    bank, path = night_bank
    assert bank.book("beijing").zone.key == "Asia/Shanghai"
    with TimeBank.open(path, create=False) as again:  # read back from the database
        assert again.book("london").zone.key == "Europe/London"
        assert again.book("beijing").zone.key == "Asia/Shanghai"
    with pytest.raises(TimeZoneUnknown):
        bank.create_book("mars", "timeoverflow", timezone="Mars/Olympus_Mons")
    assert "mars" not in bank.book_ids()


def test_the_api_downloads_a_report_in_chinese_and_local_time(
    night_bank: tuple[TimeBank, str],
) -> None:
    bank, _ = night_bank
    app = create_app(bank, ApiSettings(token_secret=SECRET))
    token = issue_token(SECRET, subject="ops", role="admin", book="*")
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
    with TestClient(app) as client:
        got = client.get("/books/beijing/members/li/passbook.csv", headers=headers)
        assert got.status_code == 200, got.text
        rows = cells_of_csv(got.content)
        assert all(has_chinese(header) for header in rows[0])
        text = got.content.decode("utf-8-sig")
        assert "2026-12-01 01:0" in text
        assert "北京时间" in text
        english = client.get(
            "/books/london/members/li/passbook.csv",
            headers={"Authorization": headers["Authorization"]},
        ).content.decode("utf-8-sig")
        assert "Europe/London" in english
        assert "2026-11-30 17:05" in english  # recorded at 17:05 UTC, London's time in winter
        created = client.post(
            "/books",
            json={"book_id": "wuxi", "preset": "nanjing", "timezone": "Mars/Base"},
            headers=headers,
        )
        assert created.status_code == 422
        assert created.json()["detail"] == "“Mars/Base” 不是有效的时区 (例如 Asia/Shanghai)"
        created = client.post(
            "/books", json={"book_id": "wuxi", "preset": "nanjing"}, headers=headers
        )
        assert created.json()["timezone"] == "Asia/Shanghai"


def test_the_json_api_keeps_rfc_3339_with_an_offset(night_bank: tuple[TimeBank, str]) -> None:
    bank, _ = night_bank
    app = create_app(bank, ApiSettings(token_secret=SECRET))
    token = issue_token(SECRET, subject="ops", role="admin", book="*")
    with TestClient(app) as client:
        page = client.get(
            "/books/beijing/members/li/passbook",
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"},
        ).json()
    [entry] = [e for e in page["entries"] if e["kind"] == "service"]
    moment = datetime.fromisoformat(entry["recorded_at"].replace("Z", "+00:00"))
    assert moment.utcoffset() == timedelta(0)
    assert entry["category"] == "companionship"  # codes stay English in JSON


def test_the_demo_speaks_chinese() -> None:
    shown = zh("demo")
    assert has_chinese(shown)
    ids = {"wang-fang", "liu-jun", "li-na", "issuance", "m.liu-jun.gifted", "o-1", "2026-11"}
    assert untranslated(shown, ids) == []
