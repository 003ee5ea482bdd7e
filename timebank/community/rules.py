"""The time bank's rules as pure functions of values: eligibility, purses, order transitions.

Each function takes what it needs as plain values (the ``PolicyRules``, a
``Member``, an age in whole years, purse balances as ints, an ``Order`` and a
moment) and returns the next value, or raises the typed error of
``timebank.community.errors`` (or of the ledger, for a short purse). Nothing
here reads a store or does I/O, so every rule is tested in milliseconds
(``tests/community/test_rules.py``); the use cases in ``timebank.bank`` load
the values, call these, submit the ledger request and write the record.

Adding a policy rule on who may provide takes three steps:

1. a field on ``PolicyRules`` (with a permissive default);
2. one function ``(rules, provider, age, group) -> reason or None`` here;
3. one entry ``("the_field", the_function)`` in ``PROVIDER_RULES``.

``check_provider`` runs the entries in order and refuses with the first
reason given, as ``ProviderNotEligible``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

import msgspec
from msgspec import Struct

from timebank.community.errors import (
    CategoryUnknown,
    CreditLimitExceeded,
    CreditRoundsToZero,
    GiftNotAllowed,
    GroupMinutesOnlyDonated,
    MinutesNotPositive,
    OrderTransitionNotAllowed,
    ProviderNotEligible,
    RecipientNotEligible,
    RedemptionAgeNotReached,
    ServiceMinutesOutOfRange,
    StoredMinutesCapExceeded,
)
from timebank.community.exchange import TRANSITIONS, Order, OrderAction, OrderStep
from timebank.community.model import Member, Provenance, Role, Vetting
from timebank.community.policy import PolicyRules, credited_minutes
from timebank.ledger.errors import InsufficientMinutes

__all__ = [
    "AUTO_CONFIRMED",
    "PROVIDER_RULES",
    "ProviderRule",
    "Purses",
    "ReceiveSplit",
    "SpendSplit",
    "advance",
    "check_gift",
    "check_guaranteed",
    "check_provider",
    "check_recipient",
    "check_redeem_age",
    "check_service",
    "check_transition",
    "choose_payer",
    "credit_held",
    "provider_reason",
    "short_of_minutes",
    "split_receive",
    "split_spend",
]

AUTO_CONFIRMED: Final = frozenset(
    {Provenance.RECIPIENT_CONFIRMATION, Provenance.ORGANISATION_CONFIRMATION}
)
"""A credit with one of these provenances is its own confirmation."""


# --- services --------------------------------------------------------------------------------


def check_service(rules: PolicyRules, category: object, raw_minutes: object) -> int:
    """The credited minutes of a service, after the category and duration rules."""
    if type(category) is not str or not category or len(category) > 64:
        raise CategoryUnknown(category=str(category)[:64])
    if rules.categories and category not in rules.categories:
        raise CategoryUnknown(category=category)
    if type(raw_minutes) is not int:
        raise MinutesNotPositive(field="raw_minutes", value=repr(raw_minutes)[:32])
    if not rules.record_minutes_min <= raw_minutes <= rules.record_minutes_max:
        raise ServiceMinutesOutOfRange(
            raw_minutes=raw_minutes,
            minimum=rules.record_minutes_min,
            maximum=rules.record_minutes_max,
        )
    minutes = credited_minutes(rules, category, raw_minutes)
    if minutes <= 0:
        raise CreditRoundsToZero(category=category, raw_minutes=raw_minutes)
    return minutes


def credit_held(
    rules: PolicyRules, provenance: Provenance, *, member_pays: bool, provider_gains: bool
) -> bool:
    """Whether a service credit waits for confirmation instead of posting at once.

    Nobody spends a member's minutes without their say: a credit the recipient
    pays waits for them (or the centre) unless they recorded it themselves. And
    nobody approves their own gain: a credit recorded by (or for) its provider
    waits for the recipient's side or the centre, whoever pays it.
    """
    return provenance not in AUTO_CONFIRMED and (
        rules.confirmation_required or member_pays or provider_gains
    )


# --- who may provide ---------------------------------------------------------------------------

ProviderRule = Callable[[PolicyRules, Member, int, bool], "str | None"]
"""One provider rule: ``(rules, provider, age, group)`` to the reason it refuses, or None."""


def _volunteer(rules: PolicyRules, provider: Member, age: int, group: bool) -> str | None:
    return None if Role.VOLUNTEER in provider.roles else "not registered as a volunteer"


def _age_min(rules: PolicyRules, provider: Member, age: int, group: bool) -> str | None:
    youngest = rules.provider_age_min
    if group and rules.provider_age_min_in_group is not None:
        youngest = min(youngest, rules.provider_age_min_in_group)
    if age < youngest:
        if group:
            return f"aged {age}, under {youngest} in a group event"
        return f"aged {age}, under {youngest} alone"
    return None


def _age_max(rules: PolicyRules, provider: Member, age: int, group: bool) -> str | None:
    if rules.provider_age_max is not None and age > rules.provider_age_max:
        return f"aged {age}, over {rules.provider_age_max}"
    return None


def _vetted(rules: PolicyRules, provider: Member, age: int, group: bool) -> str | None:
    if rules.provider_vetting_required and provider.vetting not in (
        Vetting.COMMUNITY,
        Vetting.STREET,
    ):
        return f"vetting is {provider.vetting}"
    return None


def _street_vetted(rules: PolicyRules, provider: Member, age: int, group: bool) -> str | None:
    if rules.provider_vetting_street and provider.vetting is not Vetting.STREET:
        return "not vetted by the street office"
    return None


PROVIDER_RULES: Final[tuple[tuple[str, ProviderRule], ...]] = (
    ("volunteer", _volunteer),
    ("provider_age_min", _age_min),
    ("provider_age_max", _age_max),
    ("provider_vetting_required", _vetted),
    ("provider_vetting_street", _street_vetted),
)
"""Who may provide, in the order checked: each rule's name (its ``PolicyRules`` field) and check."""


def provider_reason(rules: PolicyRules, provider: Member, age: int, *, group: bool) -> str | None:
    """Why the member may not provide (the first rule that refuses), or None if they may."""
    for _, rule in PROVIDER_RULES:
        reason = rule(rules, provider, age, group)
        if reason is not None:
            return reason
    return None


def check_provider(rules: PolicyRules, provider: Member, age: int, *, group: bool) -> None:
    """Who may provide: role, age (younger only in groups, if allowed) and vetting."""
    reason = provider_reason(rules, provider, age, group=group)
    if reason is not None:
        raise ProviderNotEligible(member_id=provider.member_id, reason=reason)


# --- who may receive, redeem, be covered, be given to --------------------------------------------


def check_recipient(rules: PolicyRules, recipient: Member, age: int) -> None:
    """Who may receive: old enough, or carrying a key-resident flag the policy names."""
    old_enough = rules.recipient_age_min is None or age >= rules.recipient_age_min
    flagged = bool(recipient.flags & rules.recipient_flags_any)
    if rules.recipient_flags_any and not rules.recipient_flags_waive_age:
        eligible = old_enough and flagged
    else:
        eligible = old_enough or (flagged and rules.recipient_flags_waive_age)
    if not eligible:
        served = rules.recipient_age_min
        if rules.recipient_flags_any:
            flags = ", ".join(sorted(rules.recipient_flags_any))
            reason = f"aged {age}; the policy serves {served}+ or members flagged {flags}"
        else:
            reason = f"aged {age}; the policy serves {served}+"
        raise RecipientNotEligible(member_id=recipient.member_id, reason=reason)


def check_redeem_age(rules: PolicyRules, saver: Member, age: int) -> None:
    """Savers spend their own minutes from the policy's redemption age."""
    if rules.redeem_age_min is not None and age < rules.redeem_age_min:
        raise RedemptionAgeNotReached(
            member_id=saver.member_id, age=age, age_min=rules.redeem_age_min
        )


def check_guaranteed(rules: PolicyRules, member: Member, age: int) -> None:
    """The guarantee fund pays (grants, or services) only for the key residents it covers."""
    rules_for = rules.guarantee_grants_to
    if not rules_for or any(age >= e.age_min and e.flags <= member.flags for e in rules_for):
        return
    allowed = "; ".join(
        f"{e.age_min}+ with {', '.join(sorted(e.flags)) or 'no flag'}" for e in rules_for
    )
    reason = f"the guarantee fund covers: {allowed}"
    raise RecipientNotEligible(member_id=member.member_id, reason=reason)


def check_gift(
    rules: PolicyRules,
    *,
    giver_id: str,
    receiver_id: str,
    relation: str | None,
    receiver_age: int,
) -> None:
    """A gift goes to a relation the policy allows, of the receiver age it asks (if any).

    ``relation`` is what the receiver is to the giver (``spouse``...), None if unrelated.
    """
    if not rules.gift_relations:
        raise GiftNotAllowed(
            giver_id=giver_id, receiver_id=receiver_id, reason="the policy allows no gifts"
        )
    if relation is None or relation not in rules.gift_relations:
        kind = "not related" if relation is None else f"a {relation}"
        allowed = ", ".join(sorted(rules.gift_relations))
        reason = f"{kind}; gifts go to: {allowed}"
        raise GiftNotAllowed(giver_id=giver_id, receiver_id=receiver_id, reason=reason)
    age_min = rules.gift_receiver_age_min
    exempt = relation in rules.gift_receiver_age_exempt_relations
    if age_min is not None and not exempt and receiver_age < age_min:
        reason = f"the receiver is {receiver_age}, under {age_min}"
        raise GiftNotAllowed(giver_id=giver_id, receiver_id=receiver_id, reason=reason)


def choose_payer(rules: PolicyRules, recipient: Member, payer: str | None) -> str:
    """Who pays a service: ``recipient``, or a programme account; the policy's choice if None.

    Recipients carrying a subsidised flag are paid for by the subsidy payer, if any.
    """
    if payer is not None:
        return payer
    if recipient.flags & rules.subsidised_flags and rules.subsidised_payer is not None:
        return rules.subsidised_payer
    return rules.payer_default


# --- purses -------------------------------------------------------------------------------------


class Purses(Struct, frozen=True, kw_only=True):
    """A member's available minutes in each purse (own may be below zero, on credit)."""

    own: int
    gifted: int = 0
    group: int = 0


class SpendSplit(Struct, frozen=True, kw_only=True):
    """How a payment is taken: from the own purse (its minutes, then the credit line) and
    from the gifted purse. The group purse is never spent (it is only donated)."""

    own: int
    gifted: int


class ReceiveSplit(Struct, frozen=True, kw_only=True):
    """How minutes received are stored: in the member's purse, and over the cap to overflow."""

    purse: int
    overflow: int


def short_of_minutes(
    member_id: str, own: int, gifted: int, minutes: int, line: int, *, account_id: str
) -> Exception:
    """The error for a member who cannot pay ``minutes`` (``account_id``: their own purse)."""
    if line:
        return CreditLimitExceeded(
            member_id=member_id,
            available_minutes=own + gifted,
            credit_limit_minutes=line,
            requested_minutes=minutes,
        )
    return InsufficientMinutes(
        account_id=account_id,
        available_minutes=max(own, 0) + gifted,
        requested_minutes=minutes,
        balance_minutes_min=0,
    )


def split_spend(
    rules: PolicyRules,
    member_id: str,
    purses: Purses,
    minutes: int,
    *,
    credit_line: bool = True,
    account_id: str,
) -> SpendSplit:
    """Split a payment: own minutes, then gifted, then the credit line (if ``credit_line``).

    Refuses a payment the purses cannot cover: ``GroupMinutesOnlyDonated`` when
    the group purse would have covered it, else ``CreditLimitExceeded`` (with a
    credit line) or ``InsufficientMinutes`` (on ``account_id``).
    """
    own, gifted = purses.own, purses.gifted
    from_own = min(minutes, max(own, 0))
    from_gifted = min(minutes - from_own, gifted)
    rest = minutes - from_own - from_gifted
    line = rules.credit_limit_minutes if credit_line else 0
    on_credit = min(rest, max(own - from_own + line, 0))
    if rest > on_credit:
        # Say so when the group purse would have covered it: those minutes may only be donated.
        group_would_cover = purses.group >= minutes - max(own, 0) - gifted
        if rules.group_minutes_donate_only and group_would_cover:
            raise GroupMinutesOnlyDonated(member_id=member_id)
        raise short_of_minutes(member_id, own, gifted, minutes, line, account_id=account_id)
    return SpendSplit(own=from_own + on_credit, gifted=from_gifted)


def split_receive(
    rules: PolicyRules, member_id: str, stored: int, minutes: int, *, overflow: bool
) -> ReceiveSplit:
    """Split minutes received under the policy's cap on ``stored`` minutes.

    Over the cap, the rest goes to overflow (if ``overflow``) or the receipt is
    refused as ``StoredMinutesCapExceeded``.
    """
    cap = rules.stored_minutes_max
    if cap is None:
        return ReceiveSplit(purse=minutes, overflow=0)
    room = max(cap - stored, 0)
    if minutes <= room:
        return ReceiveSplit(purse=minutes, overflow=0)
    if not overflow:
        raise StoredMinutesCapExceeded(
            member_id=member_id, stored_minutes=stored, cap_minutes=cap, requested_minutes=minutes
        )
    return ReceiveSplit(purse=room, overflow=minutes - room)


# --- service orders ------------------------------------------------------------------------------


def check_transition(order: Order, action: OrderAction) -> None:
    """Refuse an action the order's status does not allow (see ``TRANSITIONS``)."""
    statuses, _ = TRANSITIONS[action]
    if order.status not in statuses:
        raise OrderTransitionNotAllowed(
            order_id=order.order_id, status=order.status.value, action=action.value
        )


def advance(
    order: Order,
    action: OrderAction,
    *,
    at: datetime,
    actor: str,
    on_behalf_of: str | None = None,
    note: str = "",
    **changes: object,
) -> Order:
    """The order after ``action``: its new status, one more step of history, and ``changes``.

    It does not check the transition (``check_transition`` does, before any work).
    """
    _, target = TRANSITIONS[action]
    status = order.status if target is None else target
    step = OrderStep(
        action=action, status=status, at=at, actor=actor, on_behalf_of=on_behalf_of, note=note
    )
    return msgspec.structs.replace(order, status=status, history=(*order.history, step), **changes)
