"""Properties of the ledger that hold for any input, each one rule tested with Hypothesis.

The inputs come from ``tests/strategies.py``; the state-machine test
(``test_state_machine.py``) checks the same rules step by step against a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from tests import strategies
from tests.strategies import ACCOUNT_IDS, BALANCE_MINUTES_LIMIT, UNKNOWN_ACCOUNT_IDS
from timebank.ledger import (
    Account,
    AmountNotInteger,
    BalanceOutOfRange,
    Book,
    Hold,
    HoldRecord,
    IdempotencyConflict,
    InsufficientMinutes,
    Ledger,
    LedgerError,
    LedgerUnit,
    ManualClock,
    MemoryStore,
    PostHold,
    Posting,
    Request,
    Reverse,
    TimestampNotAware,
    Transaction,
    Transfer,
    VerifyReport,
    VoidHold,
    credit,
    debit,
)

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ANY_ACCOUNT = st.sampled_from(ACCOUNT_IDS + UNKNOWN_ACCOUNT_IDS)
"""Mostly accounts the books below open, sometimes ones they never do."""
MOSTLY_SMALL = st.one_of(st.integers(1, 100), st.integers(1, 100), strategies.amounts())
"""Amounts that usually fit, and now and then sit on an edge."""
_ORDINARY_LEGS = strategies.balanced_postings(
    st.sampled_from(ACCOUNT_IDS), st.integers(1, 300), max_legs=3
)
_ANY_LEGS = strategies.posting_lists(ANY_ACCOUNT, MOSTLY_SMALL)
# one_of would flatten posting_lists' own branches and let them outnumber the ordinary ones.
MOSTLY_VALID_POSTINGS = st.integers(0, 4).flatmap(lambda n: _ANY_LEGS if n == 0 else _ORDINARY_LEGS)
"""Usually a few balanced legs among the book's accounts; sometimes any shape at all."""

Bounds = tuple[int | None, int | None]


def new_book(bounds: Sequence[Bounds] = (), *, clock: ManualClock | None = None) -> Book:
    """A book with an unbounded pool that has paid 500 minutes to each member it can take them."""
    book = Ledger(clock=clock or ManualClock(START)).create_book("centre")
    book.open_account("pool", balance_minutes_min=None)
    for account_id, (minimum, maximum) in zip(ACCOUNT_IDS[1:], bounds, strict=False):
        book.open_account(account_id, balance_minutes_min=minimum, balance_minutes_max=maximum)
        if maximum is None or maximum >= 500:
            book.transfer(f"pay-{account_id}", [debit("pool", 500), credit(account_id, 500)])
    return book


def outcome(book: Book, request: Request) -> Transaction | LedgerError:
    """What submitting ``request`` gives: the transaction, or the error it raised."""
    try:
        return book.submit(request)
    except LedgerError as error:
        return error


class Snapshot(NamedTuple):
    """Everything a request could change."""

    accounts: list[Account]
    journal: list[Transaction]
    holds: list[HoldRecord]
    report: VerifyReport


def snapshot(book: Book) -> Snapshot:
    journal = book.journal(limit=500)
    holds = [book.hold_record(t.transaction_id) for t in journal if t.kind == "hold"]
    return Snapshot(book.accounts(limit=500), journal, holds, book.verify())


@st.composite
def requests(draw: st.DrawFn, *, transaction_id: str) -> Request:
    """Any request under ``transaction_id``: mostly malformed, unaffordable or aimed at no one."""
    code, metadata = draw(
        st.one_of(
            st.tuples(st.just(""), st.just({})),
            st.tuples(strategies.too_long_codes(), strategies.metadata()),
            st.tuples(strategies.codes(), strategies.invalid_metadata()),
        )
    )
    postings = draw(strategies.posting_lists(ANY_ACCOUNT, strategies.amounts()))
    target = draw(st.sampled_from(("h", "seed", "no-such-id", "~expire:h", "")))
    return draw(
        st.sampled_from(
            (
                Transfer(transaction_id=transaction_id, postings=postings, code=code),
                Hold(transaction_id=transaction_id, postings=postings, metadata=metadata),
                PostHold(transaction_id=transaction_id, hold_id=target, postings=postings),
                VoidHold(transaction_id=transaction_id, hold_id=target, code=code),
                Reverse(transaction_id=transaction_id, reverses_id=target, metadata=metadata),
            )
        )
    )


# --- conservation and bounds ---------------------------------------------------------


@given(
    bounds=st.lists(
        st.tuples(strategies.valid_minimums(), strategies.valid_maximums()),
        min_size=len(ACCOUNT_IDS) - 1,
        max_size=len(ACCOUNT_IDS) - 1,
    ),
    batch=st.lists(st.tuples(st.booleans(), MOSTLY_VALID_POSTINGS), max_size=25),
)
def test_keeps_conservation_and_bounds_for_any_batch_of_transfers(
    bounds: list[Bounds], batch: list[tuple[bool, tuple[Posting, ...]]]
) -> None:
    """Whatever transfers and holds are tried, minutes are conserved and every bound holds."""
    book = new_book(bounds)
    book.submit_many(
        Hold(transaction_id=f"r{index}", postings=postings)
        if pending
        else Transfer(transaction_id=f"r{index}", postings=postings)
        for index, (pending, postings) in enumerate(batch)
    )
    accounts = book.accounts(limit=500)
    assert sum(a.posted_minutes for a in accounts) == 0
    assert sum(a.debits_pending_minutes for a in accounts) == sum(
        a.credits_pending_minutes for a in accounts
    )
    for account in accounts:
        if account.balance_minutes_min is not None:
            assert account.available_minutes >= account.balance_minutes_min
        if account.balance_minutes_max is not None:
            projected = account.posted_minutes + account.credits_pending_minutes
            assert projected <= account.balance_minutes_max
    assert book.verify().ok


# --- refusals change nothing -------------------------------------------------------


@given(data=st.data())
def test_changes_nothing_when_it_refuses_a_request(data: st.DataObject) -> None:
    """A refused request leaves balances, journal, holds and verify() as they were."""
    book = new_book([(0, None), (-60, 600)])
    book.transfer("seed", [debit("ana", 100), credit("bo", 100)])
    book.hold("h", [debit("bo", 30), credit("ana", 30)])
    request = data.draw(requests(transaction_id="next"), label="request")
    before = snapshot(book)

    result = outcome(book, request)

    after = snapshot(book)
    if isinstance(result, LedgerError):
        assert after == before
    else:
        # Accepted: exactly one record more, and nothing before it changed.
        assert after.journal == [*before.journal, result]
        assert after.report.ok


@given(amount=strategies.non_integer_amounts())
def test_rejects_amounts_that_are_not_whole_minutes(amount: object) -> None:
    """Floats (even 60.0) and bools are not minutes: AmountNotInteger names the account."""
    book = new_book([(0, None)])
    before = snapshot(book)
    with pytest.raises(AmountNotInteger) as raised:
        book.transfer("t", [debit("pool", amount), credit("ana", amount)])  # type: ignore[arg-type]
    assert raised.value.account_id == "pool"
    assert raised.value.value == repr(amount)
    assert snapshot(book) == before


def test_keeps_refusing_an_id_after_the_rule_would_pass() -> None:
    """An id refused on a rule is refused again, with the same error, once funds arrive."""
    book = new_book([(0, None)])
    overdraft = Transfer(transaction_id="t", postings=(debit("ana", 900), credit("pool", 900)))
    first = outcome(book, overdraft)
    assert isinstance(first, InsufficientMinutes)
    book.transfer("top-up", [debit("pool", 1000), credit("ana", 1000)])
    before = snapshot(book)

    assert outcome(book, overdraft) == first
    assert snapshot(book) == before


# --- time -----------------------------------------------------------------------------


@given(moment=st.one_of(strategies.aware_datetimes(), strategies.naive_datetimes()))
def test_keeps_back_dated_times_as_instants_in_utc(moment: datetime) -> None:
    """A back-dated transfer keeps its effective instant, in UTC; a zoneless time is refused."""
    # Recorded after every generated moment, so each one is a back-dating.
    book = new_book([(0, None)], clock=ManualClock(datetime(2101, 1, 1, tzinfo=UTC)))
    postings = [debit("pool", 60), credit("ana", 60)]
    if moment.tzinfo is None:
        with pytest.raises(TimestampNotAware) as raised:
            book.transfer("t", postings, effective_at=moment)
        assert raised.value.field == "effective_at"
        return
    transfer = book.transfer("t", postings, effective_at=moment)
    assert transfer.effective_at == moment
    assert transfer.effective_at.utcoffset() == timedelta(0)  # type: ignore[union-attr]
    # Effective on that day: the back-dated 60, not the 500 paid when the book was set up.
    on_the_day = book.balance("ana", as_of=moment, basis="effective")
    assert on_the_day.posted_minutes == 60


# --- determinism ------------------------------------------------------------------


def restated(request: Request) -> Request:
    """The same request written differently: metadata keys reversed, times in another zone."""
    zone = timezone(timedelta(hours=-3))
    changes: dict[str, object] = {"metadata": dict(reversed(request.metadata.items()))}
    for name in ("effective_at", "expires_at"):
        moment = getattr(request, name, None)
        if moment is not None:
            changes[name] = moment.astimezone(zone)
    return replace(request, **changes)


@st.composite
def timed_requests(draw: st.DrawFn, index: int) -> tuple[timedelta, Request]:
    """A pause, then a transfer or hold among the members, with metadata and times."""
    # The pool and the three members new_book opens below, so that most requests commit.
    postings = draw(strategies.balanced_postings(st.sampled_from(ACCOUNT_IDS[:4]), MOSTLY_SMALL))
    metadata = draw(strategies.metadata())
    when = START + timedelta(days=index)
    if draw(st.booleans()):
        effective_at = draw(st.sampled_from((None, when - timedelta(hours=1))))
        request: Request = Transfer(
            transaction_id=f"r{index}",
            postings=postings,
            metadata=metadata,
            effective_at=effective_at,
        )
    else:
        expires_at = draw(st.sampled_from((None, when + timedelta(hours=1))))
        request = Hold(
            transaction_id=f"r{index}", postings=postings, metadata=metadata, expires_at=expires_at
        )
    pause = draw(st.sampled_from((timedelta(0), timedelta(microseconds=1), timedelta(days=1))))
    return pause, request


@given(data=st.data(), count=st.integers(1, 12))
def test_gives_the_same_hashes_for_the_same_inputs(data: st.DataObject, count: int) -> None:
    """Two ledgers fed the same requests at the same times chain the same hashes.

    The second gets each request written differently (metadata in another key order,
    times in another zone), which must not matter: hashes cover instants and sorted keys.
    """
    steps = [data.draw(timed_requests(index), label=f"step {index}") for index in range(count)]
    clocks = (ManualClock(START), ManualClock(START))
    books = [new_book([(0, None), (-120, None), (0, 300)], clock=clock) for clock in clocks]
    for pause, request in steps:
        for clock in clocks:
            clock.advance(pause)
        first = outcome(books[0], request)
        second = outcome(books[1], restated(request))
        assert first == second
    journals = [[(t.sequence, t.hash) for t in book.journal(limit=500)] for book in books]
    assert journals[0] == journals[1]


# --- idempotency --------------------------------------------------------------------


def first_requests(committed: bool) -> list[Request]:
    """One request of every kind under id 't1': each commits, or each is refused on a rule."""
    payee, payer = ("ana", "bo") if committed else ("nobody", "ghost")
    return [
        Transfer(
            transaction_id="t1",
            postings=(debit("pool", 60), credit(payee, 60)),
            code="service",
            metadata={"visit": "1"},
            effective_at=START - timedelta(days=1),
        ),
        Hold(
            transaction_id="t1",
            postings=(debit(payer, 30), credit("pool", 30)),
            expires_at=START + timedelta(days=1),
        ),
        PostHold(
            transaction_id="t1", hold_id="h" if committed else "no-such-hold", amount_minutes=20
        ),
        VoidHold(transaction_id="t1", hold_id="h" if committed else "no-such-hold"),
        Reverse(transaction_id="t1", reverses_id="seed" if committed else "no-such-id"),
    ]


@given(
    committed=st.booleans(),
    data=st.data(),
)
def test_names_the_altered_field_when_an_id_is_reused(committed: bool, data: st.DataObject) -> None:
    """Reusing an id with one field changed is an IdempotencyConflict naming that field."""
    book = new_book([(0, None), (0, None)])
    book.transfer("seed", [debit("ana", 100), credit("bo", 100)])
    book.hold("h", [debit("bo", 30), credit("ana", 30)])
    first = data.draw(st.sampled_from(first_requests(committed)), label="first")
    original = outcome(book, first)
    assert isinstance(original, Transaction) is committed, original
    field, retry = data.draw(strategies.altered_requests(first), label="retry")
    before = snapshot(book)

    conflict = outcome(book, retry)

    assert conflict == IdempotencyConflict(transaction_id="t1", field=field)
    assert snapshot(book) == before
    assert outcome(book, first) == original


# --- edge cases found by the machine --------------------------------------------------


@pytest.mark.parametrize("amount", [True, 1.0])
def test_names_postings_when_a_retry_changes_only_the_type_of_an_amount(amount: object) -> None:
    """A retry with amount True or 1.0 where the original had the int 1 is a different request."""
    book = new_book([(0, None)])
    book.transfer("t1", [debit("pool", 1), credit("ana", 1)])

    postings = (debit("pool", amount), credit("ana", 1))  # type: ignore[arg-type]
    retry = outcome(book, Transfer(transaction_id="t1", postings=postings))

    assert retry == IdempotencyConflict(transaction_id="t1", field="postings")


def test_reports_the_projected_balance_when_it_passes_the_upper_limit() -> None:
    """BalanceOutOfRange for an upper breach carries the projected balance, not the available."""
    store = MemoryStore()
    book = Ledger(store, clock=ManualClock(START)).create_book("centre")
    book.open_account("pool", balance_minutes_min=None)

    def near_the_top_with_pending_debits(unit: LedgerUnit) -> None:
        # Reachable through the API only after millions of maximal postings, so seed it.
        unit.add_account(
            Account(
                book_id="centre",
                account_id="big",
                balance_minutes_min=None,
                balance_minutes_max=None,
                metadata={},
                opened_at=START,
                posted_minutes=BALANCE_MINUTES_LIMIT - 10,
                debits_pending_minutes=BALANCE_MINUTES_LIMIT + 100,
            )
        )

    store.transact("centre", near_the_top_with_pending_debits)

    with pytest.raises(BalanceOutOfRange) as raised:
        book.transfer("t", [debit("pool", 20), credit("big", 20)])

    assert raised.value.account_id == "big"
    assert raised.value.projected_minutes == BALANCE_MINUTES_LIMIT + 10
