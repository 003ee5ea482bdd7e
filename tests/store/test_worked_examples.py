"""The SQL store behaves like the in-memory one, on SQLite and PostgreSQL, and persists it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from timebank.ledger import (
    AccountExists,
    Book,
    BookExists,
    BookNotFound,
    Hold,
    HoldStatus,
    IdempotencyConflict,
    InsufficientMinutes,
    Kind,
    Ledger,
    LedgerError,
    LedgerUnit,
    ManualClock,
    PostHold,
    Reverse,
    Transaction,
    Transfer,
    credit,
    debit,
)
from timebank.store import SqlStore, StoreError, StoreFailed, StoreUnavailable, open_store

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


def _book(ledger: Ledger, *members: str) -> Book:
    book = ledger.create_book("centre")
    book.open_account("pool", balance_minutes_min=None)
    for member in members:
        book.open_account(member)
    return book


def test_readme_example_runs_on_the_store(ledger: Ledger) -> None:
    """The README's walk-through gives the same answers on a SQL store."""
    book = _book(ledger, "wang-fang", "zhang-wei")
    book.transfer("visit-001", [debit("pool", 90), credit("wang-fang", 90)], code="service")
    book.hold("order-17", [debit("wang-fang", 60), credit("zhang-wei", 60)])
    book.post_hold("order-17-done", "order-17", amount_minutes=45)
    assert book.balance("wang-fang").posted_minutes == 45
    assert book.balance("zhang-wei").posted_minutes == 45
    with pytest.raises(InsufficientMinutes) as caught:
        book.transfer("visit-002", [debit("zhang-wei", 600), credit("wang-fang", 600)])
    assert caught.value.available_minutes == 45
    again = book.transfer("visit-001", [debit("pool", 90), credit("wang-fang", 90)], code="service")
    assert again.sequence == 1
    assert book.verify().ok


def test_everything_survives_reopening(store_url: str) -> None:
    """A new store on the same database sees the accounts, the journal, holds and rejections."""
    clock = ManualClock(START, tick=timedelta(seconds=1))
    with open_store(store_url) as store:
        book = _book(Ledger(store, clock=clock), "ana")
        first = book.transfer("t1", [debit("pool", 30), credit("ana", 30)])
        book.hold(
            "h1", [debit("ana", 10), credit("pool", 10)], expires_at=START + timedelta(days=1)
        )
        with pytest.raises(InsufficientMinutes):
            book.transfer("t2", [debit("ana", 999), credit("pool", 999)])
    with open_store(store_url, migrate=False) as store:
        book = Ledger(store, clock=clock).book("centre")
        assert book.transaction("t1") == first
        assert book.hold_record("h1").status is HoldStatus.PENDING
        assert book.balance("ana").debits_pending_minutes == 10
        # The rejection is remembered: the same request fails the same way though it would fit.
        book.transfer("t3", [debit("pool", 2000), credit("ana", 2000)])
        with pytest.raises(InsufficientMinutes) as caught:
            book.transfer("t2", [debit("ana", 999), credit("pool", 999)])
        assert caught.value.available_minutes == 20
        assert book.verify().ok


def test_times_read_back_as_aware_utc(ledger: Ledger, clock: ManualClock) -> None:
    """Times given in any zone are stored in UTC and read back as the same instants, in UTC."""
    book = _book(ledger, "ana")
    effective = datetime(2026, 10, 31, 20, 15, 0, 123456, tzinfo=SHANGHAI)
    made = book.transfer("paper-1", [debit("pool", 5), credit("ana", 5)], effective_at=effective)
    read = book.transaction("paper-1")
    assert read == made
    assert read.effective_at == effective
    assert read.effective_at is not None
    assert read.effective_at.tzinfo is UTC
    assert read.recorded_at.tzinfo is UTC
    assert book.account("ana").opened_at.tzinfo is UTC
    # The request behind the id keeps its zone-aware value, so the identical retry replays.
    again = book.transfer("paper-1", [debit("pool", 5), credit("ana", 5)], effective_at=effective)
    assert again == made


def test_altered_retry_names_the_differing_field(ledger: Ledger) -> None:
    """The same id with different content is refused, naming the first field that differs."""
    book = _book(ledger, "ana")
    book.transfer("t1", [debit("pool", 5), credit("ana", 5)], code="a")
    with pytest.raises(IdempotencyConflict) as caught:
        book.transfer("t1", [debit("pool", 5), credit("ana", 5)], code="b")
    assert caught.value.field == "code"


def test_statement_pages_carry_the_balance_after_each_entry(ledger: Ledger) -> None:
    """Pages of a statement chain by cursor and state the running balances."""
    book = _book(ledger, "ana", "bo")
    for number in range(1, 8):
        book.transfer(f"t{number}", [debit("pool", number), credit("ana", number)])
        book.transfer(f"u{number}", [debit("pool", 1), credit("bo", 1)])
    first = book.statement("ana", limit=3)
    assert [e.posted_minutes for e in first.entries] == [1, 3, 6]
    assert first.next_after == first.entries[-1].sequence
    second = book.statement("ana", after=first.next_after, limit=3)
    assert [e.posted_delta_minutes for e in second.entries] == [4, 5, 6]
    assert [e.posted_minutes for e in second.entries] == [10, 15, 21]
    last = book.statement("ana", after=second.next_after, limit=3)
    assert [e.posted_minutes for e in last.entries] == [28]
    assert last.next_after is None


def test_balances_as_of_a_recorded_or_an_effective_time(ledger: Ledger, clock: ManualClock) -> None:
    """Point-in-time balances use recorded time by default and effective time when asked."""
    book = _book(ledger, "ana")
    book.transfer("t1", [debit("pool", 10), credit("ana", 10)])
    middle = clock.now()
    clock.advance(timedelta(hours=1))
    book.transfer(
        "paper",
        [debit("pool", 7), credit("ana", 7)],
        effective_at=START - timedelta(days=1),
    )
    assert book.balance("ana", as_of=START - timedelta(seconds=1)).posted_minutes == 0
    assert book.balance("ana", as_of=middle).posted_minutes == 10
    assert book.balance("ana").posted_minutes == 17
    effective = book.balance("ana", as_of=START - timedelta(hours=1), basis="effective")
    assert effective.posted_minutes == 7


def test_a_batch_commits_each_outcome_in_one_unit(ledger: Ledger) -> None:
    """submit_many decides each request in order, seeing the batch's own earlier writes."""
    book = _book(ledger, "ana", "bo")
    outcomes = book.submit_many(
        [
            Transfer(transaction_id="a", postings=(debit("pool", 50), credit("ana", 50))),
            Hold(transaction_id="h", postings=(debit("ana", 20), credit("bo", 20))),
            PostHold(transaction_id="p", hold_id="h", amount_minutes=15),
            Reverse(transaction_id="r", reverses_id="p"),
            Transfer(transaction_id="x", postings=(debit("bo", 500), credit("ana", 500))),
            Transfer(transaction_id="a", postings=(debit("pool", 50), credit("ana", 50))),
            Reverse(transaction_id="r2", reverses_id="p"),
        ]
    )
    assert [type(o).__name__ for o in outcomes] == [
        "Transaction",
        "Transaction",
        "Transaction",
        "Transaction",
        "InsufficientMinutes",
        "Transaction",
        "TransactionAlreadyReversed",
    ]
    assert outcomes[5] == outcomes[0]
    assert book.hold_record("h").status is HoldStatus.POSTED
    assert book.balance("ana").posted_minutes == 50
    assert book.balance("bo").posted_minutes == 0
    assert [t.kind for t in book.journal()] == [Kind.TRANSFER, Kind.HOLD, Kind.POST, Kind.REVERSAL]
    assert book.verify().ok


def test_expired_holds_are_journal_records(ledger: Ledger, clock: ManualClock) -> None:
    """Expiry releases the pending minutes with a ledger-made record that can be found by id."""
    book = _book(ledger, "ana")
    book.transfer("t", [debit("pool", 30), credit("ana", 30)])
    book.hold("h", [debit("ana", 25), credit("pool", 25)], expires_at=START + timedelta(minutes=5))
    clock.advance(timedelta(minutes=10))
    report = book.expire_holds()
    assert [t.transaction_id for t in report.expired] == ["~expire:h"]
    assert book.transaction("~expire:h").kind is Kind.EXPIRE
    assert book.hold_record("h").status is HoldStatus.EXPIRED
    assert book.balance("ana").available_minutes == 30
    assert book.verify().ok


def test_a_hold_with_the_longest_id_expires(ledger: Ledger, clock: ManualClock) -> None:
    """The ledger-made expiry id of a 128-character hold id fits the store's id columns."""
    book = _book(ledger, "ana")
    hold_id = "h" * 128
    book.transfer("t", [debit("pool", 30), credit("ana", 30)])
    book.hold(hold_id, [debit("ana", 25), credit("pool", 25)], expires_at=START + timedelta(1))
    clock.advance(timedelta(days=2))
    (expired,) = book.expire_holds().expired
    assert expired.transaction_id == f"~expire:{hold_id}"
    assert book.transaction(expired.transaction_id) == expired
    assert book.verify().ok


def test_books_are_kept_apart(ledger: Ledger) -> None:
    """Two books may use the same account and transaction ids without touching each other."""
    one = _book(ledger, "ana")
    two = ledger.create_book("other")
    two.open_account("pool", balance_minutes_min=None)
    two.open_account("ana")
    one.transfer("t", [debit("pool", 5), credit("ana", 5)])
    two.transfer("t", [debit("pool", 9), credit("ana", 9)])
    assert one.balance("ana").posted_minutes == 5
    assert two.balance("ana").posted_minutes == 9
    assert ledger.book_ids() == ["centre", "other"]
    assert one.verify().ok
    assert two.verify().ok


def test_unknown_and_duplicate_books(store: SqlStore) -> None:
    """Units and reads of a missing book raise BookNotFound; creating a book twice, BookExists."""
    store.create_book("centre")
    with pytest.raises(BookExists):
        store.create_book("centre")
    with pytest.raises(BookNotFound):
        store.transact("nowhere", lambda unit: None)
    with pytest.raises(BookNotFound), store.read("nowhere"):
        pass


def test_a_ledger_error_in_work_rolls_back_and_propagates_unchanged(ledger: Ledger) -> None:
    """Work that raises a ledger error leaves nothing behind, and the same error comes out."""
    book = _book(ledger)
    account = book.account("pool")
    raised = AccountExists(account_id="ghost", field="metadata")

    def work(unit: LedgerUnit) -> None:
        unit.add_account(
            type(account)(
                book_id="centre",
                account_id="ghost",
                balance_minutes_min=0,
                balance_minutes_max=None,
                metadata={},
                opened_at=START,
            )
        )
        unit.accounts(after=None, limit=10)  # forces the buffered insert to the database
        raise raised

    with pytest.raises(LedgerError) as caught:
        ledger.store.transact("centre", work)
    assert caught.value is raised
    assert [a.account_id for a in book.accounts()] == ["pool"]


def test_committed_rows_are_append_only_in_the_database(ledger: Ledger, store: SqlStore) -> None:
    """The database itself refuses to update or delete journal and posting rows."""
    book = _book(ledger, "ana")
    book.transfer("t", [debit("pool", 5), credit("ana", 5)])
    for statement in (
        "UPDATE postings SET amount_minutes = 6",
        "DELETE FROM postings",
        "UPDATE transactions SET code = 'x'",
        "DELETE FROM transactions",
    ):
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            store.engine.begin() as connection,
        ):
            connection.exec_driver_sql(statement)
    assert book.verify().ok


@pytest.mark.postgres
def test_postgresql_refuses_an_unbalanced_transaction_at_commit(postgres_url: str) -> None:
    """A deferred trigger checks at COMMIT that every transaction's postings balance."""
    with open_store(postgres_url) as store:
        book = _book(Ledger(store, clock=ManualClock(START)), "ana", "bo")
        book.transfer("t", [debit("pool", 5), credit("ana", 5)])
        with (
            pytest.raises(sa.exc.IntegrityError, match="does not balance"),
            store.engine.begin() as connection,
        ):
            connection.exec_driver_sql(
                "INSERT INTO postings VALUES ('centre', 1, 2, 'bo', 'credit', 1, 1, 0, 0)"
            )
        assert book.verify().ok


def test_database_errors_leave_as_store_errors(tmp_path: object) -> None:
    """An unreachable database raises StoreUnavailable, never a SQLAlchemy exception."""
    with pytest.raises(StoreUnavailable):
        open_store("postgresql://postgres@127.0.0.1:1/none", attempts_max=1)
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{tmp_path}/missing-dir/ledger.db")
    assert isinstance(caught.value, StoreFailed)
    assert not isinstance(caught.value, sa.exc.SQLAlchemyError)


def test_transactions_read_back_identical(ledger: Ledger) -> None:
    """Every field of a committed transaction survives the round trip, metadata included."""
    book = _book(ledger, "ana", "bo")
    made: list[Transaction] = [
        book.transfer(
            "t", [debit("pool", 7), credit("ana", 4), credit("bo", 3)], metadata={"note": "三"}
        ),
        book.hold("h", [debit("ana", 2), credit("bo", 2)], expires_at=START + timedelta(days=3)),
        book.void_hold("v", "h", code="changed-mind"),
    ]
    assert book.journal() == made
    assert [book.transaction(t.transaction_id) for t in made] == made
