"""A demo community for trying the API and the CLI: ``seed_demo(bank)`` fills a book ``demo``.

The book runs on Nanjing's published rules at 宁海路社区 (Ninghai Road community):
a coordinator, younger-old volunteers (低龄老人) who serve older seniors (高龄老人),
relatives (one of them the proxy of a senior who is not online), a sponsor,
the supply and demand ledgers, service orders in every state, a group event,
micro-wishes and a care file with a visit.

Seeding needs three weeks of history (an order expires 14 days after it was
requested), so it does not use the bank's clock: it opens a second
``TimeBank`` over the same store with a ``ManualClock`` that starts three weeks
before the bank's ``now`` and stops a day before it. Whatever the bank does
next (with the real clock) happens after everything seeded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from msgspec import Struct

from timebank.bank import SYSTEM, BankBook, TimeBank, sponsor_account
from timebank.bank.commands import (
    AcceptOrder,
    AddNeed,
    AddOffer,
    AddSponsor,
    AdoptWish,
    AuthoriseProxy,
    CancelOrder,
    CloseOrder,
    CompleteOrder,
    ConfirmCredit,
    ConfirmOrder,
    ConfirmWish,
    CreateEvent,
    CreditEvent,
    CreditService,
    DispatchOrder,
    FulfilWish,
    Give,
    Grant,
    OpenCareFile,
    PostWish,
    PublishOrder,
    RateOrder,
    RecordVisit,
    RegisterMember,
    RejectOrder,
    Relate,
    RequestOrder,
    RunDeadlines,
    StartOrder,
)
from timebank.community import (
    OrderStatus,
    Provenance,
    RelationKind,
    Role,
    Urgency,
    Vetting,
    Window,
)
from timebank.ledger import ManualClock

__all__ = ["DEMO_BOOK", "DemoPeople", "demo_people", "seed_demo"]

DEMO_BOOK = "demo"
COMMUNITY = "ninghai-road"
SEEDED_DAYS = 21
"""How far back the seeding clock starts; seeding advances it by less than this."""


class DemoPeople(Struct, frozen=True, kw_only=True):
    """Who is who in the demo book, for printing tokens and for tests."""

    book_id: str
    community: str
    coordinator_id: str
    senior_id: str
    """An older senior who is not online: her son acts for her."""
    proxy_id: str
    """The senior's son, her authorised proxy."""
    volunteer_id: str
    sponsor_id: str
    orders: dict[str, str]
    """Order id by the status the order was left in (``completed`` awaits confirmation)."""


def demo_people() -> DemoPeople:
    """The people and orders of the demo book (the same every time it is seeded)."""
    return DemoPeople(
        book_id=DEMO_BOOK,
        community=COMMUNITY,
        coordinator_id="wang-fang",
        senior_id="chen-xiulan",
        proxy_id="huang-lei",
        volunteer_id="li-na",
        sponsor_id="jinling-bank",
        orders={status.value: f"o-{status.value}" for status in OrderStatus},
    )


# member id, name, born, grid, roles, flags
_MEMBERS: tuple[tuple[str, str, date, str, frozenset[Role], frozenset[str]], ...] = (
    ("wang-fang", "王芳", date(1982, 4, 1), "g1", frozenset({Role.COORDINATOR}), frozenset()),
    ("li-na", "李娜", date(1960, 3, 2), "g1", frozenset({Role.VOLUNTEER}), frozenset()),
    ("liu-jun", "刘军", date(1958, 8, 9), "g1", frozenset({Role.VOLUNTEER}), frozenset()),
    ("zhang-wei", "张伟", date(1962, 5, 1), "g2", frozenset({Role.VOLUNTEER}), frozenset()),
    ("zhao-min", "赵敏", date(1964, 11, 20), "g2", frozenset({Role.VOLUNTEER}), frozenset()),
    (
        "chen-xiulan",
        "陈秀兰",
        date(1938, 6, 6),
        "g1",
        frozenset({Role.RECIPIENT}),
        frozenset({"living_alone"}),
    ),
    ("zhou-guiying", "周桂英", date(1940, 2, 14), "g1", frozenset({Role.RECIPIENT}), frozenset()),
    ("sun-jianguo", "孙建国", date(1942, 9, 30), "g2", frozenset({Role.RECIPIENT}), frozenset()),
    (
        "wu-shuzhen",
        "吴淑珍",
        date(1936, 1, 8),
        "g2",
        frozenset({Role.RECIPIENT}),
        frozenset({"living_alone", "disabled"}),
    ),
    ("huang-lei", "黄磊", date(1968, 7, 7), "g1", frozenset(), frozenset()),
)


def seed_demo(bank: TimeBank, *, book_id: str = DEMO_BOOK) -> DemoPeople:
    """Create and fill the demo book in ``bank``'s store; it must not exist yet."""
    now = bank.clock.now()
    clock = ManualClock(now - timedelta(days=SEEDED_DAYS), tick=timedelta(seconds=1))
    seeding = TimeBank(bank.store, clock=clock, timezone=bank.zone.key)
    book = seeding.create_book(book_id, "nanjing")
    people = demo_people()
    _community(book, people)
    _supply_and_demand(book, clock)
    _finished_orders(book, clock)
    clock.advance(timedelta(days=13))  # two weeks after the first request
    book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM)  # the order nobody took expires
    _open_orders(book, clock)
    _event_wishes_and_care(book, clock)
    assert clock.now() < now - timedelta(hours=12), "seeding ran past the bank's now"
    return people


def _community(book: BankBook, people: DemoPeople) -> None:
    for member_id, name, born, grid, roles, flags in _MEMBERS:
        book.members.register(
            RegisterMember(
                member_id=member_id,
                name=name,
                birth_date=born,
                community=COMMUNITY,
                grid=grid,
                roles=roles,
                vetting=Vetting.STREET if Role.VOLUNTEER in roles else Vetting.PENDING,
                flags=flags,
            ),
            actor=SYSTEM,
        )
    coordinator = people.coordinator_id
    book.members.relate(
        Relate(member_id="li-na", other_id="liu-jun", kind=RelationKind.SPOUSE), actor=coordinator
    )
    book.members.relate(
        Relate(member_id="li-na", other_id="wu-shuzhen", kind=RelationKind.PARENT),
        actor=coordinator,
    )
    book.members.relate(
        Relate(member_id="chen-xiulan", other_id="huang-lei", kind=RelationKind.CHILD),
        actor=coordinator,
    )
    book.members.authorise_proxy(
        AuthoriseProxy(member_id=people.senior_id, proxy_id=people.proxy_id, note="儿子 代为操作"),
        actor=coordinator,
    )
    book.programme.add_sponsor(
        AddSponsor(sponsor_id=people.sponsor_id, name="金陵银行"), actor=SYSTEM
    )
    book.gifts.grant(
        Grant(
            member_id="chen-xiulan",
            minutes=600,
            reason="独居老人 企业资助",
            source=sponsor_account(people.sponsor_id),
            request_id="grant-chen-xiulan",
        ),
        actor=coordinator,
    )


def _supply_and_demand(book: BankBook, clock: ManualClock) -> None:
    mornings = [Window(weekday=d, start_minute=8 * 60, end_minute=12 * 60) for d in range(5)]
    afternoons = [Window(weekday=d, start_minute=14 * 60, end_minute=17 * 60) for d in range(6)]
    for volunteer_id, categories, windows, capacity in (
        ("li-na", ["companionship", "meals"], mornings, 300),
        ("liu-jun", ["repairs", "errands"], afternoons, 240),
        ("zhang-wei", ["companionship", "health", "errands"], afternoons, 360),
        ("zhao-min", ["cleaning", "meals", "daily_care"], mornings, 300),
    ):
        book.supply.add_offer(
            AddOffer(
                volunteer_id=volunteer_id,
                categories=categories,
                windows=windows,
                capacity_minutes_per_week=capacity,
                offer_id=f"offer-{volunteer_id}",
            ),
            actor=volunteer_id,
        )
    book.supply.add_need(
        AddNeed(
            recipient_id="chen-xiulan",
            category="meals",
            estimated_minutes=60,
            windows=[Window(weekday=d, start_minute=10 * 60, end_minute=12 * 60) for d in range(5)],
            urgency=Urgency.HIGH,
            note="午餐送餐",
            need_id="need-chen-meals",
        ),
        actor="huang-lei",
    )
    book.supply.add_need(
        AddNeed(
            recipient_id="sun-jianguo",
            category="repairs",
            estimated_minutes=90,
            once_at=clock.now() + timedelta(days=2),
            note="厨房水管漏水",
            need_id="need-sun-repairs",
        ),
        actor="wang-fang",
    )


def _finished_orders(book: BankBook, clock: ManualClock) -> None:
    """Orders that end their run: expired (later), closed, rated, confirmed, rejected, cancelled."""
    coordinator = "wang-fang"
    book.orders.request(
        RequestOrder(
            recipient_id="zhou-guiying",
            category="companionship",
            estimated_minutes=60,
            order_id="o-expired",
        ),
        actor=coordinator,
    )
    clock.advance(timedelta(hours=2))
    for order_id, recipient, volunteer, category, minutes in (
        ("o-closed", "chen-xiulan", "li-na", "meals", 45),
        ("o-rated", "wu-shuzhen", "zhao-min", "cleaning", 90),
        ("o-confirmed", "sun-jianguo", "liu-jun", "repairs", 75),
        ("o-rejected", "zhou-guiying", "zhang-wei", "errands", 40),
    ):
        book.orders.request(
            RequestOrder(
                recipient_id=recipient,
                category=category,
                estimated_minutes=minutes + 15,
                order_id=order_id,
            ),
            actor=coordinator,
        )
        book.orders.dispatch(
            DispatchOrder(order_id=order_id, volunteer_id=volunteer), actor=coordinator
        )
        book.orders.accept(AcceptOrder(order_id=order_id, volunteer_id=volunteer), actor=volunteer)
        clock.advance(timedelta(hours=20))
        book.orders.start(StartOrder(order_id=order_id), actor=volunteer)
        clock.advance(timedelta(minutes=minutes))
        book.orders.complete(
            CompleteOrder(order_id=order_id, actual_minutes=minutes), actor=volunteer
        )
        clock.advance(timedelta(hours=3))
        if order_id == "o-rejected":
            book.orders.reject(
                RejectOrder(order_id=order_id, reason="没有买到要的药"), actor=coordinator
            )
            continue
        book.orders.confirm(ConfirmOrder(order_id=order_id), actor=coordinator)
    book.orders.rate(
        RateOrder(order_id="o-closed", rating=5, comment="饭菜送到 很热情"), actor="huang-lei"
    )
    book.orders.rate(
        RateOrder(order_id="o-rated", rating=4, comment="打扫得很干净"), actor=coordinator
    )
    book.orders.close(
        CloseOrder(order_id="o-closed", follow_up="电话回访 老人满意"), actor=coordinator
    )
    book.orders.request(
        RequestOrder(
            recipient_id="sun-jianguo", need_id="need-sun-repairs", order_id="o-cancelled"
        ),
        actor=coordinator,
    )
    book.orders.dispatch(
        DispatchOrder(order_id="o-cancelled", volunteer_id="liu-jun"), actor=coordinator
    )
    book.orders.cancel(
        CancelOrder(order_id="o-cancelled", reason="家人已经修好"), actor=coordinator
    )


def _open_orders(book: BankBook, clock: ManualClock) -> None:
    """Orders still under way: requested, dispatched, published, accepted, started, completed."""
    coordinator = "wang-fang"
    for order_id, recipient, category, payer in (
        ("o-requested", "zhou-guiying", "health", None),
        ("o-dispatched", "wu-shuzhen", "meals", None),
        ("o-published", "sun-jianguo", "errands", None),
        ("o-accepted", "zhou-guiying", "companionship", None),
        ("o-started", "wu-shuzhen", "daily_care", None),
        ("o-completed", "chen-xiulan", "meals", "recipient"),
    ):
        book.orders.request(
            RequestOrder(
                recipient_id=recipient,
                category=category,
                estimated_minutes=60,
                payer=payer,
                order_id=order_id,
            ),
            actor="huang-lei" if recipient == "chen-xiulan" else coordinator,
        )
    book.orders.dispatch(
        DispatchOrder(order_id="o-dispatched", volunteer_id="zhao-min"), actor=coordinator
    )
    book.orders.publish(PublishOrder(order_id="o-published"), actor=coordinator)
    for order_id, volunteer in (
        ("o-accepted", "zhang-wei"),
        ("o-started", "zhao-min"),
        ("o-completed", "li-na"),
    ):
        book.orders.dispatch(
            DispatchOrder(order_id=order_id, volunteer_id=volunteer), actor=coordinator
        )
        book.orders.accept(AcceptOrder(order_id=order_id, volunteer_id=volunteer), actor=volunteer)
    clock.advance(timedelta(hours=2))
    book.orders.start(StartOrder(order_id="o-started"), actor="zhao-min")
    book.orders.start(StartOrder(order_id="o-completed"), actor="li-na")
    clock.advance(timedelta(minutes=50))
    book.orders.complete(CompleteOrder(order_id="o-completed", actual_minutes=50), actor="li-na")


def _event_wishes_and_care(book: BankBook, clock: ManualClock) -> None:
    coordinator = "wang-fang"
    clock.advance(timedelta(days=1))
    held_at: datetime = clock.now() - timedelta(hours=3)
    event = book.events.create(
        CreateEvent(
            title="重阳节敬老活动",
            category="community",
            held_at=held_at,
            place="宁海路社区活动中心",
            event_id="event-chongyang",
        ),
        actor=coordinator,
    )
    book.events.credit(
        CreditEvent(
            event_id=event.event_id,
            attendees={"li-na": 120, "liu-jun": 120, "zhang-wei": 90, "zhao-min": 120},
            request_id="event-chongyang-credit",
        ),
        actor=coordinator,
    )
    visit = book.credits.record(
        CreditService(
            provider_id="zhang-wei",
            recipient_id="sun-jianguo",
            category="health",
            raw_minutes=60,
            served_at=clock.now() - timedelta(days=2),
            provenance=Provenance.PAPER_RECORD,
            note="纸质服务记录 量血压",
            request_id="paper-zhang-wei-1",
        ),
        actor=coordinator,
    )
    book.credits.confirm(ConfirmCredit(credit_id=visit.credit_id), actor=coordinator)
    book.gifts.give(
        Give(
            giver_id="li-na", receiver_id="wu-shuzhen", minutes=30, request_id="gift-li-na-mother"
        ),
        actor="li-na",
    )
    book.wishes.post(
        PostWish(resident_id="wu-shuzhen", title="想要一副老花镜", wish_id="wish-glasses"),
        actor=coordinator,
    )
    book.wishes.adopt(AdoptWish(wish_id="wish-glasses", adopter="zhao-min"), actor="zhao-min")
    book.wishes.fulfil(FulfilWish(wish_id="wish-glasses"), actor="zhao-min")
    book.wishes.confirm(ConfirmWish(wish_id="wish-glasses", credit_minutes=30), actor=coordinator)
    book.wishes.post(
        PostWish(resident_id="zhou-guiying", title="修好收音机", wish_id="wish-radio"),
        actor=coordinator,
    )
    book.wishes.adopt(AdoptWish(wish_id="wish-radio", adopter="org:鼓楼供电所"), actor=coordinator)
    book.wishes.post(
        PostWish(resident_id="sun-jianguo", title="陪我去公园下棋", wish_id="wish-chess"),
        actor=coordinator,
    )
    book.care.open(
        OpenCareFile(
            member_id="wu-shuzhen", visits_per_month=2, needs="独居 行动不便", contacts="女儿李娜"
        ),
        actor=coordinator,
    )
    book.care.record_visit(
        RecordVisit(
            member_id="wu-shuzhen",
            visitor_id="li-na",
            visited_at=clock.now() - timedelta(hours=1),
            note="上门探访 身体平稳",
            visit_id="visit-wu-1",
        ),
        actor="li-na",
    )
