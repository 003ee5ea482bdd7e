"""The store is the only package that touches SQLAlchemy, and it declares a sorted public API."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import timebank
import timebank.store

DATABASE_PACKAGES = frozenset({"sqlalchemy", "alembic", "psycopg"})


def test_only_the_store_imports_database_libraries() -> None:
    """No module of timebank outside timebank/store imports SQLAlchemy, Alembic or psycopg."""
    root = Path(timebank.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.relative_to(root).parts[0] == "store":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in DATABASE_PACKAGES]
    assert offenders == []


def test_store_public_api_is_sorted_and_complete() -> None:
    """timebank.store's __all__ is sorted, and every name in it exists."""
    exported = timebank.store.__all__
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    for name in exported:
        assert hasattr(timebank.store, name), name


def test_every_store_module_has_a_docstring() -> None:
    """Each module of the store starts by saying what it is for."""
    root = Path(timebank.store.__file__).parent
    for path in root.rglob("*.py"):
        assert ast.get_docstring(ast.parse(path.read_text())), path
    assert importlib.import_module("timebank.store.errors").__doc__
