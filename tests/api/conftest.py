"""The API under test: the app over memory, SQLite and PostgreSQL, and tokens for each role.

``api`` is a ``litestar.testing.TestClient`` over a fresh bank with one book,
``gulou`` (Nanjing's rules), holding a coordinator ``wang`` of community
``ninghai`` and a coordinator ``qian`` of community ``dongshan``, and ``tokens``
signs a bearer token for anyone (what they may do is the book's to say). Tests talk only
HTTP to it; ``api.bank`` is there for checks a caller could not make.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.api import ApiSettings, create_app, issue_token
from timebank.bank import SYSTEM, TimeBank
from timebank.bank.commands import RegisterMember
from timebank.community.model import Role
from timebank.ledger import ManualClock

SECRET = "timebank-tests-" + "x" * 32
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
"""09:00 on a Monday in Asia/Shanghai."""

Tokens = Callable[..., dict[str, str]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START, tick=timedelta(seconds=1))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bank(request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path) -> Iterator[TimeBank]:
    if request.param == "memory":
        yield TimeBank(clock=clock)
    elif request.param == "sqlite":
        with TimeBank.open(sqlite_path(tmp_path), clock=clock) as opened:
            yield opened
    else:
        if postgres_base_url() is None:
            pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
        with postgres_schema() as (url, _schema), TimeBank.open(url, clock=clock) as opened:
            yield opened


@pytest.fixture
def api(bank: TimeBank) -> Iterator[TestClient[object]]:
    book = bank.create_book("gulou", "nanjing")
    book.members.register(
        RegisterMember(
            member_id="wang",
            name="王芳",
            birth_date=date(1980, 4, 1),
            community="ninghai",
            roles={Role.COORDINATOR},
        ),
        actor=SYSTEM,
    )
    book.members.register(
        RegisterMember(
            member_id="qian",
            name="钱进",
            birth_date=date(1979, 9, 9),
            community="dongshan",
            roles={Role.COORDINATOR},
        ),
        actor=SYSTEM,
    )
    app = create_app(bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
    with TestClient(app) as client:
        client.bank = bank  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def tokens() -> Tokens:
    """``tokens("wang", "coordinator")`` -> Authorization headers."""

    def make(subject: str, role: str = "member", *, book: str = "gulou") -> dict[str, str]:
        token = issue_token(SECRET, subject=subject, role=role, book=book)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def coordinator(tokens: Tokens) -> dict[str, str]:
    return tokens("wang", "coordinator")


@pytest.fixture
def admin(tokens: Tokens) -> dict[str, str]:
    return tokens("ops", "admin", book="*")
