"""Verify checkpoints: where each book's last clean verify ended.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

- ``checkpoints``: one row per book, replaced by each verify that records one: the
  sequence and hash it is bound to, and the state (balances, pending holds) as JSON text
  that an incremental verify goes on from (decision 0026).

Like the earlier migrations, this one spells out its types, so that it never changes when
the code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.String(length=144)  # timebank.ledger.limits.STORED_ID_LENGTH_MAX
HASH = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("book_id", ID, nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_checkpoints_book_id_books")
        ),
        sa.PrimaryKeyConstraint("book_id", name=op.f("pk_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("checkpoints")
