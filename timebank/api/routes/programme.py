"""The routes of ``book.programme``: policies, sponsor and merchant accounts, balances, expiry.

Expiry runs over every community at once, so only administrators and
integrations run it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Struct

from timebank.api.auth import Principal
from timebank.api.deps import (
    act,
    look,
)
from timebank.api.routes.paths import BOOK
from timebank.bank import BankBook, MinutesExpiry, Programme
from timebank.bank.commands import (
    ActivatePolicy,
    AddMerchant,
    AddPolicy,
    AddSponsor,
    ExpireMinutes,
)
from timebank.community.model import PolicyVersion
from timebank.community.policy import PolicyRules

__all__ = ["ROUTES", "policy"]


class ProgrammeBalance(Struct, frozen=True, kw_only=True):
    account_id: str
    posted_minutes: int


class Liability(Struct, frozen=True, kw_only=True):
    liability_minutes: int
    """What the programme owes its members: the sum of their purses."""


@get(BOOK + "/policy", tags=["programme"], summary="The policy version in force")
async def policy(request: Request[Any, Any, Any], book_id: FromPath[str]) -> PolicyVersion:
    return await look(request, book_id, lambda p, book: book.programme.policy(actor=p.actor))


@get(BOOK + "/policies", tags=["programme"], summary="Every policy version, drafts included")
async def policies(request: Request[Any, Any, Any], book_id: FromPath[str]) -> list[PolicyVersion]:
    return await look(request, book_id, lambda p, book: book.programme.policies(actor=p.actor))


@post(BOOK + "/policies", tags=["programme"], summary="Add a draft policy version")
async def add_policy(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[PolicyRules]
) -> PolicyVersion:
    def call(principal: Principal, book: BankBook) -> PolicyVersion:
        return book.programme.add_policy(AddPolicy(rules=data), actor=principal.actor)

    return await act(request, book_id, PolicyVersion, call)


@post(
    BOOK + "/policies/{version:int}/activate",
    tags=["programme"],
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


@post(BOOK + "/sponsors", tags=["programme"], summary="Add a sponsor and its account")
async def add_sponsor(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[AddSponsor]
) -> Programme:
    def call(principal: Principal, book: BankBook) -> Programme:
        return book.programme.add_sponsor(data, actor=principal.actor)

    return await act(request, book_id, Programme, call)


@post(BOOK + "/merchants", tags=["programme"], summary="Add a partner merchant and its account")
async def add_merchant(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[AddMerchant]
) -> Programme:
    def call(principal: Principal, book: BankBook) -> Programme:
        return book.programme.add_merchant(data, actor=principal.actor)

    return await act(request, book_id, Programme, call)


@get(
    BOOK + "/programme-accounts/{account_id:str}/balance",
    tags=["programme"],
    summary="The posted minutes of a programme account (pool, issuance, sponsor.x...)",
)
async def programme_balance(
    request: Request[Any, Any, Any], book_id: FromPath[str], account_id: FromPath[str]
) -> ProgrammeBalance:
    def call(principal: Principal, book: BankBook) -> ProgrammeBalance:
        minutes = book.statements.programme_balance(account_id, actor=principal.actor)
        return ProgrammeBalance(account_id=account_id, posted_minutes=minutes)

    return await look(request, book_id, call)


@get(BOOK + "/liability", tags=["programme"], summary="What the programme owes its members")
async def liability(request: Request[Any, Any, Any], book_id: FromPath[str]) -> Liability:
    def call(principal: Principal, book: BankBook) -> Liability:
        return Liability(liability_minutes=book.statements.liability(actor=principal.actor))

    return await look(request, book_id, call)


@post(
    BOOK + "/expiry",
    tags=["programme"],
    summary="Expire old minutes for a batch of members (administrators)",
    status_code=200,
)
async def expire_minutes(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[ExpireMinutes]
) -> MinutesExpiry:
    def call(principal: Principal, book: BankBook) -> MinutesExpiry:
        return book.programme.expire_minutes(data, actor=principal.actor)

    return await act(request, book_id, MinutesExpiry, call)


ROUTES = [
    policy,
    policies,
    add_policy,
    activate_policy,
    add_sponsor,
    add_merchant,
    programme_balance,
    liability,
    expire_minutes,
]
