"""Members, their relations and proxies, balances and passbooks.

Handlers decode, call the facade as the caller (``principal.actor``) and
encode: the facade decides who may see and do what, in the same snapshot or
unit as the work.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Struct

from timebank.api.auth import Principal
from timebank.api.deps import Page, act, look, page_of
from timebank.bank import BankBook, MemberBalance
from timebank.bank.commands import AuthoriseProxy, RegisterMember, Relate, RevokeProxy, UpdateMember
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
    coordinates: list[str] = []
    """Communities a coordinator serves besides their own (administrators only)."""


class MemberChange(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    grid: str | None = None
    roles: list[MemberRole] | None = None
    vetting: Vetting | None = None
    flags: list[str] | None = None
    status: MemberStatus | None = None
    coordinates: list[str] | None = None


class NewRelation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    other_id: str
    kind: RelationKind


class NewProxy(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    proxy_id: FromPath[str]
    note: str = ""


BOOK = "/books/{book_id:str}"
MEMBER = BOOK + "/members/{member_id:str}"


@post(BOOK + "/members", tags=["members"], summary="Register a member")
async def register_member(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewMember]
) -> Member:
    def call(principal: Principal, book: BankBook) -> Member:
        return book.members.register(
            RegisterMember(
                name=data.name,
                birth_date=data.birth_date,
                community=data.community,
                member_id=data.member_id,
                grid=data.grid,
                roles=frozenset(data.roles),
                vetting=data.vetting,
                flags=frozenset(data.flags),
                coordinates=frozenset(data.coordinates),
            ),
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
    data: JSONBody[MemberChange],
) -> Member:
    def call(principal: Principal, book: BankBook) -> Member:
        return book.members.update(
            UpdateMember(
                member_id=member_id,
                grid=data.grid,
                roles=None if data.roles is None else frozenset(data.roles),
                vetting=data.vetting,
                flags=None if data.flags is None else frozenset(data.flags),
                status=data.status,
                coordinates=None if data.coordinates is None else frozenset(data.coordinates),
            ),
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
        return book.members.relate(
            Relate(member_id=member_id, other_id=data.other_id, kind=data.kind),
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
    data: JSONBody[NewProxy],
) -> Proxy:
    def call(principal: Principal, book: BankBook) -> Proxy:
        return book.members.authorise_proxy(
            AuthoriseProxy(member_id=member_id, proxy_id=data.proxy_id, note=data.note),
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


@get(MEMBER + "/balance", tags=["accounts"], summary="A member's purses")
async def balance(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> MemberBalance:
    def call(principal: Principal, book: BankBook) -> MemberBalance:
        return book.statements.balance(member_id, actor=principal.actor)

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
        return book.statements.passbook(member_id, after=after, limit=limit, actor=principal.actor)

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
