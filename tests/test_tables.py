"""One column layout per report, for every output (``timebank.tables``).

For each report, over one demo book in a SQLite file: the API's CSV and XLSX
downloads, the files ``timebank export report`` writes and the table
``timebank report`` prints have the same columns in the same order, the
layout's; and the CLI's files hold as many rows as the API's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from tests.test_exports import read_csv, read_xlsx
from timebank import cli, tables
from timebank.api import ApiSettings, create_app, issue_token
from timebank.bank import TimeBank
from timebank.demo import DEMO_BOOK, demo_people, seed_demo
from timebank.i18n import text
from timebank.tables import LAYOUTS, Layout, human_header

SECRET = "tables-tests-" + "t" * 32
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(UTC)
FIRST_MONTH = (NOW - timedelta(days=22)).astimezone(ZONE).strftime("%Y-%m")
LAST_MONTH = NOW.astimezone(ZONE).strftime("%Y-%m")
BOARD_MONTH = (NOW - timedelta(days=20)).astimezone(ZONE).strftime("%Y-%m")
"""Where most of the demo's orders were done (seeding starts three weeks back)."""
WEEK = NOW.astimezone(ZONE).date().isoformat()

# the CLI's name, its options, its layout, and the API's path and query (None: no download)
Report = tuple[str, list[str], Layout[Any], str | None, dict[str, Any]]
REPORTS: list[Report] = [
    (
        "orders",
        ["--month", FIRST_MONTH, "--month", LAST_MONTH],
        tables.ORDERS,
        "reports/orders",
        {"first_month": FIRST_MONTH, "last_month": LAST_MONTH},
    ),
    (
        "board",
        ["--month", BOARD_MONTH],
        tables.VOLUNTEER_BOARD,
        "reports/volunteer-board",
        {"month": BOARD_MONTH},
    ),
    ("wishes", [], tables.WISH_ADOPTION, "reports/wish-adoption", {}),
    (
        "gap",
        ["--week", WEEK],
        tables.SUPPLY_DEMAND_GAP,
        "reports/supply-demand-gap",
        {"week": WEEK},
    ),
    (
        "liability",
        ["--years", "3"],
        tables.LIABILITY_FORECAST,
        "reports/liability-forecast",
        {"years": 3},
    ),
    ("inactive", ["--days", "1"], tables.INACTIVE_MEMBERS, "reports/inactive-members", {"days": 1}),
    ("visits", [], tables.VISITS_DUE, None, {}),
]
PASSBOOK_MEMBER = "li-na"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("tables") / "demo.db")
    with TimeBank.open(path) as bank:
        seed_demo(bank)
    return path


@pytest.fixture(scope="module")
def api(database: str) -> Iterator[TestClient[Any]]:
    with TimeBank.open(database) as bank:
        app = create_app(bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
        with TestClient(app) as client:
            yield client


def admin() -> dict[str, str]:
    token = issue_token(SECRET, subject="ops", role="admin", book="*")
    return {"Authorization": f"Bearer {token}"}


def run(*args: str) -> str:
    """The command in English (``--lang en``)."""
    result = CliRunner().invoke(cli.main, ["--lang", "en", *args])
    assert result.exit_code == 0, result.output
    return result.output


def cli_files(
    database: str, tmp_path: Path, command: list[str]
) -> tuple[list[list[str]], list[list[Any]]]:
    """What ``timebank export ...`` writes as CSV and as XLSX (cell values)."""
    written = []
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"{command[1]}.{fmt}"
        run(
            *command,
            "--book",
            DEMO_BOOK,
            "--database",
            database,
            "--format",
            fmt,
            "--out",
            str(out),
        )
        written.append(out.read_bytes())
    as_csv, as_xlsx = written
    return read_csv(as_csv), [[cell.value for cell in row] for row in read_xlsx(as_xlsx)]


def api_files(
    api: TestClient[Any], path: str, params: dict[str, Any]
) -> tuple[list[list[str]], list[list[Any]]]:
    files = []
    for suffix in ("csv", "xlsx"):
        response = api.get(f"/books/{DEMO_BOOK}/{path}.{suffix}", params=params, headers=admin())
        assert response.status_code == 200, response.text
        files.append(response.content)
    as_csv, as_xlsx = files
    return read_csv(as_csv), [[cell.value for cell in row] for row in read_xlsx(as_xlsx)]


def printed_header(monkeypatch: pytest.MonkeyPatch, *args: str) -> list[str]:
    """The columns ``timebank report`` gives its terminal table, in order."""
    from rich.table import Table

    added: list[str] = []
    add_column = Table.add_column

    def recording(self: Table, header: str = "", *more: Any, **options: Any) -> None:
        added.append(header)
        add_column(self, header, *more, **options)

    with monkeypatch.context() as patched:
        patched.setattr(Table, "add_column", recording)
        run(*args)
    return added


def test_every_report_and_every_layout_is_covered() -> None:
    assert [name for name, *_ in REPORTS] == list(cli.REPORTS)
    assert {layout.name for _, _, layout, _, _ in REPORTS} | {"passbook"} == set(LAYOUTS)


def english_header(layout: Layout[Any]) -> list[str]:
    """The header a person reads in English (the files and the terminal), in column order."""
    return [human_header(key, text("en"), ZONE) for key in layout.keys]


@pytest.mark.parametrize("report", REPORTS, ids=[name for name, *_ in REPORTS])
def test_every_output_of_a_report_has_the_layouts_columns_in_order(
    report: Report,
    database: str,
    api: TestClient[Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, options, layout, path, params = report
    header = english_header(layout)
    assert len(set(header)) == len(header), "a column is repeated"
    cli_csv, cli_xlsx = cli_files(database, tmp_path, ["export", "report", name, *options])
    shown = printed_header(
        monkeypatch, "report", name, "--book", DEMO_BOOK, "--database", database, *options
    )
    assert cli_csv[0] == header
    assert cli_xlsx[0] == header
    assert shown == header
    assert len(cli_xlsx) == len(cli_csv)
    if path is None:
        return
    api_csv, api_xlsx = api_files(api, path, params)
    assert api_csv[0] == header
    assert api_xlsx[0] == header
    assert len(api_csv) == len(api_xlsx) == len(cli_csv)
    assert [row[0] for row in api_csv] == [row[0] for row in cli_csv]


def test_the_demo_reports_are_not_empty(database: str, tmp_path: Path) -> None:
    """So that the row checks above compare rows, not just headers."""
    for name, options, *_ in REPORTS:
        if name in ("gap", "visits"):
            continue
        rows, _ = cli_files(database, tmp_path, ["export", "report", name, *options])
        if name == "board":  # at a month's turn, the demo's month may be the one before
            for month in (FIRST_MONTH, LAST_MONTH):
                more, _ = cli_files(
                    database, tmp_path, ["export", "report", name, "--month", month]
                )
                rows += more[1:]
        assert len(rows) > 1, name


def test_a_statement_has_the_passbook_layout_everywhere(
    database: str, api: TestClient[Any], tmp_path: Path
) -> None:
    """The ledger's lines (``--ledger``; the printed passbook has its own tests)."""
    header = english_header(tables.PASSBOOK)
    cli_csv, cli_xlsx = cli_files(
        database, tmp_path, ["export", "passbook", "--member", PASSBOOK_MEMBER, "--ledger"]
    )
    api_csv, api_xlsx = api_files(api, f"members/{PASSBOOK_MEMBER}/passbook", {})
    assert cli_csv[0] == cli_xlsx[0] == api_csv[0] == api_xlsx[0] == header
    assert cli_csv == api_csv
    assert len(cli_csv) > 1


def test_a_rate_is_its_numerator_denominator_and_percent_in_the_records() -> None:
    """``Layout.records`` (a JSON table) has the same keys, in order, as the header."""
    bank = TimeBank()
    seed_demo(bank)
    book = bank.book(DEMO_BOOK)
    adoption = book.reports.wish_adoption()
    [record] = tables.WISH_ADOPTION.records(adoption)
    assert list(record) == tables.WISH_ADOPTION.keys == tables.WISH_ADOPTION.header
    assert (record["adoption_rate_numerator"], record["adoption_rate_denominator"]) == (
        adoption.adoption_rate.numerator,
        adoption.adoption_rate.denominator,
    )
    assert record["adoption_rate_percent"] == adoption.adoption_rate.percent
    forecast = book.reports.liability_forecast(years=2)
    records = tables.LIABILITY_FORECAST.records(forecast)
    assert [r["section"] for r in records] == ["total"] + ["cohort"] * len(forecast.cohorts) + [
        "year"
    ] * 2
    assert records[0]["minutes"] == forecast.total_minutes
    assert demo_people().book_id == DEMO_BOOK


def test_tables_imports_no_web_framework_and_neither_front_end() -> None:
    code = (
        "import sys, timebank.tables\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'litestar'"
        " or m.startswith(('timebank.api', 'timebank.cli')))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
