"""Use cases of ``book.wishes``: micro-wishes (微心愿).

A micro-wish is posted by a resident (or for them), adopted by a member or a
partner organisation, fulfilled, and confirmed by the resident's side; a
confirmation may credit the adopting member some minutes from the programme's
issuance account.
"""

from __future__ import annotations

import msgspec

from timebank.bank.accounts import ISSUANCE, OWN, member_account
from timebank.bank.checks import check_minutes, check_record_id, check_text
from timebank.bank.context import Context, Snapshot
from timebank.bank.purses import receive
from timebank.community.errors import (
    ActorNotAuthorised,
    ProviderNotEligible,
    ScheduleInvalid,
    WishNotFound,
    WishTransitionNotAllowed,
)
from timebank.community.exchange import Wish, WishStatus, WishStep
from timebank.community.limits import NAME_LENGTH_MAX
from timebank.community.model import Credit, CreditStatus, Provenance
from timebank.ledger import Transfer, debit

__all__ = [
    "adopt_wish",
    "confirm_wish",
    "fulfil_wish",
    "post_wish",
    "visible_wish",
    "withdraw_wish",
]


ORGANISATION_PREFIX = "org:"


def visible_wish(snap: Snapshot, wish_id: str) -> Wish:
    """The wish, if the caller may see it; otherwise, as for an unknown id, not found."""
    wish = snap.records.wish(wish_id)
    if wish is None or not snap.viewer.sees_wish(wish):
        raise WishNotFound(wish_id=str(wish_id)[:128])
    return wish


def _wish(ctx: Context, wish_id: str) -> Wish:
    return visible_wish(ctx, wish_id)


def _side(ctx: Context, wish: Wish, member_id: str, action: str) -> None:
    """The member, their proxy, or a coordinator of the wish's community acts for a side."""
    if not (ctx.viewer.acts_for(member_id) or ctx.viewer.covers(wish.community)):
        raise ActorNotAuthorised(actor=ctx.actor, action=action, member_id=member_id)


def _move(
    ctx: Context, wish: Wish, allowed: set[WishStatus], to: WishStatus, **changes: object
) -> Wish:
    if wish.status not in allowed:
        raise WishTransitionNotAllowed(
            wish_id=wish.wish_id, status=wish.status.value, action=to.value
        )
    step = WishStep(status=to, at=ctx.now, actor=ctx.actor)
    updated = msgspec.structs.replace(wish, status=to, history=(*wish.history, step), **changes)
    ctx.records.put_wish(updated)
    return updated


def post_wish(ctx: Context, *, wish_id: str, resident_id: str, title: str) -> Wish:
    """A resident (their proxy, or a coordinator) posts a micro-wish."""
    ctx.acting_for(ctx.visible_member(resident_id), "post a micro-wish", staff_ok=True)
    ctx.once("post_wish", wish_id, resident_id=resident_id, title=title)
    existing = ctx.records.wish(wish_id)
    if existing is not None:
        return existing
    resident = ctx.active_member(resident_id)
    if type(title) is not str or not title.strip():
        raise ScheduleInvalid(field="title", reason="a micro-wish needs a title")
    wish = Wish(
        wish_id=wish_id,
        resident_id=resident_id,
        title=check_text("title", title),
        community=resident.community,
        grid=resident.grid,
        posted_at=ctx.now,
        history=(WishStep(status=WishStatus.POSTED, at=ctx.now, actor=ctx.actor),),
    )
    ctx.records.put_wish(wish)
    return wish


def adopt_wish(ctx: Context, *, wish_id: str, adopter: str) -> Wish:
    """A member (for themselves) or a coordinator (for a partner organisation) adopts a wish."""
    wish = _wish(ctx, wish_id)
    if type(adopter) is str and adopter.startswith(ORGANISATION_PREFIX):
        ctx.viewer.require_covers("adopt a micro-wish for an organisation", wish.community)
        check_text("adopter", adopter, NAME_LENGTH_MAX)
        if len(adopter) == len(ORGANISATION_PREFIX):
            raise ScheduleInvalid(field="adopter", reason="the organisation needs a name")
    else:
        check_record_id("adopter", adopter)
        if not ctx.viewer.acts_for(adopter):
            # A coordinator adopts for a member of their communities.
            ctx.viewer.require_covers("adopt a micro-wish", wish.community)
            ctx.require_coordinator("adopt a micro-wish", ctx.visible_member(adopter))
        ctx.active_member(adopter)
    return _move(
        ctx, wish, {WishStatus.POSTED}, WishStatus.ADOPTED, adopter=adopter, adopted_at=ctx.now
    )


def fulfil_wish(ctx: Context, *, wish_id: str) -> Wish:
    """The adopter (or a coordinator) reports the wish fulfilled."""
    wish = _wish(ctx, wish_id)
    if wish.status is WishStatus.ADOPTED:
        _adopter_side(ctx, wish)
    return _move(ctx, wish, {WishStatus.ADOPTED}, WishStatus.FULFILLED, fulfilled_at=ctx.now)


def _adopter_side(ctx: Context, wish: Wish) -> None:
    adopter = wish.adopter
    if adopter is None or adopter.startswith(ORGANISATION_PREFIX):
        ctx.viewer.require_covers("report a micro-wish fulfilled", wish.community)
    else:
        _side(ctx, wish, adopter, "report a micro-wish fulfilled")


def confirm_wish(ctx: Context, *, wish_id: str, credit_minutes: int) -> Wish:
    """The resident's side confirms; a member adopter may be credited minutes by the programme."""
    wish = _wish(ctx, wish_id)
    _side(ctx, wish, wish.resident_id, "confirm a micro-wish")
    if wish.status is not WishStatus.FULFILLED:
        raise WishTransitionNotAllowed(
            wish_id=wish_id, status=wish.status.value, action=WishStatus.CONFIRMED.value
        )
    if credit_minutes != 0:
        check_minutes("credit_minutes", credit_minutes)
    credit_id = None
    adopter = wish.adopter
    if credit_minutes and adopter is not None and adopter.startswith(ORGANISATION_PREFIX):
        reason = "a partner organisation has no time account to credit"
        raise ProviderNotEligible(member_id=adopter[:128], reason=reason)
    if credit_minutes and adopter is not None:
        # The programme pays: a coordinator of both sides credits, never the adopter.
        ctx.require_coordinator(
            "credit minutes for a micro-wish",
            ctx.member(wish.resident_id),
            ctx.member(adopter),
        )
        ctx.forbid_own_gain(adopter, "credit minutes for a micro-wish they adopted")
        credit_id = _credit_adopter(ctx, wish, adopter, credit_minutes)
    return _move(
        ctx,
        wish,
        {WishStatus.FULFILLED},
        WishStatus.CONFIRMED,
        confirmed_at=ctx.now,
        credit_minutes=credit_minutes if credit_id else 0,
        credit_id=credit_id,
    )


def _credit_adopter(ctx: Context, wish: Wish, adopter: str, minutes: int) -> str:
    policy = ctx.policy()
    ctx.active_member(adopter)
    credits = receive(ctx, policy.rules, adopter, minutes, OWN, overflow=True)
    credit_id = f"wish-{wish.wish_id}"
    metadata = {
        "kind": "service",
        "policy_version": str(policy.version),
        "actor": ctx.actor,
        "category": "micro_wish",
        "raw_minutes": str(minutes),
        "credited_minutes": str(minutes),
        "provenance": Provenance.ORGANISATION_CONFIRMATION.value,
        "provider": adopter,
        "recipient": wish.resident_id,
        "wish": wish.wish_id,
        "credit": credit_id,
    }
    posted = ctx.submit(
        Transfer(
            transaction_id=ctx.fresh_id(f"wish.{wish.wish_id}"),
            postings=(debit(ISSUANCE, minutes), *credits),
            code="service",
            metadata=metadata,
        )
    )
    account = member_account(adopter)
    to_adopter = sum(p.amount_minutes for p in credits if p.account_id == account)
    ctx.records.put_credit(
        Credit(
            credit_id=credit_id,
            provider_id=adopter,
            recipient_id=wish.resident_id,
            payer_account=ISSUANCE,
            category="micro_wish",
            raw_minutes=minutes,
            credited_minutes=minutes,
            provenance=Provenance.ORGANISATION_CONFIRMATION,
            policy_version=policy.version,
            served_at=wish.fulfilled_at or ctx.now,
            place=wish.grid,
            status=CreditStatus.POSTED,
            transaction_id=posted.transaction_id,
            recorded_at=ctx.now,
            actor=ctx.actor,
            provider_minutes=to_adopter,
            provider_account=account,
            overflow_account=None if to_adopter == minutes else policy.rules.overflow_account,
            note=f"micro-wish {wish.wish_id}",
        )
    )
    return credit_id


def withdraw_wish(ctx: Context, *, wish_id: str) -> Wish:
    """The resident's side withdraws a wish not yet fulfilled."""
    wish = _wish(ctx, wish_id)
    _side(ctx, wish, wish.resident_id, "withdraw a micro-wish")
    return _move(ctx, wish, {WishStatus.POSTED, WishStatus.ADOPTED}, WishStatus.WITHDRAWN)
