"""Use cases of ``book.redemptions``: booking banked minutes, completing, cancelling.

Booking holds the saver's minutes; completing posts what was spent. Completing
for part of a hold that leaves some held account untouched releases the hold and
moves what was spent: two requests, the second unrefusable (it takes only what
the first frees), in the same unit.
"""

from __future__ import annotations

import msgspec

from timebank.bank.accounts import (
    OWN,
    member_account,
    merchant_account,
)
from timebank.bank.checks import check_minutes
from timebank.bank.context import Context, Snapshot
from timebank.bank.purses import (
    check_programme,
    check_provider,
    check_recipient,
    check_redeem_age,
    credit_metadata,
    net,
    receive,
    settle_hold,
    spend,
)
from timebank.community.errors import (
    CategoryUnknown,
    MerchantRedemptionNotAllowed,
    ProgrammeAccountNotFound,
    RedemptionNotBooked,
    RedemptionNotFound,
    SelfDealing,
)
from timebank.community.model import (
    Member,
    Provenance,
    Redemption,
    RedemptionKind,
    RedemptionStatus,
)
from timebank.community.policy import PolicyRules
from timebank.ledger import (
    Hold,
    PostExceedsHold,
    Posting,
    VoidHold,
    credit,
)

__all__ = [
    "book_redemption",
    "cancel_redemption",
    "complete_redemption",
    "sees_redemption",
    "visible_redemption",
]


def _service_payee(
    ctx: Context,
    rules: PolicyRules,
    saver: Member,
    provider_id: str | None,
    category: str,
    minutes: int,
) -> tuple[str, list[Posting]]:
    """The provider a saver's minutes pay for a service, and the credits (with overflow)."""
    if provider_id is None or provider_id == saver.member_id:
        raise SelfDealing(member_id=saver.member_id, action="serve")
    provider = ctx.active_member(provider_id)
    check_provider(ctx, rules, provider, group=False)
    check_recipient(ctx, rules, saver)
    if rules.categories and category not in rules.categories:
        raise CategoryUnknown(category=str(category)[:64])
    credits = receive(ctx, rules, provider_id, minutes, OWN, overflow=True)
    return member_account(provider_id), credits


def _merchant_payee(
    ctx: Context, rules: PolicyRules, merchant_id: str | None, minutes: int
) -> tuple[str, list[Posting]]:
    """The partner merchant's account a saver's minutes pay for goods, and the credit."""
    if merchant_id is None:
        raise ProgrammeAccountNotFound(account_id="merchant.")
    if not rules.merchant_redemption:
        raise MerchantRedemptionNotAllowed(merchant_id=str(merchant_id)[:128])
    payee = check_programme(ctx, merchant_account(merchant_id))
    return payee, [credit(payee, minutes)]


def _redemption_legs(
    ctx: Context,
    rules: PolicyRules,
    kind: RedemptionKind,
    saver_id: str,
    provider_id: str | None,
    merchant_id: str | None,
    category: str,
    minutes: int,
) -> tuple[str, tuple[Posting, ...]]:
    """Who a redemption pays (a provider or a merchant), and the postings of its hold."""
    saver = ctx.active_member(saver_id)
    check_minutes("minutes", minutes)
    check_redeem_age(ctx, rules, saver)
    if kind is RedemptionKind.SERVICE:
        payee, credits = _service_payee(ctx, rules, saver, provider_id, category, minutes)
    else:
        payee, credits = _merchant_payee(ctx, rules, merchant_id, minutes)
    debits = spend(ctx, rules, saver_id, minutes)
    return payee, net([*debits, *credits])


def _authorise_redemption(ctx: Context, saver_id: str, provider_id: str | None) -> str | None:
    """The saver, their proxy or a coordinator of theirs books (a coordinator only with a
    provider of their communities); nobody books one that pays themselves."""
    saver = ctx.visible_member(saver_id)
    on_behalf_of = ctx.acting_for(saver, "redeem minutes", staff_ok=True)
    ctx.forbid_own_gain(provider_id, "book a redemption that pays them")
    if not ctx.viewer.acts_for(saver_id) and type(provider_id) is str:
        # A coordinator books for a saver only with a provider of their communities.
        ctx.require_coordinator("book a redemption", saver, ctx.visible_member(provider_id))
    return on_behalf_of


def book_redemption(
    ctx: Context,
    *,
    redemption_id: str,
    saver_id: str,
    minutes: int,
    kind: RedemptionKind,
    provider_id: str | None,
    merchant_id: str | None,
    category: str,
) -> Redemption:
    """Book a service or goods paid with banked minutes: they are held on the saver.

    Who books it, and with whom, is ``_authorise_redemption``'s to say.
    """
    on_behalf_of = _authorise_redemption(ctx, saver_id, provider_id)
    ctx.once(
        "book_redemption",
        redemption_id,
        saver_id=saver_id,
        minutes=minutes,
        provider_id=provider_id,
        merchant_id=merchant_id,
        category=category,
    )
    existing = ctx.records.redemption(redemption_id)
    if existing is not None:
        return existing
    kind = RedemptionKind(kind)
    if type(category) is not str or len(category) > 64:
        raise CategoryUnknown(category=str(category)[:64])
    policy = ctx.policy()
    rules = policy.rules
    payee, postings = _redemption_legs(
        ctx, rules, kind, saver_id, provider_id, merchant_id, category, minutes
    )
    hold_id = f"redeem.{redemption_id}"
    metadata = credit_metadata(
        ctx,
        "redemption",
        policy.version,
        category=category,
        saver=saver_id,
        provider=provider_id,
        merchant=merchant_id,
        on_behalf_of=on_behalf_of,
    )
    ctx.submit(
        Hold(transaction_id=hold_id, postings=postings, code="redemption", metadata=metadata)
    )
    record = Redemption(
        redemption_id=redemption_id,
        saver_id=saver_id,
        kind=kind,
        payee_account=payee,
        provider_id=provider_id if kind is RedemptionKind.SERVICE else None,
        merchant_id=merchant_id if kind is RedemptionKind.GOODS else None,
        category=category,
        booked_minutes=minutes,
        spent_minutes=0,
        status=RedemptionStatus.BOOKED,
        hold_id=hold_id,
        policy_version=policy.version,
        booked_at=ctx.now,
        actor=ctx.actor,
        on_behalf_of=on_behalf_of,
    )
    ctx.records.put_redemption(record)
    return record


def sees_redemption(snap: Snapshot, record: Redemption) -> bool:
    """Whether the caller may see a redemption: they see its saver or its provider."""
    return snap.sees_any(record.saver_id, record.provider_id)


def visible_redemption(snap: Snapshot, redemption_id: str) -> Redemption:
    """The redemption, if the caller may see it; otherwise, as for an unknown id, not found."""
    found = snap.records.redemption(redemption_id)
    if found is None or not sees_redemption(snap, found):
        raise RedemptionNotFound(redemption_id=str(redemption_id)[:128])
    return found


def _redemption(ctx: Context, redemption_id: str, action: str) -> Redemption:
    record = visible_redemption(ctx, redemption_id)
    ctx.acting_for(ctx.member(record.saver_id), action, staff_ok=True)
    if record.status is not RedemptionStatus.BOOKED:
        raise RedemptionNotBooked(redemption_id=redemption_id, status=record.status.value)
    return record


def complete_redemption(ctx: Context, redemption_id: str, spent_minutes: int) -> Redemption:
    """Post what was actually spent (at most what was booked); the rest is released."""
    record = _redemption(ctx, redemption_id, "complete a redemption")
    ctx.forbid_own_gain(record.provider_id, "complete a redemption that pays them")
    check_minutes("spent_minutes", spent_minutes)
    if spent_minutes > record.booked_minutes:
        raise PostExceedsHold(
            hold_id=record.hold_id,
            account_id=record.payee_account,
            held_minutes=record.booked_minutes,
            requested_minutes=spent_minutes,
        )
    confirmation = (
        Provenance.RECIPIENT_CONFIRMATION
        if ctx.actor == record.saver_id or ctx.viewer.proxy_for(record.saver_id)
        else Provenance.ORGANISATION_CONFIRMATION
    )
    metadata = credit_metadata(
        ctx,
        "redemption",
        record.policy_version,
        category=record.category,
        provenance=confirmation.value,
        redemption=redemption_id,
    )
    posted = settle_hold(
        ctx,
        hold_id=record.hold_id,
        minutes=spent_minutes,
        held_minutes=record.booked_minutes,
        transaction_id=ctx.fresh_id(f"redeemed.{redemption_id}"),
        release_id=f"released.{redemption_id}",
        code="redemption",
        metadata=metadata,
    )
    updated = msgspec.structs.replace(
        record,
        status=RedemptionStatus.DONE,
        spent_minutes=spent_minutes,
        settled_transaction_id=posted.transaction_id,
        settled_at=ctx.now,
    )
    ctx.records.put_redemption(updated)
    return updated


def cancel_redemption(ctx: Context, redemption_id: str) -> Redemption:
    """Cancel a booked redemption: the held minutes are released."""
    record = _redemption(ctx, redemption_id, "cancel a redemption")
    voided = ctx.submit(
        VoidHold(
            transaction_id=ctx.fresh_id(f"cancelled.{redemption_id}"),
            hold_id=record.hold_id,
            code="redemption",
            metadata=credit_metadata(ctx, "cancellation", record.policy_version),
        )
    )
    updated = msgspec.structs.replace(
        record,
        status=RedemptionStatus.CANCELLED,
        settled_transaction_id=voided.transaction_id,
        settled_at=ctx.now,
    )
    ctx.records.put_redemption(updated)
    return updated
