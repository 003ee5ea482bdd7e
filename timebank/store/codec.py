"""Conversions between the ledger's values and table rows.

Requests are kept as msgspec JSON. A committed request always decodes back to
its exact type; a rejected one may carry values of the wrong type (a float
amount, a naive time), so it falls back to a lenient rebuild that keeps them,
which lets a retry of the identical request compare equal and get the same
error again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeAlias, cast

import msgspec
from sqlalchemy.engine import Row

from timebank.ledger.model import (
    Account,
    Hold,
    HoldRecord,
    HoldStatus,
    Kind,
    PostHold,
    Posting,
    Request,
    Reverse,
    Side,
    Transaction,
    Transfer,
    VoidHold,
)

__all__ = [
    "AnyRow",
    "account_from_row",
    "account_row",
    "balances_row",
    "decode_request",
    "encode_request",
    "hold_from_row",
    "posting_from_row",
    "transaction_from_row",
    "transaction_row",
]

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
"""A result row of any shape."""

_encode = msgspec.json.Encoder().encode
_decode_request: Callable[[str], Request] = msgspec.json.Decoder(Request).decode
_decode_any = msgspec.json.decode
_REQUEST_TYPES: dict[str, type[Any]] = {
    "transfer": Transfer,
    "hold": Hold,
    "post": PostHold,
    "void": VoidHold,
    "reversal": Reverse,
}
_TIME_FIELDS = frozenset({"effective_at", "expires_at"})


def encode_request(request: Request) -> str:
    return _encode(request).decode()


def decode_request(text: str) -> Request:
    try:
        return _decode_request(text)
    except msgspec.ValidationError:
        return _lenient_request(text)


def _lenient_request(text: str) -> Request:
    """Rebuild a request that failed typed decoding, keeping its odd values as they were."""
    data = _decode_any(text)
    assert isinstance(data, dict)
    cls = _REQUEST_TYPES[data.pop("type")]
    values: dict[str, Any] = {}
    for field in cls.__struct_fields__:
        if field not in data:
            continue
        value = data[field]
        if field == "postings" and isinstance(value, list):
            value = tuple(_lenient_posting(item) for item in value)
        elif field in _TIME_FIELDS and isinstance(value, str):
            value = _lenient_time(value)
        values[field] = value
    return cast(Request, cls(**values))


def _lenient_posting(item: object) -> object:
    if not isinstance(item, dict):
        return item
    side = item.get("side")
    return Posting(
        account_id=item.get("account_id"),  # type: ignore[arg-type]
        side=Side(side) if side in ("debit", "credit") else side,  # type: ignore[arg-type]
        amount_minutes=item.get("amount_minutes"),  # type: ignore[arg-type]
    )


def _lenient_time(value: str) -> object:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return value


def account_row(account: Account) -> dict[str, Any]:
    return {
        "book_id": account.book_id,
        "id": account.account_id,
        "balance_minutes_min": account.balance_minutes_min,
        "balance_minutes_max": account.balance_minutes_max,
        "metadata": account.metadata,
        "opened_at": account.opened_at,
        "closed_at": account.closed_at,
        "posted_minutes": account.posted_minutes,
        "debits_pending_minutes": account.debits_pending_minutes,
        "credits_pending_minutes": account.credits_pending_minutes,
    }


def balances_row(account: Account) -> dict[str, Any]:
    """The bind values of an account update (``b_`` names avoid clashing with columns)."""
    return {
        "b_book_id": account.book_id,
        "b_id": account.account_id,
        "b_closed_at": account.closed_at,
        "b_posted": account.posted_minutes,
        "b_debits_pending": account.debits_pending_minutes,
        "b_credits_pending": account.credits_pending_minutes,
    }


def account_from_row(row: AnyRow) -> Account:
    return Account(
        book_id=row.book_id,
        account_id=row.id,
        balance_minutes_min=row.balance_minutes_min,
        balance_minutes_max=row.balance_minutes_max,
        metadata=row.metadata,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        posted_minutes=row.posted_minutes,
        debits_pending_minutes=row.debits_pending_minutes,
        credits_pending_minutes=row.credits_pending_minutes,
    )


def transaction_row(transaction: Transaction) -> dict[str, Any]:
    return {
        "book_id": transaction.book_id,
        "sequence": transaction.sequence,
        "transaction_id": transaction.transaction_id,
        "kind": transaction.kind.value,
        "code": transaction.code,
        "metadata": transaction.metadata,
        "recorded_at": transaction.recorded_at,
        "effective_at": transaction.effective_at,
        "expires_at": transaction.expires_at,
        "related_id": transaction.related_id,
        "previous_hash": transaction.previous_hash,
        "hash": transaction.hash,
    }


def posting_from_row(row: AnyRow) -> Posting:
    return Posting(
        account_id=row.account_id, side=Side(row.side), amount_minutes=row.amount_minutes
    )


def transaction_from_row(row: AnyRow, postings: Sequence[Posting]) -> Transaction:
    return Transaction(
        book_id=row.book_id,
        transaction_id=row.transaction_id,
        sequence=row.sequence,
        kind=Kind(row.kind),
        postings=tuple(postings),
        code=row.code,
        metadata=row.metadata,
        recorded_at=row.recorded_at,
        effective_at=row.effective_at,
        expires_at=row.expires_at,
        related_id=row.related_id,
        previous_hash=row.previous_hash,
        hash=row.hash,
    )


def hold_from_row(row: AnyRow, postings: Sequence[Posting]) -> HoldRecord:
    return HoldRecord(
        hold_id=row.hold_id,
        postings=tuple(postings),
        expires_at=row.expires_at,
        status=HoldStatus(row.status),
        resolved_by=row.resolved_by,
    )
