"""The routes of ``book.members``: members, relations, proxies, death."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import Page, act, look, page_of
from timebank.api.routes.gifts import Moved
from timebank.api.routes.paths import BOOK, MEMBER, Limit
from timebank.bank import BankBook
from timebank.bank.commands import (
    AuthoriseProxy,
    RecordDeath,
    RegisterMember,
    Relate,
    RevokeProxy,
    UpdateMember,
)
from timebank.community.model import (
    Member,
    Proxy,
    Relation,
)

__all__ = ["ROUTES"]


if TYPE_CHECKING:
    AuthoriseProxyBody = AuthoriseProxy
    RecordDeathBody = RecordDeath
    RelateBody = Relate
    UpdateMemberBody = UpdateMember
else:
    AuthoriseProxyBody = body_of(AuthoriseProxy, "member_id")
    RecordDeathBody = body_of(RecordDeath, "member_id")
    RelateBody = body_of(Relate, "member_id")
    UpdateMemberBody = body_of(UpdateMember, "member_id")


@post(BOOK + "/members", tags=["members"], summary="Register a member")
async def register_member(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[RegisterMember]
) -> Member:
    def call(principal: Principal, book: BankBook) -> Member:
        return book.members.register(
            data,
            actor=principal.actor,
        )

    return await act(request, book_id, Member, call)


@get(BOOK + "/members", tags=["members"], summary="A page of members, in id order")
async def list_members(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    community: FromQuery[str | None] = None,
    after: FromQuery[str | None] = None,
    limit: Limit = 50,
) -> Page[Member]:
    """A coordinator's members: of every community they coordinate, or of ``community``."""

    def call(principal: Principal, book: BankBook) -> Page[Member]:
        found = book.members.list(
            community=community, after=after, limit=limit, actor=principal.actor
        )
        return page_of(found, limit, lambda member: member.member_id)

    return await look(request, book_id, call)


@get(MEMBER, tags=["members"], summary="One member")
async def get_member(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> Member:
    return await look(request, book_id, lambda p, book: book.members.get(member_id, actor=p.actor))


@patch(MEMBER, tags=["members"], summary="Change a member's grid, roles, vetting, flags or status")
async def update_member(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[UpdateMemberBody],
) -> Member:
    def call(principal: Principal, book: BankBook) -> Member:
        return book.members.update(
            command_of(UpdateMember, data, member_id=member_id),
            actor=principal.actor,
        )

    return await act(request, book_id, Member, call)


@post(MEMBER + "/relations", tags=["members"], summary="Record a relation (and its inverse)")
async def relate(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[RelateBody],
) -> Relation:
    def call(principal: Principal, book: BankBook) -> Relation:
        return book.members.relate(
            command_of(Relate, data, member_id=member_id),
            actor=principal.actor,
        )

    return await act(request, book_id, Relation, call)


@get(MEMBER + "/relations", tags=["members"], summary="A member's relations")
async def relations(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> list[Relation]:
    def call(principal: Principal, book: BankBook) -> list[Relation]:
        return book.members.relations(member_id, actor=principal.actor)

    return await look(request, book_id, call)


@post(MEMBER + "/proxies", tags=["members"], summary="Authorise someone to act for the member")
async def authorise_proxy(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[AuthoriseProxyBody],
) -> Proxy:
    def call(principal: Principal, book: BankBook) -> Proxy:
        return book.members.authorise_proxy(
            command_of(AuthoriseProxy, data, member_id=member_id),
            actor=principal.actor,
        )

    return await act(request, book_id, Proxy, call)


@delete(
    MEMBER + "/proxies/{proxy_id:str}",
    tags=["members"],
    summary="Revoke a proxy",
    status_code=200,
)
async def revoke_proxy(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    proxy_id: FromPath[str],
) -> Proxy:
    def call(principal: Principal, book: BankBook) -> Proxy:
        return book.members.revoke_proxy(
            RevokeProxy(member_id=member_id, proxy_id=proxy_id), actor=principal.actor
        )

    return await act(request, book_id, Proxy, call)


@get(MEMBER + "/proxies", tags=["members"], summary="Who may act for the member")
async def proxies(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> list[Proxy]:
    def call(principal: Principal, book: BankBook) -> list[Proxy]:
        return book.members.proxies(member_id, actor=principal.actor)

    return await look(request, book_id, call)


MAYBE_ID: Any = str | None
"""What a replayed ``record_death`` decodes into: a transaction id, or None."""


@post(
    BOOK + "/members/{member_id:str}/death",
    tags=["members"],
    summary="Record a death; by policy the minutes stay, go to heirs or to the pool",
    status_code=200,
)
async def record_death(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[RecordDeathBody],
) -> Moved:
    def call(principal: Principal, book: BankBook) -> str | None:
        return book.members.record_death(
            command_of(RecordDeath, data, member_id=member_id),
            actor=principal.actor,
        )

    return Moved(transaction_id=await act(request, book_id, MAYBE_ID, call))


ROUTES = [
    register_member,
    list_members,
    get_member,
    update_member,
    relate,
    relations,
    authorise_proxy,
    revoke_proxy,
    proxies,
    record_death,
]
