"""Downloads are safe to open: no CSV or XLSX the project writes runs a formula.

A text cell a spreadsheet would run (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) comes back with a leading ``'``; numbers stay
numbers, and XLSX text is written as text. Checked on the writers themselves,
through the HTTP download routes, and through ``timebank export``; and
``timebank report`` prints names as they are, not as terminal markup.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tests.columns import keyed
from timebank.bank import SYSTEM, TimeBank
from timebank.bank.commands import RegisterMember
from timebank.cli import main
from timebank.community import Role, Vetting
from timebank.ledger import ManualClock
from timebank.tables import csv_bytes, neutralised, xlsx_bytes

FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "=1+1"]
PRINTABLE_FORMULAS = [text for text in FORMULAS if text.isprintable()]
"""The ones a member's name may hold (names are printable)."""
HARMLESS = ["王芳", "a=b", "1+1", " =1", "", "'=1", "陈秀英 (代理: 李娜)"]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_xlsx(data: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows()]


# --- the writers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", FORMULAS)
def test_text_that_would_start_a_formula_gets_a_leading_quote(text: str) -> None:
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize(
    "value", [*HARMLESS, -5, 0, 7, Decimal("-1.50"), None, date(2026, 11, 2)], ids=repr
)
def test_numbers_and_harmless_text_are_left_alone(value: Any) -> None:
    """-5 the integer is a number, not a formula: only text is neutralised."""
    assert neutralised(value) == value


@given(st.text(max_size=40))
def test_no_neutralised_text_starts_a_formula(text: str) -> None:
    shown = neutralised(text)
    assert isinstance(shown, str)
    assert not shown.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert shown in (text, "'" + text)


def test_csv_cells_come_back_neutralised_and_numbers_as_numbers() -> None:
    rows = [[text, -5, Decimal("-1.5"), None] for text in FORMULAS + HARMLESS]
    read = read_csv(csv_bytes(["=name", "delta", "rate", "none"], rows))
    assert read[0] == ["'=name", "delta", "rate", "none"]
    assert [row[0] for row in read[1:]] == ["'" + t for t in FORMULAS] + HARMLESS
    assert {(row[1], row[2], row[3]) for row in read[1:]} == {("-5", "-1.5", "")}


def test_xlsx_text_is_text_never_a_formula_and_numbers_are_numbers() -> None:
    """openpyxl writes a string that starts with ``=`` as a formula unless told it is text."""
    moment = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    rows = [[text, -5, Decimal("-1.5"), moment] for text in FORMULAS + HARMLESS]
    read = read_xlsx(xlsx_bytes(["=name", "delta", "rate", "at"], rows, title="a/b:c[1]"))
    assert read[0][0].value == "'=name"
    names = read[1:]
    # XML reads a carriage return back as a line feed
    expected = [("'" + t).replace("\r", "\n") for t in FORMULAS] + [t or None for t in HARMLESS]
    assert [row[0].value for row in names] == expected
    assert all(row[0].data_type == "s" for row in names if row[0].value is not None)
    assert all((row[1].value, row[1].data_type) == (-5, "n") for row in names)
    assert all((row[2].value, row[2].data_type) == (-1.5, "n") for row in names)
    assert all(row[3].value == moment.replace(tzinfo=None) for row in names)


def test_xlsx_replaces_characters_a_spreadsheet_cannot_hold() -> None:
    read = read_xlsx(xlsx_bytes(["note"], [["a\x00b\x1bc"]], title="notes"))
    assert read[1][0].value == "a\ufffdb\ufffdc"


# --- members named like formulas ------------------------------------------------------------------


def register_formulas(bank: TimeBank) -> None:
    """Members of book ``gulou`` named like formulas (``tests/api/test_downloads.py`` too)."""
    book = bank.book("gulou")
    for n, name in enumerate(PRINTABLE_FORMULAS):
        book.members.register(
            RegisterMember(
                member_id=f"m{n}",
                name=name,
                birth_date=date(1950, 1, 1),
                community="ninghai",
                roles={Role.VOLUNTEER},
                vetting=Vetting.STREET,
            ),
            actor=SYSTEM,
        )


def names_in(rows: list[list[Any]], header: list[Any]) -> set[Any]:
    column = keyed(header).index("name")
    return {row[column] for row in rows}


# --- through the command line ---------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A SQLite book whose members, named like formulas, registered 40 days ago."""
    path = str(tmp_path / "t.db")
    clock = ManualClock(datetime.now(UTC) - timedelta(days=40), tick=timedelta(seconds=1))
    with TimeBank.open(path, clock=clock) as bank:
        bank.create_book("gulou", "nanjing")
        register_formulas(bank)
        bank.book("gulou").members.register(
            RegisterMember(
                member_id="markup",
                name="[bold]李[/bold] [/]",
                birth_date=date(1950, 1, 1),
                community="ninghai",
                roles={Role.VOLUNTEER},
                vetting=Vetting.STREET,
            ),
            actor=SYSTEM,
        )
    return path


def run(*args: str) -> str:
    """The command in English (``--lang en``): the Chinese output has tests of its own."""
    result = CliRunner().invoke(main, ["--lang", "en", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_timebank_export_neutralises_member_names(database: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"inactive.{fmt}"
    run(
        *("export", "report", "inactive", "--database", database, "--book", "gulou"),
        *("--days", "30", "--format", fmt, "--out", str(out)),
    )
    if fmt == "csv":
        header, *rows = read_csv(out.read_bytes())
        names = names_in(rows, header)
    else:
        first, *cells = read_xlsx(out.read_bytes())
        header = [cell.value for cell in first]
        names = names_in([[cell.value for cell in row] for row in cells], header)
        assert {row[keyed(header).index("name")].data_type for row in cells} == {"s"}
    assert names >= {"'" + name for name in PRINTABLE_FORMULAS}
    assert "[bold]李[/bold] [/]" in names


def test_timebank_report_prints_names_as_they_are(database: str) -> None:
    """A name is text, not rich markup: ``[/]`` neither styles nor breaks the table."""
    output = run("report", "inactive", "--database", database, "--book", "gulou", "--days", "30")
    assert "[bold]李[/bold] [/]" in output
    assert '=HYPERLINK("http://x","y")' in output
