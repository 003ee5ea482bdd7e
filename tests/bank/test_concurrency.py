"""Concurrent callers of the facade on SQLite and PostgreSQL: caps and balances hold."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.bank.helpers import coordinator, volunteer
from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.bank import TimeBank
from timebank.bank.commands import CreditService
from timebank.community import PolicyRules, Provenance

THREADS = 6
CREDITS_PER_THREAD = 8
CAP_MINUTES = 1_000


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_path(tmp_path)
        return
    if postgres_base_url() is None:
        pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    with postgres_schema() as (schema_url, _schema):
        yield schema_url


def test_concurrent_credits_never_overfill_a_capped_purse(url: str) -> None:
    """Credits racing to one provider's capped purse overflow to the pool, never past the cap."""
    rules = PolicyRules(name="capped", payer_default="issuance", stored_minutes_max=CAP_MINUTES)
    with TimeBank.open(url) as bank:
        book = bank.create_book("race", rules)
        coordinator(book)
        volunteer(book, "li", date(1963, 5, 1))
        for index in range(THREADS):
            volunteer(book, f"r{index}", date(1940, 1, 1))
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with TimeBank.open(url) as bank:
                book = bank.book("race")
                for n in range(CREDITS_PER_THREAD):
                    book.credits.record(
                        CreditService(
                            provider_id="li",
                            recipient_id=f"r{index}",
                            category="companionship",
                            raw_minutes=30,
                            served_at=datetime.now(UTC),
                            provenance=Provenance.ORGANISATION_CONFIRMATION,
                            request_id=f"t{index}-{n}",
                        ),
                        actor="coord",
                    )
        except BaseException as error:  # reported below, on the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    total = THREADS * CREDITS_PER_THREAD * 30
    with TimeBank.open(url) as bank:
        book = bank.book("race")
        assert book.statements.balance("li").own_minutes == CAP_MINUTES
        assert book.statements.programme_balance("pool") == total - CAP_MINUTES
        assert book.statements.programme_balance("issuance") == -total
        assert book.statements.verify().ok
