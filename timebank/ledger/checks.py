"""Checks that need nothing but the request: ids, codes, metadata, times, postings.

They raise the first broken rule in a fixed order, pinned by the precedence
tests: ids, then code, then metadata, then times, then the posting count,
then each posting in request order (amount type, sign, size, repeated
account), then the balance of debits and credits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec

from timebank.ledger.errors import (
    AccountRepeated,
    AmountNotInteger,
    AmountNotPositive,
    AmountTooLarge,
    BoundsInvalid,
    CodeNotPrintable,
    CodeTooLong,
    IdInvalid,
    MetadataInvalid,
    PostingCountOutOfRange,
    TimestampNotAware,
    TimestampOutOfRange,
    TransactionUnbalanced,
)
from timebank.ledger.limits import (
    AMOUNT_MINUTES_MAX,
    BALANCE_MINUTES_LIMIT,
    CODE_LENGTH_MAX,
    ID_LENGTH_MAX,
    METADATA_BYTES_MAX,
    POSTINGS_PER_TRANSACTION_MAX,
    POSTINGS_PER_TRANSACTION_MIN,
    RESERVED_ID_PREFIX,
    TIMESTAMP_END,
    TIMESTAMP_MIN,
)
from timebank.ledger.model import Posting, Side

__all__ = [
    "check_aware",
    "check_bounds",
    "check_code",
    "check_id",
    "check_metadata",
    "check_metadata_types",
    "check_postings",
]

_encode_json = msgspec.json.encode


def check_id(field: str, value: object, *, reserved_ok: bool = False) -> str:
    """An id is 1 to 128 printable, non-space characters."""
    if type(value) is not str:
        raise IdInvalid(field=field, value=repr(value), reason="it is not a string")
    if not 0 < len(value) <= ID_LENGTH_MAX:
        raise IdInvalid(field=field, value=value[:ID_LENGTH_MAX], reason="length must be 1 to 128")
    # isprintable() is False for every whitespace character except the plain space.
    if not value.isprintable() or " " in value:
        raise IdInvalid(field=field, value=value, reason="it has spaces or control characters")
    if not reserved_ok and value.startswith(RESERVED_ID_PREFIX):
        raise IdInvalid(field=field, value=value, reason="ids starting with '~' are reserved")
    return value


def check_code(code: str) -> None:
    """A code is at most 64 printable characters (every store can keep it as text)."""
    assert type(code) is str, "code must be a string"
    if len(code) > CODE_LENGTH_MAX:
        raise CodeTooLong(length=len(code), maximum=CODE_LENGTH_MAX)
    if not code.isprintable():
        raise CodeNotPrintable(value=code)


def check_metadata_types(metadata: object) -> None:
    """Metadata is a mapping of str to str (anything else cannot be stored faithfully)."""
    if not isinstance(metadata, Mapping):
        raise MetadataInvalid(reason="it is not a mapping")
    for key, value in metadata.items():
        if type(key) is not str or type(value) is not str:
            raise MetadataInvalid(reason="keys and values must be strings")


def check_metadata(metadata: object) -> None:
    """Metadata is a mapping of str to str whose compact JSON fits the size limit."""
    check_metadata_types(metadata)
    if not metadata:
        return
    assert isinstance(metadata, Mapping)
    size = len(_encode_json(metadata))
    if size > METADATA_BYTES_MAX:
        raise MetadataInvalid(reason=f"{size} bytes of JSON; at most {METADATA_BYTES_MAX}")


def check_aware(field: str, moment: datetime | None) -> None:
    """A caller's moment carries a time zone and falls in the years 1900 to 2199 (UTC)."""
    if moment is None:
        return
    if type(moment) is not datetime or moment.utcoffset() is None:
        raise TimestampNotAware(field=field)
    try:
        utc: datetime | None = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 has no UTC time
        utc = None
    if utc is None or not TIMESTAMP_MIN <= utc < TIMESTAMP_END:
        raise TimestampOutOfRange(field=field, value=moment.isoformat()[:40])


def check_postings(postings: object) -> tuple[Posting, ...]:
    """Shape rules of a list of postings; returns them as a tuple."""
    if not isinstance(postings, tuple | list):
        raise PostingCountOutOfRange(
            count=0, minimum=POSTINGS_PER_TRANSACTION_MIN, maximum=POSTINGS_PER_TRANSACTION_MAX
        )
    count = len(postings)
    if count == 2:
        return _check_pair(postings)
    if not POSTINGS_PER_TRANSACTION_MIN <= count <= POSTINGS_PER_TRANSACTION_MAX:
        raise PostingCountOutOfRange(
            count=count, minimum=POSTINGS_PER_TRANSACTION_MIN, maximum=POSTINGS_PER_TRANSACTION_MAX
        )
    debits = credits = 0
    seen: set[str] = set()
    for posting in postings:
        assert type(posting) is Posting, "postings must be Posting values"
        amount = posting.amount_minutes
        if type(amount) is not int or not 0 < amount <= AMOUNT_MINUTES_MAX:
            _reject_amount(posting.account_id, amount)
        account_id = posting.account_id
        if account_id in seen:
            raise AccountRepeated(account_id=account_id)
        seen.add(account_id)
        if posting.side is Side.DEBIT:
            debits += amount
        else:
            credits += amount
    if debits != credits:
        raise TransactionUnbalanced(debits_minutes=debits, credits_minutes=credits)
    return tuple(postings)


def _check_pair(postings: tuple[Posting, ...] | list[Posting]) -> tuple[Posting, ...]:
    """``check_postings`` for the common two-posting transfer, with the same order of rules."""
    first, second = postings
    assert type(first) is Posting, "postings must be Posting values"
    assert type(second) is Posting, "postings must be Posting values"
    for posting in postings:
        amount = posting.amount_minutes
        if type(amount) is not int or not 0 < amount <= AMOUNT_MINUTES_MAX:
            _reject_amount(posting.account_id, amount)
    if first.account_id == second.account_id:
        raise AccountRepeated(account_id=first.account_id)
    if first.side is second.side or first.amount_minutes != second.amount_minutes:
        debits = sum(p.amount_minutes for p in postings if p.side is Side.DEBIT)
        raise TransactionUnbalanced(
            debits_minutes=debits,
            credits_minutes=sum(p.amount_minutes for p in postings if p.side is Side.CREDIT),
        )
    return postings if type(postings) is tuple else tuple(postings)


def _reject_amount(account_id: str, amount: object) -> None:
    if type(amount) is not int:
        raise AmountNotInteger(account_id=account_id, value=repr(amount))
    if amount <= 0:
        raise AmountNotPositive(account_id=account_id, amount_minutes=amount)
    raise AmountTooLarge(account_id=account_id, amount_minutes=amount, maximum=AMOUNT_MINUTES_MAX)


def check_bounds(minimum: object, maximum: object) -> None:
    """Bounds are integers (or None for unbounded) with minimum <= maximum inside the limit."""
    for value in (minimum, maximum):
        if value is not None and type(value) is not int:
            raise BoundsInvalid(
                balance_minutes_min=None, balance_minutes_max=None, reason="bounds must be integers"
            )
    low = minimum if isinstance(minimum, int) else None
    high = maximum if isinstance(maximum, int) else None
    for value in (low, high):
        if value is not None and abs(value) > BALANCE_MINUTES_LIMIT:
            raise BoundsInvalid(
                balance_minutes_min=low, balance_minutes_max=high, reason="outside +/- 2**62"
            )
    if low is not None and low > 0:
        raise BoundsInvalid(
            balance_minutes_min=low, balance_minutes_max=high, reason="a new account starts at 0"
        )
    if high is not None and high < 0:
        raise BoundsInvalid(
            balance_minutes_min=low, balance_minutes_max=high, reason="a new account starts at 0"
        )
