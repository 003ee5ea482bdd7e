"""Who may do what, through the facade, on memory, SQLite and PostgreSQL.

Authority is the book's, read at every call: a coordinator acts only in their
communities and loses the role at once when it is removed; a proxy acts for a
member, never in their place; nobody approves what pays themselves; the
guarantee fund pays only for those it covers; and a death waits until nothing
holds the member's minutes, so that every minute reaches the heirs or the pool.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.bank.helpers import book_state, coordinator, volunteer
from timebank.bank import GUARANTEE, ISSUANCE, POOL, SYSTEM, BankBook, TimeBank
from timebank.bank.commands import (
    AcceptOrder,
    AddNeed,
    AddOffer,
    AddSponsor,
    AuthoriseProxy,
    BookRedemption,
    CancelOrder,
    CancelRedemption,
    ConfirmCredit,
    CreateEvent,
    CreditService,
    DispatchOrder,
    DisputeCredit,
    Donate,
    ExpireMinutes,
    Grant,
    OpenCareFile,
    RecordDeath,
    RegisterMember,
    Relate,
    RequestOrder,
    RevokeProxy,
    RunDeadlines,
    UpdateMember,
)
from timebank.community import (
    ActorNotAuthorised,
    BookingsOpenAtDeath,
    CreditStatus,
    DeathHandling,
    GrantEligibility,
    MemberNotFound,
    MemberStatus,
    NeedStatus,
    OrderStatus,
    PolicyRules,
    Provenance,
    RecipientNotEligible,
    RelationKind,
    Role,
    SelfApproval,
    Window,
)

MONDAY = date(2026, 11, 2)
MORNINGS = [Window(weekday=d, start_minute=8 * 60, end_minute=20 * 60) for d in range(7)]


def rules(**changes: object) -> PolicyRules:
    """Issuance pays; credits post at once unless a rule holds them; the fund covers 80+ alone."""
    values: dict[str, object] = {
        "name": "authority",
        "categories": ("companionship", "meals"),
        "payer_default": "issuance",
        "provider_age_min": 16,
        "gift_relations": frozenset({"child", "parent"}),
        "guarantee_grants_to": (GrantEligibility(age_min=80, flags=frozenset({"living_alone"})),),
        "death_handling": DeathHandling.RELATIVES,
    }
    values.update(changes)
    return PolicyRules(**values)  # type: ignore[arg-type]


def centre(bank: TimeBank, **changes: object) -> BankBook:
    """Two communities: gulou (coord, li, zhang 86 alone, mei her daughter) and xinjiekou (sun)."""
    book = bank.create_book("centre", rules(**changes))
    coordinator(book, "coord", community="gulou")
    coordinator(book, "other", community="xinjiekou")
    volunteer(book, "li", date(1963, 5, 1))
    volunteer(book, "zhang", date(1940, 3, 3), flags=frozenset({"living_alone"}))
    volunteer(book, "mei", date(1968, 6, 1))
    volunteer(book, "chen", date(1960, 1, 1))
    volunteer(book, "sun", date(1962, 1, 1), community="xinjiekou")
    book.members.relate(
        Relate(member_id="zhang", other_id="mei", kind=RelationKind.CHILD), actor=SYSTEM
    )
    book.members.authorise_proxy(AuthoriseProxy(member_id="zhang", proxy_id="mei"), actor="zhang")
    return book


def served(book: BankBook, provider: str, recipient: str, actor: str, **options: object) -> str:
    return book.credits.record(
        CreditService(
            provider_id=provider,
            recipient_id=recipient,
            category="companionship",
            raw_minutes=60,
            served_at=book.bank.clock.now() - timedelta(hours=1),
            **{"provenance": Provenance.CHECK_IN_OUT, **options},
        ),
        actor=actor,
    ).credit_id


# --- authority is current ----------------------------------------------------------------


def test_a_coordinator_whose_role_is_removed_loses_it_at_the_next_call(bank: TimeBank) -> None:
    """Whatever token they hold, the book says what they may do, every call."""
    book = centre(bank)
    assert book.members.get("zhang", actor="coord").member_id == "zhang"
    book.members.update(UpdateMember(member_id="coord", roles={Role.VOLUNTEER}), actor=SYSTEM)
    with pytest.raises(MemberNotFound):
        book.members.get("zhang", actor="coord")
    with pytest.raises(ActorNotAuthorised):
        book.members.register(
            RegisterMember(name="何", birth_date=date(1970, 1, 1), community="gulou"), actor="coord"
        )


def test_a_suspended_member_or_a_stranger_may_do_nothing(bank: TimeBank) -> None:
    book = centre(bank)
    book.members.update(UpdateMember(member_id="mei", status=MemberStatus.SUSPENDED), actor="coord")
    for actor in ("mei", "ghost"):
        with pytest.raises(ActorNotAuthorised):
            book.statements.balance("zhang", actor=actor)
        with pytest.raises(ActorNotAuthorised):
            book.gifts.donate(Donate(member_id="zhang", minutes=1), actor=actor)


def test_coordinators_act_only_in_their_communities(bank: TimeBank) -> None:
    book = centre(bank)
    with pytest.raises(MemberNotFound):
        book.gifts.grant(
            Grant(member_id="sun", minutes=30, reason="x", source=ISSUANCE), actor="coord"
        )
    with pytest.raises(MemberNotFound):
        book.members.relate(
            Relate(member_id="zhang", other_id="sun", kind=RelationKind.FRIEND), actor="coord"
        )
    with pytest.raises(ActorNotAuthorised):
        book.members.register(
            RegisterMember(name="何", birth_date=date(1970, 1, 1), community="xinjiekou"),
            actor="coord",
        )
    for book_wide in (
        lambda: book.orders.run_deadlines(RunDeadlines(), actor="coord"),
        lambda: book.outbox.pending(actor="coord"),
        lambda: book.programme.expire_minutes(ExpireMinutes(), actor="coord"),
        lambda: book.programme.add_sponsor(
            AddSponsor(sponsor_id="acme", name="Acme"), actor="coord"
        ),
    ):
        with pytest.raises(ActorNotAuthorised):
            book_wide()
    assert [m.member_id for m in book.members.list(actor="coord")] == [
        "chen",
        "coord",
        "li",
        "mei",
        "zhang",
    ]
    assert [m.member_id for m in book.members.list(actor="other")] == ["other", "sun"]


def test_an_administrator_appoints_coordinators_and_spans_the_book(bank: TimeBank) -> None:
    book = centre(bank)
    with pytest.raises(ActorNotAuthorised):
        book.members.update(UpdateMember(member_id="li", roles={Role.COORDINATOR}), actor="coord")
    book.members.update(UpdateMember(member_id="chen", roles={Role.ADMIN}), actor=SYSTEM)
    book.members.update(
        UpdateMember(member_id="li", roles={Role.COORDINATOR}, coordinates={"xinjiekou"}),
        actor="chen",
    )
    assert book.members.get("sun", actor="li").member_id == "sun"  # li now serves xinjiekou too
    assert book.orders.run_deadlines(RunDeadlines(), actor="chen").escalated == ()


def test_a_proxy_acts_for_the_member_never_in_her_place(bank: TimeBank) -> None:
    """Mei may donate for her mother, but appoints and revokes no one else."""
    book = centre(bank)
    served(book, "zhang", "li", actor=SYSTEM, provenance=Provenance.ORGANISATION_CONFIRMATION)
    book.gifts.donate(Donate(member_id="zhang", minutes=10), actor="mei")
    with pytest.raises(ActorNotAuthorised):
        book.members.authorise_proxy(AuthoriseProxy(member_id="zhang", proxy_id="li"), actor="mei")
    book.members.authorise_proxy(AuthoriseProxy(member_id="zhang", proxy_id="li"), actor="zhang")
    with pytest.raises(ActorNotAuthorised):
        book.members.revoke_proxy(RevokeProxy(member_id="zhang", proxy_id="li"), actor="mei")
    book.members.revoke_proxy(
        RevokeProxy(member_id="zhang", proxy_id="mei"), actor="mei"
    )  # but she may step down herself
    with pytest.raises(MemberNotFound):
        book.gifts.donate(Donate(member_id="zhang", minutes=10), actor="mei")


# --- nobody approves their own gain --------------------------------------------------------


def test_a_check_in_by_its_provider_waits_for_the_other_side_even_where_credits_post_at_once(
    bank: TimeBank,
) -> None:
    """The policy posts credits at once (issuance pays), but not the ones a provider records."""
    book = centre(bank)
    by_coordinator = served(book, "li", "zhang", actor="coord")
    assert book.credits.get(by_coordinator).status is CreditStatus.POSTED
    own = served(book, "li", "zhang", actor="li")
    assert book.credits.get(own).status is CreditStatus.PENDING
    with pytest.raises(SelfApproval):
        book.credits.confirm(ConfirmCredit(credit_id=own), actor="li")
    assert book.statements.balance("li").incoming_minutes == 60
    book.credits.confirm(
        ConfirmCredit(credit_id=own), actor="mei"
    )  # zhang's proxy confirms for her
    assert book.credits.get(own).status is CreditStatus.POSTED
    with pytest.raises(ActorNotAuthorised):
        served(book, "li", "zhang", actor="li", payer=ISSUANCE)  # only the centre picks a payer


def test_a_coordinator_who_serves_cannot_confirm_her_own_service(bank: TimeBank) -> None:
    book = centre(bank)
    book.members.update(
        UpdateMember(member_id="coord", roles={Role.COORDINATOR, Role.VOLUNTEER}), actor=SYSTEM
    )
    with pytest.raises(SelfApproval):
        served(
            book, "coord", "zhang", actor="coord", provenance=Provenance.ORGANISATION_CONFIRMATION
        )
    held = served(book, "coord", "zhang", actor="coord")
    assert book.credits.get(held).status is CreditStatus.PENDING
    with pytest.raises(SelfApproval):
        book.credits.confirm(ConfirmCredit(credit_id=held), actor="coord")
    with pytest.raises(SelfApproval):
        book.gifts.grant(
            Grant(member_id="coord", minutes=30, reason="x", source=ISSUANCE), actor="coord"
        )


# --- the guarantee fund --------------------------------------------------------------------


def test_the_guarantee_fund_pays_only_for_those_it_covers(bank: TimeBank) -> None:
    """Zhang (86, living alone) is covered; Chen (66) is not: not by grant, credit or order."""
    book = centre(bank)
    before = book_state(book)
    with pytest.raises(RecipientNotEligible):
        served(book, "li", "chen", actor="coord", payer=GUARANTEE)
    with pytest.raises(RecipientNotEligible):
        book.orders.request(
            RequestOrder(
                recipient_id="chen", category="meals", estimated_minutes=30, payer=GUARANTEE
            ),
            actor="coord",
        )
    with pytest.raises(RecipientNotEligible):
        book.events.create(
            CreateEvent(
                title="义诊", category="companionship", held_at=bank.clock.now(), payer=GUARANTEE
            ),
            actor="coord",
        )
    assert book_state(book) == before
    served(book, "li", "zhang", actor="coord", payer=GUARANTEE)
    assert book.statements.programme_balance(GUARANTEE) == -60
    order = book.orders.request(
        RequestOrder(recipient_id="zhang", category="meals", estimated_minutes=30, payer=GUARANTEE),
        actor="coord",
    )
    book.orders.dispatch(DispatchOrder(order_id=order.order_id, volunteer_id="li"), actor="coord")
    accepted = book.orders.accept(
        AcceptOrder(order_id=order.order_id, volunteer_id="li"), actor="li"
    )
    assert accepted.payer_account == GUARANTEE


def test_a_policy_whose_default_payer_is_the_fund_still_pays_only_for_those_it_covers(
    bank: TimeBank,
) -> None:
    book = centre(bank, payer_default=GUARANTEE)
    with pytest.raises(RecipientNotEligible):
        served(book, "li", "chen", actor="coord")
    served(book, "li", "zhang", actor="coord")
    assert book.statements.balance("li").own_minutes == 60


# --- death --------------------------------------------------------------------------------


def test_a_death_waits_until_nothing_holds_the_members_minutes(bank: TimeBank) -> None:
    """A booking, an accepted order and an unconfirmed credit must be settled first; then
    every minute she held reaches her heir, and the books still balance."""
    book = centre(bank)
    book.gifts.grant(
        Grant(member_id="zhang", minutes=600, reason="welcome", source=ISSUANCE), actor="coord"
    )
    redemption = book.redemptions.book(
        BookRedemption(saver_id="zhang", minutes=30, provider_id="li", category="companionship"),
        actor="zhang",
    )
    order = book.orders.request(
        RequestOrder(
            recipient_id="zhang", category="meals", estimated_minutes=60, payer="recipient"
        ),
        actor="zhang",
    )
    book.orders.dispatch(DispatchOrder(order_id=order.order_id, volunteer_id="li"), actor="coord")
    book.orders.accept(AcceptOrder(order_id=order.order_id, volunteer_id="li"), actor="li")
    pending = served(book, "zhang", "chen", actor="zhang")
    today = bank.clock.now().date()
    before = book_state(book)
    with pytest.raises(BookingsOpenAtDeath) as refused:
        book.members.record_death(
            RecordDeath(member_id="zhang", died_on=today, heirs=("mei",)), actor="coord"
        )
    error = refused.value
    assert (error.held_minutes, error.incoming_minutes) == (90, 60)
    assert f"redemption {redemption.redemption_id}" in error.bookings
    assert f"order {order.order_id}" in error.bookings
    assert f"credit {pending}" in error.bookings
    assert book_state(book) == before

    book.redemptions.cancel(CancelRedemption(redemption_id=redemption.redemption_id), actor="coord")
    book.orders.cancel(CancelOrder(order_id=order.order_id, reason="住院"), actor="coord")
    book.credits.dispute(DisputeCredit(credit_id=pending, reason="住院"), actor="chen")
    left = book.statements.balance("zhang").total_minutes
    liability = book.statements.liability()
    book.members.record_death(
        RecordDeath(member_id="zhang", died_on=today, heirs=("mei",)), actor="coord"
    )
    assert book.statements.balance("zhang").total_minutes == 0
    assert book.statements.balance("mei").gifted_minutes == left
    assert book.statements.liability() == liability  # nothing stranded, nothing lost
    assert book.statements.verify().ok


def test_a_death_with_no_heir_sends_every_minute_to_the_pool(bank: TimeBank) -> None:
    book = centre(bank, death_handling=DeathHandling.POOL)
    book.gifts.grant(
        Grant(member_id="zhang", minutes=90, reason="welcome", source=ISSUANCE), actor="coord"
    )
    book.members.record_death(
        RecordDeath(member_id="zhang", died_on=bank.clock.now().date()), actor="coord"
    )
    assert book.statements.programme_balance(POOL) == 90
    assert book.statements.balance("zhang").total_minutes == 0


def test_a_death_closes_what_waits_on_the_member_and_holds_nothing(bank: TimeBank) -> None:
    book = centre(bank)
    waiting = book.orders.request(
        RequestOrder(recipient_id="zhang", category="meals", estimated_minutes=30), actor="coord"
    )
    theirs = book.orders.request(
        RequestOrder(recipient_id="chen", category="meals", estimated_minutes=30), actor="coord"
    )
    book.orders.dispatch(
        DispatchOrder(order_id=theirs.order_id, volunteer_id="zhang"), actor="coord"
    )
    book.supply.add_offer(
        AddOffer(
            volunteer_id="zhang",
            categories=["meals"],
            windows=MORNINGS,
            capacity_minutes_per_week=60,
            offer_id="zhang-offer",
        ),
        actor="coord",
    )
    book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="meals",
            estimated_minutes=30,
            once_at=datetime(2026, 11, 5, 3, tzinfo=UTC),
            need_id="zhang-need",
        ),
        actor="coord",
    )
    book.care.open(OpenCareFile(member_id="zhang", visits_per_month=2), actor="coord")
    book.members.record_death(
        RecordDeath(member_id="zhang", died_on=bank.clock.now().date()), actor="coord"
    )
    cancelled = book.orders.get(waiting.order_id)
    assert (cancelled.status, cancelled.history[-1].note) == (
        OrderStatus.CANCELLED,
        "the member died",
    )
    back = book.orders.get(theirs.order_id)
    assert (back.status, back.dispatched_to) == (OrderStatus.REQUESTED, None)
    assert book.supply.offer("zhang-offer").withdrawn_at is not None
    assert book.supply.need("zhang-need").status is NeedStatus.CLOSED
    assert book.care.get("zhang").closed_at is not None
    assert book.statements.verify().ok
