"""The routes of ``book.care``: care files (一人一档) and visits."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from timebank.api.auth import Principal
from timebank.api.bodies import body_of, command_of
from timebank.api.deps import act, look
from timebank.api.routes.paths import BOOK
from timebank.bank import BankBook, VisitsDue
from timebank.bank.commands import (
    CloseCareFile,
    OpenCareFile,
    RecordVisit,
)
from timebank.community.exchange import CareFile, Visit

__all__ = ["ROUTES"]


if TYPE_CHECKING:
    OpenCareFileBody = OpenCareFile
    RecordVisitBody = RecordVisit
else:
    OpenCareFileBody = body_of(OpenCareFile, "member_id")
    RecordVisitBody = body_of(RecordVisit, "member_id")

RESIDENT = BOOK + "/members/{member_id:str}"


@post(RESIDENT + "/care-file", tags=["care"], summary="Open (or reopen) a care file")
async def open_care_file(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[OpenCareFileBody],
) -> CareFile:
    def call(principal: Principal, book: BankBook) -> CareFile:
        return book.care.open(
            command_of(OpenCareFile, data, member_id=member_id),
            actor=principal.actor,
        )

    return await act(request, book_id, CareFile, call)


@post(RESIDENT + "/care-file/close", tags=["care"], summary="Close a care file", status_code=200)
async def close_care_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> CareFile:
    def call(principal: Principal, book: BankBook) -> CareFile:
        return book.care.close(CloseCareFile(member_id=member_id), actor=principal.actor)

    return await act(request, book_id, CareFile, call)


@get(RESIDENT + "/care-file", tags=["care"], summary="A resident's care file (一人一档)")
async def get_care_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> CareFile:
    def call(principal: Principal, book: BankBook) -> CareFile:
        return book.care.get(member_id, actor=principal.actor)

    return await look(request, book_id, call)


@post(RESIDENT + "/visits", tags=["care"], summary="Record a visit to a resident")
async def record_visit(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    data: JSONBody[RecordVisitBody],
) -> Visit:
    """A coordinator of the resident and the visitor records any visit; a member their own
    (or, as a proxy, their principal's) visits to residents of their community."""

    def call(principal: Principal, book: BankBook) -> Visit:
        return book.care.record_visit(
            command_of(RecordVisit, data, member_id=member_id),
            actor=principal.actor,
        )

    return await act(request, book_id, Visit, call)


@get(RESIDENT + "/visits", tags=["care"], summary="The visits recorded for a resident")
async def visits(
    request: Request[Any, Any, Any], book_id: FromPath[str], member_id: FromPath[str]
) -> list[Visit]:
    def call(principal: Principal, book: BankBook) -> list[Visit]:
        return book.care.visits(member_id, actor=principal.actor)

    return await look(request, book_id, call)


@get(BOOK + "/visits-due", tags=["care"], summary="Residents short of visits this month")
async def visits_due(
    request: Request[Any, Any, Any], book_id: FromPath[str], on: FromQuery[date | None] = None
) -> list[VisitsDue]:
    """Staff only; a coordinator sees their communities' residents. ``on`` defaults to today."""

    def call(principal: Principal, book: BankBook) -> list[VisitsDue]:
        return book.care.due(on=on, actor=principal.actor)

    return await look(request, book_id, call)


ROUTES = [
    open_care_file,
    close_care_file,
    get_care_file,
    record_visit,
    visits,
    visits_due,
]
