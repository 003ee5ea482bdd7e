"""``MemoryBankStore``: the reference ``BankStore``, kept in this process's memory.

Records, orders and outbox messages written by a unit are staged and applied
only when its work returns, so a unit that raises leaves them untouched; the
unit's own reads see its staged writes. The ledger's memory store applies each
ledger decision whole; the facade makes its ledger writes last, after every
rule has been checked, so a failing unit leaves no ledger trace either.

Outbox seqs come from one counter per store, taken when a message is added (a
unit that raises leaves a gap, as a database sequence would). The store offers
no ``OrderAggregates``: the bank computes its reports from the orders' rows,
where the SQL store computes them in SQL. It cannot roll back a unit's ledger
requests (``rolls_back_units`` is False), and ``close`` has nothing to release.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from msgspec.structs import replace

from timebank.community.port import (
    BankReader,
    BankUnit,
    ChangesAtEnd,
    OrderQuery,
    OrderReader,
    OrderRow,
    OrderWriter,
    OutboxMessage,
    OutboxReader,
    OutboxWriter,
    RecordReader,
    RecordWriter,
    order_wanted,
)
from timebank.ledger.memory import MemoryStore
from timebank.ledger.port import LedgerReader, LedgerStore, LedgerUnit

__all__ = ["MemoryBankStore"]

T = TypeVar("T")

_Key = tuple[str, str]


class _Records:
    """One book's records: ``(kind, record_id) -> (key, body)``."""

    def __init__(self) -> None:
        self.rows: dict[_Key, tuple[str | None, bytes]] = {}

    def get(self, kind: str, record_id: str) -> bytes | None:
        row = self.rows.get((kind, record_id))
        return None if row is None else row[1]

    def scan(
        self, kind: str, *, key: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        found = sorted(
            (record_id, body)
            for (row_kind, record_id), (row_key, body) in self.rows.items()
            if row_kind == kind
            and (key is None or row_key == key)
            and (after is None or record_id > after)
        )
        return found[:limit]


class _StagedRecords:
    """A unit's view: the book's records plus the unit's own writes, applied on success."""

    def __init__(self, base: _Records) -> None:
        self._base = base
        self._staged: dict[_Key, tuple[str | None, bytes]] = {}
        self._at_end = ChangesAtEnd()

    def get(self, kind: str, record_id: str) -> bytes | None:
        row = self._staged.get((kind, record_id))
        return self._base.get(kind, record_id) if row is None else row[1]

    def scan(
        self, kind: str, *, key: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        merged = _Records()
        merged.rows = {**self._base.rows, **self._staged}
        return merged.scan(kind, key=key, after=after, limit=limit)

    def put(self, kind: str, record_id: str, body: bytes, *, key: str | None = None) -> None:
        self._staged[(kind, record_id)] = (key, body)

    def update_at_end(
        self,
        kind: str,
        record_id: str,
        change: Callable[[bytes | None], bytes],
        *,
        key: str | None = None,
    ) -> None:
        self._at_end.add(kind, record_id, change, key)

    def finish(self) -> None:
        """Apply the unit's changes asked for its end (its work has returned)."""
        self._at_end.apply(self)

    def apply(self) -> None:
        self._base.rows.update(self._staged)


class _Orders:
    """One book's service orders: ``order_id -> (row, body)``."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[OrderRow, bytes]] = {}

    def get(self, order_id: str) -> bytes | None:
        found = self.rows.get(order_id)
        return None if found is None else found[1]

    def scan(
        self, *, status: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        found = sorted(
            (order_id, body)
            for order_id, (row, body) in self.rows.items()
            if (status is None or row.status == status) and (after is None or order_id > after)
        )
        return found[:limit]

    def query(
        self, query: OrderQuery, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        found = sorted(
            (order_id, body)
            for order_id, (row, body) in self.rows.items()
            if order_wanted(row, query) and (after is None or order_id > after)
        )
        return found[:limit]

    def due(
        self, before: datetime, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        found = sorted(
            (order_id, body)
            for order_id, (row, body) in self.rows.items()
            if row.due_at is not None
            and row.due_at <= before
            and (after is None or order_id > after)
        )
        return found[:limit]


class _StagedOrders:
    """A unit's view: the book's orders plus the unit's own writes, applied on success."""

    def __init__(self, base: _Orders) -> None:
        self._base = base
        self._staged: dict[str, tuple[OrderRow, bytes]] = {}

    def _view(self) -> _Orders:
        if not self._staged:
            return self._base
        merged = _Orders()
        merged.rows = {**self._base.rows, **self._staged}
        return merged

    def get(self, order_id: str) -> bytes | None:
        found = self._staged.get(order_id)
        return self._base.get(order_id) if found is None else found[1]

    def scan(
        self, *, status: str | None = None, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        return self._view().scan(status=status, after=after, limit=limit)

    def query(
        self, query: OrderQuery, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        return self._view().query(query, after=after, limit=limit)

    def due(
        self, before: datetime, *, after: str | None = None, limit: int
    ) -> Sequence[tuple[str, bytes]]:
        return self._view().due(before, after=after, limit=limit)

    def put(self, row: OrderRow, body: bytes) -> None:
        self._staged[row.order_id] = (row, bytes(body))

    def apply(self) -> None:
        self._base.rows.update(self._staged)


class _Outbox:
    """One book's outbox: ``seq -> message``."""

    def __init__(self) -> None:
        self.messages: dict[int, OutboxMessage] = {}

    def pending(self, *, after: int | None = None, limit: int) -> Sequence[OutboxMessage]:
        found = sorted(
            (message for message in self.messages.values() if message.delivered_at is None),
            key=lambda message: message.seq,
        )
        if after is not None:
            found = [message for message in found if message.seq > after]
        return found[:limit]


class _StagedOutbox:
    """A unit's view of the book's outbox: its own adds and marks, applied on success."""

    def __init__(self, base: _Outbox, seqs: Iterator[int]) -> None:
        self._base = base
        self._seqs = seqs
        self._staged: dict[int, OutboxMessage] = {}

    def pending(self, *, after: int | None = None, limit: int) -> Sequence[OutboxMessage]:
        if not self._staged:
            return self._base.pending(after=after, limit=limit)
        merged = _Outbox()
        merged.messages = {**self._base.messages, **self._staged}
        return merged.pending(after=after, limit=limit)

    def add(self, topic: str, key: str, body: str, created_at: datetime) -> None:
        seq = next(self._seqs)
        message = OutboxMessage(seq=seq, topic=topic, key=key, body=body, created_at=created_at)
        self._staged[seq] = message

    def mark_delivered(self, seqs: Sequence[int], delivered_at: datetime) -> int:
        changed = 0
        for seq in set(seqs):
            message = self._staged.get(seq) or self._base.messages.get(seq)
            if message is not None and message.delivered_at is None:
                self._staged[seq] = replace(message, delivered_at=delivered_at)
                changed += 1
        return changed

    def apply(self) -> None:
        self._base.messages.update(self._staged)


class _Unit:
    def __init__(
        self,
        ledger: LedgerUnit,
        records: _StagedRecords,
        orders: _StagedOrders,
        outbox: _StagedOutbox,
    ) -> None:
        self._ledger = ledger
        self._records = records
        self._orders = orders
        self._outbox = outbox

    @property
    def ledger(self) -> LedgerUnit:
        return self._ledger

    @property
    def records(self) -> RecordWriter:
        return self._records

    @property
    def orders(self) -> OrderWriter:
        return self._orders

    @property
    def outbox(self) -> OutboxWriter:
        return self._outbox


class _Reader:
    def __init__(
        self, ledger: LedgerReader, records: _Records, orders: _Orders, outbox: _Outbox
    ) -> None:
        self._ledger = ledger
        self._records = records
        self._orders = orders
        self._outbox = outbox

    @property
    def ledger(self) -> LedgerReader:
        return self._ledger

    @property
    def records(self) -> RecordReader:
        return self._records

    @property
    def orders(self) -> OrderReader:
        return self._orders

    @property
    def outbox(self) -> OutboxReader:
        return self._outbox


class MemoryBankStore:
    """Books and everything kept beside them, in memory; lost when the process exits."""

    rolls_back_units = False
    """A unit that raises keeps the ledger requests it made (see the module's notes)."""

    def __init__(self, ledger_store: MemoryStore | None = None) -> None:
        self._ledger_store = MemoryStore() if ledger_store is None else ledger_store
        self._records: dict[str, _Records] = {}
        self._orders: dict[str, _Orders] = {}
        self._outboxes: dict[str, _Outbox] = {}
        self._seqs = itertools.count(1)

    @property
    def ledger_store(self) -> LedgerStore:
        return self._ledger_store

    def transact(self, book_id: str, work: Callable[[BankUnit], T]) -> T:
        def run(ledger_unit: LedgerUnit) -> T:
            records = _StagedRecords(self._records.setdefault(book_id, _Records()))
            orders = _StagedOrders(self._orders.setdefault(book_id, _Orders()))
            outbox = _StagedOutbox(self._outboxes.setdefault(book_id, _Outbox()), self._seqs)
            result = work(_Unit(ledger_unit, records, orders, outbox))
            records.finish()
            records.apply()
            orders.apply()
            outbox.apply()
            return result

        return self._ledger_store.transact(book_id, run)

    @contextmanager
    def read(self, book_id: str) -> Iterator[BankReader]:
        ledger = self._ledger_store.read(book_id)
        yield _Reader(
            ledger,
            self._records.setdefault(book_id, _Records()),
            self._orders.setdefault(book_id, _Orders()),
            self._outboxes.setdefault(book_id, _Outbox()),
        )

    def close(self) -> None:
        """Nothing to release: the books live as long as the store."""
