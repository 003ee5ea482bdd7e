"""``SqlOrders`` and ``SqlOutbox``: one book's service orders and outbox on one connection.

Both work on the connection of the unit of work (or snapshot) they belong to,
so their writes commit or roll back with the ledger's, and reads see the
unit's own earlier writes. As with ``SqlRecords``, the statements every use
case runs (an order's ``get`` and ``put``, an outbox ``add``) go straight to
the driver; scans and reports, rarer, go through SQLAlchemy Core.

The reports are single aggregate queries: ``tally`` and ``volunteer_tally``
group and sum in the database, and never load an order row into Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from timebank.community.port import (
    RECORD_BYTES_MAX,
    OrderQuery,
    OrderRow,
    OrderTally,
    OutboxMessage,
    VolunteerTally,
)
from timebank.ledger.limits import STORED_ID_LENGTH_MAX
from timebank.store.fast import RawDriver, raw_driver
from timebank.store.tables import (
    MONTH_LENGTH,
    ORDER_LABEL_LENGTH_MAX,
    ORDER_STATUS_LENGTH_MAX,
    OUTBOX_KEY_LENGTH_MAX,
    OUTBOX_TOPIC_LENGTH_MAX,
    orders,
    outbox,
)

__all__ = ["MARK_CHUNK", "SqlOrders", "SqlOutbox"]

MARK_CHUNK = 500
"""Seqs per statement of ``mark_delivered`` (well under every driver's limit on bound values)."""

_o = orders.c
_x = outbox.c
_book: sa.BindParameter[str] = sa.bindparam("book_id")
_limit: sa.BindParameter[int] = sa.bindparam("limit")

# --- scans -------------------------------------------------------------------------------


def _scan(*, by_status: bool, after: bool) -> sa.Select[tuple[str, bytes]]:
    statement = sa.select(_o.order_id, _o.body).where(_o.book_id == _book)
    if by_status:
        statement = statement.where(_o.status == sa.bindparam("status"))
    if after:
        statement = statement.where(_o.order_id > sa.bindparam("after"))
    return statement.order_by(_o.order_id).limit(_limit)


def _due(*, after: bool) -> sa.Select[tuple[str, bytes]]:
    statement = sa.select(_o.order_id, _o.body).where(
        _o.book_id == _book, _o.due_at.is_not(None), _o.due_at <= sa.bindparam("before")
    )
    if after:
        statement = statement.where(_o.order_id > sa.bindparam("after"))
    return statement.order_by(_o.order_id).limit(_limit)


def _query(query: OrderQuery, *, after: bool) -> sa.Select[tuple[str, bytes]]:
    """The statement of one ``OrderQuery`` (built per call: its shape depends on the query)."""
    conditions: list[sa.ColumnElement[bool]] = [_o.book_id == _book]
    for column, value in (
        (_o.status, query.status),
        (_o.category, query.category),
        (_o.grid, query.grid),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.communities is not None:
        conditions.append(_o.community.in_(query.communities))
    if query.requested_from is not None:
        conditions.append(_o.requested_at >= query.requested_from)
    if query.requested_until is not None:
        conditions.append(_o.requested_at < query.requested_until)
    if query.parties is not None or query.published_in is not None:
        parties = list(query.parties or ())
        conditions.append(
            sa.or_(
                _o.recipient_id.in_(parties),
                _o.volunteer_id.in_(parties),
                _o.dispatched_to.in_(parties),
                sa.and_(_o.status == "published", _o.community == query.published_in),
            )
        )
    if after:
        conditions.append(_o.order_id > sa.bindparam("after"))
    return sa.select(_o.order_id, _o.body).where(*conditions).order_by(_o.order_id).limit(_limit)


SCANS = {(s, a): _scan(by_status=s, after=a) for s in (False, True) for a in (False, True)}
"""The four scans, by (of one status, after a cursor); built once, like ``statements``."""
DUES = {a: _due(after=a) for a in (False, True)}
"""The two deadline scans, by (after a cursor)."""

# --- reports ---------------------------------------------------------------------------


def _count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _sum_where(condition: sa.ColumnElement[bool], column: sa.ColumnElement[Any]) -> Any:
    return sa.func.sum(sa.case((condition, column), else_=0))


_IN_COMMUNITIES = _o.community.in_(sa.bindparam("communities", expanding=True))


def _tally(*, scoped: bool) -> sa.Select[Any]:
    group = (_o.month, _o.category, _o.grid)
    return (
        sa.select(
            *group,
            sa.func.count().label("requested"),
            _count_where(_o.cancelled).label("cancelled"),
            _count_where(_o.processed).label("processed"),
            _count_where(_o.on_time).label("on_time"),
            sa.func.count(_o.rating).label("rated"),
            _count_where(_o.rating >= 4).label("satisfied"),
            sa.func.coalesce(sa.func.sum(_o.rating), 0).label("rating_sum"),
            sa.func.count(_o.response_seconds).label("responded"),
            sa.func.coalesce(sa.func.sum(_o.response_seconds), 0).label("response_seconds"),
            sa.func.coalesce(sa.func.sum(_o.completion_seconds), 0).label("completion_seconds"),
            sa.func.sum(_o.credited_minutes).label("credited_minutes"),
        )
        .where(
            _o.book_id == _book,
            _o.month >= sa.bindparam("first_month"),
            _o.month <= sa.bindparam("last_month"),
            *([_IN_COMMUNITIES] if scoped else []),
        )
        .group_by(*group)
        .order_by(*group)
    )


def _volunteer_tally(*, since: bool, until: bool, scoped: bool) -> sa.Select[Any]:
    served: list[sa.ColumnElement[bool]] = [_o.served_at.is_not(None)]
    if since:
        served.append(_o.served_at >= sa.bindparam("served_from"))
    if until:
        served.append(_o.served_at < sa.bindparam("served_until"))
    in_range = sa.and_(*served)
    rated = sa.and_(in_range, _o.rating.is_not(None))
    return (
        sa.select(
            _o.volunteer_id,
            sa.func.count().label("accepted"),
            _count_where(sa.and_(in_range, _o.processed)).label("processed"),
            _sum_where(in_range, _o.credited_minutes).label("credited_minutes"),
            _sum_where(rated, _o.rating).label("rating_sum"),
            _count_where(rated).label("rating_count"),
            sa.func.max(_o.served_at).label("last_served_at"),
        )
        .where(
            _o.book_id == _book,
            _o.volunteer_id.is_not(None),
            *([_IN_COMMUNITIES] if scoped else []),
        )
        .group_by(_o.volunteer_id)
        .order_by(_o.volunteer_id)
    )


TALLIES = {scoped: _tally(scoped=scoped) for scoped in (False, True)}
"""The monthly report: one row per (month, category, grid), by (of some communities)."""
VOLUNTEER_TALLIES = {
    (s, u, c): _volunteer_tally(since=s, until=u, scoped=c)
    for s in (False, True)
    for u in (False, True)
    for c in (False, True)
}
"""The volunteers' report, by (bounded below, bounded above, of some communities)."""

# --- outbox ----------------------------------------------------------------------------


def _pending(*, after: bool) -> sa.Select[Any]:
    statement = sa.select(outbox).where(_x.book_id == _book, _x.delivered_at.is_(None))
    if after:
        statement = statement.where(_x.seq > sa.bindparam("after"))
    return statement.order_by(_x.seq).limit(_limit)


PENDING = {a: _pending(after=a) for a in (False, True)}
"""Undelivered messages, by (after a cursor)."""
MARK_DELIVERED = (
    sa.update(outbox)
    .where(
        # An UPDATE's bind names must differ from its columns' names.
        _x.book_id == sa.bindparam("book"),
        _x.seq.in_(sa.bindparam("seqs", expanding=True)),
        _x.delivered_at.is_(None),
    )
    .values(delivered_at=sa.bindparam("at"))
)

# --- the driver's statements -------------------------------------------------------------

_ORDER_COLUMNS = (
    "book_id",
    "order_id",
    "status",
    "category",
    "community",
    "grid",
    "recipient_id",
    "volunteer_id",
    "dispatched_to",
    "month",
    "requested_at",
    "due_at",
    "cancelled",
    "processed",
    "on_time",
    "response_seconds",
    "completion_seconds",
    "rating",
    "credited_minutes",
    "served_at",
    "body",
)
_RAW_GET = "SELECT body FROM orders WHERE book_id = ? AND order_id = ?"
_RAW_UPSERT = (
    f"INSERT INTO orders ({', '.join(_ORDER_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_ORDER_COLUMNS))})"
    " ON CONFLICT (book_id, order_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _ORDER_COLUMNS[2:])
)
_RAW_ADD = "INSERT INTO outbox (book_id, topic, key, body, created_at) VALUES (?, ?, ?, ?, ?)"
RAW_STATEMENTS = {
    "sqlite": (_RAW_GET, _RAW_UPSERT, _RAW_ADD),
    "postgresql": tuple(sql.replace("?", "%s") for sql in (_RAW_GET, _RAW_UPSERT, _RAW_ADD)),
}
"""The statements every use case runs, in each driver's own parameter style."""


class SqlOrders:
    """Reads and writes of one book's service orders inside the connection's transaction."""

    def __init__(self, connection: Connection, book_id: str) -> None:
        self._connection = connection
        self._raw: RawDriver | None = None
        self._get_sql, self._upsert_sql, _ = RAW_STATEMENTS[connection.dialect.name]
        self.book_id = book_id

    @property
    def _driver(self) -> RawDriver:
        # Made on first use: most units never touch an order.
        if self._raw is None:
            self._raw = raw_driver(self._connection)
        return self._raw

    def get(self, order_id: str) -> bytes | None:
        _check_id("an order id", order_id)
        row = self._driver.execute(self._get_sql, (self.book_id, order_id)).fetchone()
        return None if row is None else bytes(row[0])

    def scan(
        self, *, status: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        if status is not None:
            _check_label("a status", status, ORDER_STATUS_LENGTH_MAX)
        _check_limit(limit)
        statement = SCANS[status is not None, after is not None]
        parameters = {"book_id": self.book_id, "status": status, "after": after, "limit": limit}
        return self._pairs(statement, parameters)

    def query(
        self, query: OrderQuery, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        _check_limit(limit)
        parameters = {"book_id": self.book_id, "after": after, "limit": limit}
        return self._pairs(_query(query, after=after is not None), parameters)

    def due(
        self, before: datetime, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        _check_limit(limit)
        parameters = {"book_id": self.book_id, "before": before, "after": after, "limit": limit}
        return self._pairs(DUES[after is not None], parameters)

    def _pairs(
        self, statement: sa.Select[tuple[str, bytes]], parameters: dict[str, Any]
    ) -> list[tuple[str, bytes]]:
        rows = self._connection.execute(statement, parameters)
        return [(row.order_id, bytes(row.body)) for row in rows]

    def tally(
        self, first_month: str, last_month: str, communities: Sequence[str] | None = None
    ) -> Sequence[OrderTally]:
        _check_month(first_month)
        _check_month(last_month)
        parameters: dict[str, Any] = {
            "book_id": self.book_id,
            "first_month": first_month,
            "last_month": last_month,
            "communities": list(communities or ()),
        }
        rows = self._connection.execute(TALLIES[communities is not None], parameters)
        # int(): PostgreSQL's sum of a bigint is a numeric, which psycopg reads as a Decimal.
        return [
            OrderTally(
                month=row.month,
                category=row.category,
                grid=row.grid,
                requested=int(row.requested),
                cancelled=int(row.cancelled),
                processed=int(row.processed),
                on_time=int(row.on_time),
                rated=int(row.rated),
                satisfied=int(row.satisfied),
                rating_sum=int(row.rating_sum),
                responded=int(row.responded),
                response_seconds=int(row.response_seconds),
                completion_seconds=int(row.completion_seconds),
                credited_minutes=int(row.credited_minutes),
            )
            for row in rows
        ]

    def volunteer_tally(
        self,
        served_from: datetime | None = None,
        served_until: datetime | None = None,
        communities: Sequence[str] | None = None,
    ) -> Sequence[VolunteerTally]:
        """Per volunteer, over all their orders: ``accepted`` and ``last_served_at``.

        The other figures count only orders served (``served_at`` set) in
        ``[served_from, served_until)``, either bound optional: ``processed``
        those also marked processed, ``credited_minutes`` and the ratings all.
        """
        statement = VOLUNTEER_TALLIES[
            served_from is not None, served_until is not None, communities is not None
        ]
        parameters = {
            "book_id": self.book_id,
            "served_from": served_from,
            "served_until": served_until,
            "communities": list(communities or ()),
        }
        rows = self._connection.execute(statement, parameters)
        return [
            VolunteerTally(
                volunteer_id=row.volunteer_id,
                accepted=int(row.accepted),
                processed=int(row.processed),
                credited_minutes=int(row.credited_minutes),
                rating_sum=int(row.rating_sum),
                rating_count=int(row.rating_count),
                last_served_at=row.last_served_at,
            )
            for row in rows
        ]

    def put(self, row: OrderRow, body: bytes) -> None:
        _check_row(row)
        if len(body) > RECORD_BYTES_MAX:
            raise ValueError(f"an order body is at most {RECORD_BYTES_MAX} bytes, not {len(body)}")
        driver = self._driver
        time_in = driver.time_in
        values = (
            self.book_id,
            row.order_id,
            row.status,
            row.category,
            row.community,
            row.grid,
            row.recipient_id,
            row.volunteer_id,
            row.dispatched_to,
            row.month,
            time_in(row.requested_at),
            time_in(row.due_at),
            row.cancelled,
            row.processed,
            row.on_time,
            row.response_seconds,
            row.completion_seconds,
            row.rating,
            row.credited_minutes,
            time_in(row.served_at),
            bytes(body),
        )
        driver.execute(self._upsert_sql, values)


class SqlOutbox:
    """One book's outbox inside the connection's transaction."""

    def __init__(self, connection: Connection, book_id: str) -> None:
        self._connection = connection
        self._raw: RawDriver | None = None
        *_, self._add_sql = RAW_STATEMENTS[connection.dialect.name]
        self.book_id = book_id

    @property
    def _driver(self) -> RawDriver:
        if self._raw is None:
            self._raw = raw_driver(self._connection)
        return self._raw

    def pending(self, *, after: int | None = None, limit: int) -> Sequence[OutboxMessage]:
        _check_limit(limit)
        parameters = {"book_id": self.book_id, "after": after, "limit": limit}
        rows = self._connection.execute(PENDING[after is not None], parameters)
        return [
            OutboxMessage(
                seq=row.seq,
                topic=row.topic,
                key=row.key,
                body=row.body,
                created_at=row.created_at,
                delivered_at=row.delivered_at,
            )
            for row in rows
        ]

    def add(self, topic: str, key: str, body: str, created_at: datetime) -> None:
        _check_label("a topic", topic, OUTBOX_TOPIC_LENGTH_MAX)
        if len(key) > OUTBOX_KEY_LENGTH_MAX:
            raise ValueError(f"an outbox key has at most {OUTBOX_KEY_LENGTH_MAX} characters")
        if len(body) > RECORD_BYTES_MAX:
            raise ValueError(f"an outbox body is at most {RECORD_BYTES_MAX} characters")
        driver = self._driver
        driver.execute(self._add_sql, (self.book_id, topic, key, body, driver.time_in(created_at)))

    def mark_delivered(self, seqs: Sequence[int], delivered_at: datetime) -> int:
        unique = sorted(set(seqs))
        changed = 0
        for start in range(0, len(unique), MARK_CHUNK):
            parameters = {
                "book": self.book_id,
                "seqs": unique[start : start + MARK_CHUNK],
                "at": delivered_at,
            }
            result = self._connection.execute(MARK_DELIVERED, parameters)
            changed += result.rowcount
        return changed


# --- checks ----------------------------------------------------------------------------


def _check_row(row: OrderRow) -> None:
    _check_id("an order id", row.order_id)
    _check_label("a status", row.status, ORDER_STATUS_LENGTH_MAX)
    _check_label("a category", row.category, ORDER_LABEL_LENGTH_MAX, empty=True)
    _check_label("a community", row.community, ORDER_LABEL_LENGTH_MAX, empty=True)
    _check_label("a grid", row.grid, ORDER_LABEL_LENGTH_MAX, empty=True)
    _check_id("a recipient id", row.recipient_id)
    for what, member_id in (
        ("a volunteer id", row.volunteer_id),
        ("a volunteer", row.dispatched_to),
    ):
        if member_id is not None:
            _check_id(what, member_id)
    _check_month(row.month)


def _check_id(what: str, value: str) -> None:
    if not 0 < len(value) <= STORED_ID_LENGTH_MAX:
        raise ValueError(f"{what} has 1 to {STORED_ID_LENGTH_MAX} characters")


def _check_label(what: str, value: str, length_max: int, *, empty: bool = False) -> None:
    least = 0 if empty else 1
    if not least <= len(value) <= length_max:
        raise ValueError(f"{what} has {least} to {length_max} characters: {value[:length_max]!r}")


def _check_month(month: str) -> None:
    if len(month) != MONTH_LENGTH or month[4] != "-":
        raise ValueError(f"a month is written YYYY-MM, not {month!r}")


def _check_limit(limit: int) -> None:
    if limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
