"""Reports over HTTP, as JSON and as downloads; and a member's statement (passbook) download.

Every report is for staff and covers what the caller coordinates (the facade
scopes it): the whole book for admins and integrations, their communities'
orders, wishes, offers, needs and members for a coordinator.

Each report has three paths: ``.../reports/<name>`` (JSON), and
``.../reports/<name>.csv`` and ``.xlsx`` (an attachment). CSV is UTF-8 with a
byte-order mark so that Excel reads Chinese text; nested figures (a rate's
numerator, denominator and percent) become columns of their own. Each report's
columns are its layout in ``timebank.tables``, the same as the CLI's.

Two are paper (``timebank.printing``): a member's passbook to print,
``.../members/<id>/passbook.html``, and the month's report,
``.../reports/month.html`` and ``.xlsx``, in the caller's language.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.datastructures import ResponseHeader
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, QueryParameter

from timebank import printing
from timebank.api.auth import Principal
from timebank.api.deps import look
from timebank.api.export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from timebank.api.problems import language
from timebank.api.routes.paths import BOOK
from timebank.bank import (
    BankBook,
    GapLine,
    InactiveMember,
    LiabilityForecast,
    OrderReport,
    VolunteerOfMonth,
    WishAdoption,
)
from timebank.community.model import PassbookEntry
from timebank.i18n import Text, text
from timebank.tables import (
    INACTIVE_MEMBERS,
    LIABILITY_FORECAST,
    ORDERS,
    PASSBOOK,
    SUPPLY_DEMAND_GAP,
    VOLUNTEER_BOARD,
    WISH_ADOPTION,
    Table,
    csv_bytes,
    xlsx_bytes,
)

__all__ = ["ROUTES"]

REPORTS = BOOK + "/reports"
MEMBER = BOOK + "/members/{member_id:str}"
STATEMENT_PAGE = 500
STATEMENT_PAGES_MAX = 20
"""A statement download holds at most 10,000 lines; ``X-Next-Cursor`` says where to go on."""
DOWNLOAD = "An attachment: ``.csv`` is UTF-8 with a byte-order mark; ``.xlsx`` is one sheet."
DISPOSITION = ResponseHeader(
    name="Content-Disposition",
    description='``attachment; filename="<book>-<report>.<csv|xlsx>"``',
    documentation_only=True,
    required=True,
)

Month = Annotated[str, QueryParameter(description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")]
BoardLimit = Annotated[int, QueryParameter(ge=1, le=100, description="Places, 1 to 100.")]
Years = Annotated[int, QueryParameter(ge=1, le=30, description="1 to 30 years.")]
Days = Annotated[int, QueryParameter(ge=1, le=3_660, description="1 to 3,660 days.")]


# --- the reports, scoped to the caller ------------------------------------------------------


def _order_report(p: Principal, book: BankBook, first: str, last: str | None) -> OrderReport:
    return book.reports.orders(first, last, actor=p.actor)


def _board(p: Principal, book: BankBook, month: str, limit: int) -> list[VolunteerOfMonth]:
    return book.reports.volunteer_board(month, limit=limit, actor=p.actor)


def _adoption(p: Principal, book: BankBook, community: str | None) -> WishAdoption:
    return book.reports.wish_adoption(community=community, actor=p.actor)


def _gap(p: Principal, book: BankBook, week: date) -> list[GapLine]:
    return book.reports.supply_demand_gap(week, actor=p.actor)


def _forecast(p: Principal, book: BankBook, years: int) -> LiabilityForecast:
    return book.reports.liability_forecast(years=years, actor=p.actor)


def _inactive(p: Principal, book: BankBook, days: int) -> list[InactiveMember]:
    return book.reports.inactive_members(days=days, actor=p.actor)


def _statement(p: Principal, book: BankBook, t: Text, member_id: str, after: str | None) -> Table:
    entries: list[PassbookEntry] = []
    cursor = after
    for _ in range(STATEMENT_PAGES_MAX):
        page = book.statements.passbook(
            member_id, after=cursor, limit=STATEMENT_PAGE, actor=p.actor
        )
        entries.extend(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    return PASSBOOK.human(entries, t, book.zone)._replace(next=cursor)


# --- downloads ------------------------------------------------------------------------------


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:64]


async def _download(
    request: Request[Any, Any, Any],
    book_id: str,
    stem: str,
    build: Callable[[Principal, BankBook, Text], Table],
) -> Response[bytes]:
    """The table ``build`` makes, as the CSV or XLSX file the path ends with.

    A file is for a person: its headers and names are in the language the caller's
    ``Accept-Language`` prefers, its times local to the book (``Layout.human``).
    """
    xlsx = request.url.path.endswith(".xlsx")
    name = _safe(stem)
    t = text(language(request))

    def call(principal: Principal, book: BankBook) -> tuple[bytes, str | None]:
        found = build(principal, book, t)
        if xlsx:
            return xlsx_bytes(found.header, found.rows, title=name, notes=found.notes), found.next
        return csv_bytes(found.header, found.rows), found.next

    body, following = await look(request, book_id, call)
    filename = f"{_safe(book_id)}-{name}.{'xlsx' if xlsx else 'csv'}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if following is not None:
        headers["X-Next-Cursor"] = following
    return Response(body, media_type=XLSX_MEDIA_TYPE if xlsx else CSV_MEDIA_TYPE, headers=headers)


def _files(
    path: str,
    handler: Callable[..., Awaitable[Response[bytes]]],
    summary: str,
    extra: str = "",
    tag: str = "reports",
) -> list[HTTPRouteHandler]:
    """Handlers for ``path.csv`` and ``path.xlsx``, each documented with its media type."""
    return [
        get(
            f"{path}.{suffix}",
            tags=[tag],
            summary=f"{summary} ({suffix.upper()})",
            description=DOWNLOAD + extra,
            media_type=media_type,
            response_headers=[DISPOSITION],
        )(handler)
        for suffix, media_type in (("csv", CSV_MEDIA_TYPE), ("xlsx", XLSX_MEDIA_TYPE))
    ]


@get(REPORTS + "/orders", tags=["reports"], summary="Processing (处理率) and satisfaction (满意率)")
async def order_report(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    first_month: Month,
    last_month: FromQuery[str | None] = None,
) -> OrderReport:
    return await look(request, book_id, lambda p, b: _order_report(p, b, first_month, last_month))


async def order_report_file(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    first_month: Month,
    last_month: FromQuery[str | None] = None,
) -> Response[bytes]:
    def build(p: Principal, b: BankBook, t: Text) -> Table:
        return ORDERS.human(_order_report(p, b, first_month, last_month), t, b.zone)

    return await _download(
        request, book_id, f"orders-{first_month}-{last_month or first_month}", build
    )


@get(REPORTS + "/volunteer-board", tags=["reports"], summary="The month's volunteer board (好人榜)")
async def volunteer_board(
    request: Request[Any, Any, Any], book_id: FromPath[str], month: Month, limit: BoardLimit = 10
) -> list[VolunteerOfMonth]:
    return await look(request, book_id, lambda p, b: _board(p, b, month, limit))


async def volunteer_board_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], month: Month, limit: BoardLimit = 10
) -> Response[bytes]:
    def build(p: Principal, b: BankBook, t: Text) -> Table:
        return VOLUNTEER_BOARD.human(_board(p, b, month, limit), t, b.zone)

    return await _download(request, book_id, f"volunteer-board-{month}", build)


@get(REPORTS + "/wish-adoption", tags=["reports"], summary="Micro-wish adoption rate")
async def wish_adoption(
    request: Request[Any, Any, Any], book_id: FromPath[str], community: FromQuery[str | None] = None
) -> WishAdoption:
    return await look(request, book_id, lambda p, b: _adoption(p, b, community))


async def wish_adoption_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], community: FromQuery[str | None] = None
) -> Response[bytes]:
    def build(p: Principal, b: BankBook, t: Text) -> Table:
        return WISH_ADOPTION.human(_adoption(p, b, community), t, b.zone)

    return await _download(request, book_id, f"wish-adoption-{community or 'all'}", build)


@get(REPORTS + "/supply-demand-gap", tags=["reports"], summary="Supply against demand for a week")
async def supply_demand_gap(
    request: Request[Any, Any, Any], book_id: FromPath[str], week: FromQuery[date]
) -> list[GapLine]:
    return await look(request, book_id, lambda p, b: _gap(p, b, week))


async def supply_demand_gap_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], week: FromQuery[date]
) -> Response[bytes]:
    def build(p: Principal, b: BankBook, t: Text) -> Table:
        return SUPPLY_DEMAND_GAP.human(_gap(p, b, week), t, b.zone)

    return await _download(request, book_id, f"supply-demand-gap-{week.isoformat()}", build)


@get(REPORTS + "/liability-forecast", tags=["reports"], summary="Banked minutes and their claims")
async def liability_forecast(
    request: Request[Any, Any, Any], book_id: FromPath[str], years: Years = 10
) -> LiabilityForecast:
    return await look(request, book_id, lambda p, b: _forecast(p, b, years))


async def liability_forecast_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], years: Years = 10
) -> Response[bytes]:
    def build(p: Principal, b: BankBook, t: Text) -> Table:
        return LIABILITY_FORECAST.human(_forecast(p, b, years), t, b.zone)

    return await _download(request, book_id, f"liability-forecast-{years}y", build)


@get(REPORTS + "/inactive-members", tags=["reports"], summary="Members idle for some days")
async def inactive_members(
    request: Request[Any, Any, Any], book_id: FromPath[str], days: Days = 90
) -> list[InactiveMember]:
    return await look(request, book_id, lambda p, b: _inactive(p, b, days))


async def inactive_members_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], days: Days = 90
) -> Response[bytes]:
    def build(p: Principal, b: BankBook, t: Text) -> Table:
        return INACTIVE_MEMBERS.human(_inactive(p, b, days), t, b.zone)

    return await _download(request, book_id, f"inactive-members-{days}d", build)


async def passbook_file(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    after: FromQuery[str | None] = None,
) -> Response[bytes]:
    def build(p: Principal, b: BankBook, t: Text) -> Table:
        return _statement(p, b, t, member_id, after)

    return await _download(request, book_id, f"passbook-{member_id}", build)


# --- printed pages (timebank.printing) ------------------------------------------------------

HTML_MEDIA_TYPE = "text/html"
"""Litestar adds ``; charset=utf-8``."""
PRINTED_CSP = "default-src 'none'; style-src 'unsafe-inline'"
"""A printed page loads nothing and runs nothing: its one style sheet is inline."""
PRINTED = (
    "A page to print: one self-contained A4 HTML document (no script, nothing fetched), in the"
    " language ``Accept-Language`` prefers, times in the book's zone."
)


def _printed(
    body: bytes, media_type: str, filename: str, *, inline: bool = False
) -> Response[bytes]:
    disposition = "inline" if inline else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{filename}"'}
    if media_type == HTML_MEDIA_TYPE:
        headers["Content-Security-Policy"] = PRINTED_CSP
    return Response(body, media_type=media_type, headers=headers)


@get(
    MEMBER + "/passbook.html",
    tags=["statements"],
    summary="A member's passbook (存折) to print (HTML)",
    description=PRINTED
    + " Names instead of ids, service dates, hours and minutes, and the balance after each"
    " line, in order of service date; ``since`` and ``until`` (days, both included) choose"
    " the service dates. Visible to whoever may see the member's passbook.",
    media_type=HTML_MEDIA_TYPE,
)
async def passbook_page(
    request: Request[Any, Any, Any],
    book_id: FromPath[str],
    member_id: FromPath[str],
    since: FromQuery[date | None] = None,
    until: FromQuery[date | None] = None,
) -> Response[bytes]:
    t = text(language(request))

    def call(p: Principal, b: BankBook) -> bytes:
        printed = b.statements.printable(member_id, since=since, until=until, actor=p.actor)
        return printing.passbook_html(printed, t)

    body = await look(request, book_id, call)
    filename = f"{_safe(book_id)}-passbook-{_safe(member_id)}.html"
    return _printed(body, HTML_MEDIA_TYPE, filename, inline=True)


async def month_report_file(
    request: Request[Any, Any, Any], book_id: FromPath[str], month: Month
) -> Response[bytes]:
    html = request.url.path.endswith(".html")
    t = text(language(request))

    def call(p: Principal, b: BankBook) -> bytes:
        report = printing.month_report(b, month, actor=p.actor)
        return printing.month_html(report, t) if html else printing.month_xlsx(report, t)

    body = await look(request, book_id, call)
    filename = f"{_safe(book_id)}-month-{_safe(month)}.{'html' if html else 'xlsx'}"
    if html:
        return _printed(body, HTML_MEDIA_TYPE, filename, inline=True)
    return _printed(body, XLSX_MEDIA_TYPE, filename)


MONTH_ROUTES = [
    get(
        f"{REPORTS}/month.{suffix}",
        tags=["reports"],
        summary=f"The month's report to print ({suffix.upper()})",
        description=(PRINTED if suffix == "html" else "One A4 sheet.")
        + " Each volunteer's services and hours in the month (the volunteer board), their"
        " totals, and the month's service orders, overall and by category.",
        media_type=media_type,
    )(month_report_file)
    for suffix, media_type in (("html", HTML_MEDIA_TYPE), ("xlsx", XLSX_MEDIA_TYPE))
]


ROUTES = [
    order_report,
    *_files(REPORTS + "/orders", order_report_file, "The order report"),
    volunteer_board,
    *_files(REPORTS + "/volunteer-board", volunteer_board_file, "The volunteer board"),
    wish_adoption,
    *_files(REPORTS + "/wish-adoption", wish_adoption_file, "Wish adoption"),
    supply_demand_gap,
    *_files(REPORTS + "/supply-demand-gap", supply_demand_gap_file, "The supply-demand gap"),
    liability_forecast,
    *_files(
        REPORTS + "/liability-forecast",
        liability_forecast_file,
        "The liability forecast",
        " One row for the total, one per age cohort, one per year.",
    ),
    inactive_members,
    *_files(REPORTS + "/inactive-members", inactive_members_file, "Inactive members"),
    *_files(
        MEMBER + "/passbook",
        passbook_file,
        "A member's statement (存折)",
        " Every passbook line after ``after``, up to 10,000; ``X-Next-Cursor`` then says"
        " where the next file starts. Visible to whoever may see the member.",
        tag="statements",
    ),
    passbook_page,
    *MONTH_ROUTES,
]
