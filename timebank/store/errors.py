"""Errors the SQL store raises when the database, not a ledger rule, is the problem.

Nothing above ``timebank.store`` ever sees a SQLAlchemy or driver exception:
``transact`` and ``read`` translate them into this tree at the boundary, and
keep the original as ``__cause__``. Ledger rules broken inside a unit of work
(``timebank.ledger.LedgerError``) pass through unchanged.

The tree belongs to the bank store port's family: ``StoreError`` derives from
``timebank.community.port.StoreError`` and ``StoreUnavailable`` also from the
port's ``StoreUnavailable``, so callers catch them without knowing this store.

    StoreError
    ├── StoreUnavailable           the database could not do the work now; try again later
    │   ├── StoreBusy              contention outlasted the retry budget (locks, busy file)
    │   └── CommitOutcomeUnknown   the connection dropped during COMMIT: it may have committed
    ├── StoreIntegrityError        the database refused a write on a constraint or trigger
    ├── SchemaOutOfDate            the database's schema is not at this version's head
    ├── DatabaseNotFound           no database where one was expected (none is created)
    └── StoreFailed                any other database error
"""

from __future__ import annotations

from timebank.community import port

__all__ = [
    "CommitOutcomeUnknown",
    "DatabaseNotFound",
    "SchemaOutOfDate",
    "StoreBusy",
    "StoreError",
    "StoreFailed",
    "StoreIntegrityError",
    "StoreUnavailable",
]


class StoreError(port.StoreError):
    """Base of every error the SQL store raises on its own account."""


class StoreUnavailable(StoreError, port.StoreUnavailable):
    """The database could not be reached, or stayed unreachable through every retry."""

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(f"{message} (after {attempts} attempt{'s' if attempts != 1 else ''})")
        self.attempts = attempts


class StoreBusy(StoreUnavailable):
    """Serialization failures, deadlocks or a busy SQLite file outlasted the retry budget."""


class CommitOutcomeUnknown(StoreUnavailable):
    """The connection was lost while committing, so the work may or may not be committed.

    Submitting the same request again with the same transaction id is safe: the
    ledger returns the original outcome if the first attempt did commit.
    """


class StoreIntegrityError(StoreError):
    """The database refused a write on a constraint or trigger (a bug or tampering)."""


class SchemaOutOfDate(StoreError):
    """The database's schema revision is not the one this version of timebank expects."""

    def __init__(self, *, current: str | None, expected: str) -> None:
        super().__init__(
            f"schema revision is {current!r}, expected {expected!r}; run timebank.store.upgrade()"
        )
        self.current = current
        self.expected = expected


class StoreFailed(StoreError):
    """A database error that is neither transient nor a refused constraint."""


class DatabaseNotFound(StoreError):
    """A command that reads a database found none at the path it was given, or a file there
    that is not a timebank database; nothing was created."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
