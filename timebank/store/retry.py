"""Which database errors are worth running a unit of work again for, and how long to wait.

Transient: PostgreSQL serialization failures (SQLSTATE 40001) and deadlocks
(40P01), a lock that could not be had in time (55P03), SQLite's busy and
locked results, a connection pool with no connection free in time, and a
connection that dropped before the commit (including a backend the server
terminated, 57P01-57P03). Anything else is not retried.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Final, Literal

from sqlalchemy import exc

__all__ = ["ATTEMPTS_MAX", "Verdict", "backoff_seconds", "classify"]

ATTEMPTS_MAX: Final = 10
"""Most attempts at one unit of work, the first included."""
BACKOFF_BASE_SECONDS: Final = 0.002
BACKOFF_CAP_SECONDS: Final = 0.25

_RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
_SHUTDOWN_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
"""The server ended the session (an administrator, a crash, a restart): a new connection may work.

Whether a killed backend reports 57P01 before the socket closes, or the driver
only sees the socket close, is a race; both are the same disconnect."""
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6

Verdict = Literal["contention", "disconnect", "integrity", "fatal"]


def classify(error: exc.SQLAlchemyError) -> Verdict:
    """What kind of failure a SQLAlchemy error is."""
    if isinstance(error, exc.TimeoutError):  # no pooled connection free in time
        return "contention"
    if not isinstance(error, exc.DBAPIError):
        return "fatal"
    if error.connection_invalidated:
        return "disconnect"
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return "contention"
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", 0) & 0xFF
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return "contention"
    if isinstance(error, exc.IntegrityError):
        return "integrity"
    if sqlstate is not None and (sqlstate.startswith("08") or sqlstate in _SHUTDOWN_SQLSTATES):
        return "disconnect"
    if (
        isinstance(error, exc.OperationalError)
        and sqlstate is None
        and not isinstance(original, sqlite3.Error)
    ):
        return "disconnect"  # the server could not be reached at all
    return "fatal"


def backoff_seconds(attempt: int) -> float:
    """Full-jitter exponential backoff before attempt ``attempt + 1``."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempt, 16))
    return random.uniform(0, ceiling)
