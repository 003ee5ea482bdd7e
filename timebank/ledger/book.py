"""A book: one tenant's accounts and journal, and every operation on them.

Each write opens one unit of work on the store, decides with no side effects,
then writes the decision with a single ``append`` (or ``reject``). A request
refused on a rule is remembered under its transaction id, so a retry of the
same id gets the same answer and never succeeds later by surprise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from hashlib import sha256
from typing import Any, Literal

from msgspec.structs import replace

from timebank.ledger.checks import (
    check_aware,
    check_bounds,
    check_code,
    check_id,
    check_metadata,
    check_metadata_types,
    check_postings,
)
from timebank.ledger.clock import Clock
from timebank.ledger.errors import (
    AccountClosed,
    AccountExists,
    AccountNotFound,
    AmountNotInteger,
    AmountNotPositive,
    BalanceOutOfRange,
    BatchTooLarge,
    EffectiveTimeAfterRecording,
    HoldExpired,
    HoldExpiryNotAfterRecording,
    HoldNotFound,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientMinutes,
    LedgerError,
    MaximumBalanceExceeded,
    PageSizeOutOfRange,
    PostDoesNotMatchHold,
    PostExceedsHold,
    TransactionAlreadyReversed,
    TransactionNotFound,
    TransactionNotReversible,
    error_from_dict,
)
from timebank.ledger.hashing import canonical_bytes
from timebank.ledger.limits import (
    BALANCE_MINUTES_LIMIT,
    BATCH_REQUESTS_MAX,
    CODE_LENGTH_MAX,
    EXPIRE_BATCH_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    RESERVED_ID_PREFIX,
    STORED_ID_LENGTH_MAX,
)
from timebank.ledger.model import (
    Account,
    Balance,
    ExpiryReport,
    Hold,
    HoldRecord,
    HoldStatus,
    Kind,
    PostHold,
    Posting,
    Rejection,
    Request,
    Reverse,
    Side,
    StatementPage,
    Transaction,
    Transfer,
    VoidHold,
)
from timebank.ledger.port import ChainHead, Commit, Committed, LedgerStore, LedgerUnit
from timebank.ledger.verify import VerifyReport, verify_from_checkpoint

__all__ = ["Book"]

_MICROSECOND = timedelta(microseconds=1)
_CREDIT = Side.CREDIT
_LOOK_UP = object()
"""Tells ``Book._decide`` to look the transaction id up itself."""
_REVERSIBLE = frozenset({Kind.TRANSFER, Kind.POST})


class Book:
    """Operations on one book. Get one from ``Ledger.book`` or ``Ledger.create_book``."""

    __slots__ = ("_clock", "_store", "book_id")

    def __init__(self, store: LedgerStore, clock: Clock, book_id: str) -> None:
        self._store = store
        self._clock = clock
        self.book_id = book_id

    # --- accounts ------------------------------------------------------------

    def open_account(
        self,
        account_id: str,
        *,
        balance_minutes_min: int | None = 0,
        balance_minutes_max: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Account:
        """Open an account; opening it again with the same settings returns it unchanged.

        The default minimum of 0 forbids overdrafts; pass ``None`` for no minimum
        (a sponsor or issuance account) or a negative number for a credit line.
        """
        return self._store.transact(
            self.book_id,
            partial(
                self.open_account_in,
                account_id=account_id,
                balance_minutes_min=balance_minutes_min,
                balance_minutes_max=balance_minutes_max,
                metadata=metadata,
            ),
        )

    def open_account_in(
        self,
        unit: LedgerUnit,
        account_id: str,
        *,
        balance_minutes_min: int | None = 0,
        balance_minutes_max: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Account:
        """``open_account`` inside a caller's unit of work (a store keeping more than minutes)."""
        check_id("account_id", account_id)
        check_bounds(balance_minutes_min, balance_minutes_max)
        metadata = {} if metadata is None else dict(metadata)
        check_metadata(metadata)
        existing = unit.account(account_id)
        if existing is not None:
            for field, value in (
                ("balance_minutes_min", balance_minutes_min),
                ("balance_minutes_max", balance_minutes_max),
                ("metadata", metadata),
            ):
                if getattr(existing, field) != value:
                    raise AccountExists(account_id=account_id, field=field)
            return existing
        account = Account(
            book_id=self.book_id,
            account_id=account_id,
            balance_minutes_min=balance_minutes_min,
            balance_minutes_max=balance_minutes_max,
            metadata=metadata,
            opened_at=self._clock.now(),
        )
        unit.add_account(account)
        return account

    def close_account(self, account_id: str) -> Account:
        """Close an account: it refuses new postings; its pending holds can still be voided."""
        check_id("account_id", account_id)

        def work(unit: LedgerUnit) -> Account:
            (account,) = unit.lock_accounts([account_id])
            if account is None:
                raise AccountNotFound(account_id=account_id)
            if account.closed_at is None:
                account = replace(account, closed_at=self._clock.now())
                unit.replace_account(account)
            return account

        return self._store.transact(self.book_id, work)

    def account(self, account_id: str) -> Account:
        with self._store.read(self.book_id) as reader:
            account = reader.account(account_id)
        if account is None:
            raise AccountNotFound(account_id=account_id)
        return account

    def accounts(
        self, *, after: str | None = None, limit: int = PAGE_SIZE_DEFAULT
    ) -> list[Account]:
        """Accounts in id order, a bounded page at a time."""
        _check_page(limit)
        with self._store.read(self.book_id) as reader:
            return list(reader.accounts(after=after, limit=limit))

    # --- transactions ----------------------------------------------------------

    def submit(self, request: Request) -> Transaction:
        """Apply one request, or return the original outcome of its transaction id."""
        if type(request) is not Transfer or type(request.postings) is not tuple:
            request = _normalised(request)
        _check_before_lookup(request)
        outcome = self._store.transact(self.book_id, partial(self._decide, request))
        if isinstance(outcome, LedgerError):
            raise outcome
        return outcome

    def apply_in(self, unit: LedgerUnit, request: Request) -> Transaction | LedgerError:
        """``submit`` inside a caller's unit of work; a refusal is returned, not raised.

        The refusal is remembered by the unit like any other, so the caller should
        let the unit commit and raise the error after it.
        """
        if type(request) is not Transfer or type(request.postings) is not tuple:
            request = _normalised(request)
        try:
            _check_before_lookup(request)
        except LedgerError as error:
            return error
        return self._decide(request, unit)

    def submit_many(self, requests: Iterable[Request]) -> list[Transaction | LedgerError]:
        """Apply many independent requests in one unit of work (a bulk import).

        Each gets its own outcome, as if submitted alone in order; a refused one
        does not stop the others. At most 10,000 requests per call (``BatchTooLarge``,
        and then nothing is applied).
        """
        checked: list[Request | LedgerError] = []
        for request in requests:
            if len(checked) == BATCH_REQUESTS_MAX:
                raise BatchTooLarge(maximum=BATCH_REQUESTS_MAX)
            if type(request) is not Transfer or type(request.postings) is not tuple:
                request = _normalised(request)
            try:
                _check_before_lookup(request)
            except LedgerError as error:
                checked.append(error)
            else:
                checked.append(request)

        def work(unit: LedgerUnit) -> list[Transaction | LedgerError]:
            # One lookup for the whole batch; an id repeated inside the batch is looked up
            # again, so that it sees the outcome of its first occurrence.
            ids = [item.transaction_id for item in checked if not isinstance(item, LedgerError)]
            known = unit.find_many(ids)
            decided: set[str] = set()
            outcomes: list[Transaction | LedgerError] = []
            for item in checked:
                if isinstance(item, LedgerError):
                    outcomes.append(item)
                    continue
                transaction_id = item.transaction_id
                if transaction_id in decided:
                    outcomes.append(self._decide(item, unit))
                    continue
                decided.add(transaction_id)
                outcomes.append(self._decide(item, unit, known.get(transaction_id)))
            return outcomes

        return self._store.transact(self.book_id, work)

    def transfer(
        self,
        transaction_id: str,
        postings: Sequence[Posting],
        *,
        code: str = "",
        metadata: dict[str, str] | None = None,
        effective_at: datetime | None = None,
    ) -> Transaction:
        """Move posted minutes; the postings must balance."""
        return self.submit(
            Transfer(
                transaction_id=transaction_id,
                postings=tuple(postings),
                code=code,
                metadata={} if metadata is None else metadata,
                effective_at=effective_at,
            )
        )

    def hold(
        self,
        transaction_id: str,
        postings: Sequence[Posting],
        *,
        expires_at: datetime | None = None,
        code: str = "",
        metadata: dict[str, str] | None = None,
    ) -> Transaction:
        """Reserve minutes as pending; the hold's id is ``transaction_id``."""
        return self.submit(
            Hold(
                transaction_id=transaction_id,
                postings=tuple(postings),
                expires_at=expires_at,
                code=code,
                metadata={} if metadata is None else metadata,
            )
        )

    def post_hold(
        self,
        transaction_id: str,
        hold_id: str,
        *,
        amount_minutes: int | None = None,
        postings: Sequence[Posting] | None = None,
        code: str = "",
        metadata: dict[str, str] | None = None,
    ) -> Transaction:
        """Post a hold in full, or for fewer minutes."""
        return self.submit(
            PostHold(
                transaction_id=transaction_id,
                hold_id=hold_id,
                amount_minutes=amount_minutes,
                postings=None if postings is None else tuple(postings),
                code=code,
                metadata={} if metadata is None else metadata,
            )
        )

    def void_hold(
        self,
        transaction_id: str,
        hold_id: str,
        *,
        code: str = "",
        metadata: dict[str, str] | None = None,
    ) -> Transaction:
        """Release a hold; no minutes move."""
        return self.submit(
            VoidHold(
                transaction_id=transaction_id,
                hold_id=hold_id,
                code=code,
                metadata={} if metadata is None else metadata,
            )
        )

    def reverse(
        self,
        transaction_id: str,
        reverses_id: str,
        *,
        code: str = "",
        metadata: dict[str, str] | None = None,
    ) -> Transaction:
        """Move back every posted minute of an earlier transfer or post, once."""
        return self.submit(
            Reverse(
                transaction_id=transaction_id,
                reverses_id=reverses_id,
                code=code,
                metadata={} if metadata is None else metadata,
            )
        )

    def expire_holds(self, *, limit: int = EXPIRE_BATCH_MAX) -> ExpiryReport:
        """Expire pending holds whose expiry is at or before the clock's now.

        Each expiry is a journal record with the ledger-made id ``~expire:<hold id>``.
        """
        if not 0 < limit <= EXPIRE_BATCH_MAX:
            raise PageSizeOutOfRange(limit=limit, maximum=EXPIRE_BATCH_MAX)

        def work(unit: LedgerUnit) -> ExpiryReport:
            expired: list[Transaction] = []
            due = unit.due_holds(self._clock.now(), limit + 1)
            for hold in due[:limit]:
                expiry_id = f"{RESERVED_ID_PREFIX}expire:{hold.hold_id}"
                assert len(expiry_id) <= STORED_ID_LENGTH_MAX
                commit = self._plan_release(
                    unit,
                    hold,
                    request=None,
                    transaction_id=expiry_id,
                    kind=Kind.EXPIRE,
                    code="expire",
                    metadata={},
                )
                unit.append(commit)
                expired.append(commit.transaction)
            return ExpiryReport(expired=tuple(expired), more_due=len(due) > limit)

        return self._store.transact(self.book_id, work)

    # --- reads -----------------------------------------------------------------

    def transaction(self, transaction_id: str) -> Transaction:
        """The committed transaction with this id."""
        with self._store.read(self.book_id) as reader:
            found = reader.find(transaction_id)
        if not isinstance(found, Committed):
            raise TransactionNotFound(transaction_id=transaction_id)
        return found.transaction

    def hold_record(self, hold_id: str) -> HoldRecord:
        with self._store.read(self.book_id) as reader:
            hold = reader.hold(hold_id)
        if hold is None:
            raise HoldNotFound(hold_id=hold_id)
        return hold

    def balance(
        self,
        account_id: str,
        *,
        as_of: datetime | None = None,
        basis: Literal["recorded", "effective"] = "recorded",
    ) -> Balance:
        """Balances now, or as of a past recorded time, or as of an effective time."""
        check_aware("as_of", as_of)
        assert basis in ("recorded", "effective"), f"unknown basis {basis!r}"
        with self._store.read(self.book_id) as reader:
            account = reader.account(account_id)
            if account is None:
                raise AccountNotFound(account_id=account_id)
            if as_of is None:
                return account.balance()
            if basis == "recorded":
                return reader.balance_recorded_at(account_id, as_of)
            return reader.balance_effective_at(account_id, as_of)

    def statement(
        self, account_id: str, *, after: int | None = None, limit: int = PAGE_SIZE_DEFAULT
    ) -> StatementPage:
        """A page of the account's entries, each with the balances after it."""
        _check_page(limit)
        with self._store.read(self.book_id) as reader:
            if reader.account(account_id) is None:
                raise AccountNotFound(account_id=account_id)
            lines = reader.entries(account_id, after=after, limit=limit + 1)
        entries = tuple(lines[:limit])
        more = len(lines) > limit
        return StatementPage(
            account_id=account_id,
            entries=entries,
            next_after=entries[-1].sequence if more else None,
        )

    def journal(self, *, after: int = 0, limit: int = PAGE_SIZE_DEFAULT) -> list[Transaction]:
        """Journal records with sequence > ``after``, in order."""
        _check_page(limit)
        with self._store.read(self.book_id) as reader:
            return list(reader.journal(after=after, limit=limit))

    def verify(
        self, *, since_checkpoint: bool = False, record_checkpoint: bool = False
    ) -> VerifyReport:
        """Recompute the hash chain and every balance; report the first break.

        ``record_checkpoint``: when nothing is found, keep where the journal ended, with the
        balances and pending holds there, as the book's verify checkpoint.
        ``since_checkpoint``: verify only the records after the book's checkpoint (the
        whole book when it has none), and what must hold for the whole book (the head,
        every account's balances, bounds and later statement entries, conservation)
        against the fold continued from it; a checkpoint that does not match its digest or
        the record it is bound to is a break. When nothing is found, the checkpoint moves
        to the journal's end. Both need a store that keeps checkpoints
        (``timebank.ledger.port.CheckpointStore``); ``transactions_checked`` counts the
        records walked.
        """
        store: Any = self._store
        if (since_checkpoint or record_checkpoint) and not callable(
            getattr(store, "save_checkpoint", None)
        ):
            raise TypeError(f"{type(store).__name__} keeps no verify checkpoints")
        with store.read(self.book_id) as reader:
            since = reader.checkpoint() if since_checkpoint else None
            report, checkpoint = verify_from_checkpoint(self.book_id, reader, since)
        if checkpoint is not None and (since_checkpoint or record_checkpoint):
            store.save_checkpoint(self.book_id, checkpoint.stored())
        return report

    # --- deciding --------------------------------------------------------------

    def _decide(
        self,
        request: Request,
        unit: LedgerUnit,
        found: Committed | Rejection | object | None = _LOOK_UP,
    ) -> Transaction | LedgerError:
        """Decide one request inside a unit (``found``: what the id's lookup gave, if done).

        Refusals are returned, not raised, so that the unit commits the remembered
        rejection.
        """
        if found is _LOOK_UP:
            found = unit.find(request.transaction_id)
        if found is not None:
            assert isinstance(found, Committed | Rejection)
            return _replay(found, request)
        try:
            commit = self._plan(unit, request)
        except LedgerError as error:
            unit.reject(Rejection(request=request, error_code=error.code, error=error.to_dict()))
            return error
        unit.append(commit)
        return commit.transaction

    def _plan(self, unit: LedgerUnit, request: Request) -> Commit:
        code = request.code
        if type(code) is not str or len(code) > CODE_LENGTH_MAX or not code.isprintable():
            check_code(code)
        if request.metadata or type(request.metadata) is not dict:
            check_metadata(request.metadata)
        if type(request) is Transfer:
            return self._plan_transfer(unit, request)
        if type(request) is Hold:
            return self._plan_hold(unit, request)
        if type(request) is PostHold:
            return self._plan_post(unit, request)
        if type(request) is VoidHold:
            return self._plan_void(unit, request)
        assert type(request) is Reverse, f"unknown request {type(request).__name__}"
        return self._plan_reverse(unit, request)

    def _plan_transfer(self, unit: LedgerUnit, request: Transfer) -> Commit:
        effective_at = request.effective_at
        if effective_at is not None:
            check_aware("effective_at", effective_at)
        postings = check_postings(request.postings)
        head = unit.head()
        recorded_at = self._recorded_at(head)
        if effective_at is not None:
            effective_at = effective_at.astimezone(UTC)
            if effective_at > recorded_at:
                raise EffectiveTimeAfterRecording(
                    effective_at=effective_at, recorded_at=recorded_at
                )
        accounts = _open_accounts(unit, postings)
        return self._record(
            head,
            request,
            Kind.TRANSFER,
            postings,
            _moved_accounts(accounts, postings),
            recorded_at,
            effective_at=effective_at,
        )

    def _plan_hold(self, unit: LedgerUnit, request: Hold) -> Commit:
        check_aware("expires_at", request.expires_at)
        postings = check_postings(request.postings)
        head = unit.head()
        recorded_at = self._recorded_at(head)
        expires_at = _utc(request.expires_at)
        if expires_at is not None and expires_at <= recorded_at:
            raise HoldExpiryNotAfterRecording(expires_at=expires_at, recorded_at=recorded_at)
        accounts = _open_accounts(unit, postings)
        hold = HoldRecord(
            hold_id=request.transaction_id,
            postings=postings,
            expires_at=expires_at,
            status=HoldStatus.PENDING,
        )
        return self._record(
            head,
            request,
            Kind.HOLD,
            postings,
            _new_accounts(accounts, held=postings, held_sign=1),
            recorded_at,
            expires_at=expires_at,
            hold=hold,
        )

    def _plan_post(self, unit: LedgerUnit, request: PostHold) -> Commit:
        hold = _pending_hold(unit, request.hold_id)
        head = unit.head()
        recorded_at = self._recorded_at(head)
        if hold.expires_at is not None and recorded_at >= hold.expires_at:
            raise HoldExpired(hold_id=hold.hold_id, expires_at=hold.expires_at)
        posted = _posted_postings(hold, request)
        accounts = _open_accounts(unit, hold.postings)
        return self._record(
            head,
            request,
            Kind.POST,
            posted,
            _new_accounts(accounts, moved=posted, held=hold.postings, held_sign=-1),
            recorded_at,
            related_id=hold.hold_id,
            hold=replace(hold, status=HoldStatus.POSTED, resolved_by=request.transaction_id),
        )

    def _plan_void(self, unit: LedgerUnit, request: VoidHold) -> Commit:
        hold = _pending_hold(unit, request.hold_id)
        return self._plan_release(
            unit,
            hold,
            request=request,
            transaction_id=request.transaction_id,
            kind=Kind.VOID,
            code=request.code,
            metadata=request.metadata,
        )

    def _plan_release(
        self,
        unit: LedgerUnit,
        hold: HoldRecord,
        *,
        request: Request | None,
        transaction_id: str,
        kind: Literal[Kind.VOID, Kind.EXPIRE],
        code: str,
        metadata: dict[str, str],
    ) -> Commit:
        """Free a hold's minutes; allowed on closed accounts, and never breaks a bound."""
        accounts = unit.lock_accounts([p.account_id for p in hold.postings])
        existing = [_existing(a, p) for a, p in zip(accounts, hold.postings, strict=True)]
        status = HoldStatus.VOIDED if kind is Kind.VOID else HoldStatus.EXPIRED
        head = unit.head()
        return self._record(
            head,
            request,
            kind,
            hold.postings,
            _new_accounts(existing, held=hold.postings, held_sign=-1, check=False),
            self._recorded_at(head),
            transaction_id=transaction_id,
            code=code,
            metadata=metadata,
            related_id=hold.hold_id,
            hold=replace(hold, status=status, resolved_by=transaction_id),
        )

    def _plan_reverse(self, unit: LedgerUnit, request: Reverse) -> Commit:
        reverses_id = check_id("reverses_id", request.reverses_id, reserved_ok=True)
        found = unit.find(reverses_id)
        if not isinstance(found, Committed):
            raise TransactionNotFound(transaction_id=reverses_id)
        target = found.transaction
        if target.kind not in _REVERSIBLE:
            raise TransactionNotReversible(transaction_id=reverses_id, kind=target.kind.value)
        reversal_id = unit.reversal_of(reverses_id)
        if reversal_id is not None:
            raise TransactionAlreadyReversed(transaction_id=reverses_id, reversal_id=reversal_id)
        postings = tuple(
            replace(p, side=Side.CREDIT if p.side is Side.DEBIT else Side.DEBIT)
            for p in target.postings
        )
        head = unit.head()
        recorded_at = self._recorded_at(head)
        accounts = _open_accounts(unit, postings)
        return self._record(
            head,
            request,
            Kind.REVERSAL,
            postings,
            _moved_accounts(accounts, postings),
            recorded_at,
            related_id=reverses_id,
        )

    def _recorded_at(self, head: ChainHead) -> datetime:
        """The clock's now, nudged forward so that recorded times strictly increase."""
        now = self._clock.now()
        if now.tzinfo is not UTC:
            assert now.utcoffset() is not None, "the clock must return aware datetimes"
            now = now.astimezone(UTC)
        last = head.recorded_at
        if last is not None and now <= last:
            return last + _MICROSECOND
        return now

    def _record(
        self,
        head: ChainHead,
        request: Request | None,
        kind: Kind,
        postings: tuple[Posting, ...],
        accounts: tuple[Account, ...],
        recorded_at: datetime,
        *,
        transaction_id: str | None = None,
        code: str | None = None,
        metadata: dict[str, str] | None = None,
        effective_at: datetime | None = None,
        expires_at: datetime | None = None,
        related_id: str | None = None,
        hold: HoldRecord | None = None,
    ) -> Commit:
        """Build the chained record; ``accounts`` are the touched accounts' new states."""
        if request is not None:
            transaction_id = request.transaction_id
            code = request.code
            metadata = request.metadata
        assert transaction_id is not None
        assert code is not None
        assert metadata is not None
        sequence = head.sequence + 1
        digest = sha256(
            canonical_bytes(
                self.book_id,
                sequence,
                transaction_id,
                kind,
                postings,
                code,
                metadata,
                recorded_at,
                effective_at,
                expires_at,
                related_id,
                head.hash,
            )
        ).hexdigest()
        transaction = Transaction(
            book_id=self.book_id,
            transaction_id=transaction_id,
            sequence=sequence,
            kind=kind,
            postings=postings,
            code=code,
            metadata=metadata,
            recorded_at=recorded_at,
            effective_at=effective_at,
            expires_at=expires_at,
            related_id=related_id,
            previous_hash=head.hash,
            hash=digest,
        )
        return Commit(request=request, transaction=transaction, accounts=accounts, hold=hold)


def _new_accounts(
    accounts: Sequence[Account],
    *,
    moved: Sequence[Posting] = (),
    held: Sequence[Posting] = (),
    held_sign: int = 0,
    check: bool = True,
) -> tuple[Account, ...]:
    """Each account after the transaction; raises the first limit broken, in posting order.

    ``moved`` postings change posted minutes; ``held`` postings add to
    (``held_sign`` 1) or release (-1) pending minutes. Both list the accounts in
    the same order as ``accounts``.
    """
    result: list[Account] = []
    for index, account in enumerate(accounts):
        posted = account.posted_minutes
        debits_pending = account.debits_pending_minutes
        credits_pending = account.credits_pending_minutes
        if moved:
            posting = moved[index]
            if posting.side is Side.CREDIT:
                posted += posting.amount_minutes
            else:
                posted -= posting.amount_minutes
        if held:
            posting = held[index]
            if posting.side is Side.CREDIT:
                credits_pending += held_sign * posting.amount_minutes
            else:
                debits_pending += held_sign * posting.amount_minutes
        if check:
            _check_limits(account, posting, posted - debits_pending, posted + credits_pending)
        result.append(
            replace(
                account,
                posted_minutes=posted,
                debits_pending_minutes=debits_pending,
                credits_pending_minutes=credits_pending,
            )
        )
    return tuple(result)


def _moved_accounts(
    accounts: Sequence[Account], postings: Sequence[Posting]
) -> tuple[Account, ...]:
    """``_new_accounts`` for postings that only move posted minutes (the common case).

    A credit can only break the maximum and a debit only the minimum, so each
    posting is checked against its own side's bound.
    """
    result: list[Account] = []
    for account, posting in zip(accounts, postings, strict=True):
        if posting.side is _CREDIT:
            posted = account.posted_minutes + posting.amount_minutes
            projected = posted + account.credits_pending_minutes
            high = account.balance_minutes_max
            if (high is not None and projected > high) or projected > BALANCE_MINUTES_LIMIT:
                _check_limits(account, posting, posted - account.debits_pending_minutes, projected)
        else:
            posted = account.posted_minutes - posting.amount_minutes
            available = posted - account.debits_pending_minutes
            low = account.balance_minutes_min
            if (low is not None and available < low) or available < -BALANCE_MINUTES_LIMIT:
                _check_limits(account, posting, available, posted + account.credits_pending_minutes)
        result.append(replace(account, posted_minutes=posted))
    return tuple(result)


def _check_limits(account: Account, posting: Posting, available: int, projected: int) -> None:
    """The minimum holds against posted minus pending debits, the maximum against posted plus
    pending credits; and neither leaves +/- 2**62."""
    low = account.balance_minutes_min
    if low is not None and available < low:
        raise InsufficientMinutes(
            account_id=account.account_id,
            available_minutes=account.posted_minutes - account.debits_pending_minutes,
            requested_minutes=posting.amount_minutes,
            balance_minutes_min=low,
        )
    high = account.balance_minutes_max
    if high is not None and projected > high:
        raise MaximumBalanceExceeded(
            account_id=account.account_id, projected_minutes=projected, balance_minutes_max=high
        )
    if available < -BALANCE_MINUTES_LIMIT or projected > BALANCE_MINUTES_LIMIT:
        raise BalanceOutOfRange(
            account_id=account.account_id,
            projected_minutes=available if available < -BALANCE_MINUTES_LIMIT else projected,
            limit=BALANCE_MINUTES_LIMIT,
        )


def _open_accounts(unit: LedgerUnit, postings: Sequence[Posting]) -> list[Account]:
    """The accounts postings name, which must exist and be open, in posting order."""
    accounts = unit.lock_accounts([p.account_id for p in postings])
    if None in accounts:
        raise AccountNotFound(account_id=postings[accounts.index(None)].account_id)
    for account in accounts:
        if account.closed_at is not None:  # type: ignore[union-attr]
            raise AccountClosed(account_id=account.account_id)  # type: ignore[union-attr]
    return accounts  # type: ignore[return-value]


def _existing(account: Account | None, posting: Posting) -> Account:
    if account is None:
        raise AccountNotFound(account_id=posting.account_id)
    return account


def _pending_hold(unit: LedgerUnit, hold_id: str) -> HoldRecord:
    check_id("hold_id", hold_id)
    hold = unit.hold(hold_id)
    if hold is None:
        raise HoldNotFound(hold_id=hold_id)
    if hold.status is not HoldStatus.PENDING:
        raise HoldNotPending(hold_id=hold_id, status=hold.status.value)
    return hold


def _posted_postings(hold: HoldRecord, request: PostHold) -> tuple[Posting, ...]:
    """What a post moves, in the hold's posting order; checks it against the hold."""
    if request.postings is not None and request.amount_minutes is not None:
        raise PostDoesNotMatchHold(
            hold_id=hold.hold_id, reason="give postings or amount_minutes, not both"
        )
    if request.amount_minutes is not None:
        amount = request.amount_minutes
        if len(hold.postings) != 2:
            raise PostDoesNotMatchHold(
                hold_id=hold.hold_id, reason="amount_minutes needs a two-posting hold"
            )
        if type(amount) is not int:
            raise AmountNotInteger(account_id=hold.postings[0].account_id, value=repr(amount))
        if amount <= 0:
            raise AmountNotPositive(account_id=hold.postings[0].account_id, amount_minutes=amount)
        given: Sequence[Posting] = [replace(p, amount_minutes=amount) for p in hold.postings]
    elif request.postings is not None:
        given = check_postings(request.postings)
    else:
        return hold.postings
    by_account = {p.account_id: p for p in given}
    posted = []
    for held in hold.postings:
        post = by_account.pop(held.account_id, None)
        if post is None:
            reason = f"account {held.account_id!r} of the hold is missing"
            raise PostDoesNotMatchHold(hold_id=hold.hold_id, reason=reason)
        if post.side is not held.side:
            reason = f"account {held.account_id!r} is on the other side in the hold"
            raise PostDoesNotMatchHold(hold_id=hold.hold_id, reason=reason)
        if post.amount_minutes > held.amount_minutes:
            raise PostExceedsHold(
                hold_id=hold.hold_id,
                account_id=held.account_id,
                held_minutes=held.amount_minutes,
                requested_minutes=post.amount_minutes,
            )
        posted.append(post)
    if by_account:
        reason = f"account {next(iter(by_account))!r} is not in the hold"
        raise PostDoesNotMatchHold(hold_id=hold.hold_id, reason=reason)
    return tuple(posted)


def _replay(found: Committed | Rejection, request: Request) -> Transaction | LedgerError:
    """The original outcome of a reused id, or the first field that differs."""
    original = found.request
    assert original is not None, "ledger-made ids cannot be submitted"
    if original != request:
        return IdempotencyConflict(
            transaction_id=request.transaction_id, field=_first_difference(original, request)
        )
    # == takes 1, 1.0 and True as equal; an amount of another type is another request.
    field = _amount_type_difference(original, request)
    if field is not None:
        return IdempotencyConflict(transaction_id=request.transaction_id, field=field)
    if isinstance(found, Committed):
        return found.transaction
    return error_from_dict(found.error)


def _amount_type_difference(original: Request, request: Request) -> str | None:
    """The field whose amounts are equal in value but not in type (1 against 1.0 or True)."""
    if type(getattr(original, "amount_minutes", None)) is not type(
        getattr(request, "amount_minutes", None)
    ):
        return "amount_minutes"
    before = getattr(original, "postings", None) or ()
    after = getattr(request, "postings", None) or ()
    if [type(p.amount_minutes) for p in before] != [type(p.amount_minutes) for p in after]:
        return "postings"
    return None


def _first_difference(original: Request, request: Request) -> str:
    if type(original) is not type(request):
        return "kind"
    for field in request.__struct_fields__:
        if getattr(original, field) != getattr(request, field):
            return field
    raise AssertionError("requests differ in no field")


def _normalised(request: Request) -> Request:
    """Requests built with lists of postings compare equal to those built with tuples."""
    postings = getattr(request, "postings", None)
    if type(postings) is list:
        return replace(request, postings=tuple(postings))
    return request


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is UTC:
        return moment
    return moment.astimezone(UTC)


def _check_before_lookup(request: Request) -> None:
    """What is refused before the id is looked up, and not remembered: an invalid id has
    nothing to key a record on, and metadata that is not str -> str cannot be stored
    faithfully, so a retry could not be compared with it."""
    check_id("transaction_id", request.transaction_id)
    metadata = request.metadata
    if type(metadata) is not dict or metadata:
        check_metadata_types(metadata)


def _check_page(limit: int) -> None:
    if type(limit) is not int or not 0 < limit <= PAGE_SIZE_MAX:
        raise PageSizeOutOfRange(limit=limit if type(limit) is int else -1, maximum=PAGE_SIZE_MAX)
