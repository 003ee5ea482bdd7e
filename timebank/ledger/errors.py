"""Every rule the ledger enforces, as an exception named after the rule.

Each error carries the data needed to explain it (the account, the balance,
the minutes requested, ...), has a stable snake_case ``code`` for the wire,
and round-trips through ``to_dict`` / ``error_from_dict`` so that a store can
persist a rejected request and replay the same error on a retry.

    LedgerError
    ├── RequestInvalid                 the request is malformed on its own
    │   ├── IdInvalid
    │   ├── CodeTooLong
    │   ├── CodeNotPrintable
    │   ├── MetadataInvalid
    │   ├── TimestampNotAware
    │   ├── TimestampOutOfRange
    │   ├── PostingCountOutOfRange
    │   ├── BatchTooLarge
    │   ├── AmountNotInteger
    │   ├── AmountNotPositive
    │   ├── AmountTooLarge
    │   ├── AccountRepeated
    │   ├── TransactionUnbalanced
    │   ├── BoundsInvalid
    │   ├── HoldExpiryNotAfterRecording
    │   ├── EffectiveTimeAfterRecording
    │   └── PageSizeOutOfRange
    ├── NotFound
    │   ├── BookNotFound
    │   ├── AccountNotFound
    │   ├── TransactionNotFound
    │   └── HoldNotFound
    ├── Conflict                       the request clashes with the book's state
    │   ├── BookExists
    │   ├── AccountExists
    │   ├── AccountClosed
    │   ├── IdempotencyConflict
    │   ├── HoldNotPending
    │   ├── HoldExpired
    │   ├── PostDoesNotMatchHold
    │   ├── PostExceedsHold
    │   ├── TransactionNotReversible
    │   └── TransactionAlreadyReversed
    └── LimitExceeded                  a balance would leave its bounds
        ├── InsufficientMinutes
        ├── MaximumBalanceExceeded
        └── BalanceOutOfRange
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, ClassVar

__all__ = [
    "AccountClosed",
    "AccountExists",
    "AccountNotFound",
    "AccountRepeated",
    "AmountNotInteger",
    "AmountNotPositive",
    "AmountTooLarge",
    "BalanceOutOfRange",
    "BatchTooLarge",
    "BookExists",
    "BookNotFound",
    "BoundsInvalid",
    "CodeNotPrintable",
    "CodeTooLong",
    "Conflict",
    "EffectiveTimeAfterRecording",
    "HoldExpired",
    "HoldExpiryNotAfterRecording",
    "HoldNotFound",
    "HoldNotPending",
    "IdInvalid",
    "IdempotencyConflict",
    "InsufficientMinutes",
    "LedgerError",
    "LimitExceeded",
    "MaximumBalanceExceeded",
    "MetadataInvalid",
    "NotFound",
    "PageSizeOutOfRange",
    "PostDoesNotMatchHold",
    "PostExceedsHold",
    "PostingCountOutOfRange",
    "RequestInvalid",
    "TimestampNotAware",
    "TimestampOutOfRange",
    "TransactionAlreadyReversed",
    "TransactionNotFound",
    "TransactionNotReversible",
    "TransactionUnbalanced",
    "error_from_dict",
]

_REGISTRY: dict[str, type[LedgerError]] = {}


@dataclasses.dataclass(eq=False, kw_only=True)
class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    code: ClassVar[str] = "ledger_error"
    template: ClassVar[str] = "ledger rule broken"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        assert cls.code not in _REGISTRY, cls.code
        _REGISTRY[cls.code] = cls

    def __post_init__(self) -> None:
        Exception.__init__(self, self.template.format(**self.fields()))

    def fields(self) -> dict[str, Any]:
        """The data this error carries, by field name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the code plus every field (datetimes as ISO 8601)."""
        data = {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in self.fields().items()
        }
        return {"code": self.code, **data}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.fields() == other.fields()

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(map(repr, self.fields().items())))))


def error_from_dict(data: dict[str, Any]) -> LedgerError:
    """Rebuild an error written by ``LedgerError.to_dict``."""
    values = dict(data)
    cls = _REGISTRY[values.pop("code")]
    for f in dataclasses.fields(cls):
        value = values.get(f.name)
        if isinstance(value, str) and "datetime" in str(f.type):
            values[f.name] = datetime.fromisoformat(value)
    return cls(**values)


# --- the request is malformed on its own -------------------------------------


@dataclasses.dataclass(eq=False, kw_only=True)
class RequestInvalid(LedgerError):
    """The request breaks a rule whatever the state of the book."""

    code: ClassVar[str] = "request_invalid"


@dataclasses.dataclass(eq=False, kw_only=True)
class IdInvalid(RequestInvalid):
    """Ids are 1 to 128 printable characters without spaces; '~' starts only ledger-made ids."""

    code: ClassVar[str] = "id_invalid"
    template: ClassVar[str] = "{field} {value!r} is not a valid id: {reason}"
    field: str
    value: str
    reason: str


@dataclasses.dataclass(eq=False, kw_only=True)
class CodeTooLong(RequestInvalid):
    """A transaction code is a short label (at most 64 characters)."""

    code: ClassVar[str] = "code_too_long"
    template: ClassVar[str] = "code has {length} characters, at most {maximum} are allowed"
    length: int
    maximum: int


@dataclasses.dataclass(eq=False, kw_only=True)
class CodeNotPrintable(RequestInvalid):
    """A transaction code is printable text: no control characters, tabs or line breaks."""

    code: ClassVar[str] = "code_not_printable"
    template: ClassVar[str] = "code {value!r} has characters that are not printable"
    value: str


@dataclasses.dataclass(eq=False, kw_only=True)
class MetadataInvalid(RequestInvalid):
    """Metadata maps strings to strings and its JSON fits the size limit."""

    code: ClassVar[str] = "metadata_invalid"
    template: ClassVar[str] = "metadata is invalid: {reason}"
    reason: str


@dataclasses.dataclass(eq=False, kw_only=True)
class TimestampNotAware(RequestInvalid):
    """Every timestamp must carry a time zone."""

    code: ClassVar[str] = "timestamp_not_aware"
    template: ClassVar[str] = "{field} has no time zone"
    field: str


@dataclasses.dataclass(eq=False, kw_only=True)
class TimestampOutOfRange(RequestInvalid):
    """Timestamps fall in the years 1900 to 2199 (UTC), which every store and zone can hold."""

    code: ClassVar[str] = "timestamp_out_of_range"
    template: ClassVar[str] = "{field} {value} is outside the years 1900 to 2199"
    field: str
    value: str


@dataclasses.dataclass(eq=False, kw_only=True)
class PostingCountOutOfRange(RequestInvalid):
    """A transaction has between 2 and 1,000 postings."""

    code: ClassVar[str] = "posting_count_out_of_range"
    template: ClassVar[str] = "{count} postings; between {minimum} and {maximum} are allowed"
    count: int
    minimum: int
    maximum: int


@dataclasses.dataclass(eq=False, kw_only=True)
class BatchTooLarge(RequestInvalid):
    """One submit_many call carries at most 10,000 requests."""

    code: ClassVar[str] = "batch_too_large"
    template: ClassVar[str] = "more than {maximum} requests in one batch"
    maximum: int


@dataclasses.dataclass(eq=False, kw_only=True)
class AmountNotInteger(RequestInvalid):
    """Amounts are whole minutes (int), never floats, strings or booleans."""

    code: ClassVar[str] = "amount_not_integer"
    template: ClassVar[str] = "amount for {account_id!r} is {value}, not a whole number of minutes"
    account_id: str
    value: str


@dataclasses.dataclass(eq=False, kw_only=True)
class AmountNotPositive(RequestInvalid):
    """Every posting moves at least one minute."""

    code: ClassVar[str] = "amount_not_positive"
    template: ClassVar[str] = "amount for {account_id!r} is {amount_minutes}; it must be positive"
    account_id: str
    amount_minutes: int


@dataclasses.dataclass(eq=False, kw_only=True)
class AmountTooLarge(RequestInvalid):
    """One posting moves at most 10**12 minutes."""

    code: ClassVar[str] = "amount_too_large"
    template: ClassVar[str] = "amount for {account_id!r} is {amount_minutes}; at most {maximum}"
    account_id: str
    amount_minutes: int
    maximum: int


@dataclasses.dataclass(eq=False, kw_only=True)
class AccountRepeated(RequestInvalid):
    """An account appears at most once in a transaction (accounts must be different)."""

    code: ClassVar[str] = "account_repeated"
    template: ClassVar[str] = "account {account_id!r} appears more than once"
    account_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class TransactionUnbalanced(RequestInvalid):
    """Debits equal credits in every transaction."""

    code: ClassVar[str] = "transaction_unbalanced"
    template: ClassVar[str] = "debits {debits_minutes} != credits {credits_minutes}"
    debits_minutes: int
    credits_minutes: int


@dataclasses.dataclass(eq=False, kw_only=True)
class BoundsInvalid(RequestInvalid):
    """Bounds are integers with minimum <= maximum, inside the balance limit."""

    code: ClassVar[str] = "bounds_invalid"
    template: ClassVar[str] = "bounds [{balance_minutes_min}, {balance_minutes_max}]: {reason}"
    balance_minutes_min: int | None
    balance_minutes_max: int | None
    reason: str


@dataclasses.dataclass(eq=False, kw_only=True)
class HoldExpiryNotAfterRecording(RequestInvalid):
    """A hold's expiry lies after the moment it is recorded."""

    code: ClassVar[str] = "hold_expiry_not_after_recording"
    template: ClassVar[str] = "hold would expire at {expires_at}, not after {recorded_at}"
    expires_at: datetime
    recorded_at: datetime


@dataclasses.dataclass(eq=False, kw_only=True)
class EffectiveTimeAfterRecording(RequestInvalid):
    """A back-dated effective time lies at or before the moment it is recorded."""

    code: ClassVar[str] = "effective_time_after_recording"
    template: ClassVar[str] = (
        "effective time {effective_at} is after the recording time {recorded_at}"
    )
    effective_at: datetime
    recorded_at: datetime


@dataclasses.dataclass(eq=False, kw_only=True)
class PageSizeOutOfRange(RequestInvalid):
    """A page holds between 1 and 500 entries."""

    code: ClassVar[str] = "page_size_out_of_range"
    template: ClassVar[str] = "page size {limit}; between 1 and {maximum} are allowed"
    limit: int
    maximum: int


# --- something named does not exist ------------------------------------------


@dataclasses.dataclass(eq=False, kw_only=True)
class NotFound(LedgerError):
    """Something the request names does not exist."""

    code: ClassVar[str] = "not_found"


@dataclasses.dataclass(eq=False, kw_only=True)
class BookNotFound(NotFound):
    """The book does not exist."""

    code: ClassVar[str] = "book_not_found"
    template: ClassVar[str] = "book {book_id!r} does not exist"
    book_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class AccountNotFound(NotFound):
    """Postings only touch accounts opened in the same book."""

    code: ClassVar[str] = "account_not_found"
    template: ClassVar[str] = "account {account_id!r} does not exist in this book"
    account_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class TransactionNotFound(NotFound):
    """The transaction does not exist in this book."""

    code: ClassVar[str] = "transaction_not_found"
    template: ClassVar[str] = "transaction {transaction_id!r} does not exist in this book"
    transaction_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class HoldNotFound(NotFound):
    """Only holds can be posted or voided."""

    code: ClassVar[str] = "hold_not_found"
    template: ClassVar[str] = "no hold with id {hold_id!r} in this book"
    hold_id: str


# --- the request clashes with the state of the book --------------------------


@dataclasses.dataclass(eq=False, kw_only=True)
class Conflict(LedgerError):
    """The request is well formed but clashes with what the book holds."""

    code: ClassVar[str] = "conflict"


@dataclasses.dataclass(eq=False, kw_only=True)
class BookExists(Conflict):
    """Book ids are unique in a store."""

    code: ClassVar[str] = "book_exists"
    template: ClassVar[str] = "book {book_id!r} already exists"
    book_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class AccountExists(Conflict):
    """An account id is opened once per book, and differs from an earlier one in `field`."""

    code: ClassVar[str] = "account_exists"
    template: ClassVar[str] = "account {account_id!r} already exists with another {field}"
    account_id: str
    field: str


@dataclasses.dataclass(eq=False, kw_only=True)
class AccountClosed(Conflict):
    """A closed account refuses new postings (its holds can still be voided)."""

    code: ClassVar[str] = "account_closed"
    template: ClassVar[str] = "account {account_id!r} is closed"
    account_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class IdempotencyConflict(Conflict):
    """A transaction id gives one outcome forever; a reuse must repeat the same request."""

    code: ClassVar[str] = "idempotency_conflict"
    template: ClassVar[str] = (
        "transaction {transaction_id!r} was first submitted with another {field}"
    )
    transaction_id: str
    field: str


@dataclasses.dataclass(eq=False, kw_only=True)
class HoldNotPending(Conflict):
    """A hold is posted, voided or expired exactly once."""

    code: ClassVar[str] = "hold_not_pending"
    template: ClassVar[str] = "hold {hold_id!r} is already {status}"
    hold_id: str
    status: str


@dataclasses.dataclass(eq=False, kw_only=True)
class HoldExpired(Conflict):
    """A hold past its expiry can no longer be posted."""

    code: ClassVar[str] = "hold_expired"
    template: ClassVar[str] = "hold {hold_id!r} expired at {expires_at}"
    hold_id: str
    expires_at: datetime


@dataclasses.dataclass(eq=False, kw_only=True)
class PostDoesNotMatchHold(Conflict):
    """Posting a hold touches exactly the hold's accounts, on the same sides."""

    code: ClassVar[str] = "post_does_not_match_hold"
    template: ClassVar[str] = "hold {hold_id!r}: {reason}"
    hold_id: str
    reason: str


@dataclasses.dataclass(eq=False, kw_only=True)
class PostExceedsHold(Conflict):
    """A hold is posted for the held amount or fewer minutes, never more."""

    code: ClassVar[str] = "post_exceeds_hold"
    template: ClassVar[str] = (
        "hold {hold_id!r} holds {held_minutes} for {account_id!r}; {requested_minutes} requested"
    )
    hold_id: str
    account_id: str
    held_minutes: int
    requested_minutes: int


@dataclasses.dataclass(eq=False, kw_only=True)
class TransactionNotReversible(Conflict):
    """Only posted movements (transfers and posted holds) can be reversed."""

    code: ClassVar[str] = "transaction_not_reversible"
    template: ClassVar[str] = "transaction {transaction_id!r} is a {kind}; it cannot be reversed"
    transaction_id: str
    kind: str


@dataclasses.dataclass(eq=False, kw_only=True)
class TransactionAlreadyReversed(Conflict):
    """A transaction is reversed at most once."""

    code: ClassVar[str] = "transaction_already_reversed"
    template: ClassVar[str] = (
        "transaction {transaction_id!r} was already reversed by {reversal_id!r}"
    )
    transaction_id: str
    reversal_id: str


# --- a balance would leave its bounds ----------------------------------------


@dataclasses.dataclass(eq=False, kw_only=True)
class LimitExceeded(LedgerError):
    """A balance, pending holds counted, would leave the account's bounds."""

    code: ClassVar[str] = "limit_exceeded"


@dataclasses.dataclass(eq=False, kw_only=True)
class InsufficientMinutes(LimitExceeded):
    """Posted minutes less pending debits stay at or above the account's minimum."""

    code: ClassVar[str] = "insufficient_minutes"
    template: ClassVar[str] = (
        "account {account_id!r} has {available_minutes} available (minimum {balance_minutes_min});"
        " {requested_minutes} requested"
    )
    account_id: str
    available_minutes: int
    requested_minutes: int
    balance_minutes_min: int


@dataclasses.dataclass(eq=False, kw_only=True)
class MaximumBalanceExceeded(LimitExceeded):
    """Posted minutes plus pending credits stay at or below the account's maximum."""

    code: ClassVar[str] = "maximum_balance_exceeded"
    template: ClassVar[str] = (
        "account {account_id!r} would reach {projected_minutes};"
        " its maximum is {balance_minutes_max}"
    )
    account_id: str
    projected_minutes: int
    balance_minutes_max: int


@dataclasses.dataclass(eq=False, kw_only=True)
class BalanceOutOfRange(LimitExceeded):
    """No balance leaves +/- 2**62 minutes, so every store can hold it in 64 bits."""

    code: ClassVar[str] = "balance_out_of_range"
    template: ClassVar[str] = (
        "account {account_id!r} would reach {projected_minutes}; limit {limit}"
    )
    account_id: str
    projected_minutes: int
    limit: int
