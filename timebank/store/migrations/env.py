"""Alembic environment: runs the store's migrations on a connection or a URL.

``timebank.store.upgrade`` passes a connection in ``config.attributes``; the
``alembic`` command line passes ``sqlalchemy.url``. SQLite runs in batch mode
(it cannot ALTER most things in place); PostgreSQL takes an advisory lock so
that two processes upgrading at once take turns.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from timebank.store.engine import make_engine
from timebank.store.migrate import ADVISORY_LOCK_KEY, VERSION_TABLE
from timebank.store.tables import metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "set sqlalchemy.url or pass a connection"
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        engine.dispose()


main()
