"""Alembic migrations of the SQL store (``script_location = "timebank.store:migrations"``)."""
