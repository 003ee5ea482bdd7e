"""Speed and peak memory of matching volunteers to needs.

Synthetic supply and demand from a seeded ``random.Random``: 12 service
categories, 40 grids in 4 communities laid out on a local metre grid, windows
across the week, capacities, bookings, service histories and ratings. Each
mode runs in a fresh process (so its peak resident memory is its own) and
the medians of several runs are printed:

- ``rank``: ranking one need among 5,000 volunteers through a prebuilt
  ``VolunteerIndex``, p50 and p99 over 1,000 needs; the same-run baselines are
  the least any ranking could do (one pass over every volunteer testing only
  the category) and ``rank`` handed the bare list (regrouping it every call);
- ``greedy`` and ``match``: ``greedy_week`` (the baseline) and ``match_week``
  of 10,000 needs against 5,000 volunteers, with the ratio of their times and
  of the needs they matched.

Targets on a 2-core machine: rank p99 under 50 ms; ``match_week`` under 30 s.

    .venv/bin/python bench/matching.py [--runs 3] [--needs 10000] [--volunteers 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from timebank.community.matching import (
    Need,
    Volunteer,
    VolunteerIndex,
    Window,
    greedy_week,
    match_week,
    rank,
)
from timebank.community.presets import SERVICE_CATEGORIES

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
COMMUNITIES = 4
GRIDS_PER_COMMUNITY = 10
GRID_METRES = 600
"""Each grid is a square of this side; communities sit side by side."""
RANK_NEEDS = 1_000
RANK_UNINDEXED_NEEDS = 50
SEED = 20_261_102


def place(rng: random.Random) -> tuple[str, str, int, int]:
    """A community, a grid in it, and a point inside that grid, in metres."""
    community = rng.randrange(COMMUNITIES)
    grid = rng.randrange(GRIDS_PER_COMMUNITY)
    x = (community * 4 + grid % 4) * GRID_METRES + rng.randrange(GRID_METRES)
    y = (grid // 4) * GRID_METRES + rng.randrange(GRID_METRES)
    return f"c{community}", f"c{community}-g{grid}", x, y


def windows(rng: random.Random, count: int, length_min: int, length_max: int) -> tuple[Window, ...]:
    result = []
    for _ in range(count):
        start = rng.randrange(7 * 60, 19 * 60, 30)
        length = rng.randrange(length_min, length_max + 1, 30)
        end = min(start + length, 24 * 60)
        result.append(Window(weekday=rng.randrange(7), start_minute=start, end_minute=end))
    return tuple(result)


def volunteer(rng: random.Random, number: int) -> Volunteer:
    community, grid, x, y = place(rng)
    located = rng.random() < 0.9
    capacity = rng.randrange(60, 361, 30)
    accepted = rng.randrange(0, 40)
    completed = rng.randint(accepted * 3 // 4, accepted)
    rated = rng.randint(0, completed)
    never = rng.random() < 0.2
    return Volunteer(
        member_id=f"v{number:05d}",
        categories=frozenset(rng.sample(SERVICE_CATEGORIES, rng.randint(1, 4))),
        community=community,
        grid=grid,
        x_metres=x if located else None,
        y_metres=y if located else None,
        windows=windows(rng, rng.randint(2, 5), 60, 240),
        capacity_minutes_per_week=capacity,
        booked_minutes_this_week=rng.randrange(0, capacity // 2 + 1, 30),
        last_served_at=None if never else NOW - timedelta(minutes=rng.randrange(60 * 24 * 60)),
        accepted_count=accepted,
        completed_count=completed,
        rating_sum=sum(rng.randint(3, 5) for _ in range(rated)),
        rating_count=rated,
    )


def need(rng: random.Random, number: int) -> Need:
    community, grid, x, y = place(rng)
    return Need(
        need_id=f"n{number:05d}",
        category=rng.choice(SERVICE_CATEGORIES),
        community=community,
        grid=grid,
        x_metres=x,
        y_metres=y,
        windows=windows(rng, rng.randint(1, 3), 120, 300),
        estimated_minutes=rng.randrange(30, 121, 30),
    )


def synthetic(needs: int, volunteers: int, seed: int) -> tuple[list[Need], list[Volunteer]]:
    rng = random.Random(seed)
    return [need(rng, n) for n in range(needs)], [volunteer(rng, n) for n in range(volunteers)]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_rank(needs: list[Need], volunteers: list[Volunteer]) -> dict[str, float]:
    started = time.perf_counter()
    index = VolunteerIndex(volunteers)
    index_seconds = time.perf_counter() - started
    indexed, scan, unindexed = [], [], []
    for item in needs[:RANK_NEEDS]:
        started = time.perf_counter()
        rank(item, index, now=NOW)
        indexed.append(time.perf_counter() - started)
        started = time.perf_counter()
        _ = [v for v in volunteers if item.category in v.categories]
        scan.append(time.perf_counter() - started)
    for item in needs[:RANK_UNINDEXED_NEEDS]:
        started = time.perf_counter()
        rank(item, volunteers, now=NOW)
        unindexed.append(time.perf_counter() - started)
    return {
        "index_ms": index_seconds * 1e3,
        "p50_ms": percentile(indexed, 0.5) * 1e3,
        "p99_ms": percentile(indexed, 0.99) * 1e3,
        "scan_p50_ms": percentile(scan, 0.5) * 1e3,
        "scan_p99_ms": percentile(scan, 0.99) * 1e3,
        "unindexed_p50_ms": percentile(unindexed, 0.5) * 1e3,
        "unindexed_p99_ms": percentile(unindexed, 0.99) * 1e3,
    }


def run_week(needs: list[Need], volunteers: list[Volunteer], mode: str) -> dict[str, float]:
    matcher = match_week if mode == "match" else greedy_week
    started = time.perf_counter()
    result = matcher(needs, volunteers, now=NOW)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "matched": len(result.assignments)}


def child(mode: str, needs_count: int, volunteers_count: int, seed: int) -> None:
    needs, volunteers = synthetic(needs_count, volunteers_count, seed)
    row = run_rank(needs, volunteers) if mode == "rank" else run_week(needs, volunteers, mode)
    row["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(row))


def spawn(mode: str, args: argparse.Namespace, seed: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", mode, "--seed", str(seed)]
    command += ["--needs", str(args.needs), "--volunteers", str(args.volunteers)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    row: dict[str, float] = json.loads(out.stdout)
    return row


def median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def report(args: argparse.Namespace, results: dict[str, list[dict[str, float]]]) -> None:
    ranks, greedy, match = results["rank"], results["greedy"], results["match"]
    print(
        f"{args.volunteers:,} volunteers, {args.needs:,} needs, 12 categories, "
        f"{COMMUNITIES * GRIDS_PER_COMMUNITY} grids in {COMMUNITIES} communities; "
        f"median of {args.runs} runs, one process per run"
    )
    print(f"\nrank one need (over {RANK_NEEDS:,} needs)    p50 ms    p99 ms    target")
    print(
        f"  {'rank, prebuilt index':<36}{median(ranks, 'p50_ms'):>8.2f}"
        f"{median(ranks, 'p99_ms'):>10.2f}    p99 < 50 ms"
    )
    print(
        f"  {'baseline: category scan of everyone':<36}{median(ranks, 'scan_p50_ms'):>8.2f}"
        f"{median(ranks, 'scan_p99_ms'):>10.2f}"
    )
    print(
        f"  {'rank, bare list (regroups per call)':<36}{median(ranks, 'unindexed_p50_ms'):>8.2f}"
        f"{median(ranks, 'unindexed_p99_ms'):>10.2f}"
    )
    ratio = median(ranks, "p50_ms") / median(ranks, "scan_p50_ms")
    print(
        f"  p50 vs baseline {ratio:.2f}x; building the index {median(ranks, 'index_ms'):.0f} ms;"
        f" peak {median(ranks, 'peak_mb'):.0f} MB"
    )
    print(f"\n{'week':<14}{'seconds':>9}{'matched':>9}{'peak MB':>9}    target")
    for name, rows in (("greedy_week", greedy), ("match_week", match)):
        target = "< 30 s" if name == "match_week" else "baseline"
        print(
            f"{name:<14}{median(rows, 'seconds'):>9.2f}{median(rows, 'matched'):>9,.0f}"
            f"{median(rows, 'peak_mb'):>9.0f}    {target}"
        )
    time_ratio = median(match, "seconds") / median(greedy, "seconds")
    count_ratio = median(match, "matched") / median(greedy, "matched")
    print(f"match_week vs greedy_week: {time_ratio:.2f}x the time, {count_ratio:.4f}x the matches")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--volunteers", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--child", choices=["greedy", "match", "rank"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.needs, args.volunteers, args.seed)
        return
    results: dict[str, list[dict[str, float]]] = {"rank": [], "greedy": [], "match": []}
    for run in range(args.runs):
        for mode, rows in results.items():
            rows.append(spawn(mode, args, args.seed + run))
    report(args, results)


if __name__ == "__main__":
    main()
