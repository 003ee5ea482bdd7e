"""The facade as a state machine: a random programme run through ``BankBook``, checked by a model.

From a preset (Nanjing, Shanghai, Hangzhou Xihu, Ruian, TimeOverflow) or random
valid ``PolicyRules``, each step calls one public ``BankBook`` method:
registering members (ages 10 to 95, random roles, vetting and flags), relations,
proxies (authorised, revoked, and acting for their members), new policy
versions and their activation, service credits of every provenance and payer,
confirmations and disputes of held credits, reversals, redemptions for services
and goods (completed for fewer minutes, or cancelled), gifts, donations (own and
group minutes), grants, events with late additions, expiry and deaths, while the
clock moves on.

The model restates the rules from their documentation: who may act, who may
serve and be served, how raw minutes become credited minutes, that a payer
spends own minutes, then gifted ones, then the credit line, that minutes over
the cap overflow (or are refused where they cannot), what may expire. For every
call it predicts either the ledger movement (every account's posted and pending
minutes, which the invariants compare with the book) or a refusal and the
errors that may explain it. A refused call must raise a ``LedgerError`` and
leave the whole book (chain head, accounts, records) as it was.

The model is deliberately plain, so that a refusal it predicts is one the
rules demand, and a movement it predicts is one the rules allow; a difference
either way fails the run, and so does any exception that is not a
``LedgerError``. After every step the invariants check that the books balance
(and, every few steps, ``verify()`` and every passbook), that members stay
within their bounds, that every credit names its provenance and the policy
version in force when it was made, that the programme's liability is the
model's own tally, and that members' held minutes are their unconfirmed
credits and bookings.

The in-memory run takes its settings from the loaded profile (about 12 s under
"dev"; under "ci", 1,000 runs of up to 60 steps, about 3 minutes). The SQLite
and PostgreSQL runs are smaller: 15 runs of 30 steps (40 of 40 under "ci").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.bank.helpers import book_state
from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import (
    ActivatePolicy,
    AddMerchant,
    AddPolicy,
    AddSponsor,
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
    AttendeesInvalid,
    BirthDateInvalid,
    BookingsOpenAtDeath,
    CategoryUnknown,
    Credit,
    CreditLimitExceeded,
    CreditNotFound,
    CreditNotPending,
    CreditNotPosted,
    CreditRoundsToZero,
    CreditStatus,
    DeathHandling,
    EventNotFound,
    GiftNotAllowed,
    GrantEligibility,
    GroupMinutesOnlyDonated,
    MemberExists,
    MemberNotActive,
    MemberNotFound,
    MemberStatus,
    MerchantRedemptionNotAllowed,
    MinutesNotPositive,
    PolicyInvalid,
    PolicyNotDraft,
    PolicyNotFound,
    PolicyRules,
    PolicyStatus,
    ProgrammeAccountNotFound,
    Provenance,
    ProviderNotEligible,
    ProxyNotFound,
    ReasonRequired,
    RecipientNotEligible,
    RedemptionAgeNotReached,
    RedemptionKind,
    RedemptionNotBooked,
    RedemptionNotFound,
    RedemptionStatus,
    RelationExists,
    RelationKind,
    RelationToSelf,
    Role,
    Rounding,
    SelfDealing,
    ServiceMinutesOutOfRange,
    StoredMinutesCapExceeded,
    Vetting,
)
from timebank.community.presets import PRESETS, SERVICE_CATEGORIES
from timebank.ledger import (
    AccountNotFound,
    EffectiveTimeAfterRecording,
    InsufficientMinutes,
    LedgerError,
    ManualClock,
    PostExceedsHold,
)

T = TypeVar("T")

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
"""09:00 on a Monday in Asia/Shanghai, the zone a ``TimeBank`` reckons dates in."""
ZONE = ZoneInfo("Asia/Shanghai")
BOOK_ID = "centre"
COORDINATOR = "coord"
GHOST = "ghost"
"""A member id that is never registered."""
SPONSOR_ID, MERCHANT_ID = "s1", "shop"
SPONSOR, MERCHANT = f"sponsor.{SPONSOR_ID}", f"merchant.{MERCHANT_ID}"
PROGRAMME_ACCOUNTS = ("guarantee", "issuance", MERCHANT, "pool", SPONSOR)
PROGRAMME_MINIMUMS: dict[str, int | None] = {
    "guarantee": None,
    "issuance": None,
    MERCHANT: 0,
    "pool": 0,
    SPONSOR: None,
}
"""The pool and merchants never go below zero; the funds and sponsors may (they mint)."""
MEMBERS_MAX = 9
FLAGS = ("living_alone", "low_income", "disabled")
CATEGORIES = ("companionship", "daily_care", "errands", "health", "gardening")
"""The last is in no preset's list."""
NAMES = ("李娜", "王芳", "张伟", "刘洋", "陈静", "Ana Souza")
COORDINATING = frozenset({Role.COORDINATOR, Role.ADMIN})
AUTO_CONFIRMED = frozenset(
    {Provenance.RECIPIENT_CONFIRMATION, Provenance.ORGANISATION_CONFIRMATION}
)
INVERSE = {
    RelationKind.SPOUSE: RelationKind.SPOUSE,
    RelationKind.PARENT: RelationKind.CHILD,
    RelationKind.CHILD: RelationKind.PARENT,
    RelationKind.GRANDPARENT: RelationKind.GRANDCHILD,
    RelationKind.GRANDCHILD: RelationKind.GRANDPARENT,
    RelationKind.SIBLING: RelationKind.SIBLING,
    RelationKind.FRIEND: RelationKind.FRIEND,
}
CLOCK_STEPS = (
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=30),
    timedelta(days=90),
    timedelta(days=400),
)
PAST = (
    timedelta(0),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=30),
    timedelta(days=90),
    timedelta(days=400),
    timedelta(hours=-1),
)
"""How long before now a service or event took place (the last one: in an hour)."""
EXPIRY_DAYS = (1, 7, 30, 90, 365)
VERIFY_EVERY = 10
"""Steps between full ``verify()`` runs (and at the end of every run)."""
PASSBOOK_PAGE = 20


# --- rules restated ---------------------------------------------------------------------------


def age_on(birth: date, day: date) -> int:
    """Whole years: one fewer until the birthday in the year of ``day``."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def credited_minutes(rules: PolicyRules, category: str, raw_minutes: int) -> int:
    """A flat credit, or raw minutes times the category's weight, rounded to whole steps."""
    if rules.flat_credit_minutes is not None:
        return rules.flat_credit_minutes
    step = rules.rounding_step_minutes
    steps = Fraction(raw_minutes * rules.weights_permille.get(category, 1000), 1000 * step)
    if rules.rounding is Rounding.DOWN:
        whole = math.floor(steps)
    elif rules.rounding is Rounding.UP:
        whole = math.ceil(steps)
    else:
        whole = math.floor(steps + Fraction(1, 2))
    return whole * step


Leg = tuple[str, int]
"""One posting as the model sees it: the account and a signed amount (credits positive)."""


def net(legs: Iterable[Leg]) -> list[Leg]:
    """One leg per account, in order of first appearance; accounts netting to zero drop out."""
    totals: dict[str, int] = {}
    for account, amount in legs:
        totals[account] = totals.get(account, 0) + amount
    return [(account, amount) for account, amount in totals.items() if amount]


def own(member_id: str) -> str:
    return f"m.{member_id}"


def gifted(member_id: str) -> str:
    return f"m.{member_id}.gifted"


def group(member_id: str) -> str:
    return f"m.{member_id}.group"


def purses(member_id: str) -> tuple[str, str, str]:
    return (own(member_id), gifted(member_id), group(member_id))


# --- the model --------------------------------------------------------------------------------


class Refusal(Exception):
    """The model's prediction that a call is refused, with every error that may explain it."""

    def __init__(self, *errors: type[LedgerError]) -> None:
        super().__init__(", ".join(error.__name__ for error in errors))
        self.errors = errors


class Rules:
    """Collects the rules a call breaks, so that they can be checked in any order."""

    def __init__(self) -> None:
        self.broken: list[type[LedgerError]] = []

    def need(self, condition: bool, error: type[LedgerError]) -> bool:
        if not condition:
            self.broken.append(error)
        return condition

    def attempt(self, work: Callable[[], T]) -> T | None:
        """Run a part of the model that may itself predict a refusal."""
        try:
            return work()
        except Refusal as refusal:
            self.broken.extend(refusal.errors)
            return None

    def done(self) -> None:
        if self.broken:
            raise Refusal(*self.broken)


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
    flags: frozenset[str]
    credit_limit: int
    """The credit line of the policy in force at registration: the own purse's lowest balance."""
    status: MemberStatus = MemberStatus.ACTIVE


@dataclass
class Policy:
    rules: PolicyRules
    status: PolicyStatus = PolicyStatus.DRAFT


@dataclass
class ServiceCredit:
    credit_id: str
    provider_id: str
    recipient_id: str | None
    payer_account: str
    credited_minutes: int
    provider_minutes: int
    provider_account: str
    overflow_account: str | None
    policy_version: int
    status: CreditStatus
    transaction_id: str
    moved: list[Leg] = field(default_factory=list)
    """What the credit moved once posted (for a reversal), or holds while pending."""
    event_id: str | None = None


@dataclass
class Booking:
    saver_id: str
    booked_minutes: int
    hold: list[Leg]
    provider_id: str | None = None
    status: RedemptionStatus = RedemptionStatus.BOOKED


@dataclass
class GroupEvent:
    category: str
    held_at: datetime
    payer_account: str
    group: bool
    credited: set[str] = field(default_factory=set)


@dataclass
class Movement:
    """A ledger request the model predicts: what kind, under which id, moving what."""

    kind: str
    """``transfer``, ``hold``, ``post`` (of ``hold_id``), ``void`` (of ``hold_id``)."""
    transaction_id: str
    legs: list[Leg]
    effective_at: datetime | None = None
    hold_id: str | None = None


# --- strategies ------------------------------------------------------------------------------


@st.composite
def random_rules(draw: st.DrawFn) -> PolicyRules:
    """Valid rules with small numbers, so that caps, limits and expiry are reached."""
    categories = draw(st.sampled_from(((), SERVICE_CATEGORIES, ("companionship", "errands"))))
    return PolicyRules(
        name="random programme",
        categories=categories,
        weights_permille=draw(
            st.dictionaries(
                st.sampled_from(CATEGORIES), st.sampled_from((500, 1500, 2000)), max_size=2
            )
        ),
        rounding_step_minutes=draw(st.sampled_from((1, 15, 30, 60))),
        rounding=draw(st.sampled_from(Rounding)),
        flat_credit_minutes=draw(st.sampled_from((None, None, None, 30, 60))),
        record_minutes_min=draw(st.sampled_from((1, 10, 30))),
        record_minutes_max=draw(st.sampled_from((120, 240, 24 * 60))),
        provider_age_min=draw(st.sampled_from((10, 16, 18))),
        provider_age_max=draw(st.sampled_from((None, None, 75))),
        provider_age_min_in_group=draw(st.sampled_from((None, 10, 14))),
        provider_vetting_required=draw(st.booleans()),
        provider_vetting_street=draw(st.booleans()),
        recipient_age_min=draw(st.sampled_from((None, 60, 65))),
        recipient_flags_any=draw(st.sampled_from((frozenset(), frozenset({"living_alone"})))),
        recipient_flags_waive_age=draw(st.booleans()),
        redeem_age_min=draw(st.sampled_from((None, None, 60))),
        payer_default=draw(st.sampled_from(("recipient", "issuance", "pool", SPONSOR))),
        subsidised_flags=draw(st.sampled_from((frozenset(), frozenset({"low_income"})))),
        subsidised_payer=draw(st.sampled_from((None, "issuance", SPONSOR))),
        credit_limit_minutes=draw(st.sampled_from((0, 0, 60, 600))),
        stored_minutes_max=draw(st.sampled_from((None, 120, 300, 1000))),
        overflow_account=draw(st.sampled_from(("pool", "guarantee"))),
        group_minutes_donate_only=draw(st.booleans()),
        gift_relations=draw(st.frozensets(st.sampled_from([k.value for k in RelationKind]))),
        gift_receiver_age_min=draw(st.sampled_from((None, 60, 60))),
        gift_receiver_age_exempt_relations=draw(
            st.sampled_from((frozenset(), frozenset({"spouse"})))
        ),
        starting_grant_minutes=draw(st.sampled_from((0, 0, 60, 300))),
        guarantee_grants_to=draw(
            st.sampled_from(
                (
                    (),
                    (GrantEligibility(age_min=80, flags=frozenset({"living_alone"})),),
                    (GrantEligibility(age_min=60), GrantEligibility(flags=frozenset(FLAGS[1:]))),
                )
            )
        ),
        merchant_redemption=draw(st.booleans()),
        confirmation_required=draw(st.booleans()),
        expiry_days=draw(st.sampled_from((None, 1, 7, *EXPIRY_DAYS))),
        death_handling=draw(st.sampled_from(DeathHandling)),
    )


def consistent(rules: PolicyRules) -> bool:
    """A starting grant fits under the cap (the only rule tying two of these fields together)."""
    cap = rules.stored_minutes_max
    return cap is None or rules.starting_grant_minutes <= cap


def rules_from(draw: st.DataObject, current: PolicyRules | None) -> tuple[PolicyRules, bool]:
    """New rules (a preset, random, or the current ones changed) and whether they are valid."""
    kind = draw.draw(
        st.sampled_from(("preset", "random", "tweak", "invalid") if current else ("preset",)),
        label="rules from",
    )
    if kind == "preset" or current is None:
        name = draw.draw(st.sampled_from(sorted(PRESETS)), label="preset")
        return PRESETS[name](), True
    if kind == "random":
        rules = draw.draw(random_rules(), label="random rules")
        return rules, consistent(rules)
    if kind == "invalid":
        broken = draw.draw(
            st.sampled_from(
                (
                    {"record_minutes_min": 500, "record_minutes_max": 100},
                    {"weights_permille": {"errands": 0}},
                    {"stored_minutes_max": 0},
                    {"provider_age_min": 200},
                    {"name": " "},
                )
            ),
            label="invalid change",
        )
        return _changed(current, broken), False
    changes = draw.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "expiry_days": st.sampled_from(EXPIRY_DAYS),
                "stored_minutes_max": st.sampled_from((None, 60, 200, 2000)),
                "credit_limit_minutes": st.sampled_from((0, 120)),
                "confirmation_required": st.booleans(),
                "payer_default": st.sampled_from(("recipient", "issuance", "pool")),
                "group_minutes_donate_only": st.booleans(),
                "redeem_age_min": st.sampled_from((None, 60)),
                "death_handling": st.sampled_from(DeathHandling),
                "gift_relations": st.frozensets(
                    st.sampled_from([k.value for k in RelationKind]), min_size=1
                ),
            },
        ),
        label="changes",
    )
    changed = _changed(current, changes)
    return changed, consistent(changed)


def _changed(rules: PolicyRules, changes: dict[str, Any]) -> PolicyRules:
    fields = {name: getattr(rules, name) for name in rules.__struct_fields__}
    fields.update(changes)
    return PolicyRules(**fields)


# --- the machine --------------------------------------------------------------------------------


class BankMachine(RuleBasedStateMachine):
    """Random programmes through ``BankBook``, each call predicted by the model above."""

    def __init__(self) -> None:
        super().__init__()
        self.resources = ExitStack()
        self.clock = ManualClock(START)
        self.bank = self.make_bank()
        self.book: BankBook | None = None
        # the ledger, as the model sees it
        self.accounts: dict[str, Account] = {}
        self.holds: dict[str, list[Leg]] = {}
        self.own_entries: dict[str, list[tuple[int, datetime]]] = {}
        """Posted changes of each own purse, with their effective times (for expiry)."""
        self.last_recorded: datetime | None = None
        self.tally = 0
        """Minutes minted, granted and credited less those redeemed, expired and donated."""
        # the records, as the model sees them
        self.people: dict[str, Person] = {}
        self.relations: dict[tuple[str, str], RelationKind] = {}
        self.proxies: dict[tuple[str, str], bool] = {}
        self.policies: dict[int, Policy] = {}
        self.active = 0
        self.credits: dict[str, ServiceCredit] = {}
        self.credit_of_transaction: dict[str, ServiceCredit] = {}
        self.bookings: dict[str, Booking] = {}
        self.events: dict[str, GroupEvent] = {}
        # bookkeeping of the run
        self.serial = 0
        self.steps = 0
        self.touched: set[str] = set()
        self.stored_before: dict[str, int] = {}
        self.refunded: set[str] = set()
        """Members a reversal refunded in this step (a refund may pass the cap)."""
        self.last_expiry_at: datetime | None = None

    def make_bank(self) -> TimeBank:
        return TimeBank(clock=self.clock)

    def teardown(self) -> None:
        try:
            if self.book is not None:
                report = self.book.statements.verify()
                assert report.ok, report.first_break
        finally:
            self.resources.close()

    # --- small helpers ------------------------------------------------------------------

    @property
    def bank_book(self) -> BankBook:
        assert self.book is not None
        return self.book

    @property
    def in_force(self) -> PolicyRules:
        return self.policies[self.active].rules

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.now().astimezone(ZONE).date()

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def age(self, member_id: str) -> int:
        return age_on(self.people[member_id].birth_date, self.today())

    def exists(self, member_id: str) -> bool:
        return member_id in self.people

    def is_active(self, member_id: str) -> bool:
        person = self.people.get(member_id)
        return person is not None and person.status is MemberStatus.ACTIVE

    def is_coordinator(self, actor: str) -> bool:
        """The application, or an active coordinator or administrator: everyone here lives in
        one community, so a coordinator covers them all."""
        if actor == SYSTEM:
            return True
        return self.is_active(actor) and bool(self.people[actor].roles & COORDINATING)

    def everywhere(self, actor: str) -> bool:
        """The application, or an active administrator: what spans the book is theirs."""
        return actor == SYSTEM or (self.is_active(actor) and Role.ADMIN in self.people[actor].roles)

    def has_authority(self, actor: str) -> bool:
        """Anyone else (a stranger, a suspended or deceased member) is refused every call."""
        return actor == SYSTEM or self.is_active(actor)

    def acts_for(self, actor: str, member_id: str, *, coordinator_ok: bool = False) -> bool:
        """The member themselves, the embedding application, an active proxy (or a coordinator)."""
        if actor == SYSTEM:
            return True
        if not self.is_active(actor):
            return False
        if actor == member_id or (coordinator_ok and self.is_coordinator(actor)):
            return True
        return self.proxies.get((member_id, actor), False)

    def sees(self, actor: str, member_id: str) -> bool:
        """Whether the actor may see the member's records (else: as if the member did not exist)."""
        return self.exists(member_id) and self.acts_for(actor, member_id, coordinator_ok=True)

    def need_sight(self, rules: Rules, actor: str, *member_ids: str) -> bool:
        """The actor must have authority and see every member named (else: not found)."""
        rules.need(self.has_authority(actor), ActorNotAuthorised)
        seen = all(self.sees(actor, m) for m in member_ids)
        rules.need(seen, MemberNotFound)
        return seen

    def need_staff(self, rules: Rules, actor: str, *member_ids: str) -> bool:
        """Only a coordinator, who must also see the members named."""
        self.need_sight(rules, actor, *member_ids)
        return rules.need(self.is_coordinator(actor), ActorNotAuthorised)

    def need_no_own_gain(self, rules: Rules, actor: str, gainer: str | None) -> None:
        """Nobody approves what pays themselves (the application excepted)."""
        rules.need(actor == SYSTEM or actor != gainer, ActorNotAuthorised)

    def on_behalf_of(self, actor: str, member_id: str) -> str | None:
        return None if actor == member_id else member_id

    def need_active(self, rules: Rules, member_id: str) -> bool:
        if not rules.need(self.exists(member_id), MemberNotFound):
            return False
        return rules.need(self.is_active(member_id), MemberNotActive)

    def stored(self, member_id: str) -> int:
        return sum(
            self.accounts[a].posted + self.accounts[a].credits_pending for a in purses(member_id)
        )

    # --- the rules, restated ---------------------------------------------------------------------

    def provider_ok(
        self, rules: Rules, policy: PolicyRules, member_id: str, *, in_group: bool
    ) -> None:
        eligible = self.can_provide(policy, member_id, in_group=in_group)
        rules.need(eligible, ProviderNotEligible)

    def recipient_ok(self, rules: Rules, policy: PolicyRules, member_id: str) -> None:
        rules.need(self.can_receive(policy, member_id), RecipientNotEligible)

    def redeem_age_ok(self, rules: Rules, policy: PolicyRules, member_id: str) -> None:
        rules.need(self.can_redeem(policy, member_id), RedemptionAgeNotReached)

    def can_provide(self, policy: PolicyRules, member_id: str, *, in_group: bool) -> bool:
        """Volunteers; old enough (younger ones in groups, where allowed); vetted if required."""
        person = self.people[member_id]
        age = self.age(member_id)
        youngest = policy.provider_age_min
        if in_group and policy.provider_age_min_in_group is not None:
            youngest = min(youngest, policy.provider_age_min_in_group)
        return (
            Role.VOLUNTEER in person.roles
            and age >= youngest
            and (policy.provider_age_max is None or age <= policy.provider_age_max)
            and not (
                policy.provider_vetting_required
                and person.vetting not in (Vetting.COMMUNITY, Vetting.STREET)
            )
            and not (policy.provider_vetting_street and person.vetting is not Vetting.STREET)
        )

    def can_receive(self, policy: PolicyRules, member_id: str) -> bool:
        """Old enough; or, where flags are named, flagged (and old enough unless they waive age)."""
        age = self.age(member_id)
        old_enough = policy.recipient_age_min is None or age >= policy.recipient_age_min
        flagged = bool(self.people[member_id].flags & policy.recipient_flags_any)
        if not policy.recipient_flags_any:
            eligible = old_enough
        elif policy.recipient_flags_waive_age:
            eligible = flagged or old_enough
        else:
            eligible = flagged and old_enough
        return eligible

    def guaranteed(self, policy: PolicyRules, member_id: str) -> bool:
        """Whether the guarantee fund covers the member (any of its rules; none: anyone)."""
        age, flags = self.age(member_id), self.people[member_id].flags
        rules_for = policy.guarantee_grants_to
        return not rules_for or any(age >= e.age_min and e.flags <= flags for e in rules_for)

    def can_redeem(self, policy: PolicyRules, member_id: str) -> bool:
        minimum = policy.redeem_age_min
        return minimum is None or self.age(member_id) >= minimum

    def spendable(self, member_id: str, line: int) -> int:
        """What a member can pay: own and gifted minutes, and what is left of a credit line."""
        own_left = self.accounts[own(member_id)].available
        gifted_left = self.accounts[gifted(member_id)].available
        return max(own_left, 0) + gifted_left + max(line + min(own_left, 0), 0)

    def service_minutes(
        self, rules: Rules, policy: PolicyRules, category: str, raw_minutes: int
    ) -> int | None:
        if not rules.need(not policy.categories or category in policy.categories, CategoryUnknown):
            return None
        in_range = policy.record_minutes_min <= raw_minutes <= policy.record_minutes_max
        if not rules.need(in_range, ServiceMinutesOutOfRange):
            return None
        minutes = credited_minutes(policy, category, raw_minutes)
        return minutes if rules.need(minutes > 0, CreditRoundsToZero) else None

    def spend(self, policy: PolicyRules, member_id: str, minutes: int, line: int) -> list[Leg]:
        """A payer spends own minutes first, then gifted ones, then the credit line."""
        own_left = self.accounts[own(member_id)].available
        gifted_left = self.accounts[gifted(member_id)].available
        group_left = self.accounts[group(member_id)].available
        on_hand = max(own_left, 0) + gifted_left
        line_left = max(line + min(own_left, 0), 0)
        if minutes > on_hand + line_left:
            if policy.group_minutes_donate_only and group_left >= minutes - on_hand:
                raise Refusal(GroupMinutesOnlyDonated)
            raise Refusal(CreditLimitExceeded if line else InsufficientMinutes)
        from_own = min(minutes, max(own_left, 0))
        from_gifted = min(minutes - from_own, gifted_left)
        on_credit = minutes - from_own - from_gifted
        legs: list[Leg] = []
        if from_own + on_credit:
            legs.append((own(member_id), -(from_own + on_credit)))
        if from_gifted:
            legs.append((gifted(member_id), -from_gifted))
        return legs

    def receive(
        self, policy: PolicyRules, member_id: str, minutes: int, purse: str, *, overflow: bool
    ) -> list[Leg]:
        """What a member may store is capped: the rest overflows, or the movement is refused."""
        cap = policy.stored_minutes_max
        room = minutes if cap is None else max(cap - self.stored(member_id), 0)
        if minutes <= room:
            return [(purse, minutes)]
        if not overflow:
            raise Refusal(StoredMinutesCapExceeded)
        legs = [(purse, room)] if room else []
        return [*legs, (policy.overflow_account, minutes - room)]

    def programme_known(self, account_id: str) -> bool:
        return account_id in PROGRAMME_ACCOUNTS

    # --- the ledger, as the model sees it ---------------------------------------------------------

    def ledger_check(self, movement: Movement) -> None:
        """A transfer or hold: two or more postings, on existing accounts, within their bounds."""
        if movement.kind not in ("transfer", "hold"):
            return
        legs = movement.legs
        if len(legs) < 2:
            # Only a payment from the overflow account to a full purse nets to nothing.
            raise Refusal(StoredMinutesCapExceeded)
        if any(account not in self.accounts for account, _ in legs):
            raise Refusal(AccountNotFound)
        for account_id, amount in legs:
            account = self.accounts[account_id]
            low = account.minimum
            if amount < 0 and low is not None and account.available + amount < low:
                raise Refusal(InsufficientMinutes)

    def commit(self, movement: Movement) -> None:
        """Apply a movement the book accepted, as the ledger documents it."""
        now = self.now()
        recorded = now
        if self.last_recorded is not None and now <= self.last_recorded:
            recorded = self.last_recorded + timedelta(microseconds=1)
        self.last_recorded = recorded
        moved: list[Leg] = []
        if movement.kind == "transfer":
            moved = movement.legs
        elif movement.kind == "hold":
            for account_id, amount in movement.legs:
                if amount < 0:
                    self.accounts[account_id].debits_pending -= amount
                else:
                    self.accounts[account_id].credits_pending += amount
            self.holds[movement.transaction_id] = movement.legs
        else:
            assert movement.hold_id is not None
            for account_id, amount in self.holds.pop(movement.hold_id):
                if amount < 0:
                    self.accounts[account_id].debits_pending += amount
                else:
                    self.accounts[account_id].credits_pending -= amount
            if movement.kind == "post":
                moved = movement.legs
        effective = movement.effective_at or recorded
        for account_id, amount in moved:
            self.accounts[account_id].posted += amount
            if account_id in self.own_entries:
                self.own_entries[account_id].append((amount, effective))

    def programme_delta(self, legs: Iterable[Leg]) -> int:
        return sum(amount for account, amount in legs if not account.startswith("m."))

    # --- calling the book -------------------------------------------------------------------------

    def refused(self, label: str, call: Callable[[], object], refusal: Refusal) -> None:
        """The call must raise one of the predicted errors and leave the whole book as it was."""
        before = book_state(self.bank_book)
        try:
            result = call()
        except LedgerError as raised:
            error = raised
        else:
            raise AssertionError(f"{label}: expected a refusal ({refusal}), got {result!r}")
        expected = ", ".join(e.__name__ for e in refusal.errors)
        assert isinstance(error, refusal.errors), f"{label}: expected {expected}, got {error!r}"
        assert book_state(self.bank_book) == before, f"{label}: a refusal changed the book"
        event(f"{label}: {type(error).__name__}")

    def accepted(self, label: str, call: Callable[[], T]) -> T:
        try:
            result = call()
        except LedgerError as error:
            raise AssertionError(f"{label}: the rules allow this call, got {error!r}") from error
        event(f"{label}: done")
        return result

    def attempt(
        self, label: str, predict: Callable[[], T], call: Callable[[], Any]
    ) -> tuple[T, Any] | None:
        """Predict, call and compare; the prediction and result if accepted, else None."""
        try:
            prediction = predict()
        except Refusal as refusal:
            self.refused(label, call, refusal)
            return None
        return prediction, self.accepted(label, call)

    # --- drawing --------------------------------------------------------------------------------

    def member_ids(self) -> list[str]:
        return sorted(self.people)

    def pick(self, data: st.DataObject, label: str, *, ghost: bool = True) -> str:
        choices = self.member_ids() + ([GHOST] if ghost else [])
        return data.draw(st.sampled_from(choices), label=label)

    def likely(self, data: st.DataObject, label: str, good: Iterable[str]) -> str:
        """Mostly one of ``good`` (members a call would accept), sometimes anyone at all."""
        good = sorted(good)
        if good and data.draw(st.integers(0, 5), label=f"{label}: a likely one?"):
            return data.draw(st.sampled_from(good), label=label)
        return self.pick(data, label)

    def active_ids(self) -> list[str]:
        return [m for m in self.member_ids() if self.is_active(m)]

    def coordinators(self) -> list[str]:
        return [m for m in self.member_ids() if self.people[m].roles & COORDINATING]

    def pick_actor(self, data: st.DataObject, *relevant: str | None) -> str:
        """Mostly someone who may act (the members concerned, their proxies, a coordinator)."""
        members = [m for m in relevant if m is not None]
        who = data.draw(st.integers(0, 7), label="who acts?")
        if who == 0:
            return data.draw(st.sampled_from([SYSTEM, GHOST, *self.member_ids()]), label="actor")
        if who <= 3 and members:
            return data.draw(st.sampled_from(members), label="actor")
        proxies = [p for (m, p), active in self.proxies.items() if active and m in members]
        choices = list(dict.fromkeys([*members, *proxies, *self.coordinators(), SYSTEM]))
        return data.draw(st.sampled_from(choices), label="actor")

    def raw_minutes(self, data: st.DataObject) -> int:
        """Mostly a duration the policy records, sometimes any at all."""
        policy = self.in_force
        low, high = policy.record_minutes_min, policy.record_minutes_max
        usual = [m for m in (low, 20, 30, 45, 60, 90, 120, high) if low <= m <= high]
        return data.draw(
            st.one_of(st.sampled_from(usual), st.sampled_from(usual), st.integers(0, 2000)),
            label="raw minutes",
        )

    def category(self, data: st.DataObject) -> str:
        allowed = self.in_force.categories[:3] or CATEGORIES
        likely = st.sampled_from(allowed)
        return data.draw(st.one_of(likely, likely, st.sampled_from(CATEGORIES)), label="category")

    def minutes(self, data: st.DataObject, *, around: int | None = None) -> int:
        """Some minutes; with ``around`` (what can be paid), mostly at most that, or just over."""
        anything = st.one_of(st.sampled_from((0, 1, 30, 60, 120, 300)), st.integers(1, 1500))
        if around is None or around <= 0:
            return data.draw(anything, label="minutes")
        near = st.sampled_from((1, max(around // 2, 1), around, around + 1))
        return data.draw(st.one_of(near, near, anything), label="minutes")

    def reason(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(("entered twice", "wrong member", " ")), label="reason")

    # --- set-up -----------------------------------------------------------------------------------

    @initialize(data=st.data())
    def set_up(self, data: st.DataObject) -> None:
        """A programme from a preset or random rules, a sponsor, a merchant and a coordinator."""
        policy: PolicyRules | str
        if data.draw(st.booleans(), label="preset?"):
            policy = data.draw(st.sampled_from(sorted(PRESETS)), label="preset")
            rules = PRESETS[policy]()
        else:
            policy = rules = data.draw(random_rules().filter(consistent), label="random rules")
        event(f"policy: {rules.name}")
        self.book = self.bank.create_book(BOOK_ID, policy)
        self.policies[1] = Policy(rules, PolicyStatus.ACTIVE)
        self.active = 1
        for account_id, minimum in PROGRAMME_MINIMUMS.items():
            self.accounts[account_id] = Account(minimum)
        self.book.programme.add_sponsor(
            AddSponsor(sponsor_id=SPONSOR_ID, name="街道办"), actor=SYSTEM
        )
        self.book.programme.add_merchant(
            AddMerchant(merchant_id=MERCHANT_ID, name="社区超市"), actor=SYSTEM
        )
        self.register(
            COORDINATOR,
            birth_date=date(1978, 4, 1),
            roles=frozenset({Role.COORDINATOR}),
            vetting=Vetting.STREET,
            flags=frozenset(),
            actor=SYSTEM,
        )
        for _ in range(data.draw(st.integers(2, 4), label="members at start")):
            self.register_someone(data, actor=SYSTEM)
        for _ in range(data.draw(st.integers(0, 2), label="relations at start")):
            self.relate(data)
        self.snapshot_stored()

    # --- members ----------------------------------------------------------------------------------

    def register(
        self,
        member_id: str,
        *,
        birth_date: date,
        roles: frozenset[Role],
        vetting: Vetting,
        flags: frozenset[str],
        actor: str,
        name: str = "李娜",
    ) -> None:
        book = self.bank_book

        def predict() -> int:
            rules = Rules()
            rules.need(self.has_authority(actor), ActorNotAuthorised)
            rules.need(self.is_coordinator(actor), ActorNotAuthorised)
            if roles & COORDINATING:
                rules.need(self.everywhere(actor), ActorNotAuthorised)  # appoints a coordinator
            rules.need(not self.exists(member_id), MemberExists)
            rules.done()
            return self.in_force.starting_grant_minutes

        outcome = self.attempt(
            "register",
            predict,
            lambda: book.members.register(
                RegisterMember(
                    member_id=member_id,
                    name=name,
                    birth_date=birth_date,
                    community="gulou",
                    roles=roles,
                    vetting=vetting,
                    flags=flags,
                ),
                actor=actor,
            ),
        )
        if outcome is None:
            return
        grant, member = outcome
        assert (member.member_id, member.birth_date, member.roles) == (member_id, birth_date, roles)
        assert (member.vetting, member.flags, member.status) == (
            vetting,
            flags,
            MemberStatus.ACTIVE,
        )
        limit = self.in_force.credit_limit_minutes
        self.people[member_id] = Person(birth_date, roles, vetting, flags, credit_limit=limit)
        self.accounts[own(member_id)] = Account(-limit)
        self.accounts[gifted(member_id)] = Account(0)
        self.accounts[group(member_id)] = Account(0)
        self.own_entries[own(member_id)] = []
        self.stored_before[member_id] = 0
        if grant:
            self.commit(
                Movement(
                    "transfer",
                    f"start.{member_id}",
                    [("issuance", -grant), (own(member_id), grant)],
                )
            )
            self.tally += grant
        self.touched.add(member_id)

    def register_someone(self, data: st.DataObject, *, actor: str | None = None) -> None:
        today = self.today()
        age = data.draw(
            st.one_of(st.integers(60, 95), st.integers(18, 59), st.integers(10, 95)), label="age"
        )
        month = data.draw(st.integers(1, 12), label="birth month")
        day = data.draw(st.integers(1, 28), label="birth day")
        birth = date(today.year - age, month, day)
        if birth > today:
            birth = date(today.year - age - 1, month, day)
        roles = data.draw(
            st.one_of(
                st.just(frozenset({Role.VOLUNTEER, Role.RECIPIENT})),
                st.just(frozenset({Role.VOLUNTEER, Role.RECIPIENT})),
                st.frozensets(st.sampled_from(list(Role))),
            ),
            label="roles",
        )
        vetting = data.draw(
            st.sampled_from((Vetting.STREET, Vetting.STREET, Vetting.COMMUNITY, Vetting.PENDING)),
            label="vetting",
        )
        flags = data.draw(st.frozensets(st.sampled_from(FLAGS)), label="flags")
        if data.draw(st.integers(0, 9), label="reuse an id?") == 0 and self.people:
            member_id = self.pick(data, "existing id", ghost=False)
        else:
            member_id = self.next_id("p")
        if actor is None:
            actor = self.pick_actor(data)
        name = data.draw(st.sampled_from(NAMES), label="name")
        self.register(
            member_id,
            birth_date=birth,
            roles=roles,
            vetting=vetting,
            flags=flags,
            actor=actor,
            name=name,
        )

    @precondition(lambda self: len(self.people) < MEMBERS_MAX)
    @rule(data=st.data())
    def register_member(self, data: st.DataObject) -> None:
        self.register_someone(data)

    @rule(data=st.data())
    def update_member(self, data: st.DataObject) -> None:
        """Change roles, vetting, flags or status (suspend, reinstate; never to or from death)."""
        member_id = self.pick(data, "member")
        actor = self.pick_actor(data)
        roles = data.draw(st.none() | st.frozensets(st.sampled_from(list(Role))), label="roles")
        vetting = data.draw(st.none() | st.sampled_from(Vetting), label="vetting")
        flags = data.draw(st.none() | st.frozensets(st.sampled_from(FLAGS)), label="flags")
        status = data.draw(st.none() | st.sampled_from(MemberStatus), label="status")

        def predict() -> None:
            rules = Rules()
            if self.need_staff(rules, actor, member_id) and self.exists(member_id):
                person = self.people[member_id]
                if person.roles & COORDINATING:
                    rules.need(self.everywhere(actor), ActorNotAuthorised)
                if (
                    roles is not None
                    and roles != person.roles
                    and (person.roles | roles) & (COORDINATING)
                ):
                    rules.need(self.everywhere(actor), ActorNotAuthorised)
                if status is not None:
                    changes_death = MemberStatus.DECEASED in (status, person.status)
                    rules.need(not changes_death, ActorNotAuthorised)
            rules.done()

        outcome = self.attempt(
            "update member",
            predict,
            lambda: self.bank_book.members.update(
                UpdateMember(
                    member_id=member_id, roles=roles, vetting=vetting, flags=flags, status=status
                ),
                actor=actor,
            ),
        )
        if outcome is None:
            return
        person = self.people[member_id]
        person.roles = person.roles if roles is None else roles
        person.vetting = person.vetting if vetting is None else vetting
        person.flags = person.flags if flags is None else flags
        person.status = person.status if status is None else status
        member = outcome[1]
        assert (member.roles, member.vetting, member.flags, member.status) == (
            person.roles,
            person.vetting,
            person.flags,
            person.status,
        )

    @rule(data=st.data())
    def relate(self, data: st.DataObject) -> None:
        earners = [m for m in self.people if self.accounts[own(m)].available > 0]
        member_id = self.likely(data, "member", earners) if earners else self.pick(data, "member")
        other_id = self.pick(data, "other")
        allowed = [RelationKind(k) for k in sorted(self.in_force.gift_relations)]
        kind = data.draw(
            st.one_of(
                st.sampled_from(RelationKind), st.sampled_from(allowed or list(RelationKind))
            ),
            label="relation",
        )
        actor = self.pick_actor(data, member_id)
        self.relate_members(member_id, other_id, kind, actor)

    def relate_members(self, member_id: str, other_id: str, kind: RelationKind, actor: str) -> None:
        def predict() -> RelationKind:
            rules = Rules()
            rules.need(member_id != other_id, RelationToSelf)
            # Relations decide gifts and estates: only a coordinator records them.
            self.need_staff(rules, actor, member_id, other_id)
            existing = self.relations.get((member_id, other_id))
            rules.need(existing in (None, kind), RelationExists)
            rules.done()
            return kind

        outcome = self.attempt(
            "relate",
            predict,
            lambda: self.bank_book.members.relate(
                Relate(member_id=member_id, other_id=other_id, kind=kind), actor=actor
            ),
        )
        if outcome is None:
            return
        relation = outcome[1]
        assert (relation.member_id, relation.other_id, relation.kind) == (member_id, other_id, kind)
        self.relations[(member_id, other_id)] = kind
        self.relations[(other_id, member_id)] = INVERSE[kind]

    @rule(data=st.data())
    def authorise_proxy(self, data: st.DataObject) -> None:
        member_id = self.pick(data, "member")
        proxy_id = self.pick(data, "proxy")
        actor = self.pick_actor(data, member_id)

        def predict() -> None:
            rules = Rules()
            rules.need(member_id != proxy_id, RelationToSelf)
            if actor == member_id:  # a member appoints whom they trust
                self.need_sight(rules, actor, member_id)
            else:  # or a coordinator does; never a proxy
                self.need_staff(rules, actor, member_id, proxy_id)
            self.need_active(rules, member_id)
            self.need_active(rules, proxy_id)
            rules.done()

        outcome = self.attempt(
            "authorise proxy",
            predict,
            lambda: self.bank_book.members.authorise_proxy(
                AuthoriseProxy(member_id=member_id, proxy_id=proxy_id), actor=actor
            ),
        )
        if outcome is not None:
            assert outcome[1].active
            self.proxies[(member_id, proxy_id)] = True

    @precondition(lambda self: bool(self.proxies))
    @rule(data=st.data())
    def revoke_proxy(self, data: st.DataObject) -> None:
        known = sorted(self.proxies)
        if known and data.draw(st.booleans(), label="a known proxy?"):
            member_id, proxy_id = data.draw(st.sampled_from(known), label="proxy")
        else:
            member_id, proxy_id = self.pick(data, "member"), self.pick(data, "proxy")
        actor = self.pick_actor(data, member_id, proxy_id)

        def predict() -> None:
            rules = Rules()
            rules.need(self.has_authority(actor), ActorNotAuthorised)
            if actor not in (member_id, proxy_id):
                self.need_staff(rules, actor, member_id)
            rules.need(self.proxies.get((member_id, proxy_id), False), ProxyNotFound)
            rules.done()

        outcome = self.attempt(
            "revoke proxy",
            predict,
            lambda: self.bank_book.members.revoke_proxy(
                RevokeProxy(member_id=member_id, proxy_id=proxy_id), actor=actor
            ),
        )
        if outcome is not None:
            assert not outcome[1].active
            self.proxies[(member_id, proxy_id)] = False

    # --- policies ------------------------------------------------------------------------------

    @rule(data=st.data())
    def add_policy(self, data: st.DataObject) -> None:
        rules_, valid = rules_from(data, self.in_force)
        actor = self.pick_actor(data)
        version = max(self.policies) + 1

        def predict() -> None:
            rules = Rules()
            rules.need(self.everywhere(actor), ActorNotAuthorised)
            rules.need(valid, PolicyInvalid)
            rules.done()

        outcome = self.attempt(
            "add policy",
            predict,
            lambda: self.bank_book.programme.add_policy(AddPolicy(rules=rules_), actor=actor),
        )
        if outcome is not None:
            added = outcome[1]
            assert (added.version, added.status, added.rules) == (
                version,
                PolicyStatus.DRAFT,
                rules_,
            )
            self.policies[version] = Policy(rules_)

    @precondition(lambda self: any(p.status is PolicyStatus.DRAFT for p in self.policies.values()))
    @rule(data=st.data())
    def activate_policy(self, data: st.DataObject) -> None:
        drafts = [v for v, p in self.policies.items() if p.status is PolicyStatus.DRAFT]
        versions = sorted({*drafts, *drafts, *self.policies, max(self.policies) + 1})
        if drafts and data.draw(st.booleans(), label="a draft?"):
            version = data.draw(st.sampled_from(drafts), label="version")
        else:
            version = data.draw(st.sampled_from(versions), label="version")
        actor = self.pick_actor(data)

        def predict() -> None:
            rules = Rules()
            rules.need(self.everywhere(actor), ActorNotAuthorised)
            if rules.need(version in self.policies, PolicyNotFound):
                rules.need(self.policies[version].status is PolicyStatus.DRAFT, PolicyNotDraft)
            rules.done()

        outcome = self.attempt(
            "activate policy",
            predict,
            lambda: self.bank_book.programme.activate_policy(
                ActivatePolicy(version=version), actor=actor
            ),
        )
        if outcome is not None:
            assert outcome[1].status is PolicyStatus.ACTIVE
            self.policies[self.active].status = PolicyStatus.RETIRED
            self.policies[version].status = PolicyStatus.ACTIVE
            self.active = version
            event(f"policy: {self.in_force.name}")

    # --- crediting service ------------------------------------------------------------------------

    @rule(data=st.data())
    def credit_service(self, data: st.DataObject) -> None:
        policy = self.in_force
        active = self.active_ids()
        provider_id = self.likely(
            data, "provider", (m for m in active if self.can_provide(policy, m, in_group=False))
        )
        recipient_id = self.likely(
            data,
            "recipient",
            (m for m in active if m != provider_id and self.can_receive(policy, m)),
        )
        category = self.category(data)
        raw = self.raw_minutes(data)
        served_at = self.now() - data.draw(st.sampled_from(PAST), label="served before now")
        provenance = data.draw(st.sampled_from(Provenance), label="provenance")
        payer = data.draw(
            st.one_of(
                st.none(),
                st.sampled_from(
                    ("recipient", "issuance", "pool", SPONSOR, "sponsor.none", "guarantee")
                ),
            ),
            label="payer",
        )
        if provenance is Provenance.ORGANISATION_CONFIRMATION:
            actor = self.pick_actor(data)
        elif provenance is Provenance.RECIPIENT_CONFIRMATION:
            actor = self.pick_actor(data, recipient_id)
        elif provenance is Provenance.CHECK_IN_OUT:
            actor = self.pick_actor(data, provider_id)
        else:
            actor = self.pick_actor(data, provider_id, recipient_id)
        credit_id = self.next_id("c")

        def authorised() -> tuple[bool, str | None]:
            """Who may record it, by how it was verified; nobody confirms their own service."""
            if not self.has_authority(actor):
                return False, None
            own_gain = actor == provider_id
            if provenance is Provenance.ORGANISATION_CONFIRMATION:
                return self.is_coordinator(actor) and not own_gain, None
            if provenance is Provenance.RECIPIENT_CONFIRMATION:
                allowed = self.acts_for(actor, recipient_id) and not own_gain
                return allowed, self.on_behalf_of(actor, recipient_id)
            if self.is_coordinator(actor):
                return True, None
            if provenance is Provenance.CHECK_IN_OUT:
                return self.acts_for(actor, provider_id), self.on_behalf_of(actor, provider_id)
            if self.acts_for(actor, provider_id):
                return True, self.on_behalf_of(actor, provider_id)
            return self.acts_for(actor, recipient_id), self.on_behalf_of(actor, recipient_id)

        def predict() -> tuple[Movement, int, str, str | None]:
            rules = Rules()
            allowed, behalf = authorised()
            rules.need(allowed, ActorNotAuthorised)
            rules.need(
                self.sees(actor, provider_id) or self.sees(actor, recipient_id), MemberNotFound
            )
            if payer not in (None, "recipient", "gifted"):
                rules.need(self.is_coordinator(actor), ActorNotAuthorised)  # the centre's choice
            rules.need(provider_id != recipient_id, SelfDealing)
            if self.need_active(rules, provider_id):
                self.provider_ok(rules, policy, provider_id, in_group=False)
            recipient_known = self.need_active(rules, recipient_id)
            if recipient_known:
                self.recipient_ok(rules, policy, recipient_id)
            minutes = self.service_minutes(rules, policy, category, raw)
            rules.need(served_at <= self.now(), EffectiveTimeAfterRecording)
            chosen = payer
            if chosen is None and self.exists(recipient_id):
                subsidised = self.people[recipient_id].flags & policy.subsidised_flags
                if subsidised and policy.subsidised_payer is not None:
                    chosen = policy.subsidised_payer
                else:
                    chosen = policy.payer_default
            debits: list[Leg] = []
            payer_account = own(recipient_id) if chosen == "recipient" else str(chosen)
            if chosen == "recipient":
                if recipient_known:
                    self.redeem_age_ok(rules, policy, recipient_id)
                    if minutes is not None:
                        line = policy.credit_limit_minutes
                        debits = (
                            rules.attempt(lambda: self.spend(policy, recipient_id, minutes, line))
                            or []
                        )
            elif chosen is not None:
                rules.need(self.programme_known(chosen), ProgrammeAccountNotFound)
                if chosen == "guarantee" and recipient_known:
                    rules.need(self.guaranteed(policy, recipient_id), RecipientNotEligible)
                debits = [(chosen, -(minutes or 0))]
            rules.done()
            assert minutes is not None
            credits = self.receive(policy, provider_id, minutes, own(provider_id), overflow=True)
            # A recipient's minutes are spent only with their say: what they pay waits for a
            # confirmation, unless they (or the organisation) confirmed it in recording it.
            # And what the provider (or their proxy) records waits for the other side.
            confirmed = provenance in AUTO_CONFIRMED
            gains = actor == provider_id or behalf == provider_id
            held = not confirmed and (
                policy.confirmation_required or chosen == "recipient" or gains
            )
            movement = Movement(
                "hold" if held else "transfer",
                f"credit.{credit_id}",
                net([*debits, *credits]),
                effective_at=None if held else served_at,
            )
            self.ledger_check(movement)
            to_provider = sum(a for acc, a in credits if acc == own(provider_id))
            return movement, to_provider, payer_account, behalf

        outcome = self.attempt(
            "credit service",
            predict,
            lambda: self.bank_book.credits.record(
                CreditService(
                    provider_id=provider_id,
                    recipient_id=recipient_id,
                    category=category,
                    raw_minutes=raw,
                    served_at=served_at,
                    provenance=provenance,
                    payer=payer,
                    request_id=credit_id,
                ),
                actor=actor,
            ),
        )
        if outcome is None:
            return
        (movement, to_provider, payer_account, behalf), record = outcome
        minutes = credited_minutes(policy, category, raw)
        held = movement.kind == "hold"
        expected_status = CreditStatus.PENDING if held else CreditStatus.POSTED
        overflow = minutes - to_provider
        assert isinstance(record, Credit)
        assert record.credit_id == credit_id
        assert (record.credited_minutes, record.provider_minutes) == (minutes, to_provider)
        assert (record.status, record.provenance) == (expected_status, provenance)
        assert record.policy_version == self.active
        assert record.payer_account == payer_account
        assert record.overflow_account == (policy.overflow_account if overflow else None)
        assert record.on_behalf_of == behalf, (record.on_behalf_of, behalf)
        self.commit(movement)
        credit = ServiceCredit(
            credit_id=credit_id,
            provider_id=provider_id,
            recipient_id=recipient_id,
            payer_account=payer_account,
            credited_minutes=minutes,
            provider_minutes=to_provider,
            provider_account=own(provider_id),
            overflow_account=record.overflow_account,
            policy_version=self.active,
            status=expected_status,
            transaction_id=movement.transaction_id,
            moved=movement.legs,
        )
        self.credits[credit_id] = credit
        self.credit_of_transaction[movement.transaction_id] = credit
        if not held:
            self.tally += self.service_effect(record)
        self.touched.update((provider_id, recipient_id))

    @rule(data=st.data())
    def credit_another_service(self, data: st.DataObject) -> None:
        """Services are most of what a time bank records: give them more of the steps."""
        self.credit_service(data)

    @rule(data=st.data())
    def credit_yet_another_service(self, data: st.DataObject) -> None:
        self.credit_service(data)

    def service_effect(self, record: Credit) -> int:
        """What a posted credit adds to the members' purses, from its record."""
        paid_by_member = record.payer_account.startswith("m.")
        return record.provider_minutes - (record.credited_minutes if paid_by_member else 0)

    def pick_credit(self, data: st.DataObject, status: CreditStatus) -> str:
        wanted = sorted(c for c, credit in self.credits.items() if credit.status is status)
        if wanted and data.draw(st.integers(0, 3), label="a credit in that state?"):
            return data.draw(st.sampled_from(wanted), label="credit")
        return data.draw(st.sampled_from([*sorted(self.credits), "no-such-credit"]), label="credit")

    def sees_credit(self, actor: str, credit: ServiceCredit) -> bool:
        parties = (credit.provider_id, credit.recipient_id)
        return any(m is not None and self.sees(actor, m) for m in parties)

    def confirming(
        self, rules: Rules, credit: ServiceCredit | None, actor: str, *, approving: bool = True
    ) -> Provenance:
        """A coordinator confirms for the organisation; the recipient (or a proxy) as recipient.
        A credit the actor may not see is not there for them; nobody approves their own."""
        rules.need(self.has_authority(actor), ActorNotAuthorised)
        if credit is None or not rules.need(self.sees_credit(actor, credit), CreditNotFound):
            return Provenance.RECIPIENT_CONFIRMATION
        if approving:
            self.need_no_own_gain(rules, actor, credit.provider_id)
        if self.is_coordinator(actor) and actor != credit.recipient_id:
            return Provenance.ORGANISATION_CONFIRMATION
        if rules.need(credit.recipient_id is not None, ActorNotAuthorised):
            assert credit.recipient_id is not None
            rules.need(self.acts_for(actor, credit.recipient_id), ActorNotAuthorised)
        return Provenance.RECIPIENT_CONFIRMATION

    @precondition(lambda self: bool(self.credits))
    @rule(data=st.data())
    def confirm_credit(self, data: st.DataObject) -> None:
        credit_id = self.pick_credit(data, CreditStatus.PENDING)
        credit = self.credits.get(credit_id)
        actor = self.pick_actor(data, credit.recipient_id if credit else None)

        def predict() -> Provenance:
            rules = Rules()
            rules.need(credit is not None, CreditNotFound)
            how = self.confirming(rules, credit, actor)
            if credit is not None:
                rules.need(credit.status is CreditStatus.PENDING, CreditNotPending)
            rules.done()
            return how

        outcome = self.attempt(
            "confirm credit",
            predict,
            lambda: self.bank_book.credits.confirm(ConfirmCredit(credit_id=credit_id), actor=actor),
        )
        if outcome is None:
            return
        how, record = outcome
        assert credit is not None
        assert (record.status, record.confirmation, record.confirmed_by) == (
            CreditStatus.POSTED,
            how,
            actor,
        )
        movement = Movement(
            "post", f"confirm.{credit_id}", credit.moved, hold_id=credit.transaction_id
        )
        self.commit(movement)
        credit.status = CreditStatus.POSTED
        credit.transaction_id = movement.transaction_id
        self.credit_of_transaction[movement.transaction_id] = credit
        self.tally += self.service_effect(record)
        self.touched.add(credit.provider_id)

    @precondition(lambda self: bool(self.credits))
    @rule(data=st.data())
    def confirm_another_credit(self, data: st.DataObject) -> None:
        self.confirm_credit(data)

    @precondition(lambda self: bool(self.credits))
    @rule(data=st.data())
    def dispute_credit(self, data: st.DataObject) -> None:
        credit_id = self.pick_credit(data, CreditStatus.PENDING)
        credit = self.credits.get(credit_id)
        actor = self.pick_actor(data, credit.recipient_id if credit else None)
        reason = self.reason(data)

        def predict() -> None:
            rules = Rules()
            rules.need(credit is not None, CreditNotFound)
            self.confirming(rules, credit, actor, approving=False)
            rules.need(bool(reason.strip()), ReasonRequired)
            if credit is not None:
                rules.need(credit.status is CreditStatus.PENDING, CreditNotPending)
            rules.done()

        outcome = self.attempt(
            "dispute credit",
            predict,
            lambda: self.bank_book.credits.dispute(
                DisputeCredit(credit_id=credit_id, reason=reason), actor=actor
            ),
        )
        if outcome is None:
            return
        assert credit is not None
        assert outcome[1].status is CreditStatus.DISPUTED
        self.commit(Movement("void", f"dispute.{credit_id}", [], hold_id=credit.transaction_id))
        credit.status = CreditStatus.DISPUTED

    @precondition(lambda self: bool(self.credits))
    @rule(data=st.data())
    def reverse_credit(self, data: st.DataObject) -> None:
        """Correct a posted credit (an attendee credited by mistake, a service entered twice)."""
        credit_id = self.pick_credit(data, CreditStatus.POSTED)
        credit = self.credits.get(credit_id)
        actor = self.pick_actor(data)
        reason = self.reason(data)

        def predict() -> Movement:
            rules = Rules()
            rules.need(self.has_authority(actor), ActorNotAuthorised)
            rules.need(self.is_coordinator(actor), ActorNotAuthorised)
            rules.need(credit is not None, CreditNotFound)
            if credit is not None:
                rules.need(self.sees_credit(actor, credit), CreditNotFound)
            rules.need(bool(reason.strip()), ReasonRequired)
            if credit is not None:
                rules.need(credit.status is CreditStatus.POSTED, CreditNotPosted)
            rules.done()
            assert credit is not None
            if credit.event_id is None:
                back = [(account, -amount) for account, amount in credit.moved]
            else:
                back = [(credit.provider_account, -credit.provider_minutes)]
                if credit.overflow_account is not None:
                    overflowed = credit.credited_minutes - credit.provider_minutes
                    back.append((credit.overflow_account, -overflowed))
                back.append((credit.payer_account, credit.credited_minutes))
            movement = Movement("transfer", f"reverse.{credit_id}", net(back))
            self.ledger_check(movement)
            return movement

        outcome = self.attempt(
            "reverse credit",
            predict,
            lambda: self.bank_book.credits.reverse(
                ReverseCredit(credit_id=credit_id, reason=reason), actor=actor
            ),
        )
        if outcome is None:
            return
        movement, record = outcome
        assert credit is not None
        assert record.status is CreditStatus.REVERSED
        self.commit(movement)
        credit.status = CreditStatus.REVERSED
        if credit.event_id is not None:
            self.events[credit.event_id].credited.discard(credit.provider_id)
        self.tally -= self.service_effect(record)
        if credit.recipient_id is not None and credit.payer_account == own(credit.recipient_id):
            self.refunded.add(credit.recipient_id)
        self.touched.update(m for m in (credit.provider_id, credit.recipient_id) if m)

    # --- redemption ------------------------------------------------------------------------------

    @rule(data=st.data())
    def book_redemption(self, data: st.DataObject) -> None:
        policy = self.in_force
        line = policy.credit_limit_minutes
        active = self.active_ids()
        saver_id = self.likely(
            data,
            "saver",
            (m for m in active if self.can_redeem(policy, m) and self.spendable(m, line) > 0),
        )
        goods = data.draw(st.booleans(), label="goods?")
        provider_id = None
        if not goods:
            providers = (
                m for m in active if m != saver_id and self.can_provide(policy, m, in_group=False)
            )
            provider_id = self.likely(data, "provider", providers)
        merchant_id = (
            data.draw(st.sampled_from((MERCHANT_ID, MERCHANT_ID, "nowhere")), label="merchant")
            if goods
            else None
        )
        category = self.category(data)
        can_pay = self.spendable(saver_id, line) if saver_id in self.people else None
        minutes = self.minutes(data, around=can_pay)
        actor = self.pick_actor(data, saver_id)
        redemption_id = self.next_id("r")

        def predict() -> tuple[Movement, str]:
            rules = Rules()
            # The saver, their proxy, or a coordinator (never the provider it pays) books it.
            if self.need_sight(rules, actor, saver_id):
                rules.need(self.acts_for(actor, saver_id, coordinator_ok=True), ActorNotAuthorised)
            self.need_no_own_gain(rules, actor, provider_id)
            if provider_id is not None and not self.acts_for(actor, saver_id):
                self.need_staff(rules, actor, provider_id)
            saver_active = self.need_active(rules, saver_id)
            rules.need(minutes > 0, MinutesNotPositive)
            if saver_active:
                self.redeem_age_ok(rules, policy, saver_id)
            credits: list[Leg] = []
            if provider_id is not None:
                payee = own(provider_id)
                rules.need(provider_id != saver_id, SelfDealing)
                if self.need_active(rules, provider_id):
                    self.provider_ok(rules, policy, provider_id, in_group=False)
                    if minutes > 0:
                        credits = (
                            rules.attempt(
                                lambda: self.receive(
                                    policy, provider_id, minutes, payee, overflow=True
                                )
                            )
                            or []
                        )
                if saver_active:
                    self.recipient_ok(rules, policy, saver_id)
                rules.need(not policy.categories or category in policy.categories, CategoryUnknown)
            else:
                payee = f"merchant.{merchant_id}"
                rules.need(policy.merchant_redemption, MerchantRedemptionNotAllowed)
                rules.need(self.programme_known(payee), ProgrammeAccountNotFound)
                credits = [(payee, minutes)]
            debits: list[Leg] = []
            if saver_active and minutes > 0:
                line = policy.credit_limit_minutes
                debits = rules.attempt(lambda: self.spend(policy, saver_id, minutes, line)) or []
            rules.done()
            movement = Movement("hold", f"redeem.{redemption_id}", net([*debits, *credits]))
            self.ledger_check(movement)
            return movement, payee

        outcome = self.attempt(
            "book redemption",
            predict,
            lambda: self.bank_book.redemptions.book(
                BookRedemption(
                    saver_id=saver_id,
                    minutes=minutes,
                    provider_id=provider_id,
                    merchant_id=merchant_id,
                    category=category,
                    request_id=redemption_id,
                ),
                actor=actor,
            ),
        )
        if outcome is None:
            return
        (movement, payee), record = outcome
        kind = RedemptionKind.GOODS if goods else RedemptionKind.SERVICE
        assert (record.status, record.kind, record.payee_account) == (
            RedemptionStatus.BOOKED,
            kind,
            payee,
        )
        assert (record.booked_minutes, record.policy_version) == (minutes, self.active)
        self.commit(movement)
        self.bookings[redemption_id] = Booking(saver_id, minutes, movement.legs, provider_id)
        self.touched.add(saver_id)

    @rule(data=st.data())
    def book_another_redemption(self, data: st.DataObject) -> None:
        self.book_redemption(data)

    def pick_booking(self, data: st.DataObject) -> str:
        booked = sorted(r for r, b in self.bookings.items() if b.status is RedemptionStatus.BOOKED)
        if booked and data.draw(st.integers(0, 3), label="a booked one?"):
            return data.draw(st.sampled_from(booked), label="redemption")
        choices = [*sorted(self.bookings), "no-such-redemption"]
        return data.draw(st.sampled_from(choices), label="redemption")

    def booking_rules(
        self, rules: Rules, booking: Booking | None, actor: str, *, completing: bool = False
    ) -> None:
        rules.need(self.has_authority(actor), ActorNotAuthorised)
        parties = () if booking is None else (booking.saver_id, booking.provider_id)
        seen = any(m is not None and self.sees(actor, m) for m in parties)
        if rules.need(booking is not None and seen, RedemptionNotFound):
            assert booking is not None
            if completing:
                self.need_no_own_gain(rules, actor, booking.provider_id)
            allowed = self.acts_for(actor, booking.saver_id, coordinator_ok=True)
            rules.need(allowed, ActorNotAuthorised)
            rules.need(booking.status is RedemptionStatus.BOOKED, RedemptionNotBooked)

    @precondition(lambda self: bool(self.bookings))
    @rule(data=st.data())
    def complete_redemption(self, data: st.DataObject) -> None:
        """Post what was spent (at most what was booked): the saver's own minutes first."""
        redemption_id = self.pick_booking(data)
        booking = self.bookings.get(redemption_id)
        actor = self.pick_actor(data, booking.saver_id if booking else None)
        booked = booking.booked_minutes if booking else 60
        spent = data.draw(
            st.one_of(
                st.just(booked), st.integers(1, max(booked - 1, 1)), st.just(booked + 1), st.just(0)
            ),
            label="spent",
        )

        def predict() -> list[Leg]:
            rules = Rules()
            self.booking_rules(rules, booking, actor, completing=True)
            rules.need(spent > 0, MinutesNotPositive)
            rules.need(spent <= booked, PostExceedsHold)
            rules.done()
            assert booking is not None
            posted: list[Leg] = []
            for sign in (-1, 1):
                left = spent
                for account_id, amount in booking.hold:
                    if amount * sign > 0 and left > 0:
                        part = min(abs(amount), left)
                        posted.append((account_id, sign * part))
                        left -= part
            return posted

        outcome = self.attempt(
            "complete redemption",
            predict,
            lambda: self.bank_book.redemptions.complete(
                CompleteRedemption(redemption_id=redemption_id, spent_minutes=spent), actor=actor
            ),
        )
        if outcome is None:
            return
        posted, record = outcome
        assert booking is not None
        assert (record.status, record.spent_minutes) == (RedemptionStatus.DONE, spent)
        self.commit(
            Movement("post", f"redeemed.{redemption_id}", posted, hold_id=f"redeem.{redemption_id}")
        )
        booking.status = RedemptionStatus.DONE
        # Redeemed minutes leave the saver; what reached no programme account reached the provider.
        self.tally -= record.spent_minutes
        self.tally += record.spent_minutes - self.programme_delta(posted)
        self.touched.add(booking.saver_id)

    @precondition(lambda self: bool(self.bookings))
    @rule(data=st.data())
    def cancel_redemption(self, data: st.DataObject) -> None:
        redemption_id = self.pick_booking(data)
        booking = self.bookings.get(redemption_id)
        actor = self.pick_actor(data, booking.saver_id if booking else None)

        def predict() -> None:
            rules = Rules()
            self.booking_rules(rules, booking, actor)
            rules.done()

        outcome = self.attempt(
            "cancel redemption",
            predict,
            lambda: self.bank_book.redemptions.cancel(
                CancelRedemption(redemption_id=redemption_id), actor=actor
            ),
        )
        if outcome is None:
            return
        assert booking is not None
        assert outcome[1].status is RedemptionStatus.CANCELLED
        self.commit(
            Movement("void", f"cancelled.{redemption_id}", [], hold_id=f"redeem.{redemption_id}")
        )
        booking.status = RedemptionStatus.CANCELLED

    # --- gifts, donations, grants -------------------------------------------------------------

    @rule(data=st.data())
    def give(self, data: st.DataObject) -> None:
        policy = self.in_force
        related = sorted(self.relations)
        allowed = [
            (giver, receiver)
            for giver, receiver in related
            if self.relations[giver, receiver].value in policy.gift_relations
            and self.accounts[own(giver)].available > 0
        ]
        if allowed and data.draw(st.integers(0, 3), label="to a relative it allows?"):
            giver_id, receiver_id = data.draw(st.sampled_from(allowed), label="giver, receiver")
        elif related and data.draw(st.booleans(), label="to a relative?"):
            giver_id, receiver_id = data.draw(st.sampled_from(related), label="giver, receiver")
        else:
            giver_id, receiver_id = self.pick(data, "giver"), self.pick(data, "receiver")
        can_give = self.accounts[own(giver_id)].available if giver_id in self.people else None
        minutes = self.minutes(data, around=can_give)
        actor = self.pick_actor(data, giver_id)
        self.give_minutes(giver_id, receiver_id, minutes, actor)

    def give_minutes(self, giver_id: str, receiver_id: str, minutes: int, actor: str) -> None:
        policy = self.in_force

        def predict() -> Movement:
            rules = Rules()
            if self.need_sight(rules, actor, giver_id):
                rules.need(self.acts_for(actor, giver_id), ActorNotAuthorised)
            if actor != giver_id:  # a proxy never gives a member's minutes to themselves
                self.need_no_own_gain(rules, actor, receiver_id)
            rules.need(giver_id != receiver_id, SelfDealing)
            giver_active = self.need_active(rules, giver_id)
            receiver_active = self.need_active(rules, receiver_id)
            rules.need(minutes > 0, MinutesNotPositive)
            relation = self.relations.get((giver_id, receiver_id))
            rules.need(bool(policy.gift_relations), GiftNotAllowed)
            rules.need(
                relation is not None and relation.value in policy.gift_relations, GiftNotAllowed
            )
            if receiver_active and policy.gift_receiver_age_min is not None:
                exempt = relation is not None and (
                    relation.value in policy.gift_receiver_age_exempt_relations
                )
                old_enough = self.age(receiver_id) >= policy.gift_receiver_age_min
                rules.need(exempt or old_enough, GiftNotAllowed)
            debits: list[Leg] = []
            if giver_active and minutes > 0:
                debits = rules.attempt(lambda: self.spend(policy, giver_id, minutes, 0)) or []
                rules.need(all(a == own(giver_id) for a, _ in debits), InsufficientMinutes)
            credits: list[Leg] = []
            if receiver_active and minutes > 0:
                credits = (
                    rules.attempt(
                        lambda: self.receive(
                            policy, receiver_id, minutes, gifted(receiver_id), overflow=False
                        )
                    )
                    or []
                )
            rules.done()
            movement = Movement("transfer", "gift", net([*debits, *credits]))
            self.ledger_check(movement)
            return movement

        outcome = self.attempt(
            "give",
            predict,
            lambda: self.bank_book.gifts.give(
                Give(giver_id=giver_id, receiver_id=receiver_id, minutes=minutes), actor=actor
            ),
        )
        if outcome is not None:
            self.commit(outcome[0])
            self.touched.update((giver_id, receiver_id))

    @precondition(
        lambda self: (
            bool(self.in_force.gift_relations)
            and any(self.accounts[own(m)].available > 0 for m in self.active_ids())
        )
    )
    @rule(data=st.data())
    def give_to_family(self, data: st.DataObject) -> None:
        """A member who earned minutes records a relative (one the policy lets them give to), who
        may be too young to receive, and gives them some of the minutes."""
        earners = [m for m in self.active_ids() if self.accounts[own(m)].available > 0]
        giver_id = data.draw(st.sampled_from(earners), label="giver")
        others = [m for m in self.active_ids() if m != giver_id]
        if not others:
            return
        receiver_id = data.draw(st.sampled_from(others), label="receiver")
        kinds = sorted(RelationKind(k) for k in self.in_force.gift_relations)
        kind = self.relations.get((giver_id, receiver_id)) or data.draw(
            st.sampled_from(kinds), label="relation"
        )
        self.relate_members(giver_id, receiver_id, kind, SYSTEM)
        minutes = self.minutes(data, around=self.accounts[own(giver_id)].available)
        self.give_minutes(giver_id, receiver_id, minutes, self.pick_actor(data, giver_id))

    @rule(data=st.data())
    def donate(self, data: st.DataObject) -> None:
        policy = self.in_force
        member_id = self.likely(data, "donor", (m for m in self.active_ids() if self.stored(m)))
        has_group = member_id in self.people and self.accounts[group(member_id)].available > 0
        from_group = data.draw(st.booleans(), label="group minutes?") and (
            has_group or data.draw(st.integers(0, 3), label="from an empty group purse?") == 0
        )
        if member_id not in self.people:
            can_give = None
        elif from_group:
            can_give = self.accounts[group(member_id)].available
        else:
            can_give = self.spendable(member_id, 0)
        minutes = self.minutes(data, around=can_give)
        actor = self.pick_actor(data, member_id)

        def predict() -> Movement:
            rules = Rules()
            if self.need_sight(rules, actor, member_id):
                rules.need(self.acts_for(actor, member_id), ActorNotAuthorised)
            active = self.need_active(rules, member_id)
            rules.need(minutes > 0, MinutesNotPositive)
            debits: list[Leg] = []
            if active and minutes > 0:
                if from_group:
                    debits = [(group(member_id), -minutes)]
                else:
                    debits = rules.attempt(lambda: self.spend(policy, member_id, minutes, 0)) or []
            rules.done()
            movement = Movement("transfer", "donation", [*debits, ("pool", minutes)])
            self.ledger_check(movement)
            return movement

        outcome = self.attempt(
            "donate",
            predict,
            lambda: self.bank_book.gifts.donate(
                Donate(member_id=member_id, minutes=minutes, group=from_group), actor=actor
            ),
        )
        if outcome is not None:
            self.commit(outcome[0])
            self.tally -= minutes
            self.touched.add(member_id)

    @rule(data=st.data())
    def grant(self, data: st.DataObject) -> None:
        member_id = self.likely(data, "member", self.active_ids())
        minutes = self.minutes(data)
        source = data.draw(
            st.sampled_from(
                ("pool", "issuance", "issuance", "guarantee", SPONSOR, MERCHANT, "sponsor.none")
            ),
            label="source",
        )
        reason = data.draw(st.sampled_from(("living alone", "living alone", " ")), label="reason")
        actor = self.pick_actor(data)
        policy = self.in_force

        def predict() -> Movement:
            rules = Rules()
            self.need_staff(rules, actor, member_id)
            self.need_no_own_gain(rules, actor, member_id)
            rules.need(bool(reason.strip()), ReasonRequired)
            rules.need(self.programme_known(source), ProgrammeAccountNotFound)
            active = self.need_active(rules, member_id)
            if active and source == "guarantee":
                rules.need(self.guaranteed(policy, member_id), RecipientNotEligible)
            rules.need(minutes > 0, MinutesNotPositive)
            credits: list[Leg] = []
            if active and minutes > 0:
                credits = (
                    rules.attempt(
                        lambda: self.receive(
                            policy, member_id, minutes, gifted(member_id), overflow=False
                        )
                    )
                    or []
                )
            rules.done()
            movement = Movement("transfer", "grant", [(source, -minutes), *credits])
            self.ledger_check(movement)
            return movement

        outcome = self.attempt(
            "grant",
            predict,
            lambda: self.bank_book.gifts.grant(
                Grant(member_id=member_id, minutes=minutes, reason=reason, source=source),
                actor=actor,
            ),
        )
        if outcome is not None:
            self.commit(outcome[0])
            self.tally += minutes
            self.touched.add(member_id)

    # --- events -------------------------------------------------------------------------------

    @rule(data=st.data())
    def create_event(self, data: st.DataObject) -> None:
        title = data.draw(
            st.sampled_from(("重阳节活动", "Park clean-up", "重阳节活动", " ")), label="title"
        )
        category = self.category(data)
        held_at = self.now() - data.draw(st.sampled_from(PAST), label="held before now")
        payer = data.draw(
            st.sampled_from((None, None, None, "issuance", "pool", SPONSOR, "recipient")),
            label="payer",
        )
        in_group = data.draw(st.booleans(), label="group event?")
        actor = self.pick_actor(data)
        event_id = self.next_id("e")
        policy = self.in_force

        def predict() -> str:
            rules = Rules()
            rules.need(self.has_authority(actor), ActorNotAuthorised)
            rules.need(self.is_coordinator(actor), ActorNotAuthorised)
            rules.need(bool(title.strip()), AttendeesInvalid)
            rules.need(not policy.categories or category in policy.categories, CategoryUnknown)
            chosen = payer
            if chosen is None:
                default = policy.payer_default
                chosen = "issuance" if default == "recipient" else default
            rules.need(self.programme_known(chosen), ProgrammeAccountNotFound)
            # The guarantee fund pays only for the residents it covers; an event has none.
            rules.need(
                chosen != "guarantee" or not policy.guarantee_grants_to, RecipientNotEligible
            )
            rules.done()
            return chosen

        outcome = self.attempt(
            "create event",
            predict,
            lambda: self.bank_book.events.create(
                CreateEvent(
                    title=title,
                    category=category,
                    held_at=held_at,
                    payer=payer,
                    group=in_group,
                    event_id=event_id,
                ),
                actor=actor,
            ),
        )
        if outcome is not None:
            payer_account, record = outcome
            assert (record.event_id, record.payer_account) == (event_id, payer_account)
            self.events[event_id] = GroupEvent(category, held_at, payer_account, in_group)

    @precondition(lambda self: bool(self.events))
    @rule(data=st.data())
    def credit_event(self, data: st.DataObject) -> None:
        """Credit attendees, in one transaction; later ones are added the same way."""
        policy = self.in_force
        known = sorted(self.events)
        event_id = data.draw(st.sampled_from([*known, *known, "no-such-event"]), label="event")
        found = self.events.get(event_id)
        likely = [
            m
            for m in self.active_ids()
            if found is not None
            and m not in found.credited
            and self.can_provide(policy, m, in_group=found.group)
        ]
        low, high = policy.record_minutes_min, policy.record_minutes_max
        usual = [m for m in (low, 30, 60, 120, 180) if low <= m <= high]
        if likely and data.draw(st.integers(0, 3), label="likely attendees?"):
            who, raw, fewest = st.sampled_from(likely), st.sampled_from(usual), 1
        else:
            who = st.sampled_from([*self.member_ids(), GHOST])
            raw = st.one_of(st.sampled_from((30, 60, 120, 180)), st.integers(0, 600))
            fewest = 0
        attendees = data.draw(
            st.dictionaries(who, raw, min_size=fewest, max_size=4), label="attendees"
        )
        actor = self.pick_actor(data)
        request_id = self.next_id("x")

        def predict() -> tuple[Movement, dict[str, tuple[int, int, str]]]:
            rules = Rules()
            rules.need(self.has_authority(actor), ActorNotAuthorised)
            rules.need(self.is_coordinator(actor), ActorNotAuthorised)
            rules.need(found is not None, EventNotFound)
            rules.need(len(attendees) > 0, AttendeesInvalid)
            rules.need(all(self.exists(m) for m in attendees), MemberNotFound)
            self.need_no_own_gain(rules, actor, actor if actor in attendees else None)
            rules.done()
            assert found is not None
            purse = group if found.group and policy.group_minutes_donate_only else own
            credits: list[Leg] = []
            planned: dict[str, tuple[int, int, str]] = {}
            for member_id, raw in sorted(attendees.items()):
                rules.need(member_id not in found.credited, AttendeesInvalid)
                if not self.need_active(rules, member_id):
                    continue
                self.provider_ok(rules, policy, member_id, in_group=found.group)
                minutes = self.service_minutes(rules, policy, found.category, raw)
                if minutes is None:
                    continue
                legs = self.receive(policy, member_id, minutes, purse(member_id), overflow=True)
                credits += legs
                planned[member_id] = (
                    minutes,
                    legs[0][1] if legs[0][0] == purse(member_id) else 0,
                    purse(member_id),
                )
            rules.done()
            total = sum(minutes for minutes, _, _ in planned.values())
            movement = Movement(
                "transfer",
                f"event.{request_id}",
                net([(found.payer_account, -total), *credits]),
                effective_at=min(found.held_at, self.now()),
            )
            self.ledger_check(movement)
            return movement, planned

        outcome = self.attempt(
            "credit event",
            predict,
            lambda: self.bank_book.events.credit(
                CreditEvent(event_id=event_id, attendees=attendees, request_id=request_id),
                actor=actor,
            ),
        )
        if outcome is None:
            return
        (movement, planned), records = outcome
        assert found is not None
        assert [r.provider_id for r in records] == sorted(planned)
        self.commit(movement)
        for record in records:
            minutes, to_provider, purse = planned[record.provider_id]
            assert record.credit_id == f"{request_id}.{record.provider_id}"
            assert (record.credited_minutes, record.provider_minutes) == (minutes, to_provider)
            assert (record.status, record.provenance) == (
                CreditStatus.POSTED,
                Provenance.ORGANISATION_CONFIRMATION,
            )
            assert (record.provider_account, record.policy_version) == (purse, self.active)
            credit = ServiceCredit(
                credit_id=record.credit_id,
                provider_id=record.provider_id,
                recipient_id=None,
                payer_account=found.payer_account,
                credited_minutes=minutes,
                provider_minutes=to_provider,
                provider_account=purse,
                overflow_account=record.overflow_account,
                policy_version=self.active,
                status=CreditStatus.POSTED,
                transaction_id=movement.transaction_id,
                event_id=event_id,
            )
            self.credits[record.credit_id] = credit
            found.credited.add(record.provider_id)
            self.tally += to_provider
            self.touched.add(record.provider_id)

    # --- expiry, death, time ------------------------------------------------------------------

    @rule(data=st.data())
    def expire_minutes(self, data: st.DataObject) -> None:
        """Expire old minutes in batches of members, until every member was seen."""
        if self.last_expiry_at == self.now():
            self.clock.advance(timedelta(seconds=1))
        self.last_expiry_at = self.now()
        limit = data.draw(st.sampled_from((1, 3, 100)), label="batch")
        actor = self.pick_actor(data)
        days = self.in_force.expiry_days
        after: str | None = None
        while True:
            page = [m for m in self.member_ids() if after is None or m > after][:limit]
            next_after = page[-1] if len(page) == limit else None

            def predict(page: list[str] = page) -> tuple[dict[str, int], Movement | None]:
                rules = Rules()
                rules.need(self.everywhere(actor), ActorNotAuthorised)
                rules.done()
                if days is None:
                    return {}, None
                expired = {}
                cutoff = self.now() - timedelta(days=days)
                for member_id in page:
                    minutes = self.expirable(member_id, cutoff)
                    if minutes > 0:
                        expired[member_id] = minutes
                if not expired:
                    return {}, None
                legs = [(own(m), -n) for m, n in expired.items()]
                legs.append(("pool", sum(expired.values())))
                transaction_id = f"expire.{self.now().isoformat()}.{page[0]}"[:128]
                return expired, Movement("transfer", transaction_id, legs)

            outcome = self.attempt(
                "expire minutes",
                predict,
                lambda after=after: self.bank_book.programme.expire_minutes(
                    ExpireMinutes(after=after, limit=limit), actor=actor
                ),
            )
            if outcome is None:
                return
            (expired, movement), report = outcome
            assert report.expired_minutes == expired, (report.expired_minutes, expired)
            assert report.next_after == next_after
            if movement is not None:
                assert report.transaction_id == movement.transaction_id
                self.commit(movement)
                self.tally -= sum(report.expired_minutes.values())
                self.touched.update(expired)
                event("expire minutes: some expired")
            if next_after is None:
                return
            after = next_after

    def expirable(self, member_id: str, cutoff: datetime) -> int:
        """Credits effective by the cut-off, less everything ever spent; at most what is free."""
        entries = self.own_entries[own(member_id)]
        old = sum(delta for delta, effective in entries if delta > 0 and effective <= cutoff)
        spent = sum(-delta for delta, _ in entries if delta < 0)
        return max(0, min(old - spent, self.accounts[own(member_id)].available))

    @rule(data=st.data())
    def record_death(self, data: st.DataObject) -> None:
        member_id = self.likely(data, "deceased", self.active_ids())
        relatives = sorted(o for (m, o) in self.relations if m == member_id)
        heirs = data.draw(
            st.lists(st.sampled_from(relatives), max_size=2)
            if relatives and data.draw(st.integers(0, 2), label="only relatives as heirs?")
            else st.lists(st.sampled_from(self.member_ids()), max_size=3),
            label="heirs",
        )
        days_ago = data.draw(st.sampled_from((0, 0, 0, 3, -1, 40_000)), label="died days ago")
        died_on = self.today() - timedelta(days=days_ago)
        actor = self.pick_actor(data)
        policy = self.in_force

        def predict() -> Movement | None:
            rules = Rules()
            unique = list(dict.fromkeys(heirs))
            self.need_staff(rules, actor, member_id, *unique)
            if rules.need(self.exists(member_id), MemberNotFound):
                person = self.people[member_id]
                rules.need(person.status is not MemberStatus.DECEASED, MemberNotActive)
                rules.need(person.birth_date <= died_on <= self.today(), BirthDateInvalid)
                # Nothing may hold the member's minutes: no minute is stranded in a closed purse.
                pending = any(
                    self.accounts[a].debits_pending or self.accounts[a].credits_pending
                    for a in purses(member_id)
                )
                rules.need(not pending, BookingsOpenAtDeath)
            for heir in unique:
                rules.need((member_id, heir) in self.relations, GiftNotAllowed)
                self.need_active(rules, heir)
            rules.done()
            if policy.death_handling is DeathHandling.KEEP:
                return None
            debits = [
                (account, -self.accounts[account].available)
                for account in purses(member_id)
                if self.accounts[account].available > 0
            ]
            total = -sum(amount for _, amount in debits)
            if total == 0:
                return None
            credits: list[Leg] = []
            if policy.death_handling is DeathHandling.RELATIVES and unique:
                share, remainder = divmod(total, len(unique))
                for index, heir in enumerate(unique):
                    amount = share + (remainder if index == 0 else 0)
                    if amount:
                        credits += self.receive(policy, heir, amount, gifted(heir), overflow=True)
            else:
                credits = [("pool", total)]
            movement = Movement("transfer", f"estate.{member_id}", net([*debits, *credits]))
            self.ledger_check(movement)
            return movement

        outcome = self.attempt(
            "record death",
            predict,
            lambda: self.bank_book.members.record_death(
                RecordDeath(member_id=member_id, died_on=died_on, heirs=tuple(heirs)), actor=actor
            ),
        )
        if outcome is None:
            return
        movement, transaction_id = outcome
        self.people[member_id].status = MemberStatus.DECEASED
        assert transaction_id == (None if movement is None else movement.transaction_id)
        if movement is not None:
            self.commit(movement)
            # Heirs keep what they inherit; what went to the pool (or overflowed) leaves members.
            self.tally -= self.programme_delta(movement.legs)
            self.touched.update(heirs)
        self.touched.add(member_id)

    @rule(step=st.sampled_from(CLOCK_STEPS))
    def advance_clock(self, step: timedelta) -> None:
        self.clock.advance(step)

    @rule(data=st.data())
    def let_minutes_age(self, data: st.DataObject) -> None:
        """Time passes, then old minutes expire (if the policy says they do).

        Where minutes expire, the clock often moves by about the expiry period, so
        that minutes just younger, exactly as old and just older than the cut-off
        meet it.
        """
        steps = list(CLOCK_STEPS)
        days = self.in_force.expiry_days
        if days is not None:
            period = timedelta(days=days)
            steps += [period - timedelta(hours=1), period, period + timedelta(hours=1)] * 2
        self.clock.advance(data.draw(st.sampled_from(steps), label="time passes"))
        self.expire_minutes(data)

    # --- invariants ---------------------------------------------------------------------------

    def ledger_accounts(self) -> dict[str, Any]:
        accounts = self.bank_book.read(
            lambda _, ledger: list(ledger.accounts(after=None, limit=500))
        )
        return {a.account_id: a for a in accounts}

    @invariant()
    def books_balance_and_match_the_model(self) -> None:
        """Posted minutes sum to zero; every account holds what the model says it does."""
        if self.book is None:
            return
        self.steps += 1
        accounts = self.ledger_accounts()
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
                actual.balance_minutes_min,
            )
            want = (mine.posted, mine.debits_pending, mine.credits_pending, mine.minimum)
            assert got == want, f"{account_id}: book {got}, model {want}"
        if self.steps % VERIFY_EVERY == 0:
            self.check_everything()

    @invariant()
    def members_stay_within_their_bounds(self) -> None:
        """Own purses stay above the credit line of their registration; the others above zero.

        The cap bounds what a member stores (posted plus incoming held minutes, over
        all three purses), but only where minutes come in: a step may leave a member
        above the cap in force only if they were already above it (a new policy may
        lower the cap below what members hold, and nothing is taken away for that),
        and a reversal may refund a payer past it (the minutes were theirs).
        """
        if self.book is None:
            return
        cap = self.in_force.stored_minutes_max
        accounts = self.ledger_accounts()
        for member_id, person in self.people.items():
            mine, theirs, grouped = (accounts[a] for a in purses(member_id))
            assert mine.available_minutes >= -person.credit_limit, (member_id, mine)
            assert theirs.available_minutes >= 0, (member_id, theirs)
            assert grouped.available_minutes >= 0, (member_id, grouped)
            stored = sum(
                a.posted_minutes + a.credits_pending_minutes for a in (mine, theirs, grouped)
            )
            if cap is not None and member_id not in self.refunded:
                ceiling = max(cap, self.stored_before.get(member_id, 0))
                assert stored <= ceiling, f"{member_id} stores {stored}, cap {cap}"
        self.snapshot_stored()

    def snapshot_stored(self) -> None:
        self.stored_before = {m: self.stored(m) for m in self.people}
        self.refunded = set()

    @invariant()
    def credits_carry_provenance_and_policy(self) -> None:
        """Every credit names how it was verified and the policy version in force when made."""
        if self.book is None:
            return
        records = self.bank_book.read(lambda snap, _: list(snap.records.all_credits()))
        assert sorted(r.credit_id for r in records) == sorted(self.credits)
        versions = {p.version: p for p in self.bank_book.programme.policies()}
        for record in records:
            mine = self.credits[record.credit_id]
            assert isinstance(record.provenance, Provenance)
            assert record.policy_version == mine.policy_version
            policy = versions[record.policy_version]
            assert policy.activated_at is not None
            assert policy.activated_at <= record.recorded_at
            assert policy.retired_at is None or policy.retired_at >= record.recorded_at
            assert record.status is mine.status, (record.credit_id, record.status, mine.status)
        for member_id in sorted(self.touched):
            if member_id in self.people:
                self.check_passbook(member_id)
        self.touched = set()

    def check_passbook(self, member_id: str) -> None:
        """Service lines carry a provenance and the version of the credit they come from."""
        after: str | None = None
        last = None
        while True:
            page = self.bank_book.statements.passbook(member_id, after=after, limit=PASSBOOK_PAGE)
            for line in page.entries:
                last = line
                if line.kind not in ("service", "event"):
                    continue
                assert line.provenance in {p.value for p in Provenance}, line
                assert line.policy_version in self.policies, line
                credit = self.credit_of_transaction.get(line.transaction_id)
                if line.kind == "event":
                    request_id = line.transaction_id.removeprefix("event.")
                    credit = self.credits.get(f"{request_id}.{member_id}")
                if credit is not None:
                    assert line.policy_version == credit.policy_version, (line, credit)
            if page.next_cursor is None:
                break
            after = page.next_cursor
        total = sum(self.accounts[a].posted for a in purses(member_id))
        assert (0 if last is None else last.balance_minutes) == total

    @invariant()
    def liability_is_the_tally(self) -> None:
        """What the programme owes members is what was minted, granted and credited, less what
        was redeemed, expired and donated; and what the programme accounts gave out."""
        if self.book is None:
            return
        liability = self.bank_book.statements.liability()
        modelled = sum(
            a.posted for account_id, a in self.accounts.items() if account_id.startswith("m.")
        )
        programme = sum(self.bank_book.statements.programme_balance(a) for a in PROGRAMME_ACCOUNTS)
        assert liability == self.tally == modelled == -programme, (
            liability,
            self.tally,
            modelled,
            programme,
        )

    @invariant()
    def held_minutes_are_pending_credits_and_bookings(self) -> None:
        """Members' held minutes: unconfirmed credits they pay, plus their booked redemptions."""
        if self.book is None:
            return
        held = 0
        for member_id in self.people:
            balance = self.bank_book.statements.balance(member_id)
            mine, theirs, grouped = (self.accounts[a] for a in purses(member_id))
            purse_minutes = (balance.own_minutes, balance.gifted_minutes, balance.group_minutes)
            assert purse_minutes == (mine.posted, theirs.posted, grouped.posted), balance
            incoming = mine.credits_pending + theirs.credits_pending + grouped.credits_pending
            assert balance.incoming_minutes == incoming, balance
            held += balance.held_minutes
        pending = sum(
            c.credited_minutes
            for c in self.credits.values()
            if c.status is CreditStatus.PENDING and c.payer_account.startswith("m.")
        )
        booked = sum(
            b.booked_minutes for b in self.bookings.values() if b.status is RedemptionStatus.BOOKED
        )
        assert held == pending + booked, (held, pending, booked)

    def check_everything(self) -> None:
        """Every few steps: a clean ``verify()`` and every member's passbook."""
        report = self.bank_book.statements.verify()
        assert report.ok, report.first_break
        for member_id in self.people:
            self.check_passbook(member_id)


TestBankMachine = BankMachine.TestCase
TestBankMachine.settings = settings(
    phases=[phase for phase in Phase if phase is not Phase.explain],
    suppress_health_check=[HealthCheck.too_slow],
)


# --- on the SQL stores ------------------------------------------------------------------------

_HEAVY = settings().max_examples >= 1_000
_DATABASE_SETTINGS = settings(
    TestBankMachine.settings,
    max_examples=40 if _HEAVY else 15,
    stateful_step_count=40 if _HEAVY else 30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class SqliteBankMachine(BankMachine):
    """The same machine on a fresh SQLite file per run."""

    def make_bank(self) -> TimeBank:
        directory = self.resources.enter_context(TemporaryDirectory())
        bank = TimeBank.open(sqlite_path(Path(directory)), clock=self.clock)
        self.resources.callback(bank.close)
        return bank


class PostgresBankMachine(BankMachine):
    """The same machine in a fresh PostgreSQL schema per run."""

    def make_bank(self) -> TimeBank:
        url, _schema = self.resources.enter_context(postgres_schema())
        bank = TimeBank.open(url, clock=self.clock)
        self.resources.callback(bank.close)
        return bank


TestSqliteBankMachine = SqliteBankMachine.TestCase
TestSqliteBankMachine.settings = _DATABASE_SETTINGS


@pytest.mark.postgres
@pytest.mark.skipif(postgres_base_url() is None, reason="needs TIMEBANK_TEST_POSTGRES_URL")
class TestPostgresBankMachine(PostgresBankMachine.TestCase):  # type: ignore[name-defined,misc]
    settings = _DATABASE_SETTINGS


# --- what the machine found, as examples ----------------------------------------------------


def _partly_used_booking(cap: int | None) -> tuple[BankBook, str]:
    """Wei (70) books 100 minutes of Li's help, paid from 30 own and 70 gifted minutes."""
    clock = ManualClock(START)
    rules = PolicyRules(name="plain", starting_grant_minutes=30, stored_minutes_max=cap)
    book = TimeBank(clock=clock).create_book(BOOK_ID, rules)
    for member_id, born in (("wei", date(1956, 1, 1)), ("li", date(1986, 1, 1))):
        book.members.register(
            RegisterMember(
                member_id=member_id,
                name="李娜",
                birth_date=born,
                community="gulou",
                roles={Role.VOLUNTEER, Role.RECIPIENT},
            ),
            actor=SYSTEM,
        )
    book.gifts.grant(
        Grant(member_id="wei", minutes=70, reason="living alone", source="issuance"), actor=SYSTEM
    )
    booking = book.redemptions.book(
        BookRedemption(saver_id="wei", minutes=100, provider_id="li"), actor="wei"
    )
    return book, booking.redemption_id


def test_a_booking_used_in_part_spends_own_minutes_first() -> None:
    """20 of 100 booked minutes used: own ones (the gifted ones untouched); the rest is released."""
    book, redemption_id = _partly_used_booking(cap=None)
    done = book.redemptions.complete(
        CompleteRedemption(redemption_id=redemption_id, spent_minutes=20), actor="wei"
    )
    assert (done.status, done.spent_minutes) == (RedemptionStatus.DONE, 20)
    wei, li = book.statements.balance("wei"), book.statements.balance("li")
    assert (wei.own_minutes, wei.gifted_minutes, wei.held_minutes) == (10, 70, 0)
    assert (li.own_minutes, li.incoming_minutes) == (30 + 20, 0)


def test_a_booking_used_in_part_pays_the_provider_before_the_overflow() -> None:
    """Under a cap of 100, Li (30 stored) had 70 minutes coming and 30 overflowing; of 20
    minutes used, all 20 reach Li and nothing overflows."""
    book, redemption_id = _partly_used_booking(cap=100)
    book.redemptions.complete(
        CompleteRedemption(redemption_id=redemption_id, spent_minutes=20), actor="wei"
    )
    assert book.statements.balance("wei").own_minutes == 10
    assert book.statements.balance("li").own_minutes == 30 + 20
    assert book.statements.programme_balance("pool") == 0
    assert book.statements.verify().ok
