"""Worked examples and properties of matching volunteers to needs (老帮老)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from timebank.community.matching import (
    LIMIT_MAX,
    MatchLimitOutOfRange,
    Need,
    Ranked,
    Volunteer,
    VolunteerIndex,
    WeekMatch,
    Window,
    greedy_week,
    match_week,
    rank,
)

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
MONDAY_MORNING = (Window(weekday=0, start_minute=9 * 60, end_minute=12 * 60),)
PART_NAMES = ["area", "distance", "availability", "capacity", "fairness", "reliability"]


def volunteer(member_id: str = "v1", **changes: Any) -> Volunteer:
    fields: dict[str, Any] = {
        "member_id": member_id,
        "categories": frozenset({"meals"}),
        "community": "c1",
        "grid": "g1",
        "x_metres": 0,
        "y_metres": 0,
        "windows": MONDAY_MORNING,
        "capacity_minutes_per_week": 600,
    }
    return Volunteer(**(fields | changes))


def need(need_id: str = "n1", **changes: Any) -> Need:
    fields: dict[str, Any] = {
        "need_id": need_id,
        "category": "meals",
        "community": "c1",
        "grid": "g1",
        "x_metres": 0,
        "y_metres": 0,
        "windows": MONDAY_MORNING,
        "estimated_minutes": 60,
    }
    return Need(**(fields | changes))


def ids(ranked: list[Ranked]) -> list[str]:
    return [r.member_id for r in ranked]


def points(ranked: Ranked, name: str) -> int:
    return next(part.points for part in ranked.parts if part.name == name)


# --- ranking rules --------------------------------------------------------------


def test_only_volunteers_offering_the_category_are_ranked() -> None:
    """A volunteer who does not offer the need's category is never a candidate."""
    volunteers = [
        volunteer("cook", categories=frozenset({"meals", "errands"})),
        volunteer("barber", categories=frozenset({"haircut"})),
    ]
    assert ids(rank(need(), volunteers, now=NOW)) == ["cook"]
    assert rank(need(category="legal_aid"), volunteers, now=NOW) == []


def test_windows_must_overlap_for_the_whole_visit_without_a_break() -> None:
    """The visit must fit in one unbroken overlap; touching windows are merged first."""
    half_hour = (Window(weekday=0, start_minute=9 * 60, end_minute=9 * 60 + 30),)
    split = (
        Window(weekday=0, start_minute=9 * 60, end_minute=9 * 60 + 40),
        Window(weekday=0, start_minute=10 * 60, end_minute=10 * 60 + 40),
    )
    touching = (
        Window(weekday=0, start_minute=9 * 60, end_minute=10 * 60),
        Window(weekday=0, start_minute=10 * 60, end_minute=11 * 60),
    )
    tuesday = (Window(weekday=1, start_minute=9 * 60, end_minute=12 * 60),)
    volunteers = [
        volunteer("half", windows=half_hour),
        volunteer("split", windows=split),
        volunteer("touching", windows=touching),
        volunteer("tuesday", windows=tuesday),
    ]
    assert ids(rank(need(estimated_minutes=120), volunteers, now=NOW)) == ["touching"]
    assert ids(rank(need(estimated_minutes=40), volunteers, now=NOW)) == ["touching", "split"]


def test_windows_merge_across_midnight() -> None:
    """Monday 23:00-24:00 and Tuesday 00:00-01:00 make one two-hour stretch."""
    late = Window(weekday=0, start_minute=23 * 60, end_minute=24 * 60)
    early = Window(weekday=1, start_minute=0, end_minute=60)
    night = need(windows=(late, early), estimated_minutes=120)
    assert ids(rank(night, [volunteer(windows=(early, late))], now=NOW)) == ["v1"]


def test_more_overlapping_time_earns_more_availability_points() -> None:
    """Availability grows with the overlap, up to four times the visit's length."""
    all_day = (Window(weekday=0, start_minute=0, end_minute=24 * 60),)
    long_need = need(windows=all_day)
    volunteers = [
        volunteer("hour", windows=(Window(weekday=0, start_minute=600, end_minute=660),)),
        volunteer("two", windows=(Window(weekday=0, start_minute=600, end_minute=720),)),
        volunteer("day", windows=all_day),
    ]
    ranked = {r.member_id: points(r, "availability") for r in rank(long_need, volunteers, now=NOW)}
    assert ranked == {"hour": 25, "two": 50, "day": 100}


def test_same_grid_ranks_before_a_closer_volunteer_elsewhere() -> None:
    """Same grid first, then same community, then elsewhere; distance only within an area."""
    volunteers = [
        volunteer("grid-far", x_metres=4_000, y_metres=0),
        volunteer("grid-near", x_metres=100, y_metres=0),
        volunteer("community-here", grid="g2"),
        volunteer("elsewhere-here", community="c2"),
        volunteer("grid-unknown", x_metres=None, y_metres=None),
    ]
    ranked = rank(need(), volunteers, now=NOW)
    assert ids(ranked) == [
        "grid-near",
        "grid-unknown",
        "grid-far",
        "community-here",
        "elsewhere-here",
    ]
    assert [points(r, "area") for r in ranked] == [2_000, 2_000, 2_000, 1_000, 0]
    assert [points(r, "distance") for r in ranked] == [98, 50, 20, 100, 100]


def test_needs_without_a_grid_rank_their_community_first() -> None:
    """A need with no known grid has no same-grid volunteers; its community comes first."""
    volunteers = [volunteer("here"), volunteer("away", community="c2")]
    assert ids(rank(need(grid=""), volunteers, now=NOW)) == ["here", "away"]
    assert points(rank(need(grid=""), volunteers, now=NOW)[0], "area") == 1_000


def test_remaining_weekly_minutes_must_cover_the_visit() -> None:
    """A volunteer must have the visit's minutes left this week; more room scores more."""
    volunteers = [
        volunteer("full", capacity_minutes_per_week=120, booked_minutes_this_week=90),
        volunteer("exact", capacity_minutes_per_week=120, booked_minutes_this_week=60),
        volunteer("roomy", capacity_minutes_per_week=600, booked_minutes_this_week=0),
    ]
    ranked = rank(need(), volunteers, now=NOW)
    assert ids(ranked) == ["roomy", "exact"]
    assert [points(r, "capacity") for r in ranked] == [90, 0]


def test_fairness_favours_who_served_least_recently() -> None:
    """Never served ranks highest, then whoever served longest ago."""
    volunteers = [
        volunteer("yesterday", last_served_at=NOW - timedelta(days=1)),
        volunteer("never"),
        volunteer("last-month", last_served_at=NOW - timedelta(days=45)),
        volunteer("last-week", last_served_at=NOW - timedelta(days=7)),
    ]
    ranked = rank(need(), volunteers, now=NOW)
    assert ids(ranked) == ["never", "last-month", "last-week", "yesterday"]
    assert [points(r, "fairness") for r in ranked] == [100, 90, 21, 3]


def test_reliability_uses_a_prior_so_newcomers_are_treated_as_typical() -> None:
    """A newcomer ranks between a proven and a poor record; one perfect visit moves little."""
    volunteers = [
        volunteer("newcomer"),
        volunteer("proven", accepted_count=40, completed_count=40, rating_sum=196, rating_count=40),
        volunteer("poor", accepted_count=10, completed_count=4, rating_sum=20, rating_count=10),
        volunteer("lucky", accepted_count=1, completed_count=1, rating_sum=5, rating_count=1),
    ]
    ranked = {r.member_id: points(r, "reliability") for r in rank(need(), volunteers, now=NOW)}
    assert ranked["proven"] > ranked["lucky"] > ranked["newcomer"] > ranked["poor"]
    assert ranked["newcomer"] == 40 + 37
    assert ranked["lucky"] - ranked["newcomer"] <= 10


def test_ties_go_to_the_smaller_member_id() -> None:
    """Equal scores are ordered by member_id, whatever the input order."""
    volunteers = [volunteer(name) for name in ("v3", "v10", "v2", "v1")]
    ranked = rank(need(), volunteers, now=NOW)
    assert len({r.score for r in ranked}) == 1
    assert ids(ranked) == ["v1", "v10", "v2", "v3"]
    assert ranked == rank(need(), list(reversed(volunteers)), now=NOW)


def test_a_score_is_the_sum_of_its_explained_parts() -> None:
    """Every score is the sum of six named parts, each with a detail in words."""
    volunteers = [
        volunteer("a", last_served_at=NOW - timedelta(days=3), accepted_count=5, completed_count=4),
        volunteer("b", grid="g2", x_metres=None, y_metres=None, rating_sum=9, rating_count=2),
        volunteer("c", community="c2", booked_minutes_this_week=500),
    ]
    ranked = rank(need(), volunteers, now=NOW)
    assert len(ranked) == 3
    for r in ranked:
        assert [part.name for part in r.parts] == PART_NAMES
        assert r.score == sum(part.points for part in r.parts)
        assert all(part.detail for part in r.parts)
    assert ranked[0].parts[4].detail == "last served 3 days 0 hours ago"
    assert "mean rating 4.5 from 2" in ranked[1].parts[5].detail


@pytest.mark.parametrize("limit", [0, -1, LIMIT_MAX + 1])
def test_limit_must_be_between_1_and_200(limit: int) -> None:
    """``limit`` outside 1..200 is refused with a typed error that carries the bounds."""
    with pytest.raises(MatchLimitOutOfRange) as caught:
        rank(need(), [volunteer()], now=NOW, limit=limit)
    assert (caught.value.minimum, caught.value.maximum, caught.value.value) == (1, 200, limit)


def test_limit_cuts_the_list_to_the_best() -> None:
    """At most ``limit`` candidates come back, the best ones."""
    volunteers = [volunteer(f"v{n:03d}", x_metres=n * 10) for n in range(250)]
    assert ids(rank(need(), volunteers, now=NOW, limit=3)) == ["v000", "v001", "v002"]
    assert len(rank(need(), volunteers, now=NOW, limit=LIMIT_MAX)) == LIMIT_MAX


def test_rank_looks_beyond_the_community_when_it_is_short() -> None:
    """Volunteers of other communities fill the list once nearer areas run out."""
    volunteers = [volunteer("here"), volunteer("there-1", community="c2", grid="")]
    volunteers.append(volunteer("there-2", community="c3"))
    assert ids(rank(need(), volunteers, now=NOW, limit=2)) == ["here", "there-1"]


def test_a_prebuilt_index_ranks_like_the_bare_list() -> None:
    """Ranking through a ``VolunteerIndex`` gives the same answer as passing the list."""
    volunteers = [volunteer(f"v{n}", grid=f"g{n % 3}", x_metres=n * 70) for n in range(30)]
    index = VolunteerIndex(volunteers)
    assert len(index) == 30
    assert rank(need(), index, now=NOW, limit=7) == rank(need(), volunteers, now=NOW, limit=7)


def test_invalid_inputs_are_refused() -> None:
    """Values that break the model's rules cannot be built."""
    with pytest.raises(ValueError, match="weekday"):
        Window(weekday=7, start_minute=0, end_minute=60)
    with pytest.raises(ValueError, match="window"):
        Window(weekday=0, start_minute=60, end_minute=60)
    with pytest.raises(MatchLimitOutOfRange):
        volunteer(accepted_count=1, completed_count=2)
    with pytest.raises(MatchLimitOutOfRange):
        volunteer(rating_sum=11, rating_count=2)
    with pytest.raises(ValueError, match="both"):
        volunteer(x_metres=None)
    with pytest.raises(ValueError, match="aware"):
        volunteer(last_served_at=datetime(2026, 1, 1))
    with pytest.raises(MatchLimitOutOfRange):
        need(estimated_minutes=0)
    with pytest.raises(ValueError, match="twice"):
        VolunteerIndex([volunteer("v1"), volunteer("v1")])
    with pytest.raises(ValueError, match="twice"):
        match_week([need("n1"), need("n1")], [volunteer()], now=NOW)
    with pytest.raises(ValueError, match="aware"):
        rank(need(), [volunteer()], now=datetime(2026, 1, 1))
    with pytest.raises(MatchLimitOutOfRange):
        match_week([need()], [volunteer()], now=NOW, candidates_per_need=201)


def test_decoding_checks_the_same_rules() -> None:
    """A volunteer decoded from JSON is held to the same rules as one built in code."""
    raw = msgspec.json.encode(volunteer())
    assert msgspec.json.decode(raw, type=Volunteer) == volunteer()
    bad = raw.replace(b'"capacity_minutes_per_week":600', b'"capacity_minutes_per_week":-1')
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(bad, type=Volunteer)


# --- a week's matching ----------------------------------------------------------


def eligible_by_hand(n: Need, v: Volunteer) -> bool:
    """The eligibility rule restated minute by minute, independently of the module."""

    def minutes(windows: tuple[Window, ...]) -> set[int]:
        return {w.weekday * 1_440 + m for w in windows for m in range(w.start_minute, w.end_minute)}

    shared, run, longest = minutes(n.windows) & minutes(v.windows), 0, 0
    for minute in range(7 * 1_440):
        run = run + 1 if minute in shared else 0
        longest = max(longest, run)
    room = v.capacity_minutes_per_week - v.booked_minutes_this_week
    return n.category in v.categories and longest >= n.estimated_minutes <= room


def assert_valid(result: WeekMatch, needs: list[Need], volunteers: list[Volunteer]) -> None:
    """Every need is assigned or unmatched (not both); assignments are eligible and fit."""
    by_need = {n.need_id: n for n in needs}
    by_member = {v.member_id: v for v in volunteers}
    assert sorted([*result.assignments, *result.unmatched]) == sorted(by_need)
    used: Counter[str] = Counter()
    for need_id, member_id in result.assignments.items():
        assert eligible_by_hand(by_need[need_id], by_member[member_id])
        used[member_id] += by_need[need_id].estimated_minutes
    for member_id, minutes in used.items():
        v = by_member[member_id]
        assert minutes <= v.capacity_minutes_per_week - v.booked_minutes_this_week


def test_match_week_respects_weekly_minutes() -> None:
    """A volunteer with 120 minutes left takes two one-hour needs, not three."""
    needs = [need(f"n{n}") for n in range(3)]
    volunteers = [volunteer(capacity_minutes_per_week=180, booked_minutes_this_week=60)]
    result = match_week(needs, volunteers, now=NOW)
    assert result == WeekMatch(assignments={"n0": "v1", "n1": "v1"}, unmatched=("n2",))
    assert_valid(result, needs, volunteers)


def test_match_week_never_assigns_an_ineligible_volunteer() -> None:
    """Wrong category, no unbroken overlap or no room: the need stays unmatched."""
    short = (Window(weekday=0, start_minute=9 * 60, end_minute=9 * 60 + 30),)
    volunteers = [
        volunteer("barber", categories=frozenset({"haircut"})),
        volunteer("busy", booked_minutes_this_week=580),
        volunteer("brief", windows=short),
    ]
    tuesday = (Window(weekday=1, start_minute=9 * 60, end_minute=12 * 60),)
    needs = [need("n1"), need("n2", category="haircut", windows=tuesday)]
    result = match_week(needs, volunteers, now=NOW)
    assert result == WeekMatch(assignments={}, unmatched=("n1", "n2"))


def test_match_week_beats_greedy_by_moving_an_assigned_need() -> None:
    """Greedy strands C; moving A from v1 to v2 frees v1 for C, so all three are served."""
    hour = {"capacity_minutes_per_week": 60}
    volunteers = [
        volunteer("v1", categories=frozenset({"x", "z"}), grid="g1", **hour),
        volunteer("v2", categories=frozenset({"x", "y"}), grid="g2", **hour),
        volunteer("v3", categories=frozenset({"y", "z"}), grid="g3", **hour),
    ]
    needs = [need("A", category="x"), need("B", category="y", grid="g3")]
    needs.append(need("C", category="z", grid="g9"))
    greedy = greedy_week(needs, volunteers, now=NOW)
    assert greedy == WeekMatch(assignments={"A": "v1", "B": "v3"}, unmatched=("C",))
    matched = match_week(needs, volunteers, now=NOW)
    assert matched == WeekMatch(assignments={"A": "v2", "B": "v3", "C": "v1"}, unmatched=())
    assert_valid(matched, needs, volunteers)


def test_greedy_serves_the_most_constrained_need_first() -> None:
    """A need with one possible volunteer goes before one with two, whatever the input order."""
    volunteers = [
        volunteer("v1", categories=frozenset({"x", "y"}), capacity_minutes_per_week=60),
        volunteer("v2", categories=frozenset({"x"}), grid="g2", capacity_minutes_per_week=60),
    ]
    needs = [need("flexible", category="x"), need("narrow", category="y")]
    result = greedy_week(needs, volunteers, now=NOW)
    assert result.assignments == {"flexible": "v2", "narrow": "v1"}


WINDOWS = st.builds(
    lambda weekday, start, length: Window(
        weekday=weekday, start_minute=start, end_minute=min(start + length, 1_440)
    ),
    st.integers(0, 2),
    st.sampled_from(range(8 * 60, 13 * 60, 30)),
    st.sampled_from(range(30, 211, 30)),
)
PLACES = st.tuples(st.sampled_from(["c1", "c2"]), st.sampled_from(["", "g1", "g2"]))
COORDINATES = st.one_of(st.none(), st.tuples(st.integers(-3_000, 3_000), st.integers(0, 3_000)))


@st.composite
def volunteers_strategy(draw: st.DrawFn, member_id: str) -> Volunteer:
    """A volunteer in a small world of two categories, two communities, three weekdays."""
    community, grid = draw(PLACES)
    place = draw(COORDINATES) or (None, None)
    capacity = draw(st.sampled_from(range(0, 241, 30)))
    accepted = draw(st.integers(0, 10))
    rated = draw(st.integers(0, 5))
    served = draw(st.one_of(st.none(), st.integers(0, 60 * 24 * 60)))
    return Volunteer(
        member_id=member_id,
        categories=draw(st.frozensets(st.sampled_from(["a", "b"]), min_size=1)),
        community=community,
        grid=grid,
        x_metres=place[0],
        y_metres=place[1],
        windows=tuple(draw(st.lists(WINDOWS, min_size=1, max_size=3))),
        capacity_minutes_per_week=capacity,
        booked_minutes_this_week=draw(st.sampled_from(range(0, capacity + 1, 30))),
        last_served_at=None if served is None else NOW - timedelta(minutes=served),
        accepted_count=accepted,
        completed_count=draw(st.integers(0, accepted)),
        rating_sum=draw(st.integers(rated, 5 * rated)),
        rating_count=rated,
    )


@st.composite
def needs_strategy(draw: st.DrawFn, need_id: str) -> Need:
    """A need in the same small world, for 30 to 120 minutes."""
    community, grid = draw(PLACES)
    place = draw(COORDINATES) or (None, None)
    return Need(
        need_id=need_id,
        category=draw(st.sampled_from(["a", "b"])),
        community=community,
        grid=grid,
        x_metres=place[0],
        y_metres=place[1],
        windows=tuple(draw(st.lists(WINDOWS, min_size=1, max_size=2))),
        estimated_minutes=draw(st.sampled_from([30, 60, 90, 120])),
    )


def worlds(needs_max: int = 10, volunteers_max: int = 8) -> SearchStrategy[Any]:
    volunteers = st.integers(1, volunteers_max).flatmap(
        lambda count: st.tuples(*(volunteers_strategy(f"v{n}") for n in range(count)))
    )
    needs = st.integers(1, needs_max).flatmap(
        lambda count: st.tuples(*(needs_strategy(f"n{n}") for n in range(count)))
    )
    return st.tuples(needs, volunteers)


@given(worlds(), st.integers(1, 4))
def test_match_week_matches_at_least_as_many_as_greedy(world: Any, candidates: int) -> None:
    """On any small week, ``match_week`` serves no fewer needs than greedy, within every rule."""
    needs, volunteers = list(world[0]), list(world[1])
    greedy = greedy_week(needs, volunteers, now=NOW, candidates_per_need=candidates)
    matched = match_week(needs, volunteers, now=NOW, candidates_per_need=candidates)
    assert len(matched.assignments) >= len(greedy.assignments)
    assert_valid(greedy, needs, volunteers)
    assert_valid(matched, needs, volunteers)


@given(worlds(needs_max=1, volunteers_max=12), st.integers(1, 12))
def test_rank_finds_exactly_the_eligible_volunteers(world: Any, limit: int) -> None:
    """``rank`` returns the best ``limit`` of exactly the eligible, however it reads areas."""
    (n,), volunteers = world
    everyone = rank(n, volunteers, now=NOW, limit=LIMIT_MAX)
    assert sorted(ids(everyone)) == sorted(
        v.member_id for v in volunteers if eligible_by_hand(n, v)
    )
    assert rank(n, volunteers, now=NOW, limit=limit) == everyone[:limit]
    keys = [(-r.score, r.member_id) for r in everyone]
    assert keys == sorted(keys)
