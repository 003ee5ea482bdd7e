"""Worked examples of every ledger behaviour, through the public API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from timebank.ledger import (
    Account,
    AccountClosed,
    AccountExists,
    AccountNotFound,
    BalanceOutOfRange,
    BatchTooLarge,
    Book,
    BookExists,
    BookNotFound,
    BoundsInvalid,
    HoldNotPending,
    HoldStatus,
    IdempotencyConflict,
    IdInvalid,
    InsufficientMinutes,
    Kind,
    Ledger,
    LedgerUnit,
    ManualClock,
    MaximumBalanceExceeded,
    MemoryStore,
    MetadataInvalid,
    PageSizeOutOfRange,
    Transfer,
    credit,
    debit,
)
from timebank.ledger.limits import BALANCE_MINUTES_LIMIT, BATCH_REQUESTS_MAX, METADATA_BYTES_MAX

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START, tick=timedelta(seconds=1))


@pytest.fixture
def book(clock: ManualClock) -> Book:
    """A community book with an unbounded pool and three members who may not overdraw."""
    book = Ledger(clock=clock).create_book("sunflower")
    book.open_account("pool", balance_minutes_min=None)
    for member in ("wang-fang", "li-jun", "zhang-wei"):
        book.open_account(member)
    return book


def posted(book: Book, account_id: str) -> int:
    return book.balance(account_id).posted_minutes


# --- books and accounts ---------------------------------------------------------


def test_books_are_separate_tenants(clock: ManualClock) -> None:
    """Minutes move only within a book; ids may repeat across books."""
    ledger = Ledger(clock=clock)
    north, south = ledger.create_book("north"), ledger.create_book("south")
    for book in (north, south):
        book.open_account("pool", balance_minutes_min=None)
        book.open_account("wang-fang")
    north.transfer("t1", [debit("pool", 30), credit("wang-fang", 30)])
    assert posted(north, "wang-fang") == 30
    assert posted(south, "wang-fang") == 0
    assert south.transfer("t1", [debit("pool", 5), credit("wang-fang", 5)]).sequence == 1
    assert ledger.book_ids() == ["north", "south"]


def test_rejects_duplicate_and_unknown_books(clock: ManualClock) -> None:
    """A book id is created once; asking for a missing book is an error."""
    ledger = Ledger(clock=clock)
    ledger.create_book("north")
    with pytest.raises(BookExists):
        ledger.create_book("north")
    with pytest.raises(BookNotFound):
        ledger.book("south")
    with pytest.raises(IdInvalid):
        ledger.create_book("has space")


def test_reopening_an_account_is_idempotent(book: Book) -> None:
    """Opening again with the same settings returns it; other settings are a conflict."""
    first = book.open_account("li-na", balance_minutes_max=600, metadata={"grid": "3"})
    assert book.open_account("li-na", balance_minutes_max=600, metadata={"grid": "3"}) == first
    with pytest.raises(AccountExists) as raised:
        book.open_account("li-na", balance_minutes_max=900, metadata={"grid": "3"})
    assert raised.value.field == "balance_minutes_max"


@pytest.mark.parametrize(
    ("low", "high"),
    [(1, None), (None, -1), (-(BALANCE_MINUTES_LIMIT + 1), None), (0.5, None), (None, True)],
)
def test_rejects_bounds_a_new_account_could_not_meet(low: object, high: object) -> None:
    """Bounds are whole minutes with minimum <= 0 <= maximum inside +/- 2**62."""
    book = Ledger().create_book("b")
    with pytest.raises(BoundsInvalid):
        book.open_account("x", balance_minutes_min=low, balance_minutes_max=high)  # type: ignore[arg-type]


def test_rejects_oversized_metadata(book: Book) -> None:
    """Metadata is bounded in size."""
    with pytest.raises(MetadataInvalid):
        book.open_account("big", metadata={"note": "x" * METADATA_BYTES_MAX})


def test_closed_account_refuses_postings_but_its_holds_can_be_voided(book: Book) -> None:
    """Closing stops new postings; minutes already held can still be released."""
    book.transfer("fund", [debit("pool", 60), credit("wang-fang", 60)])
    book.hold("h1", [debit("wang-fang", 20), credit("li-jun", 20)])
    closed = book.close_account("wang-fang")
    assert closed.closed
    assert book.close_account("wang-fang") == closed
    with pytest.raises(AccountClosed):
        book.transfer("t2", [debit("pool", 5), credit("wang-fang", 5)])
    with pytest.raises(AccountClosed):
        book.post_hold("p1", "h1")
    book.void_hold("v1", "h1")
    assert book.balance("wang-fang").debits_pending_minutes == 0
    assert book.verify().ok


def test_closing_an_unknown_account_is_an_error(book: Book) -> None:
    """Only opened accounts can be closed."""
    with pytest.raises(AccountNotFound):
        book.close_account("nobody")


# --- transactions -----------------------------------------------------------------


def test_group_event_credits_thirty_volunteers_in_one_transaction(book: Book) -> None:
    """One sponsor debit can balance many volunteer credits, all or nothing."""
    volunteers = [f"volunteer-{n:02d}" for n in range(30)]
    for volunteer in volunteers:
        book.open_account(volunteer)
    postings = [debit("pool", 30 * 120)] + [credit(v, 120) for v in volunteers]
    event = book.transfer("event-park-cleanup", postings, code="group-event")
    assert len(event.postings) == 31
    assert all(posted(book, v) == 120 for v in volunteers)
    assert posted(book, "pool") == -3600


def test_a_multi_leg_transaction_commits_whole_or_not_at_all(book: Book) -> None:
    """If one leg breaks a limit, no leg is applied."""
    book.open_account("capped", balance_minutes_max=100)
    with pytest.raises(MaximumBalanceExceeded):
        book.transfer("t1", [debit("pool", 300), credit("wang-fang", 100), credit("capped", 200)])
    assert posted(book, "wang-fang") == 0
    assert posted(book, "pool") == 0
    assert book.journal() == []


def test_credit_line_lets_a_member_go_below_zero_down_to_its_limit(book: Book) -> None:
    """A negative minimum is a credit line (mutual-credit time banks)."""
    book.open_account("chen-jing", balance_minutes_min=-120)
    book.transfer("t1", [debit("chen-jing", 120), credit("li-jun", 120)])
    assert posted(book, "chen-jing") == -120
    with pytest.raises(InsufficientMinutes) as raised:
        book.transfer("t2", [debit("chen-jing", 1), credit("li-jun", 1)])
    assert raised.value.available_minutes == -120
    assert raised.value.balance_minutes_min == -120


def test_no_balance_leaves_the_64_bit_range(clock: ManualClock) -> None:
    """Even unbounded accounts stay within +/- 2**62 minutes, so every store can hold them."""
    store = MemoryStore()
    book = Ledger(store, clock=clock).create_book("b")

    def near_the_edge(unit: LedgerUnit) -> None:
        for account_id, minutes in (("high", BALANCE_MINUTES_LIMIT - 5), ("low", -5)):
            unit.add_account(
                Account(
                    book_id="b",
                    account_id=account_id,
                    balance_minutes_min=None,
                    balance_minutes_max=None,
                    metadata={},
                    opened_at=START,
                    posted_minutes=minutes,
                )
            )

    store.transact("b", near_the_edge)
    book.transfer("fits", [debit("low", 5), credit("high", 5)])
    with pytest.raises(BalanceOutOfRange) as raised:
        book.transfer("too-far", [debit("low", 1), credit("high", 1)])
    assert raised.value.projected_minutes == BALANCE_MINUTES_LIMIT + 1
    assert book.balance("high").posted_minutes == BALANCE_MINUTES_LIMIT


def test_ids_are_validated(book: Book) -> None:
    """Transaction ids are 1-128 printable characters without spaces."""
    for bad in ["", "a b", "x" * 129, "tab\there", "~reserved"]:
        with pytest.raises(IdInvalid):
            book.transfer(bad, [debit("pool", 1), credit("li-jun", 1)])
    assert book.transfer("志愿-2026/11", [debit("pool", 1), credit("li-jun", 1)]).sequence == 1


# --- holds ----------------------------------------------------------------------


def test_hold_reserves_minutes_and_counts_against_bounds(book: Book) -> None:
    """A held minute cannot be spent twice."""
    book.transfer("fund", [debit("pool", 60), credit("zhang-wei", 60)])
    book.hold("order-1", [debit("zhang-wei", 45), credit("wang-fang", 45)])
    balance = book.balance("zhang-wei")
    assert (balance.posted_minutes, balance.available_minutes) == (60, 15)
    assert book.balance("wang-fang").pending_minutes == 45
    with pytest.raises(InsufficientMinutes):
        book.transfer("spend", [debit("zhang-wei", 16), credit("li-jun", 16)])


def test_hold_posts_for_fewer_minutes_and_releases_the_rest(book: Book) -> None:
    """Posting fewer minutes than held moves those and frees the remainder."""
    book.transfer("fund", [debit("pool", 60), credit("zhang-wei", 60)])
    book.hold("order-1", [debit("zhang-wei", 60), credit("wang-fang", 60)])
    post = book.post_hold("order-1-done", "order-1", amount_minutes=40)
    assert post.kind is Kind.POST
    assert post.related_id == "order-1"
    assert book.balance("zhang-wei").available_minutes == 20
    assert book.balance("wang-fang").posted_minutes == 40
    assert book.hold_record("order-1").status is HoldStatus.POSTED
    with pytest.raises(HoldNotPending):
        book.void_hold("order-1-void", "order-1")


def test_multi_leg_hold_posts_per_leg(book: Book) -> None:
    """A hold with several legs is posted with explicit postings, each at most as held."""
    book.hold("h", [debit("pool", 90), credit("wang-fang", 60), credit("li-jun", 30)])
    book.post_hold(
        "h-done", "h", postings=[debit("pool", 80), credit("wang-fang", 50), credit("li-jun", 30)]
    )
    assert [posted(book, a) for a in ("pool", "wang-fang", "li-jun")] == [-80, 50, 30]


def test_expired_holds_are_released_and_can_no_longer_be_posted(
    book: Book, clock: ManualClock
) -> None:
    """expire_holds releases holds at or past their expiry; a later post is refused."""
    book.transfer("fund", [debit("pool", 60), credit("zhang-wei", 60)])
    book.hold(
        "order-1",
        [debit("zhang-wei", 30), credit("wang-fang", 30)],
        expires_at=START + timedelta(hours=1),
    )
    book.hold("order-2", [debit("zhang-wei", 30), credit("li-jun", 30)])
    assert book.expire_holds().expired == ()
    clock.advance(timedelta(hours=1))
    report = book.expire_holds()
    assert [t.transaction_id for t in report.expired] == ["~expire:order-1"]
    assert report.more_due is False
    assert book.hold_record("order-1").status is HoldStatus.EXPIRED
    assert book.balance("zhang-wei").available_minutes == 30
    with pytest.raises(HoldNotPending) as raised:
        book.post_hold("late", "order-1")
    assert raised.value.status == "expired"
    assert book.verify().ok


def test_expire_holds_works_in_bounded_batches(book: Book, clock: ManualClock) -> None:
    """Each call expires at most `limit` holds and says whether more are due."""
    for n in range(5):
        book.hold(f"h{n}", [debit("pool", 1), credit("li-jun", 1)], expires_at=START + timedelta(1))
    clock.advance(timedelta(days=2))
    first = book.expire_holds(limit=3)
    assert (len(first.expired), first.more_due) == (3, True)
    second = book.expire_holds(limit=3)
    assert (len(second.expired), second.more_due) == (2, False)
    with pytest.raises(PageSizeOutOfRange):
        book.expire_holds(limit=0)


# --- reversals --------------------------------------------------------------------


def test_reversal_mirrors_the_original_and_links_to_it(book: Book) -> None:
    """A correction is a new transaction with sides swapped; the original stays."""
    original = book.transfer("mistake", [debit("pool", 90), credit("li-jun", 90)])
    reversal = book.reverse("mistake-fix", "mistake", code="correction")
    assert reversal.kind is Kind.REVERSAL
    assert reversal.related_id == "mistake"
    assert [(p.account_id, p.side.value, p.amount_minutes) for p in reversal.postings] == [
        ("pool", "credit", 90),
        ("li-jun", "debit", 90),
    ]
    assert posted(book, "li-jun") == 0
    assert book.transaction("mistake") == original
    assert len(book.journal()) == 2


def test_a_posted_hold_can_be_reversed(book: Book) -> None:
    """Reversing a post moves back exactly what was posted."""
    book.hold("h", [debit("pool", 60), credit("li-jun", 60)])
    book.post_hold("h-post", "h", amount_minutes=25)
    book.reverse("h-post-fix", "h-post")
    assert posted(book, "li-jun") == 0
    assert posted(book, "pool") == 0


# --- idempotency ------------------------------------------------------------------


def test_identical_retry_returns_the_original_transaction(book: Book) -> None:
    """The same id with the same content gives the original outcome and changes nothing."""
    first = book.transfer("visit-1", [debit("pool", 30), credit("li-jun", 30)], code="visit")
    again = book.transfer("visit-1", [debit("pool", 30), credit("li-jun", 30)], code="visit")
    assert again == first
    assert posted(book, "li-jun") == 30
    assert len(book.journal()) == 1


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("postings", {"postings": (debit("pool", 31), credit("li-jun", 31))}),
        ("code", {"code": "other"}),
        ("metadata", {"metadata": {"note": "changed"}}),
        ("effective_at", {"effective_at": START}),
    ],
)
def test_altered_retry_names_the_differing_field(
    book: Book, field: str, changes: dict[str, object]
) -> None:
    """The same id with different content is refused, naming the first field that differs."""
    fields: dict[str, object] = {
        "transaction_id": "visit-1",
        "postings": (debit("pool", 30), credit("li-jun", 30)),
        "code": "visit",
        "metadata": {"note": "paper form 7"},
    }
    book.submit(Transfer(**fields))  # type: ignore[arg-type]
    with pytest.raises(IdempotencyConflict) as raised:
        book.submit(Transfer(**{**fields, **changes}))  # type: ignore[arg-type]
    assert raised.value.field == field
    assert raised.value.transaction_id == "visit-1"


def test_a_refused_id_stays_refused_even_when_it_would_now_succeed(book: Book) -> None:
    """An id whose first attempt broke a rule returns that same error on every retry."""
    with pytest.raises(InsufficientMinutes) as first:
        book.transfer("spend-1", [debit("li-jun", 30), credit("wang-fang", 30)])
    book.transfer("top-up", [debit("pool", 60), credit("li-jun", 60)])
    with pytest.raises(InsufficientMinutes) as again:
        book.transfer("spend-1", [debit("li-jun", 30), credit("wang-fang", 30)])
    assert again.value == first.value
    assert posted(book, "wang-fang") == 0
    assert book.transfer("spend-2", [debit("li-jun", 30), credit("wang-fang", 30)]).sequence == 2


def test_submit_many_gives_each_request_its_own_outcome(book: Book) -> None:
    """A batch applies requests in order; a refused one does not stop the others."""
    outcomes = book.submit_many(
        [
            Transfer(transaction_id="b1", postings=(debit("pool", 10), credit("li-jun", 10))),
            Transfer(transaction_id="b2", postings=(debit("li-jun", 99), credit("wang-fang", 99))),
            Transfer(transaction_id="", postings=()),
            Transfer(transaction_id="b3", postings=(debit("li-jun", 10), credit("wang-fang", 10))),
        ]
    )
    kinds = [type(outcome).__name__ for outcome in outcomes]
    assert kinds == ["Transaction", "InsufficientMinutes", "IdInvalid", "Transaction"]
    assert posted(book, "wang-fang") == 10


def test_submit_many_is_bounded(book: Book) -> None:
    """A batch larger than the limit is refused whole, before anything is applied."""
    requests = (
        Transfer(transaction_id=f"b{n}", postings=(debit("pool", 1), credit("li-jun", 1)))
        for n in range(BATCH_REQUESTS_MAX + 1)
    )
    with pytest.raises(BatchTooLarge):
        book.submit_many(requests)
    assert book.journal() == []


# --- time ---------------------------------------------------------------------------


def test_recorded_time_strictly_increases_even_if_the_clock_does_not() -> None:
    """A stalled clock still gives each record a later time than the one before."""
    clock = ManualClock(START)
    book = Ledger(clock=clock).create_book("b")
    book.open_account("pool", balance_minutes_min=None)
    book.open_account("li-jun")
    times = [
        book.transfer(f"t{n}", [debit("pool", 1), credit("li-jun", 1)]).recorded_at
        for n in range(3)
    ]
    assert times == [START, START + timedelta(microseconds=1), START + timedelta(microseconds=2)]


def test_times_are_kept_in_utc(book: Book) -> None:
    """Times given in another zone are stored as the same instant in UTC."""
    beijing = timezone(timedelta(hours=8))
    paper = datetime(2026, 10, 30, 15, 0, tzinfo=beijing)
    record = book.transfer("paper-1", [debit("pool", 60), credit("li-jun", 60)], effective_at=paper)
    assert record.effective_at == paper
    assert record.effective_at is not None
    assert record.effective_at.tzinfo is UTC


def test_balance_as_of_recorded_and_effective_time(book: Book, clock: ManualClock) -> None:
    """A back-dated paper record counts from its effective time, not when it was typed in."""
    book.transfer("live", [debit("pool", 30), credit("li-jun", 30)])
    clock.advance(timedelta(days=3))
    book.transfer(
        "paper",
        [debit("pool", 60), credit("li-jun", 60)],
        effective_at=START - timedelta(days=10),
    )
    one_day_in = START + timedelta(days=1)
    assert book.balance("li-jun", as_of=one_day_in).posted_minutes == 30
    assert book.balance("li-jun", as_of=one_day_in, basis="effective").posted_minutes == 90
    assert book.balance("li-jun", as_of=START - timedelta(days=11)).posted_minutes == 0
    assert book.balance("li-jun").posted_minutes == 90


# --- statements -------------------------------------------------------------------


def test_statement_pages_carry_the_balance_after_each_entry(book: Book) -> None:
    """Entries come oldest first, in bounded pages, with a cursor to the next page."""
    for n in range(5):
        book.transfer(f"t{n}", [debit("pool", 10 + n), credit("li-jun", 10 + n)])
    first = book.statement("li-jun", limit=2)
    assert [e.posted_minutes for e in first.entries] == [10, 21]
    assert [e.posted_delta_minutes for e in first.entries] == [10, 11]
    assert first.next_after == 2
    second = book.statement("li-jun", after=first.next_after, limit=2)
    assert [e.transaction_id for e in second.entries] == ["t2", "t3"]
    last = book.statement("li-jun", after=second.next_after, limit=2)
    assert [e.posted_minutes for e in last.entries] == [60]
    assert last.next_after is None
    with pytest.raises(PageSizeOutOfRange):
        book.statement("li-jun", limit=501)
    with pytest.raises(AccountNotFound):
        book.statement("nobody")


def test_submit_many_replays_ids_seen_before_and_within_the_batch(book: Book) -> None:
    """An id seen earlier, or earlier in the same batch, gets its original outcome."""
    book.transfer("old", [debit("pool", 5), credit("li-jun", 5)])
    fresh = Transfer(transaction_id="new", postings=(debit("pool", 7), credit("li-jun", 7)))
    altered = Transfer(transaction_id="new", postings=(debit("pool", 8), credit("li-jun", 8)))
    old = Transfer(transaction_id="old", postings=(debit("pool", 5), credit("li-jun", 5)))
    outcomes = book.submit_many([old, fresh, fresh, altered])
    assert outcomes[0] == book.transaction("old")
    assert outcomes[1] == outcomes[2] == book.transaction("new")
    assert isinstance(outcomes[3], IdempotencyConflict)
    assert outcomes[3].field == "postings"
    assert posted(book, "li-jun") == 12
