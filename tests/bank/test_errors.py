"""Every time-bank rule refuses through the facade with its own typed error, and leaves no trace.

Each case builds a book through the facade, snapshots its whole state (chain
head, accounts, records, service orders and the outbox), makes one call that
breaks one rule, and checks the
exact error, a few of its fields, its round trip through a dict, and that the
book is unchanged (also when the same call is retried). The cases run on
memory, SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

import timebank.community.errors as errors_module
from tests.bank.helpers import book_state, coordinator, volunteer
from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import (
    AcceptOrder,
    ActivatePolicy,
    AddMerchant,
    AddNeed,
    AddOffer,
    AddPolicy,
    AddSponsor,
    AdoptWish,
    AuthoriseProxy,
    BookRedemption,
    CancelRedemption,
    CloseCareFile,
    CloseNeed,
    CompleteOrder,
    CompleteRedemption,
    ConfirmCredit,
    ConfirmOrder,
    CreateEvent,
    CreditEvent,
    CreditService,
    DispatchOrder,
    Donate,
    FulfilWish,
    Give,
    Grant,
    OpenCareFile,
    PostWish,
    RateOrder,
    RecordDeath,
    RecordVisit,
    RegisterMember,
    RejectOrder,
    Relate,
    RequestOrder,
    ReverseCredit,
    RevokeProxy,
    StartOrder,
    UpdateMember,
    WithdrawOffer,
)
from timebank.community import (
    ActorNotAuthorised,
    AttendeesInvalid,
    BankError,
    BirthDateInvalid,
    BookingsOpenAtDeath,
    CareFileNotFound,
    CategoryUnknown,
    ChoiceUnknown,
    Credit,
    CreditLimitExceeded,
    CreditNotFound,
    CreditNotPending,
    CreditNotPosted,
    CreditRoundsToZero,
    EventNotFound,
    GiftNotAllowed,
    GroupMinutesOnlyDonated,
    IdempotencyKeyReused,
    MemberExists,
    MemberNotActive,
    MemberNotFound,
    MemberStatus,
    MerchantRedemptionNotAllowed,
    MinutesNotPositive,
    NameInvalid,
    NeedNotFound,
    NeedNotOpen,
    NoActivePolicy,
    OfferNotFound,
    OrderNotFound,
    OrderTransitionNotAllowed,
    PolicyInvalid,
    PolicyNotDraft,
    PolicyNotFound,
    PolicyRules,
    ProgrammeAccountNotFound,
    Provenance,
    ProviderNotEligible,
    ProxyNotFound,
    RatingOutOfRange,
    ReasonRequired,
    RecipientNotEligible,
    RecordIdInvalid,
    Redemption,
    RedemptionAgeNotReached,
    RedemptionNotBooked,
    RedemptionNotFound,
    RelationExists,
    RelationKind,
    RelationToSelf,
    ReportPeriodInvalid,
    Role,
    ScheduleInvalid,
    SelfApproval,
    SelfDealing,
    ServiceMinutesOutOfRange,
    StoredMinutesCapExceeded,
    TextTooLong,
    TimeZoneUnknown,
    Window,
    WishNotFound,
    WishTransitionNotAllowed,
)
from timebank.ledger import (
    Conflict,
    IdempotencyConflict,
    InsufficientMinutes,
    LedgerError,
    LimitExceeded,
    NotFound,
    PageSizeOutOfRange,
    PostExceedsHold,
    RequestInvalid,
    TimestampNotAware,
    error_from_dict,
)

Action = Callable[[], object]
Arrange = Callable[[TimeBank], tuple[BankBook, Action]]

CONCRETE = {getattr(errors_module, name) for name in errors_module.__all__ if name != "BankError"}
"""Every rule of the time bank, as exported."""

LEDGER_SURFACED = {
    InsufficientMinutes,
    IdempotencyConflict,
    PageSizeOutOfRange,
    TimestampNotAware,
    PostExceedsHold,
}
"""Ledger errors a facade call can raise on its own account."""

FAMILIES = {
    "RequestInvalid": RequestInvalid,
    "NotFound": NotFound,
    "Conflict": Conflict,
    "LimitExceeded": LimitExceeded,
}


# --- the world the cases start from -----------------------------------------------------


def world(bank: TimeBank, policy: str = "nanjing") -> BankBook:
    """A book with a coordinator and two vetted volunteers: li (63) and her mother zhang (86)."""
    book = bank.create_book("gulou", policy)
    coordinator(book)
    volunteer(book, "li", date(1963, 5, 1))
    volunteer(book, "zhang", date(1940, 5, 1), name="张秀英")
    return book


def served(
    book: BankBook, provider: str, recipient: str, raw_minutes: int = 120, **options: Any
) -> Credit:
    """A service its recipient confirms as they record it: posted at once."""
    served_at = options.pop("served_at", None) or book.bank.clock.now()
    return book.credits.record(
        CreditService(
            provider_id=provider,
            recipient_id=recipient,
            category="companionship",
            raw_minutes=raw_minutes,
            served_at=served_at,
            provenance=Provenance.RECIPIENT_CONFIRMATION,
            **options,
        ),
        actor=recipient,
    )


def checked_in(book: BankBook, provider: str, recipient: str, **options: Any) -> Credit:
    """A service the app recorded at check-in and check-out (held until confirmed, in Nanjing)."""
    values: dict[str, Any] = {
        "provider_id": provider,
        "recipient_id": recipient,
        "category": "companionship",
        "raw_minutes": 60,
        "served_at": book.bank.clock.now(),
        "provenance": Provenance.CHECK_IN_OUT,
        "actor": provider,
    }
    values.update(options)
    actor = values.pop("actor")
    return book.credits.record(CreditService(**values), actor=actor)


def booked(book: BankBook, saver: str = "zhang", minutes: int = 30, **options: Any) -> Redemption:
    """A saver books a visit from li, paid with banked minutes."""
    return book.redemptions.book(
        BookRedemption(
            saver_id=saver, minutes=minutes, provider_id="li", category="companionship", **options
        ),
        actor=saver,
    )


def register(book: BankBook, member_id: str = "wu", **options: Any) -> Any:
    values: dict[str, Any] = {
        "member_id": member_id,
        "name": "吴敏",
        "birth_date": date(1950, 1, 1),
        "community": "gulou",
        "actor": "coord",
    }
    values.update(options)
    actor = values.pop("actor")
    return book.members.register(RegisterMember(**values), actor=actor)


DESK_KINDS = ("offer", "need", "wish", "care_file", "visit")
"""The old-helping-old desk's record kinds (``book_state`` reads the older ones)."""


def whole_state(book: BankBook) -> tuple[Any, ...]:
    """``book_state`` plus the desk's records, every service order and the pending outbox."""
    with book.bank.store.read(book.book_id) as reader:
        desk = tuple(tuple(reader.records.scan(kind, limit=100_000)) for kind in DESK_KINDS)
        orders = tuple(reader.orders.scan(limit=100_000))
        outbox = tuple(reader.outbox.pending(limit=100_000))
    return (book_state(book), desk, orders, outbox)


MONDAY_MORNING = Window(weekday=0, start_minute=9 * 60, end_minute=12 * 60)


def offered(book: BankBook, offer_id: str = "offer-1", capacity_minutes_per_week: int = 240) -> Any:
    """li offers companionship on Monday mornings."""
    return book.supply.add_offer(
        AddOffer(
            volunteer_id="li",
            categories=["companionship"],
            windows=[MONDAY_MORNING],
            capacity_minutes_per_week=capacity_minutes_per_week,
            offer_id=offer_id,
        ),
        actor="li",
    )


def needed(book: BankBook, need_id: str = "need-1", **options: Any) -> Any:
    """zhang needs company on Monday mornings."""
    values: dict[str, Any] = {
        "recipient_id": "zhang",
        "category": "companionship",
        "estimated_minutes": 60,
        "windows": [MONDAY_MORNING],
        "actor": "coord",
        "need_id": need_id,
    }
    values.update(options)
    actor = values.pop("actor")
    return book.supply.add_need(AddNeed(**values), actor=actor)


def confirmed_order(book: BankBook, order_id: str = "order-1") -> Any:
    """An order for zhang, served by li and confirmed (the issuance account pays)."""
    book.orders.request(
        RequestOrder(
            recipient_id="zhang", category="companionship", estimated_minutes=60, order_id=order_id
        ),
        actor="coord",
    )
    book.orders.dispatch(DispatchOrder(order_id=order_id, volunteer_id="li"), actor="coord")
    book.orders.accept(AcceptOrder(order_id=order_id, volunteer_id="li"), actor="li")
    book.orders.start(StartOrder(order_id=order_id), actor="li")
    book.orders.complete(CompleteOrder(order_id=order_id, actual_minutes=60), actor="li")
    return book.orders.confirm(ConfirmOrder(order_id=order_id), actor="zhang")


# --- the cases: one rule broken per case ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    error: type[LedgerError]
    arrange: Arrange
    fields: dict[str, Any]
    label: str


CASES: list[Case] = []


def case(
    error: type[LedgerError], *, label: str = "", **fields: Any
) -> Callable[[Arrange], Arrange]:
    """Register ``arrange`` (build a book, return it and the call that breaks the rule)."""

    def register_case(arrange: Arrange) -> Arrange:
        CASES.append(Case(error, arrange, fields, label))
        return arrange

    return register_case


# The request is malformed on its own.


@case(NameInvalid, name="   ", maximum=64)
def blank_name(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: register(book, name="   ")


@case(BirthDateInvalid, birth_date="2030-01-01")
def born_in_the_future(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: register(book, birth_date=date(2030, 1, 1))


@case(RecordIdInvalid, field="member_id", maximum=48)
def member_id_with_a_space(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: register(book, member_id="wu min")


@case(TextTooLong, field="note", maximum=200)
def proxy_note_too_long(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.members.authorise_proxy(
        AuthoriseProxy(member_id="zhang", proxy_id="li", note="x" * 201), actor="coord"
    )


@case(PolicyInvalid, problems="record_minutes_min exceeds record_minutes_max")
def policy_with_no_possible_duration(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    rules = PolicyRules(name="short visits", record_minutes_min=90, record_minutes_max=60)
    return book, lambda: book.programme.add_policy(AddPolicy(rules=rules), actor=SYSTEM)


@case(CategoryUnknown, category="juggling")
def unknown_category(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: checked_in(book, "li", "zhang", category="juggling")


@case(ChoiceUnknown, field="provenance", value="hearsay")
def unknown_provenance(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: checked_in(book, "li", "zhang", provenance="hearsay")


@case(TimeZoneUnknown, timezone="Mars/Olympus_Mons")
def book_in_a_zone_that_does_not_exist(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: bank.create_book("mars", "nanjing", timezone="Mars/Olympus_Mons")


@case(ServiceMinutesOutOfRange, raw_minutes=1441, minimum=1, maximum=1440)
def service_longer_than_a_day(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: checked_in(book, "li", "zhang", raw_minutes=1441)


@case(CreditRoundsToZero, category="companionship", raw_minutes=20)
def service_rounded_down_to_nothing(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank, "ruian")  # half-hour steps, rounded down
    return book, lambda: checked_in(book, "li", "zhang", raw_minutes=20)


@case(MinutesNotPositive, field="minutes", value="0")
def donate_nothing(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.gifts.donate(Donate(member_id="li", minutes=0), actor="li")


@case(SelfDealing, member_id="li", action="serve")
def serve_oneself(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: checked_in(book, "li", "li")


@case(RelationToSelf, member_id="li")
def related_to_oneself(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.members.relate(
        Relate(member_id="li", other_id="li", kind=RelationKind.SPOUSE), actor="coord"
    )


@case(AttendeesInvalid, reason="1 to 300 attendees per crediting")
def event_without_attendees(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    event = book.events.create(
        CreateEvent(title="重阳节活动", category="community", held_at=bank.clock.now()),
        actor="coord",
    )
    return book, lambda: book.events.credit(
        CreditEvent(event_id=event.event_id, attendees={}), actor="coord"
    )


@case(ReasonRequired, action="grant minutes")
def grant_without_reason(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.gifts.grant(
        Grant(member_id="li", minutes=10, reason="  "), actor="coord"
    )


@case(ScheduleInvalid, field="once_at")
def need_both_once_and_weekly(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: needed(book, once_at=datetime(2026, 11, 9, 2, tzinfo=UTC))


@case(RatingOutOfRange, rating="6")
def six_stars(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    confirmed_order(book)
    return book, lambda: book.orders.rate(RateOrder(order_id="order-1", rating=6), actor="zhang")


@case(ReportPeriodInvalid, field="first_month")
def thirteenth_month(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    confirmed_order(book)
    return book, lambda: book.reports.orders("2026-13")


# Something named does not exist.


@case(MemberNotFound, member_id="wu")
def relate_to_a_stranger(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.members.relate(
        Relate(member_id="li", other_id="wu", kind=RelationKind.FRIEND), actor="coord"
    )


@case(PolicyNotFound, version=7)
def activate_a_missing_policy(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.programme.activate_policy(ActivatePolicy(version=7), actor=SYSTEM)


@case(NoActivePolicy, book_id="plain")
def book_the_bank_never_set_up(bank: TimeBank) -> tuple[BankBook, Action]:
    # A ledger book made without the bank (by another program on the same store):
    # the bank refuses to act in it rather than guess its rules.
    bank.ledger.create_book("plain")
    book = bank.book("plain")
    return book, lambda: register(book, actor=SYSTEM)


@case(CreditNotFound, credit_id="c404")
def confirm_a_missing_credit(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.credits.confirm(ConfirmCredit(credit_id="c404"), actor="coord")


@case(RedemptionNotFound, redemption_id="r404")
def cancel_a_missing_redemption(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.redemptions.cancel(
        CancelRedemption(redemption_id="r404"), actor="coord"
    )


@case(EventNotFound, event_id="e404")
def credit_a_missing_event(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.events.credit(
        CreditEvent(event_id="e404", attendees={"li": 60}), actor="coord"
    )


@case(ProgrammeAccountNotFound, account_id="sponsor.red-cross")
def grant_from_a_missing_sponsor(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.gifts.grant(
        Grant(member_id="li", minutes=10, reason="flood", source="sponsor.red-cross"), actor="coord"
    )


@case(ProxyNotFound, member_id="zhang", proxy_id="li")
def revoke_a_missing_proxy(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.members.revoke_proxy(
        RevokeProxy(member_id="zhang", proxy_id="li"), actor="coord"
    )


@case(OfferNotFound, offer_id="offer-404")
def withdraw_a_missing_offer(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    offered(book)
    return book, lambda: book.supply.withdraw_offer(
        WithdrawOffer(offer_id="offer-404"), actor="coord"
    )


@case(NeedNotFound, need_id="need-404")
def order_from_a_missing_need(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    needed(book)
    return book, lambda: book.orders.request(
        RequestOrder(need_id="need-404", order_id="o1"), actor="coord"
    )


@case(OrderNotFound, order_id="order-404")
def dispatch_a_missing_order(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    confirmed_order(book)
    return book, lambda: book.orders.dispatch(
        DispatchOrder(order_id="order-404", volunteer_id="li"), actor="coord"
    )


@case(WishNotFound, wish_id="wish-404")
def adopt_a_missing_wish(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    book.wishes.post(PostWish(resident_id="zhang", title="老花镜", wish_id="wish-1"), actor="coord")
    return book, lambda: book.wishes.adopt(AdoptWish(wish_id="wish-404", adopter="li"), actor="li")


@case(CareFileNotFound, member_id="zhang")
def visit_without_a_care_file(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    book.care.open(OpenCareFile(member_id="li", visits_per_month=2), actor="coord")
    book.care.close(CloseCareFile(member_id="li"), actor="coord")
    return book, lambda: book.care.record_visit(
        RecordVisit(member_id="zhang", visitor_id="li", visited_at=bank.clock.now()), actor="li"
    )


# The request clashes with the book's state.


@case(MemberExists, member_id="li")
def register_twice(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: volunteer(book, "li", date(1963, 5, 1))


@case(MemberNotActive, member_id="li", status="suspended")
def suspended_provider(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    book.members.update(UpdateMember(member_id="li", status=MemberStatus.SUSPENDED), actor="coord")
    return book, lambda: checked_in(book, "li", "zhang", actor="coord")


@case(RelationExists, member_id="li", other_id="zhang", kind="parent")
def relate_twice_differently(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    book.members.relate(
        Relate(member_id="li", other_id="zhang", kind=RelationKind.PARENT), actor="coord"
    )
    return book, lambda: book.members.relate(
        Relate(member_id="li", other_id="zhang", kind=RelationKind.SPOUSE), actor="coord"
    )


@case(PolicyNotDraft, version=1, status="active")
def activate_the_active_policy(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.programme.activate_policy(ActivatePolicy(version=1), actor=SYSTEM)


@case(ActorNotAuthorised, actor="li", action="register a member")
def volunteer_registers_a_member(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: register(book, actor="li")


@case(ProviderNotEligible, member_id="wu", reason="not registered as a volunteer")
def recipient_only_provides(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    register(book, roles={Role.RECIPIENT})
    return book, lambda: checked_in(book, "wu", "zhang", actor="coord")


@case(RecipientNotEligible, member_id="ming", reason="aged 30; the policy serves 60+")
def young_recipient(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    volunteer(book, "ming", date(1996, 3, 1))
    return book, lambda: checked_in(book, "li", "ming", actor="coord")


@case(RedemptionAgeNotReached, member_id="ming", age=30, age_min=60)
def young_saver_redeems(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    volunteer(book, "ming", date(1996, 3, 1))
    return book, lambda: booked(book, "ming")


@case(
    GiftNotAllowed,
    giver_id="li",
    receiver_id="zhang",
    reason="not related; gifts go to: child, grandchild, grandparent, parent, spouse",
)
def gift_to_an_unrelated_member(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    served(book, "li", "zhang")
    return book, lambda: book.gifts.give(
        Give(giver_id="li", receiver_id="zhang", minutes=30), actor="li"
    )


@case(MerchantRedemptionNotAllowed, merchant_id="suguo")
def buy_goods_where_services_only(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    book.programme.add_merchant(AddMerchant(merchant_id="suguo", name="苏果超市"), actor=SYSTEM)
    served(book, "zhang", "li")
    return book, lambda: book.redemptions.book(
        BookRedemption(saver_id="li", minutes=30, merchant_id="suguo"), actor="li"
    )


@case(GroupMinutesOnlyDonated, member_id="zhang")
def spend_group_minutes(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    event = book.events.create(
        CreateEvent(title="重阳节活动", category="community", held_at=bank.clock.now()),
        actor="coord",
    )
    book.events.credit(CreditEvent(event_id=event.event_id, attendees={"zhang": 60}), actor="coord")
    return book, lambda: booked(book, "zhang")


@case(CreditNotPending, status="posted")
def confirm_twice(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    credit = checked_in(book, "li", "zhang", request_id="visit-1")
    book.credits.confirm(ConfirmCredit(credit_id=credit.credit_id), actor="zhang")
    return book, lambda: book.credits.confirm(ConfirmCredit(credit_id="visit-1"), actor="zhang")


@case(CreditNotPosted, credit_id="visit-1", status="pending")
def reverse_a_pending_credit(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    checked_in(book, "li", "zhang", request_id="visit-1")
    return book, lambda: book.credits.reverse(
        ReverseCredit(credit_id="visit-1", reason="entered twice"), actor="coord"
    )


@case(RedemptionNotBooked, redemption_id="visit-2", status="cancelled")
def cancel_twice(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    served(book, "zhang", "li")
    booked(book, request_id="visit-2")
    book.redemptions.cancel(CancelRedemption(redemption_id="visit-2"), actor="zhang")
    return book, lambda: book.redemptions.cancel(
        CancelRedemption(redemption_id="visit-2"), actor="zhang"
    )


@case(
    IdempotencyConflict, transaction_id="offer-1", field="capacity_minutes_per_week", label="offer"
)
def offer_the_same_id_for_another_offer(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    offered(book)
    return book, lambda: offered(book, capacity_minutes_per_week=90)


@case(SelfApproval, actor="coord", member_id="coord")
def coordinator_grants_to_themselves(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.gifts.grant(
        Grant(member_id="coord", minutes=30, reason="need"), actor="coord"
    )


@case(BookingsOpenAtDeath, member_id="zhang", held_minutes=30, incoming_minutes=0)
def death_while_a_redemption_holds_minutes(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    served(book, "zhang", "li")
    booked(book, request_id="visit-2")
    today = book.bank.clock.now().date()
    return book, lambda: book.members.record_death(
        RecordDeath(member_id="zhang", died_on=today), actor="coord"
    )


@case(NeedNotOpen, need_id="need-1")
def order_from_a_closed_need(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    needed(book)
    book.orders.request(RequestOrder(need_id="need-1", order_id="order-1"), actor="coord")
    book.supply.close_need(CloseNeed(need_id="need-1"), actor="coord")
    return book, lambda: book.orders.request(
        RequestOrder(need_id="need-1", order_id="order-2"), actor="coord"
    )


@case(IdempotencyKeyReused, key="register-wu")
def same_idempotency_key_another_request(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    with bank.idempotent("register-wu", "wu born 1950"):
        register(book)

    def again() -> object:
        with bank.idempotent("register-wu", "wu born 1951"):
            return register(book, birth_date=date(1951, 1, 1))

    return book, again


@case(OrderTransitionNotAllowed, order_id="order-1", status="confirmed", action="reject")
def reject_a_confirmed_order(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    confirmed_order(book)
    return book, lambda: book.orders.reject(
        RejectOrder(order_id="order-1", reason="too late"), actor="zhang"
    )


@case(WishTransitionNotAllowed, wish_id="wish-1", status="posted", action="fulfilled")
def fulfil_a_wish_nobody_adopted(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    book.wishes.post(PostWish(resident_id="zhang", title="老花镜", wish_id="wish-1"), actor="coord")
    return book, lambda: book.wishes.fulfil(FulfilWish(wish_id="wish-1"), actor="coord")


# A balance would leave the bounds the policy sets.


@case(
    CreditLimitExceeded,
    member_id="zhang",
    available_minutes=0,
    credit_limit_minutes=1200,
    requested_minutes=1440,
)
def pay_beyond_the_credit_line(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank, "timeoverflow")  # members pay each other, down to -20 h
    return book, lambda: served(book, "li", "zhang", raw_minutes=1440)


@case(
    StoredMinutesCapExceeded,
    member_id="li",
    stored_minutes=0,
    cap_minutes=90_000,
    requested_minutes=90_001,
)
def grant_beyond_the_cap(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    book.programme.add_sponsor(AddSponsor(sponsor_id="red-cross", name="Red Cross"), actor=SYSTEM)
    return book, lambda: book.gifts.grant(
        Grant(member_id="li", minutes=90_001, reason="flood", source="sponsor.red-cross"),
        actor="coord",
    )


# Ledger rules that surface through the facade.


@case(
    InsufficientMinutes,
    label="redeem",
    account_id="m.zhang",
    available_minutes=0,
    requested_minutes=30,
)
def redeem_more_than_saved(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)  # a deposit bank: no credit line
    return book, lambda: booked(book, "zhang")


@case(
    InsufficientMinutes,
    label="ledger",
    account_id="pool",
    available_minutes=0,
    requested_minutes=10,
)
def grant_from_an_empty_pool(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)  # decided by the ledger: the pool may not go below zero
    return book, lambda: book.gifts.grant(
        Grant(member_id="li", minutes=10, reason="flood"), actor="coord"
    )


@case(IdempotencyConflict, transaction_id="visit-1", field="raw_minutes")
def same_request_another_service(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    served(book, "li", "zhang", raw_minutes=60, request_id="visit-1")
    return book, lambda: served(book, "li", "zhang", raw_minutes=90, request_id="visit-1")


@case(PageSizeOutOfRange, limit=501, maximum=500)
def passbook_page_too_large(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: book.statements.passbook("li", limit=501)


@case(TimestampNotAware, field="served_at")
def naive_service_time(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    return book, lambda: checked_in(book, "li", "zhang", served_at=datetime(2026, 11, 2, 9))


@case(PostExceedsHold, hold_id="redeem.visit-2", held_minutes=30, requested_minutes=60)
def complete_for_more_than_booked(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    served(book, "zhang", "li")
    booked(book, request_id="visit-2")
    return book, lambda: book.redemptions.complete(
        CompleteRedemption(redemption_id="visit-2", spent_minutes=60), actor="zhang"
    )


def _id(case: Case) -> str:
    return case.error.__name__ + (f"-{case.label}" if case.label else "")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_refusal_is_typed_and_leaves_no_trace(bank: TimeBank, case: Case) -> None:
    book, action = case.arrange(bank)
    before = whole_state(book)

    with pytest.raises(LedgerError) as caught:
        action()
    error = caught.value
    assert type(error) is case.error, repr(error)
    assert {name: error.fields()[name] for name in case.fields} == case.fields
    assert whole_state(book) == before

    data = msgspec.json.decode(msgspec.json.encode(error.to_dict()))
    assert error_from_dict(data) == error

    with pytest.raises(LedgerError) as again:
        action()
    assert again.value == error
    assert whole_state(book) == before


def test_every_bank_error_and_surfaced_ledger_error_has_a_case() -> None:
    """Adding a rule without a case here fails."""
    covered = {case.error for case in CASES}
    assert covered >= CONCRETE, sorted(cls.__name__ for cls in CONCRETE - covered)
    assert covered >= LEDGER_SURFACED
    assert covered <= CONCRETE | LEDGER_SURFACED
    assert len({_id(case) for case in CASES}) == len(CASES)


def test_the_ledger_remembers_its_refusals(bank: TimeBank) -> None:
    """A request id the ledger refused keeps its refusal, even once the request would pass."""
    book = world(bank)
    grant = {"member_id": "li", "minutes": 10, "reason": "flood"}
    with pytest.raises(InsufficientMinutes) as refused:
        book.gifts.grant(Grant(**grant, request_id="grant-1"), actor="coord")
    served(book, "li", "zhang")
    book.gifts.donate(Donate(member_id="li", minutes=60), actor="li")
    before = book_state(book)

    with pytest.raises(InsufficientMinutes) as again:
        book.gifts.grant(Grant(**grant, request_id="grant-1"), actor="coord")
    assert again.value == refused.value
    assert book_state(book) == before
    assert book.gifts.grant(Grant(**grant, request_id="grant-2"), actor="coord") == "grant.grant-2"


# --- retries after success ----------------------------------------------------------------


def retry_credit_service(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    served_at = bank.clock.now()
    return book, lambda: served(book, "li", "zhang", request_id="visit-1", served_at=served_at)


def retry_give(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    served(book, "li", "zhang")
    book.members.relate(
        Relate(member_id="li", other_id="zhang", kind=RelationKind.PARENT), actor="coord"
    )
    return book, lambda: book.gifts.give(
        Give(giver_id="li", receiver_id="zhang", minutes=30, request_id="gift-1"), actor="li"
    )


def retry_donate(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    served(book, "li", "zhang")
    return book, lambda: book.gifts.donate(
        Donate(member_id="li", minutes=30, request_id="donation-1"), actor="li"
    )


def retry_grant(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    served(book, "li", "zhang")
    book.gifts.donate(Donate(member_id="li", minutes=60), actor="li")
    return book, lambda: book.gifts.grant(
        Grant(member_id="zhang", minutes=30, reason="heating", request_id="grant-1"), actor="coord"
    )


def retry_credit_event(bank: TimeBank) -> tuple[BankBook, Action]:
    book = world(bank)
    event = book.events.create(
        CreateEvent(title="重阳节活动", category="community", held_at=bank.clock.now()),
        actor="coord",
    )
    return book, lambda: book.events.credit(
        CreditEvent(
            event_id=event.event_id, attendees={"zhang": 60, "li": 90}, request_id="party-1"
        ),
        actor="coord",
    )


RETRIES = [retry_credit_service, retry_give, retry_donate, retry_grant, retry_credit_event]


@pytest.mark.parametrize("arrange", RETRIES, ids=lambda f: f.__name__.removeprefix("retry_"))
def test_retry_after_success_returns_the_same_and_changes_nothing(
    bank: TimeBank, arrange: Arrange
) -> None:
    book, action = arrange(bank)
    first = action()
    before = book_state(book)

    assert action() == first
    assert book_state(book) == before


# --- the documented tree and the wire form ------------------------------------------------


def documented_tree() -> dict[str, list[str]]:
    """The docstring's tree: each family (in parentheses) and the errors drawn under it."""
    tree: dict[str, list[str]] = {}
    family: str | None = None
    family_column = 0
    for line in (errors_module.__doc__ or "").splitlines():
        found = re.search(r"── (\(?)(\w+)\)?\s*$", line)
        if found is None:
            continue
        column = found.start()
        if found.group(1):
            family, family_column = found.group(2), column
            tree[family] = []
        elif family is not None and column > family_column:
            tree[family].append(found.group(2))
        else:
            family = None
    return tree


def test_docstring_tree_lists_every_error_under_its_family() -> None:
    doc = errors_module.__doc__ or ""
    assert "LedgerError\n    └── BankError\n" in doc
    tree = documented_tree()
    assert list(tree) == list(FAMILIES)
    drawn = [name for names in tree.values() for name in names]
    assert len(drawn) == len(set(drawn)), "an error is drawn twice"
    assert sorted(drawn) == sorted(cls.__name__ for cls in CONCRETE)
    for family, names in tree.items():
        for name in names:
            cls = getattr(errors_module, name)
            assert issubclass(cls, BankError), name
            parents = [f for f, base in FAMILIES.items() if issubclass(cls, base)]
            assert parents == [family], f"{name} is drawn under {family}, is a {parents}"


def sample(cls: type[LedgerError]) -> LedgerError:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        kind = str(field.type)
        if "datetime" in kind:
            values[field.name] = datetime(2026, 11, 2, tzinfo=UTC)
        elif "int" in kind:
            values[field.name] = 42
        else:
            values[field.name] = f"{field.name}-value"
    return cls(**values)


@pytest.mark.parametrize(
    "cls", sorted(CONCRETE, key=lambda c: c.__name__), ids=lambda c: c.__name__
)
def test_round_trips_through_the_shared_registry(cls: type[LedgerError]) -> None:
    """Bank errors rebuild through the ledger's error_from_dict, with a stable snake_case code."""
    error = sample(cls)
    data = msgspec.json.decode(msgspec.json.encode(error.to_dict()))
    assert data["code"] == cls.code
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", cls.code)
    rebuilt = error_from_dict(data)
    assert type(rebuilt) is cls
    assert rebuilt == error
    assert str(rebuilt) == str(error)
    assert "{" not in str(error)
