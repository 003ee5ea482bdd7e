"""Use cases that move minutes: credits, confirmations, redemptions, gifts, donations, grants.

Each runs inside one unit of work: it checks every rule of the active policy,
makes one ledger request (so the unit commits whole or not at all), then
writes its record. The one exception, completing a redemption for part of a
hold that leaves some held account untouched, releases the hold and moves
what was spent: two requests, the second unrefusable (it takes only what the
first frees), in the same unit. Postings are built with ``spend`` (the payer's side)
and ``receive`` (the receiver's side, with the policy's cap), then netted per
account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import msgspec

from timebank.bank.accounts import (
    GIFTED,
    GROUP,
    GUARANTEE,
    ISSUANCE,
    OWN,
    POOL,
    member_account,
    merchant_account,
)
from timebank.bank.context import Context, Snapshot
from timebank.bank.members import TEXT_LENGTH_MAX, check_choice, check_text
from timebank.community import rules as community_rules
from timebank.community.errors import (
    ActorNotAuthorised,
    CategoryUnknown,
    CreditNotFound,
    CreditNotPending,
    CreditNotPosted,
    MerchantRedemptionNotAllowed,
    MinutesNotPositive,
    ProgrammeAccountNotFound,
    ReasonRequired,
    RedemptionNotBooked,
    RedemptionNotFound,
    SelfDealing,
    StoredMinutesCapExceeded,
)
from timebank.community.model import (
    Credit,
    CreditStatus,
    Member,
    Provenance,
    Redemption,
    RedemptionKind,
    RedemptionStatus,
)
from timebank.community.policy import PolicyRules
from timebank.community.rules import (
    AUTO_CONFIRMED,
    Purses,
    check_gift,
    check_service,
    choose_payer,
    credit_held,
    short_of_minutes,
    split_receive,
    split_spend,
)
from timebank.ledger import (
    EffectiveTimeAfterRecording,
    Hold,
    LedgerError,
    PostExceedsHold,
    PostHold,
    Posting,
    Reverse,
    Side,
    TimestampNotAware,
    Transaction,
    Transfer,
    VoidHold,
    credit,
    debit,
)
from timebank.ledger.checks import check_aware
from timebank.ledger.limits import AMOUNT_MINUTES_MAX

__all__ = [
    "AUTO_CONFIRMED",
    "book_redemption",
    "cancel_redemption",
    "check_minutes",
    "check_provider",
    "check_service",
    "complete_redemption",
    "confirm_credit",
    "credit_service",
    "dispute_credit",
    "donate",
    "give",
    "grant",
    "net",
    "payer_for",
    "receive",
    "reverse_credit",
    "settle_hold",
    "spend",
]

# --- checks ----------------------------------------------------------------------------------


def check_minutes(field: str, value: object) -> int:
    if type(value) is not int or not 0 < value <= AMOUNT_MINUTES_MAX:
        raise MinutesNotPositive(field=field, value=repr(value)[:32])
    return value


def check_moment(field: str, value: object) -> datetime:
    """A moment with a time zone, in the years 1900 to 2199 (as the ledger accepts them)."""
    if not isinstance(value, datetime):
        raise TimestampNotAware(field=field)
    check_aware(field, value)
    return value


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


# --- postings --------------------------------------------------------------------------------


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


def _metadata(ctx: Context, kind: str, policy_version: int, **extra: str | None) -> dict[str, str]:
    data = {"kind": kind, "policy_version": str(policy_version), "actor": ctx.actor}
    data.update({key: value for key, value in extra.items() if value is not None})
    return data


# --- service credits ------------------------------------------------------------------------


def _authorise_credit(
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


def credit_service(
    ctx: Context,
    *,
    credit_id: str,
    provider_id: str,
    recipient_id: str,
    category: str,
    raw_minutes: int,
    served_at: datetime,
    place: str,
    provenance: Provenance,
    payer: str | None,
    note: str,
) -> Credit:
    """Credit a provider for a service: posted at once, or held until confirmed."""
    provenance = check_choice("provenance", Provenance, provenance)
    if provider_id == recipient_id:
        raise SelfDealing(member_id=provider_id, action="serve")
    provider, recipient = parties(ctx, provider_id, recipient_id)
    on_behalf_of = _authorise_credit(ctx, provenance, provider, recipient)
    check_payer_choice(ctx, payer, provider, recipient)
    request = {
        "provider_id": provider_id,
        "recipient_id": recipient_id,
        "category": category,
        "raw_minutes": raw_minutes,
        "served_at": served_at,
        "place": place,
        "provenance": provenance,
        "payer": payer,
        "note": note,
    }
    ctx.once("credit_service", credit_id, **request)
    existing = ctx.records.credit(credit_id)
    if existing is not None:
        # A retry of the same request (one made before requests were remembered included).
        return existing
    return _credit_service(
        ctx,
        credit_id=credit_id,
        provider_id=provider_id,
        recipient_id=recipient_id,
        category=category,
        raw_minutes=raw_minutes,
        served_at=served_at,
        place=place,
        provenance=provenance,
        payer=payer,
        note=note,
        on_behalf_of=on_behalf_of,
    )


def _check_service_request(
    ctx: Context,
    rules: PolicyRules,
    *,
    provider_id: str,
    recipient_id: str,
    category: str,
    raw_minutes: int,
    served_at: datetime,
    place: str,
    note: str,
) -> tuple[Member, int]:
    """The recipient and the credited minutes, once every rule of a service credit holds."""
    provider = ctx.active_member(provider_id)
    recipient = ctx.active_member(recipient_id)
    check_provider(ctx, rules, provider, group=False)
    check_recipient(ctx, rules, recipient)
    minutes = check_service(rules, category, raw_minutes)
    check_moment("served_at", served_at)
    if served_at > ctx.now:
        raise EffectiveTimeAfterRecording(effective_at=served_at, recorded_at=ctx.now)
    check_text("place", place)
    check_text("note", note)
    return recipient, minutes


def _service_debits(
    ctx: Context, rules: PolicyRules, recipient: Member, payer: str | None, minutes: int
) -> tuple[str, Member | None, list[Posting]]:
    """Who pays a service (and the saver, if a member pays), and the debits."""
    payer_account, saver = payer_for(ctx, rules, recipient, payer)
    if saver is None:
        return payer_account, None, [debit(payer_account, minutes)]
    check_redeem_age(ctx, rules, saver)
    return payer_account, saver, spend(ctx, rules, saver.member_id, minutes)


def _submit_service(
    ctx: Context, rules: PolicyRules, record: Credit, postings: tuple[Posting, ...]
) -> None:
    """Hold a service credit's postings until confirmed, or post them at once (effective when
    served)."""
    if len(postings) < 2:
        # The payer is the overflow account and the provider is full: nothing would move.
        raise StoredMinutesCapExceeded(
            member_id=record.provider_id,
            stored_minutes=stored_minutes(ctx, record.provider_id),
            cap_minutes=rules.stored_minutes_max or 0,
            requested_minutes=record.credited_minutes,
        )
    metadata = _metadata(
        ctx,
        "service",
        record.policy_version,
        category=record.category,
        raw_minutes=str(record.raw_minutes),
        credited_minutes=str(record.credited_minutes),
        provenance=record.provenance.value,
        provider=record.provider_id,
        recipient=record.recipient_id,
        on_behalf_of=record.on_behalf_of,
    )
    transaction_id = record.transaction_id
    if record.status is CreditStatus.PENDING:
        ctx.submit(
            Hold(
                transaction_id=transaction_id, postings=postings, code="service", metadata=metadata
            )
        )
    else:
        ctx.submit(
            Transfer(
                transaction_id=transaction_id,
                postings=postings,
                code="service",
                metadata=metadata,
                effective_at=record.served_at,
            )
        )


def _credit_service(
    ctx: Context,
    *,
    credit_id: str,
    provider_id: str,
    recipient_id: str,
    category: str,
    raw_minutes: int,
    served_at: datetime,
    place: str,
    provenance: Provenance,
    payer: str | None,
    note: str,
    on_behalf_of: str | None,
) -> Credit:
    """The rules, the ledger request and the record of a new service credit."""
    policy = ctx.policy()
    rules = policy.rules
    recipient, minutes = _check_service_request(
        ctx,
        rules,
        provider_id=provider_id,
        recipient_id=recipient_id,
        category=category,
        raw_minutes=raw_minutes,
        served_at=served_at,
        place=place,
        note=note,
    )
    payer_account, saver, debits = _service_debits(ctx, rules, recipient, payer, minutes)
    credits = receive(ctx, rules, provider_id, minutes, OWN, overflow=True)
    gains = ctx.actor == provider_id or on_behalf_of == provider_id
    held = credit_held(rules, provenance, member_pays=saver is not None, provider_gains=gains)
    overflow = sum(p.amount_minutes for p in credits if p.account_id == rules.overflow_account)
    record = Credit(
        credit_id=credit_id,
        provider_id=provider_id,
        recipient_id=recipient_id,
        payer_account=payer_account,
        category=category,
        raw_minutes=raw_minutes,
        credited_minutes=minutes,
        provenance=provenance,
        policy_version=policy.version,
        served_at=served_at,
        place=place,
        status=CreditStatus.PENDING if held else CreditStatus.POSTED,
        transaction_id=f"credit.{credit_id}",
        recorded_at=ctx.now,
        actor=ctx.actor,
        on_behalf_of=on_behalf_of,
        provider_minutes=minutes - overflow,
        provider_account=member_account(provider_id),
        overflow_account=rules.overflow_account if overflow else None,
        note=note,
    )
    _submit_service(ctx, rules, record, net([*debits, *credits]))
    ctx.records.put_credit(record)
    return record


def sees_credit(snap: Snapshot, record: Credit) -> bool:
    """Whether the caller may see a credit: they see its provider or its recipient."""
    return snap.sees_any(record.provider_id, record.recipient_id)


def visible_credit(snap: Snapshot, credit_id: str) -> Credit:
    """The credit, if the caller may see it; otherwise, as for an unknown id, not found."""
    found = snap.records.credit(credit_id)
    if found is None or not sees_credit(snap, found):
        raise CreditNotFound(credit_id=str(credit_id)[:128])
    return found


def _credit_parties(ctx: Context, record: Credit) -> tuple[Member, ...]:
    members = [ctx.member(record.provider_id)]
    if record.recipient_id is not None:
        members.append(ctx.member(record.recipient_id))
    return tuple(members)


def _confirming(ctx: Context, record: Credit, action: str, *, approving: bool) -> Provenance:
    """The recipient (or their proxy) confirms as the recipient; a coordinator of both
    sides for the centre. Nobody approves a credit that pays themselves."""
    if approving:
        ctx.forbid_own_gain(record.provider_id, action)
    members = _credit_parties(ctx, record)
    viewer = ctx.viewer
    if ctx.actor != record.recipient_id and all(viewer.covers(m.community) for m in members):
        return Provenance.ORGANISATION_CONFIRMATION
    if record.recipient_id is None:
        raise ActorNotAuthorised(actor=ctx.actor, action=action, member_id=record.provider_id)
    ctx.acting_for(members[1], action)
    return Provenance.RECIPIENT_CONFIRMATION


def confirm_credit(ctx: Context, credit_id: str) -> Credit:
    """Confirm a held credit: its minutes post to the provider."""
    record = visible_credit(ctx, credit_id)
    confirmation = _confirming(ctx, record, "confirm a service", approving=True)
    if record.status is not CreditStatus.PENDING:
        raise CreditNotPending(credit_id=credit_id, status=record.status.value)
    metadata = _metadata(
        ctx,
        "service",
        record.policy_version,
        category=record.category,
        raw_minutes=str(record.raw_minutes),
        credited_minutes=str(record.credited_minutes),
        provenance=record.provenance.value,
        confirmation=confirmation.value,
        provider=record.provider_id,
        recipient=record.recipient_id,
        credit=credit_id,
    )
    posted = ctx.submit(
        PostHold(
            transaction_id=ctx.fresh_id(f"confirm.{credit_id}"),
            hold_id=record.transaction_id,
            code="service",
            metadata=metadata,
        )
    )
    updated = msgspec.structs.replace(
        record,
        status=CreditStatus.POSTED,
        settled_transaction_id=posted.transaction_id,
        confirmation=confirmation,
        confirmed_by=ctx.actor,
    )
    ctx.records.put_credit(updated)
    return updated


def dispute_credit(ctx: Context, credit_id: str, reason: str) -> Credit:
    """Dispute a held credit: the hold is voided and nothing moves."""
    record = visible_credit(ctx, credit_id)
    _confirming(ctx, record, "dispute a service", approving=False)
    _reason("dispute a service", reason)
    if record.status is not CreditStatus.PENDING:
        raise CreditNotPending(credit_id=credit_id, status=record.status.value)
    voided = ctx.submit(
        VoidHold(
            transaction_id=ctx.fresh_id(f"dispute.{credit_id}"),
            hold_id=record.transaction_id,
            code="dispute",
            metadata=_metadata(ctx, "dispute", record.policy_version, reason=reason),
        )
    )
    updated = msgspec.structs.replace(
        record, status=CreditStatus.DISPUTED, settled_transaction_id=voided.transaction_id
    )
    ctx.records.put_credit(updated)
    return updated


def _reason(action: str, reason: object) -> str:
    if type(reason) is not str or not reason.strip():
        raise ReasonRequired(action=action)
    return check_text("reason", reason, TEXT_LENGTH_MAX)


def reverse_credit(ctx: Context, credit_id: str, reason: str) -> Credit:
    """Correct a posted credit by moving its minutes back (never by editing it)."""
    record = visible_credit(ctx, credit_id)
    ctx.require_coordinator("reverse a credit", *_credit_parties(ctx, record))
    _reason("reverse a credit", reason)
    if record.status is not CreditStatus.POSTED:
        raise CreditNotPosted(credit_id=credit_id, status=record.status.value)
    metadata = _metadata(ctx, "correction", record.policy_version, reason=reason, credit=credit_id)
    transaction_id = ctx.fresh_id(f"reverse.{credit_id}")
    if record.event_id is None:
        original = record.settled_transaction_id or record.transaction_id
        ctx.submit(
            Reverse(
                transaction_id=transaction_id,
                reverses_id=original,
                code="correction",
                metadata=metadata,
            )
        )
    else:
        # An event's transaction credits many attendees; undo only this one's share.
        back = [debit(record.provider_account, record.provider_minutes)]
        if record.overflow_account is not None:
            back.append(
                debit(record.overflow_account, record.credited_minutes - record.provider_minutes)
            )
        back.append(credit(record.payer_account, record.credited_minutes))
        ctx.submit(
            Transfer(
                transaction_id=transaction_id,
                postings=net(back),
                code="correction",
                metadata=metadata,
            )
        )
    updated = msgspec.structs.replace(
        record, status=CreditStatus.REVERSED, reversal_transaction_id=transaction_id
    )
    ctx.records.put_credit(updated)
    return updated


# --- redemption ------------------------------------------------------------------------------


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
    metadata = _metadata(
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


def _take(postings: Iterable[Posting], side: Side, minutes: int) -> list[Posting]:
    """The first ``minutes`` of a hold's postings on one side, in order."""
    taken = []
    for posting in postings:
        if posting.side is side and minutes > 0:
            amount = min(posting.amount_minutes, minutes)
            taken.append(Posting(account_id=posting.account_id, side=side, amount_minutes=amount))
            minutes -= amount
    return taken


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
    metadata = _metadata(
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


def cancel_redemption(ctx: Context, redemption_id: str) -> Redemption:
    """Cancel a booked redemption: the held minutes are released."""
    record = _redemption(ctx, redemption_id, "cancel a redemption")
    voided = ctx.submit(
        VoidHold(
            transaction_id=ctx.fresh_id(f"cancelled.{redemption_id}"),
            hold_id=record.hold_id,
            code="redemption",
            metadata=_metadata(ctx, "cancellation", record.policy_version),
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


# --- gifts, donations, grants -----------------------------------------------------------------


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
    metadata = _metadata(
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
    metadata = _metadata(
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


def check_guaranteed(ctx: Context, rules: PolicyRules, member: Member) -> None:
    """The guarantee fund pays (grants, or services) only for the key residents it covers."""
    community_rules.check_guaranteed(rules, member, ctx.age(member))


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
    _reason("grant minutes", reason)
    source = check_programme(ctx, source)
    member = ctx.active_member(member_id)
    if source == GUARANTEE:
        check_guaranteed(ctx, policy.rules, member)
    check_minutes("minutes", minutes)
    credits = receive(ctx, policy.rules, member_id, minutes, GIFTED, overflow=False)
    metadata = _metadata(
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
