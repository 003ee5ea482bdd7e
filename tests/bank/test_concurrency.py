"""Concurrent callers of the facade on SQLite and PostgreSQL: caps and balances hold."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.bank.helpers import coordinator, volunteer
from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.bank import BankBook, TimeBank
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


def _credit(book: BankBook, recipient_id: str, request_id: str, served_at: datetime) -> None:
    """Half an hour of li's companionship for ``recipient_id``, recorded by the coordinator."""
    book.credits.record(
        CreditService(
            provider_id="li",
            recipient_id=recipient_id,
            category="companionship",
            raw_minutes=30,
            served_at=served_at,
            provenance=Provenance.ORGANISATION_CONFIRMATION,
            request_id=request_id,
        ),
        actor="coord",
    )


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
                served_at = datetime.now(UTC)
                for n in range(CREDITS_PER_THREAD):
                    _credit(book, f"r{index}", f"t{index}-{n}", served_at)
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


def test_one_bank_shared_by_threads_groups_their_credits_and_keeps_the_cap(url: str) -> None:
    """Threads of one process share one bank (an API server): their credits to one book queue
    and commit in groups, each seeing the one before it, so the cap still holds exactly, a
    retried request id still credits once, and the book verifies."""
    rules = PolicyRules(name="capped", payer_default="issuance", stored_minutes_max=CAP_MINUTES)
    threads_count = 12
    with TimeBank.open(url) as bank:
        book = bank.create_book("race", rules)
        coordinator(book)
        volunteer(book, "li", date(1963, 5, 1))
        for index in range(threads_count):
            volunteer(book, f"r{index}", date(1940, 1, 1))
        barrier = threading.Barrier(threads_count)
        errors: list[BaseException] = []
        served_at = datetime.now(UTC)  # a retry is the same request, field by field

        def worker(index: int) -> None:
            try:
                barrier.wait(timeout=60)
                for n in range(CREDITS_PER_THREAD):
                    request_id = f"t{index}-{n % (CREDITS_PER_THREAD - 1)}"
                    _credit(book, f"r{index}", request_id, served_at)
            except BaseException as error:  # reported below, on the main thread
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        grouped = bank.store.ledger_store.grouped  # type: ignore[attr-defined]
        assert grouped.get("groups", 0) >= 1, "twelve writers at once formed no group"
        # Each thread's last request id repeats its first: one credit fewer per thread.
        total = threads_count * (CREDITS_PER_THREAD - 1) * 30
        assert book.statements.balance("li").own_minutes == CAP_MINUTES
        assert book.statements.programme_balance("pool") == total - CAP_MINUTES
        assert book.statements.programme_balance("issuance") == -total
        assert book.statements.verify().ok
