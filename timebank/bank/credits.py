"""Use cases of ``book.credits``: crediting a service, confirming, disputing and reversing it.

Each runs inside one unit of work: it checks every rule of the active policy,
makes one ledger request (so the unit commits whole or not at all), then writes
its record.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from timebank.bank.accounts import (
    OWN,
    member_account,
)
from timebank.bank.checks import check_choice, check_moment, check_reason, check_text
from timebank.bank.context import Context, Snapshot
from timebank.bank.purses import (
    authorise_credit,
    check_payer_choice,
    check_provider,
    check_recipient,
    check_redeem_age,
    credit_metadata,
    net,
    parties,
    payer_for,
    receive,
    spend,
    stored_minutes,
)
from timebank.community.errors import (
    ActorNotAuthorised,
    CreditNotFound,
    CreditNotPending,
    CreditNotPosted,
    SelfDealing,
    StoredMinutesCapExceeded,
)
from timebank.community.model import (
    Credit,
    CreditStatus,
    Member,
    Provenance,
)
from timebank.community.policy import PolicyRules
from timebank.community.rules import (
    check_service,
    credit_held,
)
from timebank.ledger import (
    EffectiveTimeAfterRecording,
    Hold,
    PostHold,
    Posting,
    Reverse,
    Transfer,
    VoidHold,
    credit,
    debit,
)

__all__ = [
    "confirm_credit",
    "credit_service",
    "dispute_credit",
    "reverse_credit",
    "sees_credit",
    "visible_credit",
]


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
    on_behalf_of = authorise_credit(ctx, provenance, provider, recipient)
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
    metadata = credit_metadata(
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
    metadata = credit_metadata(
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
    check_reason("dispute a service", reason)
    if record.status is not CreditStatus.PENDING:
        raise CreditNotPending(credit_id=credit_id, status=record.status.value)
    voided = ctx.submit(
        VoidHold(
            transaction_id=ctx.fresh_id(f"dispute.{credit_id}"),
            hold_id=record.transaction_id,
            code="dispute",
            metadata=credit_metadata(ctx, "dispute", record.policy_version, reason=reason),
        )
    )
    updated = msgspec.structs.replace(
        record, status=CreditStatus.DISPUTED, settled_transaction_id=voided.transaction_id
    )
    ctx.records.put_credit(updated)
    return updated


def reverse_credit(ctx: Context, credit_id: str, reason: str) -> Credit:
    """Correct a posted credit by moving its minutes back (never by editing it)."""
    record = visible_credit(ctx, credit_id)
    ctx.require_coordinator("reverse a credit", *_credit_parties(ctx, record))
    check_reason("reverse a credit", reason)
    if record.status is not CreditStatus.POSTED:
        raise CreditNotPosted(credit_id=credit_id, status=record.status.value)
    metadata = credit_metadata(
        ctx, "correction", record.policy_version, reason=reason, credit=credit_id
    )
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
