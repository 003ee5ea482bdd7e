"""The canonical encoding is fixed, so the same inputs hash the same on every machine."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from timebank.ledger import GENESIS_HASH, Ledger, ManualClock, credit, debit, transaction_hash
from timebank.ledger.hashing import canonical_bytes

EXPECTED_BYTES = (
    b'["timebank-ledger/1","sunflower",1,"visit-001","transfer",'
    b'[{"account_id":"pool","amount_minutes":90,"side":"debit"},'
    b'{"account_id":"wang-fang","amount_minutes":90,"side":"credit"}],'
    b'"service",{"grid":"3","order":"17"},"2026-11-01T09:00:00Z",null,null,null,'
    b'"0000000000000000000000000000000000000000000000000000000000000000"]'
)


def first_record(start: datetime, metadata: dict[str, str]) -> object:
    book = Ledger(clock=ManualClock(start)).create_book("sunflower")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("wang-fang")
    return book.transfer(
        "visit-001", [debit("pool", 90), credit("wang-fang", 90)], code="service", metadata=metadata
    )


def test_canonical_bytes_are_pinned() -> None:
    """The bytes a hash covers are exactly the documented encoding."""
    record = first_record(datetime(2026, 11, 1, 9, 0, tzinfo=UTC), {"order": "17", "grid": "3"})
    order = (
        "book_id sequence transaction_id kind postings code metadata"
        " recorded_at effective_at expires_at related_id previous_hash"
    )
    assert canonical_bytes(*(getattr(record, name) for name in order.split())) == EXPECTED_BYTES
    assert record.hash == hashlib.sha256(EXPECTED_BYTES).hexdigest()  # type: ignore[attr-defined]
    assert record.previous_hash == GENESIS_HASH  # type: ignore[attr-defined]


def test_hash_ignores_metadata_order_and_input_time_zone() -> None:
    """Metadata key order and the zone a time was given in do not change the hash."""
    utc = first_record(datetime(2026, 11, 1, 9, 0, tzinfo=UTC), {"order": "17", "grid": "3"})
    beijing = datetime(2026, 11, 1, 17, 0, tzinfo=timezone(timedelta(hours=8)))
    other = first_record(beijing, {"grid": "3", "order": "17"})
    assert utc.hash == other.hash  # type: ignore[attr-defined]


def test_each_record_chains_to_the_one_before() -> None:
    """previous_hash is the hash of the record before; recomputing gives the stored hash."""
    book = Ledger(clock=ManualClock(datetime(2026, 11, 1, tzinfo=UTC))).create_book("b")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("li-jun")
    for n in range(3):
        book.transfer(f"t{n}", [debit("pool", 5), credit("li-jun", 5)])
    records = book.journal()
    assert [r.previous_hash for r in records] == [GENESIS_HASH] + [r.hash for r in records[:-1]]
    assert all(transaction_hash(r) == r.hash for r in records)
