"""Conversions between the ledger's values and table rows.

Requests are kept as msgspec JSON. A committed request always decodes back to
its exact type; a rejected one may carry values of the wrong type (a float
amount, a naive time), so it falls back to a lenient rebuild that keeps them,
which lets a retry of the identical request compare equal and get the same
error again.

Rows are read as the database stores them: times and JSON as their stored
text (``statements.stored_text``), so that no driver or SQLAlchemy type ever
fails on a value. The ``*_from_row`` functions then check every value and
raise ``StoredRowInvalid``, naming the table, the row and the column, for one
that cannot be the ledger's (text where a number belongs, a time that does not
parse, a side that does not exist): a row edited behind the ledger's back is
reported, never a decoding error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar, cast

import msgspec
from sqlalchemy.engine import Row

from timebank.ledger.model import (
    Account,
    BookHead,
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
from timebank.ledger.port import StoredHold, StoredOutcome, StoredReversal, StoredRowInvalid

__all__ = [
    "AnyRow",
    "account_from_row",
    "account_row",
    "balances_from_row",
    "balances_row",
    "decode_request",
    "encode_request",
    "entry_values",
    "head_from_row",
    "hold_from_row",
    "outcome_from_row",
    "posting_from_row",
    "reversal_from_row",
    "stored_hold_from_row",
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
    """Rebuild a request that failed typed decoding, keeping its odd values as they were.

    Raises ``ValueError`` (or msgspec's ``DecodeError``) for text that is no request at all.
    """
    data = _decode_any(text)
    if not isinstance(data, dict):
        raise ValueError("a request is a JSON object")
    tag = data.pop("type", None)
    cls = _REQUEST_TYPES.get(tag) if type(tag) is str else None
    if cls is None:
        raise ValueError(f"no request type {tag!r}")
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


# --- reading rows: every value checked --------------------------------------------------


class _Bad(Exception):
    """Internal: one stored value is not what its column must hold."""


_Decode: TypeAlias = Callable[[Any], Any]
E = TypeVar("E", Kind, Side, HoldStatus)
_decode_metadata: Callable[[str], dict[str, str]] = msgspec.json.Decoder(dict[str, str]).decode


def _show(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _int(value: Any) -> int:
    if type(value) is int:
        return value
    raise _Bad(f"is {_show(value)}, not an integer")


def _optional_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _str(value: Any) -> str:
    if type(value) is str:
        return value
    raise _Bad(f"is {_show(value)}, not text")


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _time(value: Any) -> datetime:
    """A stored time: SQLite's naive UTC text, PostgreSQL's text with an offset."""
    try:
        if type(value) is str:
            moment = datetime.fromisoformat(value)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    raise _Bad(f"is {_show(value)}, not a time")


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def _metadata(value: Any) -> dict[str, str]:
    if type(value) is str:
        try:
            return _decode_metadata(value)
        except msgspec.DecodeError as error:
            raise _Bad(f"is {_show(value)}, not a JSON object of strings: {error}") from None
    raise _Bad(f"is {_show(value)}, not JSON text")


def _enum(kind: type[E]) -> Callable[[Any], E]:
    members = {member.value: member for member in kind}

    def decode(value: Any) -> E:
        member = members.get(value) if type(value) is str else None
        if member is None:
            raise _Bad(f"is {_show(value)}, not one of {', '.join(members)}")
        return member

    return decode


def _request(value: Any) -> Request | None:
    if value is None:
        return None
    if type(value) is str:
        try:
            return decode_request(value)
        except (msgspec.MsgspecError, ValueError, TypeError) as error:
            raise _Bad(f"is {_show(value)}, not a request: {error}") from None
    raise _Bad(f"is {_show(value)}, not JSON text")


def _error(value: Any) -> dict[str, object] | None:
    """A refusal's error: JSON text, or (from psycopg, outside ``stored_text``) its dict."""
    if value is None:
        return None
    error = value
    if type(value) is str:
        try:
            error = _decode_any(value)
        except msgspec.DecodeError as problem:
            raise _Bad(f"is {_show(value)}, not JSON: {problem}") from None
    if type(error) is dict and type(error.get("code")) is str:
        return cast(dict[str, object], error)
    raise _Bad(f"is {_show(value)}, not a JSON object with a code")


def _decoded(
    table: str,
    row: Sequence[Any],
    columns: Sequence[tuple[str, _Decode]],
    *,
    sequence: object = None,
    key: object = None,
) -> list[Any]:
    """Each value of ``row`` through its column's decoder; the first bad one is reported."""
    values = []
    for (column, decode), value in zip(columns, row, strict=True):
        try:
            values.append(decode(value))
        except _Bad as bad:
            raise StoredRowInvalid(
                table=table,
                sequence=sequence if type(sequence) is int else None,
                key=key if type(key) is str else None,
                detail=f"{column} {bad}",
            ) from None
    return values


_kind, _side, _status = _enum(Kind), _enum(Side), _enum(HoldStatus)

HEAD_COLUMNS = (("head_sequence", _int), ("head_hash", _str), ("head_recorded_at", _optional_time))
ACCOUNT_COLUMNS = (
    ("book_id", _str),
    ("id", _str),
    ("balance_minutes_min", _optional_int),
    ("balance_minutes_max", _optional_int),
    ("metadata", _metadata),
    ("opened_at", _time),
    ("closed_at", _optional_time),
    ("posted_minutes", _int),
    ("debits_pending_minutes", _int),
    ("credits_pending_minutes", _int),
)
TRANSACTION_COLUMNS = (
    ("book_id", _str),
    ("sequence", _int),
    ("transaction_id", _str),
    ("kind", _kind),
    ("code", _str),
    ("metadata", _metadata),
    ("recorded_at", _time),
    ("effective_at", _optional_time),
    ("expires_at", _optional_time),
    ("related_id", _optional_str),
    ("previous_hash", _str),
    ("hash", _str),
)
POSTING_COLUMNS = (
    ("sequence", _int),
    ("posting_index", _int),
    ("account_id", _str),
    ("side", _side),
    ("amount_minutes", _int),
)
BALANCE_COLUMNS = (
    ("posted_minutes", _int),
    ("debits_pending_minutes", _int),
    ("credits_pending_minutes", _int),
)
ENTRY_TRANSACTION_COLUMNS = (
    ("transaction_id", _str),
    ("kind", _kind),
    ("code", _str),
    ("recorded_at", _time),
    ("effective_at", _optional_time),
)
HOLD_COLUMNS = (
    ("hold_id", _str),
    ("sequence", _int),
    ("status", _status),
    ("expires_at", _optional_time),
    ("resolved_by", _optional_str),
)
REVERSAL_COLUMNS = (("original_id", _str), ("reversal_id", _str))
OUTCOME_COLUMNS = (
    ("transaction_id", _str),
    ("request", _request),
    ("sequence", _optional_int),
    ("error", _error),
)


def head_from_row(book_id: str, row: AnyRow) -> BookHead:
    sequence, hash_, recorded_at = _decoded("books", row, HEAD_COLUMNS, key=book_id)
    return BookHead(book_id=book_id, sequence=sequence, hash=hash_, recorded_at=recorded_at)


def account_from_row(row: AnyRow) -> Account:
    values = _decoded("accounts", row, ACCOUNT_COLUMNS, key=row[1])
    (book_id, account_id, minimum, maximum, metadata, opened_at, closed_at) = values[:7]
    posted, debits_pending, credits_pending = values[7:]
    return Account(
        book_id=book_id,
        account_id=account_id,
        balance_minutes_min=minimum,
        balance_minutes_max=maximum,
        metadata=metadata,
        opened_at=opened_at,
        closed_at=closed_at,
        posted_minutes=posted,
        debits_pending_minutes=debits_pending,
        credits_pending_minutes=credits_pending,
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


def posting_from_row(row: Sequence[Any]) -> tuple[int, int, Posting]:
    """A postings row as (sequence, posting index, posting)."""
    sequence, index, account_id, side, amount = _decoded(
        "postings", row, POSTING_COLUMNS, sequence=row[0]
    )
    return sequence, index, Posting(account_id=account_id, side=side, amount_minutes=amount)


def transaction_from_row(row: AnyRow, postings: Sequence[Posting]) -> Transaction:
    values = _decoded("transactions", row, TRANSACTION_COLUMNS, sequence=row[1], key=row[2])
    book_id, sequence, transaction_id, kind, code, metadata = values[:6]
    recorded_at, effective_at, expires_at, related_id, previous_hash, hash_ = values[6:]
    return Transaction(
        book_id=book_id,
        transaction_id=transaction_id,
        sequence=sequence,
        kind=kind,
        postings=tuple(postings),
        code=code,
        metadata=metadata,
        recorded_at=recorded_at,
        effective_at=effective_at,
        expires_at=expires_at,
        related_id=related_id,
        previous_hash=previous_hash,
        hash=hash_,
    )


def balances_from_row(row: Sequence[Any], sequence: object) -> tuple[int, int, int]:
    """(posted, debits pending, credits pending) of a postings row."""
    posted, debits_pending, credits_pending = _decoded(
        "postings", row, BALANCE_COLUMNS, sequence=sequence
    )
    return posted, debits_pending, credits_pending


def entry_values(row: AnyRow) -> tuple[int, tuple[int, int, int], list[Any]]:
    """A statement row: its sequence, the balances after it, and its record's
    (transaction id, kind, code, recorded at, effective at)."""
    sequence = row[0]
    if type(sequence) is not int:
        _decoded("postings", (sequence,), (("sequence", _int),))
    balances = balances_from_row(row[1:4], sequence)
    record = _decoded("transactions", row[4:], ENTRY_TRANSACTION_COLUMNS, sequence=sequence)
    return sequence, balances, record


def _hold_values(row: Sequence[Any]) -> list[Any]:
    return _decoded("holds", row, HOLD_COLUMNS, sequence=row[1], key=row[0])


def hold_from_row(row: Sequence[Any], postings: Sequence[Posting]) -> HoldRecord:
    hold_id, _sequence, status, expires_at, resolved_by = _hold_values(row)
    return HoldRecord(
        hold_id=hold_id,
        postings=tuple(postings),
        expires_at=expires_at,
        status=status,
        resolved_by=resolved_by,
    )


def stored_hold_from_row(row: AnyRow) -> StoredHold:
    hold_id, sequence, status, expires_at, resolved_by = _hold_values(row)
    return StoredHold(
        hold_id=hold_id,
        sequence=sequence,
        status=status,
        expires_at=expires_at,
        resolved_by=resolved_by,
    )


def reversal_from_row(row: Sequence[Any]) -> StoredReversal:
    original_id, reversal_id = _decoded("reversals", row, REVERSAL_COLUMNS, key=row[0])
    return StoredReversal(original_id=original_id, reversal_id=reversal_id)


def outcome_from_row(row: Sequence[Any]) -> StoredOutcome:
    """A requests row, as (transaction_id, request, sequence, error)."""
    transaction_id, request, sequence, error = _decoded(
        "requests", row, OUTCOME_COLUMNS, sequence=row[2], key=row[0]
    )
    return StoredOutcome(
        transaction_id=transaction_id, sequence=sequence, request=request, error=error
    )
