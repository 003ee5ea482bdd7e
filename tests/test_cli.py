"""The timebank command line: demo, db upgrade and verify, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from timebank.cli import main
from timebank.ledger import Ledger, ManualClock, credit, debit
from timebank.store import open_store


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def seeded(path: Path) -> None:
    with open_store(path) as store:
        book = Ledger(store, clock=ManualClock(datetime(2026, 11, 1, tzinfo=UTC))).create_book(
            "sunflower"
        )
        book.open_account("pool", balance_minutes_min=None)
        book.open_account("wang-fang")
        book.transfer("visit-1", [debit("pool", 60), credit("wang-fang", 60)])


def test_demo_prints_a_passbook_balances_and_a_verified_book() -> None:
    """The demo credits a visit, a gift, an event and an order, then verifies the book."""
    code, output = run("demo")
    assert code == 0, output
    assert "service    +90     90  issuance" in output
    assert "李娜: own 60, gifted 0, group 120" in output
    assert "刘军: own 45, gifted 30, group 120" in output
    assert "order o-1, 45 minutes credited: request (wang-fang) -> dispatch (wang-fang)" in output
    assert "close (wang-fang)" in output
    assert "2026-11 orders: 1, processing rate 100.00%, satisfaction rate 100.00%" in output
    assert "owed to members: 375 minutes" in output
    assert "verify: ok, 6 transactions, 15 accounts" in output


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    """db upgrade makes an empty file into a current timebank database, and is repeatable."""
    path = tmp_path / "centre.db"
    for _ in range(2):
        code, output = run("db", "upgrade", "--database", str(path))
        assert code == 0, output
    tables = {name for (name,) in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert {"books", "accounts", "transactions", "postings", "timebank_alembic_version"} <= tables


def test_verify_reports_each_book(tmp_path: Path) -> None:
    """verify says ok per book and exits 0 when every book checks out."""
    path = tmp_path / "centre.db"
    seeded(path)
    code, output = run("verify", "--database", str(path))
    assert (code, output.strip()) == (0, "sunflower: ok (1 transactions, 2 accounts)")


def test_verify_names_the_break_and_exits_1(tmp_path: Path) -> None:
    """A cached balance edited behind the ledger's back is reported with its account."""
    path = tmp_path / "centre.db"
    seeded(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE accounts SET posted_minutes = 600 WHERE id = 'wang-fang'")
    code, output = run("verify", "--database", str(path))
    assert code == 1
    assert "sunflower: BROKEN balance_mismatch at account wang-fang" in output


def test_verify_refuses_an_unknown_book(tmp_path: Path) -> None:
    """Asking for a book the database does not have is a clear error, not a traceback."""
    path = tmp_path / "centre.db"
    seeded(path)
    code, output = run("verify", "--database", str(path), "--book", "elsewhere")
    assert code == 1
    assert "book 'elsewhere' does not exist" in output
