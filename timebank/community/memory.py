"""``MemoryBankStore``: the reference ``BankStore``, kept in this process's memory.

Records written by a unit are staged and applied only when its work returns,
so a unit that raises leaves its records untouched. The ledger's memory store
applies each ledger decision whole; the facade makes its ledger writes last,
after every rule has been checked, so a failing unit leaves no ledger trace
either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from timebank.community.port import BankReader, BankUnit, RecordReader, RecordWriter
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

    def apply(self) -> None:
        self._base.rows.update(self._staged)


class _Unit:
    def __init__(self, ledger: LedgerUnit, records: _StagedRecords) -> None:
        self._ledger = ledger
        self._records = records

    @property
    def ledger(self) -> LedgerUnit:
        return self._ledger

    @property
    def records(self) -> RecordWriter:
        return self._records


class _Reader:
    def __init__(self, ledger: LedgerReader, records: _Records) -> None:
        self._ledger = ledger
        self._records = records

    @property
    def ledger(self) -> LedgerReader:
        return self._ledger

    @property
    def records(self) -> RecordReader:
        return self._records


class MemoryBankStore:
    """Books and their records in memory; lost when the process exits."""

    def __init__(self, ledger_store: MemoryStore | None = None) -> None:
        self._ledger_store = MemoryStore() if ledger_store is None else ledger_store
        self._records: dict[str, _Records] = {}

    @property
    def ledger_store(self) -> LedgerStore:
        return self._ledger_store

    def transact(self, book_id: str, work: Callable[[BankUnit], T]) -> T:
        def run(ledger_unit: LedgerUnit) -> T:
            staged = _StagedRecords(self._records.setdefault(book_id, _Records()))
            result = work(_Unit(ledger_unit, staged))
            staged.apply()
            return result

        return self._ledger_store.transact(book_id, run)

    @contextmanager
    def read(self, book_id: str) -> Iterator[BankReader]:
        ledger = self._ledger_store.read(book_id)
        yield _Reader(ledger, self._records.setdefault(book_id, _Records()))
