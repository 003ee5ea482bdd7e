"""``BankBook.atomic``: several calls as one unit of work, all committed or none (SQL stores)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.bank.helpers import book_state, coordinator
from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.bank import SYSTEM, TimeBank
from timebank.bank.commands import Grant, RegisterMember
from timebank.community import MemberExists, Role
from timebank.ledger import InsufficientMinutes, ManualClock


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_bank(
    request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path
) -> Iterator[TimeBank]:
    if request.param == "sqlite":
        with TimeBank.open(sqlite_path(tmp_path), clock=clock) as opened:
            yield opened
        return
    if postgres_base_url() is None:
        pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    with postgres_schema() as (url, _schema), TimeBank.open(url, clock=clock) as opened:
        yield opened


def register(book: object, member_id: str) -> None:
    book.members.register(  # type: ignore[attr-defined]
        RegisterMember(
            member_id=member_id,
            name="陈秀英",
            birth_date=date(1940, 1, 1),
            community="gulou",
            roles={Role.RECIPIENT},
        ),
        actor=SYSTEM,
    )


def test_every_call_inside_commits_together(sql_bank: TimeBank) -> None:
    book = sql_bank.create_book("gulou", "nanjing")
    coordinator(book)

    def work() -> int:
        register(book, "a")
        register(book, "b")
        book.gifts.grant(
            Grant(member_id="a", minutes=30, reason="welcome", source="issuance"), actor="coord"
        )
        return 2

    assert book.atomic(work) == 2
    assert [m.member_id for m in book.members.list()] == ["a", "b", "coord"]
    assert book.statements.balance("a").gifted_minutes == 30


@pytest.mark.parametrize("failure", ["rule", "ledger"])
def test_a_failure_anywhere_inside_leaves_no_trace_of_any_call(
    sql_bank: TimeBank, failure: str
) -> None:
    """A broken rule, or a ledger refusal (which alone would be remembered), undoes it all."""
    book = sql_bank.create_book("gulou", "nanjing")
    coordinator(book)
    before = book_state(book)

    def work() -> None:
        register(book, "a")
        book.gifts.grant(
            Grant(member_id="a", minutes=30, reason="welcome", source="issuance"), actor="coord"
        )
        if failure == "rule":
            register(book, "a")  # registered twice
        else:
            # The pool is empty: the ledger refuses this grant.
            book.gifts.grant(Grant(member_id="a", minutes=100, reason="empty"), actor="coord")

    expected = MemberExists if failure == "rule" else InsufficientMinutes
    with pytest.raises(expected):
        book.atomic(work)
    assert book_state(book) == before


def test_the_memory_store_refuses_to_pretend(clock: ManualClock) -> None:
    """The memory store cannot roll back several ledger requests, so it does not offer to."""
    book = TimeBank(clock=clock).create_book("gulou", "nanjing")
    with pytest.raises(TypeError, match="database"):
        book.atomic(lambda: None)
