"""Every SQL statement the store runs, built once at import.

Building a Core statement costs more than running a cached one, so the hot
path reuses these objects; SQLAlchemy's compiled cache then makes each
execution a lookup plus the driver call. ``_pg`` variants lock rows
(``SELECT ... FOR UPDATE``); SQLite needs no row locks because
``BEGIN IMMEDIATE`` already gives a writer the whole file.

The reads select times and JSON through ``stored_text``: the text the
database keeps, which ``timebank.store.codec`` parses and checks. A value no
driver type could load (a PostgreSQL timestamp of ``infinity``, malformed JSON
in a SQLite file) is then reported by the codec rather than failing the fetch.
Their columns come in the order of the codec's ``*_COLUMNS``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from timebank.store.tables import (
    accounts,
    books,
    checkpoints,
    holds,
    postings,
    requests,
    reversals,
    transactions,
)

__all__ = [
    "ACCOUNT",
    "ACCOUNTS_AFTER",
    "ACCOUNTS_FIRST",
    "ACCOUNTS_IN",
    "ACCOUNTS_IN_FOR_UPDATE",
    "BALANCE_BEFORE",
    "BOOK_HAS_ROWS",
    "BOOK_IDS",
    "CHECKPOINT",
    "DELETE_CHECKPOINT",
    "DUE_HOLDS",
    "EFFECTIVE_DELTAS",
    "ENTRIES",
    "FIND",
    "FIND_MANY",
    "HEAD",
    "HEAD_FOR_UPDATE",
    "HOLD",
    "HOLDS_AFTER",
    "HOLDS_FIRST",
    "INSERT_ACCOUNT",
    "INSERT_BOOK",
    "INSERT_CHECKPOINT",
    "INSERT_HOLD",
    "INSERT_POSTING",
    "INSERT_REQUEST",
    "INSERT_REVERSAL",
    "INSERT_TRANSACTION",
    "JOURNAL",
    "JOURNAL_STRAYS",
    "LAST_SEQUENCE_AT",
    "OUTCOMES_AFTER",
    "OUTCOMES_FIRST",
    "POSTINGS_AFTER",
    "POSTINGS_OF",
    "POSTINGS_RANGE",
    "POSTINGS_RANGE_STATED",
    "REVERSAL",
    "REVERSALS_AFTER",
    "REVERSALS_FIRST",
    "STRAY_BOOK_IDS",
    "TRANSACTION",
    "TRANSACTIONS_IN",
    "UPDATE_ACCOUNT",
    "UPDATE_HEAD",
    "VerifyReads",
    "stored_text",
    "verify_reads",
]


class _StoredText(sa.sql.functions.FunctionElement[str]):
    type = sa.Text()
    inherit_cache = True


@compiles(_StoredText)
def _as_stored(element: _StoredText, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_StoredText, "postgresql")
def _as_text(element: _StoredText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


def stored_text(column: sa.ColumnElement[Any]) -> sa.Label[str]:
    """A time or JSON column as the text the database keeps, under the column's name.

    SQLite's values come back as stored (text, or whatever was written there);
    PostgreSQL's are cast to text, which its drivers load whatever the value.
    """
    return _StoredText(column).label(column.key)


_book: sa.BindParameter[str] = sa.bindparam("book_id")
p = postings.c
t = transactions.c
a = accounts.c
h = holds.c
r = requests.c

_transaction_columns = (
    t.book_id,
    t.sequence,
    t.transaction_id,
    t.kind,
    t.code,
    stored_text(t.metadata),
    stored_text(t.recorded_at),
    stored_text(t.effective_at),
    stored_text(t.expires_at),
    t.related_id,
    t.previous_hash,
    t.hash,
)
_posting_columns = (p.sequence, p.posting_index, p.account_id, p.side, p.amount_minutes)
_account_columns = (
    a.book_id,
    a.id,
    a.balance_minutes_min,
    a.balance_minutes_max,
    stored_text(a.metadata),
    stored_text(a.opened_at),
    stored_text(a.closed_at),
    a.posted_minutes,
    a.debits_pending_minutes,
    a.credits_pending_minutes,
)
_hold_columns = (h.hold_id, h.sequence, h.status, stored_text(h.expires_at), h.resolved_by)
_outcome_columns = (r.transaction_id, r.request, r.sequence, stored_text(r.error))

HEAD = sa.select(
    books.c.head_sequence, books.c.head_hash, stored_text(books.c.head_recorded_at)
).where(books.c.id == _book)
HEAD_FOR_UPDATE = HEAD.with_for_update()
BOOK_IDS = sa.select(books.c.id).order_by(books.c.id)
INSERT_BOOK = sa.insert(books)
UPDATE_HEAD = (
    sa.update(books)
    .where(books.c.id == sa.bindparam("b_book_id"))
    .values(
        head_sequence=sa.bindparam("b_sequence"),
        head_hash=sa.bindparam("b_hash"),
        head_recorded_at=sa.bindparam("b_recorded_at", type_=books.c.head_recorded_at.type),
    )
)

FIND = sa.select(*_outcome_columns).where(
    r.book_id == _book, r.transaction_id == sa.bindparam("transaction_id")
)
FIND_MANY = sa.select(*_outcome_columns).where(
    r.book_id == _book, r.transaction_id.in_(sa.bindparam("ids", expanding=True))
)
OUTCOMES_FIRST = (
    sa.select(*_outcome_columns)
    .where(r.book_id == _book)
    .order_by(r.transaction_id)
    .limit(sa.bindparam("limit"))
)
OUTCOMES_AFTER = (
    sa.select(*_outcome_columns)
    .where(r.book_id == _book, r.transaction_id > sa.bindparam("after"))
    .order_by(r.transaction_id)
    .limit(sa.bindparam("limit"))
)
TRANSACTIONS_IN = sa.select(*_transaction_columns).where(
    t.book_id == _book, t.sequence.in_(sa.bindparam("seqs", expanding=True))
)
TRANSACTION = sa.select(*_transaction_columns).where(
    t.book_id == _book, t.sequence == sa.bindparam("seq")
)
POSTINGS_OF = (
    sa.select(*_posting_columns)
    .where(p.book_id == _book, p.sequence.in_(sa.bindparam("seqs", expanding=True)))
    .order_by(p.sequence, p.posting_index)
)
JOURNAL = (
    sa.select(*_transaction_columns)
    .where(t.book_id == _book, t.sequence > sa.bindparam("after"))
    .order_by(t.sequence)
    .limit(sa.bindparam("limit"))
)
POSTINGS_RANGE = (
    sa.select(*_posting_columns)
    .where(
        p.book_id == _book,
        p.sequence > sa.bindparam("after"),
        p.sequence <= sa.bindparam("last"),
    )
    .order_by(p.sequence, p.posting_index)
)
# The same postings with the balances each one's statement entry states after it.
POSTINGS_RANGE_STATED = (
    sa.select(
        *_posting_columns, p.posted_minutes, p.debits_pending_minutes, p.credits_pending_minutes
    )
    .where(
        p.book_id == _book,
        p.sequence > sa.bindparam("after"),
        p.sequence <= sa.bindparam("last"),
    )
    .order_by(p.sequence, p.posting_index)
)
# Journal rows that no page of the journal reaches: a sequence that is missing or below 1.
JOURNAL_STRAYS = sa.union_all(
    sa.select(sa.literal("transactions").label("tbl"), t.sequence).where(
        t.book_id == _book, sa.or_(t.sequence.is_(None), t.sequence < 1)
    ),
    sa.select(sa.literal("postings").label("tbl"), p.sequence).where(
        p.book_id == _book, sa.or_(p.sequence.is_(None), p.sequence < 1)
    ),
).limit(1)
# The first posting after a sequence (after the journal's last record, there should be none).
POSTINGS_AFTER = (
    sa.select(p.sequence)
    .where(p.book_id == _book, p.sequence > sa.bindparam("after"))
    .order_by(p.sequence)
    .limit(1)
)

ACCOUNT = sa.select(*_account_columns).where(a.book_id == _book, a.id == sa.bindparam("account_id"))
ACCOUNTS_IN = (
    sa.select(*_account_columns)
    .where(a.book_id == _book, a.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(a.id)
)
# Rows are locked in the order the scan meets them: by id, so every writer locks alike.
ACCOUNTS_IN_FOR_UPDATE = ACCOUNTS_IN.with_for_update()
ACCOUNTS_FIRST = (
    sa.select(*_account_columns)
    .where(a.book_id == _book)
    .order_by(a.id)
    .limit(sa.bindparam("limit"))
)
ACCOUNTS_AFTER = (
    sa.select(*_account_columns)
    .where(a.book_id == _book, a.id > sa.bindparam("after"))
    .order_by(a.id)
    .limit(sa.bindparam("limit"))
)
INSERT_ACCOUNT = sa.insert(accounts)
UPDATE_ACCOUNT = (
    sa.update(accounts)
    .where(a.book_id == sa.bindparam("b_book_id"), a.id == sa.bindparam("b_id"))
    .values(
        closed_at=sa.bindparam("b_closed_at", type_=a.closed_at.type),
        posted_minutes=sa.bindparam("b_posted"),
        debits_pending_minutes=sa.bindparam("b_debits_pending"),
        credits_pending_minutes=sa.bindparam("b_credits_pending"),
    )
)

HOLD = sa.select(*_hold_columns).where(h.book_id == _book, h.hold_id == sa.bindparam("hold_id"))
HOLD_COLUMNS = _hold_columns
# A hold and its record's postings in one query (a row of NULL postings if it has none).
HOLD_WITH_POSTINGS = (
    sa.select(*_hold_columns, *_posting_columns)
    .select_from(
        holds.outerjoin(postings, sa.and_(p.book_id == h.book_id, p.sequence == h.sequence))
    )
    .where(h.book_id == _book, h.hold_id == sa.bindparam("hold_id"))
    .order_by(p.posting_index)
)
HOLDS_FIRST = (
    sa.select(*_hold_columns)
    .where(h.book_id == _book)
    .order_by(h.hold_id)
    .limit(sa.bindparam("limit"))
)
HOLDS_AFTER = (
    sa.select(*_hold_columns)
    .where(h.book_id == _book, h.hold_id > sa.bindparam("after"))
    .order_by(h.hold_id)
    .limit(sa.bindparam("limit"))
)
DUE_HOLDS = (
    sa.select(*_hold_columns)
    .where(
        holds.c.book_id == _book,
        holds.c.status == "pending",
        holds.c.expires_at <= sa.bindparam("moment"),
    )
    .order_by(holds.c.expires_at, holds.c.hold_id)
    .limit(sa.bindparam("limit"))
)
INSERT_HOLD = sa.insert(holds)
REVERSAL = sa.select(reversals.c.reversal_id).where(
    reversals.c.book_id == _book, reversals.c.original_id == sa.bindparam("original_id")
)
_reversal_columns = (reversals.c.original_id, reversals.c.reversal_id)
REVERSALS_FIRST = (
    sa.select(*_reversal_columns)
    .where(reversals.c.book_id == _book)
    .order_by(reversals.c.original_id)
    .limit(sa.bindparam("limit"))
)
REVERSALS_AFTER = (
    sa.select(*_reversal_columns)
    .where(reversals.c.book_id == _book, reversals.c.original_id > sa.bindparam("after"))
    .order_by(reversals.c.original_id)
    .limit(sa.bindparam("limit"))
)

CHECKPOINT = sa.select(checkpoints.c.sequence, checkpoints.c.hash, checkpoints.c.state).where(
    checkpoints.c.book_id == _book
)
DELETE_CHECKPOINT = sa.delete(checkpoints).where(checkpoints.c.book_id == _book)
INSERT_CHECKPOINT = sa.insert(checkpoints)

_ledger_tables = (accounts, transactions, postings, holds, reversals, requests)
# Whether any ledger table has rows of a book (that may have lost its row in books).
BOOK_HAS_ROWS = sa.select(
    sa.or_(*(sa.exists().where(table.c.book_id == _book) for table in _ledger_tables))
)
# Book ids that ledger rows carry but books does not: a book whose row was removed or renamed.
_named = sa.union(*(sa.select(table.c.book_id) for table in _ledger_tables)).subquery()
STRAY_BOOK_IDS = (
    sa.select(_named.c.book_id)
    .where(_named.c.book_id.is_not(None), ~sa.exists().where(books.c.id == _named.c.book_id))
    .order_by(_named.c.book_id)
)
INSERT_REVERSAL = sa.insert(reversals)
INSERT_REQUEST = sa.insert(requests)
INSERT_TRANSACTION = sa.insert(transactions)
INSERT_POSTING = sa.insert(postings)

_entry_columns: tuple[Any, ...] = (
    p.sequence,
    p.posted_minutes,
    p.debits_pending_minutes,
    p.credits_pending_minutes,
    t.transaction_id,
    t.kind,
    t.code,
    stored_text(t.recorded_at),
    stored_text(t.effective_at),
)
_joined = postings.join(transactions, sa.and_(t.book_id == p.book_id, t.sequence == p.sequence))
ENTRIES = (
    sa.select(*_entry_columns)
    .select_from(_joined)
    .where(
        p.book_id == _book,
        p.account_id == sa.bindparam("account_id"),
        p.sequence > sa.bindparam("after"),
    )
    .order_by(p.sequence)
    .limit(sa.bindparam("limit"))
)
# The balances after the account's last entry at or before a sequence (one index probe).
BALANCE_BEFORE = (
    sa.select(p.posted_minutes, p.debits_pending_minutes, p.credits_pending_minutes)
    .where(
        p.book_id == _book,
        p.account_id == sa.bindparam("account_id"),
        p.sequence <= sa.bindparam("seq"),
    )
    .order_by(p.sequence.desc())
    .limit(1)
)
# Recorded times increase with the sequence, so the last record at or before a moment is
# one backwards probe of the (book_id, recorded_at) index.
LAST_SEQUENCE_AT = (
    sa.select(t.sequence)
    .where(t.book_id == _book, t.recorded_at <= sa.bindparam("moment"))
    .order_by(t.recorded_at.desc())
    .limit(1)
)
# Each entry's change (balances after it less those after the entry before), with its
# effective time; summed for the entries effective at or before a moment.


def _delta(column: sa.Column[int], label: str) -> sa.Label[int]:
    """The column's value less its value on the account's entry before."""
    before = sa.func.lag(column, 1, 0).over(order_by=p.sequence)
    return (column - before).label(label)


_deltas = (
    sa.select(
        _delta(p.posted_minutes, "posted"),
        _delta(p.debits_pending_minutes, "debits_pending"),
        _delta(p.credits_pending_minutes, "credits_pending"),
        sa.func.coalesce(t.effective_at, t.recorded_at).label("effective_at"),
    )
    .select_from(_joined)
    .where(p.book_id == _book, p.account_id == sa.bindparam("account_id"))
    .subquery()
)
EFFECTIVE_DELTAS = sa.select(
    sa.func.coalesce(sa.func.sum(_deltas.c.posted), 0),
    sa.func.coalesce(sa.func.sum(_deltas.c.debits_pending), 0),
    sa.func.coalesce(sa.func.sum(_deltas.c.credits_pending), 0),
).where(_deltas.c.effective_at <= sa.bindparam("moment", type_=t.recorded_at.type))


class VerifyReads:
    """``verify()``'s bulk reads as driver SQL, run on the DBAPI cursor (``SqlReader``):
    the journal with each posting's stated balances, and the remembered outcomes.

    They select what ``JOURNAL``, ``POSTINGS_RANGE_STATED``, ``FIND_MANY`` and
    ``OUTCOMES_*`` select, in the same column order, times and JSON as stored text.
    """

    def __init__(self, mark: str, text: str, any_of: str) -> None:
        def as_text(column: str) -> str:
            return text.format(column)

        self.mark = mark
        self.any_of = any_of
        self.JOURNAL = (
            "SELECT book_id, sequence, transaction_id, kind, code, "
            + ", ".join(
                as_text(column)
                for column in ("metadata", "recorded_at", "effective_at", "expires_at")
            )
            + f", related_id, previous_hash, hash FROM transactions"
            f" WHERE book_id = {mark} AND sequence > {mark} ORDER BY sequence LIMIT {mark}"
        )
        self.POSTINGS_STATED = (
            "SELECT sequence, posting_index, account_id, side, amount_minutes, posted_minutes,"
            " debits_pending_minutes, credits_pending_minutes FROM postings"
            f" WHERE book_id = {mark} AND sequence > {mark} AND sequence <= {mark}"
            " ORDER BY sequence, posting_index"
        )
        outcome = f"SELECT transaction_id, request, sequence, {as_text('error')} FROM requests"
        self.FIND_MANY = f"{outcome} WHERE book_id = {mark} AND transaction_id "
        self.OUTCOMES_FIRST = (
            f"{outcome} WHERE book_id = {mark} ORDER BY transaction_id LIMIT {mark}"
        )
        self.OUTCOMES_AFTER = (
            f"{outcome} WHERE book_id = {mark} AND transaction_id > {mark}"
            f" ORDER BY transaction_id LIMIT {mark}"
        )

    def find_many(self, count: int) -> str:
        """``FIND_MANY`` for ``count`` ids (SQLite: that many marks; PostgreSQL: one array)."""
        if self.any_of:
            return self.FIND_MANY + self.any_of
        return self.FIND_MANY + "IN (" + ", ".join(self.mark * count) + ")"


_VERIFY_READS = {
    "sqlite": VerifyReads("?", "{}", ""),
    "postgresql": VerifyReads("%s", "CAST({} AS TEXT)", "= ANY(%s)"),
}


def verify_reads(dialect: str) -> VerifyReads | None:
    """The driver SQL of ``verify()``'s bulk reads for a dialect, if it has them."""
    return _VERIFY_READS.get(dialect)
