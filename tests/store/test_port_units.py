"""What the bank store port declares of every store: ``close``, ``rolls_back_units``, the
``StoreError`` family, and changes of a record asked for a unit's end (the exchange stamp).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest

import timebank.store.errors as store_errors
from timebank.bank.records import ExchangeStamp, Records
from timebank.community import port
from timebank.community.memory import MemoryBankStore, _StagedRecords
from timebank.community.port import BankStore, BankUnit
from timebank.store import SqlBankStore, open_bank_store
from timebank.store.records import SqlRecords

BOOK_ID = "centre"


class Boom(Exception):
    """Raised by a test's work to roll its unit back."""


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bank(request: pytest.FixtureRequest) -> Iterator[BankStore]:
    if request.param == "memory":
        store: BankStore = MemoryBankStore()
        store.ledger_store.create_book(BOOK_ID)
        yield store
        store.close()
        return
    url: str = request.getfixturevalue(f"{request.param}_url")
    opened: BankStore = open_bank_store(url)
    opened.ledger_store.create_book(BOOK_ID)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def puts(bank: BankStore, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every record the store's units write, as (kind, record id)."""
    written: list[tuple[str, str]] = []
    cls: Any = _StagedRecords if isinstance(bank, MemoryBankStore) else SqlRecords
    original = cls.put

    def put(self: Any, kind: str, record_id: str, body: bytes, **options: Any) -> None:
        written.append((kind, record_id))
        original(self, kind, record_id, body, **options)

    monkeypatch.setattr(cls, "put", put)
    return written


# --- what every store declares -----------------------------------------------------------


def test_every_store_declares_whether_it_rolls_back_units_and_closes(sqlite_url: str) -> None:
    memory: BankStore = MemoryBankStore()
    assert memory.rolls_back_units is False
    memory.close()
    sql: BankStore = open_bank_store(sqlite_url)
    assert isinstance(sql, SqlBankStore)
    assert sql.rolls_back_units is True
    sql.close()


def test_every_error_of_the_sql_store_is_a_port_store_error() -> None:
    """Callers (the API) tell a storage failure by the port's class, not by a module."""
    classes = [
        value
        for _, value in inspect.getmembers(store_errors, inspect.isclass)
        if value.__module__ == store_errors.__name__
    ]
    assert {cls.__name__ for cls in classes} == set(store_errors.__all__)
    for cls in classes:
        assert issubclass(cls, port.StoreError), cls
    for cls in (store_errors.StoreBusy, store_errors.CommitOutcomeUnknown):
        assert issubclass(cls, port.StoreUnavailable)
    assert not issubclass(store_errors.StoreFailed, port.StoreUnavailable)
    busy = store_errors.StoreBusy("the database stayed busy", attempts=3)
    assert isinstance(busy, port.StoreUnavailable)
    assert str(busy) == "the database stayed busy (after 3 attempts)"


# --- changes asked for a unit's end --------------------------------------------------------


def _appending(text: bytes) -> Any:
    def change(body: bytes | None) -> bytes:
        return (body or b"") + text

    return change


def test_changes_at_a_units_end_apply_in_order_and_write_once(
    bank: BankStore, puts: list[tuple[str, str]]
) -> None:
    def work(unit: BankUnit) -> None:
        unit.records.put("note", "n1", b"<")
        for text in (b"a", b"b", b"c"):
            unit.records.update_at_end("note", "n1", _appending(text), key="k")
            unit.records.update_at_end("note", "n2", _appending(text))
        # Until the work returns, reads see the record as it was.
        assert unit.records.get("note", "n1") == b"<"
        assert unit.records.get("note", "n2") is None

    bank.transact(BOOK_ID, work)
    assert puts.count(("note", "n1")) == 2  # the unit's own put, then the change
    assert puts.count(("note", "n2")) == 1
    with bank.read(BOOK_ID) as reader:
        assert reader.records.get("note", "n1") == b"<abc"
        assert reader.records.get("note", "n2") == b"abc"
        assert reader.records.scan("note", key="k", limit=10) == [("n1", b"<abc")]


def test_a_unit_that_raises_applies_no_change_asked_for_its_end(bank: BankStore) -> None:
    def work(unit: BankUnit) -> None:
        unit.records.update_at_end("note", "n1", _appending(b"a"))
        raise Boom

    with pytest.raises(Boom):
        bank.transact(BOOK_ID, work)
    with bank.read(BOOK_ID) as reader:
        assert reader.records.get("note", "n1") is None

    def next_unit(unit: BankUnit) -> None:
        unit.records.put("note", "n2", b"x")

    bank.transact(BOOK_ID, next_unit)  # a later unit does not inherit the change
    with bank.read(BOOK_ID) as reader:
        assert reader.records.get("note", "n1") is None


def test_the_exchange_stamp_is_written_once_per_unit(
    bank: BankStore, puts: list[tuple[str, str]]
) -> None:
    """However many supply and volunteer changes a unit makes, in however many ``Records``
    over it, the stamp is written once, at its end, counting them all."""

    def work(unit: BankUnit) -> ExchangeStamp:
        first, second = Records(unit.records), Records(unit.records)
        for _ in range(3):
            first.bump(supply=True)
        second.bump(volunteers=True)
        second.bump(supply=True, volunteers=True)
        return first.stamp()

    assert bank.transact(BOOK_ID, work) == ExchangeStamp()  # the unit's own: not yet
    assert puts.count(("settings", "exchange")) == 1
    with bank.read(BOOK_ID) as reader:
        assert Records(reader.records).stamp() == ExchangeStamp(supply=4, volunteers=2)
    bank.transact(BOOK_ID, lambda unit: Records(unit.records).bump(volunteers=True))
    assert puts.count(("settings", "exchange")) == 2
    with bank.read(BOOK_ID) as reader:
        assert Records(reader.records).stamp() == ExchangeStamp(supply=4, volunteers=3)


def test_a_unit_without_changes_does_not_write_the_stamp(
    bank: BankStore, puts: list[tuple[str, str]]
) -> None:
    bank.transact(BOOK_ID, lambda unit: Records(unit.records).stamp())
    assert ("settings", "exchange") not in puts
