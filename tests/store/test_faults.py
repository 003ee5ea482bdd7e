"""Faults between statements, dropped connections, lost replies and killed processes
leave the books whole: either everything of a unit is committed, or nothing is."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, event

from tests.store import workers
from tests.store.databases import admin_connection
from tests.store.workload import BOOK_ID, check_book, set_up_book
from timebank.ledger import Book, Ledger, SystemClock, Transfer, credit, debit
from timebank.store import (
    CommitOutcomeUnknown,
    SqlStore,
    StoreUnavailable,
    open_store,
)

TRANSFER = Transfer(transaction_id="t-1", postings=(debit("hot-0", 5), credit("hot-1", 5)))


class InjectedFault(Exception):
    """Raised by a test between two statements of a unit."""


@contextmanager
def before_statement(engine: sa.Engine, prefix: str, action: Any) -> Iterator[list[int]]:
    """Run ``action(connection)`` before each statement starting with ``prefix``."""
    calls: list[int] = []

    def hook(connection: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith(prefix):
            calls.append(1)
            action(connection, len(calls))

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield calls
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def test_an_exception_between_two_statements_leaves_no_trace(store: SqlStore) -> None:
    """A failure after the journal row is written but before its postings rolls it all back."""
    book = set_up_book(store)
    head = book.journal(after=0, limit=500)[-1].sequence

    def fail(connection: Connection, call: int) -> None:
        raise InjectedFault

    with before_statement(store.engine, "INSERT INTO postings", fail), pytest.raises(InjectedFault):
        book.submit(TRANSFER)
    assert book.journal(after=head, limit=10) == []
    assert book.balance("hot-0").posted_minutes == 1_000
    with store.read(BOOK_ID) as reader:
        assert reader.find("t-1") is None
        assert reader.head().sequence == head
    # The id was never used: submitting it now commits it for the first time.
    assert book.submit(TRANSFER).sequence == head + 1
    check_book(book)


def _kill_backend(connection: Connection, call: int) -> None:
    """Terminate this connection's server process from another session (on the first call)."""
    if call > 1:
        return
    pid = connection.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
    with admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.postgres
def test_a_connection_killed_mid_transaction_is_retried(postgres_url: str) -> None:
    """pg_terminate_backend in the middle of a unit: the store retries on a new connection."""
    with open_store(postgres_url, pool_size=2) as store:
        book = set_up_book(store)
        with before_statement(store.engine, "INSERT INTO transactions", _kill_backend) as calls:
            made = book.submit(TRANSFER)
        assert len(calls) == 2, "the first attempt died; the second committed"
        assert store.retries.get("disconnect") == 1
        assert book.transaction("t-1") == made
        check_book(book)


@pytest.mark.postgres
def test_a_connection_killed_on_every_attempt_fails_cleanly(postgres_url: str) -> None:
    """When every attempt loses its connection, the caller gets StoreUnavailable and no trace."""
    with open_store(postgres_url, pool_size=2, attempts_max=3) as store:
        book = set_up_book(store)

        def kill_always(connection: Connection, call: int) -> None:
            _kill_backend(connection, 1)

        with (
            before_statement(store.engine, "INSERT INTO transactions", kill_always) as calls,
            pytest.raises(StoreUnavailable) as caught,
        ):
            book.submit(TRANSFER)
        assert len(calls) == 3
        assert caught.value.attempts == 3
        assert not isinstance(caught.value, sa.exc.SQLAlchemyError)
        with store.read(BOOK_ID) as reader:
            assert reader.find("t-1") is None
        check_book(book)


class _ReplyLostStore(SqlStore):
    """Commits, then reports the connection lost, as if the server's reply never came."""

    def _commit(self, connection: Connection) -> None:
        super()._commit(connection)
        raise sa.exc.OperationalError(
            "COMMIT", None, Exception("server closed the connection"), connection_invalidated=True
        )


def test_committed_but_reply_lost_then_a_retry_returns_the_original(store: SqlStore) -> None:
    """The caller learns the outcome is unknown; resubmitting the same id returns the original."""
    book = set_up_book(store)
    lossy = Book(_ReplyLostStore(store.engine), SystemClock(), BOOK_ID)
    with pytest.raises(CommitOutcomeUnknown):
        lossy.submit(TRANSFER)
    again = book.submit(TRANSFER)
    assert book.transaction("t-1") == again
    assert [t.transaction_id for t in book.journal(limit=500)].count("t-1") == 1
    assert book.balance("hot-1").posted_minutes == 1_005
    check_book(book)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_bulk_import_killed_with_sigkill_leaves_a_whole_store(sqlite_url: str) -> None:
    """SIGKILL during a bulk import into SQLite: the file reopens, verifies, and holds only
    whole batches (each batch is one unit of work)."""
    with open_store(sqlite_url) as store:
        set_up_book(store)
    opening = 10  # the opening transfers of the ten hot accounts
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    batch = 200
    process = context.Process(
        target=workers.bulk_import_worker, args=(sqlite_url, batch, 10_000, started)
    )
    process.start()
    try:
        assert started.wait(timeout=120), "the importer never committed three batches"
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=30)
        assert process.exitcode == -signal.SIGKILL
    finally:
        if process.is_alive():
            process.kill()
    with open_store(sqlite_url, migrate=False) as store:
        book = Ledger(store, clock=SystemClock()).book(BOOK_ID)
        check_book(book)
        with store.read(BOOK_ID) as reader:
            imported = reader.head().sequence - opening
        assert imported >= 3 * batch
        assert imported % batch == 0, f"{imported} records: a batch was cut in half"
        with store.engine.connect() as connection:
            requests = connection.exec_driver_sql("SELECT count(*) FROM requests").scalar()
        assert requests == opening + imported


class _ServerError(Exception):
    """A driver error carrying a SQLSTATE, as psycopg's do."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "verdict"),
    [
        ("57P01", "disconnect"),  # terminated by an administrator (pg_terminate_backend)
        ("57P02", "disconnect"),  # the server crashed
        ("57P03", "disconnect"),  # the server is starting up or shutting down
        ("08006", "disconnect"),
        ("40001", "contention"),
        ("40P01", "contention"),
        ("42P01", "fatal"),
    ],
)
def test_a_terminated_backend_is_a_disconnect_however_it_is_reported(
    sqlstate: str, verdict: str
) -> None:
    """Whether the driver sees 57P01 or only a closed socket is a race; both are retried."""
    from timebank.store.retry import classify

    error = sa.exc.DBAPIError("INSERT", None, _ServerError(sqlstate))
    assert classify(error) == verdict
