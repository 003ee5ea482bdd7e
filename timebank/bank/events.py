"""Use cases of ``book.events``: group events (活动) and their attendees' credits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from timebank.bank.accounts import GROUP, GUARANTEE, ISSUANCE, OWN, member_account
from timebank.bank.checks import check_moment, check_text
from timebank.bank.context import Context
from timebank.bank.purses import check_programme, check_provider, net, receive, stored_minutes
from timebank.community.errors import (
    AttendeesInvalid,
    CategoryUnknown,
    ChoiceUnknown,
    EventNotFound,
    RecipientNotEligible,
    StoredMinutesCapExceeded,
)
from timebank.community.limits import NAME_LENGTH_MAX
from timebank.community.model import (
    Credit,
    CreditStatus,
    Event,
    Provenance,
)
from timebank.community.policy import PolicyRules
from timebank.community.rules import check_service
from timebank.ledger import (
    Posting,
    Transfer,
    debit,
)

__all__ = [
    "ATTENDEES_MAX",
    "create_event",
    "credit_event",
]


ATTENDEES_MAX = 300
"""Attendees per crediting: each may need two postings (their purse and the overflow)."""


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
