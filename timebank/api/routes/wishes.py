"""Micro-wishes (微心愿) and care files (一人一档) over HTTP.

A wish is seen by the people the resident's records are visible to (see
``exchange.Sight``), by its adopter, and, while it waits to be adopted, by the
members of the resident's community (the wish wall). A care file and its
visits are seen by whoever may see the resident. A member records their own
visits to a resident; the facade checks the file is open.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta, Struct

from timebank.api.auth import Principal, Role, see_member
from timebank.api.deps import act, look, require_staff
from timebank.api.routes.exchange import BOOK, Id, Sight, Text
from timebank.bank import BankBook, VisitsDue
from timebank.community import WishNotFound
from timebank.community.exchange import CareFile, Visit, Wish, WishStatus

__all__ = ["ROUTES"]

WISH = BOOK + "/wishes/{wish_id:str}"
RESIDENT = BOOK + "/members/{member_id:str}"
ORGANISATION_PREFIX = "org:"


def _sees_wish(sight: Sight, wish: Wish) -> bool:
    if sight.member(wish.resident_id, wish.community):
        return True
    if sight.principal.role is not Role.MEMBER:
        return False
    if wish.adopter == sight.principal.subject:
        return True
    return wish.status is WishStatus.POSTED and wish.community == sight.home()


def _wish(principal: Principal, book: BankBook, wish_id: str) -> Wish:
    wish = book.wish(wish_id)
    if not _sees_wish(Sight(principal, book), wish):
        raise WishNotFound(wish_id=wish_id[:128])
    return wish


class NewWish(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    resident_id: Id
    title: Text
    wish_id: Id | None = None


class Adoption(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    adopter: Id
    """A member id, or ``org:<name>`` for a partner organisation (coordinators only)."""


class WishConfirmation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    credit_minutes: Annotated[int, Meta(ge=0)] = 0
    """Minutes the programme credits a member adopter (coordinators only; 0: none)."""


class NewCareFile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    visits_per_month: int
    needs: Text = ""
    contacts: Text = ""


class NewVisit(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    visitor_id: Id
    visited_at: datetime
    note: Text = ""
    order_id: Id | None = None
    visit_id: Id | None = None


# --- micro-wishes ---------------------------------------------------------------------------


@post(BOOK + "/wishes", tags=["wishes"], summary="Post a micro-wish (微心愿)")
async def post_wish(
    request: Request[Any, Any, Any], book_id: FromPath[str], data: JSONBody[NewWish]
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        see_member(principal, book, data.resident_id)
        return book.post_wish(
            resident_id=data.resident_id,
            title=data.title,
            actor=principal.actor,
            wish_id=data.wish_id,
        )

    return await act(request, book_id, Wish, call)


@post(WISH + "/adopt", tags=["wishes"], summary="Adopt (认领) a wish", status_code=200)
async def adopt_wish(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    wish_id: FromPath[str],
    data: JSONBody[Adoption],
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        _wish(principal, book, wish_id)
        if not data.adopter.startswith(ORGANISATION_PREFIX):
            see_member(principal, book, data.adopter)
        return book.adopt_wish(wish_id, adopter=data.adopter, actor=principal.actor)

    return await act(request, book_id, Wish, call)


@post(WISH + "/fulfil", tags=["wishes"], summary="Report a wish fulfilled", status_code=200)
async def fulfil_wish(
    request: Request[Any, Any, Any], book_id: FromPath[str], wish_id: FromPath[str]
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        _wish(principal, book, wish_id)
        return book.fulfil_wish(wish_id, actor=principal.actor)

    return await act(request, book_id, Wish, call)


@post(WISH + "/confirm", tags=["wishes"], summary="Confirm a fulfilled wish", status_code=200)
async def confirm_wish(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    wish_id: FromPath[str],
    data: JSONBody[WishConfirmation],
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        _wish(principal, book, wish_id)
        return book.confirm_wish(wish_id, credit_minutes=data.credit_minutes, actor=principal.actor)

    return await act(request, book_id, Wish, call)


@post(WISH + "/withdraw", tags=["wishes"], summary="Withdraw a wish", status_code=200)
async def withdraw_wish(
    request: Request[Any, Any, Any], book_id: FromPath[str], wish_id: FromPath[str]
) -> Wish:
    def call(principal: Principal, book: BankBook) -> Wish:
        _wish(principal, book, wish_id)
        return book.withdraw_wish(wish_id, actor=principal.actor)

    return await act(request, book_id, Wish, call)


@get(WISH, tags=["wishes"], summary="One micro-wish, with its history")
async def get_wish(
    request: Request[Any, Any, Any], book_id: FromPath[str], wish_id: FromPath[str]
) -> Wish:
    return await look(request, book_id, lambda p, book: _wish(p, book, wish_id))


@get(BOOK + "/wishes", tags=["wishes"], summary="A community's micro-wishes the caller may see")
async def list_wishes(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    community: FromQuery[str | None] = None,
) -> list[Wish]:
    """Members default to their own community, a coordinator of one community to theirs."""

    def call(principal: Principal, book: BankBook) -> list[Wish]:
        sight = Sight(principal, book)
        chosen = community
        if chosen is None and principal.role is Role.MEMBER:
            chosen = sight.home()
        if chosen is None and principal.role is Role.COORDINATOR:
            if len(principal.communities) != 1:
                return []
            chosen = principal.communities[0]
        return [w for w in book.wishes(community=chosen) if _sees_wish(sight, w)]

    return await look(request, book_id, call)


# --- care files -----------------------------------------------------------------------------


@post(RESIDENT + "/care-file", tags=["care"], summary="Open (or reopen) a care file")
async def open_care_file(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[NewCareFile],
) -> CareFile:
    def call(principal: Principal, book: BankBook) -> CareFile:
        see_member(principal, book, member_id)
        return book.open_care_file(
            member_id,
            visits_per_month=data.visits_per_month,
            needs=data.needs,
            contacts=data.contacts,
            actor=principal.actor,
        )

    return await act(request, book_id, CareFile, call)


@post(RESIDENT + "/care-file/close", tags=["care"], summary="Close a care file", status_code=200)
async def close_care_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> CareFile:
    def call(principal: Principal, book: BankBook) -> CareFile:
        see_member(principal, book, member_id)
        return book.close_care_file(member_id, actor=principal.actor)

    return await act(request, book_id, CareFile, call)


@get(RESIDENT + "/care-file", tags=["care"], summary="A resident's care file (一人一档)")
async def get_care_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> CareFile:
    def call(principal: Principal, book: BankBook) -> CareFile:
        see_member(principal, book, member_id)
        return book.care_file(member_id)

    return await look(request, book_id, call)


@post(RESIDENT + "/visits", tags=["care"], summary="Record a visit to a resident")
async def record_visit(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[NewVisit],
) -> Visit:
    """Staff must see the resident; a member records visits made by themselves (or for whom
    they are a proxy)."""

    def call(principal: Principal, book: BankBook) -> Visit:
        if principal.staff:
            see_member(principal, book, member_id)
        see_member(principal, book, data.visitor_id)
        return book.record_visit(
            member_id,
            visitor_id=data.visitor_id,
            visited_at=data.visited_at,
            actor=principal.actor,
            note=data.note,
            order_id=data.order_id,
            visit_id=data.visit_id,
        )

    return await act(request, book_id, Visit, call)


@get(RESIDENT + "/visits", tags=["care"], summary="The visits recorded for a resident")
async def visits(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> list[Visit]:
    def call(principal: Principal, book: BankBook) -> list[Visit]:
        see_member(principal, book, member_id)
        return book.visits(member_id)

    return await look(request, book_id, call)


@get(BOOK + "/visits-due", tags=["care"], summary="Residents short of visits this month")
async def visits_due(
    request: Request[Any, Any, Any], book_id: FromPath[str], on: FromQuery[date | None] = None
) -> list[VisitsDue]:
    """Staff only; a coordinator sees their communities' residents. ``on`` defaults to today."""

    def call(principal: Principal, book: BankBook) -> list[VisitsDue]:
        require_staff(principal, "list visits due")
        sight = Sight(principal, book)
        return [d for d in book.visits_due(on=on) if sight.member(d.member_id, d.community)]

    return await look(request, book_id, call)


ROUTES = [
    post_wish,
    adopt_wish,
    fulfil_wish,
    confirm_wish,
    withdraw_wish,
    get_wish,
    list_wishes,
    open_care_file,
    close_care_file,
    get_care_file,
    record_visit,
    visits,
    visits_due,
]
