"""The time bank's records on the SQL store: kept per book, in the ledger's transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, event

from tests.store.conftest import START
from tests.store.databases import admin_connection
from tests.store.test_faults import before_statement
from timebank.community.port import (
    KIND_LENGTH_MAX,
    RECORD_BYTES_MAX,
    RECORD_KEY_LENGTH_MAX,
    BankUnit,
)
from timebank.ledger import GENESIS_HASH, Book, BookNotFound, Ledger, ManualClock
from timebank.store import (
    SqlBankStore,
    StoreError,
    StoreIntegrityError,
    StoreUnavailable,
    open_bank_store,
    upgrade,
)
from timebank.store.engine import make_engine
from timebank.store.migrate import current_revision, head_revision

BOOK_ID = "centre"


class Refused(Exception):
    """Raised by a test's work function to roll its unit back."""


@pytest.fixture
def bank(store_url: str) -> Iterator[SqlBankStore]:
    with open_bank_store(store_url) as opened:
        opened.ledger_store.create_book(BOOK_ID)
        yield opened


def _book(bank: SqlBankStore) -> Book:
    return Ledger(bank.ledger_store, clock=ManualClock(START)).book(BOOK_ID)


def _get(bank: SqlBankStore, kind: str, record_id: str) -> bytes | None:
    with bank.read(BOOK_ID) as reader:
        return reader.records.get(kind, record_id)


def _put(bank: SqlBankStore, kind: str, record_id: str, body: bytes, key: str | None) -> None:
    bank.transact(BOOK_ID, lambda unit: unit.records.put(kind, record_id, body, key=key))


def test_put_get_and_replace(bank: SqlBankStore) -> None:
    """A put inserts, a second put replaces body and key; unknown records read as None."""
    assert _get(bank, "member", "m-1") is None
    _put(bank, "member", "m-1", b"first", "north")
    assert _get(bank, "member", "m-1") == b"first"
    _put(bank, "member", "m-1", b"second", None)
    assert _get(bank, "member", "m-1") == b"second"
    with bank.read(BOOK_ID) as reader:
        assert reader.records.scan("member", key="north", limit=10) == []
        assert reader.records.scan("member", limit=10) == [("m-1", b"second")]
        assert reader.records.get("policy", "m-1") is None


def test_a_unit_reads_its_own_writes(bank: SqlBankStore) -> None:
    def work(unit: BankUnit) -> bytes | None:
        unit.records.put("member", "m-1", b"\x00\xffbinary")
        return unit.records.get("member", "m-1")

    assert bank.transact(BOOK_ID, work) == b"\x00\xffbinary"


def test_a_unit_reads_a_record_once_and_then_its_own_writes(bank: SqlBankStore) -> None:
    """A unit asks the database for a record once; after it wrote the record (a scan of the
    kind writes what the unit kept), it reads what it wrote, never the body read before."""
    _put(bank, "member", "m-1", b"stored", None)
    statements: list[str] = []

    def count(connection: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM records" in statement and statement.startswith("SELECT body"):
            statements.append(statement)

    def work(unit: BankUnit) -> list[bytes | None]:
        seen = [unit.records.get("member", "m-1"), unit.records.get("member", "m-1")]
        seen.append(unit.records.get("member", "m-2"))
        seen.append(unit.records.get("member", "m-2"))
        unit.records.put("member", "m-1", b"written")
        assert unit.records.scan("member", limit=10) == [("m-1", b"written")]
        seen.append(unit.records.get("member", "m-1"))
        return seen

    event.listen(bank.ledger_store.engine, "before_cursor_execute", count)
    try:
        seen = bank.transact(BOOK_ID, work)
    finally:
        event.remove(bank.ledger_store.engine, "before_cursor_execute", count)
    assert seen == [b"stored", b"stored", None, None, b"written"]
    assert len(statements) == 2, "one read of m-1 and one of the missing m-2"
    assert _get(bank, "member", "m-1") == b"written"


def test_scan_orders_by_id_and_filters_by_key_cursor_and_limit(bank: SqlBankStore) -> None:
    def work(unit: BankUnit) -> None:
        for record_id, key in [("c", "north"), ("a", "south"), ("d", None), ("b", "north")]:
            unit.records.put("member", record_id, record_id.encode(), key=key)
        unit.records.put("event", "a0", b"other kind", key="north")

    bank.transact(BOOK_ID, work)
    with bank.read(BOOK_ID) as reader:
        records = reader.records
        assert [i for i, _ in records.scan("member", limit=10)] == ["a", "b", "c", "d"]
        assert records.scan("member", limit=2) == [("a", b"a"), ("b", b"b")]
        assert [i for i, _ in records.scan("member", after="b", limit=10)] == ["c", "d"]
        assert [i for i, _ in records.scan("member", key="north", limit=10)] == ["b", "c"]
        assert records.scan("member", key="north", after="b", limit=10) == [("c", b"c")]
        assert records.scan("member", key="north", limit=1) == [("b", b"b")]
        assert records.scan("member", limit=0) == []
        assert records.scan("member", key="east", limit=10) == []


def test_records_are_kept_per_book(bank: SqlBankStore) -> None:
    bank.ledger_store.create_book("other")
    _put(bank, "member", "m-1", b"centre's", None)
    with bank.read("other") as reader:
        assert reader.records.get("member", "m-1") is None
        assert reader.records.scan("member", limit=10) == []


def test_limits_are_refused_with_value_error(bank: SqlBankStore) -> None:
    """Callers check sizes first; the store refuses what slipped through, writing nothing."""
    for kind, record_id, body, key, match in [
        ("k" * (KIND_LENGTH_MAX + 1), "r", b"", None, "kind"),
        ("", "r", b"", None, "kind"),
        ("member", "", b"", None, "id"),
        ("member", "r" * 145, b"", None, "id"),
        ("member", "r", b"", "k" * (RECORD_KEY_LENGTH_MAX + 1), "key"),
        ("member", "r", b"x" * (RECORD_BYTES_MAX + 1), None, "body"),
    ]:
        with pytest.raises(ValueError, match=match):
            _put(bank, kind, record_id, body, key)
    _put(bank, "k" * KIND_LENGTH_MAX, "r" * 144, b"x" * RECORD_BYTES_MAX, "k" * 128)
    assert _get(bank, "k" * KIND_LENGTH_MAX, "r" * 144) == b"x" * RECORD_BYTES_MAX
    with bank.read(BOOK_ID) as reader, pytest.raises(ValueError, match="limit"):
        reader.records.scan("member", limit=-1)


def test_records_and_ledger_writes_commit_together(bank: SqlBankStore) -> None:
    """An account opened and a record put in one unit: both or neither."""
    book = _book(bank)

    def fail(unit: BankUnit) -> None:
        book.open_account_in(unit.ledger, "ana")
        unit.records.put("member", "ana", b"ana's record")
        raise Refused

    with pytest.raises(Refused):
        bank.transact(BOOK_ID, fail)
    with bank.read(BOOK_ID) as reader:
        assert reader.ledger.account("ana") is None
        assert reader.records.get("member", "ana") is None

    def succeed(unit: BankUnit) -> None:
        book.open_account_in(unit.ledger, "ana")
        unit.records.put("member", "ana", b"ana's record")

    bank.transact(BOOK_ID, succeed)
    assert book.account("ana").account_id == "ana"
    with bank.read(BOOK_ID) as reader:
        assert reader.ledger.account("ana") is not None
        assert reader.records.get("member", "ana") == b"ana's record"


def test_read_modify_write_of_a_record_is_safe_between_units(bank: SqlBankStore) -> None:
    """Two threads each add one to a counter record 50 times: the lock makes it 100."""
    _put(bank, "counter", "c", b"0", None)
    failures: list[BaseException] = []

    def increment(unit: BankUnit) -> None:
        body = unit.records.get("counter", "c")
        assert body is not None
        unit.records.put("counter", "c", str(int(body) + 1).encode())

    def worker() -> None:
        try:
            for _ in range(50):
                bank.transact(BOOK_ID, increment)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert _get(bank, "counter", "c") == b"100"


@pytest.mark.postgres
def test_a_unit_holds_the_book_lock_before_work_runs(postgres_url: str) -> None:
    """Even a unit that has not touched the ledger or a record yet holds the book's row."""
    with open_bank_store(postgres_url) as bank:
        bank.ledger_store.create_book(BOOK_ID)

        def try_lock(unit: BankUnit) -> None:
            with bank.ledger_store.engine.connect() as other:
                with pytest.raises(sa.exc.OperationalError, match="could not obtain lock"):
                    other.exec_driver_sql(
                        "SELECT id FROM books WHERE id = 'centre' FOR UPDATE NOWAIT"
                    )
                other.rollback()

        bank.transact(BOOK_ID, try_lock)


def test_an_unknown_book_raises_book_not_found(bank: SqlBankStore) -> None:
    ran: list[int] = []
    with pytest.raises(BookNotFound):
        bank.transact("nobody", lambda unit: ran.append(1))
    assert ran == [], "the book is checked before work runs"
    with pytest.raises(BookNotFound), bank.read("nobody"):
        pass


def test_a_refused_record_write_leaves_as_a_store_error(bank: SqlBankStore) -> None:
    """A database constraint broken by a record statement surfaces as StoreIntegrityError."""
    with bank.ledger_store.engine.begin() as connection:
        connection.exec_driver_sql("CREATE UNIQUE INDEX one_per_key ON records (book_id, key)")

    def work(unit: BankUnit) -> None:
        unit.records.put("member", "a", b"a", key="north")
        unit.records.put("member", "b", b"b", key="north")

    with pytest.raises(StoreIntegrityError) as caught:
        bank.transact(BOOK_ID, work)
    assert not isinstance(caught.value, sa.exc.SQLAlchemyError)
    assert _get(bank, "member", "a") is None


def _kill_backend(connection: Connection, call: int) -> None:
    """Terminate this connection's server process from another session, on the first call."""
    if call > 1:
        return
    pid = connection.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
    with admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.postgres
def test_a_connection_dropped_in_a_record_write_is_retried(postgres_url: str) -> None:
    """The record statements run inside the unit, so a lost connection reruns the whole unit."""
    with open_bank_store(postgres_url, pool_size=2) as bank:
        bank.ledger_store.create_book(BOOK_ID)
        book = _book(bank)

        def work(unit: BankUnit) -> None:
            book.open_account_in(unit.ledger, "ana")
            unit.records.put("member", "ana", b"ana")

        with before_statement(bank.ledger_store.engine, "INSERT INTO records", _kill_backend):
            bank.transact(BOOK_ID, work)
        assert bank.ledger_store.retries.get("disconnect") == 1
        assert _get(bank, "member", "ana") == b"ana"
        assert book.account("ana").account_id == "ana"


@pytest.mark.postgres
def test_a_connection_dropped_in_a_snapshot_leaves_as_a_store_error(postgres_url: str) -> None:
    with open_bank_store(postgres_url, pool_size=2) as bank:
        bank.ledger_store.create_book(BOOK_ID)
        with (
            before_statement(bank.ledger_store.engine, "SELECT records.record_id", _kill_backend),
            pytest.raises(StoreUnavailable) as caught,
            bank.read(BOOK_ID) as reader,
        ):
            reader.records.scan("member", limit=10)
        assert isinstance(caught.value, StoreError)
        assert not isinstance(caught.value, sa.exc.SQLAlchemyError)


def test_a_ledger_from_before_records_gains_them_on_open(store_url: str) -> None:
    """A database at the first revision, with a book in it, is migrated when opened."""
    upgrade(store_url, "0001")
    engine = make_engine(store_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO books (id, head_sequence, head_hash) VALUES"
                f" ('{BOOK_ID}', 0, '{GENESIS_HASH}')"
            )
    finally:
        engine.dispose()
    with open_bank_store(store_url) as bank:
        assert current_revision(bank.ledger_store.engine) == head_revision()
        _put(bank, "member", "m-1", b"new", None)
        assert _get(bank, "member", "m-1") == b"new"
