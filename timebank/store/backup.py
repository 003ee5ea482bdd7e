"""Backups of a SQLite store, and opening only a database that is there.

A SQLite store in WAL mode keeps recent commits in ``<file>-wal`` until a
checkpoint moves them into the file, so copying the file alone, while a
writer runs or after one crashed, copies part of the journal: the copy is a
consistent older state that ``verify`` finds sound, and the newer commits
are silently missing. ``backup_sqlite`` uses SQLite's online backup API
instead, which copies one consistent snapshot including what the WAL holds,
while writers go on, into a new self-contained file (rollback journal, not
WAL), so that a copy of the backup is a backup too.

PostgreSQL has its own tools; ``postgres_backup_steps`` says how to use them.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL

from timebank.store.engine import normalise_url
from timebank.store.errors import DatabaseNotFound

__all__ = [
    "backup_sqlite",
    "postgres_backup_steps",
    "require_database",
    "seal_sqlite",
    "sqlite_path_of",
]

_TIMEBANK_TABLES = frozenset({"books", "transactions", "postings", "accounts"})
_PAGES_PER_STEP = 1_024
"""Pages copied between two looks at the source: writers wait at most one step."""


def sqlite_path_of(target: str | os.PathLike[str] | URL) -> Path | None:
    """The file of a SQLite target, or None for a PostgreSQL URL."""
    url = normalise_url(target)
    if url.get_backend_name() != "sqlite":
        return None
    assert url.database is not None
    return Path(url.database)


def require_database(target: str | os.PathLike[str] | URL) -> None:
    """Raise ``DatabaseNotFound`` unless a SQLite target is an existing timebank database.

    Nothing is created: a command run in the wrong folder says so instead of leaving an
    empty ``timebank.db`` behind. A PostgreSQL URL is not checked here (the server says
    whether the database exists, and never creates one on connect).
    """
    path = sqlite_path_of(target)
    if path is None:
        return
    shown = str(path)
    if not path.exists():
        raise DatabaseNotFound(shown, "no such file; no database was created")
    if not path.is_file():
        raise DatabaseNotFound(shown, "not a file")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise DatabaseNotFound(shown, f"not a SQLite database ({error})") from error
    if not _TIMEBANK_TABLES.issubset(names):
        raise DatabaseNotFound(shown, "a SQLite file, but not a timebank database")


def backup_sqlite(source: str | os.PathLike[str] | URL, target: str | os.PathLike[str]) -> Path:
    """Copy the SQLite store at ``source`` into the new file ``target``, online.

    Refuses a ``target`` that exists (``FileExistsError``) and a ``source`` that is not a
    timebank database (``DatabaseNotFound``). The copy is written beside ``target`` and
    renamed into place once complete, so ``target`` is never a partial copy.
    """
    require_database(source)
    source_path = sqlite_path_of(source)
    if source_path is None:
        raise ValueError("backup_sqlite copies a SQLite file; see postgres_backup_steps")
    destination = Path(target)
    if destination.exists():
        raise FileExistsError(f"{destination} exists; a backup is written to a new file")
    if destination.resolve() == source_path.resolve():
        raise FileExistsError(f"{destination} is the database itself")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(source_path)
    try:
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer, pages=_PAGES_PER_STEP)
            # A self-contained file: what a later plain copy of the backup copies is all of it.
            writer.execute("PRAGMA journal_mode=DELETE")
            writer.commit()
        finally:
            writer.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        reader.close()
    os.replace(partial, destination)
    return destination


def seal_sqlite(path: str | os.PathLike[str]) -> None:
    """Make a SQLite file self-contained again (rollback journal, WAL folded in), as a backup
    must be once checked: opening it as a store turned it to WAL mode."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


def postgres_backup_steps(target: str | URL, out: str) -> list[str]:
    """The commands that back up, restore and check a PostgreSQL store (shell lines)."""
    url = normalise_url(target).set(drivername="postgresql")
    shown = url.render_as_string(hide_password=True)
    return [
        f"pg_dump --format=custom --no-owner --file={out} '{shown}'",
        f"pg_restore --list {out} > /dev/null   # the archive is readable",
        "# to restore into a new, empty database:",
        f"#   createdb timebank_restored && pg_restore --no-owner --dbname=timebank_restored {out}",
        "#   timebank verify --database postgresql://.../timebank_restored",
    ]
