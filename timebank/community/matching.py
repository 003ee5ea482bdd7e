"""Matching volunteers to needs for the old-helping-old exchange (老帮老).

A ``Volunteer`` is one line of the supply ledger (what a younger senior offers,
when, where, and how many minutes a week); a ``Need`` is one line of the
demand ledger. ``rank`` orders the volunteers who could serve one need and
explains every point; ``match_week`` assigns a week's needs to volunteers.

Eligibility (the same rule everywhere): a volunteer may serve a need when

- they offer the need's category;
- one of their windows and one of the need's windows overlap for at least the
  need's ``estimated_minutes`` *without a break* (the visit is one sitting).
  Windows on one side that touch or overlap are merged first, so 09:00-10:00
  and 10:00-11:00 count as 09:00-11:00, and so do Monday 23:00-24:00 and
  Tuesday 00:00-01:00; the week does not wrap from Sunday to Monday;
- their remaining weekly minutes (capacity less minutes already booked) cover
  the need's ``estimated_minutes``.

Points (all integers; a score is the sum of its parts, each with a detail):

==============  ========  ===========================================================
part            points    rule
==============  ========  ===========================================================
area            0..2,000  2,000 same grid, 1,000 same community, 0 elsewhere
distance        0..100    100 at 0 m, one point less per 50 m, 0 from 5 km; 50 unknown
availability    25..100   overlapping minutes, up to four times the visit's length
capacity        0..100    weekly minutes left after this visit, full marks from 600
fairness        0..100    100 never served, else 0..90 over the 30 days since last served
reliability     0..100    completion rate and mean rating, each with a prior
==============  ========  ===========================================================

The area gaps (1,000) exceed everything the other parts can add (500), so a
neighbour in the same grid always ranks first, then the same community, and
only then do distance and the rest decide. The reliability prior counts every
volunteer as if they had already accepted 5 visits and completed 4, and been
rated 4 stars 5 times: a newcomer scores what a typical volunteer scores, and
one good or bad visit moves a record only a little. Ties go to the smaller
``member_id``.

Because area dominates, ``VolunteerIndex`` groups volunteers by category,
community and grid, and ranking reads the need's grid first, then its
community, then the rest of the category, stopping as soon as a whole area
has supplied enough candidates.

``match_week`` first runs ``greedy_week`` (needs with the fewest eligible
candidates first, ties in input order; each takes its best-ranked volunteer
with room), then looks for augmenting paths: an unmatched need takes a
volunteer's room by moving one of that volunteer's needs to another eligible
volunteer, recursively up to ``AUGMENT_DEPTH_MAX`` moves. Every successful
path adds one need and drops none, so it never matches fewer than greedy.
Both consider at most ``candidates_per_need`` volunteers per need, which
bounds memory (needs x candidates) and time (a search budget per need and per
call). ``rank``, ``greedy_week`` and ``match_week`` take an optional ``admit``
(need, volunteer) -> bool: a candidate it refuses is never ranked or matched,
and does not take a place among the candidates (the facade passes dispatch's
own check, so that nobody is suggested whom dispatch would refuse). Neither
schedules the exact hour: the coordinator settles it inside the overlap, and
weekly minutes are what the matcher guarantees.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from itertools import islice
from typing import Annotated, Final

from msgspec import Meta, Struct

__all__ = [
    "AUGMENT_DEPTH_MAX",
    "AUGMENT_STEPS_TOTAL_MAX",
    "AUGMENT_VISITS_PER_NEED_MAX",
    "CANDIDATES_PER_NEED_MAX",
    "CATEGORIES_PER_VOLUNTEER_MAX",
    "COORDINATE_METRES_MAX",
    "COUNT_MAX",
    "ESTIMATED_MINUTES_MAX",
    "ID_LENGTH_MAX",
    "LIMIT_MAX",
    "NEEDS_MAX",
    "VOLUNTEERS_MAX",
    "WEEK_MINUTES",
    "WINDOWS_MAX",
    "Admit",
    "MatchLimitOutOfRange",
    "Need",
    "Ranked",
    "ScorePart",
    "Volunteer",
    "VolunteerIndex",
    "WeekMatch",
    "Window",
    "greedy_week",
    "match_week",
    "rank",
]

DAY_MINUTES: Final = 1_440
WEEK_MINUTES: Final = 7 * DAY_MINUTES
ID_LENGTH_MAX: Final = 128
WINDOWS_MAX: Final = 28
"""Windows per volunteer or need: four a day."""
CATEGORIES_PER_VOLUNTEER_MAX: Final = 50
ESTIMATED_MINUTES_MAX: Final = DAY_MINUTES
COORDINATE_METRES_MAX: Final = 10_000_000
"""Grid coordinates are metres east and north of a local origin, within 10,000 km."""
COUNT_MAX: Final = 1_000_000
"""Bound on visits accepted, completed and rated."""
RATING_STARS_MAX: Final = 5
LIMIT_MAX: Final = 200
CANDIDATES_PER_NEED_MAX: Final = 200
NEEDS_MAX: Final = 100_000
VOLUNTEERS_MAX: Final = 100_000
AUGMENT_DEPTH_MAX: Final = 8
"""Moves of already-assigned needs in one augmenting path."""
AUGMENT_VISITS_PER_NEED_MAX: Final = 256
"""Volunteers one augmenting search may look behind."""
AUGMENT_STEPS_TOTAL_MAX: Final = 20_000_000
"""Candidates all augmenting searches of one call may consider: a few seconds of work."""
AUGMENT_ROUNDS_MAX: Final = 4

AREA_GRID_POINTS: Final = 2_000
AREA_COMMUNITY_POINTS: Final = 1_000
DISTANCE_POINTS_MAX: Final = 100
DISTANCE_METRES_PER_POINT: Final = 50
DISTANCE_UNKNOWN_POINTS: Final = 50
AVAILABILITY_POINTS_MAX: Final = 100
AVAILABILITY_VISITS_FULL: Final = 4
CAPACITY_POINTS_MAX: Final = 100
CAPACITY_MINUTES_FULL: Final = 600
FAIRNESS_NEVER_POINTS: Final = 100
FAIRNESS_POINTS_MAX: Final = 90
FAIRNESS_MINUTES_FULL: Final = 30 * DAY_MINUTES
RELIABILITY_HALF_POINTS: Final = 50
PRIOR_ACCEPTED: Final = 5
PRIOR_COMPLETED: Final = 4
PRIOR_RATINGS: Final = 5
PRIOR_STARS: Final = 4


Admit = Callable[["Need", "Volunteer"], bool]
"""Whether a volunteer who fits a need may be named for it at all (see the module's notes)."""


class MatchLimitOutOfRange(ValueError):
    """A bound given to the matcher (``limit``, ``candidates_per_need``...) is out of range."""

    def __init__(self, *, field: str, value: int, minimum: int, maximum: int) -> None:
        super().__init__(f"{field} {value}; between {minimum} and {maximum} are allowed")
        self.field = field
        self.value = value
        self.minimum = minimum
        self.maximum = maximum


def _check_id(field: str, value: str) -> None:
    if not 1 <= len(value) <= ID_LENGTH_MAX:
        raise ValueError(f"{field} must be 1 to {ID_LENGTH_MAX} characters")


def _check_range(field: str, value: int, minimum: int, maximum: int) -> None:
    if not minimum <= value <= maximum:
        raise MatchLimitOutOfRange(field=field, value=value, minimum=minimum, maximum=maximum)


def _check_place(x_metres: int | None, y_metres: int | None) -> None:
    if (x_metres is None) != (y_metres is None):
        raise ValueError("x_metres and y_metres are both set or both unknown")
    for value in (x_metres, y_metres):
        if value is not None:
            _check_range("coordinate", value, -COORDINATE_METRES_MAX, COORDINATE_METRES_MAX)


def _check_windows(windows: tuple[Window, ...]) -> None:
    _check_range("windows", len(windows), 0, WINDOWS_MAX)


class Window(Struct, frozen=True, kw_only=True):
    """A weekly stretch of local time: ``weekday`` 0 is Monday, minutes count from midnight."""

    weekday: Annotated[int, Meta(ge=0, le=6)]
    start_minute: Annotated[int, Meta(ge=0, le=DAY_MINUTES - 1)]
    end_minute: Annotated[int, Meta(ge=1, le=DAY_MINUTES)]
    """Exclusive; 1,440 is midnight at the end of the day."""

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday {self.weekday} is not 0 (Monday) to 6 (Sunday)")
        if not 0 <= self.start_minute < self.end_minute <= DAY_MINUTES:
            raise ValueError("a window needs 0 <= start_minute < end_minute <= 1440")


class Volunteer(Struct, frozen=True, kw_only=True):
    """One line of the supply ledger (供给台账): what a member offers, when, where, how much."""

    member_id: str
    categories: frozenset[str]
    community: str
    grid: str = ""
    """Empty when the member's grid is not known: never counts as the same grid."""
    x_metres: int | None = None
    y_metres: int | None = None
    windows: tuple[Window, ...]
    capacity_minutes_per_week: int
    booked_minutes_this_week: int = 0
    last_served_at: datetime | None = None
    accepted_count: int = 0
    completed_count: int = 0
    rating_sum: int = 0
    """Sum of 1-5 star ratings received."""
    rating_count: int = 0

    def __post_init__(self) -> None:
        _check_id("member_id", self.member_id)
        _check_range("categories", len(self.categories), 0, CATEGORIES_PER_VOLUNTEER_MAX)
        _check_place(self.x_metres, self.y_metres)
        _check_windows(self.windows)
        _check_range("capacity_minutes_per_week", self.capacity_minutes_per_week, 0, WEEK_MINUTES)
        _check_range("booked_minutes_this_week", self.booked_minutes_this_week, 0, WEEK_MINUTES)
        _check_range("accepted_count", self.accepted_count, 0, COUNT_MAX)
        _check_range("completed_count", self.completed_count, 0, self.accepted_count)
        _check_range("rating_count", self.rating_count, 0, COUNT_MAX)
        stars_max = RATING_STARS_MAX * self.rating_count
        _check_range("rating_sum", self.rating_sum, self.rating_count, stars_max)
        if self.last_served_at is not None and self.last_served_at.utcoffset() is None:
            raise ValueError("last_served_at must be timezone-aware")

    @property
    def remaining_minutes_this_week(self) -> int:
        """Capacity not yet booked; negative when overbooked."""
        return self.capacity_minutes_per_week - self.booked_minutes_this_week


class Need(Struct, frozen=True, kw_only=True):
    """One line of the demand ledger (需求台账): a visit someone needs this week."""

    need_id: str
    category: str
    community: str
    grid: str = ""
    x_metres: int | None = None
    y_metres: int | None = None
    windows: tuple[Window, ...]
    """When the visit may take place."""
    estimated_minutes: int

    def __post_init__(self) -> None:
        _check_id("need_id", self.need_id)
        _check_place(self.x_metres, self.y_metres)
        _check_windows(self.windows)
        _check_range("estimated_minutes", self.estimated_minutes, 1, ESTIMATED_MINUTES_MAX)


class ScorePart(Struct, frozen=True, kw_only=True):
    """One reason for a score: its name, its points, and why, in words."""

    name: str
    points: int
    detail: str


class Ranked(Struct, frozen=True, kw_only=True):
    """A volunteer eligible for a need; ``score`` is the sum of ``parts``."""

    member_id: str
    score: int
    parts: tuple[ScorePart, ...]


class WeekMatch(Struct, frozen=True, kw_only=True):
    """A week's assignment: need id -> member id, and the needs left without a volunteer."""

    assignments: dict[str, str]
    unmatched: tuple[str, ...]


_Spans = tuple[tuple[int, int], ...]
"""Merged, sorted, non-touching stretches in minutes from Monday 00:00."""


def _spans(windows: Iterable[Window]) -> _Spans:
    stretches = sorted(
        (w.weekday * DAY_MINUTES + w.start_minute, w.weekday * DAY_MINUTES + w.end_minute)
        for w in windows
    )
    merged: list[tuple[int, int]] = []
    for start, end in stretches:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _hours_mask(spans: _Spans) -> int:
    """A bit for every hour of the week the spans touch: disjoint masks never overlap."""
    mask = 0
    for start, end in spans:
        first, last = start // 60, (end - 1) // 60
        mask |= ((1 << (last - first + 1)) - 1) << first
    return mask


def _overlap(a: _Spans, b: _Spans) -> tuple[int, int]:
    """The longest unbroken overlap of two span sets, and their total overlap, in minutes."""
    i = j = longest = total = 0
    count_a, count_b = len(a), len(b)
    while i < count_a and j < count_b:
        start_a, end_a = a[i]
        start_b, end_b = b[j]
        length = (end_a if end_a < end_b else end_b) - (start_a if start_a > start_b else start_b)
        if length > 0:
            total += length
            if length > longest:
                longest = length
        if end_a < end_b:
            i += 1
        else:
            j += 1
    return longest, total


class VolunteerIndex:
    """Volunteers grouped by category, community and grid; build once, rank many needs."""

    __slots__ = (
        "_areas",
        "_communities",
        "_grids",
        "_masks",
        "_rooms",
        "_spans",
        "volunteers",
    )

    def __init__(self, volunteers: Iterable[Volunteer]) -> None:
        self.volunteers = tuple(islice(volunteers, VOLUNTEERS_MAX + 1))
        _check_range("volunteers", len(self.volunteers), 0, VOLUNTEERS_MAX)
        if len({v.member_id for v in self.volunteers}) != len(self.volunteers):
            raise ValueError("a member_id appears twice among the volunteers")
        self._spans = [_spans(v.windows) for v in self.volunteers]
        self._masks = [_hours_mask(spans) for spans in self._spans]
        self._rooms = [v.remaining_minutes_this_week for v in self.volunteers]
        self._areas: dict[tuple[str, str, str], list[int]] = {}
        self._grids: dict[tuple[str, str], list[str]] = {}
        self._communities: dict[str, list[str]] = {}
        for number, volunteer in enumerate(self.volunteers):
            for category in sorted(volunteer.categories):
                key = (category, volunteer.community, volunteer.grid)
                if key not in self._areas:
                    self._areas[key] = []
                    grids = self._grids.setdefault(key[:2], [])
                    if not grids:
                        self._communities.setdefault(category, []).append(volunteer.community)
                    grids.append(volunteer.grid)
                self._areas[key].append(number)

    def __len__(self) -> int:
        return len(self.volunteers)

    def tiers(self, need: Need) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
        """Volunteer numbers offering the need's category: same grid, rest of community, rest."""
        category, community = need.category, need.community
        same = (category, community, need.grid)
        grid = [self._areas[same]] if need.grid and same in self._areas else []
        rest = [
            self._areas[(category, community, other)]
            for other in self._grids.get((category, community), [])
            if not (need.grid and other == need.grid)
        ]
        elsewhere = [
            self._areas[(category, place, other)]
            for place in self._communities.get(category, [])
            if place != community
            for other in self._grids[(category, place)]
        ]
        return grid, rest, elsewhere

    def eligible(self, numbers: list[int], spans: _Spans, minutes: int) -> list[tuple[int, int]]:
        """(number, total overlap) of those who can give ``minutes`` unbroken inside ``spans``."""
        mask = _hours_mask(spans)
        rooms, masks, all_spans = self._rooms, self._masks, self._spans
        found = []
        for number in numbers:
            if rooms[number] < minutes or not masks[number] & mask:
                continue
            longest, total = _overlap(spans, all_spans[number])
            if longest >= minutes:
                found.append((number, total))
        return found


def _index(volunteers: VolunteerIndex | Iterable[Volunteer]) -> VolunteerIndex:
    return volunteers if isinstance(volunteers, VolunteerIndex) else VolunteerIndex(volunteers)


def _check_now(now: datetime) -> None:
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


# --- points: one function per part, shared by ranking and matching -------------


def _area_points(need: Need, volunteer: Volunteer) -> int:
    if volunteer.community != need.community:
        return 0
    if need.grid and volunteer.grid == need.grid:
        return AREA_GRID_POINTS
    return AREA_COMMUNITY_POINTS


def _distance_metres(need: Need, volunteer: Volunteer) -> int | None:
    if need.x_metres is None or need.y_metres is None:
        return None
    if volunteer.x_metres is None or volunteer.y_metres is None:
        return None
    return math.isqrt(
        (need.x_metres - volunteer.x_metres) ** 2 + (need.y_metres - volunteer.y_metres) ** 2
    )


def _distance_points(distance_metres: int | None) -> int:
    if distance_metres is None:
        return DISTANCE_UNKNOWN_POINTS
    return max(0, DISTANCE_POINTS_MAX - distance_metres // DISTANCE_METRES_PER_POINT)


def _availability_points(overlap_minutes: int, estimated_minutes: int) -> int:
    full = AVAILABILITY_VISITS_FULL * estimated_minutes
    return min(overlap_minutes, full) * AVAILABILITY_POINTS_MAX // full


def _capacity_points(free_after_minutes: int) -> int:
    return (
        min(free_after_minutes, CAPACITY_MINUTES_FULL)
        * CAPACITY_POINTS_MAX
        // CAPACITY_MINUTES_FULL
    )


def _since_minutes(volunteer: Volunteer, now: datetime) -> int | None:
    if volunteer.last_served_at is None:
        return None
    return max(0, (now - volunteer.last_served_at) // timedelta(minutes=1))


def _fairness_points(since_minutes: int | None) -> int:
    if since_minutes is None:
        return FAIRNESS_NEVER_POINTS
    return min(since_minutes, FAIRNESS_MINUTES_FULL) * FAIRNESS_POINTS_MAX // FAIRNESS_MINUTES_FULL


def _completion_points(volunteer: Volunteer) -> int:
    done = volunteer.completed_count + PRIOR_COMPLETED
    return RELIABILITY_HALF_POINTS * done // (volunteer.accepted_count + PRIOR_ACCEPTED)


def _rating_points(volunteer: Volunteer) -> int:
    ratings = volunteer.rating_count + PRIOR_RATINGS
    above_one_star = volunteer.rating_sum + PRIOR_RATINGS * PRIOR_STARS - ratings
    return RELIABILITY_HALF_POINTS * above_one_star // ((RATING_STARS_MAX - 1) * ratings)


def _standing_points(volunteer: Volunteer, now: datetime) -> int:
    """The points that do not depend on the need: fairness and reliability."""
    fairness = _fairness_points(_since_minutes(volunteer, now))
    return fairness + _completion_points(volunteer) + _rating_points(volunteer)


# --- explanations ---------------------------------------------------------------


def _area_part(need: Need, volunteer: Volunteer) -> ScorePart:
    points = _area_points(need, volunteer)
    if points == AREA_GRID_POINTS:
        detail = f"same grid {need.grid!r} in community {need.community!r}"
    elif points == AREA_COMMUNITY_POINTS:
        detail = f"same community {need.community!r}, grid {volunteer.grid or 'unknown'!r}"
    else:
        detail = f"another community ({volunteer.community!r})"
    return ScorePart(name="area", points=points, detail=detail)


def _distance_part(need: Need, volunteer: Volunteer) -> ScorePart:
    metres = _distance_metres(need, volunteer)
    detail = "distance unknown" if metres is None else f"{metres:,} m away"
    return ScorePart(name="distance", points=_distance_points(metres), detail=detail)


def _availability_part(overlap_minutes: int, estimated_minutes: int) -> ScorePart:
    fits = overlap_minutes // estimated_minutes
    detail = (
        f"{overlap_minutes} overlapping minutes a week, "
        f"room for {fits} visit{'s' if fits != 1 else ''} of {estimated_minutes}"
    )
    points = _availability_points(overlap_minutes, estimated_minutes)
    return ScorePart(name="availability", points=points, detail=detail)


def _capacity_part(volunteer: Volunteer, estimated_minutes: int) -> ScorePart:
    free_after = volunteer.remaining_minutes_this_week - estimated_minutes
    detail = (
        f"{free_after} of {volunteer.capacity_minutes_per_week} weekly minutes free after "
        f"this visit ({volunteer.booked_minutes_this_week} already booked)"
    )
    return ScorePart(name="capacity", points=_capacity_points(free_after), detail=detail)


def _fairness_part(volunteer: Volunteer, now: datetime) -> ScorePart:
    since = _since_minutes(volunteer, now)
    if since is None:
        detail = "never served yet"
    else:
        days, rest = divmod(since, DAY_MINUTES)
        detail = f"last served {days} days {rest // 60} hours ago"
    return ScorePart(name="fairness", points=_fairness_points(since), detail=detail)


def _reliability_part(volunteer: Volunteer) -> ScorePart:
    points = _completion_points(volunteer) + _rating_points(volunteer)
    if volunteer.rating_count:
        tenths = volunteer.rating_sum * 10 // volunteer.rating_count
        rating = f"mean rating {tenths // 10}.{tenths % 10} from {volunteer.rating_count}"
    else:
        rating = "not rated yet"
    detail = (
        f"completed {volunteer.completed_count} of {volunteer.accepted_count} accepted, {rating} "
        f"(counted with a prior of {PRIOR_COMPLETED} of {PRIOR_ACCEPTED} and "
        f"{PRIOR_RATINGS} ratings of {PRIOR_STARS} stars)"
    )
    return ScorePart(name="reliability", points=points, detail=detail)


def _explain(
    need: Need, volunteer: Volunteer, overlap_minutes: int, now: datetime
) -> tuple[ScorePart, ...]:
    return (
        _area_part(need, volunteer),
        _distance_part(need, volunteer),
        _availability_part(overlap_minutes, need.estimated_minutes),
        _capacity_part(volunteer, need.estimated_minutes),
        _fairness_part(volunteer, now),
        _reliability_part(volunteer),
    )


# --- ranking --------------------------------------------------------------------

_Entry = tuple[int, str, int, int]
"""A scored candidate: (minus the score, member id, volunteer number, overlapping minutes)."""


class _Scorer:
    """Scores needs against one index at one moment, remembering each volunteer's standing."""

    __slots__ = ("_standing", "admit", "index", "now")

    def __init__(self, index: VolunteerIndex, now: datetime, admit: Admit | None = None) -> None:
        _check_now(now)
        self.index = index
        self.now = now
        self.admit = admit
        self._standing: dict[int, int] = {}

    def top(self, need: Need, count: int) -> list[_Entry]:
        """Up to ``count`` eligible volunteers, best first, reading the nearest areas first."""
        spans = _spans(need.windows)
        found: list[_Entry] = []
        admit, volunteers = self.admit, self.index.volunteers
        for tier in self.index.tiers(need):
            for numbers in tier:
                for number, total in self.index.eligible(numbers, spans, need.estimated_minutes):
                    if admit is None or admit(need, volunteers[number]):
                        found.append(self._score(need, number, total))
            if len(found) >= count:
                break  # every later tier scores at least 1,000 points less
        found.sort()
        return found[:count]

    def _score(self, need: Need, number: int, total: int) -> _Entry:
        volunteer = self.index.volunteers[number]
        free_after = volunteer.remaining_minutes_this_week - need.estimated_minutes
        standing = self._standing.get(number)
        if standing is None:
            standing = self._standing[number] = _standing_points(volunteer, self.now)
        score = (
            _area_points(need, volunteer)
            + _distance_points(_distance_metres(need, volunteer))
            + _availability_points(total, need.estimated_minutes)
            + _capacity_points(free_after)
            + standing
        )
        return (-score, volunteer.member_id, number, total)


def rank(
    need: Need,
    volunteers: VolunteerIndex | Iterable[Volunteer],
    *,
    now: datetime,
    limit: int = 20,
    admit: Admit | None = None,
) -> list[Ranked]:
    """The volunteers eligible for ``need`` (and admitted by ``admit``, if given), best
    first, at most ``limit`` (1 to 200).

    Pass a ``VolunteerIndex`` to rank many needs against the same volunteers
    without regrouping them each time.
    """
    _check_range("limit", limit, 1, LIMIT_MAX)
    index = _index(volunteers)
    ranked = []
    for minus_score, member_id, number, overlap in _Scorer(index, now, admit).top(need, limit):
        parts = _explain(need, index.volunteers[number], overlap, now)
        assert sum(part.points for part in parts) == -minus_score
        ranked.append(Ranked(member_id=member_id, score=-minus_score, parts=parts))
    return ranked


# --- a week's matching ----------------------------------------------------------


class _Week:
    """One week's assignment in progress: who holds which need, and each volunteer's room."""

    __slots__ = ("candidates", "held", "holder", "minutes", "room", "steps_left")

    def __init__(self, needs: Sequence[Need], index: VolunteerIndex, candidates: list[list[int]]):
        self.minutes = [need.estimated_minutes for need in needs]
        self.candidates = candidates
        self.room = [v.remaining_minutes_this_week for v in index.volunteers]
        self.holder = [-1] * len(needs)
        self.held: dict[int, dict[int, None]] = {}
        self.steps_left = AUGMENT_STEPS_TOTAL_MAX

    def move(self, need: int, volunteer: int) -> None:
        """Give ``need`` to ``volunteer``, taking it from its holder if it had one."""
        old = self.holder[need]
        if old >= 0:
            self.room[old] += self.minutes[need]
            del self.held[old][need]
        self.room[volunteer] -= self.minutes[need]
        assert self.room[volunteer] >= 0
        self.held.setdefault(volunteer, {})[need] = None
        self.holder[need] = volunteer

    def greedy(self, order: Sequence[int]) -> None:
        for need in order:
            for volunteer in self.candidates[need]:
                if self.room[volunteer] >= self.minutes[need]:
                    self.move(need, volunteer)
                    break

    def place(self, need: int, depth: int, seen: set[int]) -> bool:
        """Find ``need`` a volunteer, moving up to ``depth`` other needs; True on success."""
        minutes = self.minutes[need]
        self.steps_left -= len(self.candidates[need])
        for volunteer in self.candidates[need]:
            if volunteer not in seen and self.room[volunteer] >= minutes:
                self.move(need, volunteer)
                return True
        if depth == 0 or self.steps_left <= 0:
            return False
        for volunteer in self.candidates[need]:
            if volunteer in seen or len(seen) >= AUGMENT_VISITS_PER_NEED_MAX:
                continue
            if self.steps_left <= 0:
                return False
            seen.add(volunteer)
            for other in tuple(self.held.get(volunteer, ())):
                if self.room[volunteer] + self.minutes[other] < minutes:
                    continue  # moving it would not make room
                if self.place(other, depth - 1, seen):
                    self.move(need, volunteer)
                    return True
        return False

    def augment(self, order: Sequence[int]) -> None:
        """Place unmatched needs along augmenting paths until a round gains nothing."""
        for _ in range(AUGMENT_ROUNDS_MAX):
            gained = 0
            for need in order:
                if self.holder[need] < 0 and self.candidates[need] and self.steps_left > 0:
                    gained += self.place(need, AUGMENT_DEPTH_MAX, set())
            if gained == 0 or self.steps_left <= 0:
                return

    def result(self, needs: Sequence[Need], index: VolunteerIndex) -> WeekMatch:
        volunteers = index.volunteers
        return WeekMatch(
            assignments={
                need.need_id: volunteers[holder].member_id
                for need, holder in zip(needs, self.holder, strict=True)
                if holder >= 0
            },
            unmatched=tuple(
                need.need_id for need, holder in zip(needs, self.holder, strict=True) if holder < 0
            ),
        )


def _greedy(
    needs: Iterable[Need],
    volunteers: VolunteerIndex | Iterable[Volunteer],
    now: datetime,
    candidates_per_need: int,
    admit: Admit | None,
) -> tuple[_Week, tuple[Need, ...], VolunteerIndex, list[int]]:
    _check_range("candidates_per_need", candidates_per_need, 1, CANDIDATES_PER_NEED_MAX)
    batch = tuple(islice(needs, NEEDS_MAX + 1))
    _check_range("needs", len(batch), 0, NEEDS_MAX)
    if len({need.need_id for need in batch}) != len(batch):
        raise ValueError("a need_id appears twice among the needs")
    index = _index(volunteers)
    scorer = _Scorer(index, now, admit)
    candidates = [[entry[2] for entry in scorer.top(need, candidates_per_need)] for need in batch]
    order = sorted(range(len(batch)), key=lambda n: (len(candidates[n]), n))
    week = _Week(batch, index, candidates)
    week.greedy(order)
    return week, batch, index, order


def greedy_week(
    needs: Iterable[Need],
    volunteers: VolunteerIndex | Iterable[Volunteer],
    *,
    now: datetime,
    candidates_per_need: int = 50,
    admit: Admit | None = None,
) -> WeekMatch:
    """The plain greedy assignment, the baseline ``match_week`` starts from.

    Needs with the fewest eligible candidates (counting at most
    ``candidates_per_need``) go first, ties in input order; each takes its
    best-ranked candidate with enough weekly minutes left.
    """
    week, batch, index, _ = _greedy(needs, volunteers, now, candidates_per_need, admit)
    return week.result(batch, index)


def match_week(
    needs: Iterable[Need],
    volunteers: VolunteerIndex | Iterable[Volunteer],
    *,
    now: datetime,
    candidates_per_need: int = 50,
    admit: Admit | None = None,
) -> WeekMatch:
    """Assign each need at most one eligible volunteer, within every volunteer's weekly minutes.

    Starts from ``greedy_week`` and adds needs along augmenting paths, so it
    never matches fewer. At most 100,000 needs and ``candidates_per_need``
    (1 to 200) candidates each.
    """
    week, batch, index, order = _greedy(needs, volunteers, now, candidates_per_need, admit)
    week.augment(order)
    return week.result(batch, index)
