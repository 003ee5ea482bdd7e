"""Use cases of ``book.orders``: a service order's lifecycle (点单 → 派单 → 接单 → 办结 → 销号).

Each runs inside one unit of work (see ``context``). An order's transition is
checked before anything else happens, so an illegal one raises
``OrderTransitionNotAllowed`` and changes nothing. Acceptance holds the payer's
reserved minutes; confirmation posts the credit (the credited minutes of the
actual duration, never more than the reservation the payer agreed to); reject,
cancel and expire void the hold. Deadlines escalate overdue orders up the
policy's chain; each escalation, expiry and lapse reminder writes an outbox
message in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import msgspec
from msgspec import Struct

from timebank.bank.accounts import GIFTED, OWN, member_account
from timebank.bank.checks import (
    check_choice,
    check_moment,
    check_reason,
    check_record_id,
    check_text,
)
from timebank.bank.context import Context, Snapshot
from timebank.bank.dispatch import availability_of, check_dispatchable, order_week
from timebank.bank.outbox import notify
from timebank.bank.purses import (
    check_payer_choice,
    check_provider,
    check_redeem_age,
    net,
    payer_for,
    receive,
    settle_hold,
    spend,
    stored_minutes,
)
from timebank.bank.supply import check_payer, recipient_for, visible_need
from timebank.community.errors import (
    ActorNotAuthorised,
    NeedNotOpen,
    OrderNotFound,
    OrderTransitionNotAllowed,
    RatingOutOfRange,
    ScheduleInvalid,
    SelfDealing,
    StoredMinutesCapExceeded,
)
from timebank.community.exchange import (
    HOLDING_STATUSES,
    TRANSITIONS,
    WAITING_STATUSES,
    NeedStatus,
    Order,
    OrderAction,
    OrderStatus,
    OrderStep,
    ServiceNeed,
    Urgency,
)
from timebank.community.model import Credit, CreditStatus, Member, PolicyVersion, Provenance
from timebank.community.policy import PolicyRules
from timebank.community.port import OrderQuery
from timebank.community.rules import advance, check_service, check_transition
from timebank.ledger import (
    Hold,
    InsufficientMinutes,
    Posting,
    Side,
    Transaction,
    VoidHold,
    debit,
)

__all__ = [
    "DeadlineRun",
    "accept_order",
    "cancel_order",
    "close_commitments",
    "close_order",
    "complete_order",
    "confirm_order",
    "decline_order",
    "dispatch_order",
    "publish_order",
    "rate_order",
    "reject_order",
    "request_order",
    "run_deadlines",
    "start_order",
    "visible_order",
]

DEADLINE_BATCH_MAX = 1_000
ORDER_CREDIT_PREFIX = "order-"
"""A confirmed order's credit is ``order-<order id>``."""


class DeadlineRun(Struct, frozen=True, kw_only=True):
    """What one pass over the deadlines did."""

    escalated: tuple[str, ...]
    """Orders that went up a level of the escalation chain."""
    expired: tuple[str, ...]
    reminded: tuple[str, ...]
    """Offers whose volunteers were reminded that they lapse soon."""
    more: bool
    """More orders were due than the batch allowed: run again."""


def visible_order(snap: Snapshot, order_id: str) -> Order:
    """The order, if the caller may see it; otherwise, as for an unknown id, not found."""
    order = snap.orders.get(order_id)
    if order is None or not snap.viewer.sees_order(order):
        raise OrderNotFound(order_id=str(order_id)[:128])
    return order


def _minutes(value: int) -> timedelta:
    return timedelta(minutes=value)


def request_order(
    ctx: Context,
    *,
    order_id: str,
    need_id: str | None,
    recipient_id: str | None,
    category: str | None,
    estimated_minutes: int | None,
    scheduled_at: datetime | None,
    payer: str | None,
    urgency: Urgency | None,
) -> Order:
    """Order a service (点单): from a need in the demand ledger, or directly."""
    need: ServiceNeed | None = None
    if need_id is not None:
        need = visible_need(ctx, check_record_id("need_id", need_id, 64))
    ordered_for = need.recipient_id if need is not None else recipient_id
    if ordered_for is None:
        raise ScheduleInvalid(field="recipient_id", reason="a need or a recipient is needed")
    for_member = ctx.visible_member(ordered_for)
    on_behalf_of = ctx.acting_for(for_member, "order a service", staff_ok=True)
    check_payer_choice(ctx, payer, for_member)
    ctx.once(
        "request_order",
        order_id,
        need_id=need_id,
        recipient_id=recipient_id,
        category=category,
        estimated_minutes=estimated_minutes,
        scheduled_at=scheduled_at,
        payer=payer,
        urgency=urgency,
    )
    existing = ctx.orders.get(order_id)
    if existing is not None:
        return existing
    policy = ctx.policy()
    if need is not None:
        if need.status is not NeedStatus.OPEN:
            raise NeedNotOpen(need_id=need.need_id)
        recipient_id = need.recipient_id
        category = need.category if category is None else category
        estimated_minutes = (
            need.estimated_minutes if estimated_minutes is None else estimated_minutes
        )
        payer = need.payer if payer is None else payer
        urgency = need.urgency if urgency is None else urgency
        if scheduled_at is None:
            scheduled_at = need.once_at
    assert recipient_id is not None
    return _new_order(
        ctx,
        policy,
        need,
        order_id=order_id,
        need_id=need_id,
        recipient_id=recipient_id,
        category=category,
        estimated_minutes=estimated_minutes,
        scheduled_at=scheduled_at,
        payer=payer,
        urgency=urgency,
        on_behalf_of=on_behalf_of,
    )


def _new_order(
    ctx: Context,
    policy: PolicyVersion,
    need: ServiceNeed | None,
    *,
    order_id: str,
    need_id: str | None,
    recipient_id: str,
    category: str | None,
    estimated_minutes: int | None,
    scheduled_at: datetime | None,
    payer: str | None,
    urgency: Urgency | None,
    on_behalf_of: str | None,
) -> Order:
    """A new order, once every rule holds (what the need leaves open already filled in)."""
    rules = policy.rules
    recipient, category = recipient_for(ctx, rules, recipient_id, category)
    if estimated_minutes is None:
        raise ScheduleInvalid(field="estimated_minutes", reason="an estimate is needed")
    reserved = check_service(rules, category, estimated_minutes)
    if scheduled_at is not None:
        check_moment("scheduled_at", scheduled_at)
        if need is not None and not _within(need, ctx.local_date(scheduled_at)):
            raise ScheduleInvalid(field="scheduled_at", reason="outside the need's dates")
    chosen_urgency = (
        Urgency.NORMAL if urgency is None else check_choice("urgency", Urgency, urgency)
    )
    deadlines = rules.deadlines_of(category)
    accept_due = ctx.now + _minutes(deadlines.accept_within_minutes)
    expires = rules.order_expires_after_minutes
    start = max(ctx.now, scheduled_at) if scheduled_at is not None else ctx.now
    order = Order(
        order_id=order_id,
        need_id=need_id,
        recipient_id=recipient_id,
        category=category,
        community=recipient.community if need is None else need.community,
        grid=recipient.grid if need is None else need.grid,
        x_metres=None if need is None else need.x_metres,
        y_metres=None if need is None else need.y_metres,
        urgency=chosen_urgency,
        estimated_minutes=estimated_minutes,
        reserved_minutes=reserved,
        payer=check_payer(ctx, rules, recipient, payer),
        scheduled_at=scheduled_at,
        policy_version=policy.version,
        requested_at=ctx.now,
        accept_due_at=accept_due,
        expires_at=None if expires is None else start + _minutes(expires),
        escalate_at=accept_due,
        history=(
            OrderStep(
                action=OrderAction.REQUEST,
                status=OrderStatus.REQUESTED,
                at=ctx.now,
                actor=ctx.actor,
                on_behalf_of=on_behalf_of,
            ),
        ),
    )
    ctx.orders.put(order)
    return order


def _within(need: ServiceNeed, day: date) -> bool:
    return need.starts_on <= day and (need.until is None or day <= need.until)


def _order(ctx: Context, order_id: str) -> Order:
    return visible_order(ctx, order_id)


def _allow(order: Order, action: OrderAction) -> None:
    check_transition(order, action)


def _advance(
    ctx: Context,
    order: Order,
    action: OrderAction,
    *,
    on_behalf_of: str | None = None,
    note: str = "",
    **changes: object,
) -> Order:
    updated = advance(
        order,
        action,
        at=ctx.now,
        actor=ctx.actor,
        on_behalf_of=on_behalf_of,
        note=note,
        **changes,
    )
    ctx.orders.put(updated)
    return updated


def _for_side(ctx: Context, order: Order, member_id: str, action: str) -> str | None:
    """The member, their proxy, or a coordinator of the order's community acts on a side of it
    (returns on whose behalf, None for the member themselves)."""
    if ctx.actor == member_id:
        return None
    if ctx.viewer.acts_for(member_id) or ctx.viewer.covers(order.community):
        return member_id
    raise ActorNotAuthorised(actor=ctx.actor, action=action, member_id=member_id)


def _for_recipient(ctx: Context, order: Order, action: str) -> str | None:
    """The recipient, their proxy, or a coordinator acts on the recipient's side."""
    return _for_side(ctx, order, order.recipient_id, action)


def _for_volunteer(ctx: Context, order: Order, volunteer_id: str, action: str) -> str | None:
    """The volunteer, their proxy, or a coordinator acts on the volunteer's side."""
    return _for_side(ctx, order, volunteer_id, action)


def dispatch_order(ctx: Context, *, order_id: str, volunteer_id: str) -> Order:
    """A coordinator dispatches the order to one volunteer (派单) of their communities, one
    ``check_dispatchable`` admits (eligible, and available as their offers say)."""
    order = _order(ctx, order_id)
    ctx.viewer.require_covers("dispatch an order", order.community)
    _allow(order, OrderAction.DISPATCH)
    volunteer = ctx.visible_member(volunteer_id)
    check_dispatchable(
        ctx,
        ctx.policy().rules,
        order,
        volunteer,
        today=ctx.today,
        availability=availability_of(ctx, volunteer_id, order_week(ctx, order, ctx.now)),
    )
    updated = _advance(ctx, order, OrderAction.DISPATCH, dispatched_to=volunteer_id)
    notify(ctx, "order.dispatched", volunteer_id, order=order_id, category=order.category)
    return updated


def publish_order(ctx: Context, *, order_id: str) -> Order:
    """A coordinator publishes the order for any eligible volunteer to claim."""
    order = _order(ctx, order_id)
    ctx.viewer.require_covers("publish an order", order.community)
    _allow(order, OrderAction.PUBLISH)
    return _advance(ctx, order, OrderAction.PUBLISH)


def decline_order(ctx: Context, *, order_id: str, reason: str) -> Order:
    """The volunteer it was dispatched to declines: the order waits to be dispatched again."""
    order = _order(ctx, order_id)
    _allow(order, OrderAction.DECLINE)
    assert order.dispatched_to is not None
    on_behalf_of = _for_volunteer(ctx, order, order.dispatched_to, "decline an order")
    note = check_reason("decline an order", reason)
    return _advance(
        ctx, order, OrderAction.DECLINE, on_behalf_of=on_behalf_of, note=note, dispatched_to=None
    )


def _eligible(ctx: Context, rules: PolicyRules, order: Order, volunteer_id: str) -> Member:
    if volunteer_id == order.recipient_id:
        raise SelfDealing(member_id=volunteer_id, action="serve")
    volunteer = ctx.active_member(volunteer_id)
    check_provider(ctx, rules, volunteer, group=False)
    return volunteer


def _payer_debits(
    ctx: Context, rules: PolicyRules, order: Order, minutes: int
) -> tuple[str, list[Posting]]:
    """Who pays the reservation, and the debits: as ``payer_for`` decides, plus ``gifted``."""
    recipient = ctx.active_member(order.recipient_id)
    if order.payer != "gifted":
        account, saver = payer_for(ctx, rules, recipient, order.payer)
        if saver is None:
            return account, [debit(account, minutes)]
        check_redeem_age(ctx, rules, saver)
        return account, spend(ctx, rules, saver.member_id, minutes)
    check_redeem_age(ctx, rules, recipient)
    gifted = member_account(recipient.member_id, GIFTED)
    available = ctx.account(gifted).available_minutes
    if available < minutes:
        raise InsufficientMinutes(
            account_id=gifted,
            available_minutes=available,
            requested_minutes=minutes,
            balance_minutes_min=0,
        )
    return gifted, [debit(gifted, minutes)]


def accept_order(ctx: Context, *, order_id: str, volunteer_id: str) -> Order:
    """A volunteer accepts (接单): the payer's reserved minutes are held for them."""
    order = _order(ctx, order_id)
    _allow(order, OrderAction.ACCEPT)
    if ctx.viewer.acts_for(volunteer_id):
        on_behalf_of = None if ctx.actor == volunteer_id else volunteer_id
    else:
        # A coordinator accepts for a volunteer (say, by phone) of their communities.
        ctx.viewer.require_covers("accept an order", order.community)
        ctx.require_coordinator("accept an order", ctx.visible_member(volunteer_id))
        on_behalf_of = volunteer_id
    if order.status is OrderStatus.DISPATCHED and order.dispatched_to != volunteer_id:
        raise OrderTransitionNotAllowed(
            order_id=order_id, status=order.status.value, action="be accepted by another volunteer"
        )
    policy = ctx.policy()
    rules = policy.rules
    _eligible(ctx, rules, order, volunteer_id)
    ctx.active_member(order.recipient_id)
    reserved = check_service(rules, order.category, order.estimated_minutes)
    payer_account, debits = _payer_debits(ctx, rules, order, reserved)
    credits = receive(ctx, rules, volunteer_id, reserved, OWN, overflow=True)
    postings = net([*debits, *credits])
    if len(postings) < 2:
        # The payer is the overflow account and the volunteer is full: nothing would be held.
        raise StoredMinutesCapExceeded(
            member_id=volunteer_id,
            stored_minutes=stored_minutes(ctx, volunteer_id),
            cap_minutes=rules.stored_minutes_max or 0,
            requested_minutes=reserved,
        )
    hold_id = ctx.fresh_id(f"order.{order_id}")
    metadata = {
        "kind": "order",
        "policy_version": str(policy.version),
        "actor": ctx.actor,
        "order": order_id,
        "category": order.category,
        "provider": volunteer_id,
        "recipient": order.recipient_id,
    }
    ctx.submit(
        Hold(
            transaction_id=hold_id,
            postings=postings,
            code="order",
            metadata=metadata,
        )
    )
    complete_due = max(ctx.now, order.scheduled_at or ctx.now) + _minutes(
        rules.deadlines_of(order.category).complete_within_minutes
    )
    return _advance(
        ctx,
        order,
        OrderAction.ACCEPT,
        on_behalf_of=on_behalf_of,
        volunteer_id=volunteer_id,
        dispatched_to=volunteer_id,
        payer_account=payer_account,
        hold_id=hold_id,
        reserved_minutes=reserved,
        policy_version=policy.version,
        accepted_at=ctx.now,
        complete_due_at=complete_due,
        escalation_level=0,
        escalate_at=complete_due,
    )


def start_order(ctx: Context, *, order_id: str) -> Order:
    """The volunteer checks in."""
    order = _order(ctx, order_id)
    _allow(order, OrderAction.START)
    assert order.volunteer_id is not None
    on_behalf_of = _for_volunteer(ctx, order, order.volunteer_id, "check in")
    return _advance(ctx, order, OrderAction.START, on_behalf_of=on_behalf_of, started_at=ctx.now)


def complete_order(ctx: Context, *, order_id: str, actual_minutes: int) -> Order:
    """The volunteer checks out with the minutes actually served (办结)."""
    order = _order(ctx, order_id)
    _allow(order, OrderAction.COMPLETE)
    assert order.volunteer_id is not None
    on_behalf_of = _for_volunteer(ctx, order, order.volunteer_id, "check out")
    policy = ctx.records.policy(order.policy_version)
    assert policy is not None
    check_service(policy.rules, order.category, actual_minutes)
    return _advance(
        ctx,
        order,
        OrderAction.COMPLETE,
        on_behalf_of=on_behalf_of,
        completed_at=ctx.now,
        actual_minutes=actual_minutes,
        escalate_at=None,
    )


def _confirmation(ctx: Context, order: Order) -> Provenance:
    if ctx.actor == order.recipient_id or ctx.viewer.proxy_for(order.recipient_id):
        return Provenance.RECIPIENT_CONFIRMATION
    return Provenance.ORGANISATION_CONFIRMATION


def _order_credit(
    ctx: Context,
    order: Order,
    credited: int,
    confirmation: Provenance,
    on_behalf_of: str | None,
    posted: Transaction,
) -> Credit:
    """The credit record of a confirmed order, from the postings that settled its hold."""
    assert order.volunteer_id is not None
    assert order.hold_id is not None
    assert order.actual_minutes is not None
    assert order.payer_account is not None
    provider_account = member_account(order.volunteer_id)
    to_provider = sum(
        p.amount_minutes
        for p in posted.postings
        if p.side is Side.CREDIT and p.account_id.startswith(provider_account)
    )
    overflow = [
        p.account_id
        for p in posted.postings
        if p.side is Side.CREDIT and not p.account_id.startswith(provider_account)
    ]
    assert order.completed_at is not None
    return Credit(
        credit_id=f"{ORDER_CREDIT_PREFIX}{order.order_id}",
        provider_id=order.volunteer_id,
        recipient_id=order.recipient_id,
        payer_account=order.payer_account,
        category=order.category,
        raw_minutes=order.actual_minutes,
        credited_minutes=credited,
        provenance=Provenance.CHECK_IN_OUT,
        policy_version=order.policy_version,
        served_at=order.completed_at,
        place=order.grid,
        status=CreditStatus.POSTED,
        transaction_id=order.hold_id,
        recorded_at=ctx.now,
        actor=ctx.actor,
        on_behalf_of=on_behalf_of,
        provider_minutes=to_provider,
        provider_account=provider_account,
        overflow_account=overflow[0] if overflow else None,
        settled_transaction_id=posted.transaction_id,
        confirmation=confirmation,
        confirmed_by=ctx.actor,
        note=f"order {order.order_id}",
    )


def confirm_order(ctx: Context, *, order_id: str) -> Order:
    """The recipient, a proxy or a coordinator confirms: the credit posts through the rules."""
    order = _order(ctx, order_id)
    _allow(order, OrderAction.CONFIRM)
    on_behalf_of = _for_recipient(ctx, order, "confirm a service")
    ctx.forbid_own_gain(order.volunteer_id, "confirm a service they gave")
    assert order.volunteer_id is not None
    assert order.hold_id is not None
    assert order.actual_minutes is not None
    assert order.payer_account is not None
    policy = ctx.records.policy(order.policy_version)
    assert policy is not None
    credited = min(
        check_service(policy.rules, order.category, order.actual_minutes), order.reserved_minutes
    )
    confirmation = _confirmation(ctx, order)
    credit_id = f"{ORDER_CREDIT_PREFIX}{order_id}"
    metadata = {
        "kind": "service",
        "policy_version": str(order.policy_version),
        "actor": ctx.actor,
        "category": order.category,
        "raw_minutes": str(order.actual_minutes),
        "credited_minutes": str(credited),
        "provenance": Provenance.CHECK_IN_OUT.value,
        "confirmation": confirmation.value,
        "provider": order.volunteer_id,
        "recipient": order.recipient_id,
        "order": order_id,
        "credit": credit_id,
    }
    if on_behalf_of is not None:
        metadata["on_behalf_of"] = on_behalf_of
    posted = settle_hold(
        ctx,
        hold_id=order.hold_id,
        minutes=credited,
        held_minutes=order.reserved_minutes,
        transaction_id=ctx.fresh_id(f"served.{order_id}"),
        release_id=f"settled.{order_id}",
        code="service",
        metadata=metadata,
    )
    ctx.records.put_credit(_order_credit(ctx, order, credited, confirmation, on_behalf_of, posted))
    return _advance(
        ctx,
        order,
        OrderAction.CONFIRM,
        on_behalf_of=on_behalf_of,
        credit_id=credit_id,
        credited_minutes=credited,
        settled_transaction_id=posted.transaction_id,
        confirmed_at=ctx.now,
    )


def _void(ctx: Context, order: Order, action: str, note: str) -> str | None:
    """Release the order's hold, if it holds one; returns the void's transaction id."""
    if not order.holding or order.hold_id is None:
        return None
    voided = ctx.submit(
        VoidHold(
            transaction_id=ctx.fresh_id(f"{action}.{order.order_id}"),
            hold_id=order.hold_id,
            code=action,
            metadata={
                "kind": action,
                "policy_version": str(order.policy_version),
                "actor": ctx.actor,
                "order": order.order_id,
                "reason": note[:200],
            },
        )
    )
    return voided.transaction_id


def reject_order(ctx: Context, *, order_id: str, reason: str) -> Order:
    """The recipient (or proxy, or coordinator) rejects the completed work: nothing is paid."""
    order = _order(ctx, order_id)
    _allow(order, OrderAction.REJECT)
    on_behalf_of = _for_recipient(ctx, order, "reject a service")
    note = check_reason("reject a service", reason)
    voided = _void(ctx, order, "rejected", note)
    return _advance(
        ctx,
        order,
        OrderAction.REJECT,
        on_behalf_of=on_behalf_of,
        note=note,
        settled_transaction_id=voided,
        escalate_at=None,
    )


def cancel_order(ctx: Context, *, order_id: str, reason: str) -> Order:
    """The recipient's side or a coordinator cancels an unfinished order; any hold is voided."""
    order = _order(ctx, order_id)
    _allow(order, OrderAction.CANCEL)
    on_behalf_of = _for_recipient(ctx, order, "cancel an order")
    note = check_reason("cancel an order", reason)
    voided = _void(ctx, order, "cancelled", note)
    return _advance(
        ctx,
        order,
        OrderAction.CANCEL,
        on_behalf_of=on_behalf_of,
        note=note,
        settled_transaction_id=voided,
        escalate_at=None,
    )


def rate_order(ctx: Context, *, order_id: str, rating: int, comment: str) -> Order:
    """The recipient (or their proxy) rates a confirmed service, 1 to 5."""
    order = _order(ctx, order_id)
    _allow(order, OrderAction.RATE)
    on_behalf_of = _for_recipient(ctx, order, "rate a service")
    ctx.forbid_own_gain(order.volunteer_id, "rate a service they gave")
    if type(rating) is not int or not 1 <= rating <= 5:
        raise RatingOutOfRange(rating=repr(rating)[:16])
    return _advance(
        ctx,
        order,
        OrderAction.RATE,
        on_behalf_of=on_behalf_of,
        rating=rating,
        comment=check_text("comment", comment),
    )


def close_order(ctx: Context, *, order_id: str, follow_up: str) -> Order:
    """A coordinator closes out the order (销号) with the follow-up visit's record (回访)."""
    order = _order(ctx, order_id)
    ctx.viewer.require_covers("close out an order", order.community)
    _allow(order, OrderAction.CLOSE)
    note = check_reason("close out an order", follow_up)
    return _advance(ctx, order, OrderAction.CLOSE, follow_up=note, closed_at=ctx.now)


def run_deadlines(ctx: Context, *, limit: int) -> DeadlineRun:
    """Escalate overdue orders, expire stale ones, remind volunteers of lapsing offers.

    A run spans every community, so the application or an administrator runs it.
    """
    ctx.viewer.require_everywhere("run the deadlines")
    if type(limit) is not int or not 1 <= limit <= DEADLINE_BATCH_MAX:
        raise ScheduleInvalid(field="limit", reason=f"1 to {DEADLINE_BATCH_MAX}")
    rules = ctx.policy().rules
    escalated: list[str] = []
    expired: list[str] = []
    due = ctx.orders.due(ctx.now, limit=limit + 1)
    for order in due[:limit]:
        statuses, _ = TRANSITIONS[OrderAction.EXPIRE]
        if (
            order.expires_at is not None
            and order.expires_at <= ctx.now
            and order.status in statuses
        ):
            voided = _void(ctx, order, "expired", "not started in time")
            _advance(
                ctx,
                order,
                OrderAction.EXPIRE,
                note="not started in time",
                settled_transaction_id=voided,
                escalate_at=None,
            )
            notify(
                ctx,
                "order.expired",
                order.order_id,
                order=order.order_id,
                status_before=order.status,
            )
            expired.append(order.order_id)
        elif order.escalate_at is not None and order.escalate_at <= ctx.now:
            _escalate(ctx, rules, order)
            escalated.append(order.order_id)
    reminded = _remind(ctx, rules)
    return DeadlineRun(
        escalated=tuple(escalated),
        expired=tuple(expired),
        reminded=reminded,
        more=len(due) > limit,
    )


def _escalate(ctx: Context, rules: PolicyRules, order: Order) -> None:
    chain = rules.escalation_chain
    level = min(order.escalation_level + 1, len(chain))
    to = chain[level - 1]
    next_at = ctx.now + _minutes(rules.escalate_every_minutes) if level < len(chain) else None
    phase = "completion" if order.status in HOLDING_STATUSES else "acceptance"
    _advance(
        ctx,
        order,
        OrderAction.ESCALATE,
        note=f"overdue for {phase}; escalated to {to}",
        escalation_level=level,
        escalate_at=next_at,
    )
    notify(
        ctx,
        "order.escalated",
        order.order_id,
        order=order.order_id,
        level=level,
        to=to,
        community=order.community,
        grid=order.grid,
        overdue_for=phase,
        status=order.status,
    )


def _remind(ctx: Context, rules: PolicyRules) -> tuple[str, ...]:
    horizon = ctx.today + timedelta(days=rules.offer_reminder_days)
    reminded = []
    for offer in ctx.records.offers():
        if (
            offer.ends_on is not None
            and offer.reminded_at is None
            and offer.withdrawn_at is None
            and ctx.today <= offer.ends_on <= horizon
        ):
            ctx.records.put_offer(msgspec.structs.replace(offer, reminded_at=ctx.now))
            notify(
                ctx,
                "offer.lapsing",
                offer.volunteer_id,
                offer=offer.offer_id,
                volunteer=offer.volunteer_id,
                ends_on=offer.ends_on,
            )
            reminded.append(offer.offer_id)
    return tuple(reminded)


def close_commitments(ctx: Context, member: Member) -> None:
    """Close what waits on a member who died and holds no minutes (see ``record_death``).

    Orders for them not yet accepted are cancelled; orders dispatched to them go
    back to be dispatched again; their offers are withdrawn, their needs and
    care file closed, their wishes not yet fulfilled withdrawn. Each change is
    recorded as the actor's, with the reason.
    """
    member_id = member.member_id
    note = "the member died"
    waiting = ctx.orders.query(
        OrderQuery(parties=(member_id,)), after=None, limit=DEADLINE_BATCH_MAX
    )
    for order in waiting:
        if order.recipient_id == member_id and order.status in WAITING_STATUSES:
            _advance(ctx, order, OrderAction.CANCEL, note=note, escalate_at=None)
        elif order.dispatched_to == member_id and order.status is OrderStatus.DISPATCHED:
            _advance(ctx, order, OrderAction.DECLINE, note=note, dispatched_to=None)
    for offer in list(ctx.records.offers(volunteer_id=member_id)):
        if offer.withdrawn_at is None:
            ctx.records.put_offer(msgspec.structs.replace(offer, withdrawn_at=ctx.now))
    for need in list(ctx.records.needs(recipient_id=member_id)):
        if need.status is NeedStatus.OPEN:
            ctx.records.put_need(msgspec.structs.replace(need, status=NeedStatus.CLOSED))
    care = ctx.records.care_file(member_id)
    if care is not None and care.closed_at is None:
        ctx.records.put_care_file(msgspec.structs.replace(care, closed_at=ctx.now))
