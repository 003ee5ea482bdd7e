"""The time bank's records: encoded documents kept beside the ledger, per book.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Like the first migration, this one spells out its types rather than reading
the port's length limits, so that it never changes when the code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(length=144)  # timebank.ledger.limits.STORED_ID_LENGTH_MAX
KIND = sa.String(length=32)  # timebank.community.port.KIND_LENGTH_MAX
KEY = sa.String(length=128)  # timebank.community.port.RECORD_KEY_LENGTH_MAX


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("book_id", ID, nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("key", KEY, nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_records_book_id_books")),
        sa.PrimaryKeyConstraint("book_id", "kind", "record_id", name=op.f("pk_records")),
    )
    op.create_index(
        op.f("ix_records_book_id_kind_key_record_id"),
        "records",
        ["book_id", "kind", "key", "record_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_records_book_id_kind_key_record_id"), table_name="records")
    op.drop_table("records")
