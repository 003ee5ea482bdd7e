"""A retry under a caller's id must be the same request: every field of every such use case.

Each use case that creates something under a caller-chosen id (``request_id``,
``offer_id``, ``order_id``...) is called once, then again under the same id:
with the same request it returns what the first call made and changes nothing;
with any one field different (drawn by Hypothesis from values the facade would
accept there) it raises ``IdempotencyConflict`` naming that field, and changes
nothing. A guard fails if a facade method takes such an id and has no entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec.inspect
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bank.helpers import book_state
from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import (
    AddMerchant,
    AddNeed,
    AddOffer,
    AddSponsor,
    BookRedemption,
    CreateEvent,
    CreditEvent,
    CreditService,
    Donate,
    Give,
    Grant,
    OpenCareFile,
    PostWish,
    RecordVisit,
    RegisterMember,
    Relate,
    RequestOrder,
)
from timebank.bank.handlers import HANDLERS
from timebank.community import (
    PolicyRules,
    Provenance,
    RelationKind,
    Role,
    Urgency,
    Vetting,
    Window,
)
from timebank.ledger import IdempotencyConflict, ManualClock

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
EARLIER = START - timedelta(days=1)
MONDAY_MORNING = Window(weekday=0, start_minute=9 * 60, end_minute=12 * 60)
FRIDAY_EVENING = Window(weekday=4, start_minute=18 * 60, end_minute=20 * 60)
RULES = PolicyRules(
    name="retries",
    categories=("companionship", "meals", "errands"),
    payer_default="issuance",
    provider_age_min=16,
    gift_relations=frozenset({"child", "parent"}),
)


def world() -> BankBook:
    """A coordinator, volunteers li and chen, recipients zhang (with a daughter, mei) and wu."""
    bank = TimeBank(clock=ManualClock(START, tick=timedelta(seconds=1)))
    book = bank.create_book("gulou", RULES)
    book.programme.add_sponsor(AddSponsor(sponsor_id="acme", name="Acme"), actor=SYSTEM)
    book.programme.add_merchant(AddMerchant(merchant_id="suguo", name="苏果"), actor=SYSTEM)
    people = (
        ("coord", date(1978, 1, 1), {Role.COORDINATOR}),
        ("li", date(1963, 5, 1), {Role.VOLUNTEER, Role.RECIPIENT}),
        ("chen", date(1960, 1, 10), {Role.VOLUNTEER, Role.RECIPIENT}),
        ("zhang", date(1940, 3, 3), {Role.VOLUNTEER, Role.RECIPIENT}),
        ("wu", date(1942, 3, 3), {Role.VOLUNTEER, Role.RECIPIENT}),
        ("mei", date(1968, 6, 1), {Role.VOLUNTEER, Role.RECIPIENT}),
    )
    for member_id, born, roles in people:
        book.members.register(
            RegisterMember(
                member_id=member_id,
                name="李娜",
                birth_date=born,
                community="gulou",
                grid="g1",
                roles=roles,
                vetting=Vetting.STREET,
            ),
            actor=SYSTEM,
        )
    book.members.relate(
        Relate(member_id="zhang", other_id="mei", kind=RelationKind.CHILD), actor=SYSTEM
    )
    book.members.relate(
        Relate(member_id="zhang", other_id="li", kind=RelationKind.CHILD), actor=SYSTEM
    )
    for member_id in ("zhang", "mei", "li"):
        book.gifts.grant(
            Grant(member_id=member_id, minutes=600, reason="welcome", source="issuance"),
            actor=SYSTEM,
        )
        book.credits.record(
            CreditService(
                provider_id=member_id,
                recipient_id="wu",
                category="companionship",
                raw_minutes=300,
                served_at=EARLIER,
                provenance=Provenance.ORGANISATION_CONFIRMATION,
            ),
            actor=SYSTEM,
        )
    book.events.create(
        CreateEvent(title="重阳节", category="companionship", held_at=EARLIER, event_id="party"),
        actor=SYSTEM,
    )
    book.events.create(
        CreateEvent(title="义诊", category="companionship", held_at=EARLIER, event_id="clinic"),
        actor=SYSTEM,
    )
    book.care.open(OpenCareFile(member_id="zhang", visits_per_month=2), actor=SYSTEM)
    book.care.open(OpenCareFile(member_id="wu", visits_per_month=2), actor=SYSTEM)
    book.supply.add_need(
        AddNeed(
            recipient_id="zhang",
            category="meals",
            estimated_minutes=60,
            once_at=START + timedelta(days=1),
            need_id="need-zhang",
        ),
        actor=SYSTEM,
    )
    book.supply.add_need(
        AddNeed(
            recipient_id="wu",
            category="meals",
            estimated_minutes=60,
            once_at=START + timedelta(days=1),
            need_id="need-wu",
        ),
        actor=SYSTEM,
    )
    return book


@dataclass(frozen=True)
class UseCase:
    """How to call one use case under an id, its first request, and other values per field."""

    call: Callable[..., Any]
    id_param: str
    request: dict[str, Any]
    others: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)


def _minutes(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


def _text() -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=20)


def _moments(before: datetime) -> st.SearchStrategy[datetime]:
    return st.integers(1, 24 * 60 * 20).map(lambda m: before - timedelta(minutes=m))


def _days() -> st.SearchStrategy[date]:
    return st.dates(date(2026, 11, 3), date(2027, 12, 31))


USE_CASES: dict[str, UseCase] = {
    "credit_service": UseCase(
        lambda b, **k: b.credits.record(CreditService(**k), actor=SYSTEM),
        "request_id",
        {
            "provider_id": "li",
            "recipient_id": "zhang",
            "category": "companionship",
            "raw_minutes": 60,
            "served_at": EARLIER,
            "place": "",
            "provenance": Provenance.PAPER_RECORD,
            "payer": None,
            "note": "",
        },
        {
            "provider_id": st.sampled_from(("chen", "mei", "wu")),
            "recipient_id": st.sampled_from(("wu", "chen", "mei")),
            "category": st.sampled_from(("meals", "errands")),
            "raw_minutes": _minutes(1, 59) | _minutes(61, 600),
            "served_at": _moments(EARLIER),
            "place": _text(),
            "provenance": st.sampled_from(
                (Provenance.CHECK_IN_OUT, Provenance.ORGANISATION_CONFIRMATION)
            ),
            "payer": st.sampled_from(("recipient", "issuance", "sponsor.acme", "pool")),
            "note": _text(),
        },
    ),
    "book_redemption": UseCase(
        lambda b, **k: b.redemptions.book(BookRedemption(**k), actor=SYSTEM),
        "request_id",
        {
            "saver_id": "zhang",
            "minutes": 30,
            "provider_id": "li",
            "merchant_id": None,
            "category": "meals",
        },
        {
            "saver_id": st.sampled_from(("mei", "wu")),
            "minutes": _minutes(1, 29) | _minutes(31, 300),
            "provider_id": st.sampled_from(("chen", "mei")),
            "merchant_id": st.just("suguo"),
            "category": st.sampled_from(("companionship", "errands")),
        },
    ),
    "give": UseCase(
        lambda b, **k: b.gifts.give(Give(**k), actor=SYSTEM),
        "request_id",
        {"giver_id": "mei", "receiver_id": "zhang", "minutes": 30},
        {
            "giver_id": st.just("li"),
            "receiver_id": st.sampled_from(("wu", "chen")),
            "minutes": _minutes(1, 29) | _minutes(31, 300),
        },
    ),
    "donate": UseCase(
        lambda b, **k: b.gifts.donate(Donate(**k), actor=SYSTEM),
        "request_id",
        {"member_id": "mei", "minutes": 30, "group": False},
        {
            "member_id": st.sampled_from(("li", "zhang")),
            "minutes": _minutes(1, 29) | _minutes(31, 300),
            "group": st.just(True),
        },
    ),
    "grant": UseCase(
        lambda b, **k: b.gifts.grant(Grant(**k), actor=SYSTEM),
        "request_id",
        {"member_id": "zhang", "minutes": 30, "reason": "heating", "source": "issuance"},
        {
            "member_id": st.sampled_from(("wu", "li")),
            "minutes": _minutes(1, 29) | _minutes(31, 300),
            "reason": _text().filter(lambda r: r != "heating"),
            "source": st.sampled_from(("pool", "sponsor.acme", "guarantee")),
        },
    ),
    "create_event": UseCase(
        lambda b, **k: b.events.create(CreateEvent(**k), actor=SYSTEM),
        "event_id",
        {
            "title": "义诊",
            "category": "companionship",
            "held_at": EARLIER,
            "place": "",
            "payer": None,
            "group": True,
        },
        {
            "title": _text().filter(lambda t: t != "义诊"),
            "category": st.sampled_from(("meals", "errands")),
            "held_at": _moments(EARLIER),
            "place": _text(),
            "payer": st.sampled_from(("issuance", "pool", "sponsor.acme")),
            "group": st.just(False),
        },
    ),
    "credit_event": UseCase(
        lambda b, **k: b.events.credit(
            CreditEvent(event_id=k.pop("event_id"), attendees=k.pop("attendees"), **k), actor=SYSTEM
        ),
        "request_id",
        {"event_id": "party", "attendees": {"li": 60, "chen": 90}},
        {
            "event_id": st.just("clinic"),
            "attendees": st.dictionaries(
                st.sampled_from(("li", "chen", "mei", "wu")), _minutes(1, 300), min_size=1
            ).filter(lambda a: a != {"li": 60, "chen": 90}),
        },
    ),
    "add_offer": UseCase(
        lambda b, **k: b.supply.add_offer(AddOffer(**k), actor=SYSTEM),
        "offer_id",
        {
            "volunteer_id": "li",
            "categories": ["companionship"],
            "windows": [MONDAY_MORNING],
            "unavailable_on": [],
            "capacity_minutes_per_week": 240,
            "starts_on": None,
            "ends_on": None,
            "grid": None,
            "x_metres": None,
            "y_metres": None,
            "note": "",
        },
        {
            "volunteer_id": st.sampled_from(("chen", "mei")),
            "categories": st.sampled_from((["meals"], ["companionship", "errands"])),
            "windows": st.just([FRIDAY_EVENING]),
            "unavailable_on": st.lists(_days(), min_size=1, max_size=3),
            "capacity_minutes_per_week": _minutes(1, 239) | _minutes(241, 2_000),
            "starts_on": _days(),
            "ends_on": _days(),
            "grid": st.sampled_from(("g2", "")),
            "x_metres": st.integers(-1_000, 1_000),
            "y_metres": st.integers(-1_000, 1_000),
            "note": _text(),
        },
    ),
    "add_need": UseCase(
        lambda b, **k: b.supply.add_need(AddNeed(**k), actor=SYSTEM),
        "need_id",
        {
            "recipient_id": "zhang",
            "category": "meals",
            "once_at": START + timedelta(days=2),
            "windows": [],
            "starts_on": None,
            "until": None,
            "grid": None,
            "x_metres": None,
            "y_metres": None,
            "urgency": Urgency.NORMAL,
            "estimated_minutes": 60,
            "payer": None,
            "note": "",
        },
        {
            "recipient_id": st.sampled_from(("wu", "mei")),
            "category": st.sampled_from(("companionship", "errands")),
            "once_at": _days().map(lambda d: datetime(d.year, d.month, d.day, 3, tzinfo=UTC)),
            "windows": st.just([MONDAY_MORNING]),
            "starts_on": _days(),
            "until": _days(),
            "grid": st.sampled_from(("g2", "")),
            "x_metres": st.integers(-1_000, 1_000),
            "y_metres": st.integers(-1_000, 1_000),
            "urgency": st.sampled_from((Urgency.LOW, Urgency.URGENT)),
            "estimated_minutes": _minutes(1, 59) | _minutes(61, 600),
            "payer": st.sampled_from(("recipient", "gifted", "sponsor.acme")),
            "note": _text(),
        },
    ),
    "request_order": UseCase(
        lambda b, **k: b.orders.request(RequestOrder(**k), actor=SYSTEM),
        "order_id",
        {
            "need_id": None,
            "recipient_id": "zhang",
            "category": "meals",
            "estimated_minutes": 60,
            "scheduled_at": None,
            "payer": None,
            "urgency": None,
        },
        {
            "need_id": st.sampled_from(("need-zhang", "need-wu")),
            "recipient_id": st.sampled_from(("wu", "mei")),
            "category": st.sampled_from(("companionship", "errands")),
            "estimated_minutes": _minutes(1, 59) | _minutes(61, 600),
            "scheduled_at": _days().map(lambda d: datetime(d.year, d.month, d.day, 3, tzinfo=UTC)),
            "payer": st.sampled_from(("recipient", "gifted", "sponsor.acme")),
            "urgency": st.sampled_from((Urgency.LOW, Urgency.URGENT)),
        },
    ),
    "post_wish": UseCase(
        lambda b, **k: b.wishes.post(PostWish(**k), actor=SYSTEM),
        "wish_id",
        {"resident_id": "zhang", "title": "一盏台灯"},
        {
            "resident_id": st.sampled_from(("wu", "mei")),
            "title": _text().filter(lambda t: t != "一盏台灯"),
        },
    ),
    "record_visit": UseCase(
        lambda b, **k: b.care.record_visit(
            RecordVisit(member_id=k.pop("member_id"), **k), actor=SYSTEM
        ),
        "visit_id",
        {
            "member_id": "zhang",
            "visitor_id": "li",
            "visited_at": EARLIER,
            "note": "",
            "order_id": None,
        },
        {
            "member_id": st.just("wu"),
            "visitor_id": st.sampled_from(("chen", "mei")),
            "visited_at": _moments(EARLIER),
            "note": _text(),
            "order_id": st.sampled_from(("o-1", "o-2")),
        },
    ),
}
FIELDS = [(name, f) for name, case in USE_CASES.items() for f in case.request]


def call(name: str, book: BankBook, request: dict[str, Any]) -> Any:
    case = USE_CASES[name]
    return case.call(book, **{case.id_param: "retry-1"}, **dict(request))


@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_the_same_request_again_returns_what_it_made_and_changes_nothing(name: str) -> None:
    book = world()
    first = call(name, book, USE_CASES[name].request)
    before = book_state(book)
    assert call(name, book, USE_CASES[name].request) == first
    assert book_state(book) == before


@pytest.mark.parametrize(("name", "changed"), FIELDS, ids=[f"{n}.{f}" for n, f in FIELDS])
@settings(
    max_examples=max(8, settings().max_examples // 25),  # 40 a field under CI's heavy profile
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_retry_differing_in_one_field_is_a_conflict_naming_it(
    name: str, changed: str, data: st.DataObject
) -> None:
    """Whatever the field, and whatever other value it takes, the retry is refused by name."""
    case = USE_CASES[name]
    value = data.draw(
        case.others[changed].filter(lambda v: v != case.request[changed]), label=changed
    )
    book = world()
    call(name, book, case.request)
    before = book_state(book)
    with pytest.raises(IdempotencyConflict) as refused:
        call(name, book, {**case.request, changed: value})
    assert refused.value.field == changed
    assert refused.value.transaction_id == "retry-1"
    assert book_state(book) == before


def test_every_field_of_every_request_has_other_values() -> None:
    for name, case in USE_CASES.items():
        assert set(case.others) == set(case.request), name


ID_PARAMS = {"request_id", "offer_id", "need_id", "order_id", "wish_id", "visit_id", "event_id"}


def test_every_use_case_taking_a_callers_id_is_covered() -> None:
    """A new command that creates something under a caller's id needs an entry above."""
    found = set()
    for command in HANDLERS:
        info = msgspec.inspect.type_info(command)
        assert isinstance(info, msgspec.inspect.StructType)
        if any(f.name in ID_PARAMS and not f.required for f in info.fields):
            found.add(command.__name__)
    assert found == {COMMAND_OF[name].__name__ for name in USE_CASES}


COMMAND_OF = {
    "credit_service": CreditService,
    "book_redemption": BookRedemption,
    "give": Give,
    "donate": Donate,
    "grant": Grant,
    "create_event": CreateEvent,
    "credit_event": CreditEvent,
    "add_offer": AddOffer,
    "add_need": AddNeed,
    "request_order": RequestOrder,
    "post_wish": PostWish,
    "record_visit": RecordVisit,
}
