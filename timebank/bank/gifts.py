"""Use cases of ``book.gifts``: gifts between members, donations, grants from the guarantee.

Each checks the policy's gift rules, then makes one ledger request.
"""

from __future__ import annotations

from timebank.bank.accounts import (
    GIFTED,
    GROUP,
    GUARANTEE,
    POOL,
    member_account,
)
from timebank.bank.checks import check_minutes, check_reason
from timebank.bank.context import Context
from timebank.bank.purses import (
    check_guaranteed,
    check_programme,
    credit_metadata,
    net,
    receive,
    spend,
)
from timebank.community.errors import (
    SelfDealing,
)
from timebank.community.rules import (
    check_gift,
    short_of_minutes,
)
from timebank.ledger import (
    Transfer,
    credit,
    debit,
)

__all__ = [
    "donate",
    "give",
    "grant",
]


def _retried(
    ctx: Context, use_case: str, request_id: str, transaction_id: str, **request: object
) -> bool:
    """Whether an earlier call under ``request_id`` made ``transaction_id``: this is its retry.

    A retry must be the same request (else ``IdempotencyConflict`` names the
    field); a request the ledger refused is refused again the same way.
    """
    ctx.once(use_case, request_id, **request)
    return ctx.prior(transaction_id) is not None


def give(ctx: Context, *, gift_id: str, giver_id: str, receiver_id: str, minutes: int) -> str:
    """Give earned minutes to a relative the policy allows; they land in the gifted purse.

    The giver or their proxy gives (a proxy never to themselves).
    """
    if giver_id == receiver_id:
        raise SelfDealing(member_id=giver_id, action="give minutes to")
    giver = ctx.visible_member(giver_id)
    on_behalf_of = ctx.acting_for(giver, "give minutes")
    ctx.forbid_own_gain(receiver_id, "give a member's minutes to themselves")
    transaction_id = f"gift.{gift_id}"
    if _retried(
        ctx,
        "give",
        gift_id,
        transaction_id,
        giver_id=giver_id,
        receiver_id=receiver_id,
        minutes=minutes,
    ):
        return transaction_id
    policy = ctx.policy()
    rules = policy.rules
    ctx.active_member(giver_id)
    receiver = ctx.active_member(receiver_id)
    check_minutes("minutes", minutes)
    relation = ctx.records.relation(giver_id, receiver_id)
    check_gift(
        rules,
        giver_id=giver_id,
        receiver_id=receiver_id,
        relation=None if relation is None else relation.kind.value,
        receiver_age=ctx.age(receiver),
    )
    debits = spend(ctx, rules, giver_id, minutes, credit_line=False)
    if any(p.account_id != member_account(giver_id) for p in debits):
        own = ctx.account(member_account(giver_id)).available_minutes
        raise short_of_minutes(giver_id, own, 0, minutes, 0, account_id=member_account(giver_id))
    credits = receive(ctx, rules, receiver_id, minutes, GIFTED, overflow=False)
    metadata = credit_metadata(
        ctx, "gift", policy.version, giver=giver_id, receiver=receiver_id, on_behalf_of=on_behalf_of
    )
    transaction = ctx.submit(
        Transfer(
            transaction_id=transaction_id,
            postings=net([*debits, *credits]),
            code="gift",
            metadata=metadata,
        )
    )
    return transaction.transaction_id


def donate(ctx: Context, *, donation_id: str, member_id: str, minutes: int, group: bool) -> str:
    """Donate minutes to the community pool (group-volunteer minutes only go this way)."""
    on_behalf_of = ctx.acting_for(ctx.visible_member(member_id), "donate minutes")
    transaction_id = f"donate.{donation_id}"
    if _retried(
        ctx,
        "donate",
        donation_id,
        transaction_id,
        member_id=member_id,
        minutes=minutes,
        group=group,
    ):
        return transaction_id
    policy = ctx.policy()
    ctx.active_member(member_id)
    check_minutes("minutes", minutes)
    if group:
        debits = [debit(member_account(member_id, GROUP), minutes)]
    else:
        debits = spend(ctx, policy.rules, member_id, minutes, credit_line=False)
    metadata = credit_metadata(
        ctx, "donation", policy.version, donor=member_id, on_behalf_of=on_behalf_of
    )
    transaction = ctx.submit(
        Transfer(
            transaction_id=transaction_id,
            postings=(*debits, credit(POOL, minutes)),
            code="donation",
            metadata=metadata,
        )
    )
    return transaction.transaction_id


def grant(
    ctx: Context, *, grant_id: str, member_id: str, minutes: int, reason: str, source: str
) -> str:
    """A coordinator grants minutes (from the pool or a fund) to a member in need."""
    ctx.require_coordinator("grant minutes", ctx.visible_member(member_id))
    ctx.forbid_own_gain(member_id, "grant minutes to themselves")
    transaction_id = f"grant.{grant_id}"
    if _retried(
        ctx,
        "grant",
        grant_id,
        transaction_id,
        member_id=member_id,
        minutes=minutes,
        reason=reason,
        source=source,
    ):
        return transaction_id
    policy = ctx.policy()
    check_reason("grant minutes", reason)
    source = check_programme(ctx, source)
    member = ctx.active_member(member_id)
    if source == GUARANTEE:
        check_guaranteed(ctx, policy.rules, member)
    check_minutes("minutes", minutes)
    credits = receive(ctx, policy.rules, member_id, minutes, GIFTED, overflow=False)
    metadata = credit_metadata(
        ctx, "grant", policy.version, reason=reason, source=source, member=member_id
    )
    transaction = ctx.submit(
        Transfer(
            transaction_id=transaction_id,
            postings=(debit(source, minutes), *credits),
            code="grant",
            metadata=metadata,
        )
    )
    return transaction.transaction_id
