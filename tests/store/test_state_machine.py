"""The ledger's state machine, run against the SQL store on SQLite and on PostgreSQL.

Each example gets a fresh database. After every step, besides the machine's
own invariants (which already read everything back through the store), a
second store opened on the same database, with nothing cached, must see the
committed state the model expects: the accounts, the head of the chain, the
number of records, and a clean ``verify()``.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, settings

from tests.ledger.test_state_machine import BOOK_ID, LedgerMachine
from tests.store.databases import postgres_base_url, postgres_schema, sqlite_path
from timebank.ledger import Ledger, LedgerStore
from timebank.store import SqlStore, open_store

# Each step reads the whole book back, so the database runs are smaller than the in-memory
# ones: 8 runs of 25 steps locally, 40 runs of 40 steps under the CI profile.
_HEAVY = settings().max_examples >= 1_000
_DATABASE_SETTINGS = settings(
    max_examples=40 if _HEAVY else 8,
    stateful_step_count=40 if _HEAVY else 25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class _SqlMachine(LedgerMachine):
    def __init__(self) -> None:
        self._resources = ExitStack()
        super().__init__()

    def open_url(self) -> str:
        raise NotImplementedError

    def make_store(self) -> LedgerStore:
        self._url = self.open_url()
        store = open_store(self._url)
        self._resources.callback(store.close)
        self._observer: SqlStore = open_store(self._url, migrate=False)
        self._resources.callback(self._observer.close)
        return store

    def extra_checks(self) -> None:
        """A second store, with nothing cached, sees exactly the committed state."""
        book = Ledger(self._observer, clock=self.clock).book(BOOK_ID)
        accounts = book.accounts(limit=500)
        assert [a.account_id for a in accounts] == sorted(self.model.accounts)
        for account in accounts:
            assert account == self.model.account_record(account.account_id)
        with self._observer.read(BOOK_ID) as reader:
            head = reader.head()
        assert head.sequence == self.model.sequence
        assert head.hash == self.model.last_hash
        report = book.verify()
        assert report.ok, report.first_break
        assert report.transactions_checked == self.model.sequence

    def teardown(self) -> None:
        self._resources.close()


class SqliteMachine(_SqlMachine):
    def open_url(self) -> str:
        directory = self._resources.enter_context(TemporaryDirectory())
        return sqlite_path(Path(directory))


class PostgresMachine(_SqlMachine):
    def open_url(self) -> str:
        url, _schema = self._resources.enter_context(postgres_schema())
        return url


TestSqliteMachine = SqliteMachine.TestCase
TestSqliteMachine.settings = _DATABASE_SETTINGS


@pytest.mark.postgres
@pytest.mark.skipif(postgres_base_url() is None, reason="needs TIMEBANK_TEST_POSTGRES_URL")
class TestPostgresMachine(PostgresMachine.TestCase):  # type: ignore[name-defined,misc]
    settings = _DATABASE_SETTINGS
