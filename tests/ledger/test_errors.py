"""Errors carry their data, have stable codes, and survive a round trip through a dict."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

import timebank.ledger.errors as errors_module
from timebank.ledger import LedgerError, error_from_dict

ERRORS = [
    cls
    for cls in vars(errors_module).values()
    if isinstance(cls, type) and issubclass(cls, LedgerError) and dataclasses.fields(cls)
]


def sample(cls: type[LedgerError]) -> LedgerError:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        kind = str(field.type)
        if "datetime" in kind:
            values[field.name] = datetime(2026, 11, 1, tzinfo=UTC)
        elif "int" in kind:
            values[field.name] = 42
        else:
            values[field.name] = f"{field.name}-value"
    return cls(**values)


def test_every_rule_has_its_own_error() -> None:
    """Codes are unique, snake_case, and every concrete error is exported."""
    codes = [cls.code for cls in ERRORS]
    assert len(codes) == len(set(codes))
    assert all(code == code.lower() and " " not in code for code in codes)
    assert len(ERRORS) >= 25
    assert {cls.__name__ for cls in ERRORS} <= set(errors_module.__all__)


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_round_trips_through_json(cls: type[LedgerError]) -> None:
    """to_dict is JSON-ready and error_from_dict rebuilds an equal error."""
    error = sample(cls)
    data = msgspec.json.decode(msgspec.json.encode(error.to_dict()))
    assert data["code"] == cls.code
    rebuilt = error_from_dict(data)
    assert type(rebuilt) is cls
    assert rebuilt == error
    assert str(rebuilt) == str(error)
    assert "{" not in str(error)


def test_every_error_is_documented() -> None:
    """The error tree in docs/ledger.md names every error the ledger can raise."""
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "ledger.md").read_text()
    missing = [cls.__name__ for cls in ERRORS if f"── {cls.__name__} " not in page]
    assert missing == []
