"""The facade's old-helping-old desk: offers, needs, orders, micro-wishes, care files, reports.

``BankBook`` inherits these methods; like the rest of the facade, each is one
use case in one unit of work (or one consistent read), returns typed values
and raises errors named after the broken rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar

import msgspec

from timebank.bank import exchange, reports, wishes
from timebank.bank.context import SYSTEM, Context, Snapshot
from timebank.bank.exchange import DeadlineRun
from timebank.bank.listing import merged_pages
from timebank.bank.members import check_choice, check_record_id, check_text, is_day
from timebank.bank.minutes import check_moment
from timebank.bank.records import Records
from timebank.bank.suggest import WAITING, SupplyCache, need_of, week_of
from timebank.bank.wishes import VisitsDue
from timebank.community.errors import (
    CareFileNotFound,
    RecordIdInvalid,
    ReportPeriodInvalid,
)
from timebank.community.exchange import (
    CareFile,
    Offer,
    Order,
    OrderStatus,
    ServiceNeed,
    Urgency,
    Visit,
    Wish,
)
from timebank.community.matching import Ranked, WeekMatch, match_week, rank
from timebank.community.port import OrderQuery, OutboxMessage
from timebank.ledger import PageSizeOutOfRange
from timebank.ledger.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX

__all__ = ["ExchangeDesk"]

T = TypeVar("T")

ID_LENGTH_MAX = 64
SEQ_MAX = 2**62
"""Outbox seqs are database integers: a cursor past this is no seq."""
SUGGESTIONS_MAX = 200
BOARD_MAX = 100


def _new_id(given: str | None, field: str) -> str:
    if given is None:
        return uuid.uuid4().hex[:16]
    return check_record_id(field, given, ID_LENGTH_MAX)


def _limit(limit: int, maximum: int = PAGE_SIZE_MAX) -> int:
    if type(limit) is not int or not 1 <= limit <= maximum:
        raise PageSizeOutOfRange(limit=limit if type(limit) is int else -1, maximum=maximum)
    return limit


def _after(after: str | None) -> str | None:
    return None if after is None else check_record_id("after", after, ID_LENGTH_MAX)


def _found(value: T | None, error: Exception) -> T:
    if value is None:
        raise error
    return value


def _covered(snap: Snapshot, member_id: str) -> bool:
    member = snap.records.member(member_id)
    return member is not None and snap.viewer.covers(member.community)


def _offers_of(
    records: Records, volunteer: str | None, after: str | None, limit: int
) -> list[Offer]:
    return records.offers_page(volunteer_id=volunteer, after=after, limit=limit)


def _offer_key(offer: Offer) -> str:
    return offer.offer_id


def _needs_of(
    records: Records, recipient: str | None, after: str | None, limit: int
) -> list[ServiceNeed]:
    return records.needs_page(recipient_id=recipient, after=after, limit=limit)


def _need_key(need: ServiceNeed) -> str:
    return need.need_id


class ExchangeDesk:
    """Offers, needs, service orders, micro-wishes, care files, matching and reports."""

    def run(self, actor: str, use_case: Callable[[Context], T]) -> T:
        raise NotImplementedError  # provided by BankBook

    def read(self, reading: Callable[[Snapshot, Any], T], actor: str = SYSTEM) -> T:
        raise NotImplementedError  # provided by BankBook

    def _clock_now(self) -> datetime:
        raise NotImplementedError  # provided by BankBook

    def _supply_cache(self) -> SupplyCache:
        raise NotImplementedError  # provided by BankBook

    # --- the supply ledger ----------------------------------------------------------

    def add_offer(
        self,
        *,
        volunteer_id: str,
        categories: Iterable[str],
        windows: Sequence[Any],
        capacity_minutes_per_week: int,
        actor: str,
        offer_id: str | None = None,
        unavailable_on: Iterable[date] = (),
        starts_on: date | None = None,
        ends_on: date | None = None,
        grid: str | None = None,
        x_metres: int | None = None,
        y_metres: int | None = None,
        note: str = "",
    ) -> Offer:
        """Record a volunteer's offer; ``ends_on=None`` means it never expires."""
        return self.run(
            actor,
            partial(
                exchange.add_offer,
                offer_id=_new_id(offer_id, "offer_id"),
                volunteer_id=volunteer_id,
                categories=categories,
                windows=windows,  # type: ignore[arg-type]
                unavailable_on=unavailable_on,
                capacity_minutes_per_week=capacity_minutes_per_week,
                starts_on=starts_on,
                ends_on=ends_on,
                grid=grid,
                x_metres=x_metres,
                y_metres=y_metres,
                note=note,
            ),
        )

    def update_offer(
        self,
        offer_id: str,
        *,
        actor: str,
        windows: Sequence[Any] | None = None,
        unavailable_on: Iterable[date] | None = None,
        capacity_minutes_per_week: int | None = None,
        ends_on: date | None = None,
        never_expires: bool = False,
    ) -> Offer:
        return self.run(
            actor,
            partial(
                exchange.update_offer,
                offer_id=offer_id,
                windows=windows,  # type: ignore[arg-type]
                unavailable_on=unavailable_on,
                capacity_minutes_per_week=capacity_minutes_per_week,
                ends_on=ends_on,
                never_expires=never_expires,
            ),
        )

    def withdraw_offer(self, offer_id: str, *, actor: str) -> Offer:
        return self.run(actor, partial(exchange.withdraw_offer, offer_id=offer_id))

    def offer(self, offer_id: str, *, actor: str = SYSTEM) -> Offer:
        return self.read(lambda snap, _: exchange.visible_offer(snap, offer_id), actor)

    def offers(
        self, *, after: str | None = None, limit: int = PAGE_SIZE_DEFAULT, actor: str = SYSTEM
    ) -> list[Offer]:
        """A page of the supply ledger the caller may see, in id order."""
        limit, cursor = _limit(limit), _after(after)

        def reading(snap: Snapshot, _: Any) -> list[Offer]:
            viewer, records = snap.viewer, snap.records
            volunteers = (None,) if viewer.staff else viewer.principals()
            fetches = [partial(_offers_of, records, volunteer) for volunteer in volunteers]
            return merged_pages(fetches, _offer_key, viewer.sees_offer, cursor, limit)

        return self.read(reading, actor)

    # --- the demand ledger ----------------------------------------------------------

    def add_need(
        self,
        *,
        recipient_id: str,
        category: str,
        estimated_minutes: int,
        actor: str,
        need_id: str | None = None,
        once_at: datetime | None = None,
        windows: Sequence[Any] = (),
        starts_on: date | None = None,
        until: date | None = None,
        grid: str | None = None,
        x_metres: int | None = None,
        y_metres: int | None = None,
        urgency: Urgency = Urgency.NORMAL,
        payer: str | None = None,
        note: str = "",
    ) -> ServiceNeed:
        """Record a recipient's need: once (``once_at``) or weekly (``windows``)."""
        return self.run(
            actor,
            partial(
                exchange.add_need,
                need_id=_new_id(need_id, "need_id"),
                recipient_id=recipient_id,
                category=category,
                once_at=once_at,
                windows=tuple(windows) if isinstance(windows, (list, tuple)) else windows,  # type: ignore[arg-type]
                starts_on=starts_on,
                until=until,
                grid=grid,
                x_metres=x_metres,
                y_metres=y_metres,
                urgency=urgency,
                estimated_minutes=estimated_minutes,
                payer=payer,
                note=note,
            ),
        )

    def close_need(self, need_id: str, *, actor: str) -> ServiceNeed:
        return self.run(actor, partial(exchange.close_need, need_id=need_id))

    def need(self, need_id: str, *, actor: str = SYSTEM) -> ServiceNeed:
        return self.read(lambda snap, _: exchange.visible_need(snap, need_id), actor)

    def needs(
        self, *, after: str | None = None, limit: int = PAGE_SIZE_DEFAULT, actor: str = SYSTEM
    ) -> list[ServiceNeed]:
        """A page of the demand ledger the caller may see, in id order."""
        limit, cursor = _limit(limit), _after(after)

        def reading(snap: Snapshot, _: Any) -> list[ServiceNeed]:
            viewer, records = snap.viewer, snap.records
            recipients = (None,) if viewer.staff else viewer.principals()
            fetches = [partial(_needs_of, records, recipient) for recipient in recipients]
            return merged_pages(fetches, _need_key, viewer.sees_need, cursor, limit)

        return self.read(reading, actor)

    # --- service orders ----------------------------------------------------------

    def request_order(
        self,
        *,
        actor: str,
        need_id: str | None = None,
        recipient_id: str | None = None,
        category: str | None = None,
        estimated_minutes: int | None = None,
        scheduled_at: datetime | None = None,
        payer: str | None = None,
        urgency: Urgency | None = None,
        order_id: str | None = None,
    ) -> Order:
        """Order a service (点单), from a need or directly; a repeated ``order_id`` returns it."""
        return self.run(
            actor,
            partial(
                exchange.request_order,
                order_id=_new_id(order_id, "order_id"),
                need_id=need_id,
                recipient_id=recipient_id,
                category=category,
                estimated_minutes=estimated_minutes,
                scheduled_at=scheduled_at,
                payer=payer,
                urgency=urgency,
            ),
        )

    def dispatch_order(self, order_id: str, *, volunteer_id: str, actor: str) -> Order:
        """Dispatch to one volunteer (派单)."""
        return self.run(
            actor, partial(exchange.dispatch_order, order_id=order_id, volunteer_id=volunteer_id)
        )

    def publish_order(self, order_id: str, *, actor: str) -> Order:
        """Publish for any eligible volunteer to claim."""
        return self.run(actor, partial(exchange.publish_order, order_id=order_id))

    def decline_order(self, order_id: str, *, reason: str, actor: str) -> Order:
        return self.run(actor, partial(exchange.decline_order, order_id=order_id, reason=reason))

    def accept_order(self, order_id: str, *, volunteer_id: str, actor: str) -> Order:
        """Accept (接单): the payer's reserved minutes are held."""
        return self.run(
            actor, partial(exchange.accept_order, order_id=order_id, volunteer_id=volunteer_id)
        )

    def start_order(self, order_id: str, *, actor: str) -> Order:
        """Check in."""
        return self.run(actor, partial(exchange.start_order, order_id=order_id))

    def complete_order(self, order_id: str, *, actual_minutes: int, actor: str) -> Order:
        """Check out with the minutes served (办结)."""
        return self.run(
            actor,
            partial(exchange.complete_order, order_id=order_id, actual_minutes=actual_minutes),
        )

    def confirm_order(self, order_id: str, *, actor: str) -> Order:
        """Confirm the service: the credit posts (at most the reserved minutes)."""
        return self.run(actor, partial(exchange.confirm_order, order_id=order_id))

    def reject_order(self, order_id: str, *, reason: str, actor: str) -> Order:
        return self.run(actor, partial(exchange.reject_order, order_id=order_id, reason=reason))

    def rate_order(self, order_id: str, *, rating: int, actor: str, comment: str = "") -> Order:
        return self.run(
            actor,
            partial(exchange.rate_order, order_id=order_id, rating=rating, comment=comment),
        )

    def close_order(self, order_id: str, *, follow_up: str, actor: str) -> Order:
        """Close out (销号) with the follow-up visit's record (回访)."""
        return self.run(
            actor, partial(exchange.close_order, order_id=order_id, follow_up=follow_up)
        )

    def cancel_order(self, order_id: str, *, reason: str, actor: str) -> Order:
        return self.run(actor, partial(exchange.cancel_order, order_id=order_id, reason=reason))

    def order(self, order_id: str, *, actor: str = SYSTEM) -> Order:
        return self.read(lambda snap, _: exchange.visible_order(snap, order_id), actor)

    def orders(
        self,
        *,
        status: OrderStatus | None = None,
        category: str | None = None,
        community: str | None = None,
        grid: str | None = None,
        requested_from: datetime | None = None,
        requested_until: datetime | None = None,
        after: str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        actor: str = SYSTEM,
    ) -> list[Order]:
        """A page of the orders the caller may see, in id order; every filter given narrows it
        (``requested_from`` and ``requested_until`` bound when it was requested, as [from,
        until)). Staff see their communities' orders; a member those they are on (or act
        for), and those published for anyone to claim in their community."""
        limit, cursor = _limit(limit), _after(after)
        chosen = None if status is None else check_choice("status", OrderStatus, status).value
        for name, text in (("category", category), ("community", community), ("grid", grid)):
            if text is not None:
                check_text(name, text, ID_LENGTH_MAX)
        for name, moment in (
            ("requested_from", requested_from),
            ("requested_until", requested_until),
        ):
            if moment is not None:
                check_moment(name, moment)

        def reading(snap: Snapshot, _: Any) -> list[Order]:
            viewer = snap.viewer
            query = OrderQuery(
                status=chosen,
                category=category,
                grid=grid,
                requested_from=requested_from,
                requested_until=requested_until,
                communities=None if community is None else (community,),
            )
            if not viewer.everywhere:
                if viewer.staff:
                    allowed = viewer.communities
                    wanted = allowed if community is None else allowed & {community}
                    query = msgspec.structs.replace(query, communities=tuple(sorted(wanted)))
                else:
                    query = msgspec.structs.replace(
                        query, parties=viewer.principals(), published_in=viewer.home
                    )
            return snap.orders.query(query, after=cursor, limit=limit)

        return self.read(reading, actor)

    def run_deadlines(self, *, actor: str, limit: int = 100) -> DeadlineRun:
        """Escalate overdue orders, expire stale ones, remind volunteers of lapsing offers."""
        return self.run(actor, partial(exchange.run_deadlines, limit=limit))

    def outbox(
        self, *, after: int | None = None, limit: int = PAGE_SIZE_DEFAULT, actor: str = SYSTEM
    ) -> list[OutboxMessage]:
        """Undelivered notifications in order; a relay delivers them, then ``ack_outbox``.

        They span every community, so the application or an administrator reads them.
        """
        limit = _limit(limit)
        if after is not None and (type(after) is not int or not 0 <= after <= SEQ_MAX):
            raise RecordIdInvalid(field="after", maximum=18)

        def reading(snap: Snapshot, _: Any) -> list[OutboxMessage]:
            snap.viewer.require_everywhere("read the outbox")
            return list(snap.outbox.pending(after=after, limit=limit))

        return self.read(reading, actor)

    def ack_outbox(self, seqs: Sequence[int], *, actor: str) -> int:
        """Mark notifications delivered; returns how many were newly marked."""
        if not isinstance(seqs, (list, tuple)) or not all(
            type(s) is int and 0 <= s <= SEQ_MAX for s in seqs
        ):
            raise RecordIdInvalid(field="seqs", maximum=18)
        if len(seqs) > PAGE_SIZE_MAX:
            raise PageSizeOutOfRange(limit=len(seqs), maximum=PAGE_SIZE_MAX)

        def ack(ctx: Context) -> int:
            ctx.viewer.require_everywhere("acknowledge notifications")
            return ctx.unit.outbox.mark_delivered(list(seqs), ctx.now)

        return self.run(actor, ack)

    # --- matching ----------------------------------------------------------

    def suggest_volunteers(
        self, order_id: str, *, limit: int = 10, actor: str = SYSTEM
    ) -> list[Ranked]:
        """Volunteers who could take a waiting order, best first, each score explained (a
        coordinator's suggestions come from the volunteers of their communities)."""
        limit = _limit(limit, SUGGESTIONS_MAX)
        now = self._clock_now()

        def reading(snap: Snapshot, _: Any) -> list[Ranked]:
            order = exchange.visible_order(snap, order_id)
            viewer = snap.viewer
            viewer.require_covers("see suggested volunteers", order.community)
            day = snap.local_date(order.scheduled_at or now)
            monday, _ = week_of(day)
            supply = self._supply_cache().week(snap, monday)
            away = supply.away.get(day, frozenset()) if order.scheduled_at else frozenset()
            excluded = away | {order.recipient_id}
            # A coordinator dispatches only volunteers of their communities: rank the most
            # the index allows, and keep theirs.
            wanted = min(limit + len(excluded), SUGGESTIONS_MAX)
            if not viewer.everywhere:
                wanted = SUGGESTIONS_MAX
            ranked = rank(need_of(snap, order), supply.index, now=now, limit=wanted)
            return [
                r for r in ranked if r.member_id not in excluded and _covered(snap, r.member_id)
            ][:limit]

        return self.read(reading, actor)

    def match_week(self, week_of_day: date, *, actor: str = SYSTEM) -> WeekMatch:
        """Suggested volunteers for the week's waiting orders (order id -> volunteer id).

        Orders scheduled in the week, and unscheduled ones, are placed within every
        volunteer's weekly minutes, matching at least as many as greedy assignment.
        A suggestion of a volunteer away on the order's day (or of the recipient
        themselves) is withdrawn, leaving that order unmatched. Nothing is
        dispatched: a coordinator dispatches each suggestion. A coordinator's week
        is their communities' orders, matched to their communities' volunteers.
        """
        if not is_day(week_of_day):
            raise ReportPeriodInvalid(field="week", reason="a date from 1900 to 2199 is needed")
        now = self._clock_now()
        monday, following = week_of(week_of_day)

        def reading(snap: Snapshot, _: Any) -> WeekMatch:
            viewer = snap.viewer
            viewer.require_staff("match the week")
            waiting = [
                order
                for status in WAITING
                for order in snap.orders.all(status=status.value)
                if viewer.covers(order.community)
                and (
                    order.scheduled_at is None
                    or monday <= snap.local_date(order.scheduled_at) < following
                )
            ]
            index = self._supply_cache().week(snap, monday).index
            matched = match_week([need_of(snap, o) for o in waiting], index, now=now)
            # Nobody is matched to their own order, nor to a volunteer out of the caller's reach.
            withdrawn = {
                o.order_id
                for o in waiting
                if (volunteer := matched.assignments.get(o.order_id)) is not None
                and (volunteer == o.recipient_id or not _covered(snap, volunteer))
            }
            if not withdrawn:
                return matched
            return WeekMatch(
                assignments={k: v for k, v in matched.assignments.items() if k not in withdrawn},
                unmatched=tuple(sorted((*matched.unmatched, *withdrawn))),
            )

        return self.read(reading, actor)

    # --- micro-wishes ----------------------------------------------------------

    def post_wish(
        self, *, resident_id: str, title: str, actor: str, wish_id: str | None = None
    ) -> Wish:
        return self.run(
            actor,
            partial(
                wishes.post_wish,
                wish_id=_new_id(wish_id, "wish_id"),
                resident_id=resident_id,
                title=title,
            ),
        )

    def adopt_wish(self, wish_id: str, *, adopter: str, actor: str) -> Wish:
        """Adopt for a member (their id) or a partner organisation (``org:<name>``)."""
        return self.run(actor, partial(wishes.adopt_wish, wish_id=wish_id, adopter=adopter))

    def fulfil_wish(self, wish_id: str, *, actor: str) -> Wish:
        return self.run(actor, partial(wishes.fulfil_wish, wish_id=wish_id))

    def confirm_wish(self, wish_id: str, *, actor: str, credit_minutes: int = 0) -> Wish:
        """Confirm a fulfilled wish; a coordinator may credit a member adopter minutes."""
        return self.run(
            actor,
            partial(wishes.confirm_wish, wish_id=wish_id, credit_minutes=credit_minutes),
        )

    def withdraw_wish(self, wish_id: str, *, actor: str) -> Wish:
        return self.run(actor, partial(wishes.withdraw_wish, wish_id=wish_id))

    def wish(self, wish_id: str, *, actor: str = SYSTEM) -> Wish:
        return self.read(lambda snap, _: wishes.visible_wish(snap, wish_id), actor)

    def wishes(self, *, community: str | None = None, actor: str = SYSTEM) -> list[Wish]:
        """The micro-wishes the caller may see: of one community, or (by default) of the
        communities they coordinate, or, for a member, their own community's wish wall."""
        if community is not None:
            check_text("community", community, 64)

        def reading(snap: Snapshot, _: Any) -> list[Wish]:
            viewer = snap.viewer
            if community is not None:
                chosen: tuple[str | None, ...] = (community,)
            elif viewer.everywhere:
                chosen = (None,)
            elif viewer.staff:
                chosen = tuple(sorted(viewer.communities))
            else:
                chosen = (viewer.home,)
            found = (w for c in chosen for w in snap.records.wishes(community=c))
            return sorted((w for w in found if viewer.sees_wish(w)), key=lambda w: w.wish_id)

        return self.read(reading, actor)

    # --- care files ----------------------------------------------------------

    def open_care_file(
        self,
        member_id: str,
        *,
        visits_per_month: int,
        actor: str,
        needs: str = "",
        contacts: str = "",
    ) -> CareFile:
        return self.run(
            actor,
            partial(
                wishes.open_care_file,
                member_id=member_id,
                visits_per_month=visits_per_month,
                needs=needs,
                contacts=contacts,
            ),
        )

    def close_care_file(self, member_id: str, *, actor: str) -> CareFile:
        return self.run(actor, partial(wishes.close_care_file, member_id=member_id))

    def care_file(self, member_id: str, *, actor: str = SYSTEM) -> CareFile:
        def reading(snap: Snapshot, _: Any) -> CareFile:
            snap.visible_member(member_id)
            found = snap.records.care_file(member_id)
            return _found(found, CareFileNotFound(member_id=str(member_id)[:128]))

        return self.read(reading, actor)

    def record_visit(
        self,
        member_id: str,
        *,
        visitor_id: str,
        visited_at: datetime,
        actor: str,
        note: str = "",
        order_id: str | None = None,
        visit_id: str | None = None,
    ) -> Visit:
        return self.run(
            actor,
            partial(
                wishes.record_visit,
                visit_id=_new_id(visit_id, "visit_id"),
                member_id=member_id,
                visitor_id=visitor_id,
                visited_at=visited_at,
                note=note,
                order_id=order_id,
            ),
        )

    def visits(self, member_id: str, *, actor: str = SYSTEM) -> list[Visit]:
        def reading(snap: Snapshot, _: Any) -> list[Visit]:
            snap.visible_member(member_id)
            return snap.records.visits(member_id)

        return self.read(reading, actor)

    def visits_due(self, *, on: date | None = None, actor: str = SYSTEM) -> list[VisitsDue]:
        """Residents of the caller's communities with fewer visits this month than their care
        file calls for."""
        now = self._clock_now()

        def reading(snap: Snapshot, _: Any) -> list[VisitsDue]:
            snap.viewer.require_staff("list visits due")
            day = snap.local_date(now) if on is None else on
            if not is_day(day):
                raise ReportPeriodInvalid(field="on", reason="a date from 1900 to 2199 is needed")
            return [d for d in wishes.visits_due(snap, day) if snap.viewer.covers(d.community)]

        return self.read(reading, actor)

    # --- reports ----------------------------------------------------------

    def order_report(
        self, first_month: str, last_month: str | None = None, *, actor: str = SYSTEM
    ) -> reports.OrderReport:
        """Processing, on-time and satisfaction rates and times, by month, category and grid."""
        last = first_month if last_month is None else last_month
        return self.read(lambda snap, _: reports.order_report(snap, first_month, last), actor)

    def volunteer_board(
        self, month: str, *, limit: int = 10, actor: str = SYSTEM
    ) -> list[reports.VolunteerOfMonth]:
        """The month's volunteer board (好人榜)."""
        limit = _limit(limit, BOARD_MAX)
        return self.read(lambda snap, _: reports.volunteer_board(snap, month, limit), actor)

    def wish_adoption(
        self, *, community: str | None = None, actor: str = SYSTEM
    ) -> reports.WishAdoption:
        if community is not None:
            check_text("community", community, 64)
        return self.read(lambda snap, _: reports.wish_adoption(snap, community), actor)

    def supply_demand_gap(self, week_of_day: date, *, actor: str = SYSTEM) -> list[reports.GapLine]:
        """Offered against needed minutes per category and grid, for the week of the day."""
        if not is_day(week_of_day):
            raise ReportPeriodInvalid(field="week", reason="a date from 1900 to 2199 is needed")
        monday, _ = week_of(week_of_day)
        return self.read(lambda snap, _: reports.supply_demand_gap(snap, monday), actor)

    def liability_forecast(
        self, *, years: int = 10, actor: str = SYSTEM
    ) -> reports.LiabilityForecast:
        """Banked minutes by saver age cohort, and when they will be claimed against supply."""
        now = self._clock_now()
        return self.read(
            lambda snap, _: reports.liability_forecast(snap, snap.local_date(now), years), actor
        )

    def inactive_members(
        self, *, days: int = 90, actor: str = SYSTEM
    ) -> list[reports.InactiveMember]:
        now = self._clock_now()
        return self.read(lambda snap, _: reports.inactive_members(snap, now, days), actor)
