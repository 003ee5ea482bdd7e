"""Use cases of ``book.supply``: the supply and demand ledgers (供给台账, 需求台账).

An offer says what a volunteer gives, when and how much a week; a need says what
a resident asks for, when, and who pays. Each runs inside one unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import msgspec

from timebank.bank.accounts import GUARANTEE
from timebank.bank.checks import check_choice, check_minutes, check_moment, check_text, is_day
from timebank.bank.context import Context, Snapshot
from timebank.bank.purses import (
    check_guaranteed,
    check_payer_choice,
    check_programme,
    check_recipient,
)
from timebank.community.errors import (
    CategoryUnknown,
    NeedNotFound,
    OfferNotFound,
    ProviderNotEligible,
    ScheduleInvalid,
)
from timebank.community.exchange import (
    NeedStatus,
    Offer,
    ServiceNeed,
    Urgency,
)
from timebank.community.limits import NAME_LENGTH_MAX
from timebank.community.matching import WEEK_MINUTES, WINDOWS_MAX, Window
from timebank.community.model import Member, Role
from timebank.community.policy import PolicyRules
from timebank.community.rules import check_service

__all__ = [
    "add_need",
    "add_offer",
    "check_payer",
    "close_need",
    "recipient_for",
    "update_offer",
    "visible_need",
    "visible_offer",
    "withdraw_offer",
]


COORDINATE_METRES_MAX = 1_000_000


def _check_category(rules: PolicyRules, category: object) -> str:
    if type(category) is not str or not 0 < len(category) <= 64:
        raise CategoryUnknown(category=str(category)[:64])
    if rules.categories and category not in rules.categories:
        raise CategoryUnknown(category=category)
    return category


def _check_windows(field: str, windows: object, *, required: bool) -> tuple[Window, ...]:
    if not isinstance(windows, (list, tuple)) or not all(isinstance(w, Window) for w in windows):
        raise ScheduleInvalid(field=field, reason="a list of weekly windows is needed")
    if len(windows) > WINDOWS_MAX:
        raise ScheduleInvalid(field=field, reason=f"at most {WINDOWS_MAX} windows")
    if required and not windows:
        raise ScheduleInvalid(field=field, reason="at least one window is needed")
    return tuple(windows)


def _check_date(field: str, value: object, *, optional: bool = False) -> date | None:
    if value is None and optional:
        return None
    if not is_day(value):
        raise ScheduleInvalid(field=field, reason="a date from 1900 to 2199 is needed")
    assert isinstance(value, date)
    return value


def _check_place(x_metres: object, y_metres: object) -> None:
    if (x_metres is None) != (y_metres is None):
        raise ScheduleInvalid(field="x_metres", reason="both coordinates, or neither")
    for value in (x_metres, y_metres):
        if value is not None and (
            type(value) is not int or not -COORDINATE_METRES_MAX <= value <= COORDINATE_METRES_MAX
        ):
            reason = f"coordinates are whole metres within {COORDINATE_METRES_MAX}"
            raise ScheduleInvalid(field="x_metres", reason=reason)


def _volunteer(ctx: Context, member_id: str) -> Member:
    member = ctx.active_member(member_id)
    if Role.VOLUNTEER not in member.roles:
        raise ProviderNotEligible(member_id=member_id, reason="not registered as a volunteer")
    return member


def _offer_dates(
    ctx: Context, starts_on: object, ends_on: object, unavailable_on: object
) -> tuple[date, date | None, frozenset[date]]:
    """An offer's first and last days (from today, open-ended by default) and days away."""
    start = ctx.today if starts_on is None else _check_date("starts_on", starts_on)
    assert start is not None
    end = _check_date("ends_on", ends_on, optional=True)
    if end is not None and end < start:
        raise ScheduleInvalid(field="ends_on", reason="the offer ends before it starts")
    if not isinstance(unavailable_on, (list, tuple, set, frozenset)):
        raise ScheduleInvalid(field="unavailable_on", reason="a list of dates is needed")
    away = frozenset(_check_date("unavailable_on", d) for d in unavailable_on)
    if len(away) > 366:
        raise ScheduleInvalid(field="unavailable_on", reason="at most 366 dates")
    return start, end, frozenset(d for d in away if d is not None)


def add_offer(
    ctx: Context,
    *,
    offer_id: str,
    volunteer_id: str,
    categories: Iterable[str],
    windows: tuple[Window, ...],
    unavailable_on: Iterable[date],
    capacity_minutes_per_week: int,
    starts_on: date | None,
    ends_on: date | None,
    grid: str | None,
    x_metres: int | None,
    y_metres: int | None,
    note: str,
) -> Offer:
    """Record what a volunteer offers: categories, weekly windows, area and capacity."""
    ctx.acting_for(ctx.visible_member(volunteer_id), "offer service", staff_ok=True)
    ctx.once(
        "add_offer",
        offer_id,
        volunteer_id=volunteer_id,
        categories=categories,
        windows=windows,
        unavailable_on=unavailable_on,
        capacity_minutes_per_week=capacity_minutes_per_week,
        starts_on=starts_on,
        ends_on=ends_on,
        grid=grid,
        x_metres=x_metres,
        y_metres=y_metres,
        note=note,
    )
    existing = ctx.records.offer(offer_id)
    if existing is not None:
        return existing
    rules = ctx.policy().rules
    volunteer = _volunteer(ctx, volunteer_id)
    if not isinstance(categories, (list, tuple, set, frozenset)) or not categories:
        raise CategoryUnknown(category=str(categories)[:64])
    chosen = frozenset(_check_category(rules, c) for c in categories)
    check_minutes("capacity_minutes_per_week", capacity_minutes_per_week)
    if capacity_minutes_per_week > WEEK_MINUTES:
        raise ScheduleInvalid(field="capacity_minutes_per_week", reason="more than a week")
    start, end, away = _offer_dates(ctx, starts_on, ends_on, unavailable_on)
    _check_place(x_metres, y_metres)
    offer = Offer(
        offer_id=offer_id,
        volunteer_id=volunteer_id,
        categories=chosen,
        windows=_check_windows("windows", windows, required=True),
        unavailable_on=away,
        community=volunteer.community,
        grid=volunteer.grid if grid is None else check_text("grid", grid, NAME_LENGTH_MAX),
        x_metres=x_metres,
        y_metres=y_metres,
        capacity_minutes_per_week=capacity_minutes_per_week,
        starts_on=start,
        ends_on=end,
        note=check_text("note", note),
        created_at=ctx.now,
        actor=ctx.actor,
    )
    ctx.records.put_offer(offer)
    return offer


def visible_offer(snap: Snapshot, offer_id: str) -> Offer:
    """The offer, if the caller may see it; otherwise, as for an unknown id, not found."""
    offer = snap.records.offer(offer_id)
    if offer is None or not snap.viewer.sees_offer(offer):
        raise OfferNotFound(offer_id=str(offer_id)[:128])
    return offer


def visible_need(snap: Snapshot, need_id: str) -> ServiceNeed:
    """The need, if the caller may see it; otherwise, as for an unknown id, not found."""
    need = snap.records.need(need_id)
    if need is None or not snap.viewer.sees_need(need):
        raise NeedNotFound(need_id=str(need_id)[:128])
    return need


def _offer(ctx: Context, offer_id: str, action: str) -> Offer:
    offer = visible_offer(ctx, offer_id)
    ctx.acting_for(ctx.member(offer.volunteer_id), action, staff_ok=True)
    return offer


def update_offer(
    ctx: Context,
    *,
    offer_id: str,
    windows: tuple[Window, ...] | None,
    unavailable_on: Iterable[date] | None,
    capacity_minutes_per_week: int | None,
    ends_on: date | None,
    never_expires: bool,
) -> Offer:
    """Change an offer's windows, exceptions, capacity or end (a new end clears the reminder)."""
    offer = _offer(ctx, offer_id, "change an offer")
    changes: dict[str, object] = {}
    if windows is not None:
        changes["windows"] = _check_windows("windows", windows, required=True)
    if unavailable_on is not None:
        if not isinstance(unavailable_on, (list, tuple, set, frozenset)):
            raise ScheduleInvalid(field="unavailable_on", reason="a list of dates is needed")
        changes["unavailable_on"] = frozenset(
            d for d in (_check_date("unavailable_on", d) for d in unavailable_on) if d is not None
        )
    if capacity_minutes_per_week is not None:
        check_minutes("capacity_minutes_per_week", capacity_minutes_per_week)
        if capacity_minutes_per_week > WEEK_MINUTES:
            raise ScheduleInvalid(field="capacity_minutes_per_week", reason="more than a week")
        changes["capacity_minutes_per_week"] = capacity_minutes_per_week
    if never_expires or ends_on is not None:
        end = None if never_expires else _check_date("ends_on", ends_on)
        if end is not None and end < offer.starts_on:
            raise ScheduleInvalid(field="ends_on", reason="the offer ends before it starts")
        changes["ends_on"] = end
        changes["reminded_at"] = None
    updated = msgspec.structs.replace(offer, **changes)
    ctx.records.put_offer(updated)
    return updated


def withdraw_offer(ctx: Context, *, offer_id: str) -> Offer:
    offer = _offer(ctx, offer_id, "withdraw an offer")
    if offer.withdrawn_at is not None:
        return offer
    updated = msgspec.structs.replace(offer, withdrawn_at=ctx.now)
    ctx.records.put_offer(updated)
    return updated


def check_payer(ctx: Context, rules: PolicyRules, recipient: Member, payer: object) -> str | None:
    """Who will pay: the recipient, only their gifted minutes, or a programme account (the
    guarantee fund only for the recipients it covers)."""
    if payer is None:
        return None
    if type(payer) is not str:
        raise ScheduleInvalid(field="payer", reason="recipient, gifted or a programme account")
    if payer in ("recipient", "gifted"):
        return payer
    account = check_programme(ctx, payer)
    if account == GUARANTEE:
        check_guaranteed(ctx, rules, recipient)
    return account


def recipient_for(
    ctx: Context, rules: PolicyRules, recipient_id: str, category: object
) -> tuple[Member, str]:
    """The active recipient of a service the policy lets them receive, and its category."""
    recipient = ctx.active_member(recipient_id)
    check_recipient(ctx, rules, recipient)
    return recipient, _check_category(rules, category)


def _need_schedule(
    ctx: Context, once_at: datetime | None, windows: object, starts_on: object, until: object
) -> tuple[tuple[Window, ...], date, date | None]:
    """A need's weekly windows (none for a need once at a time), first and last days."""
    weekly = _check_windows("windows", windows, required=False)
    if (once_at is None) == (not weekly):
        reason = "a need is either once (once_at) or weekly (windows), not both or neither"
        raise ScheduleInvalid(field="once_at", reason=reason)
    if once_at is not None:
        check_moment("once_at", once_at)
    start = (
        (ctx.today if once_at is None else ctx.local_date(once_at))
        if starts_on is None
        else _check_date("starts_on", starts_on)
    )
    assert start is not None
    end = _check_date("until", until, optional=True)
    if end is not None and end < start:
        raise ScheduleInvalid(field="until", reason="the need ends before it starts")
    return weekly, start, end


def add_need(
    ctx: Context,
    *,
    need_id: str,
    recipient_id: str,
    category: str,
    once_at: datetime | None,
    windows: tuple[Window, ...],
    starts_on: date | None,
    until: date | None,
    grid: str | None,
    x_metres: int | None,
    y_metres: int | None,
    urgency: Urgency,
    estimated_minutes: int,
    payer: str | None,
    note: str,
) -> ServiceNeed:
    """Record what a recipient needs: once at a time, or weekly in windows."""
    recipient = ctx.visible_member(recipient_id)
    on_behalf_of = ctx.acting_for(recipient, "post a need", staff_ok=True)
    check_payer_choice(ctx, payer, recipient)
    ctx.once(
        "add_need",
        need_id,
        recipient_id=recipient_id,
        category=category,
        once_at=once_at,
        windows=windows,
        starts_on=starts_on,
        until=until,
        grid=grid,
        x_metres=x_metres,
        y_metres=y_metres,
        urgency=urgency,
        estimated_minutes=estimated_minutes,
        payer=payer,
        note=note,
    )
    existing = ctx.records.need(need_id)
    if existing is not None:
        return existing
    rules = ctx.policy().rules
    recipient, category = recipient_for(ctx, rules, recipient_id, category)
    check_service(rules, category, estimated_minutes)
    weekly, start, end = _need_schedule(ctx, once_at, windows, starts_on, until)
    _check_place(x_metres, y_metres)
    need = ServiceNeed(
        need_id=need_id,
        recipient_id=recipient_id,
        category=category,
        once_at=once_at,
        windows=weekly,
        starts_on=start,
        until=end,
        community=recipient.community,
        grid=recipient.grid if grid is None else check_text("grid", grid, NAME_LENGTH_MAX),
        x_metres=x_metres,
        y_metres=y_metres,
        urgency=check_choice("urgency", Urgency, urgency),
        estimated_minutes=estimated_minutes,
        payer=check_payer(ctx, rules, recipient, payer),
        note=check_text("note", note),
        created_at=ctx.now,
        actor=ctx.actor,
        on_behalf_of=on_behalf_of,
    )
    ctx.records.put_need(need)
    return need


def close_need(ctx: Context, *, need_id: str) -> ServiceNeed:
    need = visible_need(ctx, need_id)
    ctx.acting_for(ctx.member(need.recipient_id), "close a need", staff_ok=True)
    updated = msgspec.structs.replace(need, status=NeedStatus.CLOSED)
    ctx.records.put_need(updated)
    return updated
