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

from timebank.bank import exchange, reports, wishes
from timebank.bank.context import Context, Snapshot
from timebank.bank.exchange import DeadlineRun
from timebank.bank.members import check_choice, check_record_id, check_text
from timebank.bank.suggest import WAITING, SupplyCache, need_of, week_of
from timebank.bank.wishes import VisitsDue
from timebank.community.errors import (
    CareFileNotFound,
    NeedNotFound,
    OfferNotFound,
    OrderNotFound,
    RecordIdInvalid,
    ReportPeriodInvalid,
    WishNotFound,
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
from timebank.community.port import OutboxMessage
from timebank.ledger import PageSizeOutOfRange
from timebank.ledger.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX

__all__ = ["ExchangeDesk"]

T = TypeVar("T")

ID_LENGTH_MAX = 64
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


class ExchangeDesk:
    """Offers, needs, service orders, micro-wishes, care files, matching and reports."""

    def run(self, actor: str, use_case: Callable[[Context], T]) -> T:
        raise NotImplementedError  # provided by BankBook

    def read(self, reading: Callable[[Snapshot, Any], T]) -> T:
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

    def offer(self, offer_id: str) -> Offer:
        found = self.read(lambda snap, _: snap.records.offer(offer_id))
        return _found(found, OfferNotFound(offer_id=str(offer_id)[:128]))

    def offers(self, *, after: str | None = None, limit: int = PAGE_SIZE_DEFAULT) -> list[Offer]:
        """A page of the supply ledger in id order."""
        limit, cursor = _limit(limit), _after(after)
        return self.read(lambda snap, _: snap.records.offers_page(after=cursor, limit=limit))

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

    def need(self, need_id: str) -> ServiceNeed:
        found = self.read(lambda snap, _: snap.records.need(need_id))
        return _found(found, NeedNotFound(need_id=str(need_id)[:128]))

    def needs(
        self, *, after: str | None = None, limit: int = PAGE_SIZE_DEFAULT
    ) -> list[ServiceNeed]:
        """A page of the demand ledger in id order."""
        limit, cursor = _limit(limit), _after(after)
        return self.read(lambda snap, _: snap.records.needs_page(after=cursor, limit=limit))

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

    def order(self, order_id: str) -> Order:
        found = self.read(lambda snap, _: snap.orders.get(order_id))
        return _found(found, OrderNotFound(order_id=str(order_id)[:128]))

    def orders(
        self,
        *,
        status: OrderStatus | None = None,
        after: str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
    ) -> list[Order]:
        """A page of orders in id order (of one status, if given)."""
        limit, cursor = _limit(limit), _after(after)
        chosen = None if status is None else check_choice("status", OrderStatus, status).value
        return self.read(lambda snap, _: snap.orders.page(status=chosen, after=cursor, limit=limit))

    def run_deadlines(self, *, actor: str, limit: int = 100) -> DeadlineRun:
        """Escalate overdue orders, expire stale ones, remind volunteers of lapsing offers."""
        return self.run(actor, partial(exchange.run_deadlines, limit=limit))

    def outbox(
        self, *, after: int | None = None, limit: int = PAGE_SIZE_DEFAULT
    ) -> list[OutboxMessage]:
        """Undelivered notifications in order; a relay delivers them, then ``ack_outbox``."""
        limit = _limit(limit)
        if after is not None and (type(after) is not int or after < 0):
            raise RecordIdInvalid(field="after", maximum=18)
        return self.read(lambda snap, _: list(snap.outbox.pending(after=after, limit=limit)))

    def ack_outbox(self, seqs: Sequence[int], *, actor: str) -> int:
        """Mark notifications delivered; returns how many were newly marked."""
        if not isinstance(seqs, (list, tuple)) or not all(type(s) is int for s in seqs):
            raise RecordIdInvalid(field="seqs", maximum=18)
        if len(seqs) > PAGE_SIZE_MAX:
            raise PageSizeOutOfRange(limit=len(seqs), maximum=PAGE_SIZE_MAX)

        def ack(ctx: Context) -> int:
            ctx.require_coordinator("acknowledge notifications")
            return ctx.unit.outbox.mark_delivered(list(seqs), ctx.now)

        return self.run(actor, ack)

    # --- matching ----------------------------------------------------------

    def suggest_volunteers(self, order_id: str, *, limit: int = 10) -> list[Ranked]:
        """Volunteers who could take a waiting order, best first, each score explained."""
        limit = _limit(limit, SUGGESTIONS_MAX)
        now = self._clock_now()

        def reading(snap: Snapshot, _: Any) -> list[Ranked]:
            order = _found(snap.orders.get(order_id), OrderNotFound(order_id=str(order_id)[:128]))
            day = snap.local_date(order.scheduled_at or now)
            monday, _ = week_of(day)
            supply = self._supply_cache().week(snap, monday)
            away = supply.away.get(day, frozenset()) if order.scheduled_at else frozenset()
            excluded = away | {order.recipient_id}
            wanted = min(limit + len(excluded), SUGGESTIONS_MAX)
            ranked = rank(need_of(snap, order), supply.index, now=now, limit=wanted)
            return [r for r in ranked if r.member_id not in excluded][:limit]

        return self.read(reading)

    def match_week(self, week_of_day: date) -> WeekMatch:
        """Suggested volunteers for the week's waiting orders (order id -> volunteer id).

        Orders scheduled in the week, and unscheduled ones, are placed within every
        volunteer's weekly minutes, matching at least as many as greedy assignment.
        A suggestion of a volunteer away on the order's day (or of the recipient
        themselves) is withdrawn, leaving that order unmatched. Nothing is
        dispatched: a coordinator dispatches each suggestion.
        """
        if type(week_of_day) is not date:
            raise ReportPeriodInvalid(field="week", reason="a date is needed")
        now = self._clock_now()
        monday, following = week_of(week_of_day)

        def reading(snap: Snapshot, _: Any) -> WeekMatch:
            waiting = [
                order
                for status in WAITING
                for order in snap.orders.all(status=status.value)
                if order.scheduled_at is None
                or monday <= snap.local_date(order.scheduled_at) < following
            ]
            index = self._supply_cache().week(snap, monday).index
            matched = match_week([need_of(snap, o) for o in waiting], index, now=now)
            # Nobody is matched to their own order.
            own = {
                o.order_id for o in waiting if matched.assignments.get(o.order_id) == o.recipient_id
            }
            if not own:
                return matched
            return WeekMatch(
                assignments={k: v for k, v in matched.assignments.items() if k not in own},
                unmatched=tuple(sorted((*matched.unmatched, *own))),
            )

        return self.read(reading)

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

    def wish(self, wish_id: str) -> Wish:
        found = self.read(lambda snap, _: snap.records.wish(wish_id))
        return _found(found, WishNotFound(wish_id=str(wish_id)[:128]))

    def wishes(self, *, community: str | None = None) -> list[Wish]:
        if community is not None:
            check_text("community", community, 64)
        return self.read(lambda snap, _: list(snap.records.wishes(community=community)))

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

    def care_file(self, member_id: str) -> CareFile:
        found = self.read(lambda snap, _: snap.records.care_file(member_id))
        return _found(found, CareFileNotFound(member_id=str(member_id)[:128]))

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

    def visits(self, member_id: str) -> list[Visit]:
        return self.read(lambda snap, _: snap.records.visits(member_id))

    def visits_due(self, *, on: date | None = None) -> list[VisitsDue]:
        """Residents with fewer visits this month than their care file calls for."""
        now = self._clock_now()

        def reading(snap: Snapshot, _: Any) -> list[VisitsDue]:
            day = snap.local_date(now) if on is None else on
            if type(day) is not date:
                raise ReportPeriodInvalid(field="on", reason="a date is needed")
            return wishes.visits_due(snap, day)

        return self.read(reading)

    # --- reports ----------------------------------------------------------

    def order_report(self, first_month: str, last_month: str | None = None) -> reports.OrderReport:
        """Processing, on-time and satisfaction rates and times, by month, category and grid."""
        last = first_month if last_month is None else last_month
        return self.read(lambda snap, _: reports.order_report(snap, first_month, last))

    def volunteer_board(self, month: str, *, limit: int = 10) -> list[reports.VolunteerOfMonth]:
        """The month's volunteer board (好人榜)."""
        limit = _limit(limit, BOARD_MAX)
        return self.read(lambda snap, _: reports.volunteer_board(snap, month, limit))

    def wish_adoption(self, *, community: str | None = None) -> reports.WishAdoption:
        if community is not None:
            check_text("community", community, 64)
        return self.read(lambda snap, _: reports.wish_adoption(snap, community))

    def supply_demand_gap(self, week_of_day: date) -> list[reports.GapLine]:
        """Offered against needed minutes per category and grid, for the week of the day."""
        if type(week_of_day) is not date:
            raise ReportPeriodInvalid(field="week", reason="a date is needed")
        monday, _ = week_of(week_of_day)
        return self.read(lambda snap, _: reports.supply_demand_gap(snap, monday))

    def liability_forecast(self, *, years: int = 10) -> reports.LiabilityForecast:
        """Banked minutes by saver age cohort, and when they will be claimed against supply."""
        now = self._clock_now()
        return self.read(
            lambda snap, _: reports.liability_forecast(snap, snap.local_date(now), years)
        )

    def inactive_members(self, *, days: int = 90) -> list[reports.InactiveMember]:
        now = self._clock_now()
        return self.read(lambda snap, _: reports.inactive_members(snap, now, days))
