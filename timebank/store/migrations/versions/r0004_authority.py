"""Listings that only show what a caller may see, and reports scoped to communities.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

- ``orders.dispatched_to``: the volunteer an order waits on, so a member's
  listing of their orders is one indexed query; filled from each order's body.
- indexes for listing orders by community and by the members on them;
- the two report indexes cover ``community`` too, so a coordinator's report of
  their communities still reads the index alone;
- ``proxy_of`` records: every proxy authorisation indexed by the proxy as well
  as by the member, so a proxy's listings find the members they act for;
- ``credit_to`` records: every credit indexed by its recipient as well as by its
  provider, so a recipient finds the services that wait for their confirmation.

Like the earlier migrations, this one spells out its types and reads bodies
with the standard library, so that it never changes when the code does.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.String(length=144)  # timebank.ledger.limits.STORED_ID_LENGTH_MAX

TALLY_BEFORE = (
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
)
TALLY_AFTER = (*TALLY_BEFORE[:4], "community", *TALLY_BEFORE[4:])
VOLUNTEER_BEFORE = (
    "book_id",
    "volunteer_id",
    "served_at",
    "processed",
    "credited_minutes",
    "rating",
)
VOLUNTEER_AFTER = (*VOLUNTEER_BEFORE, "community")
LISTINGS = {
    "ix_orders_book_id_community_order_id": ("book_id", "community", "order_id"),
    "ix_orders_book_id_recipient_id_order_id": ("book_id", "recipient_id", "order_id"),
    "ix_orders_book_id_dispatched_to_order_id": ("book_id", "dispatched_to", "order_id"),
}


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("dispatched_to", ID, nullable=True))
    _fill_dispatched_to()
    _replace_index("ix_orders_tally", TALLY_AFTER)
    _replace_index("ix_orders_volunteer_tally", VOLUNTEER_AFTER)
    for name, columns in LISTINGS.items():
        op.create_index(op.f(name), "orders", list(columns))
    _index_proxies_by_proxy()
    _index_credits_by_recipient()


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM records WHERE kind IN ('proxy_of', 'credit_to')"))
    for name in LISTINGS:
        op.drop_index(op.f(name), table_name="orders")
    _replace_index("ix_orders_volunteer_tally", VOLUNTEER_BEFORE)
    _replace_index("ix_orders_tally", TALLY_BEFORE)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("dispatched_to")


def _replace_index(name: str, columns: tuple[str, ...]) -> None:
    op.drop_index(op.f(name), table_name="orders")
    op.create_index(op.f(name), "orders", list(columns))


def _fill_dispatched_to() -> None:
    """Copy each waiting order's dispatched volunteer from its body into the new column."""
    connection = op.get_bind()
    select = sa.text(
        "SELECT book_id, order_id, body FROM orders WHERE status = 'dispatched'"
        " ORDER BY book_id, order_id"
    )
    update = sa.text(
        "UPDATE orders SET dispatched_to = :volunteer WHERE book_id = :book AND order_id = :order"
    )
    for book_id, order_id, body in connection.execute(select).fetchall():
        volunteer = json.loads(bytes(body)).get("dispatched_to")
        if volunteer is not None:
            connection.execute(update, {"volunteer": volunteer, "book": book_id, "order": order_id})


def _index_proxies_by_proxy() -> None:
    """Write a ``proxy_of`` record (keyed by the proxy) beside every ``proxy`` record."""
    connection = op.get_bind()
    select = sa.text("SELECT book_id, body FROM records WHERE kind = 'proxy'")
    insert = sa.text(
        "INSERT INTO records (book_id, kind, record_id, key, body)"
        " VALUES (:book, 'proxy_of', :record, :proxy, :body)"
    )
    for book_id, body in connection.execute(select).fetchall():
        proxy = json.loads(bytes(body))
        record_id = f"{proxy['proxy_id']}>{proxy['member_id']}"
        connection.execute(
            insert,
            {"book": book_id, "record": record_id, "proxy": proxy["proxy_id"], "body": bytes(body)},
        )


def _index_credits_by_recipient() -> None:
    """Write a ``credit_to`` record (keyed by the recipient) beside every credit that has one."""
    connection = op.get_bind()
    select = sa.text("SELECT book_id, record_id, body FROM records WHERE kind = 'credit'")
    insert = sa.text(
        "INSERT INTO records (book_id, kind, record_id, key, body)"
        " VALUES (:book, 'credit_to', :record, :recipient, :body)"
    )
    for book_id, record_id, body in connection.execute(select).fetchall():
        recipient = json.loads(bytes(body)).get("recipient_id")
        if recipient is not None:
            connection.execute(
                insert,
                {"book": book_id, "record": record_id, "recipient": recipient, "body": bytes(body)},
            )
