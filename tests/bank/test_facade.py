"""The facade's use cases as worked examples, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.bank.helpers import book_state, coordinator, volunteer
from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import (
    ActivatePolicy,
    AddMerchant,
    AddPolicy,
    AuthoriseProxy,
    BookRedemption,
    CancelRedemption,
    CompleteRedemption,
    ConfirmCredit,
    CreateEvent,
    CreditEvent,
    CreditService,
    DisputeCredit,
    Donate,
    ExpireMinutes,
    Give,
    Grant,
    RecordDeath,
    RegisterMember,
    Relate,
    ReverseCredit,
    RevokeProxy,
    UpdateMember,
)
from timebank.community import (
    ActorNotAuthorised,
    Credit,
    CreditStatus,
    DeathHandling,
    EventNotFound,
    MemberNotActive,
    MemberNotFound,
    MemberStatus,
    PolicyNotDraft,
    PolicyRules,
    PolicyStatus,
    Provenance,
    RecordIdInvalid,
    RedemptionStatus,
    RelationKind,
    StoredMinutesCapExceeded,
)
from timebank.ledger import IdempotencyConflict, InsufficientMinutes, ManualClock

pytestmark = pytest.mark.usefixtures("clock")


def plain(**changes: object) -> PolicyRules:
    """A plain policy: the issuance account pays, no age rules, no cap."""
    values: dict[str, object] = {
        "name": "test bank",
        "payer_default": "issuance",
        "credit_limit_minutes": 0,
        "provider_age_min": 16,
        "gift_relations": frozenset({"child", "parent", "spouse"}),
    }
    values.update(changes)
    return PolicyRules(**values)  # type: ignore[arg-type]


def community(bank: TimeBank, rules: PolicyRules) -> BankBook:
    """A book with a coordinator, two volunteers (li 63, chen 66) and a recipient (zhang 86)."""
    book = bank.create_book("gulou", rules)
    coordinator(book)
    volunteer(book, "li", date(1963, 5, 1))
    volunteer(book, "chen", date(1960, 1, 10), name="陈明")
    volunteer(book, "zhang", date(1940, 3, 3), name="张秀英")
    return book


def serve(book: BankBook, clock: ManualClock, minutes: int = 60, **kwargs: object) -> Credit:
    values: dict[str, object] = {
        "provider_id": "li",
        "recipient_id": "zhang",
        "category": "companionship",
        "raw_minutes": minutes,
        "served_at": clock.now(),
        "provenance": Provenance.ORGANISATION_CONFIRMATION,
        "actor": "coord",
    }
    values.update(kwargs)
    actor = str(values.pop("actor"))
    return book.credits.record(CreditService(**values), actor=actor)  # type: ignore[arg-type]


# --- members, relations, proxies ------------------------------------------------------------


def test_registration_keeps_a_pinyin_key_and_opens_three_purses(bank: TimeBank) -> None:
    """A member's name gets a pinyin key and initials; their purses start empty."""
    book = community(bank, plain())
    li = book.members.get("li")
    assert (li.name_key, li.name_initials) == ("li na", "ln")
    assert book.statements.balance("li").total_minutes == 0
    assert [m.member_id for m in book.members.find("chenm")] == ["chen"]
    assert [m.member_id for m in book.members.find("zxy")] == ["zhang"]
    assert [m.member_id for m in book.members.find("李")] == ["li"]


def test_members_are_listed_by_community_with_a_cursor(bank: TimeBank) -> None:
    """Listing pages through members in id order, optionally of one community."""
    book = community(bank, plain())
    volunteer(book, "zhao", date(1970, 1, 1), community="xinjiekou")
    first = book.members.list(limit=2)
    rest = book.members.list(after=first[-1].member_id, limit=10)
    assert [m.member_id for m in first + rest] == ["chen", "coord", "li", "zhang", "zhao"]
    assert [m.member_id for m in book.members.list(community="xinjiekou")] == ["zhao"]


def test_a_relation_is_recorded_with_its_inverse(bank: TimeBank) -> None:
    """If zhang is li's parent, li is zhang's child."""
    book = community(bank, plain())
    book.members.relate(
        Relate(member_id="li", other_id="zhang", kind=RelationKind.PARENT), actor="coord"
    )
    assert [(r.other_id, r.kind) for r in book.members.relations("zhang")] == [
        ("li", RelationKind.CHILD)
    ]


def test_a_proxy_acts_only_while_authorised(bank: TimeBank, clock: ManualClock) -> None:
    """A relative may donate for an offline senior until the authorisation is revoked."""
    book = community(bank, plain())
    serve(book, clock, recipient_id="chen", provider_id="zhang")
    with pytest.raises(MemberNotFound):  # not hers to see, let alone to act for
        book.gifts.donate(Donate(member_id="zhang", minutes=10), actor="li")
    book.members.authorise_proxy(
        AuthoriseProxy(member_id="zhang", proxy_id="li", note="daughter"), actor="coord"
    )
    book.gifts.donate(Donate(member_id="zhang", minutes=10), actor="li")
    passbook = book.statements.passbook("zhang").entries
    assert passbook[-1].kind == "donation"
    assert passbook[-1].delta_minutes == -10
    book.members.revoke_proxy(RevokeProxy(member_id="zhang", proxy_id="li"), actor="zhang")
    with pytest.raises(MemberNotFound):  # revoked: from the next call on
        book.gifts.donate(Donate(member_id="zhang", minutes=10), actor="li")
    assert book.statements.balance("zhang").own_minutes == 50


def test_a_suspended_member_can_neither_serve_nor_receive(
    bank: TimeBank, clock: ManualClock
) -> None:
    """Suspension stops crediting until the member is reactivated."""
    book = community(bank, plain())
    serve(book, clock, provider_id="zhang", recipient_id="chen")
    book.members.update(UpdateMember(member_id="li", status=MemberStatus.SUSPENDED), actor="coord")
    with pytest.raises(MemberNotActive):
        serve(book, clock)
    book.members.update(UpdateMember(member_id="li", status=MemberStatus.ACTIVE), actor="coord")
    assert serve(book, clock).status is CreditStatus.POSTED


def test_only_coordinators_register_members(bank: TimeBank) -> None:
    """A volunteer cannot register someone; a coordinator can."""
    book = community(bank, plain())
    with pytest.raises(ActorNotAuthorised):
        book.members.register(
            RegisterMember(name="赵强", birth_date=date(1950, 1, 1), community="gulou"), actor="li"
        )
    made = book.members.register(
        RegisterMember(name="赵强", birth_date=date(1950, 1, 1), community="gulou"), actor="coord"
    )
    assert made.registered_by == "coord"


# --- policies -----------------------------------------------------------------------------------


def test_policy_versions_are_frozen_once_active(bank: TimeBank, clock: ManualClock) -> None:
    """A new version applies from activation; credits keep the version that made them."""
    book = community(bank, plain())
    before = serve(book, clock)
    draft = book.programme.add_policy(
        AddPolicy(rules=plain(rounding_step_minutes=30)), actor=SYSTEM
    )
    assert draft.status is PolicyStatus.DRAFT
    assert serve(book, clock, 50).credited_minutes == 50
    book.programme.activate_policy(ActivatePolicy(version=draft.version), actor=SYSTEM)
    after = serve(book, clock, 50)
    assert (before.policy_version, after.policy_version) == (1, 2)
    assert after.credited_minutes == 30
    statuses = [p.status for p in book.programme.policies()]
    assert statuses == [PolicyStatus.RETIRED, PolicyStatus.ACTIVE]
    with pytest.raises(PolicyNotDraft):
        book.programme.activate_policy(ActivatePolicy(version=1), actor=SYSTEM)


# --- crediting --------------------------------------------------------------------------------


def test_a_held_credit_posts_when_the_recipient_confirms(
    bank: TimeBank, clock: ManualClock
) -> None:
    """With confirmation required, a check-in/out credit waits for the recipient."""
    book = community(bank, plain(confirmation_required=True, payer_default="issuance"))
    held = serve(book, clock, provenance=Provenance.CHECK_IN_OUT, actor="li")
    assert held.status is CreditStatus.PENDING
    assert book.statements.balance("li").own_minutes == 0
    confirmed = book.credits.confirm(ConfirmCredit(credit_id=held.credit_id), actor="zhang")
    assert confirmed.status is CreditStatus.POSTED
    assert confirmed.confirmation is Provenance.RECIPIENT_CONFIRMATION
    assert book.statements.balance("li").own_minutes == 60
    line = book.statements.passbook("li").entries[-1]
    assert (line.provenance, line.policy_version, line.raw_minutes) == ("check_in_out", 1, 60)


def test_a_disputed_credit_moves_nothing(bank: TimeBank, clock: ManualClock) -> None:
    """Disputing a held credit voids its hold."""
    book = community(bank, plain(confirmation_required=True, payer_default="issuance"))
    held = serve(book, clock, provenance=Provenance.CHECK_IN_OUT, actor="li")
    disputed = book.credits.dispute(
        DisputeCredit(credit_id=held.credit_id, reason="没有来"), actor="zhang"
    )
    assert disputed.status is CreditStatus.DISPUTED
    assert book.statements.programme_balance("issuance") == 0
    assert book.statements.balance("li").total_minutes == 0


def test_a_posted_credit_is_corrected_by_a_reversal(bank: TimeBank, clock: ManualClock) -> None:
    """A mistaken credit is reversed, never edited; the passbook keeps both lines."""
    book = community(bank, plain(payer_default="issuance"))
    posted = serve(book, clock, 90)
    reversed_ = book.credits.reverse(
        ReverseCredit(credit_id=posted.credit_id, reason="录入错误"), actor="coord"
    )
    assert reversed_.status is CreditStatus.REVERSED
    assert book.statements.balance("li").own_minutes == 0
    assert [e.delta_minutes for e in book.statements.passbook("li").entries] == [90, -90]
    assert book.statements.verify().ok


def test_the_recipient_pays_in_a_mutual_credit_bank(bank: TimeBank, clock: ManualClock) -> None:
    """Members pay each other: the recipient's minutes go to the provider."""
    book = community(bank, plain(payer_default="recipient", credit_limit_minutes=120))
    serve(book, clock, 90)
    assert book.statements.balance("zhang").own_minutes == -90
    assert book.statements.balance("li").own_minutes == 90
    assert book.statements.liability() == 0


# --- redemption, gifts, donations, grants ---------------------------------------------------


def test_a_redemption_is_held_then_posted_for_the_minutes_spent(
    bank: TimeBank, clock: ManualClock
) -> None:
    """Booking holds the minutes; completing for fewer releases the rest."""
    book = community(bank, plain(payer_default="issuance"))
    serve(book, clock, 120, provider_id="chen")
    booked = book.redemptions.book(
        BookRedemption(saver_id="chen", provider_id="li", minutes=90), actor="chen"
    )
    assert book.statements.balance("chen").held_minutes == 90
    done = book.redemptions.complete(
        CompleteRedemption(redemption_id=booked.redemption_id, spent_minutes=60), actor="coord"
    )
    assert done.status is RedemptionStatus.DONE
    assert book.statements.balance("chen").own_minutes == 60
    assert book.statements.balance("chen").held_minutes == 0
    assert book.statements.balance("li").own_minutes == 60


def test_a_cancelled_redemption_releases_the_hold(bank: TimeBank, clock: ManualClock) -> None:
    """Cancelling voids the hold and nothing moves."""
    book = community(bank, plain(payer_default="issuance"))
    serve(book, clock, 120, provider_id="chen")
    booked = book.redemptions.book(
        BookRedemption(saver_id="chen", provider_id="li", minutes=90), actor="chen"
    )
    cancelled = book.redemptions.cancel(
        CancelRedemption(redemption_id=booked.redemption_id), actor="chen"
    )
    assert cancelled.status is RedemptionStatus.CANCELLED
    assert book.statements.balance("chen").held_minutes == 0
    assert book.statements.balance("chen").own_minutes == 120


def test_goods_are_bought_at_a_partner_merchant(bank: TimeBank, clock: ManualClock) -> None:
    """A saver spends minutes at a merchant; the merchant's account receives them."""
    book = community(bank, plain(payer_default="issuance"))
    book.programme.add_merchant(AddMerchant(merchant_id="barber", name="社区理发店"), actor=SYSTEM)
    serve(book, clock, 120, provider_id="chen")
    booked = book.redemptions.book(
        BookRedemption(saver_id="chen", merchant_id="barber", minutes=30), actor="chen"
    )
    book.redemptions.complete(
        CompleteRedemption(redemption_id=booked.redemption_id, spent_minutes=30), actor="chen"
    )
    assert book.statements.programme_balance("merchant.barber") == 30
    assert book.statements.balance("chen").own_minutes == 90


def test_gifted_minutes_are_spent_after_own(bank: TimeBank, clock: ManualClock) -> None:
    """A saver spends their own minutes first, then minutes given by relatives."""
    book = community(bank, plain(payer_default="issuance"))
    book.members.relate(
        Relate(member_id="li", other_id="chen", kind=RelationKind.PARENT), actor="coord"
    )
    serve(book, clock, 100)
    serve(book, clock, 30, provider_id="chen")
    book.gifts.give(Give(giver_id="li", receiver_id="chen", minutes=40), actor="li")
    assert (
        book.statements.balance("chen").own_minutes,
        book.statements.balance("chen").gifted_minutes,
    ) == (30, 40)
    booked = book.redemptions.book(
        BookRedemption(saver_id="chen", provider_id="zhang", minutes=50), actor="chen"
    )
    book.redemptions.complete(
        CompleteRedemption(redemption_id=booked.redemption_id, spent_minutes=50), actor="chen"
    )
    assert (
        book.statements.balance("chen").own_minutes,
        book.statements.balance("chen").gifted_minutes,
    ) == (0, 20)


def test_a_coordinator_grants_pool_minutes_with_a_reason(
    bank: TimeBank, clock: ManualClock
) -> None:
    """Donated minutes reach a member in need only by a recorded grant."""
    book = community(bank, plain(payer_default="issuance"))
    serve(book, clock, 60)
    book.gifts.donate(Donate(member_id="li", minutes=45), actor="li")
    book.gifts.grant(Grant(member_id="zhang", minutes=30, reason="独居老人"), actor="coord")
    assert book.statements.programme_balance("pool") == 15
    assert book.statements.balance("zhang").gifted_minutes == 30
    line = book.statements.passbook("zhang").entries[-1]
    assert (line.kind, line.counterparty) == ("grant", "pool")


# --- events ---------------------------------------------------------------------------------


def test_an_event_credits_attendees_in_one_transaction(bank: TimeBank, clock: ManualClock) -> None:
    """Attendees are credited together; a late addition is another transaction."""
    book = community(bank, plain(payer_default="issuance"))
    event = book.events.create(
        CreateEvent(title="重阳节敬老", category="community", held_at=clock.now()), actor="coord"
    )
    first = book.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"li": 120, "chen": 90}), actor="coord"
    )
    late = book.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"zhang": 60}), actor="coord"
    )
    assert len({c.transaction_id for c in first}) == 1
    assert late[0].transaction_id != first[0].transaction_id
    assert book.statements.programme_balance("issuance") == -270
    assert sorted(c.provider_id for c in book.events.credits(event.event_id)) == [
        "chen",
        "li",
        "zhang",
    ]


def test_one_mistaken_attendee_is_reversed_alone(bank: TimeBank, clock: ManualClock) -> None:
    """Reversing one attendee's event credit leaves the others credited."""
    book = community(bank, plain(payer_default="issuance"))
    event = book.events.create(
        CreateEvent(title="清洁家园", category="community", held_at=clock.now()), actor="coord"
    )
    credits = book.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"li": 120, "chen": 90}), actor="coord"
    )
    mistaken = next(c for c in credits if c.provider_id == "chen")
    book.credits.reverse(
        ReverseCredit(credit_id=mistaken.credit_id, reason="未参加"), actor="coord"
    )
    assert book.statements.balance("chen").total_minutes == 0
    assert book.statements.balance("li").total_minutes == 120
    assert book.statements.programme_balance("issuance") == -120
    assert book.statements.verify().ok


# --- expiry and death (off by default) ---------------------------------------------------------


def test_expiry_is_off_by_default(bank: TimeBank, clock: ManualClock) -> None:
    """Without expiry_days, old minutes stay."""
    book = community(bank, plain(payer_default="issuance"))
    serve(book, clock, 60)
    clock.advance(timedelta(days=3650))
    assert book.programme.expire_minutes(ExpireMinutes(), actor=SYSTEM).expired_minutes == {}
    assert book.statements.balance("li").own_minutes == 60


def test_the_oldest_minutes_expire_first_into_the_pool(bank: TimeBank, clock: ManualClock) -> None:
    """Minutes older than the expiry, less what was spent since, go to the pool."""
    book = community(bank, plain(payer_default="issuance", expiry_days=365))
    serve(book, clock, 100)
    clock.advance(timedelta(days=200))
    serve(book, clock, 50)
    book.gifts.donate(Donate(member_id="li", minutes=30), actor="li")
    clock.advance(timedelta(days=200))
    report = book.programme.expire_minutes(ExpireMinutes(), actor=SYSTEM)
    assert report.expired_minutes == {"li": 70}
    assert book.statements.balance("li").own_minutes == 50
    assert book.statements.programme_balance("pool") == 100
    assert book.programme.expire_minutes(ExpireMinutes(), actor=SYSTEM).expired_minutes == {}


def test_on_death_minutes_go_to_named_relatives(bank: TimeBank, clock: ManualClock) -> None:
    """With death handling on, the estate is shared among named relatives."""
    book = community(bank, plain(payer_default="issuance", death_handling=DeathHandling.RELATIVES))
    book.members.relate(
        Relate(member_id="zhang", other_id="li", kind=RelationKind.CHILD), actor="coord"
    )
    book.members.relate(
        Relate(member_id="zhang", other_id="chen", kind=RelationKind.CHILD), actor="coord"
    )
    serve(book, clock, 61, provider_id="zhang", recipient_id="li")
    book.members.record_death(
        RecordDeath(member_id="zhang", died_on=date(2026, 11, 1), heirs=("li", "chen")),
        actor="coord",
    )
    assert book.members.get("zhang").status is MemberStatus.DECEASED
    assert book.statements.balance("zhang").total_minutes == 0
    assert (
        book.statements.balance("li").gifted_minutes,
        book.statements.balance("chen").gifted_minutes,
    ) == (31, 30)


def test_on_death_by_default_minutes_stay_frozen(bank: TimeBank, clock: ManualClock) -> None:
    """Death handling is off by default: the minutes stay and cannot be used."""
    book = community(bank, plain(payer_default="issuance"))
    serve(book, clock, 60)
    book.members.record_death(RecordDeath(member_id="li", died_on=date(2026, 11, 1)), actor="coord")
    assert book.statements.balance("li").own_minutes == 60
    with pytest.raises(MemberNotActive):
        book.gifts.donate(Donate(member_id="li", minutes=10), actor=SYSTEM)


# --- passbook, liability, atomicity -------------------------------------------------------------


def test_the_passbook_pages_with_a_running_balance(bank: TimeBank, clock: ManualClock) -> None:
    """Every posted movement of every purse, oldest first, with the total after it."""
    book = community(bank, plain(payer_default="issuance"))
    book.members.relate(
        Relate(member_id="chen", other_id="li", kind=RelationKind.CHILD), actor="coord"
    )
    for minutes in (30, 40, 50):
        serve(book, clock, minutes)
    serve(book, clock, 20, provider_id="chen")
    book.gifts.give(Give(giver_id="chen", receiver_id="li", minutes=15), actor="chen")
    first = book.statements.passbook("li", limit=2)
    assert first.next_cursor is not None
    rest = book.statements.passbook("li", after=first.next_cursor, limit=10)
    lines = first.entries + rest.entries
    assert [line.delta_minutes for line in lines] == [30, 40, 50, 15]
    assert [line.balance_minutes for line in lines] == [30, 70, 120, 135]
    assert lines[-1].account_id == "m.li.gifted"
    assert lines[-1].counterparty == "m.chen"
    assert rest.next_cursor is None


def test_liability_is_what_the_programme_accounts_hold_against_members(
    bank: TimeBank, clock: ManualClock
) -> None:
    """The sum of member purses is minus the sum of the programme's accounts."""
    book = community(bank, plain(payer_default="issuance"))
    serve(book, clock, 90)
    book.gifts.donate(Donate(member_id="li", minutes=20), actor="li")
    programme = sum(book.statements.programme_balance(a) for a in ("pool", "issuance", "guarantee"))
    assert book.statements.liability() == 70 == -programme


def test_a_refused_call_changes_nothing(bank: TimeBank, clock: ManualClock) -> None:
    """A refusal (here, spending minutes one does not have) leaves the book as it was."""
    book = community(bank, plain(payer_default="issuance"))
    serve(book, clock, 30)
    before = book_state(book)
    with pytest.raises(InsufficientMinutes):
        book.gifts.donate(Donate(member_id="li", minutes=31), actor="li")
    assert book_state(book) == before


def test_a_refused_reversal_can_be_tried_again_later(bank: TimeBank, clock: ManualClock) -> None:
    """A correction refused while the provider is short succeeds once they have the minutes."""
    book = community(bank, plain())
    posted = serve(book, clock, 60)
    book.gifts.donate(Donate(member_id="li", minutes=60), actor="li")
    with pytest.raises(InsufficientMinutes):
        book.credits.reverse(
            ReverseCredit(credit_id=posted.credit_id, reason="录入错误"), actor="coord"
        )
    serve(book, clock, 60)
    assert book.credits.reverse(
        ReverseCredit(credit_id=posted.credit_id, reason="录入错误"), actor="coord"
    ).status is (CreditStatus.REVERSED)
    assert book.statements.balance("li").own_minutes == 0


def test_a_reused_request_id_must_repeat_the_same_request(
    bank: TimeBank, clock: ManualClock
) -> None:
    """The same request id returns the first outcome; a different request under it conflicts."""
    book = community(bank, plain())
    book.members.relate(
        Relate(member_id="li", other_id="chen", kind=RelationKind.PARENT), actor="coord"
    )
    serve(book, clock, 120)
    first = book.gifts.give(
        Give(giver_id="li", receiver_id="chen", minutes=60, request_id="g1"), actor="li"
    )
    again = book.gifts.give(
        Give(giver_id="li", receiver_id="chen", minutes=60, request_id="g1"), actor="li"
    )
    assert first == again
    with pytest.raises(IdempotencyConflict):
        book.gifts.give(
            Give(giver_id="li", receiver_id="chen", minutes=30, request_id="g1"), actor="li"
        )
    book.gifts.donate(Donate(member_id="li", minutes=20, request_id="d1"), actor="li")
    with pytest.raises(IdempotencyConflict):
        book.gifts.donate(Donate(member_id="chen", minutes=20, request_id="d1"), actor="chen")
    assert book.statements.balance("chen").gifted_minutes == 60


def test_a_reversed_attendee_can_be_credited_again(bank: TimeBank, clock: ManualClock) -> None:
    """After reversing a wrong amount, the attendee is credited the right one."""
    book = community(bank, plain())
    event = book.events.create(
        CreateEvent(title="义诊", category="health", held_at=clock.now()), actor="coord"
    )
    (wrong,) = book.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"li": 600}), actor="coord"
    )
    book.credits.reverse(ReverseCredit(credit_id=wrong.credit_id, reason="多录了"), actor="coord")
    (right,) = book.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"li": 60}), actor="coord"
    )
    assert right.credited_minutes == 60
    assert book.statements.balance("li").total_minutes == 60


def test_the_system_actor_cannot_be_registered_as_a_member(bank: TimeBank) -> None:
    """``system`` is the embedding application's own authority, never a member's id."""
    book = community(bank, plain())
    with pytest.raises(RecordIdInvalid):
        book.members.register(
            RegisterMember(
                member_id=SYSTEM, name="假冒", birth_date=date(1970, 1, 1), community="gulou"
            ),
            actor="coord",
        )


def test_a_passbook_page_is_full_unless_it_is_the_last(bank: TimeBank, clock: ManualClock) -> None:
    """Holds print no line, and pages read past them."""
    book = community(bank, plain(confirmation_required=True))
    for _ in range(3):
        held = serve(book, clock, 30, provenance=Provenance.CHECK_IN_OUT, actor="li")
        book.credits.dispute(DisputeCredit(credit_id=held.credit_id, reason="重复"), actor="zhang")
    serve(book, clock, 30)
    serve(book, clock, 40)
    page = book.statements.passbook("li", limit=1)
    assert [e.delta_minutes for e in page.entries] == [30]
    assert page.next_cursor is not None
    rest = book.statements.passbook("li", after=page.next_cursor, limit=1)
    assert [e.delta_minutes for e in rest.entries] == [40]
    assert rest.next_cursor is None


def test_paying_a_full_purse_from_the_overflow_account_is_refused(
    bank: TimeBank, clock: ManualClock
) -> None:
    """Pool minutes for a provider at the cap would only go back to the pool: refused by name."""
    book = community(bank, plain(stored_minutes_max=60))
    serve(book, clock, 60)
    book.gifts.donate(Donate(member_id="li", minutes=30), actor="li")
    serve(book, clock, 30)
    before = book_state(book)
    with pytest.raises(StoredMinutesCapExceeded):
        serve(book, clock, 30, payer="pool")
    assert book_state(book) == before


def test_reads_of_relations_proxies_and_event_credits_name_what_they_read(
    bank: TimeBank,
) -> None:
    """A malformed or unknown id is an error, never a list of someone else's rows."""
    book = community(bank, plain())
    book.members.relate(
        Relate(member_id="li", other_id="zhang", kind=RelationKind.PARENT), actor="coord"
    )
    with pytest.raises(RecordIdInvalid):
        book.members.relations(None)  # type: ignore[arg-type]
    with pytest.raises(MemberNotFound):
        book.members.proxies("nobody")
    with pytest.raises(EventNotFound):
        book.events.credits("no-such-event")
    assert [r.other_id for r in book.members.relations("li")] == ["zhang"]
