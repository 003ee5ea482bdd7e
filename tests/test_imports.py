"""The ledger core stays pure, and every package declares a sorted public API."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["timebank.bank", "timebank.community", "timebank.ledger", "timebank.store"]


def test_ledger_core_imports_only_the_stdlib_and_msgspec() -> None:
    """Importing timebank.ledger loads no SQLAlchemy, Litestar or outer timebank layer."""
    code = (
        "import sys, timebank.ledger\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'litestar', 'alembic', 'psycopg'} "
        "or m.startswith(('timebank.store', 'timebank.api', 'timebank.community')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_ledger_modules_import_nothing_outside_stdlib_msgspec_and_ledger() -> None:
    """Every import statement in timebank/ledger names the stdlib, msgspec or the ledger."""
    import ast
    from pathlib import Path

    root = Path(importlib.import_module("timebank.ledger").__file__).parent  # type: ignore[arg-type]
    allowed = set(sys.stdlib_module_names) | {"msgspec", "timebank"}
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
                if name.startswith("timebank"):
                    assert name.startswith("timebank.ledger"), f"{path.name} imports {name}"


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}\nprint(','.join(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.strip().split(","))


def test_community_rules_do_no_io() -> None:
    """The time-bank rules import no database, web framework, store or facade."""
    loaded = _loaded_after_import("timebank.community")
    bad = {
        m
        for m in loaded
        if m.split(".")[0] in {"sqlalchemy", "litestar", "alembic", "psycopg"}
        or m.startswith(("timebank.store", "timebank.api", "timebank.bank"))
    }
    assert bad == set()


def test_facade_loads_sqlalchemy_only_when_opening_a_database() -> None:
    """Importing the facade (for the memory store) does not drag in SQLAlchemy."""
    loaded = _loaded_after_import("timebank.bank")
    assert not {m for m in loaded if m.split(".")[0] in {"sqlalchemy", "litestar"}}


def test_the_api_reaches_the_books_only_through_the_facade() -> None:
    """Importing the HTTP API loads no SQLAlchemy or store, and no api module imports them."""
    import ast
    from pathlib import Path

    loaded = _loaded_after_import("timebank.api")
    assert not {m for m in loaded if m.split(".")[0] in {"sqlalchemy", "alembic", "psycopg"}}
    assert not {m for m in loaded if m.startswith("timebank.store")}
    root = Path(importlib.import_module("timebank.api").__file__).parent  # type: ignore[arg-type]
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in {"sqlalchemy", "alembic", "psycopg"}, path
                assert not name.startswith("timebank.store"), (path, name)


@pytest.mark.parametrize("name", PACKAGES)
def test_public_api_is_sorted_and_complete(name: str) -> None:
    """__all__ is sorted, and every name in it exists."""
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    for item in exported:
        assert hasattr(module, item), item
