"""A time bank's rules as data, and the pure functions that apply them.

``PolicyRules`` is one rule set: how raw minutes become credited minutes, who
may provide and receive, who pays, the bounds of members' balances, gifts,
starting grants, expiry and what happens on death. A book keeps numbered
versions of it (``PolicyVersion``); every credit records the version that
produced it. Nothing here does I/O.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Final

from msgspec import Struct, field

__all__ = [
    "CATEGORY_COUNT_MAX",
    "DeathHandling",
    "GrantEligibility",
    "OrderDeadlines",
    "PolicyRules",
    "Rounding",
    "age_on",
    "credited_minutes",
    "policy_problems",
]

CATEGORY_COUNT_MAX: Final = 200
WEIGHT_PERMILLE_MAX: Final = 100_000
"""A weight of at most 100x."""
POLICY_MINUTES_MAX: Final = 10**9


class Rounding(StrEnum):
    DOWN = "down"
    NEAREST = "nearest"
    """Halves round up (a 45-minute visit in 30-minute steps credits 60)."""
    UP = "up"


class DeathHandling(StrEnum):
    KEEP = "keep"
    """Off: the deceased member's minutes stay where they are, frozen."""
    RELATIVES = "relatives"
    """Shared equally among the named relatives (the remainder to the first), else the pool."""
    POOL = "pool"
    """All to the community pool."""


class GrantEligibility(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who a fund may grant to: members of at least ``age_min`` carrying every one of ``flags``."""

    age_min: int = 0
    flags: frozenset[str] = frozenset()


class OrderDeadlines(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How long a service order of one category may wait, in minutes."""

    accept_within_minutes: int
    """From the request until a volunteer accepts it."""
    complete_within_minutes: int
    """From acceptance (or the scheduled time, if later) until check-out."""


class PolicyRules(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One rule set. Every field has a permissive default; presets fill in real programmes."""

    name: str
    unit_name: str = "hour"
    """What members see: ``hour``, ``time coin``, ``point``."""
    unit_minutes: int = 60
    """Minutes in one displayed unit."""
    categories: tuple[str, ...] = ()
    """Allowed service categories; empty allows any."""
    weights_permille: dict[str, int] = field(default_factory=dict)
    """Credited minutes per 1,000 raw minutes, per category (default 1,000)."""
    rounding_step_minutes: int = 1
    rounding: Rounding = Rounding.DOWN
    flat_credit_minutes: int | None = None
    """If set, every service credits exactly this many minutes (1 service = 1 point)."""
    record_minutes_min: int = 1
    record_minutes_max: int = 24 * 60
    provider_age_min: int = 18
    provider_age_max: int | None = None
    provider_age_min_in_group: int | None = None
    """Younger providers may serve only in group events from this age (None: no exception)."""
    provider_vetting_required: bool = False
    provider_vetting_street: bool = False
    """Require the second (street office) level of vetting."""
    recipient_age_min: int | None = None
    recipient_flags_any: frozenset[str] = frozenset()
    """If set, a recipient must carry at least one of these key-resident flags..."""
    recipient_flags_waive_age: bool = True
    """...or (if this is true) be old enough."""
    redeem_age_min: int | None = None
    """Savers may spend their own minutes from this age."""
    payer_default: str = "recipient"
    """``recipient`` (members pay each other) or a programme account id (``issuance``...)."""
    subsidised_flags: frozenset[str] = frozenset()
    subsidised_payer: str | None = None
    """Who pays for recipients carrying a subsidised flag (a sponsor or ``issuance``)."""
    credit_limit_minutes: int = 0
    """How far below zero a member's own account may go (mutual credit)."""
    stored_minutes_max: int | None = None
    overflow_account: str = "pool"
    group_minutes_donate_only: bool = False
    gift_relations: frozenset[str] = frozenset()
    """Relations a member may give minutes to; empty forbids gifts."""
    gift_receiver_age_min: int | None = None
    gift_receiver_age_exempt_relations: frozenset[str] = frozenset()
    """Relations the receiver age rule does not apply to (Nanjing: the spouse)."""
    starting_grant_minutes: int = 0
    guarantee_grants_to: tuple[GrantEligibility, ...] = ()
    """Who the guarantee fund may grant minutes to (any one rule suffices); empty: anyone."""
    merchant_redemption: bool = True
    """Whether savers may spend minutes on goods or benefits at partner merchants."""
    confirmation_required: bool = False
    """Credits whose provenance is not itself a confirmation are held until confirmed."""
    expiry_days: int | None = None
    death_handling: DeathHandling = DeathHandling.KEEP
    deadlines: OrderDeadlines = OrderDeadlines(
        accept_within_minutes=24 * 60, complete_within_minutes=7 * 24 * 60
    )
    """Service-order deadlines of every category not in ``deadlines_by_category``."""
    deadlines_by_category: dict[str, OrderDeadlines] = field(default_factory=dict)
    escalation_chain: tuple[str, ...] = ("dispatcher", "community", "street")
    """Who an overdue order goes to, in turn: level 1 is the first."""
    escalate_every_minutes: int = 24 * 60
    """How long each level has before the order goes up to the next."""
    order_expires_after_minutes: int | None = 14 * 24 * 60
    """An order not started this long after its request (or scheduled time) expires."""
    offer_reminder_days: int = 14
    """How long before an offer lapses its volunteer is reminded."""

    def weight_permille(self, category: str) -> int:
        return self.weights_permille.get(category, 1000)

    def deadlines_of(self, category: str) -> OrderDeadlines:
        return self.deadlines_by_category.get(category, self.deadlines)


def policy_problems(rules: PolicyRules) -> list[str]:
    """Why a rule set is unusable (empty if it is fine)."""
    problems: list[str] = []
    if not rules.name.strip() or len(rules.name) > 100:
        problems.append("name must be 1 to 100 characters")
    if len(rules.categories) > CATEGORY_COUNT_MAX:
        problems.append(f"at most {CATEGORY_COUNT_MAX} categories")
    for category, weight in rules.weights_permille.items():
        if not 1 <= weight <= WEIGHT_PERMILLE_MAX:
            problems.append(f"weight of {category!r} must be 1 to {WEIGHT_PERMILLE_MAX} permille")
    counts = {
        "unit_minutes": rules.unit_minutes,
        "rounding_step_minutes": rules.rounding_step_minutes,
        "record_minutes_min": rules.record_minutes_min,
        "record_minutes_max": rules.record_minutes_max,
    }
    for name, value in counts.items():
        if not 1 <= value <= POLICY_MINUTES_MAX:
            problems.append(f"{name} must be 1 to {POLICY_MINUTES_MAX}")
    if rules.record_minutes_min > rules.record_minutes_max:
        problems.append("record_minutes_min exceeds record_minutes_max")
    cap = rules.stored_minutes_max
    if cap is not None and rules.starting_grant_minutes > cap:
        problems.append("starting_grant_minutes exceeds stored_minutes_max")
    optional = {
        "flat_credit_minutes": rules.flat_credit_minutes,
        "stored_minutes_max": rules.stored_minutes_max,
        "expiry_days": rules.expiry_days,
    }
    for name, maybe in optional.items():
        if maybe is not None and not 1 <= maybe <= POLICY_MINUTES_MAX:
            problems.append(f"{name} must be 1 to {POLICY_MINUTES_MAX}")
    for name, value in {
        "credit_limit_minutes": rules.credit_limit_minutes,
        "starting_grant_minutes": rules.starting_grant_minutes,
    }.items():
        if not 0 <= value <= POLICY_MINUTES_MAX:
            problems.append(f"{name} must be 0 to {POLICY_MINUTES_MAX}")
    ages = (
        rules.provider_age_min,
        rules.provider_age_max,
        rules.provider_age_min_in_group,
        rules.recipient_age_min,
        rules.redeem_age_min,
        rules.gift_receiver_age_min,
    )
    if any(age is not None and not 0 <= age <= 150 for age in ages):
        problems.append("ages must be 0 to 150")
    problems.extend(_exchange_problems(rules))
    return problems


def _exchange_problems(rules: PolicyRules) -> list[str]:
    problems: list[str] = []
    deadlines = {"deadlines": rules.deadlines, **rules.deadlines_by_category}
    for name, limits in deadlines.items():
        for value in (limits.accept_within_minutes, limits.complete_within_minutes):
            if not 1 <= value <= POLICY_MINUTES_MAX:
                problems.append(f"deadlines of {name!r} must be 1 to {POLICY_MINUTES_MAX} minutes")
                break
    if len(rules.deadlines_by_category) > CATEGORY_COUNT_MAX:
        problems.append(f"deadlines for at most {CATEGORY_COUNT_MAX} categories")
    chain = rules.escalation_chain
    if not 1 <= len(chain) <= 10 or any(not 0 < len(level) <= 32 for level in chain):
        problems.append("escalation_chain has 1 to 10 levels of 1 to 32 characters")
    expires = rules.order_expires_after_minutes
    if expires is not None and not 1 <= expires <= POLICY_MINUTES_MAX:
        problems.append(f"order_expires_after_minutes must be 1 to {POLICY_MINUTES_MAX}")
    if not 1 <= rules.escalate_every_minutes <= POLICY_MINUTES_MAX:
        problems.append(f"escalate_every_minutes must be 1 to {POLICY_MINUTES_MAX}")
    if not 0 <= rules.offer_reminder_days <= 366:
        problems.append("offer_reminder_days must be 0 to 366")
    return problems


def credited_minutes(rules: PolicyRules, category: str, raw_minutes: int) -> int:
    """What a service of ``raw_minutes`` in ``category`` credits: weighted, then rounded."""
    if rules.flat_credit_minutes is not None:
        return rules.flat_credit_minutes
    weighted_num = raw_minutes * rules.weight_permille(category)
    step = rules.rounding_step_minutes
    # Integer arithmetic only: round weighted_num / (1000 * step) to whole steps.
    denominator = 1000 * step
    if rules.rounding is Rounding.DOWN:
        steps = weighted_num // denominator
    elif rules.rounding is Rounding.UP:
        steps = -(-weighted_num // denominator)
    else:
        steps = (2 * weighted_num + denominator) // (2 * denominator)
    return steps * step


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday
