"""The ledger's tables, and the triggers that keep committed rows append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

On PostgreSQL, a deferred constraint trigger also refuses, at commit, any
transaction whose postings do not balance or number fewer than two. The
migration spells out its types (``DateTime(timezone=True)`` rather than the
store's ``UtcDateTime`` wrapper) so that it never changes when the code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(length=144)  # timebank.ledger.limits.STORED_ID_LENGTH_MAX
HASH = sa.String(length=64)
TIME = sa.DateTime(timezone=True)
APPEND_ONLY = ("transactions", "postings")

PG_REFUSE_CHANGE = """
CREATE FUNCTION timebank_refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    RAISE EXCEPTION 'timebank: % of % refused: committed ledger rows are append-only',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$
"""

PG_CHECK_BALANCED = """
CREATE FUNCTION timebank_check_balanced() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    legs bigint;
    debits numeric;
    credits numeric;
BEGIN
    SELECT count(*),
           coalesce(sum(amount_minutes) FILTER (WHERE side = 'debit'), 0),
           coalesce(sum(amount_minutes) FILTER (WHERE side = 'credit'), 0)
      INTO legs, debits, credits
      FROM postings
     WHERE book_id = NEW.book_id AND sequence = NEW.sequence;
    IF legs < 2 OR debits <> credits THEN
        RAISE EXCEPTION 'timebank: transaction #% of book % does not balance'
            ' (% postings, % debited, % credited)',
            NEW.sequence, NEW.book_id, legs, debits, credits
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _create_postgresql_triggers()
    else:
        _create_sqlite_triggers()


def _create_tables() -> None:
    op.create_table(
        "books",
        sa.Column("id", ID, nullable=False),
        sa.Column("head_sequence", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", HASH, nullable=False),
        sa.Column("head_recorded_at", TIME, nullable=True),
        sa.CheckConstraint("head_sequence >= 0", name=op.f("ck_books_head_sequence_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_books")),
    )
    op.create_table(
        "accounts",
        sa.Column("book_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("balance_minutes_min", sa.BigInteger(), nullable=True),
        sa.Column("balance_minutes_max", sa.BigInteger(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("opened_at", TIME, nullable=False),
        sa.Column("closed_at", TIME, nullable=True),
        sa.Column("posted_minutes", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending_minutes", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending_minutes", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "balance_minutes_min <= 0", name=op.f("ck_accounts_minimum_not_positive")
        ),
        sa.CheckConstraint(
            "balance_minutes_max >= 0", name=op.f("ck_accounts_maximum_not_negative")
        ),
        sa.CheckConstraint(
            "debits_pending_minutes >= 0", name=op.f("ck_accounts_debits_pending_not_negative")
        ),
        sa.CheckConstraint(
            "credits_pending_minutes >= 0", name=op.f("ck_accounts_credits_pending_not_negative")
        ),
        sa.CheckConstraint(
            "balance_minutes_min IS NULL"
            " OR posted_minutes - debits_pending_minutes >= balance_minutes_min",
            name=op.f("ck_accounts_minimum_holds"),
        ),
        sa.CheckConstraint(
            "balance_minutes_max IS NULL"
            " OR posted_minutes + credits_pending_minutes <= balance_minutes_max",
            name=op.f("ck_accounts_maximum_holds"),
        ),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_accounts_book_id_books")),
        sa.PrimaryKeyConstraint("book_id", "id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "transactions",
        sa.Column("book_id", ID, nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.Column("effective_at", TIME, nullable=True),
        sa.Column("expires_at", TIME, nullable=True),
        sa.Column("related_id", ID, nullable=True),
        sa.Column("previous_hash", HASH, nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.CheckConstraint(
            "kind IN ('transfer', 'hold', 'post', 'void', 'expire', 'reversal')",
            name=op.f("ck_transactions_kind_known"),
        ),
        sa.CheckConstraint("sequence > 0", name=op.f("ck_transactions_sequence_positive")),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_transactions_book_id_books")
        ),
        sa.PrimaryKeyConstraint("book_id", "sequence", name=op.f("pk_transactions")),
        sa.UniqueConstraint(
            "book_id", "transaction_id", name=op.f("uq_transactions_book_id_transaction_id")
        ),
    )
    op.create_index(
        op.f("ix_transactions_book_id_recorded_at"), "transactions", ["book_id", "recorded_at"]
    )
    op.create_table(
        "holds",
        sa.Column("book_id", ID, nullable=False),
        sa.Column("hold_id", ID, nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", TIME, nullable=True),
        sa.Column("resolved_by", ID, nullable=True),
        sa.CheckConstraint(
            "(status = 'pending') = (resolved_by IS NULL)",
            name=op.f("ck_holds_resolved_iff_not_pending"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'posted', 'voided', 'expired')",
            name=op.f("ck_holds_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id", "hold_id"],
            ["transactions.book_id", "transactions.transaction_id"],
            name=op.f("fk_holds_book_id_hold_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id", "sequence"],
            ["transactions.book_id", "transactions.sequence"],
            name=op.f("fk_holds_book_id_sequence_transactions"),
        ),
        sa.PrimaryKeyConstraint("book_id", "hold_id", name=op.f("pk_holds")),
    )
    op.create_index(
        op.f("ix_holds_book_id_status_expires_at"), "holds", ["book_id", "status", "expires_at"]
    )
    op.create_table(
        "postings",
        sa.Column("book_id", ID, nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("posting_index", sa.Integer(), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("amount_minutes", sa.BigInteger(), nullable=False),
        sa.Column("posted_minutes", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending_minutes", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending_minutes", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("side IN ('debit', 'credit')", name=op.f("ck_postings_side_known")),
        sa.CheckConstraint("amount_minutes > 0", name=op.f("ck_postings_amount_positive")),
        sa.CheckConstraint("posting_index >= 0", name=op.f("ck_postings_index_not_negative")),
        sa.ForeignKeyConstraint(
            ["book_id", "account_id"],
            ["accounts.book_id", "accounts.id"],
            name=op.f("fk_postings_book_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id", "sequence"],
            ["transactions.book_id", "transactions.sequence"],
            name=op.f("fk_postings_book_id_sequence_transactions"),
        ),
        sa.PrimaryKeyConstraint("book_id", "sequence", "posting_index", name=op.f("pk_postings")),
        sa.UniqueConstraint(
            "book_id",
            "account_id",
            "sequence",
            name=op.f("uq_postings_book_id_account_id_sequence"),
        ),
    )
    op.create_table(
        "requests",
        sa.Column("book_id", ID, nullable=False),
        sa.Column("transaction_id", ID, nullable=False),
        sa.Column("request", sa.Text(), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "(sequence IS NOT NULL AND error IS NULL)"
            " OR (sequence IS NULL AND error IS NOT NULL AND request IS NOT NULL)",
            name=op.f("ck_requests_one_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id", "sequence"],
            ["transactions.book_id", "transactions.sequence"],
            name=op.f("fk_requests_book_id_sequence_transactions"),
        ),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_requests_book_id_books")),
        sa.PrimaryKeyConstraint("book_id", "transaction_id", name=op.f("pk_requests")),
    )
    op.create_table(
        "reversals",
        sa.Column("book_id", ID, nullable=False),
        sa.Column("original_id", ID, nullable=False),
        sa.Column("reversal_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id", "original_id"],
            ["transactions.book_id", "transactions.transaction_id"],
            name=op.f("fk_reversals_book_id_original_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id", "reversal_id"],
            ["transactions.book_id", "transactions.transaction_id"],
            name=op.f("fk_reversals_book_id_reversal_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("book_id", "original_id", name=op.f("pk_reversals")),
        sa.UniqueConstraint(
            "book_id", "reversal_id", name=op.f("uq_reversals_book_id_reversal_id")
        ),
    )


def _create_postgresql_triggers() -> None:
    op.execute(PG_REFUSE_CHANGE)
    op.execute(PG_CHECK_BALANCED)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION timebank_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION timebank_refuse_change()"
        )
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_balanced AFTER INSERT ON {table}"
            " DEFERRABLE INITIALLY DEFERRED"
            " FOR EACH ROW EXECUTE FUNCTION timebank_check_balanced()"
        )


def _create_sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table}"
                " BEGIN SELECT RAISE(ABORT, 'timebank: committed ledger rows are append-only');"
                " END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            for trigger in ("append_only", "no_truncate", "balanced"):
                op.execute(f"DROP TRIGGER {table}_{trigger} ON {table}")
        op.execute("DROP FUNCTION timebank_check_balanced()")
        op.execute("DROP FUNCTION timebank_refuse_change()")
    else:
        for table in APPEND_ONLY:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{operation}")
    for table in ("reversals", "requests", "postings", "holds", "transactions", "accounts"):
        op.drop_table(table)
    op.drop_table("books")
