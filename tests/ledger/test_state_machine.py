"""The ledger as a state machine: random operations, each checked against a simple model.

Every step drives the public API (open or close an account, transfer, hold,
post, void, reverse, retry an old id as it was or with one field altered,
move the clock, expire holds, submit a batch), predicts the exact outcome from
a deliberately plain model of dicts and ints written here from the rules, and
compares: a committed transaction field by field, or the error's class and
data. After every step the invariants compare the whole book with the model:
conservation, bounds, cached balances, statements folded entry by entry, hold
states, the journal's head, and ``verify()``.

The model does not import the core's checks or planning code; it restates the
rules. To run the same machine against another store, subclass
``LedgerMachine``, override ``make_store`` (and ``extra_checks`` to compare the
persisted state with ``self.model``), and expose ``TestX = Subclass.TestCase``.

The settings come from the profile tests/conftest.py loads: "dev" (100 runs) takes
about 7 s here, "ci" (1,000 runs of up to 60 steps) about 80 s on two cores. A
subclass over a slower store should give its ``TestCase`` smaller settings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar, cast

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)
from msgspec.structs import replace

from tests import strategies
from tests.strategies import (
    ACCOUNT_IDS,
    AMOUNT_MINUTES_MAX,
    BALANCE_MINUTES_LIMIT,
    CODE_LENGTH_MAX,
    ID_LENGTH_MAX,
    METADATA_BYTES_MAX,
    POSTINGS_MAX,
    POSTINGS_MIN,
    UNKNOWN_ACCOUNT_IDS,
    ZONES,
)
from timebank.ledger import (
    GENESIS_HASH,
    Account,
    AccountClosed,
    AccountExists,
    AccountNotFound,
    AccountRepeated,
    AmountNotInteger,
    AmountNotPositive,
    AmountTooLarge,
    BalanceOutOfRange,
    BoundsInvalid,
    CodeNotPrintable,
    CodeTooLong,
    EffectiveTimeAfterRecording,
    Hold,
    HoldExpired,
    HoldExpiryNotAfterRecording,
    HoldNotFound,
    HoldNotPending,
    HoldStatus,
    IdempotencyConflict,
    IdInvalid,
    InsufficientMinutes,
    Kind,
    Ledger,
    LedgerError,
    LedgerStore,
    ManualClock,
    MaximumBalanceExceeded,
    MemoryStore,
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
    Transaction,
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
BOOK_ID = "centre"
MICROSECOND = timedelta(microseconds=1)
STATEMENT_PAGE = 7
"""Small, so that reading a statement in the invariants walks several pages."""
CLOSED_ACCOUNTS_MAX = 1
"""Close at most this many accounts, so that most steps still have open accounts to move."""
EXPIRY_OFFSETS = (
    MICROSECOND,
    2 * MICROSECOND,
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(hours=1),
)
CLOCK_STEPS = (
    MICROSECOND,
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
)

T = TypeVar("T")


# --- the model ------------------------------------------------------------------------


class Refused(Exception):
    """Raised inside the model: the request must be refused with ``error``."""

    def __init__(self, error: LedgerError) -> None:
        super().__init__(repr(error))
        self.error = error


@dataclass
class ModelAccount:
    """One account as the model sees it."""

    minimum: int | None
    maximum: int | None
    metadata: dict[str, str]
    opened_at: datetime
    closed_at: datetime | None = None
    posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0
    entries: int = 0
    """How many statement entries the account has."""

    def balances(self) -> tuple[int, int, int]:
        return (self.posted, self.debits_pending, self.credits_pending)


@dataclass
class ModelHold:
    """One hold as the model sees it."""

    postings: tuple[Posting, ...]
    expires_at: datetime | None
    status: HoldStatus = HoldStatus.PENDING
    resolved_by: str | None = None
    """The post, void or expiry that resolved it."""


@dataclass
class Outcome:
    """What became of a transaction id: its request, and its transaction or its error."""

    request: Request | None
    transaction: Transaction | None = None
    error: LedgerError | None = None


@dataclass
class Accept:
    """The model's prediction that a request commits this transaction."""

    transaction_id: str
    kind: Kind
    postings: tuple[Posting, ...]
    code: str
    metadata: dict[str, str]
    recorded_at: datetime
    deltas: dict[str, list[int]]
    """Per account touched, in posting order: changes of posted, debits and credits pending."""
    effective_at: datetime | None = None
    expires_at: datetime | None = None
    related_id: str | None = None
    hold: tuple[str, ModelHold] | None = None
    """The hold this transaction creates or resolves, in its new state."""


@dataclass
class Refuse:
    """The model's prediction that a request is refused; ``remembered`` under its id or not."""

    error: LedgerError
    remembered: bool


@dataclass
class Replay:
    """The model's prediction that a reused id gets its original outcome again."""

    outcome: Outcome


Expectation = Accept | Refuse | Replay


def id_problem(name: str, value: object, *, reserved_ok: bool = False) -> IdInvalid | None:
    """Ids are 1 to 128 printable characters without spaces; '~' starts only ledger-made ids."""
    if not isinstance(value, str):
        return IdInvalid(field=name, value=repr(value), reason="")
    if not 1 <= len(value) <= ID_LENGTH_MAX:
        # The error shows at most the first 128 characters of an over-long id.
        return IdInvalid(field=name, value=value[:ID_LENGTH_MAX], reason="")
    if any(character == " " or not character.isprintable() for character in value):
        return IdInvalid(field=name, value=value, reason="")
    if value.startswith("~") and not reserved_ok:
        return IdInvalid(field=name, value=value, reason="")
    return None


def metadata_types_problem(metadata: object) -> bool:
    """Metadata that is not a str -> str mapping is refused before the id is looked up."""
    if not isinstance(metadata, dict):
        return True
    return any(type(k) is not str or type(v) is not str for k, v in metadata.items())


def metadata_problem(metadata: object) -> MetadataInvalid | None:
    """Metadata maps str to str and its compact JSON fits in 4,096 bytes."""
    if not isinstance(metadata, dict):
        return MetadataInvalid(reason="")
    if any(type(k) is not str or type(v) is not str for k, v in metadata.items()):
        return MetadataInvalid(reason="")
    size = len(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode())
    if size > METADATA_BYTES_MAX:
        return MetadataInvalid(reason="bytes")
    return None


def first_difference(original: Request, retry: Request) -> str | None:
    """The first field, in the request's field order, where a retry differs; 'kind' across types."""
    if type(original) is not type(retry):
        return "kind"
    for name in original.__struct_fields__:
        if getattr(original, name) != getattr(retry, name):
            return name
    return None


def signed(posting: Posting) -> int:
    """A posting's effect on posted minutes: credits add, debits take away."""
    return posting.amount_minutes if posting.side is Side.CREDIT else -posting.amount_minutes


def swapped(posting: Posting) -> Posting:
    """The same posting on the other side."""
    side = Side.CREDIT if posting.side is Side.DEBIT else Side.DEBIT
    return Posting(account_id=posting.account_id, side=side, amount_minutes=posting.amount_minutes)


class Model:
    """The ledger restated as plain dicts of ints, one rule at a time, in the documented order."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.last_recorded: datetime | None = None
        self.sequence = 0
        self.last_hash = GENESIS_HASH
        self.accounts: dict[str, ModelAccount] = {}
        self.holds: dict[str, ModelHold] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.reversed_by: dict[str, str] = {}

    # --- accounts ---------------------------------------------------------------

    def expect_open(
        self, account_id: str, minimum: int | None, maximum: int | None, metadata: dict[str, str]
    ) -> LedgerError | None:
        """The error opening this account must raise, or None if it opens (or already is)."""
        if (bad_id := id_problem("account_id", account_id)) is not None:
            return bad_id
        for bound in (minimum, maximum):
            if bound is not None and abs(bound) > BALANCE_MINUTES_LIMIT:
                return BoundsInvalid(
                    balance_minutes_min=minimum, balance_minutes_max=maximum, reason=""
                )
        if (minimum is not None and minimum > 0) or (maximum is not None and maximum < 0):
            return BoundsInvalid(
                balance_minutes_min=minimum, balance_minutes_max=maximum, reason=""
            )
        if (bad_metadata := metadata_problem(metadata)) is not None:
            return bad_metadata
        existing = self.accounts.get(account_id)
        if existing is None:
            return None
        for name, old, new in (
            ("balance_minutes_min", existing.minimum, minimum),
            ("balance_minutes_max", existing.maximum, maximum),
            ("metadata", existing.metadata, metadata),
        ):
            if old != new:
                return AccountExists(account_id=account_id, field=name)
        return None

    def account_record(self, account_id: str) -> Account:
        """The ``Account`` the ledger must report for ``account_id``."""
        mine = self.accounts[account_id]
        return Account(
            book_id=BOOK_ID,
            account_id=account_id,
            balance_minutes_min=mine.minimum,
            balance_minutes_max=mine.maximum,
            metadata=mine.metadata,
            opened_at=mine.opened_at,
            closed_at=mine.closed_at,
            posted_minutes=mine.posted,
            debits_pending_minutes=mine.debits_pending,
            credits_pending_minutes=mine.credits_pending,
        )

    # --- requests ---------------------------------------------------------------

    def recorded_at(self) -> datetime:
        """The clock's now, or one microsecond after the last record if now is not later."""
        if self.last_recorded is not None and self.now <= self.last_recorded:
            return self.last_recorded + MICROSECOND
        return self.now

    def expect(self, request: Request) -> Expectation:
        """What submitting ``request`` now must do."""
        transaction_id = request.transaction_id
        if (bad_id := id_problem("transaction_id", transaction_id)) is not None:
            return Refuse(bad_id, remembered=False)
        if metadata_types_problem(request.metadata):
            return Refuse(MetadataInvalid(reason=""), remembered=False)
        earlier = self.outcomes.get(transaction_id)
        if earlier is not None:
            assert earlier.request is not None, "ledger-made ids start with '~'"
            differing = first_difference(earlier.request, request)
            if differing is None:
                return Replay(earlier)
            conflict = IdempotencyConflict(transaction_id=transaction_id, field=differing)
            return Refuse(conflict, remembered=False)
        try:
            self._check_code_and_metadata(request)
            if type(request) is Transfer:
                return self._expect_transfer(request)
            if type(request) is Hold:
                return self._expect_hold(request)
            if type(request) is PostHold:
                return self._expect_post(request)
            if type(request) is VoidHold:
                hold = self._pending_hold(request.hold_id)
                return self.expect_release(request.hold_id, hold, request, Kind.VOID)
            assert type(request) is Reverse
            return self._expect_reverse(request)
        except Refused as refused:
            return Refuse(refused.error, remembered=True)

    def _check_code_and_metadata(self, request: Request) -> None:
        if len(request.code) > CODE_LENGTH_MAX:
            raise Refused(CodeTooLong(length=len(request.code), maximum=CODE_LENGTH_MAX))
        if not request.code.isprintable():
            raise Refused(CodeNotPrintable(value=request.code))
        if (bad_metadata := metadata_problem(request.metadata)) is not None:
            raise Refused(bad_metadata)

    def _check_shape(self, postings: Sequence[Posting]) -> None:
        """Count, then each posting in order (type, sign, size, repeat), then the balance."""
        if not POSTINGS_MIN <= len(postings) <= POSTINGS_MAX:
            raise Refused(
                PostingCountOutOfRange(
                    count=len(postings), minimum=POSTINGS_MIN, maximum=POSTINGS_MAX
                )
            )
        seen: set[str] = set()
        totals = {Side.DEBIT: 0, Side.CREDIT: 0}
        for posting in postings:
            account_id, amount = posting.account_id, posting.amount_minutes
            if type(amount) is not int:
                raise Refused(AmountNotInteger(account_id=account_id, value=repr(amount)))
            if amount <= 0:
                raise Refused(AmountNotPositive(account_id=account_id, amount_minutes=amount))
            if amount > AMOUNT_MINUTES_MAX:
                raise Refused(
                    AmountTooLarge(
                        account_id=account_id, amount_minutes=amount, maximum=AMOUNT_MINUTES_MAX
                    )
                )
            if account_id in seen:
                raise Refused(AccountRepeated(account_id=account_id))
            seen.add(account_id)
            totals[posting.side] += amount
        if totals[Side.DEBIT] != totals[Side.CREDIT]:
            raise Refused(
                TransactionUnbalanced(
                    debits_minutes=totals[Side.DEBIT], credits_minutes=totals[Side.CREDIT]
                )
            )

    def _check_open(self, postings: Sequence[Posting]) -> None:
        """Every account exists (first missing wins), then every one is open (first closed)."""
        for posting in postings:
            if posting.account_id not in self.accounts:
                raise Refused(AccountNotFound(account_id=posting.account_id))
        for posting in postings:
            if self.accounts[posting.account_id].closed_at is not None:
                raise Refused(AccountClosed(account_id=posting.account_id))

    def _check_limits(self, postings: Sequence[Posting], deltas: dict[str, list[int]]) -> None:
        """Per account in posting order: the minimum, then the maximum, then +/- 2**62."""
        for posting in postings:
            mine = self.accounts[posting.account_id]
            posted_change, debits_change, credits_change = deltas[posting.account_id]
            posted = mine.posted + posted_change
            available = posted - (mine.debits_pending + debits_change)
            projected = posted + mine.credits_pending + credits_change
            if mine.minimum is not None and available < mine.minimum:
                raise Refused(
                    InsufficientMinutes(
                        account_id=posting.account_id,
                        available_minutes=mine.posted - mine.debits_pending,
                        requested_minutes=posting.amount_minutes,
                        balance_minutes_min=mine.minimum,
                    )
                )
            if mine.maximum is not None and projected > mine.maximum:
                raise Refused(
                    MaximumBalanceExceeded(
                        account_id=posting.account_id,
                        projected_minutes=projected,
                        balance_minutes_max=mine.maximum,
                    )
                )
            if available < -BALANCE_MINUTES_LIMIT or projected > BALANCE_MINUTES_LIMIT:
                raise Refused(
                    BalanceOutOfRange(
                        account_id=posting.account_id,
                        projected_minutes=(
                            available if available < -BALANCE_MINUTES_LIMIT else projected
                        ),
                        limit=BALANCE_MINUTES_LIMIT,
                    )
                )

    def _expect_transfer(self, request: Transfer) -> Accept:
        effective_at = request.effective_at
        if effective_at is not None and effective_at.utcoffset() is None:
            raise Refused(TimestampNotAware(field="effective_at"))
        self._check_shape(request.postings)
        recorded_at = self.recorded_at()
        if effective_at is not None and effective_at > recorded_at:
            raise Refused(
                EffectiveTimeAfterRecording(effective_at=effective_at, recorded_at=recorded_at)
            )
        self._check_open(request.postings)
        deltas = {p.account_id: [signed(p), 0, 0] for p in request.postings}
        self._check_limits(request.postings, deltas)
        return Accept(
            transaction_id=request.transaction_id,
            kind=Kind.TRANSFER,
            postings=tuple(request.postings),
            code=request.code,
            metadata=request.metadata,
            recorded_at=recorded_at,
            deltas=deltas,
            effective_at=effective_at,
        )

    def _expect_hold(self, request: Hold) -> Accept:
        expires_at = request.expires_at
        if expires_at is not None and expires_at.utcoffset() is None:
            raise Refused(TimestampNotAware(field="expires_at"))
        self._check_shape(request.postings)
        recorded_at = self.recorded_at()
        if expires_at is not None and expires_at <= recorded_at:
            raise Refused(
                HoldExpiryNotAfterRecording(expires_at=expires_at, recorded_at=recorded_at)
            )
        self._check_open(request.postings)
        deltas = {p.account_id: pending_change(p, +1) for p in request.postings}
        self._check_limits(request.postings, deltas)
        hold = ModelHold(postings=tuple(request.postings), expires_at=expires_at)
        return Accept(
            transaction_id=request.transaction_id,
            kind=Kind.HOLD,
            postings=tuple(request.postings),
            code=request.code,
            metadata=request.metadata,
            recorded_at=recorded_at,
            deltas=deltas,
            expires_at=expires_at,
            hold=(request.transaction_id, hold),
        )

    def _pending_hold(self, hold_id: str) -> ModelHold:
        if (bad_id := id_problem("hold_id", hold_id)) is not None:
            raise Refused(bad_id)
        hold = self.holds.get(hold_id)
        if hold is None:
            raise Refused(HoldNotFound(hold_id=hold_id))
        if hold.status is not HoldStatus.PENDING:
            raise Refused(HoldNotPending(hold_id=hold_id, status=hold.status.value))
        return hold

    def _expect_post(self, request: PostHold) -> Accept:
        hold = self._pending_hold(request.hold_id)
        recorded_at = self.recorded_at()
        if hold.expires_at is not None and recorded_at >= hold.expires_at:
            raise Refused(HoldExpired(hold_id=request.hold_id, expires_at=hold.expires_at))
        posted = self._posted_postings(request, hold)
        self._check_open(hold.postings)
        deltas = {p.account_id: pending_change(p, -1) for p in hold.postings}
        for posting in posted:
            deltas[posting.account_id][0] += signed(posting)
        self._check_limits(hold.postings, deltas)
        return Accept(
            transaction_id=request.transaction_id,
            kind=Kind.POST,
            postings=posted,
            code=request.code,
            metadata=request.metadata,
            recorded_at=recorded_at,
            deltas=deltas,
            related_id=request.hold_id,
            hold=(request.hold_id, resolved(hold, HoldStatus.POSTED, request.transaction_id)),
        )

    def _posted_postings(self, request: PostHold, hold: ModelHold) -> tuple[Posting, ...]:
        """What a post moves, in the hold's order: in full, for an amount, or as given postings."""
        hold_id = request.hold_id
        amount = request.amount_minutes
        if amount is not None and request.postings is not None:
            raise Refused(PostDoesNotMatchHold(hold_id=hold_id, reason="not both"))
        if amount is not None:
            if len(hold.postings) != 2:
                raise Refused(PostDoesNotMatchHold(hold_id=hold_id, reason="two-posting"))
            first = hold.postings[0].account_id
            if type(amount) is not int:
                raise Refused(AmountNotInteger(account_id=first, value=repr(amount)))
            if amount <= 0:
                raise Refused(AmountNotPositive(account_id=first, amount_minutes=amount))
            given = tuple(
                Posting(account_id=p.account_id, side=p.side, amount_minutes=amount)
                for p in hold.postings
            )
        elif request.postings is not None:
            self._check_shape(request.postings)
            given = tuple(request.postings)
        else:
            return hold.postings
        by_account = {p.account_id: p for p in given}
        posted = []
        for held in hold.postings:
            post = by_account.pop(held.account_id, None)
            if post is None or post.side is not held.side:
                raise Refused(PostDoesNotMatchHold(hold_id=hold_id, reason=repr(held.account_id)))
            if post.amount_minutes > held.amount_minutes:
                raise Refused(
                    PostExceedsHold(
                        hold_id=hold_id,
                        account_id=held.account_id,
                        held_minutes=held.amount_minutes,
                        requested_minutes=post.amount_minutes,
                    )
                )
            posted.append(post)
        if by_account:
            raise Refused(
                PostDoesNotMatchHold(hold_id=hold_id, reason=repr(next(iter(by_account))))
            )
        return tuple(posted)

    def expect_release(
        self, hold_id: str, hold: ModelHold, request: VoidHold | None, kind: Kind
    ) -> Accept:
        """A void (for ``request``) or an expiry (made by the ledger): frees the held minutes."""
        status = HoldStatus.VOIDED if kind is Kind.VOID else HoldStatus.EXPIRED
        transaction_id = f"~expire:{hold_id}" if request is None else request.transaction_id
        return Accept(
            transaction_id=transaction_id,
            kind=kind,
            postings=hold.postings,
            code="expire" if request is None else request.code,
            metadata={} if request is None else request.metadata,
            recorded_at=self.recorded_at(),
            deltas={p.account_id: pending_change(p, -1) for p in hold.postings},
            related_id=hold_id,
            hold=(hold_id, resolved(hold, status, transaction_id)),
        )

    def _expect_reverse(self, request: Reverse) -> Accept:
        target_id = request.reverses_id
        if (bad_id := id_problem("reverses_id", target_id, reserved_ok=True)) is not None:
            raise Refused(bad_id)
        target = self.outcomes.get(target_id)
        if target is None or target.transaction is None:
            raise Refused(TransactionNotFound(transaction_id=target_id))
        kind = target.transaction.kind
        if kind not in (Kind.TRANSFER, Kind.POST):
            raise Refused(TransactionNotReversible(transaction_id=target_id, kind=kind.value))
        if target_id in self.reversed_by:
            raise Refused(
                TransactionAlreadyReversed(
                    transaction_id=target_id, reversal_id=self.reversed_by[target_id]
                )
            )
        postings = tuple(swapped(p) for p in target.transaction.postings)
        recorded_at = self.recorded_at()
        self._check_open(postings)
        deltas = {p.account_id: [signed(p), 0, 0] for p in postings}
        self._check_limits(postings, deltas)
        return Accept(
            transaction_id=request.transaction_id,
            kind=Kind.REVERSAL,
            postings=postings,
            code=request.code,
            metadata=request.metadata,
            recorded_at=recorded_at,
            deltas=deltas,
            related_id=target_id,
        )

    def due_holds(self) -> list[str]:
        """Pending holds whose expiry is at or before now, soonest first (then by id)."""
        due = [
            (hold.expires_at, hold_id)
            for hold_id, hold in self.holds.items()
            if hold.status is HoldStatus.PENDING
            and hold.expires_at is not None
            and hold.expires_at <= self.now
        ]
        return [hold_id for _, hold_id in sorted(due)]

    # --- applying outcomes ------------------------------------------------------

    def commit(self, request: Request | None, accept: Accept, transaction: Transaction) -> None:
        for account_id, (posted, debits_pending, credits_pending) in accept.deltas.items():
            mine = self.accounts[account_id]
            mine.posted += posted
            mine.debits_pending += debits_pending
            mine.credits_pending += credits_pending
            mine.entries += 1
        if accept.hold is not None:
            hold_id, hold = accept.hold
            self.holds[hold_id] = hold
        if accept.kind is Kind.REVERSAL:
            assert accept.related_id is not None
            self.reversed_by[accept.related_id] = accept.transaction_id
        self.sequence += 1
        self.last_hash = transaction.hash
        self.last_recorded = accept.recorded_at
        self.outcomes[accept.transaction_id] = Outcome(request, transaction=transaction)

    def reject(self, request: Request, error: LedgerError) -> None:
        self.outcomes[request.transaction_id] = Outcome(request, error=error)


def pending_change(posting: Posting, sign: int) -> list[int]:
    """A hold's change to one account: debits or credits pending grow (+1) or shrink (-1)."""
    amount = sign * posting.amount_minutes
    return [0, amount, 0] if posting.side is Side.DEBIT else [0, 0, amount]


def resolved(hold: ModelHold, status: HoldStatus, by: str) -> ModelHold:
    """The hold once posted, voided or expired by the transaction ``by``."""
    return ModelHold(
        postings=hold.postings, expires_at=hold.expires_at, status=status, resolved_by=by
    )


def assert_same_error(actual: LedgerError, expected: LedgerError) -> None:
    """Same class and data; a free-text ``reason`` need only contain the model's hint."""
    assert type(actual) is type(expected), f"expected {expected!r}, got {actual!r}"
    got, want = actual.fields(), expected.fields()
    reason, hint = got.pop("reason", ""), want.pop("reason", "")
    assert got == want, f"expected {expected!r}, got {actual!r}"
    assert hint in reason, f"expected a reason naming {hint!r}, got {actual!r}"


# --- the machine ---------------------------------------------------------------------


@dataclass
class Draws:
    """The random choices of one step, drawn from Hypothesis' ``data`` with labels."""

    data: st.DataObject

    def one_in(self, count: int, label: str) -> bool:
        """True about once in ``count`` draws; shrinks to False."""
        return self.data.draw(st.integers(0, count - 1), label=label) == count - 1

    def draw(self, strategy: st.SearchStrategy[T], label: str) -> T:
        return self.data.draw(strategy, label=label)


class LedgerMachine(RuleBasedStateMachine):
    """Random operations on one book, each compared with ``Model``.

    ``self.model`` holds the expected accounts, holds and outcomes by id, so a
    subclass can compare a persistent store with it in ``extra_checks``.
    """

    accounts = Bundle("accounts")
    transactions = Bundle("transactions")
    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.store = self.make_store()
        self.ledger = Ledger(self.store, clock=self.clock)
        self.book = self.ledger.create_book(BOOK_ID)
        self.model = Model(START)
        self._ids = 0

    def make_store(self) -> LedgerStore:
        """The store under test; override to run the machine against another one."""
        return MemoryStore()

    def extra_checks(self) -> None:
        """Override to compare a persistent store with ``self.model`` after every step."""

    # --- accounts ---------------------------------------------------------------

    @initialize(
        target=accounts,
        members=st.lists(
            st.tuples(
                strategies.valid_minimums(), strategies.valid_maximums(), st.integers(0, 240)
            ),
            min_size=2,
            max_size=4,
        ),
    )
    def open_pool_and_members(self, members: list[tuple[int | None, int | None, int]]) -> object:
        """A pool that may go negative (it issues minutes), and a few members it pays."""
        opened = [self._open("pool", None, None, None)]
        for account_id, (minimum, maximum, _) in zip(ACCOUNT_IDS[1:], members, strict=False):
            opened.append(self._open(account_id, minimum, maximum, None))
        for account_id, (_, _, minutes) in zip(ACCOUNT_IDS[1:], members, strict=False):
            if minutes:
                legs = (debit("pool", minutes), credit(account_id, minutes))
                self._submit(Transfer(transaction_id=f"pay-{account_id}", postings=legs), None)
        return multiple(*opened)

    @rule(
        target=accounts,
        minimum=strategies.minimums(),
        maximum=strategies.maximums(),
        metadata=st.sampled_from((None, {"role": "member"})),
        data=st.data(),
    )
    def open_account(
        self,
        minimum: int | None,
        maximum: int | None,
        metadata: dict[str, str] | None,
        data: st.DataObject,
    ) -> object:
        """Open an account of the pool (perhaps again), or one with an invalid id."""
        draws = Draws(data)
        if draws.one_in(8, "invalid id?"):
            account_id = draws.draw(strategies.invalid_transaction_ids(), "account_id")
        else:
            account_id = draws.draw(strategies.account_ids(), "account_id")
        return self._open(account_id, minimum, maximum, metadata)

    @rule(
        target=accounts,
        account_id=accounts,
        change=st.sampled_from((None, "balance_minutes_min", "balance_minutes_max", "metadata")),
    )
    def reopen_account(self, account_id: str, change: str | None) -> object:
        """Opening again with the same settings returns the account; other settings conflict."""
        mine = self.model.accounts[account_id]
        minimum, maximum, metadata = mine.minimum, mine.maximum, dict(mine.metadata)
        if change == "balance_minutes_min":
            minimum = 0 if minimum is None else minimum - 1
        elif change == "balance_minutes_max":
            maximum = 100 if maximum is None else maximum + 1
        elif change == "metadata":
            metadata["changed"] = "yes"
        return self._open(account_id, minimum, maximum, metadata)

    def _open(
        self,
        account_id: str,
        minimum: int | None,
        maximum: int | None,
        metadata: dict[str, str] | None,
    ) -> object:
        expected = self.model.expect_open(account_id, minimum, maximum, metadata or {})
        actual: Account | LedgerError
        try:
            actual = self.book.open_account(
                account_id,
                balance_minutes_min=minimum,
                balance_minutes_max=maximum,
                metadata=metadata,
            )
        except LedgerError as error:
            actual = error
        if expected is not None:
            assert isinstance(actual, LedgerError), f"expected {expected!r}, opened {actual!r}"
            assert_same_error(actual, expected)
            event(f"open_account: {type(actual).__name__}")
            return multiple()
        assert isinstance(actual, Account), f"opening {account_id!r} failed: {actual!r}"
        if account_id not in self.model.accounts:
            self.model.accounts[account_id] = ModelAccount(
                minimum=minimum, maximum=maximum, metadata=metadata or {}, opened_at=self.model.now
            )
        assert actual == self.model.account_record(account_id)
        event("open_account: ok")
        return account_id

    @rule(account_id=accounts, data=st.data())
    def close_account(self, account_id: str, data: st.DataObject) -> None:
        """Closing is idempotent; closing an unknown or invalid id is refused."""
        draws = Draws(data)
        mine = self.model.accounts[account_id]
        closed = sum(a.closed_at is not None for a in self.model.accounts.values())
        closing_too_many = mine.closed_at is None and closed >= CLOSED_ACCOUNTS_MAX
        if closing_too_many or draws.one_in(4, "unknown account?"):
            unknown = st.one_of(strategies.unknown_account_ids(), st.sampled_from(("~pool", "")))
            self._close_unknown(draws.draw(unknown, "unknown account"))
            return
        if mine.closed_at is None:
            mine.closed_at = self.model.now
        assert self.book.close_account(account_id) == self.model.account_record(account_id)

    def _close_unknown(self, account_id: str) -> None:
        expected = id_problem("account_id", account_id) or AccountNotFound(account_id=account_id)
        actual: Account | LedgerError
        try:
            actual = self.book.close_account(account_id)
        except LedgerError as error:
            actual = error
        assert isinstance(actual, LedgerError), f"closed {actual!r}; expected {expected!r}"
        assert_same_error(actual, expected)

    # --- transfers and holds ----------------------------------------------------------

    @rule(target=transactions, debit_id=accounts, credit_id=accounts, data=st.data())
    def transfer(self, debit_id: str, credit_id: str, data: st.DataObject) -> object:
        """Two legs aimed at the accounts' bounds, or now and then many legs of any shape."""
        draws = Draws(data)
        if draws.one_in(4, "many legs?"):
            postings = self._many_legs(draws)
        else:
            postings = self._two_legs(draws, debit_id, credit_id)
        return self._submit(self._transfer(draws, postings), draws)

    @rule(targets=(holds, transactions), debit_id=accounts, credit_id=accounts, data=st.data())
    def hold(self, debit_id: str, credit_id: str, data: st.DataObject) -> object:
        """Like a transfer, but pending until posted or voided."""
        return self._place_hold(Draws(data), debit_id, credit_id, expiring=False)

    @rule(targets=(holds, transactions), debit_id=accounts, credit_id=accounts, data=st.data())
    def hold_until(self, debit_id: str, credit_id: str, data: st.DataObject) -> object:
        """A hold that expires: soon after now, or (refused) at or before it, or without a zone."""
        return self._place_hold(Draws(data), debit_id, credit_id, expiring=True)

    def _place_hold(self, draws: Draws, debit_id: str, credit_id: str, *, expiring: bool) -> object:
        if draws.one_in(4, "many legs?"):
            postings = self._many_legs(draws)
        else:
            postings = self._two_legs(draws, debit_id, credit_id)
        request = self._hold(draws, postings, expiring=expiring)
        return self._submit(request, draws, only=Kind.HOLD)

    @rule(target=transactions, hold_id=consumes(holds), data=st.data())
    def post_hold(self, hold_id: str, data: st.DataObject) -> object:
        """Post in full, for an amount, or as postings (perhaps at its expiry); once only."""
        draws = Draws(data)
        if draws.one_in(3, "time passes first?"):
            self._advance(draws, hold_id=hold_id)
        return self._submit(self._post_request(draws, hold_id), draws)

    @rule(target=transactions, hold_id=consumes(holds), data=st.data())
    def void_hold(self, hold_id: str, data: st.DataObject) -> object:
        """Release a hold; resolved holds are still reached through retries and unknown ids."""
        draws = Draws(data)
        return self._submit(self._void_request(draws, hold_id), draws)

    @rule(target=transactions, reverses_id=transactions, data=st.data())
    def reverse(self, reverses_id: str, data: st.DataObject) -> object:
        """Transfers and posts reverse once; other kinds, refused ids and second tries fail."""
        draws = Draws(data)
        return self._submit(self._reverse_request(draws, reverses_id), draws)

    @rule(target=transactions, data=st.data())
    def refer_to_unknown(self, data: st.DataObject) -> object:
        """Post, void or reverse an id that is unknown, invalid, reserved or of another kind."""
        draws = Draws(data)
        target = self._unknown_id(draws)
        build = draws.draw(
            st.sampled_from((self._post_request, self._void_request, self._reverse_request)),
            "request",
        )
        return self._submit(build(draws, target), draws)

    @rule(target=transactions, transaction_id=transactions, data=st.data())
    def retry_identical(self, transaction_id: str, data: st.DataObject) -> object:
        """A reused id with the same request gets the original transaction or error again."""
        draws = Draws(data)
        return self._submit(self._retry_request(draws, transaction_id, altered=False), draws)

    @rule(target=transactions, transaction_id=transactions, data=st.data())
    def retry_altered(self, transaction_id: str, data: st.DataObject) -> object:
        """A reused id with one field altered is an IdempotencyConflict naming that field."""
        draws = Draws(data)
        return self._submit(self._retry_request(draws, transaction_id, altered=True), draws)

    @rule(target=transactions, data=st.data())
    def submit_batch(self, data: st.DataObject) -> object:
        """``submit_many`` gives each request the outcome it would get alone, in order."""
        draws = Draws(data)
        requests = [
            self._any_request(draws) for _ in range(draws.draw(st.integers(1, 4), "batch size"))
        ]
        outcomes = self.book.submit_many(requests)
        assert len(outcomes) == len(requests)
        remembered = []
        for request, actual in zip(requests, outcomes, strict=True):
            self._settle(request, self.model.expect(request), actual)
            if request.transaction_id in self.model.outcomes:
                remembered.append(request.transaction_id)
        return multiple(*remembered)

    # --- time ---------------------------------------------------------------------

    @rule(data=st.data())
    def advance_clock(self, data: st.DataObject) -> None:
        self._advance(Draws(data))

    def _advance(self, draws: Draws, *, hold_id: str | None = None) -> None:
        """Time passes: by a fixed step, or exactly to (or just before) a pending hold's expiry.

        Given ``hold_id``, that hold's expiry is the one aimed at.
        """
        now = self.model.now
        expiries = sorted(
            hold.expires_at
            for held_id, hold in self.model.holds.items()
            if hold.status is HoldStatus.PENDING
            and hold.expires_at is not None
            and hold.expires_at > now
            and hold_id in (None, held_id)
        )
        if expiries and draws.draw(st.booleans(), "to an expiry?"):
            early = draws.draw(st.sampled_from((timedelta(0), MICROSECOND)), "just before?")
            step = draws.draw(st.sampled_from(expiries), "expiry") - now - early
        else:
            step = draws.draw(st.sampled_from(CLOCK_STEPS), "step")
        self.model.now += step
        assert self.clock.advance(step) == self.model.now

    @rule(target=transactions, data=st.data())
    def expire_holds(self, data: st.DataObject) -> object:
        """Every pending hold due by now (perhaps later) expires, soonest first, each on its own."""
        draws = Draws(data)
        if draws.draw(st.booleans(), "time passes first?"):
            self._advance(draws)
        due = self.model.due_holds()
        report = self.book.expire_holds()
        assert not report.more_due
        assert [t.related_id for t in report.expired] == due
        for hold_id, actual in zip(due, report.expired, strict=True):
            accept = self.model.expect_release(
                hold_id, self.model.holds[hold_id], None, Kind.EXPIRE
            )
            self._check_transaction(accept, actual)
            self.model.commit(None, accept, actual)
        event(f"expire_holds: {min(len(due), 3)} expired (3 means 3 or more)")
        return multiple(*(t.transaction_id for t in report.expired))

    # --- building requests ------------------------------------------------------------

    def _transaction_id(self, draws: Draws) -> str:
        """Usually a fresh id; sometimes an unusual valid id, or an invalid one."""
        if draws.one_in(20, "unusual id?"):
            return draws.draw(strategies.transaction_ids(), "valid id")
        if draws.one_in(20, "invalid id?"):
            return draws.draw(strategies.invalid_transaction_ids(), "invalid id")
        self._ids += 1
        return f"tx-{self._ids}"

    def _code_and_metadata(self, draws: Draws) -> tuple[str, dict[str, str]]:
        """Usually none; sometimes ordinary ones, or ones at or over their limits."""
        case = draws.draw(st.integers(0, 19), "code and metadata")
        if case in (16, 17):
            return draws.draw(strategies.codes(), "code"), draws.draw(strategies.metadata(), "m")
        if case == 18:
            return draws.draw(strategies.too_long_codes(), "code"), {}
        if case == 19:
            return "", draws.draw(strategies.edge_metadata(), "metadata")
        return "", {}

    def _moment(self, draws: Draws, offsets: Sequence[timedelta], label: str) -> datetime:
        """Now plus one of ``offsets``, in some time zone; now and then without one."""
        moment = self.model.now + draws.draw(st.sampled_from(offsets), label)
        if draws.one_in(12, f"{label} naive?"):
            return moment.replace(tzinfo=None)
        return moment.astimezone(draws.draw(st.sampled_from(ZONES), f"{label} zone"))

    def _amount(self, draws: Draws, debit_id: str, credit_id: str) -> int:
        """Usually an ordinary amount or one at the edge of what the two accounts allow.

        The edges are what the debit account can still spend above its minimum and
        what the credit account can still take below its maximum, pending counted.
        """
        bounds = []
        payer, payee = self.model.accounts.get(debit_id), self.model.accounts.get(credit_id)
        if payer is not None and payer.minimum is not None:
            bounds.append(payer.posted - payer.debits_pending - payer.minimum)
        if payee is not None and payee.maximum is not None:
            bounds.append(payee.maximum - payee.posted - payee.credits_pending)
        if draws.one_in(12, "not an int?"):
            # A float or a bool, on purpose: they must be refused as AmountNotInteger.
            return cast(int, draws.draw(strategies.non_integer_amounts(), "amount"))
        if draws.one_in(6, "any amount?"):
            return draws.draw(strategies.amounts(bounds), "amount")
        # Bounds beyond the largest posting only lead to AmountTooLarge, which "any amount" covers.
        reachable = [b for b in bounds if 0 < b <= AMOUNT_MINUTES_MAX]
        if reachable and draws.draw(st.booleans(), "at an edge?"):
            return draws.draw(strategies.amounts_near(reachable), "amount")
        return draws.draw(st.integers(1, 120), "amount")

    def _two_legs(self, draws: Draws, debit_id: str, credit_id: str) -> tuple[Posting, ...]:
        """A debit and a credit of one amount, in either order.

        Rarely both on one account, or unbalanced: off by a minute, or on one side.
        """
        others = sorted(set(self.model.accounts) - {debit_id})
        if credit_id == debit_id and others and not draws.one_in(5, "same account?"):
            credit_id = draws.draw(st.sampled_from(others), "other account")
        amount = self._amount(draws, debit_id, credit_id)
        second = credit(credit_id, amount)
        if type(amount) is int and draws.one_in(10, "unbalanced?"):
            second = draws.draw(
                st.sampled_from((credit(credit_id, amount + 1), debit(credit_id, amount))),
                "unbalanced leg",
            )
        legs = (debit(debit_id, amount), second)
        return legs[::-1] if draws.draw(st.booleans(), "credit first?") else legs

    def _many_legs(self, draws: Draws) -> tuple[Posting, ...]:
        """Usually balanced postings among opened accounts; sometimes any shape, on any id."""
        opened = sorted(self.model.accounts)
        if len(opened) >= 2 and not draws.one_in(4, "any shape?"):
            balanced = strategies.balanced_postings(
                st.sampled_from(opened), st.integers(1, 90), max_legs=len(opened)
            )
            return draws.draw(balanced, "postings")
        everyone = st.sampled_from(ACCOUNT_IDS + UNKNOWN_ACCOUNT_IDS)
        return draws.draw(strategies.posting_lists(everyone), "postings")

    def _transfer(self, draws: Draws, postings: tuple[Posting, ...]) -> Transfer:
        code, metadata = self._code_and_metadata(draws)
        effective_at = None
        if draws.one_in(4, "back-dated?"):
            offsets = (-timedelta(days=30), -timedelta(hours=1), -MICROSECOND, timedelta(0))
            offsets += (MICROSECOND, timedelta(seconds=1))
            effective_at = self._moment(draws, offsets, "effective_at")
        return Transfer(
            transaction_id=self._transaction_id(draws),
            postings=postings,
            code=code,
            metadata=metadata,
            effective_at=effective_at,
        )

    def _hold(self, draws: Draws, postings: tuple[Posting, ...], *, expiring: bool) -> Hold:
        code, metadata = self._code_and_metadata(draws)
        expires_at = None
        if expiring:
            offsets = EXPIRY_OFFSETS
            if draws.one_in(10, "expired already?"):
                offsets = (timedelta(0), -timedelta(seconds=1))
            expires_at = self._moment(draws, offsets, "expires_at")
        return Hold(
            transaction_id=self._transaction_id(draws),
            postings=postings,
            expires_at=expires_at,
            code=code,
            metadata=metadata,
        )

    def _post_request(self, draws: Draws, hold_id: str) -> PostHold:
        """In full, for an amount near the held one, or as postings that fit the hold or not."""
        hold = self.model.holds.get(hold_id)
        legs = () if hold is None else hold.postings
        held = legs[0].amount_minutes if legs else 60
        amount: object = None
        postings: tuple[Posting, ...] | None = None
        shape = draws.draw(
            st.sampled_from(("full", "amount", "postings", "both", "odd amount")), "post shape"
        )
        if shape in ("amount", "both"):
            amount = draws.draw(strategies.amounts([held]), "amount_minutes")
        if shape == "odd amount":
            amount = draws.draw(strategies.non_integer_amounts(), "amount_minutes")
        if shape in ("postings", "both"):
            postings = self._post_postings(draws, legs)
        code, metadata = self._code_and_metadata(draws)
        return PostHold(
            transaction_id=self._transaction_id(draws),
            hold_id=hold_id,
            amount_minutes=cast(int | None, amount),
            postings=postings,
            code=code,
            metadata=metadata,
        )

    def _post_postings(self, draws: Draws, legs: tuple[Posting, ...]) -> tuple[Posting, ...]:
        """The hold's postings as they are, trimmed, over the hold, or mismatched."""
        if not legs:
            return self._many_legs(draws)
        change = draws.draw(
            st.sampled_from(("same", "less", "more", "drop", "flip", "extra", "reorder")), "change"
        )
        postings = list(legs)
        debit_at = next(i for i, p in enumerate(postings) if p.side is Side.DEBIT)
        credit_at = next(i for i, p in enumerate(postings) if p.side is Side.CREDIT)
        if change in ("less", "more"):
            step = -1 if change == "less" else 1
            for index in (debit_at, credit_at):
                leg = postings[index]
                postings[index] = replace(leg, amount_minutes=leg.amount_minutes + step)
        elif change == "drop":
            del postings[draws.draw(st.integers(0, len(postings) - 1), "dropped")]
        elif change == "flip":
            index = draws.draw(st.integers(0, len(postings) - 1), "flipped")
            postings[index] = swapped(postings[index])
        elif change == "extra":
            extra = draws.draw(st.sampled_from(ACCOUNT_IDS + UNKNOWN_ACCOUNT_IDS), "extra")
            postings[debit_at] = replace(
                postings[debit_at], amount_minutes=postings[debit_at].amount_minutes + 1
            )
            postings.append(credit(extra, 1))
        elif change == "reorder":
            postings.reverse()
        return tuple(postings)

    def _void_request(self, draws: Draws, hold_id: str) -> VoidHold:
        code, metadata = self._code_and_metadata(draws)
        return VoidHold(
            transaction_id=self._transaction_id(draws),
            hold_id=hold_id,
            code=code,
            metadata=metadata,
        )

    def _reverse_request(self, draws: Draws, reverses_id: str) -> Reverse:
        code, metadata = self._code_and_metadata(draws)
        return Reverse(
            transaction_id=self._transaction_id(draws),
            reverses_id=reverses_id,
            code=code,
            metadata=metadata,
        )

    def _unknown_id(self, draws: Draws) -> str:
        """An id naming no hold: never used, invalid, reserved, or some other transaction."""
        known = sorted(self.model.outcomes)
        kind = draws.draw(st.sampled_from(("unused", "invalid", "known")), "unknown id kind")
        if kind == "known" and known:
            return draws.draw(st.sampled_from(known), "unknown id")
        if kind == "invalid":
            return draws.draw(strategies.invalid_transaction_ids(), "unknown id")
        return draws.draw(st.sampled_from(("no-such-id", "~expire:no-such-id")), "unknown id")

    def _retry_request(self, draws: Draws, transaction_id: str, *, altered: bool) -> Request:
        """The request first sent under ``transaction_id``, as it was or with one field altered."""
        original = self.model.outcomes[transaction_id].request
        if original is None:
            # A ledger-made expiry: its id is reserved and no request may reuse it.
            return Transfer(transaction_id=transaction_id, postings=())
        if not altered:
            return replace(original)
        name, retry = draws.draw(strategies.altered_requests(original), "altered field")
        assert first_difference(original, retry) == name, "the model must spot the change"
        return retry

    def _any_request(self, draws: Draws) -> Request:
        """Any request, aimed at the model's accounts, holds and transactions."""
        kind = draws.draw(
            st.sampled_from(("transfer", "hold", "post", "void", "reverse", "retry")), "kind"
        )
        ids = ACCOUNT_IDS + UNKNOWN_ACCOUNT_IDS
        if kind in ("transfer", "hold"):
            debit_id = draws.draw(st.sampled_from(ids), "debit")
            credit_id = draws.draw(st.sampled_from(ids), "credit")
            postings = self._two_legs(draws, debit_id, credit_id)
            if kind == "transfer":
                return self._transfer(draws, postings)
            return self._hold(draws, postings, expiring=draws.draw(st.booleans(), "expires?"))
        known = sorted(self.model.holds if kind in ("post", "void") else self.model.outcomes)
        target = draws.draw(st.sampled_from(known), "target") if known else "no-such-id"
        if kind == "post":
            return self._post_request(draws, target)
        if kind == "void":
            return self._void_request(draws, target)
        if kind == "retry" and target in self.model.outcomes:
            return self._retry_request(draws, target, altered=draws.draw(st.booleans(), "alter"))
        return self._reverse_request(draws, target)

    # --- submitting and checking ------------------------------------------------------

    def _submit(self, request: Request, draws: Draws | None, *, only: Kind | None = None) -> object:
        """Submit one request (directly or through its convenience method) and check it.

        Returns its id for a bundle if the id is now remembered (and, given ``only``,
        names a committed transaction of that kind).
        """
        expected = self.model.expect(request)
        actual: Transaction | LedgerError
        try:
            if draws is not None and draws.draw(st.booleans(), "convenience method?"):
                actual = self._call_convenience(request)
            else:
                actual = self.book.submit(request)
        except LedgerError as error:
            actual = error
        self._settle(request, expected, actual)
        outcome = self.model.outcomes.get(request.transaction_id)
        if outcome is None:
            return multiple()
        if only is not None and (outcome.transaction is None or outcome.transaction.kind != only):
            return multiple()
        return request.transaction_id

    def _call_convenience(self, request: Request) -> Transaction:
        book = self.book
        if type(request) is Transfer:
            return book.transfer(
                request.transaction_id,
                list(request.postings),
                code=request.code,
                metadata=request.metadata,
                effective_at=request.effective_at,
            )
        if type(request) is Hold:
            return book.hold(
                request.transaction_id,
                list(request.postings),
                expires_at=request.expires_at,
                code=request.code,
                metadata=request.metadata,
            )
        if type(request) is PostHold:
            return book.post_hold(
                request.transaction_id,
                request.hold_id,
                amount_minutes=request.amount_minutes,
                postings=None if request.postings is None else list(request.postings),
                code=request.code,
                metadata=request.metadata,
            )
        if type(request) is VoidHold:
            return book.void_hold(
                request.transaction_id,
                request.hold_id,
                code=request.code,
                metadata=request.metadata,
            )
        assert type(request) is Reverse
        return book.reverse(
            request.transaction_id,
            request.reverses_id,
            code=request.code,
            metadata=request.metadata,
        )

    def _settle(
        self, request: Request, expected: Expectation, actual: Transaction | LedgerError
    ) -> None:
        """Compare the actual outcome with the model's, then record it in the model."""
        name = type(request).__name__
        if isinstance(expected, Replay):
            original = expected.outcome.transaction or expected.outcome.error
            assert type(actual) is type(original), f"expected {original!r} again, got {actual!r}"
            assert actual == original, f"expected {original!r} again, got {actual!r}"
            event(f"{name}: replayed")
            return
        if isinstance(expected, Refuse):
            assert isinstance(actual, LedgerError), f"expected {expected.error!r}, got {actual!r}"
            assert_same_error(actual, expected.error)
            if expected.remembered:
                self.model.reject(request, actual)
            event(f"{name}: {type(actual).__name__}")
            return
        assert isinstance(actual, Transaction), f"expected a {expected.kind}, got {actual!r}"
        self._check_transaction(expected, actual)
        self.model.commit(request, expected, actual)
        event(f"{name}: committed")

    def _check_transaction(self, expected: Accept, actual: Transaction) -> None:
        """The record is the predicted one, next in sequence and chained to the previous one."""
        want = Transaction(
            book_id=BOOK_ID,
            transaction_id=expected.transaction_id,
            sequence=self.model.sequence + 1,
            kind=expected.kind,
            postings=expected.postings,
            code=expected.code,
            metadata=expected.metadata,
            recorded_at=expected.recorded_at,
            effective_at=expected.effective_at,
            expires_at=expected.expires_at,
            related_id=expected.related_id,
            previous_hash=self.model.last_hash,
            hash=actual.hash,
        )
        assert actual == want, f"expected {want!r}, got {actual!r}"
        assert actual.recorded_at.utcoffset() == timedelta(0), "recorded times are in UTC"
        assert actual.hash != actual.previous_hash

    # --- invariants ---------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        """Posted minutes sum to zero over the book; pending debits equal pending credits."""
        accounts = self.book.accounts(limit=500)
        assert sum(a.posted_minutes for a in accounts) == 0
        assert sum(a.debits_pending_minutes for a in accounts) == sum(
            a.credits_pending_minutes for a in accounts
        )

    @invariant()
    def accounts_stay_within_bounds(self) -> None:
        """Available minutes stay at or above the minimum; projected ones at or below the max."""
        for account in self.book.accounts(limit=500):
            if account.balance_minutes_min is not None:
                assert account.available_minutes >= account.balance_minutes_min, account
            if account.balance_minutes_max is not None:
                projected = account.posted_minutes + account.credits_pending_minutes
                assert projected <= account.balance_minutes_max, account

    @invariant()
    def accounts_match_the_model(self) -> None:
        """Every account, with its cached balances, is the one the model expects."""
        accounts = self.book.accounts(limit=500)
        assert [a.account_id for a in accounts] == sorted(self.model.accounts)
        for account in accounts:
            assert account == self.model.account_record(account.account_id)

    @invariant()
    def statements_fold_to_cached_balances(self) -> None:
        """Each account's entries sum to its cached balances, and each states the running sum."""
        for account_id, mine in self.model.accounts.items():
            running = (0, 0, 0)
            count, last_sequence, after = 0, 0, None
            while True:
                page = self.book.statement(account_id, after=after, limit=STATEMENT_PAGE)
                for entry in page.entries:
                    assert entry.sequence > last_sequence
                    running = (
                        running[0] + entry.posted_delta_minutes,
                        running[1] + entry.debits_pending_delta_minutes,
                        running[2] + entry.credits_pending_delta_minutes,
                    )
                    after_entry = (
                        entry.posted_minutes,
                        entry.debits_pending_minutes,
                        entry.credits_pending_minutes,
                    )
                    assert after_entry == running, (account_id, entry)
                    count, last_sequence = count + 1, entry.sequence
                if page.next_after is None:
                    break
                after = page.next_after
            assert running == mine.balances(), account_id
            assert count == mine.entries, account_id

    @invariant()
    def holds_match_the_model(self) -> None:
        """Every hold is in the state the model expects."""
        for hold_id, mine in self.model.holds.items():
            record = self.book.hold_record(hold_id)
            assert record.status is mine.status, (hold_id, record)
            assert record.postings == mine.postings
            assert record.expires_at == mine.expires_at
            assert record.resolved_by == mine.resolved_by

    @invariant()
    def journal_ends_where_the_model_does(self) -> None:
        """The journal holds exactly the committed records, the last one chained as expected."""
        tail = self.book.journal(after=max(self.model.sequence - 1, 0), limit=2)
        assert [t.sequence for t in tail] == ([self.model.sequence] if self.model.sequence else [])
        if tail:
            assert tail[-1].hash == self.model.last_hash

    @invariant()
    def verify_finds_no_break(self) -> None:
        """``verify()`` recomputes the chain and every balance and finds nothing wrong."""
        report = self.book.verify()
        assert report.ok, report.first_break
        assert report.transactions_checked == self.model.sequence
        assert report.accounts_checked == len(self.model.accounts)

    @invariant()
    def store_matches_the_model(self) -> None:
        self.extra_checks()


TestLedgerMachine = LedgerMachine.TestCase
