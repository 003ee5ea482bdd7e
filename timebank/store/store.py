"""``SqlStore``: the ledger's storage port on SQLite or PostgreSQL.

Every write runs as one database transaction that first takes the book's
row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
already holds the write lock). The hash chain allows one writer per book at a
time anyway, and taking that lock before anything else means the idempotency
probe of a transaction id sees every earlier commit: of two concurrent
submissions of one new id, the second waits, then finds the first's outcome.
Account rows are then locked in id order, so writers never deadlock.

Transient failures (serialization failures, deadlocks, a busy SQLite file, a
connection lost before the commit) roll back and run the work again on a fresh
transaction, a bounded number of times with jittered backoff. A ledger error
raised by the work rolls back and propagates unchanged; database errors leave
as ``timebank.store.errors`` exceptions, never as SQLAlchemy's.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, exc
from sqlalchemy.engine import URL

from timebank.ledger.errors import BookExists, BookNotFound
from timebank.ledger.hashing import GENESIS_HASH
from timebank.ledger.model import BookHead
from timebank.ledger.port import LedgerReader, LedgerUnit, StoredCheckpoint, StoredRowInvalid
from timebank.store import statements as sql
from timebank.store.backup import require_database
from timebank.store.codec import head_from_row
from timebank.store.engine import SQLITE_BEGIN_OPTION, make_engine, sqlite_execute
from timebank.store.errors import (
    CommitOutcomeUnknown,
    StoreBusy,
    StoreError,
    StoreFailed,
    StoreIntegrityError,
    StoreUnavailable,
)
from timebank.store.group import Group, Ticket
from timebank.store.migrate import check_schema, upgrade_engine
from timebank.store.retry import ATTEMPTS_MAX, Verdict, backoff_seconds, classify
from timebank.store.unit import SqlReader, SqlUnit

__all__ = ["SqlStore", "open_store"]

T = TypeVar("T")


class _Transient(Exception):
    """Internal: this attempt failed in a way worth another attempt."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict)
        self.verdict = verdict


class SqlStore:
    """Books kept in a SQL database. Safe to share between threads; one per process."""

    def __init__(
        self, engine: Engine, *, attempts_max: int = ATTEMPTS_MAX, group_commit: bool = True
    ) -> None:
        assert 1 <= attempts_max <= 100
        self._engine = engine
        self._attempts_max = attempts_max
        self._lock_rows = engine.dialect.name == "postgresql"
        self._sqlite = engine.dialect.name == "sqlite"
        self._retries_lock = threading.Lock()
        self._retries: Counter[str] = Counter()
        # SQLite has one writer at a time. Threads of this process queue for it here,
        # in order, rather than in SQLite's busy handler, which sleeps and retries.
        self._sqlite_writer = threading.RLock() if self._sqlite else None
        self._group_commit = group_commit
        self._groups_lock = threading.Lock()
        self._groups: dict[str, Group] = {}
        self._grouped: Counter[str] = Counter()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for the store's own tests and tools."""
        return self._engine

    @property
    def retries(self) -> dict[str, int]:
        """How many attempts were run again, by cause ("contention", "disconnect")."""
        with self._retries_lock:
            return dict(self._retries)

    @property
    def grouped(self) -> dict[str, int]:
        """Shared transactions of more than one unit ("groups") and the units they ran."""
        with self._retries_lock:
            return dict(self._grouped)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the port --------------------------------------------------------------------

    def create_book(self, book_id: str) -> None:
        def work(connection: Connection) -> None:
            if connection.execute(sql.HEAD, {"book_id": book_id}).first() is not None:
                raise BookExists(book_id=book_id)
            connection.execute(
                sql.INSERT_BOOK,
                {
                    "id": book_id,
                    "head_sequence": 0,
                    "head_hash": GENESIS_HASH,
                    "head_recorded_at": None,
                },
            )

        try:
            self._run(work)
        except StoreIntegrityError:
            # Two creators raced; the loser's insert hit the primary key.
            if book_id in self.book_ids():
                raise BookExists(book_id=book_id) from None
            raise

    def book_ids(self) -> Sequence[str]:
        def work(connection: Connection) -> list[str]:
            with _lenient_text(connection):
                ids = connection.execute(sql.BOOK_IDS).scalars().all()
            # A row whose id was overwritten with a number or bytes names no book.
            return [book_id for book_id in ids if type(book_id) is str]

        return self._read_only(work)

    def has_book(self, book_id: str) -> bool:
        def work(connection: Connection) -> bool:
            return connection.execute(sql.HEAD, {"book_id": book_id}).first() is not None

        return self._read_only(work)

    def transact(self, book_id: str, work: Callable[[LedgerUnit], T]) -> T:
        return self.run_unit(book_id, lambda connection, unit: work(unit))

    @contextmanager
    def read(self, book_id: str) -> Iterator[LedgerReader]:
        """A consistent snapshot of one book (REPEATABLE READ on PostgreSQL)."""
        with self.read_snapshot(book_id) as (_connection, reader):
            yield reader

    def save_checkpoint(self, book_id: str, checkpoint: StoredCheckpoint) -> None:
        """Keep a verify checkpoint as the book's, in place of its last (one unit of work)."""

        def work(connection: Connection, unit: SqlUnit) -> None:
            unit.head()  # takes the book's row, as every unit does
            connection.execute(sql.DELETE_CHECKPOINT, {"book_id": book_id})
            connection.execute(
                sql.INSERT_CHECKPOINT,
                {
                    "book_id": book_id,
                    "sequence": checkpoint.sequence,
                    "hash": checkpoint.hash,
                    "state": checkpoint.state,
                },
            )

        self.run_unit(book_id, work)

    # --- for stores that keep more than the ledger in the same database ------------------

    def run_unit(self, book_id: str, work: Callable[[Connection, SqlUnit], T]) -> T:
        """``transact``, also handing ``work`` the unit's connection for its own statements.

        Those statements run in the unit's transaction and are retried with it; their
        database errors leave as ``timebank.store.errors`` exceptions like the unit's.
        Units of one book that arrive while another is running share one transaction,
        each in a savepoint of its own (group commit, ``timebank.store.group``).
        """
        if not self._group_commit:
            return self._run_alone(book_id, work)
        with self._groups_lock:
            group = self._groups.get(book_id)
            if group is None:
                group = self._groups[book_id] = Group()
        return group.submit(Ticket(work), partial(self._run_group, book_id))

    def _unit_work(
        self, connection: Connection, book_id: str, work: Callable[[Connection, SqlUnit], T]
    ) -> T:
        unit = SqlUnit(connection, book_id, lock_rows=self._lock_rows)
        result = work(connection, unit)
        unit.flush()
        return result

    def _writing(self) -> AbstractContextManager[object]:
        """Held while a write transaction runs: on SQLite, this process's one writer lock."""
        return nullcontext() if self._sqlite_writer is None else self._sqlite_writer

    def _run_alone(self, book_id: str, work: Callable[[Connection, SqlUnit], T]) -> T:
        with self._writing():
            return self._run(partial(self._unit_work, book_id=book_id, work=work))

    def _run_group(self, book_id: str, tickets: list[Ticket[Any]]) -> None:
        """Settle every ticket: alone if it is the only one, else in one shared transaction."""
        if len(tickets) > 1:
            try:
                with self._writing():
                    outcomes = self._run(partial(self._group_attempt, book_id, tickets))
            except CommitOutcomeUnknown as unknown:
                for ticket in tickets:
                    ticket.fail(CommitOutcomeUnknown(_detail_of(unknown), attempts=1))
                return
            except StoreError:
                pass  # each unit again on its own, below, for its own outcome
            else:
                with self._retries_lock:
                    self._grouped["groups"] += 1
                    self._grouped["units"] += len(tickets)
                for ticket, (ok, value) in zip(tickets, outcomes, strict=True):
                    if ok:
                        ticket.succeed(value)
                    else:
                        ticket.fail(value)
                return
        for ticket in tickets:
            try:
                ticket.succeed(ticket.context.run(self._run_alone, book_id, ticket.work))
            except Exception as error:
                ticket.fail(error)

    def _group_attempt(
        self, book_id: str, tickets: list[Ticket[Any]], connection: Connection
    ) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for number, ticket in enumerate(tickets):
            # Each unit's savepoint has a name of its own, so that rolling back to it can only
            # undo this unit. PostgreSQL keeps a savepoint that is not released until the
            # transaction ends, and releasing costs a round trip; the group stays well within
            # the subtransactions a backend keeps cheaply (GROUP_MAX). SQLite's are released.
            name = f"timebank_unit_{number}"
            self._savepoint(connection, f"SAVEPOINT {name}")
            try:
                result = ticket.context.run(self._unit_work, connection, book_id, ticket.work)
                outcomes.append((True, result))
            except exc.SQLAlchemyError:
                raise  # the whole group: retried, or each unit run alone
            except Exception as error:
                self._savepoint(connection, f"ROLLBACK TO SAVEPOINT {name}")
                outcomes.append((False, error))
            if self._sqlite:
                self._savepoint(connection, f"RELEASE SAVEPOINT {name}")
        return outcomes

    def _savepoint(self, connection: Connection, statement: str) -> None:
        if self._sqlite:
            sqlite_execute(connection, statement)
        else:
            connection.exec_driver_sql(statement)

    @contextmanager
    def read_snapshot(self, book_id: str) -> Iterator[tuple[Connection, SqlReader]]:
        """``read``, also giving the snapshot's connection for statements of its own.

        A book whose row in ``books`` is gone while other tables still hold its rows
        is read all the same; its reader's ``head()`` raises ``StoredRowInvalid``.
        """
        try:
            connection = self._engine.connect()
        except exc.SQLAlchemyError as error:
            raise _final(classify(error), 1, error) from error
        with connection, _lenient_text(connection):
            try:
                if self._lock_rows:
                    connection.begin()
                    connection.exec_driver_sql(
                        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                    )
                else:
                    connection.execution_options(**{SQLITE_BEGIN_OPTION: "BEGIN"})
                    connection.begin()
                head = _snapshot_head(connection, book_id)
                yield connection, SqlReader(connection, book_id, head)
            except exc.SQLAlchemyError as error:
                raise _final(classify(error), 1, error) from error
            finally:
                _rollback(connection)

    def stray_book_ids(self) -> list[str]:
        """Book ids that ledger rows carry but ``books`` has no row for (a removed or
        renamed book row); ``read`` still opens them, for ``verify()``."""

        def work(connection: Connection) -> list[str]:
            with _lenient_text(connection):
                ids = connection.execute(sql.STRAY_BOOK_IDS).scalars().all()
            return [book_id for book_id in ids if type(book_id) is str]

        return self._read_only(work)

    # --- running units of work -----------------------------------------------------------

    def _read_only(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a read transaction (on SQLite a plain ``BEGIN``, which takes no
        write lock: asking whether a book exists must not queue behind writers)."""
        try:
            connection = self._engine.connect()
        except exc.SQLAlchemyError as error:
            raise _final(classify(error), 1, error) from error
        with connection:
            try:
                if self._sqlite:
                    connection.execution_options(**{SQLITE_BEGIN_OPTION: "BEGIN"})
                connection.begin()
                return work(connection)
            except exc.SQLAlchemyError as error:
                raise _final(classify(error), 1, error) from error
            finally:
                _rollback(connection)

    def _run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a transaction of its own, again after a transient failure."""
        attempt = 1
        while True:
            try:
                return self._attempt(work)
            except _Transient as transient:
                cause = transient.__cause__
                if attempt >= self._attempts_max:
                    raise _final(transient.verdict, attempt, cause) from cause
                with self._retries_lock:
                    self._retries[transient.verdict] += 1
            time.sleep(backoff_seconds(attempt))
            attempt += 1

    def _attempt(self, work: Callable[[Connection], T]) -> T:
        try:
            connection = self._engine.connect()
        except exc.SQLAlchemyError as error:
            raise _translate(error, committing=False) from error
        with connection:
            try:
                self._begin(connection)
                result = work(connection)
            except exc.SQLAlchemyError as error:
                self._rollback(connection)
                raise _translate(error, committing=False) from error
            except BaseException:
                self._rollback(connection)
                raise
            try:
                self._commit(connection)
            except exc.SQLAlchemyError as error:
                self._rollback(connection)
                raise _translate(error, committing=True) from error
            return result

    # On SQLite a write unit's BEGIN IMMEDIATE, COMMIT and ROLLBACK go straight to the driver
    # (SQLAlchemy's transaction bookkeeping costs more than the statements); a cold-path
    # statement run through SQLAlchemy joins the open transaction (see ``engine.on_begin``).

    def _begin(self, connection: Connection) -> None:
        if self._sqlite:
            sqlite_execute(connection, "BEGIN IMMEDIATE")
        else:
            connection.begin()

    def _commit(self, connection: Connection) -> None:
        if connection.in_transaction():
            connection.commit()
        if self._sqlite and connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            sqlite_execute(connection, "COMMIT")

    def _rollback(self, connection: Connection) -> None:
        _rollback(connection)
        if not self._sqlite or connection.invalidated:
            return
        try:
            if connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
                sqlite_execute(connection, "ROLLBACK")
        except exc.SQLAlchemyError:
            connection.invalidate()


def open_store(
    target: str | os.PathLike[str] | URL,
    *,
    migrate: bool = True,
    sqlite_synchronous: str = "NORMAL",
    busy_timeout_ms: int = 5_000,
    pool_size: int = 10,
    attempts_max: int = ATTEMPTS_MAX,
    group_commit: bool = True,
    create: bool = True,
) -> SqlStore:
    """Open a store on a SQLite file path or a database URL.

    ``open_store("ledger.db")``, ``open_store("sqlite:///ledger.db")`` or
    ``open_store("postgresql+psycopg://user@host/db")``; a plain
    ``postgresql://`` URL uses psycopg 3. With ``migrate`` (the default) the
    schema is brought to this version's head first; without it, a schema that
    is not at the head raises ``SchemaOutOfDate``. With ``group_commit`` (the
    default), units of one book that arrive while another is running share one
    transaction (``timebank.store.group``); without it, each has its own. Without
    ``create``, a SQLite path must already be a timebank database (``DatabaseNotFound``
    otherwise, and no file is made).
    """
    if not create:
        require_database(target)
    engine = make_engine(
        target,
        sqlite_synchronous=sqlite_synchronous,
        busy_timeout_ms=busy_timeout_ms,
        pool_size=pool_size,
    )
    try:
        if migrate:
            upgrade_engine(engine)
        else:
            check_schema(engine)
    except exc.SQLAlchemyError as error:
        engine.dispose()
        raise _final(classify(error), 1, error) from error
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine, attempts_max=attempts_max, group_commit=group_commit)


def _snapshot_head(connection: Connection, book_id: str) -> BookHead | StoredRowInvalid:
    """The book's head, or why it cannot be read; ``BookNotFound`` for a book with no rows."""
    row = connection.execute(sql.HEAD, {"book_id": book_id}).first()
    if row is None:
        if not connection.execute(sql.BOOK_HAS_ROWS, {"book_id": book_id}).scalar():
            raise BookNotFound(book_id=book_id)
        return StoredRowInvalid(
            table="books", key=book_id, detail="no row, though other tables hold the book's rows"
        )
    try:
        return head_from_row(book_id, row)
    except StoredRowInvalid as invalid:
        return invalid


@contextmanager
def _lenient_text(connection: Connection) -> Iterator[None]:
    """On SQLite, text that is not UTF-8 comes back as bytes, which the codec reports as a
    bad value, instead of failing the whole fetch (PostgreSQL keeps only valid text)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver: Any = connection.connection.driver_connection
    driver.text_factory = _text_or_bytes
    try:
        yield
    finally:
        driver.text_factory = str


def _text_or_bytes(data: bytes) -> str | bytes:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


def _rollback(connection: Connection) -> None:
    try:
        connection.rollback()
    except exc.SQLAlchemyError:
        connection.invalidate()


def _translate(error: exc.SQLAlchemyError, *, committing: bool) -> Exception:
    verdict = classify(error)
    if verdict == "disconnect" and committing:
        return CommitOutcomeUnknown("the connection was lost during COMMIT", attempts=1)
    if verdict in ("contention", "disconnect"):
        return _Transient(verdict)
    return _final(verdict, 1, error)


def _detail_of(error: StoreUnavailable) -> str:
    """The message of a store error without its "(after N attempts)"."""
    message = str(error)
    return message.rsplit(" (after ", 1)[0]


def _final(verdict: Verdict, attempts: int, error: BaseException | None) -> StoreError:
    """The store error for a failure; its message carries the driver's first line."""
    cause = getattr(error, "orig", None) or error
    detail = str(cause).strip().splitlines()[0] if cause is not None and str(cause) else "?"
    if verdict == "contention":
        return StoreBusy(f"the database stayed busy: {detail}", attempts=attempts)
    if verdict == "disconnect":
        return StoreUnavailable(f"the database could not be reached: {detail}", attempts=attempts)
    if verdict == "integrity":
        return StoreIntegrityError(f"the database refused a write: {detail}")
    return StoreFailed(f"the database failed: {detail}")
