"""Service orders as a state machine: random lifecycles through ``BankBook``, checked by a model.

From a programme with short deadlines (Nanjing's rules, a capped programme with
weights, rounding and a credit line, or flat points that never expire), a
coordinator, volunteers, recipients with granted minutes, a sponsor, and a
recipient whose relative is their proxy, each step calls one order method of the
facade: request (paid by the recipient, from gifted minutes only, by the sponsor,
a fund, the pool, or the policy's default), dispatch, publish, decline, accept
(by the volunteer it was dispatched to, anyone for a published order, or the
wrong one), start, complete (for the estimate, more or less, or a duration the
policy refuses), confirm, reject, rate (1 to 5, and ratings out of range),
close, cancel, and ``run_deadlines`` after the clock moves (minutes to days).
Some steps try a transition the order's status does not allow, or let someone
act who may not (a member acting for another); those must raise the typed error
and leave the book, the order and the outbox as they were.

The model is plain: the lifecycle table restated from ``community/exchange.py``'s
docstring, who acts for whom, which account pays (own minutes, then gifted ones,
then the credit line), what the cap sends to the overflow account, how a
confirmation settles the hold (the credited minutes of the actual duration,
never more than the reservation), and which orders the deadlines escalate or
expire. It predicts each call's outcome, every account's posted and pending
minutes, every order's fields and history, and the outbox; the invariants
compare them with the book after each step.

The in-memory run takes 400 runs of up to 60 steps under "ci" (about 35 s; 60
runs of 40 under "dev"). The SQLite and PostgreSQL runs are smaller, 20 runs of
40 steps (12 of 30 under "dev"), and check orders, holds and credits every third
step (accounts after every step, and everything at the end of a run).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.bank.helpers import book_state, coordinator, volunteer
from tests.bank.test_state_machine import START, ZONE, Leg, age_on, credited_minutes, net
from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import (
    AcceptOrder,
    AddSponsor,
    AuthoriseProxy,
    CancelOrder,
    CloseOrder,
    CompleteOrder,
    ConfirmOrder,
    DeclineOrder,
    DispatchOrder,
    Grant,
    PublishOrder,
    RateOrder,
    RegisterMember,
    RejectOrder,
    RequestOrder,
    RunDeadlines,
    StartOrder,
)
from timebank.bank.statements import balances
from timebank.community import (
    ActorNotAuthorised,
    CategoryUnknown,
    CreditLimitExceeded,
    CreditRoundsToZero,
    CreditStatus,
    MemberNotFound,
    Order,
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
    RecipientNotEligible,
    RedemptionAgeNotReached,
    Role,
    Rounding,
    SelfDealing,
    ServiceMinutesOutOfRange,
    StoredMinutesCapExceeded,
    Vetting,
)
from timebank.community.presets import nanjing
from timebank.ledger import (
    HoldStatus,
    IdempotencyConflict,
    InsufficientMinutes,
    LedgerError,
    ManualClock,
    Side,
)

BOOK_ID = "centre"
COORDINATOR = "coord"
GHOST = "ghost"
"""A member id that is never registered."""
KIN = "kin"
"""The relative who is ``PROXIED``'s proxy."""
PROXIED = "r2"
SPONSOR = "sponsor.s1"
VOLUNTEERS = {"v1": (date(1986, 6, 15), Vetting.STREET), "v2": (date(1979, 7, 20), Vetting.STREET)}
VOLUNTEERS["v3"] = (date(1990, 5, 10), Vetting.COMMUNITY)
SERVING_RECIPIENT = "r1"
"""A recipient who also volunteers, so they earn own minutes and pay with them."""
RECIPIENTS = {"r1": date(1950, 6, 1), "r2": date(1941, 7, 7), "r3": date(1956, 8, 8)}
PAYERS = (None, "recipient", "gifted", SPONSOR, "issuance", "pool", "sponsor.nobody")
"""The last names no programme account."""
CATEGORIES = ("companionship", "daily_care", "errands", "gardening")
"""The last is in no programme's list."""
ESTIMATES = (1, 10, 30, 45, 60, 90, 120, 240)
CLOCK_STEPS = (
    timedelta(minutes=1),
    timedelta(minutes=29),
    timedelta(minutes=30),
    timedelta(minutes=59),
    timedelta(minutes=60),
    timedelta(minutes=61),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(days=1),
    timedelta(days=3),
)
VERIFY_EVERY = 10
PAGE = 500
"""The largest page the facade reads (orders, outbox, accounts)."""

_S = OrderStatus
_A = OrderAction
_WAITING = frozenset({_S.REQUESTED, _S.DISPATCHED, _S.PUBLISHED})
HOLDING = frozenset({_S.ACCEPTED, _S.STARTED, _S.COMPLETED})
SETTLED = frozenset({_S.CONFIRMED, _S.RATED, _S.CLOSED})
OPEN = _WAITING | HOLDING
LIFECYCLE: dict[OrderAction, tuple[frozenset[OrderStatus], OrderStatus | None]] = {
    _A.DISPATCH: (frozenset({_S.REQUESTED, _S.PUBLISHED}), _S.DISPATCHED),
    _A.PUBLISH: (frozenset({_S.REQUESTED}), _S.PUBLISHED),
    _A.DECLINE: (frozenset({_S.DISPATCHED}), _S.REQUESTED),
    _A.ACCEPT: (frozenset({_S.DISPATCHED, _S.PUBLISHED}), _S.ACCEPTED),
    _A.START: (frozenset({_S.ACCEPTED}), _S.STARTED),
    _A.COMPLETE: (frozenset({_S.STARTED}), _S.COMPLETED),
    _A.CONFIRM: (frozenset({_S.COMPLETED}), _S.CONFIRMED),
    _A.REJECT: (frozenset({_S.COMPLETED}), _S.REJECTED),
    _A.RATE: (frozenset({_S.CONFIRMED}), _S.RATED),
    _A.CLOSE: (frozenset({_S.CONFIRMED, _S.RATED}), _S.CLOSED),
    _A.CANCEL: (_WAITING | {_S.ACCEPTED, _S.STARTED}, _S.CANCELLED),
    _A.EXPIRE: (_WAITING | {_S.ACCEPTED}, _S.EXPIRED),
    _A.ESCALATE: (_WAITING | {_S.ACCEPTED, _S.STARTED}, None),
}
"""The lifecycle restated from the docstring of ``timebank.community.exchange``."""
CALLED = tuple(a for a in LIFECYCLE if a not in (_A.EXPIRE, _A.ESCALATE))
USUAL_COURSE: dict[OrderStatus, tuple[OrderAction, ...]] = {
    _S.REQUESTED: (_A.DISPATCH, _A.PUBLISH),
    _S.DISPATCHED: (_A.ACCEPT, _A.ACCEPT, _A.ACCEPT, _A.DECLINE),
    _S.PUBLISHED: (_A.ACCEPT, _A.ACCEPT, _A.DISPATCH),
    _S.ACCEPTED: (_A.START, _A.START, _A.START, _A.CANCEL),
    _S.STARTED: (_A.COMPLETE,),
    _S.COMPLETED: (_A.CONFIRM, _A.CONFIRM, _A.CONFIRM, _A.REJECT),
    _S.CONFIRMED: (_A.RATE, _A.CLOSE),
    _S.RATED: (_A.CLOSE,),
}
"""What usually comes next, so that runs reach the end of the lifecycle."""
"""Actions a caller asks for; expiry and escalation happen in ``run_deadlines``."""
COORDINATORS_ONLY = frozenset({_A.DISPATCH, _A.PUBLISH, _A.CLOSE})
VOLUNTEER_SIDE = frozenset({_A.DECLINE, _A.ACCEPT, _A.START, _A.COMPLETE})
"""The rest act on the recipient's side (the recipient, their proxy, or a coordinator)."""

Only = type[LedgerError] | tuple[type[LedgerError], ...] | None
"""The error (or errors) a step must end in, if it must be refused."""

FAST = OrderDeadlines(accept_within_minutes=60, complete_within_minutes=120)


def nanjing_fast() -> PolicyRules:
    """Nanjing's rules with deadlines short enough to escalate and expire within a run."""
    return msgspec.structs.replace(
        nanjing(),
        deadlines=FAST,
        escalate_every_minutes=60,
        order_expires_after_minutes=600,
    )


def capped() -> PolicyRules:
    """Weights, half-hour rounding, a credit line and a cap low enough to overflow."""
    return PolicyRules(
        name="capped programme",
        categories=CATEGORIES[:3],
        weights_permille={"daily_care": 1500},
        rounding_step_minutes=15,
        rounding=Rounding.DOWN,
        record_minutes_min=10,
        record_minutes_max=180,
        provider_vetting_required=True,
        recipient_age_min=65,
        payer_default="recipient",
        credit_limit_minutes=60,
        stored_minutes_max=300,
        overflow_account="pool",
        deadlines=FAST,
        deadlines_by_category={
            "errands": OrderDeadlines(accept_within_minutes=30, complete_within_minutes=60)
        },
        escalation_chain=("dispatcher", "community"),
        escalate_every_minutes=30,
        order_expires_after_minutes=300,
    )


def flat() -> PolicyRules:
    """One service earns one point; anyone may be served; orders never expire."""
    return PolicyRules(
        name="flat points",
        flat_credit_minutes=60,
        payer_default="recipient",
        starting_grant_minutes=120,
        deadlines=OrderDeadlines(accept_within_minutes=120, complete_within_minutes=240),
        escalate_every_minutes=120,
        order_expires_after_minutes=None,
    )


PROGRAMMES: dict[str, Callable[[], PolicyRules]] = {
    "nanjing": nanjing_fast,
    "capped": capped,
    "flat": flat,
}


def own(member_id: str) -> str:
    return f"m.{member_id}"


def gifted(member_id: str) -> str:
    return f"m.{member_id}.gifted"


def purses(member_id: str) -> tuple[str, str, str]:
    return (own(member_id), gifted(member_id), f"m.{member_id}.group")


# --- the model --------------------------------------------------------------------------------


class Refusal(Exception):
    """The model's prediction that a call is refused, with every error that may explain it."""

    def __init__(self, *errors: type[LedgerError]) -> None:
        super().__init__(", ".join(error.__name__ for error in errors))
        self.errors = errors


@dataclass
class Account:
    minimum: int | None
    posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    @property
    def available(self) -> int:
        return self.posted - self.debits_pending


@dataclass
class Person:
    birth_date: date
    roles: frozenset[Role]
    vetting: Vetting


@dataclass
class Step:
    action: OrderAction
    status: OrderStatus
    at: datetime
    actor: str
    on_behalf_of: str | None


@dataclass
class Expected:
    """One order as the model sees it."""

    order_id: str
    recipient_id: str
    category: str
    estimated_minutes: int
    reserved_minutes: int
    payer: str | None
    scheduled_at: datetime | None
    requested_at: datetime
    accept_due_at: datetime
    expires_at: datetime | None
    escalate_at: datetime | None
    status: OrderStatus = OrderStatus.REQUESTED
    escalation_level: int = 0
    dispatched_to: str | None = None
    volunteer_id: str | None = None
    payer_account: str | None = None
    hold_id: str | None = None
    hold: list[Leg] = field(default_factory=list)
    """The hold's legs, in order (credits positive)."""
    complete_due_at: datetime | None = None
    actual_minutes: int | None = None
    credited_minutes: int = 0
    provider_minutes: int = 0
    overflow_account: str | None = None
    rating: int | None = None
    steps: list[Step] = field(default_factory=list)


def take(legs: list[Leg], minutes: int) -> list[Leg]:
    """The first ``minutes`` of each side of a hold, in order (``settle_hold`` restated)."""
    taken: list[Leg] = []
    for sign in (-1, 1):
        left = minutes
        for account, amount in legs:
            if amount * sign > 0 and left > 0:
                part = min(abs(amount), left)
                taken.append((account, sign * part))
                left -= part
    return taken


class OrdersMachine(RuleBasedStateMachine):
    """Random order lifecycles through ``BankBook``, each call predicted by the model above."""

    check_every = 1
    """Steps between the heavier invariants (holds, balances, orders); more on SQL."""

    def __init__(self) -> None:
        super().__init__()
        self.resources = ExitStack()
        self.clock = ManualClock(START)
        self.bank = self.make_bank()
        self.book: BankBook | None = None
        self.policy = PolicyRules(name="unset")
        self.people: dict[str, Person] = {}
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Expected] = {}
        self.outbox_seq: int | None = None
        self.outbox_count = 0
        self.serial = 0
        self.steps = 0

    def make_bank(self) -> TimeBank:
        return TimeBank(clock=self.clock)

    def teardown(self) -> None:
        """At the end of every run: every invariant, and a clean ``verify()``."""
        try:
            if self.book is not None:
                self.check_every = 1
                self.orders_match_the_model()
                self.holds_are_the_reservations()
                self.each_settled_order_posted_one_credit()
                self.liability_is_what_the_programme_gave()
                report = self.book.statements.verify()
                assert report.ok, report.first_break
        finally:
            self.resources.close()

    # --- small helpers ------------------------------------------------------------------

    @property
    def bank_book(self) -> BankBook:
        assert self.book is not None
        return self.book

    def now(self) -> datetime:
        return self.clock.now()

    def age(self, member_id: str) -> int:
        return age_on(self.people[member_id].birth_date, self.now().astimezone(ZONE).date())

    def is_coordinator(self, actor: str) -> bool:
        return actor in (SYSTEM, COORDINATOR)

    def acts_for(self, actor: str, member_id: str) -> bool:
        """The member, the application, a coordinator, or the member's proxy."""
        if actor in (member_id, SYSTEM) or self.is_coordinator(actor):
            return True
        return member_id == PROXIED and actor == KIN

    def sees_order(self, actor: str, order: Expected) -> bool:
        """The application and the coordinator see every order (one community here); a member
        the orders they (or the member they act for) are on, and those published for anyone."""
        if actor in (SYSTEM, COORDINATOR):
            return True
        mine = {actor} | ({PROXIED} if actor == KIN else set())
        on_it = {order.recipient_id, order.volunteer_id, order.dispatched_to}
        return bool(mine & on_it) or order.status is _S.PUBLISHED

    def on_behalf_of(self, actor: str, member_id: str) -> str | None:
        return None if actor == member_id else member_id

    def actors(self) -> list[str]:
        return [SYSTEM, GHOST, *sorted(self.people)]

    def pick_actor(self, data: st.DataObject, member_id: str | None) -> str:
        """Mostly someone who may act for ``member_id`` (or a coordinator, for None)."""
        who = data.draw(st.integers(0, 7), label="who acts?")
        if who == 0:
            return data.draw(st.sampled_from(self.actors()), label="actor")
        choices = [COORDINATOR, SYSTEM]
        if member_id is not None:
            choices += [member_id] * 3 + ([KIN] if member_id == PROXIED else [])
        return data.draw(st.sampled_from(choices), label="actor")

    def pick_order(self, data: st.DataObject, action: OrderAction) -> Expected:
        """Mostly an order the action applies to, sometimes any order."""
        statuses, _ = LIFECYCLE[action]
        fitting = [o for o in self.orders.values() if o.status in statuses]
        likely = data.draw(st.integers(0, 5), label="a fitting order?")
        if fitting and likely:
            return data.draw(st.sampled_from(fitting), label="order")
        return self.pick_by_status(data, list(self.orders.values()))

    def pick_by_status(self, data: st.DataObject, orders: list[Expected]) -> Expected:
        """A status first, then an order in it: rare statuses are picked as often as common ones."""
        status = data.draw(st.sampled_from(sorted({o.status for o in orders})), label="status")
        return data.draw(st.sampled_from([o for o in orders if o.status is status]), label="order")

    def pick_volunteer(self, data: st.DataObject, likely: str | None = None) -> str:
        good = [likely] if likely is not None else [*VOLUNTEERS, SERVING_RECIPIENT]
        if data.draw(st.integers(0, 5), label="a likely volunteer?"):
            return data.draw(st.sampled_from(good), label="volunteer")
        return data.draw(st.sampled_from([GHOST, *sorted(self.people)]), label="volunteer")

    def reason(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(("not needed", "ill today", "visited", " ")), label="why")

    def outbox_after(self) -> list[tuple[str, str]]:
        messages = self.bank_book.outbox.pending(after=self.outbox_seq, limit=PAGE)
        return [(m.topic, m.key) for m in messages]

    # --- calling the book -----------------------------------------------------------------

    def refused(
        self,
        label: str,
        order_id: str | None,
        call: Callable[[], object],
        refusal: Refusal,
        only: Only,
    ) -> None:
        """The call raises a predicted error and leaves the book, orders and outbox as they were."""
        before = book_state(self.bank_book)
        orders_before = self.bank_book.orders.list(limit=PAGE)
        try:
            result = call()
        except LedgerError as raised:
            error = raised
        else:
            raise AssertionError(f"{label}: expected a refusal ({refusal}), got {result!r}")
        expected = ", ".join(e.__name__ for e in refusal.errors)
        assert isinstance(error, refusal.errors), f"{label}: expected {expected}, got {error!r}"
        if only is not None:
            assert isinstance(error, only), f"{label}: expected {only}, got {error!r}"
        assert book_state(self.bank_book) == before, f"{label}: a refusal changed the book"
        orders = self.bank_book.orders.list(limit=PAGE)
        assert orders == orders_before, f"{label}: a refusal changed {order_id or 'the orders'}"
        assert self.outbox_after() == [], f"{label}: a refusal wrote to the outbox"
        event(f"{label}: {type(error).__name__}")

    def attempt(
        self,
        label: str,
        order_id: str | None,
        predict: Callable[[], Callable[[Any], list[tuple[str, str]]]],
        call: Callable[[], Any],
        *,
        only: Only = None,
    ) -> None:
        """Predict, call, compare; on success apply the model's change and check the outbox."""
        try:
            apply = predict()
        except Refusal as refusal:
            self.refused(label, order_id, call, refusal, only)
            return
        assert only is None, f"{label}: the model expected {only} but allows the call"
        try:
            result = call()
        except LedgerError as error:
            raise AssertionError(f"{label}: the rules allow this call, got {error!r}") from error
        expected = apply(result)
        sent = self.bank_book.outbox.pending(after=self.outbox_seq, limit=PAGE)
        got = [(m.topic, m.key) for m in sent]
        assert got == expected, f"{label}: outbox {got}, model {expected}"
        if sent:
            self.outbox_seq = sent[-1].seq
            self.outbox_count += len(sent)
        event(f"{label}: done")

    def record(
        self, order: Expected, action: OrderAction, actor: str, on_behalf_of: str | None
    ) -> None:
        _, target = LIFECYCLE.get(action, (frozenset(), _S.REQUESTED))
        if target is not None:
            order.status = target
        order.steps.append(Step(action, order.status, self.now(), actor, on_behalf_of))

    def transition(
        self, broken: list[type[LedgerError]], order: Expected, action: OrderAction, actor: str
    ) -> None:
        """Who may ask for the action, and whether the order's status allows it."""
        statuses, _ = LIFECYCLE[action]
        if actor != SYSTEM and actor not in self.people:
            broken.append(ActorNotAuthorised)  # no authority in the book at all
            return
        if not self.sees_order(actor, order):
            broken.append(OrderNotFound)  # not theirs to see: for them it is not there
            return
        if action in COORDINATORS_ONLY and not self.is_coordinator(actor):
            broken.append(ActorNotAuthorised)
        if order.status not in statuses:
            broken.append(OrderTransitionNotAllowed)
        if action in COORDINATORS_ONLY or action is _A.ACCEPT:
            return
        side = order.volunteer_id if action in VOLUNTEER_SIDE else order.recipient_id
        if action is _A.DECLINE:
            side = order.dispatched_to
        if side is not None and not self.acts_for(actor, side):
            broken.append(ActorNotAuthorised)

    # --- the ledger, restated -------------------------------------------------------------------

    def provider_problems(self, member_id: str) -> list[type[LedgerError]]:
        if member_id not in self.people:
            return [MemberNotFound]
        person, rules = self.people[member_id], self.policy
        age = self.age(member_id)
        vetted = person.vetting in (Vetting.COMMUNITY, Vetting.STREET)
        if (
            Role.VOLUNTEER not in person.roles
            or age < rules.provider_age_min
            or (rules.provider_age_max is not None and age > rules.provider_age_max)
            or (rules.provider_vetting_required and not vetted)
            or (rules.provider_vetting_street and person.vetting is not Vetting.STREET)
        ):
            return [ProviderNotEligible]
        return []

    def spend(self, member_id: str, minutes: int) -> list[Leg]:
        """Own minutes, then gifted ones, then the credit line."""
        mine, theirs = self.accounts[own(member_id)], self.accounts[gifted(member_id)]
        from_own = min(minutes, max(mine.available, 0))
        from_gifted = min(minutes - from_own, theirs.available)
        rest = minutes - from_own - from_gifted
        line = self.policy.credit_limit_minutes
        on_credit = min(rest, max(mine.available - from_own + line, 0))
        if rest > on_credit:
            raise Refusal(CreditLimitExceeded if line else InsufficientMinutes)
        legs: list[Leg] = []
        if from_own + on_credit:
            legs.append((own(member_id), -(from_own + on_credit)))
        if from_gifted:
            legs.append((gifted(member_id), -from_gifted))
        return legs

    def payer_legs(self, order: Expected, minutes: int) -> tuple[str, list[Leg]]:
        payer = self.policy.payer_default if order.payer is None else order.payer
        if payer not in ("recipient", "gifted"):
            return payer, [(payer, -minutes)]
        saver = order.recipient_id
        age_min = self.policy.redeem_age_min
        if age_min is not None and self.age(saver) < age_min:
            raise Refusal(RedemptionAgeNotReached)
        if payer == "recipient":
            return own(saver), self.spend(saver, minutes)
        if self.accounts[gifted(saver)].available < minutes:
            raise Refusal(InsufficientMinutes)
        return gifted(saver), [(gifted(saver), -minutes)]

    def receive(self, member_id: str, minutes: int) -> list[Leg]:
        """Credits to the volunteer's own purse; over the cap to the overflow account."""
        cap = self.policy.stored_minutes_max
        if cap is None:
            return [(own(member_id), minutes)]
        stored = sum(
            self.accounts[a].posted + self.accounts[a].credits_pending for a in purses(member_id)
        )
        room = max(cap - stored, 0)
        if minutes <= room:
            return [(own(member_id), minutes)]
        legs = [(self.policy.overflow_account, minutes - room)]
        if room:
            legs.insert(0, (own(member_id), room))
        return legs

    def check_bounds(self, legs: list[Leg]) -> None:
        """The ledger's bounds, with pending holds counted."""
        for account_id, amount in legs:
            account = self.accounts[account_id]
            minimum = account.minimum
            if amount < 0 and minimum is not None and account.available + amount < minimum:
                raise Refusal(InsufficientMinutes)

    def hold(self, legs: list[Leg]) -> None:
        for account_id, amount in legs:
            if amount < 0:
                self.accounts[account_id].debits_pending -= amount
            else:
                self.accounts[account_id].credits_pending += amount

    def release(self, order: Expected) -> None:
        for account_id, amount in order.hold:
            if amount < 0:
                self.accounts[account_id].debits_pending += amount
            else:
                self.accounts[account_id].credits_pending -= amount

    def post(self, legs: list[Leg]) -> None:
        for account_id, amount in legs:
            self.accounts[account_id].posted += amount

    # --- set-up -----------------------------------------------------------------------------------

    @initialize(data=st.data())
    def set_up(self, data: st.DataObject) -> None:
        """A programme, a coordinator, volunteers, recipients with minutes, a sponsor, a proxy."""
        name = data.draw(st.sampled_from(sorted(PROGRAMMES)), label="programme")
        event(f"programme: {name}")
        self.policy = PROGRAMMES[name]()
        book = self.book = self.bank.create_book(BOOK_ID, self.policy)
        book.programme.add_sponsor(AddSponsor(sponsor_id="s1", name="街道办"), actor=SYSTEM)
        coordinator(book, COORDINATOR)
        self.people[COORDINATOR] = Person(
            date(1978, 4, 1), frozenset({Role.COORDINATOR}), Vetting.PENDING
        )
        serving = {Role.VOLUNTEER, Role.RECIPIENT}
        for member_id, (birth, vetting) in VOLUNTEERS.items():
            volunteer(book, member_id, birth, vetting=vetting)
            self.people[member_id] = Person(birth, frozenset(serving), vetting)
        for member_id, birth in RECIPIENTS.items():
            roles = serving if member_id == SERVING_RECIPIENT else {Role.RECIPIENT}
            book.members.register(
                RegisterMember(
                    member_id=member_id,
                    name="张伟",
                    birth_date=birth,
                    community="gulou",
                    roles=roles,
                    vetting=Vetting.STREET,
                ),
                actor=SYSTEM,
            )
            self.people[member_id] = Person(birth, frozenset(roles), Vetting.STREET)
            minutes = data.draw(
                st.sampled_from((0, 60, 120, 300, 300)), label=f"{member_id}'s grant"
            )
            if minutes:
                book.gifts.grant(
                    Grant(
                        member_id=member_id,
                        minutes=minutes,
                        reason="starting help",
                        source="issuance",
                    ),
                    actor=SYSTEM,
                )
        book.members.register(
            RegisterMember(
                member_id=KIN,
                name="刘洋",
                birth_date=date(1975, 9, 9),
                community="gulou",
                roles={Role.RECIPIENT},
            ),
            actor=SYSTEM,
        )
        self.people[KIN] = Person(date(1975, 9, 9), frozenset({Role.RECIPIENT}), Vetting.PENDING)
        book.members.authorise_proxy(AuthoriseProxy(member_id=PROXIED, proxy_id=KIN), actor=SYSTEM)
        accounts = book.read(lambda _, ledger: list(ledger.accounts(after=None, limit=PAGE)))
        for a in accounts:
            self.accounts[a.account_id] = Account(
                a.balance_minutes_min,
                a.posted_minutes,
                a.debits_pending_minutes,
                a.credits_pending_minutes,
            )
        pending = book.outbox.pending(limit=PAGE)
        self.outbox_seq = pending[-1].seq if pending else None
        self.outbox_count = len(pending)

    # --- requests ------------------------------------------------------------------------------

    @rule(data=st.data())
    def request(self, data: st.DataObject) -> None:
        """Order a service directly, for a recipient (mostly an eligible one)."""
        rules = self.policy
        recipient = data.draw(
            st.one_of(
                st.sampled_from(sorted(RECIPIENTS)),
                st.sampled_from(sorted(RECIPIENTS)),
                st.sampled_from([GHOST, *sorted(self.people)]),
            ),
            label="recipient",
        )
        allowed = rules.categories[:3] or CATEGORIES[:3]
        category = data.draw(
            st.one_of(st.sampled_from(allowed), st.sampled_from(CATEGORIES)), label="category"
        )
        estimate = data.draw(
            st.one_of(*[st.sampled_from(ESTIMATES)] * 4, st.integers(0, 2_000)), label="estimate"
        )
        payer = data.draw(st.sampled_from(PAYERS), label="payer")
        later = data.draw(st.sampled_from((None, None, None, 3, 30)), label="scheduled in hours")
        scheduled = None if later is None else self.now() + timedelta(hours=later)
        actor = self.pick_actor(data, recipient)
        self.serial += 1
        order_id = f"o{self.serial:03d}"

        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            if actor != SYSTEM and actor not in self.people:
                broken.append(ActorNotAuthorised)  # no authority in the book at all
            if not self.acts_for(actor, recipient):
                # A stranger to the book has no authority; a member does not see the recipient.
                broken += [ActorNotAuthorised, MemberNotFound]
            if payer not in (None, "recipient", "gifted") and not self.is_coordinator(actor):
                broken.append(ActorNotAuthorised)  # only the centre picks a programme payer
            if recipient not in self.people:
                broken.append(MemberNotFound)
            elif rules.recipient_age_min is not None and self.age(recipient) < (
                rules.recipient_age_min
            ):
                broken.append(RecipientNotEligible)
            reserved = 0
            if rules.categories and category not in rules.categories:
                broken.append(CategoryUnknown)
            elif not rules.record_minutes_min <= estimate <= rules.record_minutes_max:
                broken.append(ServiceMinutesOutOfRange)
            else:
                reserved = credited_minutes(rules, category, estimate)
                if reserved <= 0:
                    broken.append(CreditRoundsToZero)
            if payer == "sponsor.nobody":
                broken.append(ProgrammeAccountNotFound)
            if broken:
                raise Refusal(*broken)
            now = self.now()
            accept_due = now + timedelta(minutes=rules.deadlines_of(category).accept_within_minutes)
            expires = rules.order_expires_after_minutes
            start = now if scheduled is None else max(now, scheduled)

            def apply(_: Order) -> list[tuple[str, str]]:
                expected = Expected(
                    order_id=order_id,
                    recipient_id=recipient,
                    category=category,
                    estimated_minutes=estimate,
                    reserved_minutes=reserved,
                    payer=payer,
                    scheduled_at=scheduled,
                    requested_at=now,
                    accept_due_at=accept_due,
                    expires_at=None if expires is None else start + timedelta(minutes=expires),
                    escalate_at=accept_due,
                )
                self.orders[order_id] = expected
                self.record(expected, _A.REQUEST, actor, self.on_behalf_of(actor, recipient))
                return []

            return apply

        self.attempt(
            "request",
            None,
            predict,
            lambda: self.bank_book.orders.request(
                RequestOrder(
                    order_id=order_id,
                    recipient_id=recipient,
                    category=category,
                    estimated_minutes=estimate,
                    payer=payer,
                    scheduled_at=scheduled,
                ),
                actor=actor,
            ),
        )

    @rule(data=st.data())
    def request_again(self, data: st.DataObject) -> None:
        """A repeated order id returns the order; with another recipient it is a conflict."""
        if not self.orders:
            self.request(data)
            return
        order = data.draw(st.sampled_from(list(self.orders.values())), label="order")
        recipient = data.draw(st.sampled_from(sorted(RECIPIENTS)), label="recipient")

        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            if recipient != order.recipient_id:
                raise Refusal(IdempotencyConflict)

            def apply(result: Order) -> list[tuple[str, str]]:
                assert result == self.bank_book.orders.get(order.order_id)
                return []

            return apply

        before = book_state(self.bank_book)
        self.attempt(
            "request again",
            order.order_id,
            predict,
            lambda: self.bank_book.orders.request(
                RequestOrder(
                    order_id=order.order_id,
                    recipient_id=recipient,
                    category=order.category,
                    estimated_minutes=order.estimated_minutes,
                    payer=order.payer,
                    scheduled_at=order.scheduled_at,
                ),
                actor=COORDINATOR,
            ),
        )
        assert book_state(self.bank_book) == before

    # --- transitions ------------------------------------------------------------------------

    def dispatch(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        candidate = self.pick_volunteer(data)

        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, _A.DISPATCH, actor)
            if candidate == order.recipient_id:
                broken.append(SelfDealing)
            broken += self.provider_problems(candidate)
            if broken:
                raise Refusal(*broken)

            def apply(_: Order) -> list[tuple[str, str]]:
                order.dispatched_to = candidate
                self.record(order, _A.DISPATCH, actor, None)
                return [("order.dispatched", candidate)]

            return apply

        call = partial(
            self.bank_book.orders.dispatch,
            DispatchOrder(order_id=order.order_id, volunteer_id=candidate),
            actor=actor,
        )
        self.attempt("dispatch", order.order_id, predict, call, **_)

    def publish(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, _A.PUBLISH, actor)
            if broken:
                raise Refusal(*broken)

            def apply(_: Order) -> list[tuple[str, str]]:
                self.record(order, _A.PUBLISH, actor, None)
                return []

            return apply

        call = partial(
            self.bank_book.orders.publish, PublishOrder(order_id=order.order_id), actor=actor
        )
        self.attempt("publish", order.order_id, predict, call, **_)

    def decline(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        why = self.reason(data)

        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, _A.DECLINE, actor)
            if not why.strip():
                broken.append(ReasonRequired)
            if broken:
                raise Refusal(*broken)
            assert order.dispatched_to is not None
            on_behalf_of = self.on_behalf_of(actor, order.dispatched_to)

            def apply(_: Order) -> list[tuple[str, str]]:
                order.dispatched_to = None
                self.record(order, _A.DECLINE, actor, on_behalf_of)
                return []

            return apply

        call = partial(
            self.bank_book.orders.decline,
            DeclineOrder(order_id=order.order_id, reason=why),
            actor=actor,
        )
        self.attempt("decline", order.order_id, predict, call, **_)

    def accept(
        self, data: st.DataObject, order: Expected, actor: str, volunteer_id: str, **_: Any
    ) -> None:
        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, _A.ACCEPT, actor)
            if not self.acts_for(actor, volunteer_id):
                broken.append(ActorNotAuthorised)
            if order.status is _S.DISPATCHED and order.dispatched_to != volunteer_id:
                broken.append(OrderTransitionNotAllowed)
            if volunteer_id == order.recipient_id:
                broken.append(SelfDealing)
            broken += self.provider_problems(volunteer_id)
            if broken:
                raise Refusal(*broken)
            reserved = order.reserved_minutes
            payer_account, debits = self.payer_legs(order, reserved)
            legs = net([*debits, *self.receive(volunteer_id, reserved)])
            if len(legs) < 2:
                raise Refusal(StoredMinutesCapExceeded)
            self.check_bounds(legs)
            now = self.now()
            complete_due = max(now, order.scheduled_at or now) + timedelta(
                minutes=self.policy.deadlines_of(order.category).complete_within_minutes
            )
            on_behalf_of = self.on_behalf_of(actor, volunteer_id)

            def apply(result: Order) -> list[tuple[str, str]]:
                assert result.hold_id is not None
                assert result.hold_id.startswith(f"order.{order.order_id}")
                order.volunteer_id = order.dispatched_to = volunteer_id
                order.payer_account = payer_account
                order.hold_id = result.hold_id
                order.hold = legs
                order.complete_due_at = order.escalate_at = complete_due
                order.escalation_level = 0
                self.hold(legs)
                self.record(order, _A.ACCEPT, actor, on_behalf_of)
                event(f"accept: paid from {payer_account.split('.')[0]}, {len(legs)} legs")
                return []

            return apply

        call = partial(
            self.bank_book.orders.accept,
            AcceptOrder(order_id=order.order_id, volunteer_id=volunteer_id),
            actor=actor,
        )
        self.attempt("accept", order.order_id, predict, call, **_)

    def start(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, _A.START, actor)
            if broken:
                raise Refusal(*broken)
            assert order.volunteer_id is not None
            on_behalf_of = self.on_behalf_of(actor, order.volunteer_id)

            def apply(_: Order) -> list[tuple[str, str]]:
                self.record(order, _A.START, actor, on_behalf_of)
                return []

            return apply

        call = partial(
            self.bank_book.orders.start, StartOrder(order_id=order.order_id), actor=actor
        )
        self.attempt("start", order.order_id, predict, call, **_)

    def complete(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        estimate = order.estimated_minutes
        actual = data.draw(
            st.one_of(
                st.sampled_from((estimate, estimate + 1, estimate * 2, max(estimate // 2, 1))),
                st.sampled_from(ESTIMATES),
                st.integers(0, 2_000),
            ),
            label="actual minutes",
        )

        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, _A.COMPLETE, actor)
            rules = self.policy
            if not rules.record_minutes_min <= actual <= rules.record_minutes_max:
                broken.append(ServiceMinutesOutOfRange)
            elif credited_minutes(rules, order.category, actual) <= 0:
                broken.append(CreditRoundsToZero)
            if broken:
                raise Refusal(*broken)
            assert order.volunteer_id is not None
            on_behalf_of = self.on_behalf_of(actor, order.volunteer_id)

            def apply(_: Order) -> list[tuple[str, str]]:
                order.actual_minutes = actual
                order.escalate_at = None
                self.record(order, _A.COMPLETE, actor, on_behalf_of)
                if actual > estimate:
                    event("complete: more than the estimate")
                return []

            return apply

        call = partial(
            self.bank_book.orders.complete,
            CompleteOrder(order_id=order.order_id, actual_minutes=actual),
            actor=actor,
        )
        self.attempt("complete", order.order_id, predict, call, **_)

    def confirm(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, _A.CONFIRM, actor)
            if broken:
                raise Refusal(*broken)
            assert order.actual_minutes is not None
            assert order.volunteer_id is not None
            credited = min(
                credited_minutes(self.policy, order.category, order.actual_minutes),
                order.reserved_minutes,
            )
            moved = order.hold if credited == order.reserved_minutes else take(order.hold, credited)
            provider = own(order.volunteer_id)
            to_provider = sum(amount for account, amount in moved if account == provider)
            overflow = [a for a, amount in moved if amount > 0 and a != provider]
            on_behalf_of = self.on_behalf_of(actor, order.recipient_id)
            before = self.bank_book.statements.balance(order.volunteer_id).own_minutes

            def apply(_: Order) -> list[tuple[str, str]]:
                self.release(order)
                self.post(moved)
                order.credited_minutes = credited
                order.provider_minutes = to_provider
                order.overflow_account = overflow[0] if overflow else None
                self.record(order, _A.CONFIRM, actor, on_behalf_of)
                assert order.volunteer_id is not None
                after = self.bank_book.statements.balance(order.volunteer_id).own_minutes
                assert after - before == to_provider, (before, after, to_provider)
                self.check_credit(order, actor, on_behalf_of)
                if credited < order.reserved_minutes:
                    event("confirm: less than reserved")
                return []

            return apply

        call = partial(
            self.bank_book.orders.confirm, ConfirmOrder(order_id=order.order_id), actor=actor
        )
        self.attempt("confirm", order.order_id, predict, call, **_)

    def check_credit(self, order: Expected, actor: str, on_behalf_of: str | None) -> None:
        record = self.bank_book.credits.get(f"order-{order.order_id}")
        assert order.volunteer_id is not None
        confirmation = (
            Provenance.ORGANISATION_CONFIRMATION
            if self.is_coordinator(actor) and actor != order.recipient_id
            else Provenance.RECIPIENT_CONFIRMATION
        )
        got = (
            record.provider_id,
            record.recipient_id,
            record.payer_account,
            record.category,
            record.raw_minutes,
            record.credited_minutes,
            record.provider_minutes,
            record.provider_account,
            record.overflow_account,
            record.provenance,
            record.status,
            record.transaction_id,
            record.confirmation,
            record.confirmed_by,
            record.on_behalf_of,
        )
        want = (
            order.volunteer_id,
            order.recipient_id,
            order.payer_account,
            order.category,
            order.actual_minutes,
            order.credited_minutes,
            order.provider_minutes,
            own(order.volunteer_id),
            order.overflow_account,
            Provenance.CHECK_IN_OUT,
            CreditStatus.POSTED,
            order.hold_id,
            confirmation,
            actor,
            on_behalf_of,
        )
        assert got == want, f"credit of {order.order_id}: book {got}, model {want}"

    def reject(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        self.give_up(data, order, actor, _A.REJECT, **_)

    def cancel(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        self.give_up(data, order, actor, _A.CANCEL, **_)

    def give_up(
        self, data: st.DataObject, order: Expected, actor: str, action: OrderAction, **_: Any
    ) -> None:
        """Reject or cancel: any hold is voided, nothing is paid."""
        why = self.reason(data)

        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, action, actor)
            if not why.strip():
                broken.append(ReasonRequired)
            if broken:
                raise Refusal(*broken)
            holding = order.status in HOLDING
            on_behalf_of = self.on_behalf_of(actor, order.recipient_id)

            def apply(_: Order) -> list[tuple[str, str]]:
                if holding:
                    self.release(order)
                order.escalate_at = None
                self.record(order, action, actor, on_behalf_of)
                return []

            return apply

        orders = self.bank_book.orders
        command = (RejectOrder if action is _A.REJECT else CancelOrder)(
            order_id=order.order_id, reason=why
        )
        call = partial(
            orders.reject if action is _A.REJECT else orders.cancel, command, actor=actor
        )  # type: ignore[arg-type]
        self.attempt(action.value, order.order_id, predict, call, **_)

    def rate(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        rating = data.draw(
            st.one_of(st.integers(1, 5), st.sampled_from((0, 6, -1, 10))), label="rating"
        )

        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, _A.RATE, actor)
            if not 1 <= rating <= 5:
                broken.append(RatingOutOfRange)
            if broken:
                raise Refusal(*broken)
            on_behalf_of = self.on_behalf_of(actor, order.recipient_id)

            def apply(_: Order) -> list[tuple[str, str]]:
                order.rating = rating
                self.record(order, _A.RATE, actor, on_behalf_of)
                return []

            return apply

        call = partial(
            self.bank_book.orders.rate,
            RateOrder(order_id=order.order_id, rating=rating, comment="很好"),
            actor=actor,
        )
        self.attempt("rate", order.order_id, predict, call, **_)

    def close(self, data: st.DataObject, order: Expected, actor: str, **_: Any) -> None:
        follow_up = self.reason(data)

        def predict() -> Callable[[Order], list[tuple[str, str]]]:
            broken: list[type[LedgerError]] = []
            self.transition(broken, order, _A.CLOSE, actor)
            if not follow_up.strip():
                broken.append(ReasonRequired)
            if broken:
                raise Refusal(*broken)

            def apply(_: Order) -> list[tuple[str, str]]:
                self.record(order, _A.CLOSE, actor, None)
                return []

            return apply

        call = partial(
            self.bank_book.orders.close,
            CloseOrder(order_id=order.order_id, follow_up=follow_up),
            actor=actor,
        )
        self.attempt("close", order.order_id, predict, call, **_)

    def act(
        self,
        data: st.DataObject,
        action: OrderAction,
        order: Expected,
        actor: str,
        volunteer_id: str,
        only: Only = None,
    ) -> None:
        do = getattr(self, action.value)
        if action is _A.ACCEPT:
            do(data, order, actor, volunteer_id, only=only)
        else:
            do(data, order, actor, only=only)

    def side_of(self, action: OrderAction, order: Expected) -> str | None:
        """Whom the actor must act for: None for a coordinator's action."""
        if action in COORDINATORS_ONLY:
            return None
        if action is _A.ACCEPT:
            return order.dispatched_to
        if action is _A.DECLINE:
            return order.dispatched_to
        if action in VOLUNTEER_SIDE:
            return order.volunteer_id
        return order.recipient_id

    def transition_rule(self, data: st.DataObject, action: OrderAction) -> None:
        """The action on a fitting order (mostly), by someone who may (mostly)."""
        order = self.pick_order(data, action)
        volunteer_id = ""
        if action is _A.ACCEPT:
            volunteer_id = self.pick_volunteer(data, order.dispatched_to)
            actor = self.pick_actor(data, volunteer_id)
        else:
            actor = self.pick_actor(data, self.side_of(action, order))
        self.act(data, action, order, actor, volunteer_id)

    @rule(data=st.data(), action=st.sampled_from(CALLED))
    def act_on_an_order(self, data: st.DataObject, action: OrderAction) -> None:
        """Any action on a fitting order (mostly), by someone who may take it (mostly)."""
        if not self.orders:
            self.request(data)
            return
        self.transition_rule(data, action)

    @rule(data=st.data())
    def move_an_order_on(self, data: st.DataObject) -> None:
        """The next step of an order's usual course, by someone who may take it."""
        moving = [o for o in self.orders.values() if o.status in USUAL_COURSE]
        if not moving:
            self.request(data)
            return
        order = data.draw(st.sampled_from(moving), label="order")
        action = data.draw(st.sampled_from(USUAL_COURSE[order.status]), label="next action")
        volunteer_id = ""
        if action in (_A.ACCEPT, _A.DISPATCH):
            eligible = [
                v
                for v in (*VOLUNTEERS, SERVING_RECIPIENT)
                if v != order.recipient_id and not self.provider_problems(v)
            ]
            volunteer_id = order.dispatched_to or data.draw(st.sampled_from(eligible))
        side = volunteer_id if action is _A.ACCEPT else self.side_of(action, order)
        choices = [COORDINATOR, SYSTEM]
        if side is not None:
            choices += [side] * 2 + ([KIN] if side == PROXIED else [])
        actor = data.draw(st.sampled_from(choices), label="actor")
        self.act(data, action, order, actor, volunteer_id)

    @rule(data=st.data())
    def move_another_order_on(self, data: st.DataObject) -> None:
        """Orders mostly follow their usual course: give it more steps."""
        self.move_an_order_on(data)

    @rule(data=st.data())
    def try_an_illegal_transition(self, data: st.DataObject) -> None:
        """Every action the order's status does not allow, asked for by someone who may ask."""
        if not self.orders:
            self.request(data)
            return
        order = self.pick_by_status(data, list(self.orders.values()))
        actor = data.draw(st.sampled_from((COORDINATOR, SYSTEM)), label="actor")
        volunteer_id = order.dispatched_to or data.draw(st.sampled_from(sorted(VOLUNTEERS)))
        for action in CALLED:
            if order.status not in LIFECYCLE[action][0]:
                self.act(data, action, order, actor, volunteer_id, only=OrderTransitionNotAllowed)

    @rule(data=st.data())
    def try_acting_for_someone_else(self, data: st.DataObject) -> None:
        """A member (or a stranger) who may not act for the order's side asks for a legal action."""
        unfinished = [
            o for o in self.orders.values() if o.status in OPEN | {_S.CONFIRMED, _S.RATED}
        ]
        if not unfinished:
            self.request(data)
            return
        order = self.pick_by_status(data, unfinished)
        legal = [a for a in CALLED if order.status in LIFECYCLE[a][0]]
        action = data.draw(st.sampled_from(legal), label="action")
        side = self.side_of(action, order)
        volunteer_id = ""
        if action is _A.ACCEPT:
            volunteer_id = side or self.pick_volunteer(data)
            side = volunteer_id
        intruders = [
            a
            for a in self.actors()
            if not self.is_coordinator(a) and (side is None or not self.acts_for(a, side))
        ]
        actor = data.draw(st.sampled_from(intruders), label="intruder")
        self.act(data, action, order, actor, volunteer_id, only=(ActorNotAuthorised, OrderNotFound))

    # --- time and deadlines --------------------------------------------------------------------

    @rule(step=st.sampled_from(CLOCK_STEPS))
    def advance_clock(self, step: timedelta) -> None:
        self.clock.advance(step)

    def due(self) -> list[Expected]:
        """Open orders whose escalation (or, where they may expire, expiry) is due, by id."""
        now = self.now()
        found = []
        for order in self.orders.values():
            if order.status not in OPEN:
                continue
            moments = [order.escalate_at]
            if order.status in LIFECYCLE[_A.EXPIRE][0]:
                moments.append(order.expires_at)
            if any(m is not None and m <= now for m in moments):
                found.append(order)
        return sorted(found, key=lambda o: o.order_id)

    @rule(data=st.data())
    def run_deadlines(self, data: st.DataObject) -> None:
        """Time passes, then overdue orders escalate up the chain and stale ones expire."""
        self.clock.advance(data.draw(st.sampled_from(CLOCK_STEPS), label="time passes"))
        actor = data.draw(st.sampled_from((COORDINATOR,) * 4 + (SYSTEM, "v1", KIN)), label="actor")
        limit = data.draw(st.sampled_from((100, 100, 1, 2)), label="limit")
        run = None

        def predict() -> Callable[[Any], list[tuple[str, str]]]:
            if actor != SYSTEM:  # a run spans every community: the application's to make
                raise Refusal(ActorNotAuthorised)
            due = self.due()
            rules, now = self.policy, self.now()
            expired = [
                o.order_id
                for o in due[:limit]
                if o.expires_at is not None
                and o.expires_at <= now
                and o.status in LIFECYCLE[_A.EXPIRE][0]
            ]

            def apply(result: Any) -> list[tuple[str, str]]:
                nonlocal run
                run = result
                messages = []
                for order in due[:limit]:
                    if order.order_id in expired:
                        if order.status in HOLDING:
                            self.release(order)
                        order.escalate_at = None
                        self.record(order, _A.EXPIRE, actor, None)
                        messages.append(("order.expired", order.order_id))
                        continue
                    chain = rules.escalation_chain
                    order.escalation_level = min(order.escalation_level + 1, len(chain))
                    order.escalate_at = (
                        now + timedelta(minutes=rules.escalate_every_minutes)
                        if order.escalation_level < len(chain)
                        else None
                    )
                    self.record(order, _A.ESCALATE, actor, None)
                    messages.append(("order.escalated", order.order_id))
                assert result.expired == tuple(expired), result
                escalated = tuple(o.order_id for o in due[:limit] if o.order_id not in expired)
                assert result.escalated == escalated, result
                assert result.reminded == ()
                assert result.more == (len(due) > limit), result
                if result.expired:
                    event("deadlines: expired")
                if result.escalated:
                    event("deadlines: escalated")
                return messages

            return apply

        call = partial(self.bank_book.orders.run_deadlines, RunDeadlines(limit=limit), actor=actor)
        self.attempt("run deadlines", None, predict, call)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def accounts_match_the_model(self) -> None:
        """Every account's posted and pending minutes are the model's; the books balance."""
        if self.book is None:
            return
        self.steps += 1
        accounts = self.bank_book.read(
            lambda _, ledger: {a.account_id: a for a in ledger.accounts(after=None, limit=PAGE)}
        )
        assert sum(a.posted_minutes for a in accounts.values()) == 0
        assert sum(a.debits_pending_minutes for a in accounts.values()) == sum(
            a.credits_pending_minutes for a in accounts.values()
        )
        assert sorted(accounts) == sorted(self.accounts)
        for account_id, mine in self.accounts.items():
            actual = accounts[account_id]
            got = (
                actual.posted_minutes,
                actual.debits_pending_minutes,
                actual.credits_pending_minutes,
            )
            want = (mine.posted, mine.debits_pending, mine.credits_pending)
            assert got == want, f"{account_id}: book {got}, model {want}"
        if self.steps % VERIFY_EVERY == 0:
            report = self.bank_book.statements.verify()
            assert report.ok, report.first_break

    @invariant()
    def orders_match_the_model(self) -> None:
        """Each order's status, parties, minutes, deadlines and history are the model's."""
        if self.book is None or self.steps % self.check_every:
            return
        book_orders = {o.order_id: o for o in self.bank_book.orders.list(limit=PAGE)}
        assert sorted(book_orders) == sorted(self.orders)
        for order_id, mine in self.orders.items():
            order = book_orders[order_id]
            got = (
                order.status,
                order.recipient_id,
                order.dispatched_to,
                order.volunteer_id,
                order.payer_account,
                order.hold_id,
                order.reserved_minutes,
                order.accept_due_at,
                order.complete_due_at,
                order.expires_at,
                order.escalation_level,
                order.escalate_at,
                order.actual_minutes,
                order.credited_minutes,
                order.rating,
                order.credit_id,
            )
            want = (
                mine.status,
                mine.recipient_id,
                mine.dispatched_to,
                mine.volunteer_id,
                mine.payer_account,
                mine.hold_id,
                mine.reserved_minutes,
                mine.accept_due_at,
                mine.complete_due_at,
                mine.expires_at,
                mine.escalation_level,
                mine.escalate_at,
                mine.actual_minutes,
                mine.credited_minutes,
                mine.rating,
                f"order-{order_id}" if mine.status in SETTLED else None,
            )
            assert got == want, f"{order_id}: book {got}, model {want}"
            steps = [Step(s.action, s.status, s.at, s.actor, s.on_behalf_of) for s in order.history]
            assert steps == mine.steps, f"{order_id}: history {steps}, model {mine.steps}"

    @invariant()
    def holds_are_the_reservations(self) -> None:
        """Accepted, started and completed orders hold their reservation; no others hold."""
        if self.book is None or self.steps % self.check_every:
            return
        ids = [o.hold_id for o in self.orders.values() if o.hold_id is not None]
        holds = self.bank_book.read(lambda _, ledger: {h: ledger.hold(h) for h in ids})
        held = 0
        for order in self.orders.values():
            if order.hold_id is None:
                assert order.status in _WAITING | {_S.CANCELLED, _S.EXPIRED}, order.order_id
                continue
            hold = holds[order.hold_id]
            assert hold is not None, order.order_id
            legs = [
                (p.account_id, p.amount_minutes if p.side is Side.CREDIT else -p.amount_minutes)
                for p in hold.postings
            ]
            assert legs == order.hold, (order.order_id, legs, order.hold)
            debited = -sum(amount for _, amount in legs if amount < 0)
            if order.payer_account != self.policy.overflow_account:
                # Only a payer that is also the overflow account nets against the overflow.
                assert debited == order.reserved_minutes, (order.order_id, debited)
            if order.status in HOLDING:
                assert hold.status is HoldStatus.PENDING, (order.order_id, hold.status)
                held += debited
            elif order.status in SETTLED:
                # A partial settlement the ledger cannot post releases the hold and transfers.
                assert hold.status in (HoldStatus.POSTED, HoldStatus.VOIDED), order.order_id
            else:
                assert hold.status is HoldStatus.VOIDED, (order.order_id, hold.status)
        members = self.bank_book.read(
            lambda snap, _: sum(balances(snap, m).held_minutes for m in self.people)
        )
        programme = self.bank_book.read(
            lambda _, ledger: sum(
                a.debits_pending_minutes
                for a in ledger.accounts(after=None, limit=PAGE)
                if not a.account_id.startswith("m.")
            )
        )
        assert members + programme == held, (members, programme, held)

    @invariant()
    def each_settled_order_posted_one_credit(self) -> None:
        """Confirmed, rated and closed orders have one posted credit each; no other order does."""
        if self.book is None or self.steps % self.check_every:
            return
        records = self.bank_book.read(lambda snap, _: list(snap.records.all_credits()))
        settled = {o.order_id: o for o in self.orders.values() if o.status in SETTLED}
        assert sorted(r.credit_id for r in records) == sorted(f"order-{i}" for i in settled)
        for record in records:
            order = settled[record.credit_id.removeprefix("order-")]
            assert record.status is CreditStatus.POSTED, record
            assert record.credited_minutes == order.credited_minutes, record
            assert record.credited_minutes <= order.reserved_minutes, record
            assert record.provider_minutes == order.provider_minutes, record

    @invariant()
    def liability_is_what_the_programme_gave(self) -> None:
        """Members' purses sum to what the programme gave out; the outbox holds what was sent."""
        if self.book is None or self.steps % self.check_every:
            return
        liability = self.bank_book.statements.liability()
        modelled = sum(a.posted for i, a in self.accounts.items() if i.startswith("m."))
        programme = sum(
            self.bank_book.statements.programme_balance(i)
            for i in self.accounts
            if not i.startswith("m.")
        )
        assert liability == modelled == -programme, (liability, modelled, programme)
        assert len(self.bank_book.outbox.pending(limit=PAGE)) == self.outbox_count


_HEAVY = settings().max_examples >= 1_000

TestOrdersMachine = OrdersMachine.TestCase
TestOrdersMachine.settings = settings(
    max_examples=400 if _HEAVY else 60,
    stateful_step_count=60 if _HEAVY else 40,
    phases=[phase for phase in Phase if phase is not Phase.explain],
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- on the SQL stores ------------------------------------------------------------------------

_DATABASE_SETTINGS = settings(
    TestOrdersMachine.settings,
    max_examples=20 if _HEAVY else 12,
    stateful_step_count=40 if _HEAVY else 30,
)


class SqliteOrdersMachine(OrdersMachine):
    """The same machine on a fresh SQLite file per run."""

    check_every = 3

    def make_bank(self) -> TimeBank:
        directory = self.resources.enter_context(TemporaryDirectory())
        bank = TimeBank.open(sqlite_path(Path(directory)), clock=self.clock)
        self.resources.callback(bank.close)
        return bank


class PostgresOrdersMachine(OrdersMachine):
    """The same machine in a fresh PostgreSQL schema per run."""

    check_every = 3

    def make_bank(self) -> TimeBank:
        url, _schema = self.resources.enter_context(postgres_schema())
        bank = TimeBank.open(url, clock=self.clock)
        self.resources.callback(bank.close)
        return bank


TestSqliteOrdersMachine = SqliteOrdersMachine.TestCase
TestSqliteOrdersMachine.settings = _DATABASE_SETTINGS


@pytest.mark.postgres
@pytest.mark.skipif(postgres_base_url() is None, reason="needs TIMEBANK_TEST_POSTGRES_URL")
class TestPostgresOrdersMachine(PostgresOrdersMachine.TestCase):  # type: ignore[name-defined,misc]
    settings = _DATABASE_SETTINGS
