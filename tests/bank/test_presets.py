"""Each preset's published rules as worked examples, through the facade, on every store.

The clock starts on Monday 2 November 2026 at 09:00 in Asia/Shanghai (01:00 UTC);
ages are whole years on the Shanghai date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from tests.bank.helpers import coordinator, volunteer
from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import (
    ActivatePolicy,
    AddMerchant,
    AddPolicy,
    BookRedemption,
    CompleteRedemption,
    ConfirmCredit,
    CreateEvent,
    CreditEvent,
    CreditService,
    Donate,
    ExpireMinutes,
    Give,
    Grant,
    RecordDeath,
    RegisterMember,
    Relate,
    UpdateMember,
)
from timebank.community import (
    PRESETS,
    ActorNotAuthorised,
    CreditLimitExceeded,
    CreditRoundsToZero,
    CreditStatus,
    GiftNotAllowed,
    GroupMinutesOnlyDonated,
    Member,
    MemberNotFound,
    MerchantRedemptionNotAllowed,
    PassbookEntry,
    PolicyInvalid,
    Provenance,
    ProviderNotEligible,
    ReasonRequired,
    RecipientNotEligible,
    RedemptionAgeNotReached,
    RedemptionStatus,
    RelationKind,
    Role,
    StoredMinutesCapExceeded,
    Vetting,
    preset,
)
from timebank.community.model import Credit
from timebank.ledger import InsufficientMinutes, ManualClock

HOUR = 60
TODAY = date(2026, 11, 2)
"""The Shanghai date when the clock starts."""
PROGRAMME_ACCOUNTS = frozenset({"pool", "issuance", "guarantee"})
PRESET_NAMES = sorted(PRESETS)
SERVICE_MINUTES_MAX = 24 * HOUR
"""The longest single service a preset records."""


# --- people and services ----------------------------------------------------------------------


def aged(years: int) -> date:
    """A birth date giving ``years`` whole years today (the birthday is in January)."""
    return date(TODAY.year - years, 1, 15)


def elder(
    book: BankBook, member_id: str, birth_date: date, *, flags: frozenset[str] = frozenset()
) -> Member:
    """A resident who receives care and does not volunteer."""
    return book.members.register(
        RegisterMember(
            member_id=member_id,
            name="张秀英",
            birth_date=birth_date,
            community="gulou",
            roles={Role.RECIPIENT},
            flags=flags,
        ),
        actor=SYSTEM,
    )


def serve(
    book: BankBook,
    clock: ManualClock,
    provider_id: str,
    recipient_id: str,
    raw_minutes: int,
    *,
    provenance: Provenance = Provenance.ORGANISATION_CONFIRMATION,
    actor: str = "coord",
    category: str = "companionship",
) -> Credit:
    """Credit one service (confirmed by the centre unless another provenance is given)."""
    return book.credits.record(
        CreditService(
            provider_id=provider_id,
            recipient_id=recipient_id,
            category=category,
            raw_minutes=raw_minutes,
            served_at=clock.now(),
            provenance=provenance,
        ),
        actor=actor,
    )


def earn(
    book: BankBook, clock: ManualClock, provider_id: str, recipient_id: str, total: int
) -> None:
    """Credit ``total`` minutes to a provider in services of at most a day each."""
    while total > 0:
        minutes = min(total, SERVICE_MINUTES_MAX)
        serve(book, clock, provider_id, recipient_id, minutes)
        total -= minutes


def account_ids(book: BankBook) -> list[str]:
    def reading(_: Any, ledger: Any) -> list[str]:
        return [a.account_id for a in ledger.accounts(after=None, limit=10_000)]

    return book.read(reading)


def service_lines(book: BankBook, member_id: str) -> list[PassbookEntry]:
    return [
        e for e in book.statements.passbook(member_id).entries if e.kind in ("service", "event")
    ]


def owed_by_programme(book: BankBook) -> int:
    """What the programme's own accounts hold between them, negated: what it has handed out."""
    return -sum(book.statements.programme_balance(a) for a in PROGRAMME_ACCOUNTS)


@pytest.fixture
def nanjing(bank: TimeBank) -> BankBook:
    """A Nanjing book with a coordinator, a volunteer li (63) and an elder zhang (86)."""
    book = bank.create_book("gulou", "nanjing")
    coordinator(book)
    volunteer(book, "li", aged(63))
    elder(book, "zhang", aged(86))
    return book


# --- Nanjing ---------------------------------------------------------------------------------


def test_nanjing_hours_buy_services_not_goods(nanjing: BankBook, clock: ManualClock) -> None:
    """Nanjing hours are spent on services only: a partner merchant's goods are refused."""
    nanjing.programme.add_merchant(AddMerchant(merchant_id="suguo", name="苏果超市"), actor=SYSTEM)
    serve(nanjing, clock, "li", "zhang", 120, provenance=Provenance.ORGANISATION_CONFIRMATION)
    with pytest.raises(MerchantRedemptionNotAllowed):
        nanjing.redemptions.book(
            BookRedemption(saver_id="li", minutes=30, merchant_id="suguo"), actor="li"
        )
    assert nanjing.statements.balance("li").held_minutes == 0


def test_nanjing_guarantee_fund_grants_only_to_key_elderly(nanjing: BankBook) -> None:
    """The fund grants to 80+ living alone, or 60+ on minimum income and disabled."""
    volunteer(nanjing, "he", aged(86), name="何兰")
    volunteer(nanjing, "lu", aged(66), name="陆平", flags=frozenset({"low_income", "disabled"}))
    volunteer(nanjing, "xu", aged(66), name="徐静", flags=frozenset({"low_income"}))
    with pytest.raises(RecipientNotEligible):
        nanjing.gifts.grant(
            Grant(member_id="he", minutes=60, reason="高龄", source="guarantee"), actor="coord"
        )
    with pytest.raises(RecipientNotEligible):
        nanjing.gifts.grant(
            Grant(member_id="xu", minutes=60, reason="低保", source="guarantee"), actor="coord"
        )
    nanjing.gifts.grant(
        Grant(member_id="lu", minutes=60, reason="低保残疾", source="guarantee"), actor="coord"
    )
    assert nanjing.statements.balance("lu").gifted_minutes == 60
    assert nanjing.statements.programme_balance("guarantee") == -60


def test_nanjing_saver_of_59_cannot_redeem(nanjing: BankBook, clock: ManualClock) -> None:
    """Nanjing savers redeem from 60: one who turns 60 tomorrow is refused and nothing is held."""
    volunteer(nanjing, "wu", date(1966, 11, 3), name="吴强")
    serve(nanjing, clock, "wu", "zhang", 120)
    with pytest.raises(RedemptionAgeNotReached) as caught:
        nanjing.redemptions.book(
            BookRedemption(saver_id="wu", minutes=60, provider_id="li", category="daily_care"),
            actor="wu",
        )
    assert (caught.value.age, caught.value.age_min) == (59, 60)
    after = nanjing.statements.balance("wu")
    assert (after.own_minutes, after.held_minutes) == (120, 0)
    assert nanjing.statements.balance("li").own_minutes == 0


def test_nanjing_saver_redeems_on_their_60th_birthday(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """A saver whose 60th birthday is today redeems banked minutes for a service."""
    volunteer(nanjing, "wu", date(1966, 11, 2), name="吴强")
    serve(nanjing, clock, "wu", "zhang", 120)
    booked = nanjing.redemptions.book(
        BookRedemption(saver_id="wu", minutes=60, provider_id="li", category="daily_care"),
        actor="wu",
    )
    assert booked.status is RedemptionStatus.BOOKED
    held = nanjing.statements.balance("wu")
    assert (held.own_minutes, held.held_minutes) == (120, 60)
    done = nanjing.redemptions.complete(
        CompleteRedemption(redemption_id=booked.redemption_id, spent_minutes=60), actor="wu"
    )
    assert done.status is RedemptionStatus.DONE
    assert nanjing.statements.balance("wu").own_minutes == 60
    assert nanjing.statements.balance("li").own_minutes == 60


def test_nanjing_redemption_age_uses_the_shanghai_date(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """Just after midnight in Shanghai (still yesterday in UTC) a saver already counts as 60."""
    volunteer(nanjing, "wu", date(1966, 11, 3), name="吴强")
    volunteer(nanjing, "sun", date(1966, 11, 4), name="孙丽")
    serve(nanjing, clock, "wu", "zhang", 120)
    serve(nanjing, clock, "sun", "zhang", 120)
    now = clock.advance(datetime(2026, 11, 2, 16, 30, tzinfo=UTC) - clock.now())
    assert now.date() == date(2026, 11, 2)  # UTC: wu is still 59 there
    booked = nanjing.redemptions.book(
        BookRedemption(saver_id="wu", minutes=60, provider_id="li", category="daily_care"),
        actor="wu",
    )
    assert booked.status is RedemptionStatus.BOOKED
    with pytest.raises(RedemptionAgeNotReached):
        nanjing.redemptions.book(
            BookRedemption(saver_id="sun", minutes=60, provider_id="li", category="daily_care"),
            actor="sun",
        )


def test_nanjing_cap_sends_the_overflow_of_a_credit_to_the_pool(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """At 1,499 h stored, a 2 h service credits 1 h to the saver and 1 h to the pool."""
    earn(nanjing, clock, "li", "zhang", 1_499 * HOUR)
    assert nanjing.statements.balance("li").own_minutes == 1_499 * HOUR
    made = serve(nanjing, clock, "li", "zhang", 2 * HOUR)
    assert (made.credited_minutes, made.provider_minutes) == (120, 60)
    assert made.overflow_account == "pool"
    assert nanjing.statements.balance("li").own_minutes == 1_500 * HOUR
    assert nanjing.statements.programme_balance("pool") == HOUR
    at_cap = serve(nanjing, clock, "li", "zhang", HOUR)
    assert at_cap.provider_minutes == 0
    assert nanjing.statements.balance("li").own_minutes == 1_500 * HOUR
    assert nanjing.statements.programme_balance("pool") == 2 * HOUR
    line = nanjing.statements.passbook("li", limit=100).entries[-1]
    assert (line.delta_minutes, line.balance_minutes) == (60, 1_500 * HOUR)


def test_nanjing_gift_over_the_cap_is_refused(nanjing: BankBook, clock: ManualClock) -> None:
    """A gift that would take the receiver past 1,500 h is refused whole; up to the cap is fine."""
    volunteer(nanjing, "chen", aged(62), name="陈明")
    nanjing.members.relate(
        Relate(member_id="chen", other_id="li", kind=RelationKind.SPOUSE), actor="coord"
    )
    earn(nanjing, clock, "li", "zhang", 1_499 * HOUR)
    serve(nanjing, clock, "chen", "zhang", 3 * HOUR)
    with pytest.raises(StoredMinutesCapExceeded) as caught:
        nanjing.gifts.give(Give(giver_id="chen", receiver_id="li", minutes=2 * HOUR), actor="chen")
    assert (caught.value.stored_minutes, caught.value.cap_minutes) == (89_940, 90_000)
    assert nanjing.statements.balance("chen").own_minutes == 3 * HOUR
    assert nanjing.statements.balance("li").total_minutes == 1_499 * HOUR
    nanjing.gifts.give(Give(giver_id="chen", receiver_id="li", minutes=HOUR), actor="chen")
    assert nanjing.statements.balance("li").gifted_minutes == HOUR
    assert nanjing.statements.balance("li").total_minutes == 1_500 * HOUR
    assert nanjing.statements.balance("chen").own_minutes == 2 * HOUR


def test_nanjing_group_volunteer_minutes_can_only_be_donated(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """Event credits land in the group purse; they cannot be redeemed or given, only donated."""
    volunteer(nanjing, "wife", aged(61), name="陈梅")
    nanjing.members.relate(
        Relate(member_id="li", other_id="wife", kind=RelationKind.SPOUSE), actor="coord"
    )
    event = nanjing.events.create(
        CreateEvent(title="重阳节敬老活动", category="community", held_at=clock.now()),
        actor="coord",
    )
    (made,) = nanjing.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"li": 3 * HOUR}), actor="coord"
    )
    assert made.provider_account == "m.li.group"
    assert nanjing.statements.balance("li").group_minutes == 3 * HOUR
    assert nanjing.statements.balance("li").own_minutes == 0
    with pytest.raises(GroupMinutesOnlyDonated):
        nanjing.redemptions.book(
            BookRedemption(saver_id="li", minutes=HOUR, provider_id="wife", category="meals"),
            actor="li",
        )
    with pytest.raises(GroupMinutesOnlyDonated):
        nanjing.gifts.give(Give(giver_id="li", receiver_id="wife", minutes=HOUR), actor="li")
    nanjing.gifts.donate(Donate(member_id="li", minutes=3 * HOUR, group=True), actor="li")
    assert nanjing.statements.balance("li").total_minutes == 0
    assert nanjing.statements.programme_balance("pool") == 3 * HOUR


def test_nanjing_non_group_event_credits_the_own_purse(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """An event the centre marks as not group volunteering credits attendees' own purses."""
    event = nanjing.events.create(
        CreateEvent(title="助老服务日", category="daily_care", held_at=clock.now(), group=False),
        actor="coord",
    )
    nanjing.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"li": 2 * HOUR}), actor="coord"
    )
    assert nanjing.statements.balance("li").own_minutes == 2 * HOUR
    assert nanjing.statements.balance("li").group_minutes == 0


def test_nanjing_gifts_go_to_the_spouse_at_any_age_or_lineal_relatives_aged_60_plus(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """li may give to a 55-year-old spouse and to an 88-year-old mother; both land as gifts."""
    elder(nanjing, "spouse", aged(55))
    elder(nanjing, "mother", aged(88))
    nanjing.members.relate(
        Relate(member_id="li", other_id="spouse", kind=RelationKind.SPOUSE), actor="coord"
    )
    nanjing.members.relate(
        Relate(member_id="li", other_id="mother", kind=RelationKind.PARENT), actor="coord"
    )
    serve(nanjing, clock, "li", "zhang", 4 * HOUR)
    nanjing.gifts.give(Give(giver_id="li", receiver_id="spouse", minutes=HOUR), actor="li")
    nanjing.gifts.give(Give(giver_id="li", receiver_id="mother", minutes=2 * HOUR), actor="li")
    assert nanjing.statements.balance("spouse").gifted_minutes == HOUR
    assert nanjing.statements.balance("mother").gifted_minutes == 2 * HOUR
    assert nanjing.statements.balance("li").own_minutes == HOUR
    gifts = [e for e in nanjing.statements.passbook("li").entries if e.kind == "gift"]
    assert [(e.delta_minutes, e.counterparty) for e in gifts] == [
        (-HOUR, "m.spouse.gifted"),
        (-2 * HOUR, "m.mother.gifted"),
    ]


@pytest.mark.parametrize(
    ("kind", "years"),
    [
        (RelationKind.CHILD, 50),
        (RelationKind.FRIEND, 80),
        (RelationKind.SIBLING, 66),
        (RelationKind.GRANDCHILD, 30),
    ],
)
def test_nanjing_gift_to_a_friend_sibling_or_relative_under_60_is_refused(
    nanjing: BankBook, clock: ManualClock, kind: RelationKind, years: int
) -> None:
    """Gifts go only to the spouse or lineal relatives aged 60+: a 50-year-old child is refused."""
    elder(nanjing, "other", aged(years))
    nanjing.members.relate(Relate(member_id="li", other_id="other", kind=kind), actor="coord")
    serve(nanjing, clock, "li", "zhang", 2 * HOUR)
    with pytest.raises(GiftNotAllowed):
        nanjing.gifts.give(Give(giver_id="li", receiver_id="other", minutes=HOUR), actor="li")
    assert nanjing.statements.balance("li").own_minutes == 2 * HOUR
    assert nanjing.statements.balance("other").total_minutes == 0


@pytest.mark.parametrize(
    ("birth_date", "allowed"), [(date(1966, 11, 2), True), (date(1966, 11, 3), False)]
)
def test_nanjing_gift_to_a_child_turns_on_their_60th_birthday(
    nanjing: BankBook, clock: ManualClock, birth_date: date, allowed: bool
) -> None:
    """A child may receive gifts from their 60th birthday (Shanghai date), not the day before."""
    volunteer(nanjing, "lao", aged(85), name="老陈")
    elder(nanjing, "child", birth_date)
    nanjing.members.relate(
        Relate(member_id="lao", other_id="child", kind=RelationKind.CHILD), actor="coord"
    )
    serve(nanjing, clock, "lao", "zhang", HOUR)
    if allowed:
        nanjing.gifts.give(Give(giver_id="lao", receiver_id="child", minutes=HOUR), actor="lao")
    else:
        with pytest.raises(GiftNotAllowed):
            nanjing.gifts.give(Give(giver_id="lao", receiver_id="child", minutes=HOUR), actor="lao")
    assert nanjing.statements.balance("child").gifted_minutes == (HOUR if allowed else 0)


def test_nanjing_gift_to_an_unrelated_elder_is_refused(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """Without a recorded relation there is no gift, however old the receiver."""
    serve(nanjing, clock, "li", "zhang", 2 * HOUR)
    with pytest.raises(GiftNotAllowed):
        nanjing.gifts.give(Give(giver_id="li", receiver_id="zhang", minutes=HOUR), actor="li")


def test_nanjing_donated_hours_reach_an_elder_living_alone(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """Donated minutes go to the pool, and a coordinator grants them to an elder living alone."""
    elder(nanjing, "zhou", aged(83), flags=frozenset({"living_alone"}))
    serve(nanjing, clock, "li", "zhang", 3 * HOUR)
    nanjing.gifts.donate(Donate(member_id="li", minutes=2 * HOUR), actor="li")
    assert nanjing.statements.programme_balance("pool") == 2 * HOUR
    nanjing.gifts.grant(
        Grant(member_id="zhou", minutes=2 * HOUR, reason="独居老人 living alone"), actor="coord"
    )
    assert nanjing.statements.balance("zhou").gifted_minutes == 2 * HOUR
    assert nanjing.statements.programme_balance("pool") == 0
    with pytest.raises(InsufficientMinutes):
        nanjing.gifts.grant(
            Grant(member_id="zhou", minutes=1, reason="living alone"), actor="coord"
        )


def test_nanjing_volunteer_needs_two_level_vetting(nanjing: BankBook, clock: ManualClock) -> None:
    """Community vetting alone is not enough: the street office must vet a volunteer too."""
    volunteer(nanjing, "wu", aged(62), name="吴强", vetting=Vetting.COMMUNITY)
    volunteer(nanjing, "sun", aged(61), name="孙丽", vetting=Vetting.PENDING)
    for provider in ("wu", "sun"):
        with pytest.raises(ProviderNotEligible):
            serve(nanjing, clock, provider, "zhang", HOUR)
    nanjing.members.update(UpdateMember(member_id="wu", vetting=Vetting.STREET), actor="coord")
    serve(nanjing, clock, "wu", "zhang", HOUR)
    assert nanjing.statements.balance("wu").own_minutes == HOUR
    assert nanjing.statements.balance("sun").own_minutes == 0


def test_nanjing_check_in_credit_waits_for_the_recipient(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """A check-in/check-out credit is pending until the recipient confirms it."""
    made = serve(nanjing, clock, "li", "zhang", 90, provenance=Provenance.CHECK_IN_OUT, actor="li")
    assert made.status is CreditStatus.PENDING
    assert nanjing.statements.balance("li").own_minutes == 0
    assert nanjing.statements.passbook("li").entries == ()
    assert nanjing.statements.programme_balance("issuance") == 0
    confirmed = nanjing.credits.confirm(ConfirmCredit(credit_id=made.credit_id), actor="zhang")
    assert confirmed.status is CreditStatus.POSTED
    assert confirmed.confirmation is Provenance.RECIPIENT_CONFIRMATION
    assert nanjing.statements.balance("li").own_minutes == 90
    assert nanjing.statements.programme_balance("issuance") == -90


def test_nanjing_provider_cannot_confirm_their_own_check_in(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """Confirmation comes from the recipient or the centre, never from the provider."""
    made = serve(nanjing, clock, "li", "zhang", 90, provenance=Provenance.CHECK_IN_OUT, actor="li")
    with pytest.raises(ActorNotAuthorised):
        nanjing.credits.confirm(ConfirmCredit(credit_id=made.credit_id), actor="li")
    assert nanjing.credits.get(made.credit_id).status is CreditStatus.PENDING


@pytest.mark.parametrize(
    ("provenance", "actor"),
    [
        (Provenance.ORGANISATION_CONFIRMATION, "coord"),
        (Provenance.RECIPIENT_CONFIRMATION, "zhang"),
    ],
)
def test_nanjing_confirmed_credit_posts_at_once(
    nanjing: BankBook, clock: ManualClock, provenance: Provenance, actor: str
) -> None:
    """A credit confirmed by the centre or by the recipient is its own confirmation."""
    made = serve(nanjing, clock, "li", "zhang", 90, provenance=provenance, actor=actor)
    assert made.status is CreditStatus.POSTED
    assert nanjing.statements.balance("li").own_minutes == 90


def test_nanjing_guarantee_fund_grants_hours_to_key_elderly(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """The city fund grants hours to an 80+ elder living alone, who can spend them on care."""
    elder(nanjing, "zhou", aged(83), flags=frozenset({"living_alone"}))
    nanjing.gifts.grant(
        Grant(member_id="zhou", minutes=10 * HOUR, reason="80+ living alone", source="guarantee"),
        actor="coord",
    )
    assert nanjing.statements.balance("zhou").gifted_minutes == 10 * HOUR
    assert nanjing.statements.programme_balance("guarantee") == -10 * HOUR
    booked = nanjing.redemptions.book(
        BookRedemption(saver_id="zhou", minutes=2 * HOUR, provider_id="li", category="cleaning"),
        actor="zhou",
    )
    nanjing.redemptions.complete(
        CompleteRedemption(redemption_id=booked.redemption_id, spent_minutes=2 * HOUR), actor="zhou"
    )
    assert nanjing.statements.balance("zhou").gifted_minutes == 8 * HOUR
    assert nanjing.statements.balance("li").own_minutes == 2 * HOUR
    grant_line = nanjing.statements.passbook("zhou").entries[0]
    assert (grant_line.kind, grant_line.counterparty) == ("grant", "guarantee")


def test_nanjing_guarantee_grant_needs_a_coordinator_and_a_reason(nanjing: BankBook) -> None:
    """Only the centre grants from the fund, and every grant records why."""
    elder(nanjing, "zhou", aged(83), flags=frozenset({"living_alone"}))
    with pytest.raises(ReasonRequired):
        nanjing.gifts.grant(
            Grant(member_id="zhou", minutes=HOUR, reason=" ", source="guarantee"), actor="coord"
        )
    with pytest.raises(MemberNotFound):  # zhou is not li's to see
        nanjing.gifts.grant(
            Grant(member_id="zhou", minutes=HOUR, reason="need", source="guarantee"), actor="li"
        )
    with pytest.raises(ActorNotAuthorised):  # nor would zhou grant to herself
        nanjing.gifts.grant(
            Grant(member_id="zhou", minutes=HOUR, reason="need", source="guarantee"), actor="zhou"
        )
    assert nanjing.statements.balance("zhou").total_minutes == 0
    assert nanjing.statements.programme_balance("guarantee") == 0


def test_nanjing_hours_buy_services_never_money(nanjing: BankBook, clock: ManualClock) -> None:
    """Every minute stays between member purses and programme accounts: there is no cash account."""
    elder(nanjing, "mother", aged(88))
    nanjing.members.relate(
        Relate(member_id="li", other_id="mother", kind=RelationKind.PARENT), actor="coord"
    )
    serve(nanjing, clock, "li", "zhang", 4 * HOUR)
    nanjing.gifts.give(Give(giver_id="li", receiver_id="mother", minutes=HOUR), actor="li")
    nanjing.gifts.donate(Donate(member_id="li", minutes=HOUR), actor="li")
    nanjing.gifts.grant(Grant(member_id="zhang", minutes=HOUR, reason="low income"), actor="coord")
    booked = nanjing.redemptions.book(
        BookRedemption(saver_id="mother", minutes=HOUR, provider_id="li", category="meals"),
        actor="mother",
    )
    nanjing.redemptions.complete(
        CompleteRedemption(redemption_id=booked.redemption_id, spent_minutes=HOUR), actor="coord"
    )
    event = nanjing.events.create(
        CreateEvent(title="义诊", category="health", held_at=clock.now()), actor="coord"
    )
    nanjing.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"li": HOUR}), actor="coord"
    )
    outside = [
        a for a in account_ids(nanjing) if not a.startswith("m.") and a not in PROGRAMME_ACCOUNTS
    ]
    assert outside == []
    assert nanjing.statements.verify().ok


# --- Shanghai --------------------------------------------------------------------------------


@pytest.fixture
def shanghai(bank: TimeBank) -> BankBook:
    """A Shanghai book with a coordinator and a volunteer li (63)."""
    book = bank.create_book("jingan", "shanghai")
    coordinator(book)
    volunteer(book, "li", aged(63))
    return book


def test_shanghai_recipient_of_64_is_refused(shanghai: BankBook, clock: ManualClock) -> None:
    """Shanghai serves recipients from 65: one who turns 65 tomorrow is refused."""
    elder(shanghai, "gu", date(1961, 11, 3))
    with pytest.raises(RecipientNotEligible):
        serve(shanghai, clock, "li", "gu", HOUR)
    assert shanghai.statements.balance("li").own_minutes == 0


def test_shanghai_recipient_of_65_is_served(shanghai: BankBook, clock: ManualClock) -> None:
    """A recipient whose 65th birthday is today may be served."""
    elder(shanghai, "gu", date(1961, 11, 2))
    serve(shanghai, clock, "li", "gu", HOUR)
    assert shanghai.statements.balance("li").own_minutes == HOUR


def test_shanghai_one_hour_earns_one_time_coin(shanghai: BankBook, clock: ManualClock) -> None:
    """The unit is the time coin, one per hour of service."""
    elder(shanghai, "gu", aged(80))
    rules = shanghai.programme.policy().rules
    assert (rules.unit_name, rules.unit_minutes) == ("time coin", 60)
    serve(shanghai, clock, "li", "gu", 3 * HOUR)
    assert shanghai.statements.balance("li").own_minutes // rules.unit_minutes == 3


def test_shanghai_under_18_serves_only_in_groups(shanghai: BankBook, clock: ManualClock) -> None:
    """A 16-year-old is credited for a group event but may not be credited for a service alone."""
    elder(shanghai, "gu", aged(80))
    volunteer(shanghai, "teen", aged(16), name="小明")
    with pytest.raises(ProviderNotEligible):
        serve(shanghai, clock, "teen", "gu", HOUR)
    event = shanghai.events.create(
        CreateEvent(title="社区清洁", category="cleaning", held_at=clock.now()), actor="coord"
    )
    shanghai.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"teen": 2 * HOUR}), actor="coord"
    )
    assert shanghai.statements.balance("teen").total_minutes == 2 * HOUR


def test_shanghai_group_events_still_need_age_14(shanghai: BankBook, clock: ManualClock) -> None:
    """Even in a group, a 13-year-old is not credited (and neither is anyone in that batch)."""
    volunteer(shanghai, "kid", aged(13), name="小红")
    event = shanghai.events.create(
        CreateEvent(title="社区清洁", category="cleaning", held_at=clock.now()), actor="coord"
    )
    with pytest.raises(ProviderNotEligible):
        shanghai.events.credit(
            CreditEvent(event_id=event.event_id, attendees={"kid": HOUR, "li": HOUR}), actor="coord"
        )
    assert shanghai.statements.balance("li").total_minutes == 0
    assert shanghai.events.credits(event.event_id) == []


def test_shanghai_coins_can_be_given_to_a_friend(shanghai: BankBook, clock: ManualClock) -> None:
    """Time coins may be given to friends as well as relatives, whatever their age."""
    elder(shanghai, "gu", aged(80))
    volunteer(shanghai, "he", aged(40), name="何伟")
    shanghai.members.relate(
        Relate(member_id="li", other_id="he", kind=RelationKind.FRIEND), actor="coord"
    )
    serve(shanghai, clock, "li", "gu", 2 * HOUR)
    shanghai.gifts.give(Give(giver_id="li", receiver_id="he", minutes=HOUR), actor="li")
    assert shanghai.statements.balance("he").gifted_minutes == HOUR
    assert shanghai.statements.balance("li").own_minutes == HOUR


def test_shanghai_coins_can_be_donated_to_the_platform(
    shanghai: BankBook, clock: ManualClock
) -> None:
    """Donated coins go to the pool, from which the centre helps elderly in difficulty."""
    elder(shanghai, "gu", aged(80), flags=frozenset({"low_income"}))
    serve(shanghai, clock, "li", "gu", 2 * HOUR)
    shanghai.gifts.donate(Donate(member_id="li", minutes=HOUR), actor="li")
    shanghai.gifts.grant(
        Grant(member_id="gu", minutes=HOUR, reason="elderly in difficulty"), actor="coord"
    )
    assert shanghai.statements.balance("gu").gifted_minutes == HOUR
    assert shanghai.statements.programme_balance("pool") == 0


# --- Hangzhou Xihu ---------------------------------------------------------------------------


@pytest.fixture
def xihu(bank: TimeBank) -> BankBook:
    book = bank.create_book("xihu", "hangzhou_xihu")
    coordinator(book)
    return book


def test_hangzhou_newcomer_starts_with_5_points(xihu: BankBook) -> None:
    """A new member's own purse holds 5 points (300 minutes), paid from issuance."""
    before = xihu.statements.programme_balance("issuance")
    volunteer(xihu, "li", aged(63))
    assert xihu.statements.balance("li").own_minutes == 5 * HOUR
    assert xihu.statements.programme_balance("issuance") == before - 5 * HOUR
    (line,) = xihu.statements.passbook("li").entries
    assert (line.kind, line.counterparty, line.delta_minutes) == ("grant", "issuance", 300)
    assert xihu.programme.policy().rules.unit_name == "point"


@pytest.mark.parametrize("raw_minutes", [15, 60, 180])
def test_hangzhou_one_service_earns_one_point_whatever_its_length(
    xihu: BankBook, clock: ManualClock, raw_minutes: int
) -> None:
    """Every service credits exactly one point (60 minutes); the raw time is kept as served."""
    volunteer(xihu, "li", aged(63))
    volunteer(xihu, "zhang", aged(86), name="张秀英")
    made = serve(xihu, clock, "li", "zhang", raw_minutes)
    assert (made.raw_minutes, made.credited_minutes) == (raw_minutes, HOUR)
    assert xihu.statements.balance("li").own_minutes == 6 * HOUR
    line = service_lines(xihu, "li")[-1]
    assert (line.raw_minutes, line.credited_minutes) == (raw_minutes, HOUR)


def test_hangzhou_being_helped_costs_one_point(xihu: BankBook, clock: ManualClock) -> None:
    """The recipient pays the provider one point from their own balance; nothing is minted."""
    volunteer(xihu, "li", aged(63))
    volunteer(xihu, "zhang", aged(86), name="张秀英")
    minted = xihu.statements.programme_balance("issuance")
    made = serve(xihu, clock, "li", "zhang", 2 * HOUR)
    assert made.payer_account == "m.zhang"
    assert xihu.statements.balance("zhang").own_minutes == 4 * HOUR
    assert xihu.statements.balance("li").own_minutes == 6 * HOUR
    assert xihu.statements.programme_balance("issuance") == minted
    assert xihu.statements.liability() == -minted


def test_hangzhou_member_without_points_cannot_be_helped(
    xihu: BankBook, clock: ManualClock
) -> None:
    """With no points left (and no credit line) the next service is refused."""
    volunteer(xihu, "li", aged(63))
    volunteer(xihu, "zhang", aged(86), name="张秀英")
    for _ in range(5):
        serve(xihu, clock, "li", "zhang", HOUR)
    assert xihu.statements.balance("zhang").own_minutes == 0
    with pytest.raises(InsufficientMinutes):
        serve(xihu, clock, "li", "zhang", HOUR)
    assert xihu.statements.balance("li").own_minutes == 10 * HOUR


def test_hangzhou_points_pass_to_family(xihu: BankBook, clock: ManualClock) -> None:
    """Points may be given to a sibling (family); a friend is refused."""
    volunteer(xihu, "li", aged(63))
    volunteer(xihu, "sister", aged(70), name="李梅")
    volunteer(xihu, "he", aged(60), name="何伟")
    xihu.members.relate(
        Relate(member_id="li", other_id="sister", kind=RelationKind.SIBLING), actor="coord"
    )
    xihu.members.relate(
        Relate(member_id="li", other_id="he", kind=RelationKind.FRIEND), actor="coord"
    )
    xihu.gifts.give(Give(giver_id="li", receiver_id="sister", minutes=2 * HOUR), actor="li")
    assert xihu.statements.balance("sister").gifted_minutes == 2 * HOUR
    assert xihu.statements.balance("li").own_minutes == 3 * HOUR
    with pytest.raises(GiftNotAllowed):
        xihu.gifts.give(Give(giver_id="li", receiver_id="he", minutes=HOUR), actor="li")
    assert xihu.statements.balance("he").total_minutes == 5 * HOUR


# --- Ruian -----------------------------------------------------------------------------------


@pytest.fixture
def ruian(bank: TimeBank) -> BankBook:
    book = bank.create_book("ruian", "ruian")
    coordinator(book)
    volunteer(book, "li", aged(63))
    elder(book, "zhang", aged(86))
    return book


@pytest.mark.parametrize(("raw", "credited"), [(30, 30), (50, 30), (89, 60), (90, 90)])
def test_ruian_counts_half_hour_steps_rounded_down(
    ruian: BankBook, clock: ManualClock, raw: int, credited: int
) -> None:
    """Served minutes are credited in whole half hours, rounded down."""
    made = serve(ruian, clock, "li", "zhang", raw)
    assert (made.raw_minutes, made.credited_minutes) == (raw, credited)
    assert ruian.statements.balance("li").own_minutes == credited


def test_ruian_service_under_half_an_hour_credits_nothing(
    ruian: BankBook, clock: ManualClock
) -> None:
    """20 minutes round down to zero steps: the credit is refused, not recorded as zero."""
    with pytest.raises(CreditRoundsToZero):
        serve(ruian, clock, "li", "zhang", 20)
    assert ruian.statements.passbook("li").entries == ()


def test_ruian_keeps_check_in_hours_apart_from_confirmed_hours(
    ruian: BankBook, clock: ManualClock
) -> None:
    """App check-in hours (信用时) wait for confirmation; confirmed hours (荣誉时) post at once."""
    app = serve(ruian, clock, "li", "zhang", 60, provenance=Provenance.CHECK_IN_OUT, actor="li")
    assert app.status is CreditStatus.PENDING
    serve(ruian, clock, "li", "zhang", 90)
    serve(
        ruian, clock, "li", "zhang", 30, provenance=Provenance.RECIPIENT_CONFIRMATION, actor="zhang"
    )
    assert ruian.statements.balance("li").own_minutes == 120
    ruian.credits.confirm(ConfirmCredit(credit_id=app.credit_id), actor="zhang")
    lines = service_lines(ruian, "li")
    by_provenance: dict[str, int] = {}
    for line in lines:
        by_provenance[line.provenance] = by_provenance.get(line.provenance, 0) + line.delta_minutes
    assert by_provenance == {
        "check_in_out": 60,
        "organisation_confirmation": 90,
        "recipient_confirmation": 30,
    }
    assert ruian.statements.balance("li").own_minutes == 180


# --- TimeOverflow ----------------------------------------------------------------------------


@pytest.fixture
def overflow(bank: TimeBank) -> BankBook:
    book = bank.create_book("barrio", "timeoverflow")
    coordinator(book)
    volunteer(book, "ana", aged(34), name="Ana")
    volunteer(book, "ben", aged(41), name="Ben")
    volunteer(book, "eva", aged(29), name="Eva")
    return book


def test_timeoverflow_members_pay_each_other_down_to_minus_20_hours(
    overflow: BankBook, clock: ManualClock
) -> None:
    """A member at 0 may pay 1,200 minutes; the next minute exceeds the credit limit."""
    made = serve(
        overflow,
        clock,
        "ana",
        "ben",
        20 * HOUR,
        provenance=Provenance.RECIPIENT_CONFIRMATION,
        actor="ben",
    )
    assert made.payer_account == "m.ben"
    assert overflow.statements.balance("ben").own_minutes == -20 * HOUR
    assert overflow.statements.balance("ana").own_minutes == 20 * HOUR
    with pytest.raises(CreditLimitExceeded) as caught:
        serve(
            overflow,
            clock,
            "eva",
            "ben",
            1,
            provenance=Provenance.RECIPIENT_CONFIRMATION,
            actor="ben",
        )
    assert caught.value.credit_limit_minutes == 20 * HOUR
    assert overflow.statements.balance("ben").own_minutes == -20 * HOUR
    assert overflow.statements.balance("eva").own_minutes == 0


def test_timeoverflow_balances_always_sum_to_zero(overflow: BankBook, clock: ManualClock) -> None:
    """Mutual credit mints nothing: the members' balances always sum to zero."""
    for provider, recipient, minutes in (
        ("ana", "ben", 90),
        ("ben", "eva", 45),
        ("eva", "ana", 30),
    ):
        serve(
            overflow,
            clock,
            provider,
            recipient,
            minutes,
            provenance=Provenance.RECIPIENT_CONFIRMATION,
            actor=recipient,
        )
    assert overflow.statements.liability() == 0
    assert owed_by_programme(overflow) == 0
    assert [overflow.statements.balance(m).own_minutes for m in ("ana", "ben", "eva")] == [
        60,
        -45,
        -15,
    ]


@pytest.mark.parametrize("provenance", [Provenance.CHECK_IN_OUT, Provenance.PAPER_RECORD])
def test_timeoverflow_provider_cannot_charge_a_recipient_without_consent(
    overflow: BankBook, clock: ManualClock, provenance: Provenance
) -> None:
    """A credit the paying member has not confirmed waits for them instead of debiting them."""
    made = serve(overflow, clock, "ana", "ben", 20 * HOUR, provenance=provenance, actor="ana")
    assert made.status is CreditStatus.PENDING
    assert overflow.statements.balance("ben").own_minutes == 0
    assert overflow.statements.balance("ben").held_minutes == 20 * HOUR
    overflow.credits.confirm(ConfirmCredit(credit_id=made.credit_id), actor="ben")
    assert overflow.statements.balance("ben").own_minutes == -20 * HOUR
    assert overflow.statements.balance("ana").own_minutes == 20 * HOUR


def test_timeoverflow_allows_no_gifts(overflow: BankBook, clock: ManualClock) -> None:
    """Minutes move only as payment for a service: even a spouse cannot be given minutes."""
    overflow.members.relate(
        Relate(member_id="ana", other_id="ben", kind=RelationKind.SPOUSE), actor="coord"
    )
    serve(
        overflow,
        clock,
        "ana",
        "eva",
        HOUR,
        provenance=Provenance.RECIPIENT_CONFIRMATION,
        actor="eva",
    )
    with pytest.raises(GiftNotAllowed):
        overflow.gifts.give(Give(giver_id="ana", receiver_id="ben", minutes=30), actor="ana")
    assert overflow.statements.balance("ben").total_minutes == 0


# --- every preset ------------------------------------------------------------------------------


def test_every_credit_line_carries_its_provenance_and_policy_version(
    nanjing: BankBook, clock: ManualClock
) -> None:
    """Service, confirmed and event lines name how they were verified and the rules in force."""
    held = serve(nanjing, clock, "li", "zhang", 60, provenance=Provenance.CHECK_IN_OUT, actor="li")
    serve(nanjing, clock, "li", "zhang", 30)
    nanjing.programme.add_policy(
        AddPolicy(rules=msgspec.structs.replace(preset("nanjing"), name="Nanjing 2027")),
        actor=SYSTEM,
    )
    nanjing.programme.activate_policy(ActivatePolicy(version=2), actor=SYSTEM)
    nanjing.credits.confirm(ConfirmCredit(credit_id=held.credit_id), actor="zhang")
    serve(
        nanjing,
        clock,
        "li",
        "zhang",
        45,
        provenance=Provenance.RECIPIENT_CONFIRMATION,
        actor="zhang",
    )
    event = nanjing.events.create(
        CreateEvent(title="义诊", category="health", held_at=clock.now()), actor="coord"
    )
    nanjing.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"li": 120}), actor="coord"
    )
    lines = service_lines(nanjing, "li")
    assert [(e.provenance, e.policy_version, e.credited_minutes) for e in lines] == [
        ("organisation_confirmation", 1, 30),
        ("check_in_out", 1, 60),
        ("recipient_confirmation", 2, 45),
        ("organisation_confirmation", 2, 120),
    ]
    assert [e.balance_minutes for e in lines] == [30, 90, 135, 255]


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_liability_is_what_the_programme_handed_out(
    bank: TimeBank, clock: ManualClock, name: str
) -> None:
    """Members' purses sum to what issuance and the funds minted, less what sits in the pool."""
    book = bank.create_book("centre", name)
    coordinator(book)
    volunteer(book, "li", aged(63))
    volunteer(book, "zhang", aged(86), name="张秀英", flags=frozenset({"living_alone"}))
    volunteer(book, "chen", aged(66), name="陈明")
    serve(book, clock, "li", "zhang", 3 * HOUR)
    serve(book, clock, "chen", "zhang", HOUR)
    book.gifts.donate(Donate(member_id="li", minutes=HOUR), actor="li")
    book.gifts.grant(Grant(member_id="zhang", minutes=30, reason="living alone"), actor="coord")
    book.gifts.grant(
        Grant(member_id="zhang", minutes=HOUR, reason="key elder", source="guarantee"),
        actor="coord",
    )
    minted = -(
        book.statements.programme_balance("issuance")
        + book.statements.programme_balance("guarantee")
    )
    pooled = book.statements.programme_balance("pool")
    assert pooled == 30
    assert book.statements.liability() == minted - pooled
    members = sum(
        book.statements.balance(m).total_minutes for m in ("coord", "li", "zhang", "chen")
    )
    assert book.statements.liability() == members
    assert book.statements.verify().ok


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_expiry_and_inheritance_are_off_in_every_preset(
    bank: TimeBank, clock: ManualClock, name: str
) -> None:
    """No programme publishes expiry or inheritance: minutes neither expire nor move on death."""
    book = bank.create_book("centre", name)
    coordinator(book)
    volunteer(book, "li", aged(63))
    volunteer(book, "zhang", aged(86), name="张秀英")
    serve(book, clock, "li", "zhang", 2 * HOUR)
    before = book.statements.balance("li")
    clock.advance(timedelta(days=3 * 365))
    report = book.programme.expire_minutes(ExpireMinutes(), actor=SYSTEM)
    assert (report.expired_minutes, report.transaction_id) == ({}, None)
    assert (
        book.members.record_death(RecordDeath(member_id="li", died_on=TODAY), actor="coord") is None
    )
    assert book.statements.balance("li") == before


def test_unknown_preset_is_refused(bank: TimeBank) -> None:
    """A book is only created from a known preset name."""
    with pytest.raises(PolicyInvalid):
        bank.create_book("x", "beijing")
    assert "x" not in bank.book_ids()
