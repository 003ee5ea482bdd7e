"""No input gives a server error: every body and query field of every route at the calendar's
and the integers' ends.

Each row of the authorisation matrix is a request the administrator may make. Here each of its
date, time and integer fields in turn takes values from the ends of their ranges (years 1 and
9999, offsets of nearly a day, 2^63 and past it, zero, negatives), as do the integer and date
query parameters of every listing. The answer must be a success or a problem document, never a
5xx, and the book must still verify after every call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.test_authorisation import ROWS, Row
from tests.api.world import BOOK, build
from timebank.api import ApiSettings, create_app, issue_token
from timebank.bank import TimeBank

SECRET = "extremes-" + "x" * 40
ADMIN = {"Authorization": "Bearer " + issue_token(SECRET, subject="ops", role="admin", book="*")}
G = f"/books/{BOOK}"
DATES = ("0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31")
MOMENTS = (
    "0001-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59+23:59",
    "1899-12-31T23:59:59Z",
)
INTEGERS = (0, -1, 2**31, 2**62, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30)
QUERIES = [
    G + "/members?limit={i}",
    G + "/credits?limit={i}",
    G + "/orders?limit={i}",
    G + "/outbox?after={i}",
    G + "/members/chen/passbook?after={i}",
    G + "/ledger/accounts/issuance/statement?after={i}",
    G + "/orders?requested_from={m}",
    G + "/orders?requested_until={m}",
    G + "/visits-due?on={d}",
    G + "/matching/week?day={d}",
    G + "/reports/supply-demand-gap?week={d}",
    G + "/reports/volunteer-board?month={y}-12",
    G + "/reports/liability-forecast?years={i}",
    G + "/reports/inactive-members?days={i}",
]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def variants(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The body with one field at a time at an extreme of its kind."""
    for name, value in body.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            extremes: tuple[Any, ...] = INTEGERS
        elif isinstance(value, str) and _MOMENT.match(value):
            extremes = MOMENTS
        elif isinstance(value, str) and _DATE.match(value):
            extremes = DATES
        elif isinstance(value, dict) and value and all(isinstance(v, int) for v in value.values()):
            extremes = tuple(dict.fromkeys(value, n) for n in INTEGERS)
        else:
            continue
        for extreme in extremes:
            yield f"{name}={extreme}", {**body, name: extreme}


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def bank(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TimeBank]:
    """The world on memory, and on SQLite (where values reach the database)."""
    if request.param == "memory":
        yield build()
        return
    path = tmp_path_factory.mktemp("extremes") / "extremes.db"
    opened: list[TimeBank] = []

    def open_bank(clock: Any) -> TimeBank:
        opened.append(TimeBank.open(path, clock=clock))
        return opened[0]

    try:
        yield build(open_bank)
    finally:
        opened[0].close()


@pytest.fixture(scope="module")
def client(bank: TimeBank) -> Iterator[TestClient[Any]]:
    app = create_app(bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
    with TestClient(app) as test_client:
        yield test_client


def answered(response: Any, where: str) -> None:
    assert response.status_code < 500, (where, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), where


WRITES = [row for row in ROWS if isinstance(row.body, dict)]


@pytest.mark.parametrize("row", WRITES, ids=lambda row: f"{row.method} {row.path}")
def test_body_fields_at_their_extremes_are_answered_never_a_server_error(
    client: TestClient[Any], bank: TimeBank, row: Row
) -> None:
    for label, body in variants(row.body):
        response = client.request(row.method, row.path, json=body, headers=ADMIN)
        answered(response, f"{row.method} {row.path} {label}")
    assert bank.book(BOOK).statements.verify().ok


@pytest.mark.parametrize("query", QUERIES)
def test_query_parameters_at_their_extremes_are_answered_never_a_server_error(
    client: TestClient[Any], bank: TimeBank, query: str
) -> None:
    for i, m, d, y in zip(
        INTEGERS * 2,
        (MOMENTS * 4)[: len(INTEGERS) * 2],
        (DATES * 5)[: len(INTEGERS) * 2],
        ("0001", "9999", "0000", "2200") * 5,
        strict=False,
    ):
        path = query.format(i=i, m=m.replace("+", "%2B"), d=d, y=y)
        answered(client.get(path, headers=ADMIN), path)
    assert bank.book(BOOK).statements.verify().ok
