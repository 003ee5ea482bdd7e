"""The ledger's tables, as SQLAlchemy Core metadata; the migrations create exactly these.

Every table is keyed by book first, so that books (tenants) share one schema
and every query stays inside one book's part of each index:

- ``books``: one row per book, holding the head of its hash chain. Writers
  lock this row first, which serialises writers per book (the chain demands it).
- ``accounts``: settings and cached balances; balance reads are one row.
- ``transactions``: the journal, one row per committed record, append-only.
- ``postings``: one row per account per transaction (its leg, with the
  account's balances after it): the statement entries, append-only.
- ``holds``: each hold's state; its postings are the hold transaction's.
- ``reversals``: which transaction reversed which, at most once per original.
- ``checkpoints``: each book's last verify checkpoint (the sequence and hash a clean
  ``verify()`` ended at, and the state it needs to go on from there), replaced by the next.
- ``requests``: the idempotency record: every transaction id ever submitted
  (or made by the ledger), with its request and its outcome, either the
  committed sequence or the rejection's error.
- ``records``: the time bank's other state (members, policies, credits...),
  one opaque encoded document per ``(kind, record_id)``, with an optional
  secondary ``key`` for listing; written in the same transactions as the ledger.
- ``orders``: service orders, one opaque body per order with the columns the
  reports group and filter on; updated in place as an order moves on.
- ``outbox``: notifications written in the same transaction as the change
  they report, numbered by ``seq``; ``delivered_at`` is set once sent.

Only ``transactions`` and ``postings`` are append-only (the first migration's
triggers); ``orders`` and ``outbox`` rows are updated.

All times are stored in UTC and read back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from timebank.community.port import KIND_LENGTH_MAX, RECORD_KEY_LENGTH_MAX
from timebank.ledger.limits import STORED_ID_LENGTH_MAX

__all__ = [
    "ID",
    "MONTH_LENGTH",
    "NAMING_CONVENTION",
    "ORDER_LABEL_LENGTH_MAX",
    "ORDER_STATUS_LENGTH_MAX",
    "OUTBOX_KEY_LENGTH_MAX",
    "OUTBOX_TOPIC_LENGTH_MAX",
    "UtcDateTime",
    "accounts",
    "books",
    "checkpoints",
    "holds",
    "metadata",
    "orders",
    "outbox",
    "postings",
    "records",
    "requests",
    "reversals",
    "transactions",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ID = sa.String(STORED_ID_LENGTH_MAX)
HASH = sa.String(64)
RECORD_KIND = sa.String(KIND_LENGTH_MAX)
RECORD_KEY = sa.String(RECORD_KEY_LENGTH_MAX)
MINUTES = sa.BigInteger()

ORDER_STATUS_LENGTH_MAX = 16
"""Longest order status (``requested``, ``accepted``...)."""
ORDER_LABEL_LENGTH_MAX = 64
"""Longest category, community or grid of an order."""
MONTH_LENGTH = 7
"""A month is ``YYYY-MM``."""
OUTBOX_TOPIC_LENGTH_MAX = 64
"""Longest outbox topic."""
OUTBOX_KEY_LENGTH_MAX = 128
"""Longest outbox key."""

KINDS = ("transfer", "hold", "post", "void", "expire", "reversal")
HOLD_STATUSES = ("pending", "posted", "voided", "expired")


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    PostgreSQL keeps it as ``timestamptz``; SQLite as SQLAlchemy's fixed-width
    text, which sorts in time order. Either way the value read back encodes to
    the same canonical bytes as the value written, so hashes still verify.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert value.utcoffset() is not None, "the store keeps only aware datetimes"
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _time(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


books = sa.Table(
    "books",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("head_sequence", sa.BigInteger(), nullable=False),
    sa.Column("head_hash", HASH, nullable=False),
    _time("head_recorded_at", nullable=True),
    sa.CheckConstraint("head_sequence >= 0", name="head_sequence_not_negative"),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("book_id", ID, sa.ForeignKey("books.id"), primary_key=True),
    sa.Column("id", ID, primary_key=True),
    sa.Column("balance_minutes_min", MINUTES, nullable=True),
    sa.Column("balance_minutes_max", MINUTES, nullable=True),
    sa.Column("metadata", sa.JSON(), nullable=False),
    _time("opened_at", nullable=False),
    _time("closed_at", nullable=True),
    sa.Column("posted_minutes", MINUTES, nullable=False),
    sa.Column("debits_pending_minutes", MINUTES, nullable=False),
    sa.Column("credits_pending_minutes", MINUTES, nullable=False),
    sa.CheckConstraint("balance_minutes_min <= 0", name="minimum_not_positive"),
    sa.CheckConstraint("balance_minutes_max >= 0", name="maximum_not_negative"),
    sa.CheckConstraint("debits_pending_minutes >= 0", name="debits_pending_not_negative"),
    sa.CheckConstraint("credits_pending_minutes >= 0", name="credits_pending_not_negative"),
    # The bounds hold in the database too, not only in the ledger's checks.
    sa.CheckConstraint(
        "balance_minutes_min IS NULL"
        " OR posted_minutes - debits_pending_minutes >= balance_minutes_min",
        name="minimum_holds",
    ),
    sa.CheckConstraint(
        "balance_minutes_max IS NULL"
        " OR posted_minutes + credits_pending_minutes <= balance_minutes_max",
        name="maximum_holds",
    ),
)

transactions = sa.Table(
    "transactions",
    metadata,
    sa.Column("book_id", ID, sa.ForeignKey("books.id"), primary_key=True),
    sa.Column("sequence", sa.BigInteger(), primary_key=True),
    sa.Column("transaction_id", ID, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("metadata", sa.JSON(), nullable=False),
    _time("recorded_at", nullable=False),
    _time("effective_at", nullable=True),
    _time("expires_at", nullable=True),
    sa.Column("related_id", ID, nullable=True),
    sa.Column("previous_hash", HASH, nullable=False),
    sa.Column("hash", HASH, nullable=False),
    sa.UniqueConstraint("book_id", "transaction_id"),
    sa.CheckConstraint("sequence > 0", name="sequence_positive"),
    sa.CheckConstraint(
        "kind IN (" + ", ".join(f"'{kind}'" for kind in KINDS) + ")", name="kind_known"
    ),
    sa.Index(None, "book_id", "recorded_at"),
)

postings = sa.Table(
    "postings",
    metadata,
    sa.Column("book_id", ID, primary_key=True),
    sa.Column("sequence", sa.BigInteger(), primary_key=True),
    sa.Column("posting_index", sa.Integer(), primary_key=True),
    sa.Column("account_id", ID, nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("amount_minutes", MINUTES, nullable=False),
    sa.Column("posted_minutes", MINUTES, nullable=False),
    sa.Column("debits_pending_minutes", MINUTES, nullable=False),
    sa.Column("credits_pending_minutes", MINUTES, nullable=False),
    sa.ForeignKeyConstraint(
        ["book_id", "sequence"], ["transactions.book_id", "transactions.sequence"]
    ),
    sa.ForeignKeyConstraint(["book_id", "account_id"], ["accounts.book_id", "accounts.id"]),
    # One leg per account per transaction; also the statement index.
    sa.UniqueConstraint("book_id", "account_id", "sequence"),
    sa.CheckConstraint("amount_minutes > 0", name="amount_positive"),
    sa.CheckConstraint("side IN ('debit', 'credit')", name="side_known"),
    sa.CheckConstraint("posting_index >= 0", name="index_not_negative"),
)

holds = sa.Table(
    "holds",
    metadata,
    sa.Column("book_id", ID, primary_key=True),
    sa.Column("hold_id", ID, primary_key=True),
    sa.Column("sequence", sa.BigInteger(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    _time("expires_at", nullable=True),
    sa.Column("resolved_by", ID, nullable=True),
    sa.ForeignKeyConstraint(
        ["book_id", "sequence"], ["transactions.book_id", "transactions.sequence"]
    ),
    sa.ForeignKeyConstraint(
        ["book_id", "hold_id"], ["transactions.book_id", "transactions.transaction_id"]
    ),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{status}'" for status in HOLD_STATUSES) + ")",
        name="status_known",
    ),
    sa.CheckConstraint(
        "(status = 'pending') = (resolved_by IS NULL)", name="resolved_iff_not_pending"
    ),
    sa.Index(None, "book_id", "status", "expires_at"),
)

reversals = sa.Table(
    "reversals",
    metadata,
    sa.Column("book_id", ID, primary_key=True),
    sa.Column("original_id", ID, primary_key=True),
    sa.Column("reversal_id", ID, nullable=False),
    sa.ForeignKeyConstraint(
        ["book_id", "original_id"], ["transactions.book_id", "transactions.transaction_id"]
    ),
    sa.ForeignKeyConstraint(
        ["book_id", "reversal_id"], ["transactions.book_id", "transactions.transaction_id"]
    ),
    sa.UniqueConstraint("book_id", "reversal_id"),
)

requests = sa.Table(
    "requests",
    metadata,
    sa.Column("book_id", ID, sa.ForeignKey("books.id"), primary_key=True),
    sa.Column("transaction_id", ID, primary_key=True),
    sa.Column("request", sa.Text(), nullable=True),
    sa.Column("sequence", sa.BigInteger(), nullable=True),
    sa.Column("error", sa.JSON(none_as_null=True), nullable=True),
    sa.ForeignKeyConstraint(
        ["book_id", "sequence"], ["transactions.book_id", "transactions.sequence"]
    ),
    # Exactly one outcome: committed (a sequence) or rejected (an error, with its request).
    sa.CheckConstraint(
        "(sequence IS NOT NULL AND error IS NULL)"
        " OR (sequence IS NULL AND error IS NOT NULL AND request IS NOT NULL)",
        name="one_outcome",
    ),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("book_id", ID, sa.ForeignKey("books.id"), primary_key=True),
    sa.Column("sequence", sa.BigInteger(), nullable=False),
    sa.Column("hash", HASH, nullable=False),
    sa.Column("state", sa.Text(), nullable=False),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("book_id", ID, sa.ForeignKey("books.id"), primary_key=True),
    sa.Column("kind", RECORD_KIND, primary_key=True),
    sa.Column("record_id", ID, primary_key=True),
    sa.Column("key", RECORD_KEY, nullable=True),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    # Listing by secondary key, in id order, is one range of this index.
    sa.Index(None, "book_id", "kind", "key", "record_id"),
)

_LABEL = sa.String(ORDER_LABEL_LENGTH_MAX)
_TALLY_COLUMNS = (
    "book_id",
    "month",
    "category",
    "grid",
    "community",
    "cancelled",
    "processed",
    "on_time",
    "rating",
    "response_seconds",
    "completion_seconds",
    "credited_minutes",
)
_VOLUNTEER_TALLY_COLUMNS = (
    "book_id",
    "volunteer_id",
    "served_at",
    "processed",
    "credited_minutes",
    "rating",
    "community",
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("book_id", ID, sa.ForeignKey("books.id"), primary_key=True),
    sa.Column("order_id", ID, primary_key=True),
    sa.Column("status", sa.String(ORDER_STATUS_LENGTH_MAX), nullable=False),
    sa.Column("category", _LABEL, nullable=False),
    sa.Column("community", _LABEL, nullable=False),
    sa.Column("grid", _LABEL, nullable=False),
    sa.Column("recipient_id", ID, nullable=False),
    sa.Column("volunteer_id", ID, nullable=True),
    sa.Column("dispatched_to", ID, nullable=True),
    sa.Column("month", sa.String(MONTH_LENGTH), nullable=False),
    _time("requested_at", nullable=False),
    _time("due_at", nullable=True),
    sa.Column("cancelled", sa.Boolean(), nullable=False),
    sa.Column("processed", sa.Boolean(), nullable=False),
    sa.Column("on_time", sa.Boolean(), nullable=False),
    sa.Column("response_seconds", sa.Integer(), nullable=True),
    sa.Column("completion_seconds", sa.Integer(), nullable=True),
    sa.Column("rating", sa.Integer(), nullable=True),
    sa.Column("credited_minutes", MINUTES, nullable=False),
    _time("served_at", nullable=True),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    # Listing by status, in id order, is one range of this index.
    sa.Index(None, "book_id", "status", "order_id"),
    # A coordinator's listing (by community), and a member's (by the parties), in id order.
    sa.Index(None, "book_id", "community", "order_id"),
    sa.Index(None, "book_id", "recipient_id", "order_id"),
    sa.Index(None, "book_id", "dispatched_to", "order_id"),
    # Orders whose deadline has passed.
    sa.Index(None, "book_id", "due_at"),
    # The two reports read only these indexes (covering: every column they group, filter
    # or sum), in the order they group by, so they never visit the table's rows.
    sa.Index("ix_orders_tally", *_TALLY_COLUMNS),
    sa.Index("ix_orders_volunteer_tally", *_VOLUNTEER_TALLY_COLUMNS),
)

outbox = sa.Table(
    "outbox",
    metadata,
    # BIGINT GENERATED BY DEFAULT AS IDENTITY on PostgreSQL; on SQLite the rowid, with
    # AUTOINCREMENT so that a seq is never reused even after the newest rows are pruned.
    sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(), primary_key=True
    ),
    sa.Column("book_id", ID, sa.ForeignKey("books.id"), nullable=False),
    sa.Column("topic", sa.String(OUTBOX_TOPIC_LENGTH_MAX), nullable=False),
    sa.Column("key", sa.String(OUTBOX_KEY_LENGTH_MAX), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    _time("created_at", nullable=False),
    _time("delivered_at", nullable=True),
    # A book's pending messages after a cursor, in seq order, are one range of this index.
    sa.Index(None, "book_id", "delivered_at", "seq"),
    sqlite_autoincrement=True,
)
