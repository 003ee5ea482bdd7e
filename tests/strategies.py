"""Shared Hypothesis strategies for timebank's tests.

Ledgers break at the edges, so every strategy here leans on them: amounts of
0, 1, a bound and its neighbours, the largest posting and one more, 2**62 and
2**63; ids of exactly 128 characters and of 129; metadata of exactly 4,096
bytes of JSON and of 4,097. The limits are restated here from the ledger's
documented rules rather than imported, so a test fails if the core's limits
drift from them.

Strategies that build postings take the account ids and amounts to use as
strategies, so a state machine can aim them at the accounts and bounds it has.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from msgspec.structs import replace

from timebank.ledger import Posting, Request, Side, Transfer, VoidHold, credit, debit

__all__ = [
    "ACCOUNT_IDS",
    "AMOUNT_MINUTES_MAX",
    "BALANCE_MINUTES_LIMIT",
    "CODE_LENGTH_MAX",
    "EDGE_AMOUNTS",
    "ID_LENGTH_MAX",
    "METADATA_BYTES_MAX",
    "POSTINGS_MAX",
    "POSTINGS_MIN",
    "UNKNOWN_ACCOUNT_IDS",
    "ZONES",
    "account_ids",
    "altered_requests",
    "amounts",
    "amounts_near",
    "any_amounts",
    "aware_datetimes",
    "balanced_postings",
    "codes",
    "edge_metadata",
    "invalid_metadata",
    "invalid_transaction_ids",
    "maximums",
    "metadata",
    "metadata_of_size",
    "minimums",
    "naive_datetimes",
    "non_integer_amounts",
    "posting_lists",
    "postings_with_repeated_account",
    "too_long_codes",
    "transaction_ids",
    "unbalanced_postings",
    "unknown_account_ids",
    "valid_maximums",
    "valid_minimums",
]

# --- the documented limits -------------------------------------------------------

ID_LENGTH_MAX: Final = 128
"""Longest valid id, in characters."""
CODE_LENGTH_MAX: Final = 64
"""Longest transaction code, in characters."""
METADATA_BYTES_MAX: Final = 4_096
"""Largest metadata, in bytes of compact JSON."""
POSTINGS_MIN: Final = 2
"""Fewest postings in a transaction."""
POSTINGS_MAX: Final = 1_000
"""Most postings in a transaction."""
AMOUNT_MINUTES_MAX: Final = 10**12
"""Largest amount of one posting."""
BALANCE_MINUTES_LIMIT: Final = 2**62
"""No balance or bound leaves +/- this."""

# --- ids ---------------------------------------------------------------------------

ACCOUNT_IDS: Final = ("pool", "ana", "bo", "chen", "dara", "eli")
"""A small pool of account ids, so that tests collide on accounts and reach their limits."""
UNKNOWN_ACCOUNT_IDS: Final = ("ghost", "nobody")
"""Account ids that tests never open."""

# Letters, marks, numbers, punctuation and symbols: printable, and never whitespace.
_ID_CHARACTERS: Final = st.characters(categories=("L", "M", "N", "P", "S"))


def account_ids() -> SearchStrategy[str]:
    """An id from the small shared pool of account ids."""
    return st.sampled_from(ACCOUNT_IDS)


def unknown_account_ids() -> SearchStrategy[str]:
    """An account id that no test opens."""
    return st.sampled_from(UNKNOWN_ACCOUNT_IDS)


def transaction_ids() -> SearchStrategy[str]:
    """A valid transaction id: 1 to 128 printable characters, no spaces, no leading '~'."""
    return st.one_of(
        st.integers(1, 10**6).map(lambda n: f"t-{n}"),
        st.text(_ID_CHARACTERS, min_size=1, max_size=ID_LENGTH_MAX).filter(
            lambda text: not text.startswith("~")
        ),
        st.just("x" * ID_LENGTH_MAX),
    )


def invalid_transaction_ids() -> SearchStrategy[str]:
    """An invalid id: empty, 129 characters, with whitespace or control characters, or '~'-led."""
    breakers = st.sampled_from((" ", "\t", "\n", "\x00", "\u200b", "\u2028", "\u00a0"))
    return st.one_of(
        st.just(""),
        st.just("x" * (ID_LENGTH_MAX + 1)),
        st.text(_ID_CHARACTERS, max_size=8).map(lambda text: "~" + text),
        st.tuples(st.text(_ID_CHARACTERS, max_size=4), breakers, st.text(max_size=4)).map("".join),
    )


# --- amounts -----------------------------------------------------------------------

EDGE_AMOUNTS: Final = (
    0,
    1,
    2,
    60,
    AMOUNT_MINUTES_MAX - 1,
    AMOUNT_MINUTES_MAX,
    AMOUNT_MINUTES_MAX + 1,
    BALANCE_MINUTES_LIMIT,
    2**63,
    -1,
    -60,
    -(2**63),
)
"""Amounts where the posting rules change their answer."""


def amounts_near(bounds: Sequence[int]) -> SearchStrategy[int]:
    """A positive amount one below, at, or one above one of ``bounds`` (some bound must be > 0)."""
    near = sorted({b + step for b in bounds for step in (-1, 0, 1) if b + step > 0})
    return st.sampled_from(near)


def amounts(bounds: Sequence[int] = ()) -> SearchStrategy[int]:
    """An integer amount: small and ordinary, next to one of ``bounds``, or at a global edge."""
    ordinary = st.integers(1, 120)
    # Listing a strategy twice in one_of draws from it twice as often.
    parts = [ordinary, ordinary]
    if any(bound > 0 for bound in bounds):
        parts += [amounts_near(bounds)] * 2
    parts += [st.sampled_from(EDGE_AMOUNTS), st.integers()]
    return st.one_of(parts)


def non_integer_amounts() -> SearchStrategy[object]:
    """A value that is not a whole number of minutes as an int: floats (even 60.0) and bools."""
    return st.one_of(
        st.sampled_from((60.0, 1.0, 0.5, True, False)),
        st.floats(allow_nan=False),
    )


def any_amounts(bounds: Sequence[int] = ()) -> SearchStrategy[object]:
    """Mostly integer amounts biased to the edges, now and then a float or a bool."""
    return st.one_of([amounts(bounds)] * 5 + [non_integer_amounts()])


# --- postings ------------------------------------------------------------------------


@st.composite
def balanced_postings(
    draw: st.DrawFn,
    accounts: SearchStrategy[str],
    minutes: SearchStrategy[int] | None = None,
    *,
    min_legs: int = POSTINGS_MIN,
    max_legs: int = 6,
) -> tuple[Posting, ...]:
    """Postings on distinct accounts whose debits sum to their credits, in random order.

    Amounts come from ``minutes`` (default ``amounts()``) as drawn, so they may
    break an amount rule; the last leg is sized to balance the others.
    """
    minutes = amounts() if minutes is None else minutes
    ids = draw(st.lists(accounts, min_size=min_legs, max_size=max_legs, unique=True))
    legs = [[account_id, draw(st.sampled_from(Side)), draw(minutes)] for account_id in ids[:-1]]
    difference = sum(a if s is Side.CREDIT else -a for _, s, a in legs)
    if difference > 0:
        legs.append([ids[-1], Side.DEBIT, difference])
    elif difference < 0:
        legs.append([ids[-1], Side.CREDIT, -difference])
    else:
        # A zero-minute leg is invalid on its own; grow the first leg to pay for one minute.
        first_side = legs[0][1]
        legs.append([ids[-1], Side.DEBIT if first_side is Side.CREDIT else Side.CREDIT, 1])
        legs[0][2] += 1
    postings = [
        debit(account_id, amount) if side is Side.DEBIT else credit(account_id, amount)
        for account_id, side, amount in legs
    ]
    return tuple(draw(st.permutations(postings)))


@st.composite
def unbalanced_postings(
    draw: st.DrawFn,
    accounts: SearchStrategy[str],
    minutes: SearchStrategy[int] | None = None,
) -> tuple[Posting, ...]:
    """Postings on distinct accounts whose debits and credits differ by one minute."""
    postings = list(draw(balanced_postings(accounts, minutes)))
    index = draw(st.integers(0, len(postings) - 1))
    leg = postings[index]
    postings[index] = Posting(
        account_id=leg.account_id, side=leg.side, amount_minutes=leg.amount_minutes + 1
    )
    return tuple(postings)


@st.composite
def postings_with_repeated_account(
    draw: st.DrawFn,
    accounts: SearchStrategy[str],
    minutes: SearchStrategy[int] | None = None,
) -> tuple[Posting, ...]:
    """Balanced postings in which one account appears twice."""
    postings = list(draw(balanced_postings(accounts, minutes)))
    source, target = sorted(draw(st.permutations(range(len(postings))))[:2])
    leg = postings[target]
    postings[target] = Posting(
        account_id=postings[source].account_id, side=leg.side, amount_minutes=leg.amount_minutes
    )
    return tuple(postings)


def posting_lists(
    accounts: SearchStrategy[str],
    minutes: SearchStrategy[int] | None = None,
) -> SearchStrategy[tuple[Posting, ...]]:
    """Any shape of postings: balanced (most often), unbalanced, repeated, 0, 1 or 1,001 legs."""
    minutes = amounts() if minutes is None else minutes
    too_few = st.lists(
        st.builds(debit, accounts, minutes) | st.builds(credit, accounts, minutes),
        max_size=POSTINGS_MIN - 1,
    ).map(tuple)
    too_many = st.builds(debit, accounts, minutes).map(lambda leg: (leg,) * (POSTINGS_MAX + 1))
    return st.one_of(
        balanced_postings(accounts, minutes),
        balanced_postings(accounts, minutes),
        unbalanced_postings(accounts, minutes),
        postings_with_repeated_account(accounts, minutes),
        too_few,
        too_many,
    )


# --- accounts ----------------------------------------------------------------------


def valid_minimums() -> SearchStrategy[int | None]:
    """A valid minimum balance: 0 (the default), None (unbounded), or a credit line."""
    return st.one_of(
        st.just(0), st.none(), st.integers(-200, -1), st.just(-(BALANCE_MINUTES_LIMIT))
    )


def minimums() -> SearchStrategy[int | None]:
    """A minimum balance, now and then an invalid one (above 0, or below -2**62)."""
    return st.one_of(valid_minimums(), st.sampled_from((1, -(BALANCE_MINUTES_LIMIT) - 1)))


def valid_maximums() -> SearchStrategy[int | None]:
    """A valid maximum balance: None (unbounded), a small cap, 0, or 2**62."""
    return st.one_of(st.none(), st.integers(0, 300), st.sampled_from((0, BALANCE_MINUTES_LIMIT)))


def maximums() -> SearchStrategy[int | None]:
    """A maximum balance, now and then an invalid one (below 0, or above 2**62)."""
    return st.one_of(valid_maximums(), st.sampled_from((-1, BALANCE_MINUTES_LIMIT + 1)))


# --- codes and metadata -----------------------------------------------------------


def codes() -> SearchStrategy[str]:
    """A valid transaction code: at most 64 characters."""
    return st.one_of(st.text(max_size=16), st.just("c" * CODE_LENGTH_MAX))


def too_long_codes() -> SearchStrategy[str]:
    """A transaction code over the 64-character limit."""
    return st.text(min_size=CODE_LENGTH_MAX + 1, max_size=CODE_LENGTH_MAX + 40)


def metadata() -> SearchStrategy[dict[str, str]]:
    """Valid metadata: a few short str -> str pairs, far below the size limit."""
    return st.dictionaries(st.text(max_size=8), st.text(max_size=16), max_size=4)


def metadata_of_size(size: int) -> dict[str, str]:
    """ASCII metadata whose compact JSON is exactly ``size`` bytes (at least 9)."""
    skeleton = len(json.dumps({"k": ""}, separators=(",", ":")))
    value = {"k": "m" * (size - skeleton)}
    assert len(json.dumps(value, separators=(",", ":")).encode()) == size
    return value


def invalid_metadata() -> SearchStrategy[dict[str, str]]:
    """Invalid metadata: one byte over the limit, far over it, or not str -> str."""
    over = st.integers(METADATA_BYTES_MAX + 1, 3 * METADATA_BYTES_MAX).map(metadata_of_size)
    not_strings: SearchStrategy[dict[str, str]] = st.sampled_from(
        ({"minutes": 60}, {1: "one"}, {"ok": "yes", "tags": ["a"]})  # type: ignore[dict-item]
    )
    return st.one_of(st.just(metadata_of_size(METADATA_BYTES_MAX + 1)), over, not_strings)


def edge_metadata() -> SearchStrategy[dict[str, str]]:
    """Metadata at the edge: exactly at the size limit (valid) or any invalid metadata."""
    return st.one_of(st.just(metadata_of_size(METADATA_BYTES_MAX)), invalid_metadata())


# --- times -------------------------------------------------------------------------

ZONES: Final = (
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=14)),
)
"""Fixed-offset time zones, so that times are compared as instants, not as wall clocks."""

_EARLIEST: Final = datetime(2000, 1, 1)
_LATEST: Final = datetime(2100, 1, 1)


def aware_datetimes() -> SearchStrategy[datetime]:
    """A time-zone-aware datetime in this century, in one of a few fixed offsets."""
    return st.datetimes(_EARLIEST, _LATEST, timezones=st.sampled_from(ZONES))


def naive_datetimes() -> SearchStrategy[datetime]:
    """A datetime without a time zone, which the ledger must refuse."""
    return st.datetimes(_EARLIEST, _LATEST)


# --- retries -----------------------------------------------------------------------

_ALTERED_AT: Final = datetime(2026, 1, 1, tzinfo=UTC)


def _altered_value(name: str, value: object) -> object:
    """A value for the request field ``name`` that is unequal to ``value``."""
    if name == "amount_minutes":
        return 1 if value is None else None
    if name == "postings":
        extra = credit("ana", 1)
        return (extra,) if value is None else (*value, extra)  # type: ignore[misc]
    if name in ("effective_at", "expires_at"):
        return _ALTERED_AT if value is None else value + timedelta(seconds=1)  # type: ignore[operator]
    if name == "metadata":
        assert isinstance(value, dict)
        return {} if value == {"altered": "yes"} else {**value, "altered": "yes"}
    assert isinstance(value, str), (name, value)
    return value + "-altered"


@st.composite
def altered_requests(draw: st.DrawFn, request: Request) -> tuple[str, Request]:
    """``request`` with one field (or its kind) changed, and the name of what changed."""
    names = [name for name in request.__struct_fields__ if name != "transaction_id"]
    name = draw(st.sampled_from([*names, "kind"]))
    if name == "kind":
        if type(request) is Transfer:
            return name, VoidHold(transaction_id=request.transaction_id, hold_id="some-hold")
        return name, Transfer(transaction_id=request.transaction_id, postings=())
    return name, replace(request, **{name: _altered_value(name, getattr(request, name))})
