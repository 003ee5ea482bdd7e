"""Use cases on many members at once: group events, expiry of old minutes, death.

Each is still one unit of work and one ledger transaction, however many
members it touches (bounded by ``ATTENDEES_MAX`` and ``EXPIRY_BATCH_MAX``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import msgspec
from msgspec import Struct

from timebank.bank.accounts import GIFTED, GROUP, GUARANTEE, ISSUANCE, OWN, POOL, member_account
from timebank.bank.context import Context
from timebank.bank.exchange import close_commitments
from timebank.bank.members import NAME_LENGTH_MAX, check_record_id, check_text
from timebank.bank.minutes import (
    check_moment,
    check_programme,
    check_provider,
    check_service,
    net,
    receive,
    stored_minutes,
)
from timebank.community.errors import (
    AttendeesInvalid,
    BirthDateInvalid,
    BookingsOpenAtDeath,
    CategoryUnknown,
    ChoiceUnknown,
    EventNotFound,
    GiftNotAllowed,
    MemberNotActive,
    RecipientNotEligible,
    StoredMinutesCapExceeded,
)
from timebank.community.exchange import HOLDING_STATUSES
from timebank.community.model import (
    Credit,
    CreditStatus,
    Event,
    MemberStatus,
    Provenance,
    RedemptionStatus,
)
from timebank.community.policy import DeathHandling, PolicyRules
from timebank.community.port import OrderQuery
from timebank.ledger import (
    PageSizeOutOfRange,
    Posting,
    Transfer,
    credit,
    debit,
)

__all__ = [
    "ATTENDEES_MAX",
    "EXPIRY_BATCH_MAX",
    "MinutesExpiry",
    "create_event",
    "credit_event",
    "expire_minutes",
    "record_death",
]

ATTENDEES_MAX = 300
"""Attendees per crediting: each may need two postings (their purse and the overflow)."""
EXPIRY_BATCH_MAX = 200
ENTRY_PAGE = 500


class MinutesExpiry(Struct, frozen=True, kw_only=True):
    expired_minutes: dict[str, int]
    """Minutes expired per member in this batch."""
    next_after: str | None
    """Pass as ``after`` for the next batch of members; None when every member was seen."""
    transaction_id: str | None


def create_event(
    ctx: Context,
    *,
    event_id: str,
    title: str,
    category: str,
    held_at: datetime,
    place: str,
    payer: str | None,
    group: bool,
) -> Event:
    """Announce a group event; its attendees are credited later, in one transaction per batch."""
    ctx.require_coordinator("create an event")
    ctx.once(
        "create_event",
        event_id,
        title=title,
        category=category,
        held_at=held_at,
        place=place,
        payer=payer,
        group=group,
    )
    existing = ctx.records.event(event_id)
    if existing is not None:
        return existing
    rules = ctx.policy().rules
    check_text("title", title, NAME_LENGTH_MAX * 2)
    if not title.strip():
        raise AttendeesInvalid(reason="an event needs a title")
    check_text("place", place)
    check_moment("held_at", held_at)
    if (
        type(category) is not str
        or not category
        or len(category) > 64
        or (rules.categories and category not in rules.categories)
    ):
        raise CategoryUnknown(category=str(category)[:64])
    if type(group) is not bool:
        raise ChoiceUnknown(field="group", value=str(group)[:64], choices="True, False")
    if payer is None:
        payer = rules.payer_default if rules.payer_default != "recipient" else ISSUANCE
    check_programme(ctx, payer)
    if payer == GUARANTEE and rules.guarantee_grants_to:
        # The fund pays only for the residents it covers; an event serves no one resident.
        raise RecipientNotEligible(
            member_id="", reason="the guarantee fund pays only for the residents it covers"
        )
    event = Event(
        event_id=event_id,
        title=title,
        category=category,
        held_at=held_at,
        place=place,
        payer_account=payer,
        created_at=ctx.now,
        created_by=ctx.actor,
        group=group,
    )
    ctx.records.put_event(event)
    return event


def credit_event(
    ctx: Context, *, event_id: str, request_id: str, attendees: Mapping[str, int]
) -> tuple[Credit, ...]:
    """Credit attendees of an event in one transaction; a member is credited once per event.

    A coordinator of every attendee's community credits them, never themselves.
    """
    ctx.require_coordinator("credit an event")
    event = ctx.records.event(event_id)
    if event is None:
        raise EventNotFound(event_id=str(event_id)[:128])
    if not 0 < len(attendees) <= ATTENDEES_MAX:
        raise AttendeesInvalid(reason=f"1 to {ATTENDEES_MAX} attendees per crediting")
    if any(type(member_id) is not str for member_id in attendees):
        raise AttendeesInvalid(reason="attendees are named by member id")
    ctx.require_coordinator(
        "credit an event", *(ctx.visible_member(member_id) for member_id in sorted(attendees))
    )
    ctx.forbid_own_gain(ctx.actor if ctx.actor in attendees else None, "credit themselves")
    transaction_id = f"event.{request_id}"
    ctx.once("credit_event", request_id, event_id=event_id, attendees=attendees)
    if ctx.prior(transaction_id) is not None:
        return tuple(ctx.records.event_credits(event_id, transaction_id))
    policy = ctx.policy()
    rules = policy.rules
    purse = GROUP if event.group and rules.group_minutes_donate_only else OWN
    planned = _plan_event(ctx, rules, event, attendees, purse)
    total = sum(minutes for _, _, minutes, _ in planned)
    metadata = {
        "kind": "event",
        "event": event_id,
        "category": event.category,
        "provenance": Provenance.ORGANISATION_CONFIRMATION.value,
        "policy_version": str(policy.version),
        "actor": ctx.actor,
    }
    postings = net([debit(event.payer_account, total), *(p for *_, c in planned for p in c)])
    if len(postings) < 2:
        # Paid from the overflow account to attendees who are all full: nothing would move.
        first = planned[0][0]
        raise StoredMinutesCapExceeded(
            member_id=first,
            stored_minutes=stored_minutes(ctx, first),
            cap_minutes=rules.stored_minutes_max or 0,
            requested_minutes=total,
        )
    ctx.submit(
        Transfer(
            transaction_id=transaction_id,
            postings=postings,
            code="event",
            metadata=metadata,
            effective_at=min(event.held_at, ctx.now),
        )
    )
    made = []
    for plan in planned:
        record = _event_credit(ctx, rules, event, policy.version, request_id, purse, plan)
        ctx.records.put_credit(record)
        ctx.records.put_event_credit(event_id, record.provider_id, record.credit_id)
        made.append(record)
    return tuple(made)


def _event_credit(
    ctx: Context,
    rules: PolicyRules,
    event: Event,
    policy_version: int,
    request_id: str,
    purse: str,
    plan: tuple[str, int, int, list[Posting]],
) -> Credit:
    """The credit record of one attendee, in the event's transaction."""
    member_id, raw_minutes, minutes, credits = plan
    overflow = sum(p.amount_minutes for p in credits if p.account_id == rules.overflow_account)
    return Credit(
        credit_id=f"{request_id}.{member_id}",
        provider_id=member_id,
        recipient_id=None,
        payer_account=event.payer_account,
        category=event.category,
        raw_minutes=raw_minutes,
        credited_minutes=minutes,
        provenance=Provenance.ORGANISATION_CONFIRMATION,
        policy_version=policy_version,
        served_at=event.held_at,
        place=event.place,
        status=CreditStatus.POSTED,
        transaction_id=f"event.{request_id}",
        recorded_at=ctx.now,
        actor=ctx.actor,
        event_id=event.event_id,
        provider_minutes=minutes - overflow,
        provider_account=member_account(member_id, purse),
        overflow_account=rules.overflow_account if overflow else None,
    )


def _plan_event(
    ctx: Context,
    rules: PolicyRules,
    event: Event,
    attendees: Mapping[str, int],
    purse: str,
) -> list[tuple[str, int, int, list[Posting]]]:
    """Each attendee's raw and credited minutes and credits, once the rules hold for them."""
    planned: list[tuple[str, int, int, list[Posting]]] = []
    for member_id, raw_minutes in sorted(attendees.items()):
        if _credited(ctx, event.event_id, member_id):
            raise AttendeesInvalid(reason=f"{member_id!r} was already credited for this event")
        member = ctx.active_member(member_id)
        check_provider(ctx, rules, member, group=event.group)
        minutes = check_service(rules, event.category, raw_minutes)
        credits = receive(ctx, rules, member_id, minutes, purse, overflow=True)
        planned.append((member_id, raw_minutes, minutes, credits))
    return planned


def _credited(ctx: Context, event_id: str, member_id: str) -> bool:
    """Whether the member holds a credit for the event (one that was reversed does not count)."""
    credit_id = ctx.records.event_credit_id(event_id, member_id)
    if credit_id is None:
        return False
    record = ctx.records.credit(credit_id)
    return record is not None and record.status is not CreditStatus.REVERSED


def expire_minutes(ctx: Context, *, after: str | None, limit: int) -> MinutesExpiry:
    """Expire members' earned minutes older than the policy allows, oldest first, into the pool.

    Spending uses the oldest minutes first, so what may expire is what was
    credited before the cut-off less everything ever spent (or expired) since.
    A batch spans every community, so the application or an administrator runs it.
    """
    ctx.viewer.require_everywhere("expire minutes")
    policy = ctx.policy()
    days = policy.rules.expiry_days
    if type(limit) is not int:
        raise PageSizeOutOfRange(limit=-1, maximum=EXPIRY_BATCH_MAX)
    if after is not None:
        check_record_id("after", after)
    limit = max(1, min(limit, EXPIRY_BATCH_MAX))
    members = ctx.records.members(after=after, limit=limit)
    next_after = members[-1].member_id if len(members) == limit else None
    if days is None:
        return MinutesExpiry(expired_minutes={}, next_after=next_after, transaction_id=None)
    cutoff = ctx.now - timedelta(days=days)
    expired: dict[str, int] = {}
    for member in members:
        minutes = _expirable(ctx, member_account(member.member_id), cutoff)
        if minutes > 0:
            expired[member.member_id] = minutes
    if not expired:
        return MinutesExpiry(expired_minutes={}, next_after=next_after, transaction_id=None)
    transaction_id = f"expire.{ctx.now.isoformat()}.{members[0].member_id}"
    postings = [debit(member_account(m), n) for m, n in expired.items()]
    postings.append(credit(POOL, sum(expired.values())))
    ctx.submit(
        Transfer(
            transaction_id=transaction_id[:128],
            postings=tuple(postings),
            code="expiry",
            metadata={
                "kind": "expiry",
                "policy_version": str(policy.version),
                "cutoff": cutoff.isoformat(),
                "actor": ctx.actor,
            },
        )
    )
    return MinutesExpiry(
        expired_minutes=expired, next_after=next_after, transaction_id=transaction_id[:128]
    )


def _expirable(ctx: Context, account_id: str, cutoff: datetime) -> int:
    old_credits = 0
    debits = 0
    after: int | None = None
    while True:
        entries = ctx.unit.ledger.entries(account_id, after=after, limit=ENTRY_PAGE)
        for entry in entries:
            delta = entry.posted_delta_minutes
            if delta > 0 and entry.effective_at <= cutoff:
                old_credits += delta
            elif delta < 0:
                debits -= delta
        if len(entries) < ENTRY_PAGE:
            break
        after = entries[-1].sequence
    available = ctx.account(account_id).available_minutes
    return max(0, min(old_credits - debits, available))


def record_death(
    ctx: Context, *, member_id: str, died_on: date, heirs: tuple[str, ...]
) -> str | None:
    """Record a death; by policy the minutes stay, go to named relatives, or to the pool.

    A coordinator of the member and of every heir records it, once nothing holds
    the member's minutes (a booking, an accepted order, a credit awaiting
    confirmation): otherwise ``BookingsOpenAtDeath`` names what to settle first,
    so that no minute is stranded in a closed purse. What waits on the member
    and holds nothing is closed with the death: orders not yet accepted are
    cancelled (or, dispatched to them, go back to be dispatched again), their
    offers withdrawn, their needs and care file closed, their unadopted wishes
    withdrawn.
    """
    member = ctx.visible_member(member_id)
    heirs = tuple(dict.fromkeys(heirs))
    ctx.require_coordinator("record a death", member, *(ctx.visible_member(heir) for heir in heirs))
    if member.status is MemberStatus.DECEASED:
        raise MemberNotActive(member_id=member_id, status=member.status.value)
    if type(died_on) is not date or not member.birth_date <= died_on <= ctx.today:
        raise BirthDateInvalid(birth_date=str(died_on)[:32])
    _refuse_open_bookings(ctx, member_id)
    policy = ctx.policy()
    handling = policy.rules.death_handling
    for heir in heirs:
        if ctx.records.relation(member_id, heir) is None:
            raise GiftNotAllowed(
                giver_id=member_id, receiver_id=heir, reason="not a recorded relative"
            )
        ctx.active_member(heir)
    transaction_id = None
    if handling is not DeathHandling.KEEP:
        transaction_id = _settle_estate(ctx, member_id, heirs, handling, policy.version)
    died = msgspec.structs.replace(member, status=MemberStatus.DECEASED, died_on=died_on)
    ctx.records.put_member(died)
    close_commitments(ctx, died)
    return transaction_id


BOOKINGS_NAMED_MAX = 10


def _refuse_open_bookings(ctx: Context, member_id: str) -> None:
    """Refuse while anything holds minutes to or from the member's purses."""
    purses = ctx.purses(member_id).values()
    held = sum(account.debits_pending_minutes for account in purses)
    incoming = sum(account.credits_pending_minutes for account in purses)
    if not held and not incoming:
        return
    named = [
        f"redemption {r.redemption_id}"
        for r in ctx.records.redemptions_of(member_id)
        if r.status is RedemptionStatus.BOOKED
    ]
    named += [
        f"order {o.order_id}"
        for o in ctx.orders.query(OrderQuery(parties=(member_id,)), after=None, limit=100)
        if o.status in HOLDING_STATUSES
    ]
    named += [
        f"credit {c.credit_id}"
        for c in ctx.records.credits_of(member_id)
        if c.status is CreditStatus.PENDING
    ]
    named += [
        f"credit {c.credit_id}"
        for c in ctx.records.credits_to_page(member_id, after=None, limit=100)
        if c.status is CreditStatus.PENDING
    ]
    raise BookingsOpenAtDeath(
        member_id=member_id,
        held_minutes=held,
        incoming_minutes=incoming,
        bookings=", ".join(named[:BOOKINGS_NAMED_MAX]) or "holds on their purses",
    )


def _settle_estate(
    ctx: Context, member_id: str, heirs: tuple[str, ...], handling: DeathHandling, version: int
) -> str | None:
    purses = ctx.purses(member_id)
    debits = [
        debit(member_account(member_id, purse), account.available_minutes)
        for purse, account in purses.items()
        if account.available_minutes > 0
    ]
    total = sum(p.amount_minutes for p in debits)
    if total == 0:
        return None
    if handling is DeathHandling.RELATIVES and heirs:
        share, remainder = divmod(total, len(heirs))
        credits: list[Posting] = []
        for index, heir in enumerate(heirs):
            amount = share + (remainder if index == 0 else 0)
            if amount:
                credits += receive(ctx, ctx.policy().rules, heir, amount, GIFTED, overflow=True)
    else:
        credits = [credit(POOL, total)]
    transaction_id = f"estate.{member_id}"
    ctx.submit(
        Transfer(
            transaction_id=transaction_id,
            postings=net([*debits, *credits]),
            code="estate",
            metadata={
                "kind": "estate",
                "policy_version": str(version),
                "deceased": member_id,
                "actor": ctx.actor,
            },
        )
    )
    return transaction_id
