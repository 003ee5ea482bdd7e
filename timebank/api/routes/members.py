"""Members, their relations and proxies, balances and passbooks."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Struct

from timebank.api.auth import Principal, Role, see_member
from timebank.api.deps import Page, act, look, require_staff
from timebank.bank import BankBook, MemberBalance
from timebank.community import MemberNotFound
from timebank.community.model import (
    Member,
    MemberStatus,
    PassbookPage,
    Proxy,
    Relation,
    RelationKind,
    Vetting,
)
from timebank.community.model import Role as MemberRole

__all__ = ["ROUTES"]

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size, 1 to 500.")]


class NewMember(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    birth_date: date
    community: str
    member_id: str | None = None
    grid: str = ""
    roles: list[MemberRole] = []
    vetting: Vetting = Vetting.PENDING
    flags: list[str] = []


class MemberChange(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    grid: str | None = None
    roles: list[MemberRole] | None = None
    vetting: Vetting | None = None
    flags: list[str] | None = None
    status: MemberStatus | None = None


class NewRelation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    other_id: str
    kind: RelationKind


class NewProxy(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    proxy_id: FromPath[str]
    note: str = ""


def _in_scope(principal: Principal, community: str) -> None:
    """A coordinator registers members only in their communities."""
    if principal.role is Role.COORDINATOR and community not in principal.communities:
        raise MemberNotFound(member_id="")


BOOK = "/books/{book_id:str}"
MEMBER = BOOK + "/members/{member_id:str}"


@post(BOOK + "/members", tags=["members"], summary="Register a member")
async def register_member(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewMember]
) -> Member:
    def call(principal: Principal, book: BankBook) -> Member:
        require_staff(principal, "register a member")
        _in_scope(principal, data.community)
        return book.register_member(
            name=data.name,
            birth_date=data.birth_date,
            community=data.community,
            member_id=data.member_id,
            grid=data.grid,
            roles=frozenset(data.roles),
            vetting=data.vetting,
            flags=frozenset(data.flags),
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
    def call(principal: Principal, book: BankBook) -> Page[Member]:
        require_staff(principal, "list members")
        chosen = community
        if principal.role is Role.COORDINATOR:
            if chosen is None and len(principal.communities) == 1:
                chosen = principal.communities[0]
            if chosen not in principal.communities:
                return Page(items=[])
        found = book.members(community=chosen, after=after, limit=limit)
        return Page(items=found, next=found[-1].member_id if len(found) == limit else None)

    return await look(request, book_id, call)


@get(MEMBER, tags=["members"], summary="One member")
async def get_member(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> Member:
    return await look(request, book_id, lambda p, book: see_member(p, book, member_id))


@patch(MEMBER, tags=["members"], summary="Change a member's grid, roles, vetting, flags or status")
async def update_member(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[MemberChange],
) -> Member:
    def call(principal: Principal, book: BankBook) -> Member:
        see_member(principal, book, member_id)
        return book.update_member(
            member_id,
            grid=data.grid,
            roles=None if data.roles is None else frozenset(data.roles),
            vetting=data.vetting,
            flags=None if data.flags is None else frozenset(data.flags),
            status=data.status,
            actor=principal.actor,
        )

    return await act(request, book_id, Member, call)


@post(MEMBER + "/relations", tags=["members"], summary="Record a relation (and its inverse)")
async def relate(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[NewRelation],
) -> Relation:
    def call(principal: Principal, book: BankBook) -> Relation:
        see_member(principal, book, member_id)
        return book.relate(member_id, data.other_id, data.kind, actor=principal.actor)

    return await act(request, book_id, Relation, call)


@get(MEMBER + "/relations", tags=["members"], summary="A member's relations")
async def relations(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> list[Relation]:
    def call(principal: Principal, book: BankBook) -> list[Relation]:
        see_member(principal, book, member_id)
        return book.relations(member_id)

    return await look(request, book_id, call)


@post(MEMBER + "/proxies", tags=["members"], summary="Authorise someone to act for the member")
async def authorise_proxy(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[NewProxy],
) -> Proxy:
    def call(principal: Principal, book: BankBook) -> Proxy:
        see_member(principal, book, member_id)
        return book.authorise_proxy(member_id, data.proxy_id, note=data.note, actor=principal.actor)

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
        see_member(principal, book, member_id)
        return book.revoke_proxy(member_id, proxy_id, actor=principal.actor)

    return await act(request, book_id, Proxy, call)


@get(MEMBER + "/proxies", tags=["members"], summary="Who may act for the member")
async def proxies(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> list[Proxy]:
    def call(principal: Principal, book: BankBook) -> list[Proxy]:
        see_member(principal, book, member_id)
        return book.proxies(member_id)

    return await look(request, book_id, call)


@get(MEMBER + "/balance", tags=["accounts"], summary="A member's purses")
async def balance(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> MemberBalance:
    def call(principal: Principal, book: BankBook) -> MemberBalance:
        see_member(principal, book, member_id)
        return book.balance(member_id)

    return await look(request, book_id, call)


@get(MEMBER + "/passbook", tags=["accounts"], summary="A page of a member's passbook (存折)")
async def passbook(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    after: FromQuery[str | None] = None,
    limit: Limit = 50,
) -> PassbookPage:
    def call(principal: Principal, book: BankBook) -> PassbookPage:
        see_member(principal, book, member_id)
        return book.passbook(member_id, after=after, limit=limit)

    return await look(request, book_id, call)


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
    balance,
    passbook,
]
