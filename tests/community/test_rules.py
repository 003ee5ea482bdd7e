"""The time bank's rules as pure functions: examples and properties, with no store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timebank.community.errors import (
    CategoryUnknown,
    CreditLimitExceeded,
    CreditRoundsToZero,
    GiftNotAllowed,
    GroupMinutesOnlyDonated,
    OrderTransitionNotAllowed,
    ProviderNotEligible,
    RecipientNotEligible,
    RedemptionAgeNotReached,
    ServiceMinutesOutOfRange,
    StoredMinutesCapExceeded,
)
from timebank.community.exchange import TRANSITIONS, Order, OrderAction, OrderStatus
from timebank.community.model import Member, Provenance, Role, Vetting
from timebank.community.policy import GrantEligibility, PolicyRules
from timebank.community.rules import (
    PROVIDER_RULES,
    Purses,
    advance,
    check_gift,
    check_guaranteed,
    check_provider,
    check_recipient,
    check_redeem_age,
    check_service,
    check_transition,
    choose_payer,
    credit_held,
    provider_reason,
    split_receive,
    split_spend,
)
from timebank.ledger import InsufficientMinutes

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
BASE = PolicyRules(name="test")


def member(member_id: str = "li", **changes: Any) -> Member:
    fields: dict[str, Any] = {
        "member_id": member_id,
        "name": "Li",
        "name_key": "li",
        "name_initials": "l",
        "birth_date": date(1950, 1, 1),
        "community": "c1",
        "roles": frozenset({Role.VOLUNTEER}),
        "registered_at": NOW,
        "registered_by": "admin",
    }
    fields.update(changes)
    return Member(**fields)


def order(status: OrderStatus = OrderStatus.REQUESTED) -> Order:
    return Order(
        order_id="o-1",
        recipient_id="wang",
        category="meals",
        community="c1",
        estimated_minutes=60,
        reserved_minutes=60,
        policy_version=1,
        status=status,
        requested_at=NOW,
        accept_due_at=NOW + timedelta(days=1),
    )


# --- who may provide ---------------------------------------------------------------------------


def test_a_member_not_registered_as_a_volunteer_may_not_provide() -> None:
    with pytest.raises(ProviderNotEligible) as raised:
        check_provider(BASE, member(roles=frozenset()), 40, group=False)
    assert raised.value.member_id == "li"
    assert raised.value.reason == "not registered as a volunteer"


def test_a_younger_provider_serves_only_in_groups_when_the_policy_allows() -> None:
    rules = PolicyRules(name="t", provider_age_min=18, provider_age_min_in_group=14)
    check_provider(rules, member(), 15, group=True)
    with pytest.raises(ProviderNotEligible) as raised:
        check_provider(rules, member(), 15, group=False)
    assert raised.value.reason == "aged 15, under 18 alone"
    with pytest.raises(ProviderNotEligible) as raised:
        check_provider(rules, member(), 13, group=True)
    assert raised.value.reason == "aged 13, under 14 in a group event"


def test_the_oldest_provider_and_the_vetting_levels() -> None:
    rules = PolicyRules(name="t", provider_age_max=75)
    check_provider(rules, member(), 75, group=False)
    with pytest.raises(ProviderNotEligible, match="aged 76, over 75"):
        check_provider(rules, member(), 76, group=False)
    vetted = PolicyRules(name="t", provider_vetting_required=True)
    check_provider(vetted, member(vetting=Vetting.COMMUNITY), 40, group=False)
    with pytest.raises(ProviderNotEligible) as raised:
        check_provider(vetted, member(vetting=Vetting.PENDING), 40, group=False)
    assert raised.value.reason == "vetting is pending"
    street = PolicyRules(name="t", provider_vetting_street=True)
    check_provider(street, member(vetting=Vetting.STREET), 40, group=False)
    with pytest.raises(ProviderNotEligible, match="not vetted by the street office"):
        check_provider(street, member(vetting=Vetting.COMMUNITY), 40, group=False)


def test_every_provider_rule_but_the_role_is_named_after_a_policy_field() -> None:
    names = [name for name, _ in PROVIDER_RULES]
    assert names[0] == "volunteer"
    assert set(names[1:]) <= set(PolicyRules.__struct_fields__)


@given(
    age=st.integers(0, 120),
    group=st.booleans(),
    volunteer=st.booleans(),
    vetting=st.sampled_from(list(Vetting)),
    age_min=st.integers(0, 30),
    age_max=st.none() | st.integers(30, 100),
    vetting_required=st.booleans(),
)
def test_check_provider_refuses_exactly_when_a_rule_gives_a_reason(
    age: int,
    group: bool,
    volunteer: bool,
    vetting: Vetting,
    age_min: int,
    age_max: int | None,
    vetting_required: bool,
) -> None:
    rules = PolicyRules(
        name="t",
        provider_age_min=age_min,
        provider_age_max=age_max,
        provider_vetting_required=vetting_required,
    )
    provider = member(roles=frozenset({Role.VOLUNTEER} if volunteer else ()), vetting=vetting)
    reason = provider_reason(rules, provider, age, group=group)
    eligible = (
        volunteer
        and age >= age_min
        and (age_max is None or age <= age_max)
        and (not vetting_required or vetting in (Vetting.COMMUNITY, Vetting.STREET))
    )
    assert (reason is None) == eligible
    if eligible:
        check_provider(rules, provider, age, group=group)
    else:
        with pytest.raises(ProviderNotEligible) as raised:
            check_provider(rules, provider, age, group=group)
        assert raised.value.reason == reason


# --- who may receive, redeem, be covered, be given to ------------------------------------------


def test_recipients_old_enough_or_flagged() -> None:
    rules = PolicyRules(name="t", recipient_age_min=60, recipient_flags_any=frozenset({"alone"}))
    check_recipient(rules, member(), 60)
    check_recipient(rules, member(flags=frozenset({"alone"})), 40)
    with pytest.raises(RecipientNotEligible) as raised:
        check_recipient(rules, member(), 59)
    assert raised.value.reason == "aged 59; the policy serves 60+ or members flagged alone"
    strict = PolicyRules(
        name="t",
        recipient_age_min=60,
        recipient_flags_any=frozenset({"alone"}),
        recipient_flags_waive_age=False,
    )
    check_recipient(strict, member(flags=frozenset({"alone"})), 60)
    with pytest.raises(RecipientNotEligible):
        check_recipient(strict, member(), 70)
    with pytest.raises(RecipientNotEligible):
        check_recipient(strict, member(flags=frozenset({"alone"})), 40)


def test_savers_redeem_from_the_policy_age() -> None:
    rules = PolicyRules(name="t", redeem_age_min=60)
    check_redeem_age(rules, member(), 60)
    check_redeem_age(BASE, member(), 20)
    with pytest.raises(RedemptionAgeNotReached) as raised:
        check_redeem_age(rules, member(), 59)
    assert (raised.value.member_id, raised.value.age, raised.value.age_min) == ("li", 59, 60)


def test_the_guarantee_fund_covers_only_the_residents_it_names() -> None:
    rules = PolicyRules(
        name="t",
        guarantee_grants_to=(
            GrantEligibility(age_min=80),
            GrantEligibility(flags=frozenset({"x"})),
        ),
    )
    check_guaranteed(BASE, member(), 20)
    check_guaranteed(rules, member(), 80)
    check_guaranteed(rules, member(flags=frozenset({"x"})), 20)
    with pytest.raises(RecipientNotEligible) as raised:
        check_guaranteed(rules, member(), 79)
    assert raised.value.reason == "the guarantee fund covers: 80+ with no flag; 0+ with x"


def test_gifts_go_to_allowed_relations_of_the_allowed_age() -> None:
    ids = {"giver_id": "li", "receiver_id": "wang"}
    with pytest.raises(GiftNotAllowed, match="the policy allows no gifts"):
        check_gift(BASE, **ids, relation="spouse", receiver_age=70)
    rules = PolicyRules(
        name="t",
        gift_relations=frozenset({"spouse", "child"}),
        gift_receiver_age_min=60,
        gift_receiver_age_exempt_relations=frozenset({"spouse"}),
    )
    check_gift(rules, **ids, relation="child", receiver_age=60)
    check_gift(rules, **ids, relation="spouse", receiver_age=50)
    with pytest.raises(GiftNotAllowed) as raised:
        check_gift(rules, **ids, relation=None, receiver_age=70)
    assert raised.value.reason == "not related; gifts go to: child, spouse"
    with pytest.raises(GiftNotAllowed, match="a sibling; gifts go to"):
        check_gift(rules, **ids, relation="sibling", receiver_age=70)
    with pytest.raises(GiftNotAllowed) as raised:
        check_gift(rules, **ids, relation="child", receiver_age=59)
    assert raised.value.reason == "the receiver is 59, under 60"
    assert (raised.value.giver_id, raised.value.receiver_id) == ("li", "wang")


def test_who_pays_when_the_caller_does_not_say() -> None:
    rules = PolicyRules(
        name="t",
        payer_default="issuance",
        subsidised_flags=frozenset({"poor"}),
        subsidised_payer="sponsor.a",
    )
    assert choose_payer(rules, member(), None) == "issuance"
    assert choose_payer(rules, member(flags=frozenset({"poor"})), None) == "sponsor.a"
    assert choose_payer(rules, member(flags=frozenset({"poor"})), "recipient") == "recipient"
    assert choose_payer(BASE, member(), None) == "recipient"


# --- services -------------------------------------------------------------------------------------


def test_check_service_examples() -> None:
    rules = PolicyRules(name="t", categories=("meals",), rounding_step_minutes=30)
    assert check_service(rules, "meals", 45) == 30
    with pytest.raises(CategoryUnknown):
        check_service(rules, "gardening", 60)
    with pytest.raises(ServiceMinutesOutOfRange):
        check_service(rules, "meals", 24 * 60 + 1)
    with pytest.raises(CreditRoundsToZero):
        check_service(rules, "meals", 20)


@given(
    provenance=st.sampled_from(list(Provenance)),
    required=st.booleans(),
    member_pays=st.booleans(),
    provider_gains=st.booleans(),
)
def test_a_credit_confirming_itself_is_never_held(
    provenance: Provenance, required: bool, member_pays: bool, provider_gains: bool
) -> None:
    rules = PolicyRules(name="t", confirmation_required=required)
    held = credit_held(rules, provenance, member_pays=member_pays, provider_gains=provider_gains)
    if provenance in (Provenance.RECIPIENT_CONFIRMATION, Provenance.ORGANISATION_CONFIRMATION):
        assert not held
    else:
        assert held == (required or member_pays or provider_gains)


# --- purses ---------------------------------------------------------------------------------------


@given(
    own=st.integers(-2_000, 2_000),
    gifted=st.integers(0, 2_000),
    group=st.integers(0, 2_000),
    minutes=st.integers(1, 5_000),
    line=st.integers(0, 1_000),
    credit_line=st.booleans(),
    donate_only=st.booleans(),
)
def test_a_spend_takes_the_amount_within_what_the_purses_hold(
    own: int,
    gifted: int,
    group: int,
    minutes: int,
    line: int,
    credit_line: bool,
    donate_only: bool,
) -> None:
    rules = PolicyRules(name="t", credit_limit_minutes=line, group_minutes_donate_only=donate_only)
    purses = Purses(own=own, gifted=gifted, group=group)
    usable_line = line if credit_line else 0
    if minutes > gifted + max(own + usable_line, 0):
        refusal: type[Exception] = InsufficientMinutes
        if donate_only and group >= minutes - max(own, 0) - gifted:
            refusal = GroupMinutesOnlyDonated
        elif usable_line:
            refusal = CreditLimitExceeded
        with pytest.raises(refusal):
            split_spend(rules, "li", purses, minutes, credit_line=credit_line, account_id="m.li")
        return
    split = split_spend(rules, "li", purses, minutes, credit_line=credit_line, account_id="m.li")
    assert split.own + split.gifted == minutes
    assert split.own >= 0
    assert 0 <= split.gifted <= gifted
    assert split.own == 0 or own - split.own >= -usable_line  # never past the credit line
    if split.gifted:
        assert split.own >= max(own, 0)  # own minutes go first
    if split.own > max(own, 0):
        assert split.gifted == gifted  # the credit line goes last


def test_spend_examples() -> None:
    rules = PolicyRules(name="t", credit_limit_minutes=100)
    split = split_spend(rules, "li", Purses(own=30, gifted=20), 120, account_id="m.li")
    assert (split.own, split.gifted) == (100, 20)
    split = split_spend(BASE, "li", Purses(own=30, gifted=20), 40, account_id="m.li")
    assert (split.own, split.gifted) == (30, 10)
    with pytest.raises(CreditLimitExceeded):
        split_spend(rules, "li", Purses(own=30, gifted=20), 151, account_id="m.li")
    with pytest.raises(InsufficientMinutes):
        split_spend(rules, "li", Purses(own=30), 31, credit_line=False, account_id="m.li")
    donate = PolicyRules(name="t", group_minutes_donate_only=True)
    with pytest.raises(GroupMinutesOnlyDonated):
        split_spend(donate, "li", Purses(own=0, group=100), 50, account_id="m.li")


@given(
    cap=st.none() | st.integers(1, 5_000),
    stored=st.integers(0, 6_000),
    minutes=st.integers(1, 5_000),
    overflow=st.booleans(),
)
def test_a_receipt_fills_the_purse_to_the_cap_and_overflows_the_rest(
    cap: int | None, stored: int, minutes: int, overflow: bool
) -> None:
    rules = PolicyRules(name="t", stored_minutes_max=cap)
    room = minutes if cap is None else max(cap - stored, 0)
    if not overflow and minutes > room:
        with pytest.raises(StoredMinutesCapExceeded) as raised:
            split_receive(rules, "li", stored, minutes, overflow=overflow)
        refused = raised.value
        assert (refused.stored_minutes, refused.cap_minutes) == (stored, cap)
        assert refused.requested_minutes == minutes
        return
    split = split_receive(rules, "li", stored, minutes, overflow=overflow)
    assert split.purse + split.overflow == minutes
    assert 0 <= split.purse <= room
    assert split.overflow == 0 or split.purse == room


# --- service orders -------------------------------------------------------------------------------


@given(status=st.sampled_from(list(OrderStatus)), action=st.sampled_from(list(TRANSITIONS)))
def test_an_order_moves_only_as_the_transitions_allow(
    status: OrderStatus, action: OrderAction
) -> None:
    statuses, target = TRANSITIONS[action]
    before = order(status)
    if status not in statuses:
        with pytest.raises(OrderTransitionNotAllowed) as raised:
            check_transition(before, action)
        assert (raised.value.status, raised.value.action) == (status.value, action.value)
        return
    check_transition(before, action)
    after = advance(before, action, at=NOW, actor="li", note="n", escalation_level=2)
    assert after.status is (status if target is None else target)
    assert after.history[-1].action is action
    assert after.history[-1].status is after.status
    assert (after.history[-1].actor, after.history[-1].note) == ("li", "n")
    assert after.escalation_level == 2
    assert len(after.history) == len(before.history) + 1
