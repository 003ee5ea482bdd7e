"""The SQL store: the ledger's storage port on SQLite or PostgreSQL (SQLAlchemy Core).

This is the only package that imports SQLAlchemy. Open a store and hand it to
the ledger::

    store = open_store("ledger.db")            # or "postgresql://user@host/db"
    ledger = Ledger(store)

``open_store`` applies the packaged Alembic migrations first (``upgrade`` does
only that). ``open_bank_store`` opens the same store as a time bank's, whose
units also read and write the bank's records (``timebank.community.port``).
Database failures surface as ``timebank.store.errors`` exceptions.
"""

from timebank.store.backup import backup_sqlite, postgres_backup_steps, require_database
from timebank.store.bank import SqlBankStore, open_bank_store
from timebank.store.errors import (
    CommitOutcomeUnknown,
    DatabaseNotFound,
    SchemaOutOfDate,
    StoreBusy,
    StoreError,
    StoreFailed,
    StoreIntegrityError,
    StoreUnavailable,
)
from timebank.store.migrate import upgrade
from timebank.store.store import SqlStore, open_store

__all__ = [
    "CommitOutcomeUnknown",
    "DatabaseNotFound",
    "SchemaOutOfDate",
    "SqlBankStore",
    "SqlStore",
    "StoreBusy",
    "StoreError",
    "StoreFailed",
    "StoreIntegrityError",
    "StoreUnavailable",
    "backup_sqlite",
    "open_bank_store",
    "open_store",
    "postgres_backup_steps",
    "require_database",
    "upgrade",
]
