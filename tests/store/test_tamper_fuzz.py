"""Random tampering with a database: ``verify()`` and ``timebank verify`` report it, never crash.

A book with a realistic history (transfers of two and three legs, a back-dated
paper record, holds posted in full, for an amount and leg by leg, voided,
expired and still pending, reversals of a transfer and of a post, refusals, a
closed account, an unused one, a credit line) and a small second book are built
once per database, on a SQLite file and in a PostgreSQL schema of their own.
Each example copies that database, then changes it with raw SQL as someone with
write access to the file or the schema could: one to three mutations, each
setting a column of a random row of a random ledger table to a value of a
random type (integers past 64 bits, text, bytes, text that is not UTF-8, JSON
of every shape, times that do not parse, NULL), deleting a row, swapping two
rows' keys (sequences, ids, posting numbers) or copying a row under another key
or into another book. The database is loosened first so that nothing stops the
attacker: no triggers, foreign keys, CHECK constraints or NOT NULL (PostgreSQL
also loses its unique constraints, and a column that will not take a value is
retyped to text).

After the mutations, ``verify()`` of every book through a freshly opened store
and ``timebank verify`` over the database must finish without an exception.
Every book that a mutation changed in a way verify can see must be reported
broken, with a sequence and a table; ``timebank verify`` must exit 1 and print
those books as BROKEN. Which changes verify can see is decided here from the
rows themselves, read before and after: every change to the journal
(``transactions``, ``postings``), the heads (``books``), ``holds`` and
``reversals``, and to committed outcomes in ``requests``; a change to an
account's balances, or to an account the journal posts to; and any value an
account or a refusal cannot hold. Mutations that change nothing (a value set to
itself, a swap of equal keys, a statement the database refuses) are not
asserted as breaks. What no check can see is left out and said so: an account's
settings (bounds, metadata, times) edited to other valid values, an unused
empty account added or removed, and a refusal removed or moved.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from tests.store.databases import admin_connection, postgres_base_url, postgres_schema
from timebank.cli import main
from timebank.ledger import (
    Book,
    HoldNotPending,
    InsufficientMinutes,
    Ledger,
    ManualClock,
    credit,
    debit,
)
from timebank.store import open_store

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
BOOK = "centre"
OTHER = "other"

INT, TEXT, TIME, JSON = "int", "text", "time", "json"


@dataclass(frozen=True)
class Table:
    columns: dict[str, str]
    primary_key: tuple[str, ...]
    keys: tuple[str, ...]
    """Columns that identify a row, whose values a swap exchanges."""
    book: str = "book_id"


TABLES = {
    "books": Table(
        {"id": TEXT, "head_sequence": INT, "head_hash": TEXT, "head_recorded_at": TIME},
        ("id",),
        ("id",),
        book="id",
    ),
    "accounts": Table(
        {
            "book_id": TEXT,
            "id": TEXT,
            "balance_minutes_min": INT,
            "balance_minutes_max": INT,
            "metadata": JSON,
            "opened_at": TIME,
            "closed_at": TIME,
            "posted_minutes": INT,
            "debits_pending_minutes": INT,
            "credits_pending_minutes": INT,
        },
        ("book_id", "id"),
        ("id",),
    ),
    "transactions": Table(
        {
            "book_id": TEXT,
            "sequence": INT,
            "transaction_id": TEXT,
            "kind": TEXT,
            "code": TEXT,
            "metadata": JSON,
            "recorded_at": TIME,
            "effective_at": TIME,
            "expires_at": TIME,
            "related_id": TEXT,
            "previous_hash": TEXT,
            "hash": TEXT,
        },
        ("book_id", "sequence"),
        ("sequence", "transaction_id"),
    ),
    "postings": Table(
        {
            "book_id": TEXT,
            "sequence": INT,
            "posting_index": INT,
            "account_id": TEXT,
            "side": TEXT,
            "amount_minutes": INT,
            "posted_minutes": INT,
            "debits_pending_minutes": INT,
            "credits_pending_minutes": INT,
        },
        ("book_id", "sequence", "posting_index"),
        ("sequence", "posting_index", "account_id"),
    ),
    "holds": Table(
        {
            "book_id": TEXT,
            "hold_id": TEXT,
            "sequence": INT,
            "status": TEXT,
            "expires_at": TIME,
            "resolved_by": TEXT,
        },
        ("book_id", "hold_id"),
        ("hold_id", "sequence"),
    ),
    "reversals": Table(
        {"book_id": TEXT, "original_id": TEXT, "reversal_id": TEXT},
        ("book_id", "original_id"),
        ("original_id", "reversal_id"),
    ),
    "requests": Table(
        {"book_id": TEXT, "transaction_id": TEXT, "request": JSON, "sequence": INT, "error": JSON},
        ("book_id", "transaction_id"),
        ("transaction_id", "sequence"),
    ),
}
SEALED = frozenset({"books", "transactions", "postings", "holds", "reversals"})
"""Tables whose every value verify recomputes from the journal or checks against it."""
UNRETYPED = frozenset({("transactions", "sequence"), ("postings", "sequence")})
"""PostgreSQL columns left as integers: the journal's queries compare them with numbers."""
INT_TEXT = re.compile(r"-?[0-9]+")

# --- the values an attacker writes ------------------------------------------------------------


@dataclass(frozen=True)
class Truncated:
    """The row's current text, cut to ``length`` characters (a truncated hash or id)."""

    length: int


@dataclass(frozen=True)
class NotUtf8:
    """Text whose bytes are not UTF-8 (on PostgreSQL, which refuses it, an odd character)."""


ODD_TEXTS = [
    "{",
    "[]",
    "{}",
    '{"a": 1}',
    '{"a": "b"}',
    '"x"',
    "null",
    "infinity",
    "-infinity",
    "2026-11-01 09:00:00",
    "2026-11-01T17:00:00+08:00",
    "2026-13-45 99:00:00",
    "9999-12-31 23:59:59.999999",
    "0001-01-01 00:00:00",
    "debit",
    "credit",
    "pending",
    "posted",
    "transfer",
    "hold",
    "void",
    "0" * 64,
]
VALUES = st.one_of(
    st.none(),
    st.sampled_from([0, 1, -1, 2, 7, 2**63 - 1, -(2**63), 10**12 + 1]),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=2**63, max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.binary(min_size=1, max_size=8),
    st.sampled_from(ODD_TEXTS),
    st.builds(Truncated, st.integers(min_value=0, max_value=63)),
    st.just(NotUtf8()),
)
KEY_VALUES = st.one_of(st.sampled_from([OTHER, "ghost", "dup-1"]), st.integers(-2, 40), VALUES)

# --- mutations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    table: str
    row: int
    column: str
    value: object


@dataclass(frozen=True)
class Delete:
    table: str
    row: int


@dataclass(frozen=True)
class Swap:
    table: str
    row: int
    other: int
    column: str


@dataclass(frozen=True)
class Copy:
    """Insert a copy of a row with one column (a key, or its book) set to ``value``."""

    table: str
    row: int
    column: str
    value: object


Mutation = Edit | Delete | Swap | Copy
ROWS = st.integers(min_value=0, max_value=500)
"""A row of the book in the table, by position (modulo the number of rows)."""


def _mutations(table: str) -> st.SearchStrategy[Mutation]:
    spec = TABLES[table]
    columns = st.sampled_from(sorted(spec.columns))
    keys = st.sampled_from(spec.keys)
    edit = st.builds(Edit, st.just(table), ROWS, columns, VALUES)
    return st.one_of(
        edit,
        edit,
        st.builds(Delete, st.just(table), ROWS),
        st.builds(Swap, st.just(table), ROWS, ROWS, keys),
        st.builds(Copy, st.just(table), ROWS, st.sampled_from((*spec.keys, spec.book)), KEY_VALUES),
    )


MUTATIONS = st.lists(st.sampled_from(sorted(TABLES)).flatmap(_mutations), min_size=1, max_size=3)

# --- the book ---------------------------------------------------------------------------------


def build(url: str) -> None:
    """Two books with every kind of record, refusals, and accounts of every kind."""
    clock = ManualClock(START, tick=timedelta(minutes=1))
    with open_store(url) as store:
        ledger = Ledger(store, clock=clock)
        book = ledger.create_book(BOOK)
        book.open_account("pool", balance_minutes_min=None, metadata={"role": "programme"})
        for member in ("ana", "bo", "chen", "dai"):
            book.open_account(member)
        book.open_account("eve", balance_minutes_max=600)  # opened, never used, closed
        book.open_account("fay", balance_minutes_min=-60)  # a credit line
        book.transfer("t1", [debit("pool", 120), credit("ana", 120)], code="service")
        book.transfer("t2", [debit("pool", 90), credit("bo", 90)], metadata={"visit": "2"})
        book.transfer("t3", [debit("pool", 30), credit("chen", 20), credit("dai", 10)])
        back_dated = START - timedelta(days=30)
        book.transfer("paper-1", [debit("pool", 45), credit("dai", 45)], effective_at=back_dated)
        book.hold("h1", [debit("ana", 60), credit("bo", 60)], expires_at=START + timedelta(days=7))
        book.post_hold("p1", "h1", amount_minutes=45)
        book.hold("h2", [debit("bo", 30), credit("chen", 30)])
        book.void_hold("v2", "h2")
        book.hold("h3", [debit("chen", 10), credit("dai", 10)])  # stays pending
        book.hold("h4", [debit("dai", 5), credit("ana", 5)], expires_at=clock.now() + timedelta(1))
        clock.advance(timedelta(days=2))
        book.expire_holds()
        book.hold("h5", [debit("pool", 20), credit("fay", 10), credit("ana", 10)])
        book.post_hold("p5", "h5", postings=[credit("ana", 5), debit("pool", 10), credit("fay", 5)])
        book.post_hold("p3", "h3")
        book.hold("h6", [debit("ana", 7), credit("chen", 7)])  # stays pending
        book.reverse("r2", "t2")
        book.reverse("rp1", "p1")
        book.transfer("t4", [debit("fay", 30), credit("chen", 30)])
        book.close_account("eve")
        with pytest.raises(InsufficientMinutes):
            book.transfer("refused", [debit("chen", 10_000), credit("bo", 10_000)])
        with pytest.raises(HoldNotPending):
            book.post_hold("late", "h2")
        other = ledger.create_book(OTHER)
        other.open_account("pool", balance_minutes_min=None)
        other.open_account("ana")
        other.transfer("t1", [debit("pool", 15), credit("ana", 15)])
        for book_id in (BOOK, OTHER):
            assert ledger.book(book_id).verify().ok


# --- the databases ----------------------------------------------------------------------------


class Target:
    """One copy of the built database, changed by raw SQL."""

    url: str
    postgres: bool
    retyped: set[tuple[str, str]]

    def apply(self, mutation: Mutation) -> None:
        raise NotImplementedError

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every ledger table, each value as the store's reader sees it."""
        raise NotImplementedError


def _text_or_bytes(data: bytes) -> str | bytes:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


class SqliteTarget(Target):
    postgres = False

    def __init__(self, path: Path) -> None:
        self.url = str(path)
        self.retyped = set()
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.text_factory = _text_or_bytes
        self.connection.execute("PRAGMA foreign_keys = OFF")
        self.connection.execute("PRAGMA ignore_check_constraints = ON")

    def close(self) -> None:
        self.connection.close()

    def _rowids(self, table: str) -> list[int]:
        book = TABLES[table].book
        query = f"SELECT rowid FROM {table} WHERE {book} = ? ORDER BY rowid"
        return [rowid for (rowid,) in self.connection.execute(query, (BOOK,))]

    def _value(
        self, table: str, column: str, rowid: int, value: object
    ) -> tuple[str, tuple[Any, ...]]:
        """An SQL expression and its parameters for ``value``."""
        if isinstance(value, NotUtf8):
            return "CAST(X'C328FF61' AS TEXT)", ()
        if isinstance(value, Truncated):
            query = f"SELECT {column} FROM {table} WHERE rowid = ?"
            (current,) = self.connection.execute(query, (rowid,)).fetchone()
            value = current[: value.length] if isinstance(current, str) else ""
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            value = str(value)  # a number no SQLite integer holds
        return "?", (value,)

    def apply(self, mutation: Mutation) -> None:
        execute = self.connection.execute
        rowids = self._rowids(mutation.table)
        if not rowids:
            return
        table = mutation.table
        rowid = rowids[mutation.row % len(rowids)]
        execute("SAVEPOINT mutation")
        try:
            if isinstance(mutation, Edit):
                sql, params = self._value(table, mutation.column, rowid, mutation.value)
                execute(
                    f"UPDATE {table} SET {mutation.column} = {sql} WHERE rowid = ?",
                    (*params, rowid),
                )
            elif isinstance(mutation, Delete):
                execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
            elif isinstance(mutation, Swap):
                self._swap(table, rowid, rowids[mutation.other % len(rowids)], mutation.column)
            else:
                columns = list(TABLES[table].columns)
                sql, params = self._value(table, mutation.column, rowid, mutation.value)
                chosen = ", ".join(sql if c == mutation.column else c for c in columns)
                execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) SELECT {chosen} FROM {table}"
                    " WHERE rowid = ?",
                    (*params, rowid),
                )
        except sqlite3.Error:
            execute("ROLLBACK TO mutation")
        execute("RELEASE mutation")

    def _swap(self, table: str, first: int, second: int, column: str) -> None:
        execute = self.connection.execute
        read = f"SELECT {column} FROM {table} WHERE rowid = ?"
        (a,) = execute(read, (first,)).fetchone()
        (b,) = execute(read, (second,)).fetchone()
        update = f"UPDATE {table} SET {column} = ? WHERE rowid = ?"
        temporary = -987_654_321 if TABLES[table].columns[column] == INT else "~swap~"
        execute(update, (temporary, first))
        execute(update, (a, second))
        execute(update, (b, first))

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        return {
            table: list(self.connection.execute(f"SELECT {', '.join(spec.columns)} FROM {table}"))
            for table, spec in TABLES.items()
        }


class PostgresTarget(Target):
    postgres = True

    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema
        self.retyped = set()
        self.connection = admin_connection()
        self.connection.autocommit = False
        self.connection.execute(f'SET search_path TO "{schema}"')

    def close(self) -> None:
        self.connection.commit()
        self.connection.close()

    def _ctids(self, table: str) -> list[str]:
        book = TABLES[table].book
        query = f"SELECT ctid::text FROM {table} WHERE {book}::text = %s ORDER BY ctid"
        return [str(ctid) for (ctid,) in self.connection.execute(query, (BOOK,))]

    def _value(self, table: str, column: str, ctid: str, value: object) -> object:
        if isinstance(value, NotUtf8):
            return "\u00c3(\u00ffa"
        if isinstance(value, Truncated):
            query = f"SELECT {column}::text FROM {table} WHERE ctid = %s::tid"
            row = self.connection.execute(query, (ctid,)).fetchone()
            current = None if row is None else row[0]
            return current[: value.length] if isinstance(current, str) else ""
        if isinstance(value, bytes):
            return "\\x" + value.hex()
        return value

    def apply(self, mutation: Mutation) -> None:
        ctids = self._ctids(mutation.table)
        if not ctids:
            return
        table = mutation.table
        ctid = ctids[mutation.row % len(ctids)]
        if isinstance(mutation, Delete):
            self._try(f"DELETE FROM {table} WHERE ctid = %s::tid", (ctid,))
        elif isinstance(mutation, Swap):
            self._swap(table, ctid, ctids[mutation.other % len(ctids)], mutation.column)
        elif isinstance(mutation, Edit):
            value = self._value(table, mutation.column, ctid, mutation.value)
            statement = f"UPDATE {table} SET {mutation.column} = %s WHERE ctid = %s::tid"
            self._write(table, mutation.column, statement, value, (ctid,))
        else:
            value = self._value(table, mutation.column, ctid, mutation.value)
            columns = list(TABLES[table].columns)
            chosen = ", ".join("%s" if c == mutation.column else c for c in columns)
            statement = (
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {chosen} FROM {table}"
                " WHERE ctid = %s::tid"
            )
            self._write(table, mutation.column, statement, value, (ctid,))

    def _write(
        self, table: str, column: str, statement: str, value: object, rest: tuple[Any, ...]
    ) -> None:
        """Write ``value``; if the column's type refuses it, retype the column to text first."""
        if self._try(statement, (value, *rest)) or (table, column) in UNRETYPED:
            return
        if not self._try(
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE text USING {column}::text"
        ):
            return
        self.retyped.add((table, column))
        self._try(statement, (None if value is None else str(value), *rest))

    def _try(self, statement: str, params: tuple[Any, ...] = ()) -> bool:
        return self._attempt(lambda: self.connection.execute(statement, params))

    def _attempt(self, work: Callable[[], object]) -> bool:
        """Run ``work`` in a savepoint; a statement the database refuses changes nothing."""
        import psycopg

        self.connection.execute("SAVEPOINT mutation")
        try:
            work()
        except psycopg.Error:
            self.connection.execute("ROLLBACK TO SAVEPOINT mutation")
            return False
        self.connection.execute("RELEASE SAVEPOINT mutation")
        return True

    def _swap(self, table: str, first: str, second: str, column: str) -> None:
        if first == second:
            return
        execute = self.connection.execute
        read = f"SELECT {column} FROM {table} WHERE ctid = %s::tid"
        update = f"UPDATE {table} SET {column} = %s WHERE ctid = %s::tid RETURNING ctid::text"

        def swap() -> None:
            a, b = execute(read, (first,)).fetchone(), execute(read, (second,)).fetchone()
            assert a is not None
            assert b is not None
            temporary = -987_654_321 if isinstance(a[0], int) else "~swap~"
            moved = execute(update, (temporary, first)).fetchone()
            assert moved is not None
            execute(update, (a[0], second))
            execute(update, (b[0], moved[0]))

        self._attempt(swap)

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        found = {}
        for table, spec in TABLES.items():
            columns = ", ".join(f"CAST({c} AS TEXT)" for c in spec.columns)
            found[table] = list(self.connection.execute(f"SELECT {columns} FROM {table}"))
        return found


def _loosen_sqlite(path: Path) -> None:
    """No triggers and no NOT NULL; foreign keys and CHECKs are off on the attacker's connection."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            connection.execute(f'DROP TRIGGER "{name}"')
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute(
            "UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL,', ',') WHERE type = 'table'"
        )
        connection.execute("PRAGMA writable_schema = OFF")
    finally:
        connection.close()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _loosen_postgres(schema: str) -> None:
    """No CHECK or unique constraints, and no NOT NULL outside the primary keys.

    The copies made from it (``CREATE TABLE ... LIKE``) have no triggers or foreign keys.
    """
    with admin_connection() as admin:
        admin.execute(f'SET search_path TO "{schema}"')
        constraints = admin.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE contype IN ('c', 'u') AND connamespace = %s::regnamespace",
            (schema,),
        ).fetchall()
        for table, name in constraints:
            admin.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "{name}" CASCADE')
        for table, spec in TABLES.items():
            for column in spec.columns:
                if column not in spec.primary_key:
                    admin.execute(f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL")


COPIED = (*TABLES, "timebank_alembic_version")


@dataclass
class Template:
    """The built database, and its rows as read before any mutation."""

    dialect: str
    source: str
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    directory: Path | None = None

    @contextmanager
    def copy(self) -> Iterator[Target]:
        """A fresh copy of the database, removed afterwards."""
        copies = self._copy_sqlite if self.dialect == "sqlite" else self._copy_postgres
        yield from copies()

    def _copy_sqlite(self) -> Iterator[Target]:
        assert self.directory is not None
        path = self.directory / f"example-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self.source, path)
        target = SqliteTarget(path)
        try:
            yield target
        finally:
            target.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def _copy_postgres(self) -> Iterator[Target]:
        schema = f"tb_{uuid.uuid4().hex[:16]}"
        with admin_connection() as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
            for table in COPIED:
                admin.execute(
                    f'CREATE TABLE "{schema}".{table} (LIKE "{self.source}".{table} INCLUDING ALL)'
                )
                admin.execute(
                    f'INSERT INTO "{schema}".{table} SELECT * FROM "{self.source}".{table}'
                )
        url = make_url(postgres_base_url() or "").update_query_dict(
            {"options": f"-csearch_path={schema}", "application_name": schema}
        )
        target = PostgresTarget(url.render_as_string(hide_password=False), schema)
        try:
            yield target
        finally:
            target.close()
            with admin_connection() as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (schema,),
                )
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    directory = tmp_path_factory.mktemp("tamper")
    path = directory / "template.db"
    build(str(path))
    _loosen_sqlite(path)
    template = Template("sqlite", str(path), directory=directory)
    with template.copy() as target:
        template.rows = target.rows()
    return template


@pytest.fixture(scope="module")
def postgres_template() -> Iterator[Template]:
    if postgres_base_url() is None:
        pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    with postgres_schema() as (url, schema):
        build(url)
        _loosen_postgres(schema)
        template = Template("postgresql", schema)
        with template.copy() as target:
            template.rows = target.rows()
        yield template


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def template(request: pytest.FixtureRequest) -> Template:
    found: Template = request.getfixturevalue(f"{request.param}_template")
    return found


# --- what verify can see ---------------------------------------------------------------------


def _time(raw: object) -> datetime | None:
    """A stored time as the store reads it: ISO text, naive meaning UTC; None if it is none."""
    if type(raw) is not str:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _normal(kind: str, raw: object) -> object:
    """A value as it means, so that a change of spelling alone (``'5'`` for 5, a time in
    another zone, JSON with other spaces) does not count as a change."""
    if raw is None:
        return None
    if kind == INT:
        if type(raw) is int:
            return raw
        if type(raw) is str and INT_TEXT.fullmatch(raw):
            return int(raw)
    elif kind == TIME:
        moment = _time(raw)
        if moment is not None:
            return moment
    elif kind == JSON and type(raw) is str:
        try:
            return ("json", json.dumps(json.loads(raw), sort_keys=True))
        except ValueError:
            pass
    elif kind == TEXT and type(raw) is str:
        return raw
    return ("odd", type(raw).__name__, raw)


@dataclass(frozen=True)
class Seen:
    """A table's rows of one book: what each means, and what was stored."""

    rows: Counter[tuple[object, ...]]
    raw: dict[tuple[object, ...], tuple[Any, ...]]


def _by_book(rows: dict[str, list[tuple[Any, ...]]]) -> dict[tuple[str, str], Seen]:
    seen: dict[tuple[str, str], Seen] = {}
    for table, spec in TABLES.items():
        kinds = list(spec.columns.values())
        position = list(spec.columns).index(spec.book)
        for raw in rows[table]:
            book = raw[position]
            if type(book) is not str:
                continue  # a row that names no book belongs to none
            normal = tuple(_normal(kind, value) for kind, value in zip(kinds, raw, strict=True))
            entry = seen.setdefault((table, book), Seen(Counter(), {}))
            entry.rows[normal] += 1
            entry.raw[normal] = raw
    return seen


def required_books(
    before: dict[str, list[tuple[Any, ...]]],
    after: dict[str, list[tuple[Any, ...]]],
    target: Target,
) -> set[str]:
    """The books that a mutation changed in a way verify must report."""
    old, new = _by_book(before), _by_book(after)
    empty = Seen(Counter(), {})
    used = {
        (row[0], row[3])  # (book, account) of every posting before the mutation
        for row in before["postings"]
    }
    refusals = {_normal_refusal(row) for row in before["requests"] if _normal(INT, row[3]) is None}
    books = set()
    for table, book in old.keys() | new.keys():
        was, now = old.get((table, book), empty), new.get((table, book), empty)
        removed, added = was.rows - now.rows, now.rows - was.rows
        if not removed and not added:
            continue
        if table in SEALED:
            seen = True
        elif table == "accounts":
            seen = _accounts_seen(book, now, removed, added, used, target)
        else:
            seen = _requests_seen(now, removed, added, refusals)
        if seen:
            books.add(book)
    return books


def _normal_refusal(raw: tuple[Any, ...]) -> tuple[object, ...]:
    spec = TABLES["requests"].columns
    return tuple(
        _normal(kind, value)
        for (column, kind), value in zip(spec.items(), raw, strict=True)
        if column != "book_id"
    )


def _requests_seen(
    now: Seen,
    removed: Counter[tuple[object, ...]],
    added: Counter[tuple[object, ...]],
    refusals: set[tuple[object, ...]],
) -> bool:
    """A committed outcome changed, or a refusal no longer reads as one: verify sees it.
    A refusal removed, or moved whole, is not seen: nothing else records it."""
    sequence = list(TABLES["requests"].columns).index("sequence")
    if any(row[sequence] is not None for row in removed):
        return True
    for row in added:
        if row[sequence] is not None or _normal_refusal(now.raw[row]) not in refusals:
            return True
    return False


_BALANCES = ("posted_minutes", "debits_pending_minutes", "credits_pending_minutes")


def _accounts_seen(
    book: str,
    now: Seen,
    removed: Counter[tuple[object, ...]],
    added: Counter[tuple[object, ...]],
    used: set[tuple[str, str]],
    target: Target,
) -> bool:
    """Balances changed, an account the journal posts to went or came, or a value no
    account can hold. Other settings edited to valid values are not seen."""
    columns = list(TABLES["accounts"].columns)
    ident = columns.index("id")
    balances = [columns.index(c) for c in _BALANCES]
    for row in added:
        if _account_invalid(dict(zip(columns, now.raw[row], strict=True)), row, target):
            return True
    old = {row[ident]: row for row in removed}
    new = {row[ident]: row for row in added}
    for account_id in old.keys() | new.keys():
        before, after = old.get(account_id), new.get(account_id)
        if before is not None and after is not None:
            if [before[i] for i in balances] != [after[i] for i in balances]:
                return True
            continue
        row = before if before is not None else after
        assert row is not None
        if (book, account_id) in used or any(row[i] != 0 for i in balances):
            return True
    return False


def _account_invalid(raw: dict[str, Any], normal: tuple[object, ...], target: Target) -> bool:
    """Whether the store's reader or verify's account checks refuse this row."""
    values = dict(zip(TABLES["accounts"].columns, normal, strict=True))

    def integer(column: str, *, nullable: bool = False) -> bool:
        value = values[column]
        if value is None:
            return nullable
        return type(value) is int and ("accounts", column) not in target.retyped

    if type(raw["book_id"]) is not str or type(raw["id"]) is not str:
        return True
    if not all(integer(c) for c in _BALANCES):
        return True
    if not integer("balance_minutes_min", nullable=True):
        return True
    if not integer("balance_minutes_max", nullable=True):
        return True
    if _time(raw["opened_at"]) is None:
        return True
    if raw["closed_at"] is not None and _time(raw["closed_at"]) is None:
        return True
    try:
        metadata = json.loads(raw["metadata"]) if type(raw["metadata"]) is str else None
    except ValueError:
        return True
    if type(metadata) is not dict or not all(type(v) is str for v in metadata.values()):
        return True
    posted, debits, credits = (values[c] for c in _BALANCES)
    assert type(posted) is int
    assert type(debits) is int
    assert type(credits) is int
    minimum, maximum = values["balance_minutes_min"], values["balance_minutes_max"]
    if debits < 0 or credits < 0:
        return True
    if minimum is not None and (minimum > 0 or posted - debits < minimum):  # type: ignore[operator]
        return True
    return maximum is not None and (maximum < 0 or posted + credits > maximum)  # type: ignore[operator]


# --- the property -----------------------------------------------------------------------------

LEDGER_TABLES = frozenset(TABLES)
# Each example copies a database, runs verify twice (directly, and through the command, which
# opens its own store) and reads every table twice; the CI profile's thousand examples per
# property would take several minutes per database, so this test runs a quarter of them.
EXAMPLES = max(25, settings().max_examples // 4)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(mutations=MUTATIONS)
def test_verify_reports_any_tampering_and_never_raises(
    template: Template, mutations: list[Mutation]
) -> None:
    """However rows are edited, deleted, swapped or copied, verify reports what it can see
    as a break naming a sequence and a table, and never raises."""
    with template.copy() as target:
        for mutation in mutations:
            target.apply(mutation)
        after = target.rows()
        if target.postgres:
            assert isinstance(target, PostgresTarget)
            target.connection.commit()
        required = required_books(template.rows, after, target)
        _check_verify(target.url, required)
        _check_command(target.url, required)


def _check_verify(url: str, required: set[str]) -> None:
    with open_store(url, migrate=False) as store:
        for book_id in sorted(required | {BOOK}):
            report = Book(store, ManualClock(START), book_id).verify()
            if book_id not in required:
                continue
            found = report.first_break
            assert not report.ok, book_id
            assert found is not None
            assert type(found.sequence) is int, found
            assert found.table in LEDGER_TABLES, found


def _check_command(url: str, required: set[str]) -> None:
    result = CliRunner().invoke(main, ["--lang", "en", "verify", "--database", url])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    if not required:
        return
    assert result.exit_code == 1, result.output
    for book_id in required:
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in book_id)
        assert f"{shown}: BROKEN " in result.output, result.output
    if BOOK in required:
        (line,) = [line for line in result.output.splitlines() if line.startswith(f"{BOOK}: ")]
        assert re.search(r"sequence -?\d+, table [a-z]+:", line), line
