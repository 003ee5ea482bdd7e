"""One book with someone in every relation to its members, for the authorisation tests.

Book ``gulou``, in two communities, ``ninghai`` (ours) and ``dongshan``:

    id       community  roles                    relation to chen and li
    wang     ninghai    coordinator              their coordinator
    qian     dongshan   coordinator              another community's coordinator
    demoted  ninghai    volunteer                a coordinator until the role was removed
    chen     ninghai    recipient, volunteer     82, living alone: most routes are about her
    li       ninghai    volunteer                63: the volunteer of chen's orders
    mei      ninghai    volunteer, recipient     chen's and li's proxy
    sus      ninghai    volunteer, recipient     their proxy too, but suspended
    rev      ninghai    volunteer, recipient     was their proxy; the authorisation was revoked
    son      ninghai    volunteer, recipient     chen's and li's son (a relative, not a proxy)
    zhao     ninghai    volunteer, recipient     another member of the community
    wu       ninghai    recipient                90, no bookings: the one whose death is recorded
    sun      dongshan   volunteer                another community's volunteer

Chen's orders sit in every state (``o-req`` requested, ``o-disp`` dispatched to li,
``o-pub`` published, ``o-acc`` accepted, ``o-start`` started, ``o-done`` completed,
``o-conf`` confirmed); there is a held credit ``c-pending`` and a posted ``c-posted``
(li served chen), a booked redemption ``r-booked``, li's offer ``off-li``, chen's need
``need-chen``, chen's wishes ``w-posted``, ``w-adopted`` (by li) and ``w-fulfilled``, chen's
care file, an event ``ev``, a sponsor ``acme``, a merchant ``suguo``, a draft policy (version
2), and on the raw ledger a transfer ``t-1`` and a hold ``h-1``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from timebank.bank import ISSUANCE, SYSTEM, TimeBank
from timebank.bank.commands import (
    AcceptOrder,
    AddMerchant,
    AddNeed,
    AddOffer,
    AddPolicy,
    AddSponsor,
    AdoptWish,
    AuthoriseProxy,
    BookRedemption,
    CompleteOrder,
    ConfirmOrder,
    CreateEvent,
    CreditService,
    DispatchOrder,
    FulfilWish,
    Grant,
    OpenCareFile,
    PostWish,
    PublishOrder,
    RegisterMember,
    Relate,
    RequestOrder,
    RevokeProxy,
    StartOrder,
    UpdateMember,
)
from timebank.community import (
    GrantEligibility,
    MemberStatus,
    PolicyRules,
    Provenance,
    RelationKind,
    Role,
    Vetting,
    Window,
)
from timebank.ledger import ManualClock, credit, debit

BOOK = "gulou"
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
"""09:00 on a Monday in Shanghai."""
SERVED = START - timedelta(days=5)
RULES = PolicyRules(
    name="authorisation",
    categories=("companionship", "meals"),
    payer_default="issuance",
    provider_age_min=16,
    confirmation_required=True,
    gift_relations=frozenset({"child", "parent", "spouse"}),
    guarantee_grants_to=(GrantEligibility(age_min=80, flags=frozenset({"living_alone"})),),
)
MORNINGS = [Window(weekday=d, start_minute=8 * 60, end_minute=20 * 60) for d in range(7)]
_V, _R, _C = Role.VOLUNTEER, Role.RECIPIENT, Role.COORDINATOR
PEOPLE: tuple[tuple[str, str, date, frozenset[Role], frozenset[str]], ...] = (
    ("wang", "ninghai", date(1980, 4, 1), frozenset({_C}), frozenset()),
    ("qian", "dongshan", date(1979, 9, 9), frozenset({_C}), frozenset()),
    ("demoted", "ninghai", date(1981, 1, 1), frozenset({_C}), frozenset()),
    ("chen", "ninghai", date(1944, 5, 5), frozenset({_V, _R}), frozenset({"living_alone"})),
    ("li", "ninghai", date(1963, 5, 1), frozenset({_V, _R}), frozenset()),
    ("mei", "ninghai", date(1976, 6, 1), frozenset({_V, _R}), frozenset()),
    ("sus", "ninghai", date(1977, 6, 1), frozenset({_V, _R}), frozenset()),
    ("rev", "ninghai", date(1978, 6, 1), frozenset({_V, _R}), frozenset()),
    ("son", "ninghai", date(1970, 6, 1), frozenset({_V, _R}), frozenset()),
    ("zhao", "ninghai", date(1960, 6, 1), frozenset({_V, _R}), frozenset()),
    ("wu", "ninghai", date(1936, 6, 1), frozenset({_R}), frozenset()),
    ("sun", "dongshan", date(1962, 6, 1), frozenset({_V, _R}), frozenset()),
)


def build(open_bank: Callable[[ManualClock], TimeBank] | None = None) -> TimeBank:
    """The book of the module docstring, built through the facade as the application (in
    memory, or in the bank ``open_bank`` opens with the clock it is given)."""
    clock = ManualClock(START - timedelta(days=3), tick=timedelta(seconds=1))
    bank = TimeBank(clock=clock) if open_bank is None else open_bank(clock)
    book = bank.create_book(BOOK, RULES)
    book.programme.add_sponsor(AddSponsor(sponsor_id="acme", name="Acme"), actor=SYSTEM)
    book.programme.add_merchant(AddMerchant(merchant_id="suguo", name="苏果"), actor=SYSTEM)
    book.programme.add_policy(AddPolicy(rules=RULES), actor=SYSTEM)
    for member_id, community, born, roles, flags in PEOPLE:
        book.members.register(
            RegisterMember(
                member_id=member_id,
                name="王芳",
                birth_date=born,
                community=community,
                grid="g1",
                roles=roles,
                vetting=Vetting.STREET,
                flags=flags,
            ),
            actor=SYSTEM,
        )
    book.members.update(UpdateMember(member_id="demoted", roles={Role.VOLUNTEER}), actor=SYSTEM)
    for member_id in ("chen", "li"):
        for proxy in ("mei", "sus", "rev"):
            book.members.authorise_proxy(
                AuthoriseProxy(member_id=member_id, proxy_id=proxy), actor=SYSTEM
            )
        book.members.revoke_proxy(RevokeProxy(member_id=member_id, proxy_id="rev"), actor=SYSTEM)
        book.members.relate(
            Relate(member_id=member_id, other_id="son", kind=RelationKind.CHILD), actor=SYSTEM
        )
    book.gifts.grant(
        Grant(member_id="chen", minutes=600, reason="welcome", source=ISSUANCE), actor=SYSTEM
    )
    for member_id in ("chen", "li", "mei"):
        book.credits.record(
            CreditService(
                provider_id=member_id,
                recipient_id="zhao",
                category="companionship",
                raw_minutes=300,
                served_at=SERVED,
                provenance=Provenance.ORGANISATION_CONFIRMATION,
            ),
            actor=SYSTEM,
        )
    _orders(bank)
    _records(bank)
    ledger = bank.ledger.book(BOOK)
    ledger.transfer("t-1", [debit(ISSUANCE, 5), credit("sponsor.acme", 5)])
    ledger.hold("h-1", [debit(ISSUANCE, 5), credit("sponsor.acme", 5)])
    book.members.update(UpdateMember(member_id="sus", status=MemberStatus.SUSPENDED), actor=SYSTEM)
    return bank


def _orders(bank: TimeBank) -> None:
    book = bank.book(BOOK)
    book.supply.add_offer(
        AddOffer(
            volunteer_id="li",
            categories=["companionship", "meals"],
            windows=MORNINGS,
            capacity_minutes_per_week=600,
            offer_id="off-li",
        ),
        actor=SYSTEM,
    )
    for order_id in ("o-req", "o-disp", "o-pub", "o-acc", "o-start", "o-done", "o-conf"):
        book.orders.request(
            RequestOrder(
                recipient_id="chen", category="meals", estimated_minutes=60, order_id=order_id
            ),
            actor=SYSTEM,
        )
    book.orders.dispatch(DispatchOrder(order_id="o-disp", volunteer_id="li"), actor=SYSTEM)
    book.orders.publish(PublishOrder(order_id="o-pub"), actor=SYSTEM)
    for order_id in ("o-acc", "o-start", "o-done", "o-conf"):
        book.orders.dispatch(DispatchOrder(order_id=order_id, volunteer_id="li"), actor=SYSTEM)
        book.orders.accept(AcceptOrder(order_id=order_id, volunteer_id="li"), actor=SYSTEM)
    for order_id in ("o-start", "o-done", "o-conf"):
        book.orders.start(StartOrder(order_id=order_id), actor=SYSTEM)
    for order_id in ("o-done", "o-conf"):
        book.orders.complete(CompleteOrder(order_id=order_id, actual_minutes=60), actor=SYSTEM)
    book.orders.confirm(ConfirmOrder(order_id="o-conf"), actor=SYSTEM)


def _records(bank: TimeBank) -> None:
    book = bank.book(BOOK)
    for credit_id, provenance in (
        ("c-pending", Provenance.PAPER_RECORD),
        ("c-posted", Provenance.ORGANISATION_CONFIRMATION),
    ):
        book.credits.record(
            CreditService(
                provider_id="li",
                recipient_id="chen",
                category="companionship",
                raw_minutes=60,
                served_at=SERVED,
                provenance=provenance,
                request_id=credit_id,
            ),
            actor=SYSTEM,
        )
    book.redemptions.book(
        BookRedemption(
            saver_id="chen",
            minutes=30,
            provider_id="li",
            category="companionship",
            request_id="r-booked",
        ),
        actor=SYSTEM,
    )
    book.supply.add_need(
        AddNeed(
            recipient_id="chen",
            category="meals",
            estimated_minutes=60,
            once_at=START + timedelta(days=2),
            need_id="need-chen",
        ),
        actor=SYSTEM,
    )
    for wish_id in ("w-posted", "w-adopted", "w-fulfilled"):
        book.wishes.post(
            PostWish(resident_id="chen", title="一盏台灯", wish_id=wish_id), actor=SYSTEM
        )
    for wish_id in ("w-adopted", "w-fulfilled"):
        book.wishes.adopt(AdoptWish(wish_id=wish_id, adopter="li"), actor=SYSTEM)
    book.wishes.fulfil(FulfilWish(wish_id="w-fulfilled"), actor=SYSTEM)
    book.care.open(OpenCareFile(member_id="chen", visits_per_month=2), actor=SYSTEM)
    book.events.create(
        CreateEvent(title="义诊", category="companionship", held_at=SERVED, event_id="ev"),
        actor=SYSTEM,
    )
