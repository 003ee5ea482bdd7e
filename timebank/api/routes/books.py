"""Books (programmes), their policies and programme accounts, and the raw ledger.

The ``/ledger`` routes are for administrators and integrations: other systems
that keep their own transactions in a book's ledger. On them the caller's
``transaction_id`` is the idempotency key: the same request again returns the
same transaction (or the same refusal), a different request under the same id
is refused with 409 ``idempotency_conflict``. An ``Idempotency-Key`` header, if
sent, must equal the ``transaction_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from litestar import Request, get, post
from litestar.exceptions import ValidationException
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta, Struct

from timebank.api.auth import Principal, Role
from timebank.api.deps import (
    IDEMPOTENCY_HEADER,
    act,
    bank_of,
    in_thread,
    look,
    open_book,
    principal_of,
)
from timebank.bank import SYSTEM, BankBook, Programme
from timebank.bank.commands import ActivatePolicy, AddMerchant, AddPolicy, AddSponsor
from timebank.community import ActorNotAuthorised
from timebank.community.model import PolicyVersion
from timebank.community.policy import PolicyRules
from timebank.ledger import (
    Account,
    Book,
    HoldRecord,
    Side,
    StatementPage,
    Transaction,
    VerifyReport,
)
from timebank.ledger import Posting as LedgerPosting
from timebank.ledger.limits import POSTINGS_PER_TRANSACTION_MAX

__all__ = ["ROUTES"]

T = TypeVar("T")
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size, 1 to 500.")]
After = Annotated[
    int | None, QueryParameter(ge=0, le=2**62, description="A statement's ``next_after``.")
]
Metadata = Annotated[dict[str, str], Meta(max_length=64)]


class NewBook(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    book_id: str
    preset: str
    """A preset: ``nanjing``, ``shanghai``, ``hangzhou_xihu``, ``ruian`` or ``timeoverflow``."""


class BookCreated(Struct, frozen=True, kw_only=True):
    book_id: str
    policy: PolicyVersion


class ProgrammeBalance(Struct, frozen=True, kw_only=True):
    account_id: str
    posted_minutes: int


class Liability(Struct, frozen=True, kw_only=True):
    liability_minutes: int
    """What the programme owes its members: the sum of their purses."""


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


BOOKS = "/books"
BOOK = BOOKS + "/{book_id:str}"
LEDGER = BOOK + "/ledger"


@get(BOOKS, tags=["books"], summary="The books the caller may open")
async def list_books(request: Request[Any, Any, Any]) -> list[str]:
    principal = principal_of(request)
    ids = await in_thread(bank_of(request).book_ids)
    return [book_id for book_id in ids if principal.may_open(book_id)]


@post(BOOKS, tags=["books"], summary="Create a book with a preset policy (administrators)")
async def create_book(request: Request[Any, Any, Any], data: JSONBody[NewBook]) -> BookCreated:
    principal = principal_of(request)
    if principal.role is not Role.ADMIN or not principal.may_open(data.book_id):
        raise ActorNotAuthorised(actor=principal.subject, action="create a book", member_id="")

    def call() -> BookCreated:
        book = bank_of(request).create_book(data.book_id, data.preset, actor=principal.actor)
        return BookCreated(book_id=book.book_id, policy=book.programme.policy())

    return await in_thread(call)


@get(BOOK + "/policy", tags=["books"], summary="The policy version in force")
async def policy(request: Request[Any, Any, Any], book_id: FromPath[str]) -> PolicyVersion:
    return await look(request, book_id, lambda p, book: book.programme.policy(actor=p.actor))


@get(BOOK + "/policies", tags=["books"], summary="Every policy version, drafts included")
async def policies(request: Request[Any, Any, Any], book_id: FromPath[str]) -> list[PolicyVersion]:
    return await look(request, book_id, lambda p, book: book.programme.policies(actor=p.actor))


@post(BOOK + "/policies", tags=["books"], summary="Add a draft policy version")
async def add_policy(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[PolicyRules]
) -> PolicyVersion:
    def call(principal: Principal, book: BankBook) -> PolicyVersion:
        return book.programme.add_policy(AddPolicy(rules=data), actor=principal.actor)

    return await act(request, book_id, PolicyVersion, call)


@post(
    BOOK + "/policies/{version:int}/activate",
    tags=["books"],
    summary="Put a draft policy version in force",
    status_code=200,
)
async def activate_policy(
    request: Request[Any, Any, Any], book_id: FromPath[str], version: FromPath[int]
) -> PolicyVersion:
    def call(principal: Principal, book: BankBook) -> PolicyVersion:
        return book.programme.activate_policy(
            ActivatePolicy(version=version), actor=principal.actor
        )

    return await act(request, book_id, PolicyVersion, call)


@post(BOOK + "/sponsors", tags=["books"], summary="Add a sponsor and its account")
async def add_sponsor(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[AddSponsor]
) -> Programme:
    def call(principal: Principal, book: BankBook) -> Programme:
        return book.programme.add_sponsor(data, actor=principal.actor)

    return await act(request, book_id, Programme, call)


@post(BOOK + "/merchants", tags=["books"], summary="Add a partner merchant and its account")
async def add_merchant(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[AddMerchant]
) -> Programme:
    def call(principal: Principal, book: BankBook) -> Programme:
        return book.programme.add_merchant(data, actor=principal.actor)

    return await act(request, book_id, Programme, call)


@get(
    BOOK + "/programme-accounts/{account_id:str}/balance",
    tags=["books"],
    summary="The posted minutes of a programme account (pool, issuance, sponsor.x...)",
)
async def programme_balance(
    request: Request[Any, Any, Any], book_id: FromPath[str], account_id: FromPath[str]
) -> ProgrammeBalance:
    def call(principal: Principal, book: BankBook) -> ProgrammeBalance:
        minutes = book.statements.programme_balance(account_id, actor=principal.actor)
        return ProgrammeBalance(account_id=account_id, posted_minutes=minutes)

    return await look(request, book_id, call)


@get(BOOK + "/liability", tags=["books"], summary="What the programme owes its members")
async def liability(request: Request[Any, Any, Any], book_id: FromPath[str]) -> Liability:
    def call(principal: Principal, book: BankBook) -> Liability:
        return Liability(liability_minutes=book.statements.liability(actor=principal.actor))

    return await look(request, book_id, call)


@get(BOOK + "/verify", tags=["books"], summary="Recompute the hash chain, balances, statements")
async def verify(request: Request[Any, Any, Any], book_id: FromPath[str]) -> VerifyReport:
    def call(principal: Principal, book: BankBook) -> VerifyReport:
        return book.statements.verify(actor=principal.actor)

    return await look(request, book_id, call)


# --- the raw ledger ----------------------------------------------------------------------


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
        if principal.actor != SYSTEM:
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
    list_books,
    create_book,
    policy,
    policies,
    add_policy,
    activate_policy,
    add_sponsor,
    add_merchant,
    programme_balance,
    liability,
    verify,
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
