"""Fixtures for the facade's tests: the same tests on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.bank import TimeBank
from timebank.ledger import ManualClock

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
"""09:00 on a Monday in Asia/Shanghai."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START, tick=timedelta(seconds=1))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bank(request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path) -> Iterator[TimeBank]:
    """A fresh, empty time bank on each store the facade runs on."""
    if request.param == "memory":
        yield TimeBank(clock=clock)
        return
    if request.param == "sqlite":
        with TimeBank.open(sqlite_path(tmp_path), clock=clock) as opened:
            yield opened
        return
    if postgres_base_url() is None:
        pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    with postgres_schema() as (url, _schema), TimeBank.open(url, clock=clock) as opened:
        yield opened


@pytest.fixture
def memory_bank(clock: ManualClock) -> TimeBank:
    """A time bank in memory only (for the slower, example-heavy tests)."""
    return TimeBank(clock=clock)
