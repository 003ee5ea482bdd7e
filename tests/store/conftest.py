"""Fixtures for the SQL store's tests: a fresh database per test, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.ledger import Ledger, ManualClock
from timebank.store import SqlStore, open_store

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A store URL on a schema of its own in the test server; skips without one."""
    if postgres_base_url() is None:
        pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    with postgres_schema() as (url, _schema):
        yield url


@pytest.fixture
def postgres_schema_name() -> Iterator[tuple[str, str]]:
    """Like ``postgres_url``, also giving the schema name (its sessions' application_name)."""
    if postgres_base_url() is None:
        pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    with postgres_schema() as pair:
        yield pair


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A path to a new SQLite file."""
    return sqlite_path(tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh store's URL on each database the store supports."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START, tick=timedelta(seconds=1))


@pytest.fixture
def ledger(store: SqlStore, clock: ManualClock) -> Ledger:
    return Ledger(store, clock=clock)
