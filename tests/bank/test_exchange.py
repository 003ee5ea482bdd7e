"""The old-helping-old desk as worked examples, on memory, SQLite and PostgreSQL.

The book (``desk``) has a coordinator and four people in community ``gulou``:

    id     born  grid  roles                 notes
    coord  1978  -     coordinator
    li     1963  g1    volunteer, recipient  younger senior, zhang's neighbour
    chen   1960  g2    volunteer, recipient
    zhang  1940  g1    volunteer, recipient  86: the senior most orders are for
    mei    1968  -     recipient             zhang's daughter, not a volunteer

The clock starts on Monday 2026-11-02 at 09:00 in Shanghai and ticks a second
per call; the policy lets the issuance account pay unless a payer is named.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from math import ceil, floor

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bank.conftest import START
from tests.bank.helpers import coordinator
from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import (
    AcceptOrder,
    AckOutbox,
    AddNeed,
    AddOffer,
    AddSponsor,
    AdoptWish,
    AuthoriseProxy,
    CancelOrder,
    CloseCareFile,
    CloseNeed,
    CloseOrder,
    CompleteOrder,
    ConfirmCredit,
    ConfirmOrder,
    ConfirmWish,
    CreateEvent,
    CreditEvent,
    CreditService,
    DeclineOrder,
    DispatchOrder,
    FulfilWish,
    Grant,
    OpenCareFile,
    PostWish,
    PublishOrder,
    RateOrder,
    RecordVisit,
    RegisterMember,
    RejectOrder,
    RequestOrder,
    ReverseCredit,
    RunDeadlines,
    StartOrder,
    UpdateMember,
    UpdateOffer,
    WithdrawOffer,
    WithdrawWish,
)
from timebank.bank.records import order_row
from timebank.bank.reports import PROCESSED_MEANS, share_capacity
from timebank.community import (
    ActorNotAuthorised,
    CareFileNotFound,
    CreditStatus,
    MemberNotFound,
    NeedNotFound,
    NeedNotOpen,
    NeedStatus,
    OfferNotFound,
    OrderAction,
    OrderDeadlines,
    OrderNotFound,
    OrderStatus,
    OrderTransitionNotAllowed,
    PolicyRules,
    ProgrammeAccountNotFound,
    Provenance,
    ProviderNotEligible,
    RatingOutOfRange,
    ReasonRequired,
    ReportPeriodInvalid,
    Role,
    ScheduleInvalid,
    SelfDealing,
    Vetting,
    Window,
    WishNotFound,
    WishStatus,
    WishTransitionNotAllowed,
)
from timebank.community.exchange import Order
from timebank.community.memory import MemoryBankStore
from timebank.ledger import EffectiveTimeAfterRecording, IdempotencyConflict, ManualClock

pytestmark = pytest.mark.usefixtures("clock")

MONDAY = date(2026, 11, 2)
NEXT_MONDAY_10AM = datetime(2026, 11, 9, 2, 0, tzinfo=UTC)
"""10:00 on the following Monday in Shanghai."""
MONDAY_MORNING = Window(weekday=0, start_minute=9 * 60, end_minute=12 * 60)
WEDNESDAY_MORNING = Window(weekday=2, start_minute=9 * 60, end_minute=12 * 60)


def rules(**changes: object) -> PolicyRules:
    """Three categories; the issuance account pays by default; no age rules to speak of."""
    values: dict[str, object] = {
        "name": "old helping old",
        "categories": ("companionship", "meals", "errands"),
        "payer_default": "issuance",
        "provider_age_min": 16,
        "gift_relations": frozenset({"child", "parent", "spouse"}),
    }
    values.update(changes)
    return PolicyRules(**values)  # type: ignore[arg-type]


def person(
    book: BankBook,
    member_id: str,
    born: date,
    *,
    grid: str = "",
    roles: frozenset[Role] = frozenset({Role.VOLUNTEER, Role.RECIPIENT}),
    community: str = "gulou",
) -> None:
    book.members.register(
        RegisterMember(
            member_id=member_id,
            name="李娜",
            birth_date=born,
            community=community,
            grid=grid,
            roles=roles,
            vetting=Vetting.STREET,
        ),
        actor=SYSTEM,
    )


def desk(bank: TimeBank, **changes: object) -> BankBook:
    """The book of the module docstring."""
    book = bank.create_book("gulou", rules(**changes))
    coordinator(book)
    person(book, "li", date(1963, 5, 1), grid="g1")
    person(book, "chen", date(1960, 1, 10), grid="g2")
    person(book, "zhang", date(1940, 3, 3), grid="g1")
    person(book, "mei", date(1968, 6, 1), roles=frozenset({Role.RECIPIENT}))
    return book


def earn(book: BankBook, member_id: str, minutes: int) -> None:
    """``member_id`` earns ``minutes`` of their own by serving chen (issuance pays)."""
    recipient = "li" if member_id == "chen" else "chen"
    book.credits.record(
        CreditService(
            provider_id=member_id,
            recipient_id=recipient,
            category="companionship",
            raw_minutes=minutes,
            served_at=book.bank.clock.now(),
            provenance=Provenance.ORGANISATION_CONFIRMATION,
        ),
        actor="coord",
    )


def ordered(book: BankBook, order_id: str = "o1", **options: object) -> Order:
    values: dict[str, object] = {
        "recipient_id": "zhang",
        "category": "companionship",
        "estimated_minutes": 60,
        "actor": "coord",
        "order_id": order_id,
    }
    values.update(options)
    actor = str(values.pop("actor"))
    return book.orders.request(RequestOrder(**values), actor=actor)  # type: ignore[arg-type]


def accepted(
    book: BankBook, order_id: str = "o1", volunteer: str = "li", **options: object
) -> Order:
    ordered(book, order_id, **options)
    book.orders.dispatch(DispatchOrder(order_id=order_id, volunteer_id=volunteer), actor="coord")
    return book.orders.accept(
        AcceptOrder(order_id=order_id, volunteer_id=volunteer), actor=volunteer
    )


def completed(
    book: BankBook, order_id: str = "o1", actual_minutes: int = 60, **options: object
) -> Order:
    order = accepted(book, order_id, **options)
    assert order.volunteer_id is not None
    book.orders.start(StartOrder(order_id=order_id), actor=order.volunteer_id)
    return book.orders.complete(
        CompleteOrder(order_id=order_id, actual_minutes=actual_minutes), actor=order.volunteer_id
    )


def offer(book: BankBook, volunteer: str, **options: object) -> None:
    values: dict[str, object] = {
        "volunteer_id": volunteer,
        "categories": ["companionship"],
        "windows": [MONDAY_MORNING],
        "capacity_minutes_per_week": 300,
        "actor": volunteer,
        "offer_id": f"{volunteer}-offer",
    }
    values.update(options)
    actor = str(values.pop("actor"))
    book.supply.add_offer(AddOffer(**values), actor=actor)  # type: ignore[arg-type]


def minutes(amount: int) -> timedelta:
    return timedelta(minutes=amount)


def bodies(book: BankBook, topic: str) -> list[dict[str, object]]:
    return [json.loads(m.body) for m in book.outbox.pending(limit=500) if m.topic == topic]


# --- the supply ledger (供给台账) ----------------------------------------------------------


def test_an_offer_records_windows_exceptions_area_and_capacity(bank: TimeBank) -> None:
    """An offer keeps its categories, weekly windows, days away, grid, capacity and end."""
    book = desk(bank)
    made = book.supply.add_offer(
        AddOffer(
            volunteer_id="li",
            categories=["companionship", "meals"],
            windows=[MONDAY_MORNING, WEDNESDAY_MORNING],
            unavailable_on=[date(2026, 11, 9)],
            capacity_minutes_per_week=300,
            ends_on=date(2026, 12, 31),
            offer_id="li-1",
        ),
        actor="li",
    )
    assert made.categories == frozenset({"companionship", "meals"})
    assert made.windows == (MONDAY_MORNING, WEDNESDAY_MORNING)
    assert made.unavailable_on == frozenset({date(2026, 11, 9)})
    assert (made.community, made.grid) == ("gulou", "g1")
    assert (made.starts_on, made.ends_on) == (MONDAY, date(2026, 12, 31))
    assert made.capacity_minutes_per_week == 300
    assert (made.actor, made.withdrawn_at, made.reminded_at) == ("li", None, None)
    assert book.supply.offer("li-1") == made
    assert not made.active_on(date(2027, 1, 1))

    placed = book.supply.add_offer(
        AddOffer(
            volunteer_id="chen",
            categories=["errands"],
            windows=[WEDNESDAY_MORNING],
            capacity_minutes_per_week=120,
            grid="g3",
            x_metres=120,
            y_metres=-40,
            offer_id="chen-1",
        ),
        actor="coord",
    )
    assert (placed.grid, placed.x_metres, placed.y_metres) == ("g3", 120, -40)
    assert placed.ends_on is None
    assert placed.active_on(date(2036, 1, 1))
    assert placed.actor == "coord"


def test_an_offer_is_changed_and_withdrawn(bank: TimeBank, clock: ManualClock) -> None:
    """A new end clears the lapse reminder; never_expires removes the end; withdrawal sticks."""
    book = desk(bank)
    offer(book, "li", ends_on=MONDAY + timedelta(days=10))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).reminded == ("li-offer",)
    assert book.supply.offer("li-offer").reminded_at is not None

    later = book.supply.update_offer(
        UpdateOffer(offer_id="li-offer", ends_on=date(2027, 3, 1)), actor="li"
    )
    assert (later.ends_on, later.reminded_at) == (date(2027, 3, 1), None)
    changed = book.supply.update_offer(
        UpdateOffer(
            offer_id="li-offer",
            windows=[WEDNESDAY_MORNING],
            unavailable_on=[date(2026, 11, 11)],
            capacity_minutes_per_week=90,
        ),
        actor="coord",
    )
    assert changed.windows == (WEDNESDAY_MORNING,)
    assert changed.unavailable_on == frozenset({date(2026, 11, 11)})
    assert (changed.capacity_minutes_per_week, changed.ends_on) == (90, date(2027, 3, 1))
    forever = book.supply.update_offer(
        UpdateOffer(offer_id="li-offer", never_expires=True), actor="li"
    )
    assert forever.ends_on is None
    with pytest.raises(ScheduleInvalid):
        book.supply.update_offer(
            UpdateOffer(offer_id="li-offer", ends_on=MONDAY - timedelta(days=1)), actor="li"
        )

    withdrawn = book.supply.withdraw_offer(WithdrawOffer(offer_id="li-offer"), actor="li")
    assert withdrawn.withdrawn_at is not None
    assert not withdrawn.active_on(MONDAY)
    clock.advance(minutes(5))
    assert book.supply.withdraw_offer(WithdrawOffer(offer_id="li-offer"), actor="li") == withdrawn
    with pytest.raises(OfferNotFound):  # chen may not see li's offer, so for him it is not there
        book.supply.withdraw_offer(WithdrawOffer(offer_id="li-offer"), actor="chen")


def test_offers_are_listed_in_id_order_with_a_cursor(bank: TimeBank) -> None:
    """The supply ledger pages by offer id."""
    book = desk(bank)
    for offer_id in ("c", "a", "b"):
        offer(book, "li", offer_id=offer_id)
    first = book.supply.offers(limit=2)
    rest = book.supply.offers(after=first[-1].offer_id, limit=10)
    assert [o.offer_id for o in first] == ["a", "b"]
    assert [o.offer_id for o in rest] == ["c"]


def test_only_volunteers_offer_and_others_need_a_proxy(bank: TimeBank) -> None:
    """A non-volunteer cannot offer; nobody offers for a volunteer without authorisation."""
    book = desk(bank)
    with pytest.raises(ProviderNotEligible):
        offer(book, "mei")
    with pytest.raises(MemberNotFound):  # chen may not see li
        offer(book, "li", actor="chen")
    assert book.supply.offers() == []
    book.members.authorise_proxy(
        AuthoriseProxy(member_id="li", proxy_id="chen", note="neighbour"), actor="coord"
    )
    offer(book, "li", actor="chen")
    assert book.supply.offer("li-offer").actor == "chen"


# --- the demand ledger (需求台账) ----------------------------------------------------------


def test_a_need_is_either_once_or_weekly(bank: TimeBank) -> None:
    """A need has a time (once) or weekly windows: both or neither is refused."""
    book = desk(bank)
    once = book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="meals",
            estimated_minutes=45,
            once_at=NEXT_MONDAY_10AM,
            need_id="n-once",
        ),
        actor="coord",
    )
    assert (once.starts_on, once.windows, once.on_behalf_of) == (date(2026, 11, 9), (), "zhang")
    weekly = book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="companionship",
            estimated_minutes=60,
            windows=[MONDAY_MORNING, WEDNESDAY_MORNING],
            need_id="n-weekly",
        ),
        actor="zhang",
    )
    assert (weekly.once_at, weekly.starts_on, weekly.on_behalf_of) == (None, MONDAY, None)
    assert (weekly.grid, weekly.status) == ("g1", NeedStatus.OPEN)
    with pytest.raises(ScheduleInvalid) as both:
        book.supply.add_need(
            AddNeed(
                recipient_id="zhang",
                category="meals",
                estimated_minutes=45,
                once_at=NEXT_MONDAY_10AM,
                windows=[MONDAY_MORNING],
            ),
            actor="coord",
        )
    assert both.value.field == "once_at"
    with pytest.raises(ScheduleInvalid):
        book.supply.add_need(
            AddNeed(recipient_id="zhang", category="meals", estimated_minutes=45), actor="coord"
        )
    assert [n.need_id for n in book.supply.needs()] == ["n-once", "n-weekly"]
    assert [n.need_id for n in book.supply.needs(after="n-once")] == ["n-weekly"]


def test_a_need_names_who_pays(bank: TimeBank) -> None:
    """The payer: the recipient, only their gifted minutes, a programme account, or the default."""
    book = desk(bank)
    book.programme.add_sponsor(AddSponsor(sponsor_id="red-cross", name="红十字会"), actor=SYSTEM)

    def need(payer: str | None) -> str | None:
        return book.supply.add_need(
            AddNeed(
                recipient_id="zhang",
                category="meals",
                estimated_minutes=45,
                windows=[MONDAY_MORNING],
                payer=payer,
            ),
            actor="coord",
        ).payer

    assert need("recipient") == "recipient"
    assert need("gifted") == "gifted"
    assert need("sponsor.red-cross") == "sponsor.red-cross"
    assert need(None) is None
    with pytest.raises(ProgrammeAccountNotFound):
        need("sponsor.nobody")
    assert len(book.supply.needs()) == 4


def test_a_closed_need_takes_no_more_orders(bank: TimeBank) -> None:
    """Ordering from a closed need is refused; an unknown need is not found."""
    book = desk(bank)
    book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="companionship",
            estimated_minutes=60,
            windows=[MONDAY_MORNING],
            payer="recipient",
            need_id="n1",
        ),
        actor="coord",
    )
    first = book.orders.request(RequestOrder(need_id="n1", order_id="o1"), actor="zhang")
    assert (first.recipient_id, first.category, first.payer) == (
        "zhang",
        "companionship",
        "recipient",
    )
    closed = book.supply.close_need(CloseNeed(need_id="n1"), actor="zhang")
    assert closed.status is NeedStatus.CLOSED
    assert book.supply.need("n1").status is NeedStatus.CLOSED
    with pytest.raises(NeedNotOpen):
        book.orders.request(RequestOrder(need_id="n1", order_id="o2"), actor="zhang")
    with pytest.raises(NeedNotFound):
        book.orders.request(RequestOrder(need_id="n404", order_id="o3"), actor="zhang")
    assert [o.order_id for o in book.orders.list()] == ["o1"]


# --- service orders ----------------------------------------------------------------------


def test_a_dispatched_order_runs_from_request_to_close_out(bank: TimeBank) -> None:
    """点单 → 派单 → 接单 → 办结 → 销号: held at acceptance, posted at confirmation."""
    book = desk(bank)
    earn(book, "zhang", 120)
    order = ordered(book, payer="recipient", actor="zhang")
    assert (order.status, order.reserved_minutes) == (OrderStatus.REQUESTED, 60)

    order = book.orders.dispatch(DispatchOrder(order_id="o1", volunteer_id="li"), actor="coord")
    assert (order.status, order.dispatched_to) == (OrderStatus.DISPATCHED, "li")
    assert book.statements.balance("zhang").held_minutes == 0

    order = book.orders.accept(AcceptOrder(order_id="o1", volunteer_id="li"), actor="li")
    assert (order.status, order.volunteer_id, order.payer_account) == (
        OrderStatus.ACCEPTED,
        "li",
        "m.zhang",
    )
    assert (
        book.statements.balance("zhang").own_minutes,
        book.statements.balance("zhang").held_minutes,
    ) == (120, 60)
    assert book.statements.balance("li").incoming_minutes == 60

    book.orders.start(StartOrder(order_id="o1"), actor="li")
    order = book.orders.complete(CompleteOrder(order_id="o1", actual_minutes=60), actor="li")
    assert (order.status, order.actual_minutes) == (OrderStatus.COMPLETED, 60)
    assert book.statements.balance("zhang").held_minutes == 60
    assert book.statements.balance("li").own_minutes == 0

    order = book.orders.confirm(ConfirmOrder(order_id="o1"), actor="zhang")
    assert (order.status, order.credited_minutes) == (OrderStatus.CONFIRMED, 60)
    assert (
        book.statements.balance("zhang").own_minutes,
        book.statements.balance("zhang").held_minutes,
    ) == (60, 0)
    assert (
        book.statements.balance("li").own_minutes,
        book.statements.balance("li").incoming_minutes,
    ) == (60, 0)
    line = book.statements.passbook("li").entries[-1]
    assert (line.kind, line.category, line.counterparty) == ("service", "companionship", "m.zhang")
    assert (line.raw_minutes, line.credited_minutes, line.delta_minutes) == (60, 60, 60)
    assert (line.provenance, line.confirmation) == ("check_in_out", "recipient_confirmation")
    assert line.policy_version == 1
    credit = book.credits.get(order.credit_id or "")
    assert (credit.provider_id, credit.recipient_id, credit.credited_minutes) == ("li", "zhang", 60)

    order = book.orders.rate(RateOrder(order_id="o1", rating=5, comment="很耐心"), actor="zhang")
    assert (order.status, order.rating, order.comment) == (OrderStatus.RATED, 5, "很耐心")
    order = book.orders.close(
        CloseOrder(order_id="o1", follow_up="电话回访, 老人满意"), actor="coord"
    )
    assert (order.status, order.follow_up) == (OrderStatus.CLOSED, "电话回访, 老人满意")
    assert order.closed_at is not None
    assert [step.action for step in order.history] == [
        OrderAction.REQUEST,
        OrderAction.DISPATCH,
        OrderAction.ACCEPT,
        OrderAction.START,
        OrderAction.COMPLETE,
        OrderAction.CONFIRM,
        OrderAction.RATE,
        OrderAction.CLOSE,
    ]
    assert book.orders.get("o1") == order
    assert book.statements.verify().ok


def test_a_published_order_is_claimed_by_any_eligible_volunteer(bank: TimeBank) -> None:
    """Anyone may claim a published order, except its recipient; issuance pays by default."""
    book = desk(bank)
    ordered(book)
    assert (
        book.orders.publish(PublishOrder(order_id="o1"), actor="coord").status
        is OrderStatus.PUBLISHED
    )
    with pytest.raises(SelfDealing):
        book.orders.accept(AcceptOrder(order_id="o1", volunteer_id="zhang"), actor="zhang")
    with pytest.raises(ActorNotAuthorised):
        book.orders.publish(PublishOrder(order_id="o1"), actor="li")
    order = book.orders.accept(AcceptOrder(order_id="o1", volunteer_id="chen"), actor="chen")
    assert (order.status, order.volunteer_id, order.payer_account) == (
        OrderStatus.ACCEPTED,
        "chen",
        "issuance",
    )
    book.orders.start(StartOrder(order_id="o1"), actor="chen")
    book.orders.complete(CompleteOrder(order_id="o1", actual_minutes=50), actor="chen")
    order = book.orders.confirm(ConfirmOrder(order_id="o1"), actor="coord")
    assert order.credited_minutes == 50
    assert book.statements.programme_balance("issuance") == -50
    assert book.statements.balance("chen").own_minutes == 50
    assert book.statements.passbook("chen").entries[-1].confirmation == "organisation_confirmation"
    assert [o.order_id for o in book.orders.list(status=OrderStatus.CONFIRMED)] == ["o1"]
    assert book.orders.list(status=OrderStatus.PUBLISHED) == []


def test_serving_longer_than_estimated_credits_only_the_reservation(bank: TimeBank) -> None:
    """The payer agreed to the estimate: 90 minutes served on a 60-minute order credit 60."""
    book = desk(bank)
    earn(book, "zhang", 120)
    completed(book, actual_minutes=90, payer="recipient")
    order = book.orders.confirm(ConfirmOrder(order_id="o1"), actor="zhang")
    assert (order.actual_minutes, order.credited_minutes) == (90, 60)
    assert (
        book.statements.balance("zhang").own_minutes,
        book.statements.balance("zhang").held_minutes,
    ) == (60, 0)
    assert book.statements.balance("li").own_minutes == 60
    line = book.statements.passbook("li").entries[-1]
    assert (line.raw_minutes, line.credited_minutes) == (90, 60)


def _served_kind(book: BankBook, order_id: str) -> tuple[str, bool]:
    """How the credit moved (``post`` or ``transfer``), and whether the hold was released first."""

    def reading(_: object, ledger: object) -> tuple[str, bool]:
        served = ledger.find(f"served.{order_id}")  # type: ignore[attr-defined]
        released = ledger.find(f"settled.{order_id}")  # type: ignore[attr-defined]
        return served.transaction.kind.value, released is not None

    return book.read(reading)


def test_serving_less_from_own_minutes_posts_part_of_the_hold(bank: TimeBank) -> None:
    """45 minutes of a 60-minute hold on own minutes post; the other 15 are released."""
    book = desk(bank)
    earn(book, "zhang", 120)
    completed(book, actual_minutes=45, payer="recipient")
    order = book.orders.confirm(ConfirmOrder(order_id="o1"), actor="zhang")
    assert order.credited_minutes == 45
    assert (
        book.statements.balance("zhang").own_minutes,
        book.statements.balance("zhang").held_minutes,
    ) == (75, 0)
    assert book.statements.balance("li").own_minutes == 45
    assert _served_kind(book, "o1") == ("post", False)
    assert book.statements.verify().ok


def test_serving_less_from_own_and_gifted_minutes_releases_then_moves(bank: TimeBank) -> None:
    """A hold on own and gifted minutes: 20 of 60 spent come from own alone, the gifted go back."""
    book = desk(bank)
    earn(book, "zhang", 30)
    book.gifts.grant(
        Grant(member_id="zhang", minutes=60, reason="子女赠送", source="issuance"), actor="coord"
    )
    completed(book, actual_minutes=20, payer="recipient")
    assert book.statements.balance("zhang").held_minutes == 60
    order = book.orders.confirm(ConfirmOrder(order_id="o1"), actor="zhang")
    assert order.credited_minutes == 20
    zhang = book.statements.balance("zhang")
    assert (zhang.own_minutes, zhang.gifted_minutes, zhang.held_minutes) == (10, 60, 0)
    assert book.statements.balance("li").own_minutes == 20
    assert _served_kind(book, "o1") == ("transfer", True)
    assert book.statements.verify().ok


def test_an_order_paid_from_gifted_minutes_leaves_own_minutes_alone(bank: TimeBank) -> None:
    """With payer ``gifted``, only minutes relatives gave are held and spent."""
    book = desk(bank)
    earn(book, "zhang", 100)
    book.gifts.grant(
        Grant(member_id="zhang", minutes=60, reason="子女赠送", source="issuance"), actor="coord"
    )
    completed(book, actual_minutes=45, payer="gifted")
    book.orders.confirm(ConfirmOrder(order_id="o1"), actor="zhang")
    zhang = book.statements.balance("zhang")
    assert (zhang.own_minutes, zhang.gifted_minutes, zhang.held_minutes) == (100, 15, 0)
    assert book.statements.balance("li").own_minutes == 45


def test_a_declined_order_waits_to_be_dispatched_again(bank: TimeBank) -> None:
    """The volunteer declines with a reason; the order is requested again, for anyone."""
    book = desk(bank)
    ordered(book)
    book.orders.dispatch(DispatchOrder(order_id="o1", volunteer_id="li"), actor="coord")
    with pytest.raises(ReasonRequired):
        book.orders.decline(DeclineOrder(order_id="o1", reason=" "), actor="li")
    declined = book.orders.decline(DeclineOrder(order_id="o1", reason="那天要去医院"), actor="li")
    assert (declined.status, declined.dispatched_to) == (OrderStatus.REQUESTED, None)
    assert declined.history[-1].note == "那天要去医院"
    book.orders.dispatch(DispatchOrder(order_id="o1", volunteer_id="chen"), actor="coord")
    assert (
        book.orders.accept(
            AcceptOrder(order_id="o1", volunteer_id="chen"), actor="chen"
        ).volunteer_id
        == "chen"
    )


def test_only_the_volunteer_dispatched_to_accepts(bank: TimeBank) -> None:
    """Another volunteer cannot take a dispatched order; nothing is held."""
    book = desk(bank)
    ordered(book, payer="recipient")
    book.orders.dispatch(DispatchOrder(order_id="o1", volunteer_id="li"), actor="coord")
    with pytest.raises(OrderTransitionNotAllowed):
        book.orders.accept(AcceptOrder(order_id="o1", volunteer_id="chen"), actor="coord")
    with pytest.raises(OrderNotFound):  # chen is not on the order: for him it is not there
        book.orders.accept(AcceptOrder(order_id="o1", volunteer_id="chen"), actor="chen")
    with pytest.raises(OrderNotFound):
        book.orders.accept(AcceptOrder(order_id="o1", volunteer_id="li"), actor="chen")
    assert book.orders.get("o1").status is OrderStatus.DISPATCHED
    assert book.statements.balance("zhang").held_minutes == 0


def test_reject_cancel_and_expire_release_the_hold(bank: TimeBank, clock: ManualClock) -> None:
    """Whatever ends an order unpaid voids its hold: the payer's balance is as before."""
    book = desk(bank)
    earn(book, "zhang", 300)
    completed(book, "rejected", payer="recipient")
    accepted(book, "cancelled", payer="recipient")
    accepted(book, "expired", payer="recipient")
    assert book.statements.balance("zhang").held_minutes == 180

    with pytest.raises(ReasonRequired):
        book.orders.reject(RejectOrder(order_id="rejected", reason=""), actor="zhang")
    assert book.orders.reject(
        RejectOrder(order_id="rejected", reason="没有来"), actor="zhang"
    ).status is (OrderStatus.REJECTED)
    assert book.orders.cancel(
        CancelOrder(order_id="cancelled", reason="住院了"), actor="zhang"
    ).status is (OrderStatus.CANCELLED)
    assert book.statements.balance("zhang").held_minutes == 60
    clock.advance(timedelta(days=15))
    run = book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM)
    assert run.expired == ("expired",)
    assert book.orders.get("expired").status is OrderStatus.EXPIRED
    zhang = book.statements.balance("zhang")
    assert (zhang.own_minutes, zhang.held_minutes) == (300, 0)
    assert book.statements.balance("li").total_minutes == 0
    assert book.statements.balance("li").incoming_minutes == 0
    with pytest.raises(OrderTransitionNotAllowed):
        book.orders.confirm(ConfirmOrder(order_id="rejected"), actor="zhang")
    assert book.statements.verify().ok


def test_a_rating_is_one_to_five_stars(bank: TimeBank) -> None:
    """Ratings below 1, above 5 or not whole numbers are refused; only confirmed orders rate."""
    book = desk(bank)
    completed(book)
    with pytest.raises(OrderTransitionNotAllowed):
        book.orders.rate(RateOrder(order_id="o1", rating=5), actor="zhang")
    book.orders.confirm(ConfirmOrder(order_id="o1"), actor="zhang")
    for wrong in (0, 6, True, "5"):
        with pytest.raises(RatingOutOfRange):
            book.orders.rate(RateOrder(order_id="o1", rating=wrong), actor="zhang")  # type: ignore[arg-type]
    assert book.orders.get("o1").status is OrderStatus.CONFIRMED
    assert book.orders.rate(RateOrder(order_id="o1", rating=1), actor="zhang").rating == 1


def test_close_out_needs_a_coordinator_and_a_follow_up(bank: TimeBank) -> None:
    """Only a coordinator closes out (销号), and only with the follow-up visit written down."""
    book = desk(bank)
    completed(book)
    book.orders.confirm(ConfirmOrder(order_id="o1"), actor="zhang")
    with pytest.raises(ActorNotAuthorised):
        book.orders.close(CloseOrder(order_id="o1", follow_up="回访了"), actor="zhang")
    with pytest.raises(ReasonRequired):
        book.orders.close(CloseOrder(order_id="o1", follow_up="   "), actor="coord")
    assert book.orders.get("o1").status is OrderStatus.CONFIRMED
    closed = book.orders.close(CloseOrder(order_id="o1", follow_up="上门回访"), actor="coord")
    assert (closed.status, closed.rating) == (OrderStatus.CLOSED, None)


def test_the_history_records_a_proxy_acting_for_a_senior(bank: TimeBank) -> None:
    """A daughter with a proxy orders and confirms for her mother; each step names both."""
    book = desk(bank)
    with pytest.raises(MemberNotFound):  # without the authorisation, zhang is not hers to see
        ordered(book, actor="mei")
    book.members.authorise_proxy(
        AuthoriseProxy(member_id="zhang", proxy_id="mei", note="女儿"), actor="coord"
    )
    ordered(book, actor="mei")
    book.orders.dispatch(DispatchOrder(order_id="o1", volunteer_id="li"), actor="coord")
    book.orders.accept(AcceptOrder(order_id="o1", volunteer_id="li"), actor="li")
    book.orders.start(StartOrder(order_id="o1"), actor="coord")
    book.orders.complete(CompleteOrder(order_id="o1", actual_minutes=60), actor="li")
    order = book.orders.confirm(ConfirmOrder(order_id="o1"), actor="mei")
    steps = [(s.action, s.actor, s.on_behalf_of) for s in order.history]
    assert steps == [
        (OrderAction.REQUEST, "mei", "zhang"),
        (OrderAction.DISPATCH, "coord", None),
        (OrderAction.ACCEPT, "li", None),
        (OrderAction.START, "coord", "li"),
        (OrderAction.COMPLETE, "li", None),
        (OrderAction.CONFIRM, "mei", "zhang"),
    ]
    credit = book.credits.get(order.credit_id or "")
    assert (credit.actor, credit.on_behalf_of) == ("mei", "zhang")
    assert credit.confirmation is Provenance.RECIPIENT_CONFIRMATION


def test_requesting_an_order_id_again_returns_the_first_order(bank: TimeBank) -> None:
    """An order id makes a request idempotent; the same id for another need conflicts."""
    book = desk(bank)
    book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="companionship",
            estimated_minutes=60,
            windows=[MONDAY_MORNING],
            need_id="n1",
        ),
        actor="coord",
    )
    book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="meals",
            estimated_minutes=30,
            windows=[MONDAY_MORNING],
            need_id="n2",
        ),
        actor="coord",
    )
    first = book.orders.request(RequestOrder(need_id="n1", order_id="o1"), actor="zhang")
    assert book.orders.request(RequestOrder(need_id="n1", order_id="o1"), actor="zhang") == first
    with pytest.raises(IdempotencyConflict):
        book.orders.request(RequestOrder(need_id="n2", order_id="o1"), actor="zhang")
    assert [o.order_id for o in book.orders.list()] == ["o1"]


# --- deadlines, escalation, the outbox ------------------------------------------------------


def test_an_order_nobody_accepts_climbs_the_escalation_chain(
    bank: TimeBank, clock: ManualClock
) -> None:
    """Past the accept deadline: dispatcher, then community, then street, one level per period."""
    deadlines = OrderDeadlines(accept_within_minutes=60, complete_within_minutes=240)
    book = desk(bank, deadlines=deadlines, escalate_every_minutes=30)
    ordered(book)
    clock.advance(minutes(59))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).escalated == ()

    levels = []
    for wait in (2, 30, 30):
        clock.advance(minutes(wait))
        assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).escalated == ("o1",)
        assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).escalated == ()
        levels.append(book.orders.get("o1").escalation_level)
    assert levels == [1, 2, 3]
    clock.advance(minutes(600))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).escalated == ()

    order = book.orders.get("o1")
    assert (order.status, order.escalate_at) == (OrderStatus.REQUESTED, None)
    steps = [s for s in order.history if s.action is OrderAction.ESCALATE]
    messages = [m for m in book.outbox.pending() if m.topic == "order.escalated"]
    assert [json.loads(m.body)["to"] for m in messages] == ["dispatcher", "community", "street"]
    assert [json.loads(m.body)["level"] for m in messages] == [1, 2, 3]
    assert {json.loads(m.body)["overdue_for"] for m in messages} == {"acceptance"}
    assert [m.created_at for m in messages] == [s.at for s in steps]
    assert [m.key for m in messages] == ["o1"] * 3
    with pytest.raises(ActorNotAuthorised):
        book.orders.run_deadlines(RunDeadlines(), actor="li")


def test_an_accepted_order_not_done_in_time_escalates_for_completion(
    bank: TimeBank, clock: ManualClock
) -> None:
    """Acceptance resets the chain; the completion deadline starts it again."""
    deadlines = OrderDeadlines(accept_within_minutes=60, complete_within_minutes=240)
    book = desk(bank, deadlines=deadlines)
    accepted(book)
    clock.advance(minutes(239))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).escalated == ()
    clock.advance(minutes(2))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).escalated == ("o1",)
    (body,) = bodies(book, "order.escalated")
    assert (body["level"], body["overdue_for"], body["status"]) == (1, "completion", "accepted")


def test_a_stale_order_expires_with_a_message(bank: TimeBank, clock: ManualClock) -> None:
    """An order not started in time expires: its hold is voided and an outbox message written."""
    book = desk(bank, order_expires_after_minutes=24 * 60)
    earn(book, "zhang", 60)
    accepted(book, payer="recipient")
    clock.advance(minutes(24 * 60 - 5))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).expired == ()
    clock.advance(minutes(10))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).expired == ("o1",)
    order = book.orders.get("o1")
    assert (order.status, order.history[-1].action) == (OrderStatus.EXPIRED, OrderAction.EXPIRE)
    assert (
        book.statements.balance("zhang").own_minutes,
        book.statements.balance("zhang").held_minutes,
    ) == (60, 0)
    (body,) = bodies(book, "order.expired")
    assert (body["order"], body["status_before"]) == ("o1", "accepted")
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).expired == ()


def test_a_lapsing_offer_is_reminded_once(bank: TimeBank, clock: ManualClock) -> None:
    """A volunteer hears once that their offer ends soon; of an offer without an end, never."""
    book = desk(bank, offer_reminder_days=14)
    offer(book, "li", offer_id="soon", ends_on=MONDAY + timedelta(days=10))
    offer(book, "li", offer_id="later", ends_on=MONDAY + timedelta(days=30))
    offer(book, "chen", offer_id="never")
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).reminded == ("soon",)
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).reminded == ()
    clock.advance(timedelta(days=17))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).reminded == ("later",)
    clock.advance(timedelta(days=400))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).reminded == ()
    assert [b["offer"] for b in bodies(book, "offer.lapsing")] == ["soon", "later"]
    assert [m.key for m in book.outbox.pending() if m.topic == "offer.lapsing"] == ["li", "li"]


def test_the_outbox_pages_and_only_coordinators_acknowledge(bank: TimeBank) -> None:
    """Messages page by sequence; acknowledged ones leave the outbox."""
    book = desk(bank)
    for order_id in ("a", "b", "c"):
        ordered(book, order_id)
        book.orders.dispatch(DispatchOrder(order_id=order_id, volunteer_id="li"), actor="coord")
    pending = book.outbox.pending()
    assert [m.topic for m in pending] == ["order.dispatched"] * 3
    assert [json.loads(m.body)["order"] for m in pending] == ["a", "b", "c"]
    first = book.outbox.pending(limit=2)
    rest = book.outbox.pending(after=first[-1].seq, limit=2)
    assert first + rest == pending
    with pytest.raises(ActorNotAuthorised):
        book.outbox.ack(AckOutbox(seqs=[pending[0].seq]), actor="li")
    assert book.outbox.ack(AckOutbox(seqs=[m.seq for m in first]), actor=SYSTEM) == 2
    assert book.outbox.pending() == rest
    assert book.outbox.ack(AckOutbox(seqs=[first[0].seq]), actor=SYSTEM) == 0
    assert book.outbox.ack(AckOutbox(seqs=[rest[0].seq]), actor=SYSTEM) == 1
    assert book.outbox.pending() == []


# --- micro-wishes (微心愿) ---------------------------------------------------------------


def test_a_micro_wish_is_adopted_fulfilled_and_confirmed_with_a_credit(bank: TimeBank) -> None:
    """A coordinator's confirmation may credit the adopting member from issuance."""
    book = desk(bank)
    wish = book.wishes.post(
        PostWish(resident_id="zhang", title="想要一副老花镜", wish_id="w1"), actor="coord"
    )
    assert (wish.status, wish.community, wish.grid) == (WishStatus.POSTED, "gulou", "g1")
    assert book.wishes.adopt(AdoptWish(wish_id="w1", adopter="li"), actor="li").adopter == "li"
    assert book.wishes.fulfil(FulfilWish(wish_id="w1"), actor="li").status is WishStatus.FULFILLED
    with pytest.raises(ActorNotAuthorised):
        book.wishes.confirm(ConfirmWish(wish_id="w1", credit_minutes=30), actor="zhang")
    done = book.wishes.confirm(ConfirmWish(wish_id="w1", credit_minutes=30), actor="coord")
    assert (done.status, done.credit_minutes, done.credit_id) == (
        WishStatus.CONFIRMED,
        30,
        "wish-w1",
    )
    assert [(s.status, s.actor) for s in done.history] == [
        (WishStatus.POSTED, "coord"),
        (WishStatus.ADOPTED, "li"),
        (WishStatus.FULFILLED, "li"),
        (WishStatus.CONFIRMED, "coord"),
    ]
    assert book.statements.balance("li").own_minutes == 30
    assert book.statements.programme_balance("issuance") == -30
    line = book.statements.passbook("li").entries[-1]
    assert (line.category, line.counterparty, line.credited_minutes) == (
        "micro_wish",
        "issuance",
        30,
    )
    assert book.wishes.get("w1") == done


def test_a_partner_organisation_adopts_through_a_coordinator(bank: TimeBank) -> None:
    """``org:`` adopters are a coordinator's to record and report; they earn no minutes."""
    book = desk(bank)
    book.wishes.post(PostWish(resident_id="zhang", title="轮椅", wish_id="w1"), actor="zhang")
    with pytest.raises(ActorNotAuthorised):
        book.wishes.adopt(AdoptWish(wish_id="w1", adopter="org:红十字会"), actor="li")
    book.wishes.adopt(AdoptWish(wish_id="w1", adopter="org:红十字会"), actor="coord")
    with pytest.raises(WishNotFound):  # adopted, it left li's wish wall
        book.wishes.fulfil(FulfilWish(wish_id="w1"), actor="li")
    book.wishes.fulfil(FulfilWish(wish_id="w1"), actor="coord")
    with pytest.raises(ProviderNotEligible):  # an organisation has no time account
        book.wishes.confirm(ConfirmWish(wish_id="w1", credit_minutes=30), actor="coord")
    done = book.wishes.confirm(ConfirmWish(wish_id="w1"), actor="coord")
    assert (done.adopter, done.credit_minutes, done.credit_id) == ("org:红十字会", 0, None)
    assert book.statements.programme_balance("issuance") == 0


def test_a_wish_moves_only_forward(bank: TimeBank) -> None:
    """Withdrawn wishes stay withdrawn; no step may be skipped or repeated."""
    book = desk(bank)
    book.wishes.post(PostWish(resident_id="zhang", title="理发", wish_id="w1"), actor="zhang")
    with pytest.raises(WishTransitionNotAllowed):
        book.wishes.fulfil(FulfilWish(wish_id="w1"), actor="coord")
    with pytest.raises(WishTransitionNotAllowed):
        book.wishes.confirm(ConfirmWish(wish_id="w1"), actor="zhang")
    book.wishes.adopt(AdoptWish(wish_id="w1", adopter="li"), actor="li")
    with pytest.raises(WishTransitionNotAllowed):
        book.wishes.adopt(AdoptWish(wish_id="w1", adopter="chen"), actor="coord")
    with pytest.raises(WishNotFound):  # adopted by li, it is no longer on chen's wish wall
        book.wishes.adopt(AdoptWish(wish_id="w1", adopter="chen"), actor="chen")
    assert (
        book.wishes.withdraw(WithdrawWish(wish_id="w1"), actor="zhang").status
        is WishStatus.WITHDRAWN
    )
    with pytest.raises(WishTransitionNotAllowed) as caught:
        book.wishes.adopt(AdoptWish(wish_id="w1", adopter="chen"), actor="coord")
    assert (caught.value.status, caught.value.action) == ("withdrawn", "adopted")
    assert book.wishes.get("w1").status is WishStatus.WITHDRAWN


# --- care files (一人一档) -------------------------------------------------------------


def test_visits_due_lists_residents_short_of_visits_this_month(
    bank: TimeBank, clock: ManualClock
) -> None:
    """Each open care file calls for visits a month; those short are listed, most missing first."""
    book = desk(bank)
    with pytest.raises(MemberNotFound):  # zhang is not li's to see
        book.care.open(OpenCareFile(member_id="zhang", visits_per_month=2), actor="li")
    with pytest.raises(ActorNotAuthorised):  # nor her own to open
        book.care.open(OpenCareFile(member_id="zhang", visits_per_month=2), actor="zhang")
    book.care.open(OpenCareFile(member_id="zhang", visits_per_month=2, needs="独居"), actor="coord")
    book.care.open(OpenCareFile(member_id="chen", visits_per_month=1), actor="coord")
    book.care.open(OpenCareFile(member_id="mei", visits_per_month=3), actor="coord")
    clock.advance(minutes(60))
    book.care.record_visit(
        RecordVisit(member_id="zhang", visitor_id="li", visited_at=clock.now() - minutes(30)),
        actor="li",
    )
    due = book.care.due()
    assert [(d.member_id, d.visits_this_month, d.missing) for d in due] == [
        ("mei", 0, 3),
        ("chen", 0, 1),
        ("zhang", 1, 1),
    ]
    book.care.record_visit(
        RecordVisit(member_id="zhang", visitor_id="chen", visited_at=clock.now()), actor="coord"
    )
    book.care.close(CloseCareFile(member_id="mei"), actor="coord")
    assert [d.member_id for d in book.care.due()] == ["chen"]
    assert [d.member_id for d in book.care.due(on=date(2026, 12, 1))] == ["zhang", "chen"]
    assert [v.visitor_id for v in book.care.visits("zhang")] == ["li", "chen"]

    with pytest.raises(CareFileNotFound):
        book.care.record_visit(
            RecordVisit(member_id="mei", visitor_id="li", visited_at=clock.now()), actor="li"
        )
    with pytest.raises(CareFileNotFound):
        book.care.record_visit(
            RecordVisit(member_id="li", visitor_id="chen", visited_at=clock.now()), actor="chen"
        )
    with pytest.raises(EffectiveTimeAfterRecording):
        book.care.record_visit(
            RecordVisit(member_id="zhang", visitor_id="li", visited_at=clock.now() + minutes(60)),
            actor="li",
        )
    assert book.care.get("mei").closed_at is not None


# --- matching ------------------------------------------------------------------------------


def test_suggestions_rank_the_same_grid_first_and_explain_each_point(bank: TimeBank) -> None:
    """The same grid outranks another; the recipient, other categories and the away are out."""
    book = desk(bank)
    offer(book, "li")
    offer(book, "chen")
    offer(book, "zhang")
    person(book, "wu", date(1962, 1, 1), grid="g1")
    offer(book, "wu", categories=["meals"])
    person(book, "zhao", date(1961, 1, 1), grid="g1")
    offer(book, "zhao", windows=[WEDNESDAY_MORNING])
    ordered(book, scheduled_at=NEXT_MONDAY_10AM)

    ranked = book.matching.suggest("o1")
    assert [r.member_id for r in ranked] == ["li", "chen"]
    li, chen = ranked
    assert li.score - chen.score >= 1000
    for r in ranked:
        names = [p.name for p in r.parts]
        assert names == ["area", "distance", "availability", "capacity", "fairness", "reliability"]
        assert sum(p.points for p in r.parts) == r.score
        assert all(p.detail for p in r.parts)
    assert (li.parts[0].points, chen.parts[0].points) == (2000, 1000)
    assert "same grid 'g1'" in li.parts[0].detail

    book.supply.update_offer(
        UpdateOffer(offer_id="li-offer", unavailable_on=[date(2026, 11, 9)]), actor="li"
    )
    assert [r.member_id for r in book.matching.suggest("o1")] == ["chen"]


WEDNESDAY_10AM = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
"""10:00 on Wednesday 11 November in Shanghai (the week after the clock's)."""
WEDNESDAY_2PM = datetime(2026, 11, 11, 6, 0, tzinfo=UTC)


def _book_for(book: BankBook, volunteer: str, order_id: str) -> None:
    """The volunteer accepts an hour on Wednesday afternoon: booked that week."""
    ordered(book, order_id, scheduled_at=WEDNESDAY_2PM)
    book.orders.publish(PublishOrder(order_id=order_id), actor="coord")
    book.orders.accept(AcceptOrder(order_id=order_id, volunteer_id=volunteer), actor=SYSTEM)


def test_suggestions_leave_out_whom_dispatch_would_refuse(bank: TimeBank) -> None:
    """Unvetted, away that day, an offer over before it, a week already full: dispatch refuses
    each, and no suggestion names them; the ones suggested are dispatched."""
    book = desk(bank, provider_vetting_required=True)
    for member_id in ("wu", "zhao", "sun", "qian"):
        person(book, member_id, date(1962, 1, 1), grid="g1")
    book.members.update(UpdateMember(member_id="wu", vetting=Vetting.PENDING), actor="coord")
    wednesday = [WEDNESDAY_MORNING]
    for member_id in ("li", "chen", "wu", "qian"):
        offer(book, member_id, windows=wednesday)
    offer(book, "zhao", windows=wednesday, unavailable_on=[date(2026, 11, 11)])
    offer(book, "sun", windows=wednesday, ends_on=date(2026, 11, 10))
    book.supply.update_offer(
        UpdateOffer(offer_id="qian-offer", capacity_minutes_per_week=90), actor="qian"
    )
    _book_for(book, "qian", "booked")
    ordered(book, "o1", scheduled_at=WEDNESDAY_10AM)

    assert [r.member_id for r in book.matching.suggest("o1", actor="coord")] == ["li", "chen"]
    refusals = {
        "wu": "vetting is pending",
        "zhao": "away on 2026-11-11",
        "sun": "no offer of theirs is active on 2026-11-11",
        "qian": "30 of their 90 weekly minutes are left in the week of 2026-11-09",
    }
    for member_id, reason in refusals.items():
        with pytest.raises(ProviderNotEligible) as refused:
            book.orders.dispatch(
                DispatchOrder(order_id="o1", volunteer_id=member_id), actor="coord"
            )
        assert reason in refused.value.reason
    assert book.matching.week(date(2026, 11, 11)).assignments == {"o1": "li"}
    for member_id in ("li", "chen"):
        book.orders.dispatch(DispatchOrder(order_id="o1", volunteer_id=member_id), actor="coord")
        book.orders.decline(DeclineOrder(order_id="o1", reason="换人"), actor="coord")


OFFER_STATES = ("none", "open", "ends_tuesday", "away_wednesday", "withdrawn")


@st.composite
def _volunteers(draw: st.DrawFn) -> list[tuple[str, str, Vetting, str, int, bool]]:
    """Up to six volunteers: (id, community, vetting, offer state, capacity, booked)."""
    count = draw(st.integers(1, 6))
    return [
        (
            f"v{number}",
            draw(st.sampled_from(["gulou", "gulou", "xinjiekou"])),
            draw(st.sampled_from([Vetting.PENDING, Vetting.COMMUNITY, Vetting.STREET])),
            draw(st.sampled_from(OFFER_STATES)),
            draw(st.sampled_from([30, 60, 90, 120])),
            draw(st.booleans()),
        )
        for number in range(count)
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(volunteers=_volunteers())
def test_every_suggested_volunteer_can_be_dispatched(
    volunteers: list[tuple[str, str, Vetting, str, int, bool]],
) -> None:
    """Suggested are exactly the volunteers on the supply ledger that dispatch accepts."""
    book = desk(
        TimeBank(clock=ManualClock(START, tick=timedelta(seconds=1))),
        provider_vetting_required=True,
    )
    for member_id, community, _, state, capacity, booked in volunteers:
        person(book, member_id, date(1962, 1, 1), grid="g1", community=community)
        if state != "none":
            offer(
                book,
                member_id,
                actor=SYSTEM,
                windows=[WEDNESDAY_MORNING],
                capacity_minutes_per_week=capacity,
                ends_on=date(2026, 11, 10) if state == "ends_tuesday" else None,
                unavailable_on=[date(2026, 11, 11)] if state == "away_wednesday" else [],
            )
            if state == "withdrawn":
                book.supply.withdraw_offer(
                    WithdrawOffer(offer_id=f"{member_id}-offer"), actor=SYSTEM
                )
        if booked:
            _book_for(book, member_id, f"booked-{member_id}")
    for member_id, _, vetting, *_ in volunteers:
        book.members.update(UpdateMember(member_id=member_id, vetting=vetting), actor=SYSTEM)
    ordered(book, "o1", scheduled_at=WEDNESDAY_10AM)

    suggested = [r.member_id for r in book.matching.suggest("o1", limit=20, actor="coord")]
    dispatched = []
    for member_id, *_ in volunteers:
        try:
            book.orders.dispatch(
                DispatchOrder(order_id="o1", volunteer_id=member_id), actor="coord"
            )
        except (ProviderNotEligible, ActorNotAuthorised, MemberNotFound):
            continue
        dispatched.append(member_id)
        book.orders.decline(DeclineOrder(order_id="o1", reason="换人"), actor="coord")
    on_the_ledger = {member_id for member_id, _, _, state, *_ in volunteers if state != "none"}
    assert set(suggested) == set(dispatched) & on_the_ledger
    week = book.matching.week(date(2026, 11, 11), actor="coord")
    assert set(week.assignments.values()) <= set(suggested)


def test_the_weekly_match_stays_within_each_volunteers_minutes(bank: TimeBank) -> None:
    """Three hour-long orders, two volunteers with an hour each: two matched, one left over."""
    book = desk(bank)
    offer(book, "li", capacity_minutes_per_week=60)
    offer(book, "chen", capacity_minutes_per_week=60)
    for order_id in ("a", "b", "c"):
        ordered(book, order_id)
    week = book.matching.week(MONDAY)
    assert sorted(week.assignments.values()) == ["chen", "li"]
    assert len(week.unmatched) == 1
    assert sorted([*week.assignments, *week.unmatched]) == ["a", "b", "c"]
    with pytest.raises(ReportPeriodInvalid):
        book.matching.week("2026-11-02")  # type: ignore[arg-type]


def test_the_weekly_match_never_gives_a_recipient_their_own_order(bank: TimeBank) -> None:
    """zhang volunteers too, but is never matched to the order she is to receive."""
    book = desk(bank)
    offer(book, "zhang", capacity_minutes_per_week=600)
    ordered(book, "mine")
    ordered(book, "theirs", recipient_id="chen")
    week = book.matching.week(MONDAY)
    assert week.assignments == {"theirs": "zhang"}
    assert week.unmatched == ("mine",)


# --- reports --------------------------------------------------------------------------------


def _november(book: BankBook, clock: ManualClock) -> None:
    """Four orders: two served (one late, rated 3), one cancelled, one waiting."""
    ordered(book, "o1")
    clock.advance(minutes(30))
    book.orders.dispatch(DispatchOrder(order_id="o1", volunteer_id="li"), actor="coord")
    book.orders.accept(AcceptOrder(order_id="o1", volunteer_id="li"), actor="li")
    book.orders.start(StartOrder(order_id="o1"), actor="li")
    clock.advance(minutes(30))
    book.orders.complete(CompleteOrder(order_id="o1", actual_minutes=60), actor="li")
    book.orders.confirm(ConfirmOrder(order_id="o1"), actor="zhang")
    book.orders.rate(RateOrder(order_id="o1", rating=5), actor="zhang")

    ordered(book, "o2")
    clock.advance(minutes(10))
    book.orders.publish(PublishOrder(order_id="o2"), actor="coord")
    book.orders.accept(AcceptOrder(order_id="o2", volunteer_id="chen"), actor="chen")
    book.orders.start(StartOrder(order_id="o2"), actor="chen")
    clock.advance(minutes(60))
    book.orders.complete(CompleteOrder(order_id="o2", actual_minutes=45), actor="chen")
    book.orders.confirm(ConfirmOrder(order_id="o2"), actor="zhang")
    book.orders.rate(RateOrder(order_id="o2", rating=3), actor="zhang")

    ordered(book, "o3", recipient_id="chen", category="meals")
    book.orders.cancel(CancelOrder(order_id="o3", reason="家人来了"), actor="chen")
    ordered(book, "o4", category="errands")


def test_the_order_report_counts_rates_and_times(bank: TimeBank, clock: ManualClock) -> None:
    """Processing, on-time and satisfaction rates, mean times: by month, category and grid."""
    deadlines = OrderDeadlines(accept_within_minutes=24 * 60, complete_within_minutes=45)
    book = desk(bank, deadlines=deadlines)
    _november(book, clock)
    report = book.reports.orders("2026-11")
    total = report.total
    assert (total.requested, total.cancelled, total.processed) == (4, 1, 2)
    assert total.processing_rate.percent == Decimal("66.67")
    assert (total.on_time_rate.numerator, total.on_time_rate.denominator) == (1, 2)
    assert total.satisfaction_rate.percent == Decimal("50.00")
    assert total.mean_rating == Decimal("4.00")
    assert (total.average_response_minutes, total.average_completion_minutes) == (20, 65)
    assert total.credited_minutes == 105

    by_category = {s.category: s for s in report.by_category}
    assert by_category["companionship"].processing_rate.percent == Decimal("100.00")
    assert by_category["errands"].processing_rate.percent == Decimal("0.00")
    assert by_category["meals"].processing_rate.percent is None
    assert [(s.grid, s.requested, s.processed) for s in report.by_grid] == [
        ("g1", 3, 2),
        ("g2", 1, 0),
    ]
    assert len(report.lines) == 3

    clock.advance(timedelta(days=30))
    ordered(book, "o5")
    both = book.reports.orders("2026-11", "2026-12")
    assert [(s.month, s.requested) for s in both.by_month] == [("2026-11", 4), ("2026-12", 1)]
    assert book.reports.orders("2026-11").total == total


def test_the_order_report_says_what_processed_means(bank: TimeBank, clock: ManualClock) -> None:
    """处理率 counts completed orders, rejected ones too; a cancelled order is left out and an
    expired one counts against it, and the report says so in words."""
    book = desk(bank)
    completed(book, "done")
    book.orders.confirm(ConfirmOrder(order_id="done"), actor="zhang")
    completed(book, "rejected")
    book.orders.reject(RejectOrder(order_id="rejected", reason="没有来"), actor="zhang")
    ordered(book, "cancelled")
    book.orders.cancel(CancelOrder(order_id="cancelled", reason="住院了"), actor="zhang")
    ordered(book, "expired")
    clock.advance(timedelta(days=15))
    assert book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM).expired == ("expired",)
    report = book.reports.orders("2026-11")
    total = report.total
    assert (total.requested, total.cancelled, total.processed) == (4, 1, 2)
    assert (total.processing_rate.numerator, total.processing_rate.denominator) == (2, 3)
    assert report.definitions["processed"] == PROCESSED_MEANS
    assert "rejected" in PROCESSED_MEANS
    assert "checked out" in PROCESSED_MEANS
    assert "expired" in report.definitions["processing_rate"]
    assert set(report.definitions) == {
        "processed",
        "processing_rate",
        "on_time_rate",
        "satisfaction_rate",
    }


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2026-13", None),
        ("2026-1", None),
        ("26-11", None),
        ("2026-11", "2026-10"),
        ("2016-01", "2026-12"),
    ],
)
def test_a_report_period_must_be_whole_months_in_order(
    bank: TimeBank, first: str, last: str | None
) -> None:
    """Months are YYYY-MM, the last not before the first, at most 120 of them."""
    book = desk(bank)
    with pytest.raises(ReportPeriodInvalid):
        book.reports.orders(first, last)


def test_the_volunteer_board_ranks_the_months_minutes(bank: TimeBank, clock: ManualClock) -> None:
    """好人榜: most minutes credited first, with the mean rating of the orders behind them."""
    book = desk(bank)
    _november(book, clock)
    board = book.reports.volunteer_board("2026-11")
    assert [(v.place, v.member_id, v.services, v.orders, v.credited_minutes) for v in board] == [
        (1, "li", 1, 1, 60),
        (2, "chen", 1, 1, 45),
    ]
    assert [v.mean_rating for v in board] == [Decimal("5.00"), Decimal("3.00")]
    assert [v.member_id for v in book.reports.volunteer_board("2026-11", limit=1)] == ["li"]
    assert book.reports.volunteer_board("2026-12") == []
    with pytest.raises(ReportPeriodInvalid):
        book.reports.volunteer_board("November")


def _paper(book: BankBook, provider: str, minutes: int, served_at: datetime, actor: str) -> str:
    credit = book.credits.record(
        CreditService(
            provider_id=provider,
            recipient_id="zhang",
            category="companionship",
            raw_minutes=minutes,
            served_at=served_at,
            provenance=Provenance.PAPER_RECORD,
        ),
        actor=actor,
    )
    return credit.credit_id


def test_the_volunteer_board_counts_every_credit_of_the_month_and_nothing_undone(
    bank: TimeBank, clock: ManualClock
) -> None:
    """Orders, paper records, events and wishes all count, by the local month they were served
    in; a rejected order, a reversed credit and one still waiting for confirmation do not."""
    book = desk(bank)
    # li: a confirmed order rated 4 (60) and a confirmed micro-wish (30); a rejected order.
    completed(book, "o1")
    book.orders.confirm(ConfirmOrder(order_id="o1"), actor="zhang")
    book.orders.rate(RateOrder(order_id="o1", rating=4), actor="zhang")
    completed(book, "o2")
    book.orders.reject(RejectOrder(order_id="o2", reason="没有来"), actor="zhang")
    book.wishes.post(
        PostWish(resident_id="zhang", title="想要一副老花镜", wish_id="w1"), actor="coord"
    )
    book.wishes.adopt(AdoptWish(wish_id="w1", adopter="li"), actor="li")
    book.wishes.fulfil(FulfilWish(wish_id="w1"), actor="li")
    book.wishes.confirm(ConfirmWish(wish_id="w1", credit_minutes=30), actor="coord")
    # chen: a paper record of 1 November 01:00 in Beijing (31 October in UTC): November's.
    first_of_november = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    _paper(book, "chen", 90, first_of_november, actor="coord")
    # ... one of 31 October 23:30 in Beijing: October's; and one reversed.
    _paper(book, "chen", 40, datetime(2026, 10, 31, 15, 30, tzinfo=UTC), actor="coord")
    wrong = _paper(book, "chen", 500, first_of_november, actor="coord")
    book.credits.reverse(ReverseCredit(credit_id=wrong, reason="录错了"), actor="coord")
    # zhang: an event attended (45); mei is no volunteer.
    event = book.events.create(
        CreateEvent(title="重阳节敬老", category="companionship", held_at=clock.now()),
        actor="coord",
    )
    book.events.credit(CreditEvent(event_id=event.event_id, attendees={"zhang": 45}), actor="coord")
    # li records a visit of her own: it waits for zhang's side, so it does not count yet.
    held = _paper(book, "li", 120, clock.now(), actor="li")
    assert book.credits.get(held).status is CreditStatus.PENDING

    board = book.reports.volunteer_board("2026-11")
    assert [
        (v.place, v.member_id, v.services, v.orders, v.credited_minutes, v.mean_rating)
        for v in board
    ] == [
        (1, "li", 2, 1, 90, Decimal("4.00")),
        (2, "chen", 1, 0, 90, None),
        (3, "zhang", 1, 0, 45, None),
    ]
    october = book.reports.volunteer_board("2026-10")
    assert [(v.member_id, v.services, v.credited_minutes) for v in october] == [("chen", 1, 40)]
    with pytest.raises(ActorNotAuthorised):
        book.reports.volunteer_board("2026-11", actor="li")

    book.credits.confirm(ConfirmCredit(credit_id=held), actor="zhang")
    li = book.reports.volunteer_board("2026-11")[0]
    assert (li.member_id, li.services, li.credited_minutes) == ("li", 3, 210)


def test_wish_adoption_counts_wishes_not_withdrawn(bank: TimeBank) -> None:
    """Adoption rate: adopted (and beyond) of posted, withdrawn ones left out, per community."""
    book = desk(bank)
    person(book, "wu", date(1945, 1, 1), community="xinjiekou")
    for wish_id in ("w1", "w2", "w3", "w4"):
        book.wishes.post(
            PostWish(resident_id="zhang", title="心愿", wish_id=wish_id), actor="coord"
        )
    book.wishes.post(PostWish(resident_id="wu", title="心愿", wish_id="w5"), actor=SYSTEM)
    book.wishes.adopt(AdoptWish(wish_id="w1", adopter="li"), actor="li")
    book.wishes.fulfil(FulfilWish(wish_id="w1"), actor="li")
    book.wishes.confirm(ConfirmWish(wish_id="w1"), actor="zhang")
    book.wishes.adopt(AdoptWish(wish_id="w2", adopter="chen"), actor="chen")
    book.wishes.withdraw(WithdrawWish(wish_id="w3"), actor="zhang")
    gulou = book.reports.wish_adoption(community="gulou")
    assert (gulou.posted, gulou.adopted, gulou.fulfilled, gulou.confirmed) == (3, 2, 1, 1)
    assert gulou.adoption_rate.percent == Decimal("66.67")
    everywhere = book.reports.wish_adoption()
    assert (everywhere.community, everywhere.posted, everywhere.adopted) == ("", 4, 2)
    assert book.reports.wish_adoption(community="xinjiekou").adoption_rate.percent == Decimal(
        "0.00"
    )
    assert [w.wish_id for w in book.wishes.list(community="xinjiekou")] == ["w5"]


def test_the_supply_demand_gap_by_category_and_grid(bank: TimeBank) -> None:
    """A week's offered against needed minutes; a positive gap is where volunteers are short.

    Li offers companionship and meals, 300 minutes a week in g1: they are shared in proportion
    to g1's demand that week (120 and 400), 69 and 231, never 300 twice.
    """
    book = desk(bank)
    offer(book, "li", categories=["companionship", "meals"])
    offer(book, "chen", capacity_minutes_per_week=120)
    book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="companionship",
            estimated_minutes=60,
            windows=[MONDAY_MORNING, WEDNESDAY_MORNING],
        ),
        actor="coord",
    )
    book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="meals",
            estimated_minutes=400,
            once_at=datetime(2026, 11, 4, 3, 0, tzinfo=UTC),
        ),
        actor="coord",
    )
    book.supply.add_need(
        AddNeed(
            recipient_id="zhang", category="errands", estimated_minutes=30, once_at=NEXT_MONDAY_10AM
        ),
        actor="coord",
    )
    closed = book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="companionship",
            estimated_minutes=600,
            windows=[MONDAY_MORNING],
        ),
        actor="coord",
    )
    book.supply.close_need(CloseNeed(need_id=closed.need_id), actor="coord")
    gap = book.reports.supply_demand_gap(date(2026, 11, 5))
    assert [
        (g.category, g.grid, g.supply_minutes, g.demand_minutes, g.gap_minutes) for g in gap
    ] == [
        ("companionship", "g1", 69, 120, 51),
        ("companionship", "g2", 120, 0, -120),
        ("meals", "g1", 231, 400, 169),
    ]
    assert sum(g.supply_minutes for g in gap) == 300 + 120  # each offer counted once
    next_week = book.reports.supply_demand_gap(date(2026, 11, 9))
    assert [
        (g.category, g.grid, g.supply_minutes, g.demand_minutes, g.gap_minutes) for g in next_week
    ] == [
        ("companionship", "g1", 300, 120, -180),  # no meals wanted: all of li's week
        ("companionship", "g2", 120, 0, -120),
        ("errands", "g1", 0, 30, 30),
        ("meals", "g1", 0, 0, 0),
    ]
    with pytest.raises(ReportPeriodInvalid):
        book.reports.supply_demand_gap(datetime(2026, 11, 9, tzinfo=UTC))  # type: ignore[arg-type]


def test_the_gap_shares_equally_without_demand_and_weeks_are_local(bank: TimeBank) -> None:
    """With no demand in its categories an offer is shared equally (the odd minute to the first
    category); a need at 23:30 on Sunday in Beijing is that week's, one at 00:30 the next's."""
    book = desk(bank)
    offer(
        book, "li", categories=["meals", "companionship", "errands"], capacity_minutes_per_week=100
    )
    sunday_late = datetime(2026, 11, 8, 15, 30, tzinfo=UTC)  # Sunday 23:30 in Beijing
    monday_early = datetime(2026, 11, 8, 16, 30, tzinfo=UTC)  # Monday 00:30; Sunday in UTC
    for at, minutes in ((sunday_late, 45), (monday_early, 50)):
        book.supply.add_need(
            AddNeed(recipient_id="chen", category="errands", estimated_minutes=minutes, once_at=at),
            actor="coord",
        )
    li = {("companionship", "g1"): (34, 0), ("errands", "g1"): (33, 0), ("meals", "g1"): (33, 0)}
    for week, wanted in ((date(2026, 11, 2), 45), (date(2026, 11, 9), 50)):
        lines = {
            (g.category, g.grid): (g.supply_minutes, g.demand_minutes)
            for g in book.reports.supply_demand_gap(week)
        }
        assert lines == {**li, ("errands", "g2"): (0, wanted)}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    capacity=st.integers(0, 7 * 1440),
    demand=st.dictionaries(
        st.sampled_from(["companionship", "meals", "errands", "haircut", "tutoring", "repairs"]),
        st.integers(0, 100_000),
        min_size=1,
    ),
)
def test_an_offers_capacity_shares_sum_to_it_and_follow_demand(
    capacity: int, demand: dict[str, int]
) -> None:
    """Shares are whole minutes summing to the capacity exactly, each within a minute of its
    exact proportional share (of the demand, or equal when there is none)."""
    shares = share_capacity(capacity, demand)
    assert set(shares) == set(demand)
    assert sum(shares.values()) == capacity
    total = sum(demand.values())
    for category, share in shares.items():
        exact = (
            Fraction(capacity, len(demand))
            if total == 0
            else Fraction(capacity * demand[category], total)
        )
        assert floor(exact) <= share <= ceil(exact)
    assert share_capacity(capacity, demand) == shares  # the odd minutes go the same way


GAP_CATEGORIES = ("companionship", "meals", "errands")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offers=st.lists(
        st.tuples(
            st.sets(st.sampled_from(GAP_CATEGORIES), min_size=1),
            st.integers(1, 3_000),
        ),
        min_size=1,
        max_size=4,
    ),
    needs=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(GAP_CATEGORIES), st.integers(1, 600)),
        max_size=6,
    ),
)
def test_every_offers_capacity_is_counted_once_in_the_gap(
    offers: list[tuple[set[str], int]], needs: list[tuple[int, str, int]]
) -> None:
    """One offer per grid, needs anywhere: each grid's supply, over its categories, is exactly
    its offer's weekly capacity."""
    book = desk(TimeBank(clock=ManualClock(START, tick=timedelta(seconds=1))))
    for number, (categories, capacity) in enumerate(offers):
        offer(
            book,
            "li",
            offer_id=f"offer-{number}",
            categories=sorted(categories),
            capacity_minutes_per_week=capacity,
            grid=f"g{number}",
        )
    for number, (grid, category, minutes) in enumerate(needs):
        book.supply.add_need(
            AddNeed(
                recipient_id="zhang",
                category=category,
                estimated_minutes=minutes,
                once_at=datetime(2026, 11, 4, 3, 0, tzinfo=UTC),
                grid=f"g{grid}",
                need_id=f"need-{number}",
            ),
            actor="coord",
        )
    gap = book.reports.supply_demand_gap(MONDAY)
    for number, (categories, capacity) in enumerate(offers):
        lines = [g for g in gap if g.grid == f"g{number}"]
        assert sum(g.supply_minutes for g in lines) == capacity
        assert {g.category for g in lines if g.supply_minutes} <= categories
    assert sum(g.demand_minutes for g in gap) == sum(minutes for _, _, minutes in needs)


def test_the_liability_forecast_by_age_cohort(bank: TimeBank) -> None:
    """Banked minutes by saver age; claims from the claim age against the last year's service."""
    book = desk(bank)
    earn(book, "zhang", 120)
    earn(book, "li", 60)
    forecast = book.reports.liability_forecast(years=3)
    assert (forecast.as_of, forecast.claim_age, forecast.total_minutes) == (MONDAY, 75, 180)
    assert [(c.cohort, c.members, c.minutes) for c in forecast.cohorts] == [
        ("under 60", 2, 0),
        ("60-69", 2, 60),
        ("70-79", 0, 0),
        ("80+", 1, 120),
    ]
    years = [
        (y.year, y.claims_minutes, y.supply_minutes, y.cumulative_gap_minutes)
        for y in forecast.years
    ]
    assert years == [(2026, 120, 60, 60), (2027, 0, 60, 0), (2028, 60, 60, 0)]
    with pytest.raises(ReportPeriodInvalid):
        book.reports.liability_forecast(years=0)


def test_inactive_members_are_those_with_nothing_for_the_days_given(
    bank: TimeBank, clock: ManualClock
) -> None:
    """Members with no service, order or registration within the period, longest idle first."""
    book = desk(bank)
    earn(book, "li", 60)  # li serves chen
    clock.advance(timedelta(days=60))
    ordered(book, "o1", recipient_id="zhang")
    clock.advance(timedelta(days=40))
    idle = book.reports.inactive_members(days=90)
    assert [m.member_id for m in idle] == ["coord", "mei", "chen", "li"]
    assert all(m.days_inactive >= 100 for m in idle)
    assert [m.member_id for m in book.reports.inactive_members(days=30)][-1] == "zhang"
    with pytest.raises(ReportPeriodInvalid):
        book.reports.inactive_members(days=0)


# --- scenarios: figures communities have reported ----------------------------------------------

SCENARIO_ORDERS = 2_860
SCENARIO_UNSATISFIED = 7
FACADE_ORDERS_ON_SQL = 10


def _full_lifecycle(book: BankBook, order_id: str, rating: int) -> None:
    ordered(book, order_id)
    book.orders.dispatch(DispatchOrder(order_id=order_id, volunteer_id="li"), actor="coord")
    book.orders.accept(AcceptOrder(order_id=order_id, volunteer_id="li"), actor="li")
    book.orders.start(StartOrder(order_id=order_id), actor="li")
    book.orders.complete(CompleteOrder(order_id=order_id, actual_minutes=60), actor="li")
    book.orders.confirm(ConfirmOrder(order_id=order_id), actor="zhang")
    book.orders.rate(RateOrder(order_id=order_id, rating=rating), actor="zhang")
    book.orders.close(CloseOrder(order_id=order_id, follow_up="电话回访"), actor="coord")


def _ratings(count: int) -> Iterator[int]:
    """Every 409th order from the 4th is rated 3, 2 or 1 (seven of 2,860); the rest 5 or 4."""
    for number in range(count):
        yield (3, 2, 1)[number % 3] if number % 409 == 3 else (5, 4)[number % 2]


def test_scenario_2860_requests_all_processed_and_99_76_percent_satisfied(bank: TimeBank) -> None:
    """2,860 requests, all processed, 2,853 rated 4-5 and 7 lower: 100.00% and 99.76%.

    On memory all 2,860 orders run their whole lifecycle through the facade (about a
    second). On SQLite and PostgreSQL that would take minutes, so 10 orders (one of them
    rated low) run through the facade and the other 2,850 (six rated low) are written
    through the store port (``bank.store.transact(...)`` and ``unit.orders.put``) as
    ``order_row``s of copies of a real closed order, so the figures are the store's SQL
    tally over all 2,860.
    """
    book = desk(bank)
    on_memory = isinstance(bank.store, MemoryBankStore)
    through_facade = SCENARIO_ORDERS if on_memory else FACADE_ORDERS_ON_SQL
    ratings = list(_ratings(SCENARIO_ORDERS))
    assert sum(r < 4 for r in ratings) == SCENARIO_UNSATISFIED
    low_in_facade = sum(r < 4 for r in ratings[:through_facade])
    for number in range(through_facade):
        _full_lifecycle(book, f"o{number:05d}", ratings[number])
    partial = book.reports.orders("2026-11").total
    assert (partial.requested, partial.processed) == (through_facade, through_facade)
    assert partial.satisfaction_rate.numerator == through_facade - low_in_facade

    if not on_memory:
        template = book.orders.get("o00000")
        assert template.status is OrderStatus.CLOSED
        rows = []
        for number in range(through_facade, SCENARIO_ORDERS):
            made = msgspec.structs.replace(
                template, order_id=f"o{number:05d}", rating=ratings[number]
            )
            rows.append((order_row(made, bank.zone), msgspec.json.encode(made)))

        def write(unit: object) -> None:
            for row, body in rows:
                unit.orders.put(row, body)  # type: ignore[attr-defined]

        bank.store.transact(book.book_id, write)

    total = book.reports.orders("2026-11").total
    assert (total.requested, total.cancelled, total.processed) == (2_860, 0, 2_860)
    assert total.processing_rate.percent == Decimal("100.00")
    assert (total.satisfaction_rate.numerator, total.satisfaction_rate.denominator) == (
        2_853,
        2_860,
    )
    assert total.satisfaction_rate.percent == Decimal("99.76")
    # The board counts credits: on SQL the 2,850 rows written through the port credited nobody.
    assert book.reports.volunteer_board("2026-11")[0].orders == through_facade


def test_scenario_114_wishes_112_adopted(bank: TimeBank) -> None:
    """114 micro-wishes collected, 112 adopted: 98.25%, published rounded as 98%."""
    book = desk(bank)
    for number in range(114):
        wish_id = f"w{number:03d}"
        book.wishes.post(
            PostWish(resident_id="zhang", title="微心愿", wish_id=wish_id), actor="coord"
        )
        if number < 112:
            adopter = "li" if number % 2 else "org:爱心企业"
            book.wishes.adopt(AdoptWish(wish_id=wish_id, adopter=adopter), actor="coord")
    adoption = book.reports.wish_adoption()
    assert (adoption.posted, adoption.adopted) == (114, 112)
    percent = adoption.adoption_rate.percent
    assert percent == Decimal("98.25")
    assert percent is not None
    assert percent.quantize(Decimal(1), ROUND_HALF_UP) == 98
