"""Service orders and the outbox, kept beside the ledger, per book.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Neither table is append-only: an order's row is replaced as the order moves
on, and an outbox message is marked delivered once sent, so the append-only
triggers of the first migration do not cover them. Like the earlier
migrations, this one spells out its types (``DateTime(timezone=True)`` rather
than ``UtcDateTime``, literal lengths rather than the code's limits) so that it
never changes when the code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(length=144)  # timebank.ledger.limits.STORED_ID_LENGTH_MAX
STATUS = sa.String(length=16)  # timebank.store.tables.ORDER_STATUS_LENGTH_MAX
LABEL = sa.String(length=64)  # timebank.store.tables.ORDER_LABEL_LENGTH_MAX
MONTH = sa.String(length=7)  # YYYY-MM
TOPIC = sa.String(length=64)  # timebank.store.tables.OUTBOX_TOPIC_LENGTH_MAX
KEY = sa.String(length=128)  # timebank.store.tables.OUTBOX_KEY_LENGTH_MAX
TIME = sa.DateTime(timezone=True)

ORDER_INDEXES = {
    "ix_orders_book_id_status_order_id": ("book_id", "status", "order_id"),
    "ix_orders_book_id_due_at": ("book_id", "due_at"),
    # Covering indexes: the monthly and the volunteers' reports read nothing else.
    "ix_orders_tally": (
        "book_id",
        "month",
        "category",
        "grid",
        "cancelled",
        "processed",
        "on_time",
        "rating",
        "response_seconds",
        "completion_seconds",
        "credited_minutes",
    ),
    "ix_orders_volunteer_tally": (
        "book_id",
        "volunteer_id",
        "served_at",
        "processed",
        "credited_minutes",
        "rating",
    ),
}


def upgrade() -> None:
    _create_orders()
    _create_outbox()


def _create_orders() -> None:
    op.create_table(
        "orders",
        sa.Column("book_id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("category", LABEL, nullable=False),
        sa.Column("community", LABEL, nullable=False),
        sa.Column("grid", LABEL, nullable=False),
        sa.Column("recipient_id", ID, nullable=False),
        sa.Column("volunteer_id", ID, nullable=True),
        sa.Column("month", MONTH, nullable=False),
        sa.Column("requested_at", TIME, nullable=False),
        sa.Column("due_at", TIME, nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("response_seconds", sa.Integer(), nullable=True),
        sa.Column("completion_seconds", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("credited_minutes", sa.BigInteger(), nullable=False),
        sa.Column("served_at", TIME, nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_orders_book_id_books")),
        sa.PrimaryKeyConstraint("book_id", "order_id", name=op.f("pk_orders")),
    )
    for name, columns in ORDER_INDEXES.items():
        op.create_index(op.f(name), "orders", list(columns))


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        sa.Column("book_id", ID, nullable=False),
        sa.Column("topic", TOPIC, nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("delivered_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_outbox_book_id_books")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_outbox_book_id_delivered_at_seq"), "outbox", ["book_id", "delivered_at", "seq"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_book_id_delivered_at_seq"), table_name="outbox")
    op.drop_table("outbox")
    for name in reversed(ORDER_INDEXES):
        op.drop_index(op.f(name), table_name="orders")
    op.drop_table("orders")
