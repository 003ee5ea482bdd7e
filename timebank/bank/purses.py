"""The shared steps of every use case that moves minutes between purses.

Eligibility checks read the member's age and the active policy, then call the
pure rules of ``timebank.community.rules``. Postings are built with ``spend``
(the payer's side) and ``receive`` (the receiver's side, with the policy's cap),
then netted per account with ``net``; ``settle_hold`` posts part of a hold and
releases the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from timebank.bank.accounts import (
    GIFTED,
    GROUP,
    GUARANTEE,
    ISSUANCE,
    OWN,
    POOL,
    member_account,
)
from timebank.bank.context import Context
from timebank.community import rules as community_rules
from timebank.community.errors import (
    ActorNotAuthorised,
    ProgrammeAccountNotFound,
)
from timebank.community.model import (
    Member,
    Provenance,
)
from timebank.community.policy import PolicyRules
from timebank.community.rules import (
    Purses,
    choose_payer,
    split_receive,
    split_spend,
)
from timebank.ledger import (
    LedgerError,
    PostHold,
    Posting,
    Side,
    Transaction,
    Transfer,
    VoidHold,
    credit,
    debit,
)

__all__ = [
    "authorise_credit",
    "check_guaranteed",
    "check_payer_choice",
    "check_programme",
    "check_provider",
    "check_recipient",
    "check_redeem_age",
    "credit_metadata",
    "net",
    "parties",
    "payer_for",
    "receive",
    "settle_hold",
    "spend",
    "stored_minutes",
]


def check_provider(ctx: Context, rules: PolicyRules, provider: Member, *, group: bool) -> None:
    """Who may provide: role, age (younger only in groups, if allowed) and vetting."""
    community_rules.check_provider(rules, provider, ctx.age(provider), group=group)


def check_recipient(ctx: Context, rules: PolicyRules, recipient: Member) -> None:
    """Who may receive: old enough, or carrying a key-resident flag the policy names."""
    community_rules.check_recipient(rules, recipient, ctx.age(recipient))


def check_redeem_age(ctx: Context, rules: PolicyRules, saver: Member) -> None:
    community_rules.check_redeem_age(rules, saver, ctx.age(saver))


def check_programme(ctx: Context, account_id: str) -> str:
    if account_id in (POOL, ISSUANCE, GUARANTEE) or ctx.records.programme(account_id) is not None:
        return account_id
    raise ProgrammeAccountNotFound(account_id=str(account_id)[:128])


def net(postings: Iterable[Posting]) -> tuple[Posting, ...]:
    """One posting per account: debits and credits to the same account cancel."""
    totals: dict[str, int] = defaultdict(int)
    for posting in postings:
        sign = 1 if posting.side is Side.CREDIT else -1
        totals[posting.account_id] += sign * posting.amount_minutes
    return tuple(
        credit(account, amount) if amount > 0 else debit(account, -amount)
        for account, amount in totals.items()
        if amount
    )


def spend(
    ctx: Context, rules: PolicyRules, member_id: str, minutes: int, *, credit_line: bool = True
) -> list[Posting]:
    """Debits for a member paying ``minutes``: own minutes, then gifted, then the credit line."""
    purses = ctx.purses(member_id)
    split = split_spend(
        rules,
        member_id,
        Purses(
            own=purses[OWN].available_minutes,
            gifted=purses[GIFTED].available_minutes,
            group=purses[GROUP].available_minutes,
        ),
        minutes,
        credit_line=credit_line,
        account_id=member_account(member_id),
    )
    postings = []
    if split.own:
        postings.append(debit(member_account(member_id, OWN), split.own))
    if split.gifted:
        postings.append(debit(member_account(member_id, GIFTED), split.gifted))
    return postings


def stored_minutes(ctx: Context, member_id: str) -> int:
    """What counts against the cap: every purse's posted and incoming held minutes."""
    return sum(a.posted_minutes + a.credits_pending_minutes for a in ctx.purses(member_id).values())


def receive(
    ctx: Context, rules: PolicyRules, member_id: str, minutes: int, purse: str, *, overflow: bool
) -> list[Posting]:
    """Credits for a member receiving ``minutes``; over the cap goes to overflow or is refused."""
    target = member_account(member_id, purse)
    if rules.stored_minutes_max is None:
        return [credit(target, minutes)]
    split = split_receive(
        rules, member_id, stored_minutes(ctx, member_id), minutes, overflow=overflow
    )
    postings = [credit(target, split.purse)] if split.purse else []
    if split.overflow:
        postings.append(credit(rules.overflow_account, split.overflow))
    return postings


def payer_for(
    ctx: Context, rules: PolicyRules, recipient: Member, payer: str | None
) -> tuple[str, Member | None]:
    """Who pays a service: the recipient (a member), a subsidy payer, or the policy's default.

    The guarantee fund pays only for the recipients it covers (as for its grants).
    """
    payer = choose_payer(rules, recipient, payer)
    if payer == "recipient":
        return member_account(recipient.member_id), recipient
    account = check_programme(ctx, payer)
    if account == GUARANTEE:
        check_guaranteed(ctx, rules, recipient)
    return account, None


def credit_metadata(
    ctx: Context, kind: str, policy_version: int, **extra: str | None
) -> dict[str, str]:
    data = {"kind": kind, "policy_version": str(policy_version), "actor": ctx.actor}
    data.update({key: value for key, value in extra.items() if value is not None})
    return data


def authorise_credit(
    ctx: Context, provenance: Provenance, provider: Member, recipient: Member
) -> str | None:
    """Who may record a credit depends on how it was verified.

    A coordinator of both members' communities records any; the recipient (or
    their proxy) records one confirmed by them; the provider (or their proxy) one
    checked in and out; either side a paper record. Nobody confirms a service
    that pays themselves.
    """
    viewer = ctx.viewer
    if provenance is Provenance.ORGANISATION_CONFIRMATION:
        ctx.require_coordinator("confirm a service for the organisation", provider, recipient)
        ctx.forbid_own_gain(provider.member_id, "confirm a service they gave")
        return None
    if provenance is Provenance.RECIPIENT_CONFIRMATION:
        on_behalf_of = ctx.acting_for(recipient, "confirm a service received")
        ctx.forbid_own_gain(provider.member_id, "confirm a service they gave")
        return on_behalf_of
    if viewer.covers(provider.community) and viewer.covers(recipient.community):
        return None
    if provenance is Provenance.CHECK_IN_OUT:
        return ctx.acting_for(provider, "record a service given")
    try:
        return ctx.acting_for(provider, "enter a paper record")
    except ActorNotAuthorised:
        return ctx.acting_for(recipient, "enter a paper record")


def parties(ctx: Context, *member_ids: str) -> tuple[Member, ...]:
    """The members a request names, if the caller may name them (else: not found).

    A member acts for one side (themselves, or someone who authorised them) and
    names the other; anyone else acts for the centre, and must see every member
    they name.
    """
    found = tuple(ctx.member(member_id) for member_id in member_ids)
    viewer = ctx.viewer
    if not any(viewer.acts_for(member.member_id) for member in found):
        for member in found:
            ctx.visible_member(member.member_id)
    return found


def check_payer_choice(ctx: Context, payer: object, *members: Member) -> None:
    """Only a coordinator of the members chooses a programme account to pay; members pay
    as the policy says (or from their own purses)."""
    if payer is None or payer in ("recipient", "gifted"):
        return
    ctx.require_coordinator("choose a programme account to pay", *members)


def _take(postings: Iterable[Posting], side: Side, minutes: int) -> list[Posting]:
    """The first ``minutes`` of a hold's postings on one side, in order."""
    taken = []
    for posting in postings:
        if posting.side is side and minutes > 0:
            amount = min(posting.amount_minutes, minutes)
            taken.append(Posting(account_id=posting.account_id, side=side, amount_minutes=amount))
            minutes -= amount
    return taken


def settle_hold(
    ctx: Context,
    *,
    hold_id: str,
    minutes: int,
    held_minutes: int,
    transaction_id: str,
    release_id: str,
    code: str,
    metadata: dict[str, str],
) -> Transaction:
    """Post ``minutes`` (at most ``held_minutes``) of a pending hold; the rest is released.

    The whole hold posts as it is. Part of it posts as the first ``minutes`` of
    each side, when those still touch every account of the hold. Otherwise (what
    was spent comes from the saver's own minutes alone, the gifted ones untouched,
    or reaches the provider alone, no overflow) the ledger cannot post it, so the
    hold is released and what was spent moves, both in this unit. The move takes
    from each account at most what the release frees, so it is not refused; if it
    were, the whole unit is rolled back rather than left with the hold released.
    """
    hold = ctx.unit.ledger.hold(hold_id)
    assert hold is not None, hold_id
    postings = (
        None
        if minutes == held_minutes
        else tuple(
            _take(hold.postings, Side.DEBIT, minutes) + _take(hold.postings, Side.CREDIT, minutes)
        )
    )
    held = {p.account_id for p in hold.postings}
    if postings is None or {p.account_id for p in postings} == held:
        return ctx.submit(
            PostHold(
                transaction_id=transaction_id,
                hold_id=hold_id,
                postings=postings,
                code=code,
                metadata=metadata,
            )
        )
    ctx.submit(
        VoidHold(
            transaction_id=ctx.fresh_id(release_id), hold_id=hold_id, code=code, metadata=metadata
        )
    )
    moved = ctx.book.apply_in(
        ctx.unit.ledger,
        Transfer(transaction_id=transaction_id, postings=postings, code=code, metadata=metadata),
    )
    if isinstance(moved, LedgerError):
        raise moved
    return moved


def check_guaranteed(ctx: Context, rules: PolicyRules, member: Member) -> None:
    """The guarantee fund pays (grants, or services) only for the key residents it covers."""
    community_rules.check_guaranteed(rules, member, ctx.age(member))
