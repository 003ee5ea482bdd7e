"""The reports coordinators run, as data (the API and CLI export them).

Service-order figures come from the store's aggregates (``OrderReader.tally``:
SQL ``GROUP BY`` on a database), never from loading orders. The volunteer
board counts service credits, which every kind of service leaves (a confirmed
order, a paper record, an event, a micro-wish). Rates are exact: a ``Rate``
keeps its numerator and denominator and gives the percentage as a ``Decimal``
rounded half up to two places, so 2,853 satisfied of 2,860 rated reads 99.76.

Every report is for staff, and covers what the caller coordinates: the whole
book for the application and administrators, their communities for a
coordinator (orders and wishes of those communities, members living there).

Definitions:

- *processed*: an order requested in the period and completed (办结: the
  volunteer checked out) by the time the report runs, whatever came of it after
  (confirmed, rated, closed out, or rejected by the recipient's side);
- *processing rate* (处理率): processed / orders requested less those cancelled
  (expired ones, and those still waiting or under way, count against it; a
  rejected order was completed, so it counts as processed, and its rating, if
  any, as satisfied or not);
- *on-time rate*: completed by the completion deadline / completed;
- *satisfaction rate* (满意率): rated 4 or 5 / rated;
- *average response*: minutes from request to acceptance, over accepted orders;
- *average completion*: minutes from request to check-out, over completed ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from msgspec import Struct

from timebank.bank.context import Snapshot
from timebank.bank.orders import ORDER_CREDIT_PREFIX
from timebank.bank.records import SCAN_PAGE
from timebank.community.errors import ReportPeriodInvalid
from timebank.community.exchange import NeedStatus, Offer, Order, WishStatus
from timebank.community.model import Credit, CreditStatus, MemberStatus
from timebank.community.policy import age_on
from timebank.community.port import OrderTally

__all__ = [
    "DEFINITIONS",
    "PROCESSED_MEANS",
    "CohortLiability",
    "ForecastYear",
    "GapLine",
    "InactiveMember",
    "LiabilityForecast",
    "OrderReport",
    "OrderStats",
    "Rate",
    "VolunteerOfMonth",
    "WishAdoption",
    "inactive_members",
    "liability_forecast",
    "order_report",
    "share_capacity",
    "supply_demand_gap",
    "volunteer_board",
    "wish_adoption",
]

_CENT = Decimal("0.01")
MONTHS_MAX = 120


class Rate(Struct, frozen=True, kw_only=True):
    """``numerator`` of ``denominator``, with the percentage (None when nothing to count)."""

    numerator: int
    denominator: int
    percent: Decimal | None

    @classmethod
    def of(cls, numerator: int, denominator: int) -> Rate:
        percent = (
            None
            if denominator == 0
            else (Decimal(100 * numerator) / Decimal(denominator)).quantize(_CENT, ROUND_HALF_UP)
        )
        return cls(numerator=numerator, denominator=denominator, percent=percent)


PROCESSED_MEANS: Final = (
    "processed: the order was completed (办结, the volunteer checked out) by the time the "
    "report runs, whatever came of it after (confirmed, rated, closed out, or rejected by "
    "the recipient's side)"
)
DEFINITIONS: Final = {
    "processed": PROCESSED_MEANS,
    "processing_rate": (
        "处理率: processed / (requested - cancelled); an order expired, or still waiting or "
        "under way, counts against it"
    ),
    "on_time_rate": "completed by the completion deadline / processed",
    "satisfaction_rate": "满意率: rated 4 or 5 stars / rated",
}
"""What the order report's figures mean, stated in the report itself (``OrderReport``)."""


class OrderStats(Struct, frozen=True, kw_only=True):
    """The figures of a set of orders; ``month``, ``category`` or ``grid`` empty means all.

    The orders are those *requested* in the months (local calendar months of the book).
    """

    month: str = ""
    category: str = ""
    grid: str = ""
    requested: int
    cancelled: int
    processed: int
    """Completed (办结: the volunteer checked out) by the time the report runs, whatever came
    of the order after: confirmed, rated, closed out, or rejected by the recipient's side."""
    processing_rate: Rate
    """处理率: processed of those requested less the cancelled (expired orders, and those
    still waiting or under way, count against it)."""
    on_time_rate: Rate
    satisfaction_rate: Rate
    mean_rating: Decimal | None
    average_response_minutes: int | None
    average_completion_minutes: int | None
    credited_minutes: int


class OrderReport(Struct, frozen=True, kw_only=True):
    first_month: str
    last_month: str
    total: OrderStats
    by_month: tuple[OrderStats, ...]
    by_category: tuple[OrderStats, ...]
    by_grid: tuple[OrderStats, ...]
    lines: tuple[OrderStats, ...]
    """One per (month, category, grid) that had orders."""
    definitions: dict[str, str]
    """What ``processed`` and each rate mean, in words (``DEFINITIONS``)."""


def scope(snap: Snapshot, action: str = "read reports") -> tuple[str, ...] | None:
    """The communities the caller's reports cover (None: every one); staff only."""
    viewer = snap.viewer
    viewer.require_staff(action)
    return None if viewer.everywhere else tuple(sorted(viewer.communities))


def _in(scoped: tuple[str, ...] | None, community: str) -> bool:
    return scoped is None or community in scoped


def check_month(field: str, value: object) -> str:
    if (
        isinstance(value, str)
        and len(value) == 7
        and value[4] == "-"
        and value[:4].isdigit()
        and value[5:].isdigit()
        and 1 <= int(value[5:]) <= 12
        and 1900 <= int(value[:4]) <= 2199
    ):
        return value
    reason = f"a month is YYYY-MM, from 1900 to 2199, not {str(value)[:16]!r}"
    raise ReportPeriodInvalid(field=field, reason=reason)


def _months_between(first: str, last: str) -> int:
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:]) + 1


def _stats(tallies: Iterable[OrderTally], **labels: str) -> OrderStats:
    t: dict[str, int] = defaultdict(int)
    for tally in tallies:
        for name in (
            "requested",
            "cancelled",
            "processed",
            "on_time",
            "rated",
            "satisfied",
            "rating_sum",
            "responded",
            "response_seconds",
            "completion_seconds",
            "credited_minutes",
        ):
            t[name] += getattr(tally, name)
    rated = t["rated"]
    return OrderStats(
        requested=t["requested"],
        cancelled=t["cancelled"],
        processed=t["processed"],
        processing_rate=Rate.of(t["processed"], t["requested"] - t["cancelled"]),
        on_time_rate=Rate.of(t["on_time"], t["processed"]),
        satisfaction_rate=Rate.of(t["satisfied"], rated),
        mean_rating=(
            None if not rated else (Decimal(t["rating_sum"]) / rated).quantize(_CENT, ROUND_HALF_UP)
        ),
        average_response_minutes=(
            None if not t["responded"] else round(t["response_seconds"] / 60 / t["responded"])
        ),
        average_completion_minutes=(
            None if not t["processed"] else round(t["completion_seconds"] / 60 / t["processed"])
        ),
        credited_minutes=t["credited_minutes"],
        **labels,
    )


def order_report(snap: Snapshot, first_month: str, last_month: str) -> OrderReport:
    """Processing, on-time and satisfaction rates and times, per month, category and grid."""
    scoped = scope(snap)
    first = check_month("first_month", first_month)
    last = check_month("last_month", last_month)
    if not 1 <= _months_between(first, last) <= MONTHS_MAX:
        raise ReportPeriodInvalid(field="last_month", reason=f"1 to {MONTHS_MAX} months from first")
    tallies = list(snap.orders.tallies(first, last, scoped))

    def grouped(key: str) -> tuple[OrderStats, ...]:
        groups: dict[str, list[OrderTally]] = defaultdict(list)
        for tally in tallies:
            groups[getattr(tally, key)].append(tally)
        return tuple(_stats(groups[value], **{key: value}) for value in sorted(groups))

    return OrderReport(
        first_month=first,
        last_month=last,
        total=_stats(tallies),
        by_month=grouped("month"),
        by_category=grouped("category"),
        by_grid=grouped("grid"),
        lines=tuple(_stats([t], month=t.month, category=t.category, grid=t.grid) for t in tallies),
        definitions=dict(DEFINITIONS),
    )


# --- the monthly volunteer board (好人榜) ---------------------------------------------------


class VolunteerOfMonth(Struct, frozen=True, kw_only=True):
    """One place on the month's board: a volunteer and the service credited to them."""

    place: int
    member_id: str
    name: str
    community: str
    services: int
    """Service credits counted: confirmed orders, paper records, events attended, wishes."""
    orders: int
    """How many of those credits were for service orders."""
    credited_minutes: int
    """Minutes those credits credited (what a cap sent on to the overflow account included)."""
    mean_rating: Decimal | None
    """The mean rating of those orders that were rated; None if none was."""


def _local_midnight(snap: Snapshot, day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=snap.zone).astimezone(UTC)


def month_range(snap: Snapshot, month: str) -> tuple[datetime, datetime]:
    first = date(int(month[:4]), int(month[5:]), 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return _local_midnight(snap, first), _local_midnight(snap, following)


def _volunteers_credits(snap: Snapshot, scoped: tuple[str, ...] | None) -> Iterator[Credit]:
    """Every credit of the providers the caller's reports cover (those living there)."""
    if scoped is None:
        yield from snap.records.all_credits()
        return
    for community in scoped:
        after: str | None = None
        while True:
            page = snap.records.members(community=community, after=after, limit=SCAN_PAGE)
            for member in page:
                yield from snap.records.credits_of(member.member_id)
            if len(page) < SCAN_PAGE:
                break
            after = page[-1].member_id


def _order_of(snap: Snapshot, credit: Credit) -> Order | None:
    """The service order whose confirmation made the credit, if one did."""
    if not credit.credit_id.startswith(ORDER_CREDIT_PREFIX):
        return None
    order = snap.orders.get(credit.credit_id.removeprefix(ORDER_CREDIT_PREFIX))
    return order if order is not None and order.credit_id == credit.credit_id else None


def volunteer_board(snap: Snapshot, month: str, limit: int) -> list[VolunteerOfMonth]:
    """The month's volunteers by minutes credited for service, then services, then id.

    Every service credit posted to a volunteer and served in the month (its local
    calendar month, in the book's time zone) counts, whatever made it: a confirmed
    service order, a paper record, an event attended, a fulfilled micro-wish. A
    credit still waiting for confirmation, disputed or reversed counts for nothing,
    and so does an order rejected, cancelled or expired (it credited nothing). A
    coordinator's board lists the volunteers living in their communities.
    """
    scoped = scope(snap)
    start, end = month_range(snap, check_month("month", month))
    minutes: dict[str, int] = defaultdict(int)
    services: dict[str, int] = defaultdict(int)
    orders: dict[str, int] = defaultdict(int)
    ratings: dict[str, list[int]] = defaultdict(list)
    for credit in _volunteers_credits(snap, scoped):
        if credit.status is not CreditStatus.POSTED or not start <= credit.served_at < end:
            continue
        provider = credit.provider_id
        minutes[provider] += credit.credited_minutes
        services[provider] += 1
        order = _order_of(snap, credit)
        if order is not None:
            orders[provider] += 1
            if order.rating is not None:
                ratings[provider].append(order.rating)
    ranked = sorted(services, key=lambda v: (-minutes[v], -services[v], v))
    board = []
    for place, volunteer_id in enumerate(ranked[:limit], start=1):
        member = snap.records.member(volunteer_id)
        rated = ratings[volunteer_id]
        board.append(
            VolunteerOfMonth(
                place=place,
                member_id=volunteer_id,
                name="" if member is None else member.name,
                community="" if member is None else member.community,
                services=services[volunteer_id],
                orders=orders[volunteer_id],
                credited_minutes=minutes[volunteer_id],
                mean_rating=(
                    None
                    if not rated
                    else (Decimal(sum(rated)) / len(rated)).quantize(_CENT, ROUND_HALF_UP)
                ),
            )
        )
    return board


# --- micro-wishes --------------------------------------------------------------------------


class WishAdoption(Struct, frozen=True, kw_only=True):
    community: str
    """Empty: every community."""
    posted: int
    adopted: int
    fulfilled: int
    confirmed: int
    adoption_rate: Rate


_ADOPTED = frozenset({WishStatus.ADOPTED, WishStatus.FULFILLED, WishStatus.CONFIRMED})


def wish_adoption(snap: Snapshot, community: str | None) -> WishAdoption:
    """How many micro-wishes were adopted (withdrawn ones left out)."""
    scoped = scope(snap)
    if community is not None:
        snap.viewer.require_covers("read a community's report", community)
        communities: tuple[str | None, ...] = (community,)
    else:
        communities = (None,) if scoped is None else scoped
    wishes = [
        w
        for chosen in communities
        for w in snap.records.wishes(community=chosen)
        if w.status != WishStatus.WITHDRAWN
    ]
    adopted = sum(w.status in _ADOPTED for w in wishes)
    only = scoped[0] if scoped is not None and len(scoped) == 1 else ""
    return WishAdoption(
        community=community or only,
        posted=len(wishes),
        adopted=adopted,
        fulfilled=sum(w.status in (WishStatus.FULFILLED, WishStatus.CONFIRMED) for w in wishes),
        confirmed=sum(w.status is WishStatus.CONFIRMED for w in wishes),
        adoption_rate=Rate.of(adopted, len(wishes)),
    )


# --- supply versus demand -------------------------------------------------------------------


class GapLine(Struct, frozen=True, kw_only=True):
    """A week's offered against needed minutes for one category in one grid."""

    category: str
    grid: str
    supply_minutes: int
    """The category's shares of the weekly capacity of active offers in the grid (an offer of
    several categories shares its capacity between them, see ``share_capacity``)."""
    demand_minutes: int
    """Estimated minutes of open needs falling in the week."""
    gap_minutes: int
    """Demand less supply: positive where volunteers are short."""


def share_capacity(capacity: int, demand: Mapping[str, int]) -> dict[str, int]:
    """An offer's weekly ``capacity`` shared between its categories (the keys of ``demand``).

    Each category's share is in proportion to its open demand (equal shares when none has
    any), in whole minutes: the floor of its exact share, then the minutes left over one
    each to the largest fractional parts, ties to the category first in order (the largest
    remainder method). The shares sum to ``capacity`` exactly.
    """
    categories = sorted(demand)
    if not categories:
        return {}
    weights = {c: max(demand[c], 0) for c in categories}
    total = sum(weights.values())
    if total == 0:
        weights = dict.fromkeys(categories, 1)
        total = len(categories)
    shares = {c: capacity * weights[c] // total for c in categories}
    left = capacity - sum(shares.values())
    by_remainder = sorted(categories, key=lambda c: (-(capacity * weights[c] % total), c))
    for category in by_remainder[:left]:
        shares[category] += 1
    return shares


def supply_demand_gap(snap: Snapshot, week_start: date) -> list[GapLine]:
    """Supply against demand per category and grid for the week starting ``week_start``.

    The week is seven local days of the book's time zone from ``week_start``. Demand
    is the estimated minutes of open needs falling in it (a weekly need once for each
    visit). Supply is the weekly capacity of every offer active on a day of the week,
    counted once: an offer of several categories shares its capacity between them in
    proportion to the week's demand for each in the offer's grid (``share_capacity``).
    """
    scoped = scope(snap)
    if type(week_start) is not date:
        raise ReportPeriodInvalid(field="week_start", reason="a date is needed")
    days = [week_start + timedelta(days=n) for n in range(7)]
    supply: dict[tuple[str, str], int] = defaultdict(int)
    demand: dict[tuple[str, str], int] = defaultdict(int)
    for need in snap.records.needs():
        if need.status is not NeedStatus.OPEN or not _in(scoped, need.community):
            continue
        if need.once_at is not None:
            if snap.local_date(need.once_at) in days:
                demand[need.category, need.grid] += need.estimated_minutes
            continue
        visits = sum(
            1
            for window in need.windows
            for day in days
            if day.weekday() == window.weekday
            and need.starts_on <= day
            and (need.until is None or day <= need.until)
        )
        demand[need.category, need.grid] += visits * need.estimated_minutes
    for offer in snap.records.offers():
        if _in(scoped, offer.community) and any(offer.active_on(day) for day in days):
            for category, minutes in _shares(offer, demand).items():
                supply[category, offer.grid] += minutes
    keys = sorted(set(supply) | set(demand))
    return [
        GapLine(
            category=category,
            grid=grid,
            supply_minutes=supply[category, grid],
            demand_minutes=demand[category, grid],
            gap_minutes=demand[category, grid] - supply[category, grid],
        )
        for category, grid in keys
    ]


def _shares(offer: Offer, demand: Mapping[tuple[str, str], int]) -> dict[str, int]:
    wanted = {category: demand.get((category, offer.grid), 0) for category in offer.categories}
    return share_capacity(offer.capacity_minutes_per_week, wanted)


# --- liability by age cohort, and when it will be claimed -------------------------------


class CohortLiability(Struct, frozen=True, kw_only=True):
    cohort: str
    """``under 60``, ``60-69``, ``70-79``, ``80+``."""
    members: int
    minutes: int


class ForecastYear(Struct, frozen=True, kw_only=True):
    year: int
    claims_minutes: int
    """Banked minutes of savers reaching the claim age this year (year one: already there)."""
    supply_minutes: int
    """A year's service at the last twelve months' pace, from volunteers still young enough."""
    cumulative_gap_minutes: int
    """Claims so far less supply so far: positive where savers would wait."""


class LiabilityForecast(Struct, frozen=True, kw_only=True):
    as_of: date
    claim_age: int
    total_minutes: int
    cohorts: tuple[CohortLiability, ...]
    years: tuple[ForecastYear, ...]


def _cohort(age: int) -> str:
    if age < 60:
        return "under 60"
    if age >= 80:
        return "80+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


COHORTS = ("under 60", "60-69", "70-79", "80+")
CLAIM_AGE_DEFAULT = 75
SERVING_AGE_DEFAULT = 75


def liability_forecast(snap: Snapshot, today: date, years: int) -> LiabilityForecast:
    """Banked minutes by the savers' age, and year by year, claims against expected supply.

    A saver is expected to claim their minutes from the policy's redemption age
    (75 when the policy has none). Supply is what each volunteer served in the
    last twelve months, continued while they are below the policy's provider
    age limit (75 when it has none).
    """
    scoped = scope(snap)
    if type(years) is not int or not 1 <= years <= 30:
        raise ReportPeriodInvalid(field="years", reason="1 to 30 years")
    rules = snap.policy().rules
    claim_age = rules.redeem_age_min or CLAIM_AGE_DEFAULT
    serving_age = rules.provider_age_max or SERVING_AGE_DEFAULT
    cohorts: dict[str, list[int]] = {name: [0, 0] for name in COHORTS}
    claims = [0] * years
    birth: dict[str, date] = {}
    total = 0
    for member in snap.records.all_members():
        if not _in(scoped, member.community):
            continue
        birth[member.member_id] = member.birth_date
        if member.status is MemberStatus.DECEASED:
            continue
        minutes = sum(a.posted_minutes for a in snap.purses(member.member_id).values())
        age = age_on(member.birth_date, today)
        cohort = cohorts[_cohort(age)]
        cohort[0] += 1
        cohort[1] += minutes
        total += minutes
        if minutes > 0:
            claims[min(max(claim_age - age, 0), years - 1)] += minutes
    year_ago = today - timedelta(days=365)
    served: dict[str, int] = defaultdict(int)
    for credit in snap.records.all_credits():
        if credit.status is CreditStatus.POSTED and snap.local_date(credit.served_at) > year_ago:
            served[credit.provider_id] += credit.credited_minutes
    forecast = []
    gap = 0
    for year in range(years):
        supply = sum(
            minutes
            for provider, minutes in served.items()
            if provider in birth and age_on(birth[provider], today) + year < serving_age
        )
        gap += claims[year] - supply
        forecast.append(
            ForecastYear(
                year=today.year + year,
                claims_minutes=claims[year],
                supply_minutes=supply,
                cumulative_gap_minutes=gap,
            )
        )
    return LiabilityForecast(
        as_of=today,
        claim_age=claim_age,
        total_minutes=total,
        cohorts=tuple(
            CohortLiability(cohort=name, members=count, minutes=minutes)
            for name, (count, minutes) in cohorts.items()
        ),
        years=tuple(forecast),
    )


# --- inactive members -----------------------------------------------------------------------


class InactiveMember(Struct, frozen=True, kw_only=True):
    member_id: str
    name: str
    community: str
    last_active_at: datetime
    """Their last service given or received, order, or (failing those) registration."""
    days_inactive: int


def inactive_members(snap: Snapshot, now: datetime, days: int) -> list[InactiveMember]:
    """Active members with nothing given, received or ordered for ``days`` days, longest first."""
    scoped = scope(snap)
    if type(days) is not int or not 1 <= days <= 3660:
        raise ReportPeriodInvalid(field="days", reason="1 to 3,660 days")
    last: dict[str, datetime] = {}

    def seen(member_id: str | None, moment: datetime) -> None:
        if member_id is not None and (member_id not in last or last[member_id] < moment):
            last[member_id] = moment

    for credit in snap.records.all_credits():
        seen(credit.provider_id, credit.served_at)
        seen(credit.recipient_id, credit.served_at)
    for order in snap.orders.all():
        seen(order.recipient_id, order.requested_at)
        seen(order.volunteer_id, order.completed_at or order.accepted_at or order.requested_at)
    cutoff = now - timedelta(days=days)
    found = []
    for member in snap.records.all_members():
        if member.status is not MemberStatus.ACTIVE or not _in(scoped, member.community):
            continue
        moment = last.get(member.member_id, member.registered_at)
        moment = max(moment, member.registered_at)
        if moment < cutoff:
            found.append(
                InactiveMember(
                    member_id=member.member_id,
                    name=member.name,
                    community=member.community,
                    last_active_at=moment,
                    days_inactive=(now - moment).days,
                )
            )
    return sorted(found, key=lambda m: (m.last_active_at, m.member_id))
