"""The raw ledger of a book, for administrators and integrations.

These routes are for other systems that keep their own transactions in a book's
ledger. On them the caller's ``transaction_id`` is the idempotency key: the same
request again returns the same transaction (or the same refusal), a different
request under the same id is refused with 409 ``idempotency_conflict``. An
``Idempotency-Key`` header, if sent, must equal the ``transaction_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from litestar import Request, get, post
from litestar.exceptions import ValidationException
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta, Struct

from timebank.api.auth import SYSTEM_ROLES
from timebank.api.deps import (
    IDEMPOTENCY_HEADER,
    in_thread,
    open_book,
)
from timebank.api.routes.paths import BOOK, Limit
from timebank.community import ActorNotAuthorised
from timebank.ledger import (
    Account,
    Book,
    HoldRecord,
    Side,
    StatementPage,
    Transaction,
)
from timebank.ledger import Posting as LedgerPosting
from timebank.ledger.limits import POSTINGS_PER_TRANSACTION_MAX

__all__ = ["ROUTES", "account", "hold", "reverse", "transaction"]


T = TypeVar("T")
After = Annotated[
    int | None, QueryParameter(ge=0, le=2**62, description="A statement's ``next_after``.")
]
Metadata = Annotated[dict[str, str], Meta(max_length=64)]


class Posting(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    account_id: str
    side: Side
    amount_minutes: int

    def to_ledger(self) -> LedgerPosting:
        return LedgerPosting(
            account_id=self.account_id, side=self.side, amount_minutes=self.amount_minutes
        )


Postings = Annotated[list[Posting], Meta(max_length=POSTINGS_PER_TRANSACTION_MAX)]


class NewTransfer(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    transaction_id: str
    postings: Postings
    code: str = ""
    metadata: Metadata = {}
    effective_at: datetime | None = None


class NewHold(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    transaction_id: str
    postings: Postings
    expires_at: datetime | None = None
    code: str = ""
    metadata: Metadata = {}


class HoldPosting(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Post a hold in full, for ``amount_minutes``, or as ``postings``."""

    transaction_id: str
    amount_minutes: int | None = None
    postings: Postings | None = None
    code: str = ""
    metadata: Metadata = {}


class HoldVoiding(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    transaction_id: str
    code: str = ""
    metadata: Metadata = {}


class NewReversal(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    transaction_id: str
    reverses_id: str
    code: str = ""
    metadata: Metadata = {}


LEDGER = BOOK + "/ledger"


async def _ledger(
    request: Request[Any, Any, Any],
    book_id: str,
    call: Callable[[Book], T],
    transaction_id: str | None = None,
) -> T:
    """Run ``call(ledger_book)`` for an administrator or integration, off the event loop."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if transaction_id is not None and key not in (None, transaction_id):
        raise ValidationException("on ledger routes the Idempotency-Key is the transaction_id")

    def run() -> T:
        principal, book = open_book(request, book_id)
        if principal.role not in SYSTEM_ROLES:
            raise ActorNotAuthorised(actor=principal.subject, action="use the ledger", member_id="")
        return call(book.bank.ledger.book(book.book_id))

    return await in_thread(run)


def _postings(postings: list[Posting]) -> list[LedgerPosting]:
    return [posting.to_ledger() for posting in postings]


@post(LEDGER + "/transfers", tags=["ledger"], summary="Move posted minutes (balanced postings)")
async def transfer(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewTransfer]
) -> Transaction:
    def call(ledger: Book) -> Transaction:
        return ledger.transfer(
            data.transaction_id,
            _postings(data.postings),
            code=data.code,
            metadata=data.metadata,
            effective_at=data.effective_at,
        )

    return await _ledger(request, book_id, call, data.transaction_id)


@post(LEDGER + "/holds", tags=["ledger"], summary="Reserve minutes as pending")
async def hold(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewHold]
) -> Transaction:
    def call(ledger: Book) -> Transaction:
        return ledger.hold(
            data.transaction_id,
            _postings(data.postings),
            expires_at=data.expires_at,
            code=data.code,
            metadata=data.metadata,
        )

    return await _ledger(request, book_id, call, data.transaction_id)


@post(
    LEDGER + "/holds/{hold_id:str}/post",
    tags=["ledger"],
    summary="Post a hold in full or for fewer minutes",
)
async def post_hold(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    hold_id: FromPath[str],
    data: JSONBody[HoldPosting],
) -> Transaction:
    def call(ledger: Book) -> Transaction:
        return ledger.post_hold(
            data.transaction_id,
            hold_id,
            amount_minutes=data.amount_minutes,
            postings=None if data.postings is None else _postings(data.postings),
            code=data.code,
            metadata=data.metadata,
        )

    return await _ledger(request, book_id, call, data.transaction_id)


@post(LEDGER + "/holds/{hold_id:str}/void", tags=["ledger"], summary="Release a hold")
async def void_hold(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    hold_id: FromPath[str],
    data: JSONBody[HoldVoiding],
) -> Transaction:
    def call(ledger: Book) -> Transaction:
        return ledger.void_hold(
            data.transaction_id, hold_id, code=data.code, metadata=data.metadata
        )

    return await _ledger(request, book_id, call, data.transaction_id)


@post(LEDGER + "/reversals", tags=["ledger"], summary="Move back an earlier transfer or post")
async def reverse(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewReversal]
) -> Transaction:
    def call(ledger: Book) -> Transaction:
        return ledger.reverse(
            data.transaction_id, data.reverses_id, code=data.code, metadata=data.metadata
        )

    return await _ledger(request, book_id, call, data.transaction_id)


@get(LEDGER + "/transactions/{transaction_id:str}", tags=["ledger"], summary="One transaction")
async def transaction(
    request: Request[Any, Any, Any], book_id: FromPath[str], transaction_id: FromPath[str]
) -> Transaction:
    return await _ledger(request, book_id, lambda ledger: ledger.transaction(transaction_id))


@get(LEDGER + "/holds/{hold_id:str}", tags=["ledger"], summary="The state of one hold")
async def hold_record(
    request: Request[Any, Any, Any], book_id: FromPath[str], hold_id: FromPath[str]
) -> HoldRecord:
    return await _ledger(request, book_id, lambda ledger: ledger.hold_record(hold_id))


@get(LEDGER + "/accounts/{account_id:str}", tags=["ledger"], summary="An account and its balances")
async def account(
    request: Request[Any, Any, Any], book_id: FromPath[str], account_id: FromPath[str]
) -> Account:
    return await _ledger(request, book_id, lambda ledger: ledger.account(account_id))


@get(
    LEDGER + "/accounts/{account_id:str}/statement",
    tags=["ledger"],
    summary="A page of an account's entries, oldest first",
)
async def statement(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    account_id: FromPath[str],
    after: After = None,
    limit: Limit = 50,
) -> StatementPage:
    return await _ledger(
        request, book_id, lambda ledger: ledger.statement(account_id, after=after, limit=limit)
    )


ROUTES = [
    transfer,
    hold,
    post_hold,
    void_hold,
    reverse,
    transaction,
    hold_record,
    account,
    statement,
]
