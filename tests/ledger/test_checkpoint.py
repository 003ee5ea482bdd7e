"""An incremental verify goes on from a checkpoint, and finds what a full verify finds after it.

The checkpoint is kept by the in-memory store; these tests tamper with its private state,
and with the checkpoint itself, as an attacker with access to the storage would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from timebank.ledger import (
    Book,
    BreakKind,
    HoldStatus,
    Ledger,
    ManualClock,
    MemoryStore,
    credit,
    debit,
)
from timebank.ledger.port import StoredCheckpoint

MEMBERS = ("li-jun", "wang-fang", "zhang-wei")

# One step: (what, member, minutes). Holds are posted or voided by later steps.
steps = st.lists(
    st.tuples(
        st.sampled_from(["transfer", "hold", "post", "void", "reverse"]),
        st.sampled_from(MEMBERS),
        st.integers(min_value=1, max_value=90),
    ),
    max_size=30,
)


def _book() -> tuple[Book, MemoryStore]:
    store = MemoryStore()
    clock = ManualClock(datetime(2026, 11, 1, tzinfo=UTC), tick=timedelta(seconds=1))
    book = Ledger(store, clock=clock).create_book("b")
    book.open_account("pool", balance_minutes_min=None)
    for member in MEMBERS:
        book.open_account(member)
    return book, store


def _apply(book: Book, plan: list[tuple[str, str, int]], start: int) -> None:
    """Run each step that the book's rules accept (a refusal is remembered, not chained)."""
    for number, (what, member, minutes) in enumerate(plan, start):
        head = book.journal(after=0, limit=500)
        holds = [r.transaction_id for r in head if r.kind == "hold"]
        transfers = [r.transaction_id for r in head if r.kind == "transfer"]
        try:
            if what == "transfer":
                book.transfer(f"t{number}", [debit("pool", minutes), credit(member, minutes)])
            elif what == "hold":
                book.hold(f"h{number}", [debit("pool", minutes), credit(member, minutes)])
            elif what == "post" and holds:
                book.post_hold(f"p{number}", holds[minutes % len(holds)])
            elif what == "void" and holds:
                book.void_hold(f"v{number}", holds[minutes % len(holds)])
            elif what == "reverse" and transfers:
                book.reverse(f"r{number}", transfers[minutes % len(transfers)])
        except Exception:  # a rule refused it: a hold already resolved, a reversal repeated
            pass


def _state(store: MemoryStore):  # type: ignore[no-untyped-def]
    return store._books["b"]


@given(before=steps, after=steps)
def test_an_incremental_verify_agrees_with_the_full_verify(
    before: list[tuple[str, str, int]], after: list[tuple[str, str, int]]
) -> None:
    book, _store = _book()
    _apply(book, before, 0)
    recorded = book.verify(record_checkpoint=True)
    assert recorded.ok, recorded.first_break
    checkpoint_sequence = book.journal(after=0, limit=500)[-1:]
    _apply(book, after, len(before))
    journal = book.journal(after=0, limit=500)
    since = checkpoint_sequence[0].sequence if checkpoint_sequence else 0
    incremental = book.verify(since_checkpoint=True)
    full = book.verify()
    assert incremental.ok, incremental.first_break
    assert full.ok, full.first_break
    # With no record to bind a checkpoint to (an empty book), the whole book is walked.
    walked = len(journal) - since if since else len(journal)
    assert incremental.transactions_checked == walked
    assert book.verify(since_checkpoint=True).transactions_checked == 0


@given(
    before=steps.filter(lambda plan: any(what == "transfer" for what, _, _ in plan)),
    after=steps.filter(lambda plan: any(what == "transfer" for what, _, _ in plan)),
    data=st.data(),
)
def test_a_record_altered_after_the_checkpoint_is_the_break_the_full_verify_finds(
    before: list[tuple[str, str, int]], after: list[tuple[str, str, int]], data: st.DataObject
) -> None:
    book, store = _book()
    _apply(book, before, 0)
    assert book.verify(record_checkpoint=True).ok
    since = book.journal(after=0, limit=500)[-1].sequence
    _apply(book, after, len(before))
    journal = _state(store)._journal
    later = [index for index, record in enumerate(journal) if record.sequence > since]
    if not later:
        return
    index = data.draw(st.sampled_from(later))
    record = journal[index]
    first = replace(record.postings[0], amount_minutes=record.postings[0].amount_minutes + 1)
    journal[index] = replace(record, postings=(first, *record.postings[1:]))
    incremental = book.verify(since_checkpoint=True)
    full = book.verify()
    assert incremental.first_break is not None
    assert full.first_break is not None
    assert incremental.first_break.kind is BreakKind.HASH_MISMATCH
    assert (incremental.first_break.kind, incremental.first_break.sequence) == (
        full.first_break.kind,
        full.first_break.sequence,
    )


@pytest.fixture
def checkpointed() -> tuple[Book, MemoryStore]:
    book, store = _book()
    book.transfer("t1", [debit("pool", 60), credit("li-jun", 60)])
    book.hold("h1", [debit("li-jun", 20), credit("wang-fang", 20)])
    assert book.verify(record_checkpoint=True).ok
    book.post_hold("p1", "h1", amount_minutes=15)
    book.transfer("t2", [debit("pool", 30), credit("wang-fang", 30)])
    return book, store


def _rewrite(store: MemoryStore, change: dict[str, object], *, reseal: bool = False) -> None:
    """Edit the kept checkpoint's state; ``reseal`` also recomputes its digest."""
    from timebank.ledger.verify import VerifyCheckpoint

    kept = _state(store)._checkpoint
    assert kept is not None
    state = msgspec.json.decode(kept.state)
    state.update(change)
    if reseal:
        checkpoint = msgspec.json.decode(msgspec.json.encode(state), type=VerifyCheckpoint)
        stored = checkpoint.sealed().stored()
        _state(store)._checkpoint = replace(stored, sequence=kept.sequence, hash=kept.hash)
        return
    _state(store)._checkpoint = replace(kept, state=msgspec.json.encode(state).decode())


def test_a_checkpoint_edited_without_its_digest_is_a_break(
    checkpointed: tuple[Book, MemoryStore],
) -> None:
    book, store = checkpointed
    _rewrite(store, {"balances": {"li-jun": [70, 20, 0, 2], "pool": [-70, 0, 0, 1]}})
    found = book.verify(since_checkpoint=True).first_break
    assert found is not None
    assert (found.kind, found.sequence, found.table) == (
        BreakKind.CHECKPOINT_INVALID,
        2,
        "checkpoints",
    )


def test_a_resealed_checkpoint_must_still_be_bound_to_its_record(
    checkpointed: tuple[Book, MemoryStore],
) -> None:
    book, store = checkpointed
    _rewrite(store, {"hash": "f" * 64}, reseal=True)
    found = book.verify(since_checkpoint=True).first_break
    assert found is not None
    assert found.kind is BreakKind.CHECKPOINT_INVALID


def test_a_checkpoint_bound_to_a_rewritten_record_is_a_break(
    checkpointed: tuple[Book, MemoryStore],
) -> None:
    book, store = checkpointed
    journal = _state(store)._journal
    journal[1] = replace(journal[1], code="rewritten")
    found = book.verify(since_checkpoint=True).first_break
    assert found is not None
    assert (found.kind, found.sequence) == (BreakKind.CHECKPOINT_INVALID, 2)


def test_state_that_is_no_checkpoint_is_a_break(checkpointed: tuple[Book, MemoryStore]) -> None:
    book, store = checkpointed
    _state(store)._checkpoint = StoredCheckpoint(sequence=2, hash="0" * 64, state="[1, 2")
    found = book.verify(since_checkpoint=True).first_break
    assert found is not None
    assert found.kind is BreakKind.CHECKPOINT_INVALID


def test_a_cached_balance_edited_after_the_checkpoint_is_a_break(
    checkpointed: tuple[Book, MemoryStore],
) -> None:
    book, store = checkpointed
    accounts = _state(store)._accounts
    accounts["li-jun"] = replace(accounts["li-jun"], posted_minutes=999)
    found = book.verify(since_checkpoint=True).first_break
    assert found is not None
    assert (found.kind, found.account_id) == (BreakKind.BALANCE_MISMATCH, "li-jun")


def test_a_statement_line_edited_after_the_checkpoint_is_a_break(
    checkpointed: tuple[Book, MemoryStore],
) -> None:
    book, store = checkpointed
    lines = _state(store)._lines["wang-fang"]
    lines.states[-1] = replace(lines.states[-1], posted_minutes=1)
    found = book.verify(since_checkpoint=True).first_break
    assert found is not None
    assert (found.kind, found.account_id, found.sequence) == (
        BreakKind.ENTRY_MISMATCH,
        "wang-fang",
        4,
    )


def test_a_hold_resolved_after_the_checkpoint_must_be_stored_so(
    checkpointed: tuple[Book, MemoryStore],
) -> None:
    book, store = checkpointed
    holds = _state(store)._holds
    holds["h1"] = replace(holds["h1"], status=HoldStatus.PENDING, resolved_by=None)
    found = book.verify(since_checkpoint=True).first_break
    assert found is not None
    assert (found.kind, found.table) == (BreakKind.HOLD_MISMATCH, "holds")


def test_no_checkpoint_means_the_whole_book(checkpointed: tuple[Book, MemoryStore]) -> None:
    book, store = checkpointed
    _state(store)._checkpoint = None
    report = book.verify(since_checkpoint=True)
    assert report.ok
    assert report.transactions_checked == 4
