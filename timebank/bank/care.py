"""Use cases of ``book.care``: care files (一人一档) and visits (回访).

A care file says how often a key resident is to be visited; recorded visits count
towards it, and ``visits_due`` lists who is short this month.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import msgspec
from msgspec import Struct

from timebank.bank.checks import check_moment, check_record_id, check_text
from timebank.bank.context import Context, Snapshot
from timebank.community.errors import (
    CareFileNotFound,
    MemberNotFound,
    ScheduleInvalid,
)
from timebank.community.exchange import CareFile, Visit
from timebank.ledger import EffectiveTimeAfterRecording

__all__ = [
    "VisitsDue",
    "close_care_file",
    "open_care_file",
    "record_visit",
    "visits_due",
]

VISITS_PER_MONTH_MAX = 31


class VisitsDue(Struct, frozen=True, kw_only=True):
    """A resident with a care file who has had fewer visits this month than it calls for."""

    member_id: str
    name: str
    community: str
    grid: str
    visits_per_month: int
    visits_this_month: int
    missing: int
    last_visit_at: datetime | None


def open_care_file(
    ctx: Context, *, member_id: str, visits_per_month: int, needs: str, contacts: str
) -> CareFile:
    """A coordinator opens (or reopens, with new terms) a key resident's care file."""
    ctx.require_coordinator("open a care file", ctx.visible_member(member_id))
    ctx.active_member(member_id)
    if type(visits_per_month) is not int or not 1 <= visits_per_month <= VISITS_PER_MONTH_MAX:
        reason = f"1 to {VISITS_PER_MONTH_MAX} visits a month"
        raise ScheduleInvalid(field="visits_per_month", reason=reason)
    care = CareFile(
        member_id=member_id,
        visits_per_month=visits_per_month,
        needs=check_text("needs", needs),
        contacts=check_text("contacts", contacts),
        opened_at=ctx.now,
        actor=ctx.actor,
    )
    ctx.records.put_care_file(care)
    return care


def close_care_file(ctx: Context, *, member_id: str) -> CareFile:
    ctx.require_coordinator("close a care file", ctx.visible_member(member_id))
    care = ctx.records.care_file(check_record_id("member_id", member_id))
    if care is None or care.closed_at is not None:
        raise CareFileNotFound(member_id=member_id)
    closed = msgspec.structs.replace(care, closed_at=ctx.now)
    ctx.records.put_care_file(closed)
    return closed


def record_visit(
    ctx: Context,
    *,
    visit_id: str,
    member_id: str,
    visitor_id: str,
    visited_at: datetime,
    note: str,
    order_id: str | None,
) -> Visit:
    """Record a visit to a resident with an open care file.

    A coordinator of both the resident and the visitor records any visit; a
    visitor (or their proxy) records their own visits to residents of their
    community.
    """
    visitor = ctx.member(check_record_id("visitor_id", visitor_id))
    resident = ctx.member(check_record_id("member_id", member_id))
    if ctx.viewer.acts_for(visitor_id):
        if resident.community != visitor.community and not ctx.viewer.covers(resident.community):
            raise MemberNotFound(member_id=member_id)
    else:
        ctx.require_coordinator(
            "record a visit", ctx.visible_member(member_id), ctx.visible_member(visitor_id)
        )
    ctx.once(
        "record_visit",
        visit_id,
        member_id=member_id,
        visitor_id=visitor_id,
        visited_at=visited_at,
        note=note,
        order_id=order_id,
    )
    existing = ctx.records.visit(visit_id)
    if existing is not None:
        return existing
    care = ctx.records.care_file(member_id)
    if care is None or care.closed_at is not None:
        raise CareFileNotFound(member_id=member_id)
    ctx.active_member(visitor_id)
    check_moment("visited_at", visited_at)
    if visited_at > ctx.now:
        raise EffectiveTimeAfterRecording(effective_at=visited_at, recorded_at=ctx.now)
    if order_id is not None:
        check_record_id("order_id", order_id, 64)
    visit = Visit(
        visit_id=visit_id,
        member_id=member_id,
        visitor_id=visitor_id,
        visited_at=visited_at,
        note=check_text("note", note),
        order_id=order_id,
        recorded_at=ctx.now,
        actor=ctx.actor,
    )
    ctx.records.put_visit(visit)
    return visit


def _month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def visits_due(snap: Snapshot, today: date) -> list[VisitsDue]:
    """Residents with an open care file and fewer visits this month than it calls for."""
    first, following = _month_bounds(today)
    due = []
    for care in snap.records.open_care_files():
        visits = snap.records.visits(care.member_id)
        this_month = [v for v in visits if first <= snap.local_date(v.visited_at) < following]
        if len(this_month) >= care.visits_per_month:
            continue
        member = snap.member(care.member_id)
        due.append(
            VisitsDue(
                member_id=care.member_id,
                name=member.name,
                community=member.community,
                grid=member.grid,
                visits_per_month=care.visits_per_month,
                visits_this_month=len(this_month),
                missing=care.visits_per_month - len(this_month),
                last_visit_at=visits[-1].visited_at if visits else None,
            )
        )
    return sorted(due, key=lambda d: (-d.missing, d.last_visit_at is not None, d.member_id))
