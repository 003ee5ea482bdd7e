"""Alembic migrations shipped inside the package, with their own version table.

``upgrade(target)`` brings a database to this version's head; it is safe to
call from several processes at once (SQLite's ``BEGIN IMMEDIATE`` and a
PostgreSQL advisory lock serialise them) and from several threads (a lock
serialises Alembic, whose running context is process-global). ``schema_diff`` compares the
database with ``timebank.store.tables`` the way ``alembic revision
--autogenerate`` would; an empty list means the migrations and the tables agree.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Final

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from timebank.store.errors import SchemaOutOfDate
from timebank.store.tables import metadata

__all__ = [
    "SCRIPT_LOCATION",
    "VERSION_TABLE",
    "check_schema",
    "current_revision",
    "head_revision",
    "schema_diff",
    "upgrade",
    "upgrade_engine",
]

SCRIPT_LOCATION: Final = "timebank.store:migrations"
VERSION_TABLE: Final = "timebank_alembic_version"
ADVISORY_LOCK_KEY: Final = 0x74696D6562616E6B  # "timebank"
"""The PostgreSQL advisory lock that serialises concurrent upgrades."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(target: str | os.PathLike[str] | URL, revision: str = "head") -> None:
    """Apply the migrations to ``target`` (a SQLite file path or a database URL)."""
    from timebank.store.engine import make_engine

    engine = make_engine(target, pool_size=1)
    try:
        upgrade_engine(engine, revision)
    finally:
        engine.dispose()


_ALEMBIC_LOCK = threading.Lock()
"""Alembic keeps its running context in module globals: one migration per process at a time."""


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with _ALEMBIC_LOCK, engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def check_schema(engine: Engine) -> None:
    """Raise ``SchemaOutOfDate`` unless the database is at this version's head."""
    current = current_revision(engine)
    expected = head_revision()
    if current != expected:
        raise SchemaOutOfDate(current=current, expected=expected)


def schema_diff(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match the tables."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"version_table": VERSION_TABLE, "compare_type": True},
        )
        diff: list[Any] = compare_metadata(context, metadata)
        return diff
