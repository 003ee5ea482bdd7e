"""Throwaway databases for the store's tests: a SQLite file, or a PostgreSQL schema.

PostgreSQL tests read ``TIMEBANK_TEST_POSTGRES_URL`` (for example
``postgresql://postgres@127.0.0.1:5432/test``) and are skipped without it.
Each test gets a fresh schema, reached through the URL's ``search_path``
option, and the schema is dropped afterwards, so no run depends on another.
Only local servers are used: the concurrency and fault tests hammer them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    import psycopg

POSTGRES_URL_ENV = "TIMEBANK_TEST_POSTGRES_URL"
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def postgres_base_url() -> str | None:
    """The configured server, if it is a local one."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        return None
    host = make_url(url).host
    if host not in _LOCAL_HOSTS:
        raise RuntimeError(f"{POSTGRES_URL_ENV} must point at a local server, not {host!r}")
    return url


def _libpq_url(url: str) -> str:
    """The URL without a SQLAlchemy driver suffix, as psycopg wants it."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    import psycopg  # only the PostgreSQL tests need the driver

    base = postgres_base_url()
    assert base is not None
    return psycopg.connect(_libpq_url(base), autocommit=True)


@contextmanager
def postgres_schema() -> Iterator[tuple[str, str]]:
    """A new schema; yields (store URL, schema name) and drops the schema afterwards."""
    base = postgres_base_url()
    assert base is not None
    schema = f"tb_{uuid.uuid4().hex[:16]}"
    with admin_connection() as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    try:
        yield url.render_as_string(hide_password=False), schema
    finally:
        with admin_connection() as admin:
            # End any session a test left behind before dropping what it uses.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND pid <> pg_backend_pid()",
                (schema,),
            )
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sqlite_path(directory: Path) -> str:
    return str(directory / f"ledger-{uuid.uuid4().hex[:8]}.db")
