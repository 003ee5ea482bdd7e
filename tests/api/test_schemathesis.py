"""Every operation of the app's own OpenAPI, fed generated requests: never a server error.

Schemathesis reads ``/schema/openapi.json`` from the app and, for each
operation, sends requests Hypothesis generates from the schema (valid and
invalid bodies, parameters, headers), as a coordinator of the book and as the
programme's administrator. Dates and times are drawn mostly from the ends of
the calendar (years 1 and 9999, offsets of nearly a day either way), integers
from the ends of 64 bits and past them. After every call the book must still
verify (its chain, balances and statements), and every error must be a problem
document. It runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.api.conftest import SECRET
from timebank.api import ApiSettings, create_app, issue_token
from timebank.bank import SYSTEM, TimeBank
from timebank.bank.commands import RegisterMember
from timebank.community.model import Role


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[Any, TimeBank]]:
    from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path

    def build(bank: TimeBank) -> tuple[Any, TimeBank]:
        book = bank.create_book("gulou", "nanjing")
        for member_id, name, born, roles in (
            ("wang", "王芳", "1980-04-01", {Role.COORDINATOR}),
            ("zhang", "张伟", "1961-05-01", {Role.VOLUNTEER, Role.RECIPIENT}),
            ("chen", "陈秀英", "1938-03-01", {Role.RECIPIENT}),
        ):
            from datetime import date

            book.members.register(
                RegisterMember(
                    member_id=member_id,
                    name=name,
                    birth_date=date.fromisoformat(born),
                    community="ninghai",
                    roles=roles,
                ),
                actor=SYSTEM,
            )
        return create_app(bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0)), bank

    if request.param == "sqlite":
        with TimeBank.open(sqlite_path(tmp_path)) as bank:
            yield build(bank)
    else:
        if postgres_base_url() is None:
            pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
        with postgres_schema() as (url, _schema), TimeBank.open(url) as bank:
            yield build(bank)


def _bearer(subject: str, role: str, book: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(SECRET, subject=subject, role=role, book=book)}


CALLERS = {
    "coordinator": _bearer("wang", "coordinator", "gulou"),
    "administrator": _bearer("ops", "admin", "*"),
}
EXAMPLES_PER_OPERATION = 6

_EDGE_DAYS = ("0001-01-01", "0001-01-02", "1899-12-31", "2199-12-31", "2200-01-01", "9999-12-31")
_EDGE_OFFSETS = ("+23:59", "-23:59", "+14:00", "-12:00", "Z")
EDGE_DATES = st.sampled_from(_EDGE_DAYS) | st.dates().map(str)
EDGE_DATE_TIMES = st.builds(
    lambda day, time, offset: f"{day}T{time}{offset}",
    st.sampled_from(_EDGE_DAYS),
    st.sampled_from(("00:00:00", "23:59:59", "12:00:00.999999")),
    st.sampled_from(_EDGE_OFFSETS),
) | st.datetimes().map(lambda moment: moment.isoformat() + "+08:00")
schemathesis.openapi.format("date", EDGE_DATES)
schemathesis.openapi.format("date-time", EDGE_DATE_TIMES)


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_no_operation_gives_a_server_error(served: tuple[Any, TimeBank], caller: str) -> None:
    app, bank = served
    headers = CALLERS[caller]
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: Any) -> None:
            response = case.call(headers=headers)
            where = (case.method, case.formatted_path, response.status_code, response.text[:300])
            assert response.status_code < 500, where
            if response.status_code >= 400:
                media_type = str(response.headers.get("content-type", ""))
                assert "application/problem+json" in media_type, where
            assert bank.book("gulou").statements.verify().ok, where

        call()


def test_the_schema_is_openapi_3_1_and_lists_every_route(served: tuple[Any, TimeBank]) -> None:
    app, _ = served
    with TestClient(app) as client:
        document = client.get("/schema/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/books/{book_id}/members/{member_id}/balance" in document["paths"]
