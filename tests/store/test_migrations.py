"""The packaged migrations build exactly the tables the code describes, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from timebank.store import SchemaOutOfDate, open_store, upgrade
from timebank.store.engine import make_engine
from timebank.store.migrate import (
    VERSION_TABLE,
    alembic_config,
    current_revision,
    head_revision,
    schema_diff,
)
from timebank.store.tables import metadata


def test_upgrade_from_empty_reaches_head_with_no_drift(store_url: str) -> None:
    """Upgrading an empty database builds tables that autogenerate finds nothing to change in."""
    upgrade(store_url)
    engine = make_engine(store_url, pool_size=1)
    try:
        assert current_revision(engine) == head_revision()
        assert schema_diff(engine) == []
        names = set(sa.inspect(engine).get_table_names())
        assert names == set(metadata.tables) | {VERSION_TABLE}
    finally:
        engine.dispose()


def test_drift_check_notices_a_missing_index(store_url: str) -> None:
    """The drift check can fail: an index dropped behind the migrations' back shows up."""
    upgrade(store_url)
    engine = make_engine(store_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP INDEX ix_transactions_book_id_recorded_at")
        diff = schema_diff(engine)
        assert [entry[0] for entry in diff] == ["add_index"]
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(store_url: str) -> None:
    """Running the migrations again on an up-to-date database changes nothing."""
    upgrade(store_url)
    upgrade(store_url)
    with open_store(store_url, migrate=False) as store:
        assert store.book_ids() == []


def test_opening_without_migrating_refuses_an_empty_database(store_url: str) -> None:
    """A store opened with migrate=False checks the schema revision instead of changing it."""
    with pytest.raises(SchemaOutOfDate) as caught:
        open_store(store_url, migrate=False)
    assert caught.value.current is None
    assert caught.value.expected == head_revision()


def test_downgrade_to_base_removes_every_table(store_url: str) -> None:
    """The first migration can be undone completely (triggers and functions too)."""
    upgrade(store_url)
    engine = make_engine(store_url, pool_size=1)
    try:
        config = alembic_config()
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {VERSION_TABLE}
    finally:
        engine.dispose()
    upgrade(store_url)
