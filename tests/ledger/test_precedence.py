"""Which error wins when a request breaks several rules at once, one line per case.

The order is part of the contract: a client that fixes the reported problem and
retries (with a new id) meets the next one, and every store must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from timebank.ledger import (
    AccountClosed,
    AccountNotFound,
    AccountRepeated,
    AmountNotInteger,
    AmountNotPositive,
    AmountTooLarge,
    Book,
    CodeNotPrintable,
    CodeTooLong,
    EffectiveTimeAfterRecording,
    Hold,
    HoldExpired,
    HoldExpiryNotAfterRecording,
    HoldNotFound,
    HoldNotPending,
    IdempotencyConflict,
    IdInvalid,
    InsufficientMinutes,
    Ledger,
    LedgerError,
    ManualClock,
    MaximumBalanceExceeded,
    MetadataInvalid,
    PostDoesNotMatchHold,
    PostExceedsHold,
    PostHold,
    Posting,
    PostingCountOutOfRange,
    Request,
    Reverse,
    Side,
    TimestampNotAware,
    TimestampOutOfRange,
    TransactionAlreadyReversed,
    TransactionNotFound,
    TransactionNotReversible,
    TransactionUnbalanced,
    Transfer,
    VoidHold,
    credit,
    debit,
)

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
NAIVE = datetime(2026, 11, 1, 9, 0)
FUTURE = datetime(2030, 1, 1, tzinfo=UTC)
PAST = datetime(2020, 1, 1, tzinfo=UTC)


def floaty(account_id: str, side: Side) -> Posting:
    """A posting whose amount is a float, which the ledger must refuse."""
    return Posting(account_id=account_id, side=side, amount_minutes=1.5)  # type: ignore[arg-type]


def books() -> Book:
    """A book in a known state that every case starts from.

    Accounts: ``pool`` (unbounded), ``a`` (100 posted, 10 held for ``b``),
    ``b``, ``capped`` (maximum 50), ``closed``. Holds: ``h-open`` (pending),
    ``h-posted`` (posted), ``h-stale`` (past its expiry, not yet processed).
    Transactions: ``t-fund`` (reversible), ``t-gone`` (already reversed).
    """
    clock = ManualClock(START, tick=timedelta(seconds=1))
    book = Ledger(clock=clock).create_book("precedence")
    book.open_account("pool", balance_minutes_min=None)
    for account_id in ("a", "b", "closed"):
        book.open_account(account_id)
    book.open_account("capped", balance_minutes_max=50)
    book.transfer("t-fund", [debit("pool", 100), credit("a", 100)])
    book.transfer("t-gone", [debit("pool", 5), credit("b", 5)])
    book.reverse("t-gone-reversal", "t-gone")
    book.hold("h-open", [debit("a", 10), credit("b", 10)], expires_at=FUTURE)
    book.hold("h-posted", [debit("pool", 3), credit("b", 3)])
    book.post_hold("h-posted-post", "h-posted")
    book.hold("h-stale", [debit("pool", 4), credit("b", 4)], expires_at=START + timedelta(hours=1))
    book.close_account("closed")
    book.transfer("t-seen", [debit("pool", 1), credit("b", 1)], code="seen")
    clock.advance(timedelta(hours=2))
    return book


def transfer(*postings: Posting, **fields: object) -> Transfer:
    return Transfer(transaction_id="x", postings=postings, **fields)  # type: ignore[arg-type]


CASES: list[tuple[str, Request, type[LedgerError], dict[str, object]]] = [
    # --- the transaction id comes first, then idempotency -----------------------
    ("empty id beats everything", Transfer(transaction_id="", postings=()), IdInvalid, {}),
    (
        "reserved id beats everything",
        Transfer(transaction_id="~mine", postings=(debit("nobody", 0),)),
        IdInvalid,
        {"reason": "ids starting with '~' are reserved"},
    ),
    (
        "metadata of the wrong types is refused before the id is looked up",
        Transfer(transaction_id="t-seen", postings=(), metadata={"k": 1}),  # type: ignore[dict-item]
        MetadataInvalid,
        {"reason": "keys and values must be strings"},
    ),
    (
        "reused id with other content beats its own shape errors",
        Transfer(transaction_id="t-seen", postings=(debit("nobody", 0),), code="seen"),
        IdempotencyConflict,
        {"field": "postings"},
    ),
    (
        "reused id as another kind of request",
        VoidHold(transaction_id="t-seen", hold_id="h-open"),
        IdempotencyConflict,
        {"field": "kind"},
    ),
    # --- then the request's own shape -------------------------------------------
    (
        "code beats metadata and postings",
        transfer(debit("a", 1), code="c" * 65, metadata={"k": "v" * 5_000}),
        CodeTooLong,
        {"length": 65},
    ),
    (
        "a code with a control character beats metadata",
        transfer(debit("a", 1), code="line\x00break", metadata={"k": "v" * 5_000}),
        CodeNotPrintable,
        {"value": "line\x00break"},
    ),
    (
        "metadata size beats timestamps and postings",
        transfer(debit("a", 1), metadata={"k": "v" * 5_000}, effective_at=NAIVE),
        MetadataInvalid,
        {},
    ),
    (
        "a naive effective time beats postings",
        transfer(debit("a", 1), effective_at=NAIVE),
        TimestampNotAware,
        {"field": "effective_at"},
    ),
    (
        "an effective time past the calendar's end beats postings",
        transfer(debit("a", 1), effective_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC)),
        TimestampOutOfRange,
        {"field": "effective_at"},
    ),
    (
        "an effective time with no UTC time (year 1 at +14:00) beats postings",
        transfer(
            debit("a", 1),
            effective_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        ),
        TimestampOutOfRange,
        {"field": "effective_at"},
    ),
    (
        "posting count beats bad amounts",
        transfer(debit("a", 0)),
        PostingCountOutOfRange,
        {"count": 1},
    ),
    (
        "the first bad posting wins: a float",
        transfer(floaty("a", Side.DEBIT), debit("b", 0)),
        AmountNotInteger,
        {"account_id": "a"},
    ),
    (
        "the first bad posting wins: zero",
        transfer(credit("b", 5), debit("a", 0), floaty("pool", Side.DEBIT)),
        AmountNotPositive,
        {"account_id": "a", "amount_minutes": 0},
    ),
    (
        "an amount over 10**12 beats an unbalanced total",
        transfer(debit("a", 10**12 + 1), credit("b", 1)),
        AmountTooLarge,
        {"amount_minutes": 10**12 + 1},
    ),
    (
        "a repeated account beats an unbalanced total",
        transfer(debit("a", 5), credit("a", 6)),
        AccountRepeated,
        {"account_id": "a"},
    ),
    (
        "an unbalanced total beats unknown accounts",
        transfer(debit("nobody", 5), credit("no-one", 6)),
        TransactionUnbalanced,
        {"debits_minutes": 5, "credits_minutes": 6},
    ),
    (
        "a future effective time beats unknown accounts",
        transfer(debit("nobody", 5), credit("no-one", 5), effective_at=FUTURE),
        EffectiveTimeAfterRecording,
        {},
    ),
    # --- then the accounts --------------------------------------------------------
    (
        "an unknown account beats an earlier closed one",
        transfer(debit("closed", 5), credit("nobody", 5)),
        AccountNotFound,
        {"account_id": "nobody"},
    ),
    (
        "a closed account beats limits",
        transfer(debit("a", 500), credit("closed", 500)),
        AccountClosed,
        {"account_id": "closed"},
    ),
    # --- then limits, in posting order ------------------------------------------
    (
        "limits follow posting order: maximum first",
        transfer(credit("capped", 200), debit("a", 200)),
        MaximumBalanceExceeded,
        {"account_id": "capped", "projected_minutes": 200, "balance_minutes_max": 50},
    ),
    (
        "limits follow posting order: minimum first; pending debits count",
        transfer(debit("a", 200), credit("capped", 200)),
        InsufficientMinutes,
        {"account_id": "a", "available_minutes": 90, "requested_minutes": 200},
    ),
    # --- holds ------------------------------------------------------------------
    (
        "a naive expiry beats postings",
        Hold(transaction_id="x", postings=(debit("a", 0),), expires_at=NAIVE),
        TimestampNotAware,
        {"field": "expires_at"},
    ),
    (
        "an expiry past the calendar's end beats postings",
        Hold(
            transaction_id="x",
            postings=(debit("a", 0),),
            expires_at=datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-23))),
        ),
        TimestampOutOfRange,
        {"field": "expires_at"},
    ),
    (
        "an expiry in the past beats unknown accounts",
        Hold(transaction_id="x", postings=(debit("nobody", 5), credit("b", 5)), expires_at=PAST),
        HoldExpiryNotAfterRecording,
        {},
    ),
    (
        "posting an unknown hold",
        PostHold(transaction_id="x", hold_id="h-none", amount_minutes=0),
        HoldNotFound,
        {"hold_id": "h-none"},
    ),
    (
        "posting a transfer as if it were a hold",
        PostHold(transaction_id="x", hold_id="t-fund"),
        HoldNotFound,
        {"hold_id": "t-fund"},
    ),
    (
        "a resolved hold beats bad amounts",
        PostHold(transaction_id="x", hold_id="h-posted", amount_minutes=999),
        HoldNotPending,
        {"status": "posted"},
    ),
    (
        "an expired hold beats bad amounts, even before expiry processing",
        PostHold(transaction_id="x", hold_id="h-stale", amount_minutes=999),
        HoldExpired,
        {"hold_id": "h-stale"},
    ),
    (
        "amount and postings together",
        PostHold(
            transaction_id="x",
            hold_id="h-open",
            amount_minutes=5,
            postings=(debit("a", 5), credit("b", 5)),
        ),
        PostDoesNotMatchHold,
        {},
    ),
    (
        "posting more than held",
        PostHold(transaction_id="x", hold_id="h-open", amount_minutes=11),
        PostExceedsHold,
        {"held_minutes": 10, "requested_minutes": 11},
    ),
    (
        "posting to an account outside the hold",
        PostHold(transaction_id="x", hold_id="h-open", postings=(debit("a", 5), credit("pool", 5))),
        PostDoesNotMatchHold,
        {},
    ),
    (
        "voiding a resolved hold",
        VoidHold(transaction_id="x", hold_id="h-posted"),
        HoldNotPending,
        {"status": "posted"},
    ),
    # --- reversals -----------------------------------------------------------------
    (
        "reversing an unknown transaction",
        Reverse(transaction_id="x", reverses_id="t-none"),
        TransactionNotFound,
        {"transaction_id": "t-none"},
    ),
    (
        "reversing a hold",
        Reverse(transaction_id="x", reverses_id="h-open"),
        TransactionNotReversible,
        {"kind": "hold"},
    ),
    (
        "reversing a reversal",
        Reverse(transaction_id="x", reverses_id="t-gone-reversal"),
        TransactionNotReversible,
        {"kind": "reversal"},
    ),
    (
        "reversing twice",
        Reverse(transaction_id="x", reverses_id="t-gone"),
        TransactionAlreadyReversed,
        {"reversal_id": "t-gone-reversal"},
    ),
    (
        "a reversal that would overdraw",
        Reverse(transaction_id="x", reverses_id="t-fund"),
        InsufficientMinutes,
        {"account_id": "a", "available_minutes": 90, "requested_minutes": 100},
    ),
]


@pytest.mark.parametrize(
    ("request_", "error", "fields"),
    [pytest.param(request, error, fields, id=name) for name, request, error, fields in CASES],
)
def test_first_broken_rule_wins(
    request_: Request, error: type[LedgerError], fields: dict[str, object]
) -> None:
    """The error raised is the first rule broken in the documented order, with its data."""
    book = books()
    before = [account.balance() for account in book.accounts()]
    journal = book.journal(limit=500)
    with pytest.raises(error) as raised:
        book.submit(request_)
    assert type(raised.value) is error
    for name, value in fields.items():
        assert getattr(raised.value, name) == value
    assert [account.balance() for account in book.accounts()] == before
    assert book.journal(limit=500) == journal
    assert book.verify().ok


def test_cases_cover_every_request_kind() -> None:
    """The table exercises every kind of request."""
    kinds = {type(request) for _, request, _, _ in CASES}
    assert kinds == {Transfer, Hold, PostHold, VoidHold, Reverse}
