"""Books (programmes): the books a caller may open, creating one, verifying one."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Struct

from timebank.api.auth import Principal, Role
from timebank.api.deps import (
    bank_of,
    in_thread,
    look,
    principal_of,
)
from timebank.api.routes.paths import BOOK, BOOKS
from timebank.bank import BankBook
from timebank.community import ActorNotAuthorised
from timebank.community.model import PolicyVersion
from timebank.ledger import (
    VerifyReport,
)

__all__ = ["ROUTES"]


class NewBook(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    book_id: str
    preset: str
    """A preset: ``nanjing``, ``shanghai``, ``hangzhou_xihu``, ``ruian`` or ``timeoverflow``."""
    timezone: str | None = None
    """The book's IANA time zone, for good (default ``Asia/Shanghai``): its months, weeks
    and "today", and the local times of its exports and pages."""


class BookCreated(Struct, frozen=True, kw_only=True):
    book_id: str
    policy: PolicyVersion
    timezone: str


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
        book = bank_of(request).create_book(
            data.book_id, data.preset, actor=principal.actor, timezone=data.timezone
        )
        return BookCreated(
            book_id=book.book_id, policy=book.programme.policy(), timezone=book.zone.key
        )

    return await in_thread(call)


@get(BOOK + "/verify", tags=["books"], summary="Recompute the hash chain, balances, statements")
async def verify(request: Request[Any, Any, Any], book_id: FromPath[str]) -> VerifyReport:
    def call(principal: Principal, book: BankBook) -> VerifyReport:
        return book.statements.verify(actor=principal.actor)

    return await look(request, book_id, call)


ROUTES = [
    list_books,
    create_book,
    verify,
]
