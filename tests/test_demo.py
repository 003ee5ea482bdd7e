"""The demo community lives beside the API and the CLI (``timebank.demo``), not inside the API.

Its content (every order state, a proxy, an event, wishes, a care file) is
checked in ``tests/test_serve.py``; here, where it lives and that both the CLI
and the API reach the same book.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from timebank.api import ApiSettings, create_app, issue_token
from timebank.bank import TimeBank
from timebank.cli import main
from timebank.demo import DEMO_BOOK, demo_people, seed_demo

SECRET = "demo-tests-" + "d" * 32


def test_the_demo_imports_no_web_framework_and_neither_front_end() -> None:
    code = (
        "import sys, timebank.demo\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'litestar'"
        " or m.startswith(('timebank.api', 'timebank.cli')))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_demo_is_no_longer_in_the_api_package() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("timebank.api.demo")


def test_the_cli_and_the_api_see_the_same_demo_book(tmp_path: Path) -> None:
    """Seeded once into a file: the CLI prints its table, the API serves its members."""
    path = tmp_path / "demo.db"
    with TimeBank.open(path) as bank:
        people = seed_demo(bank)
    assert people == demo_people()
    result = CliRunner().invoke(
        main, ["--lang", "zh", "report", "wishes", "--book", DEMO_BOOK, "--database", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert "微心愿认领情况" in result.output
    token = issue_token(SECRET, subject=people.coordinator_id, role="coordinator", book=DEMO_BOOK)
    with TimeBank.open(path) as bank:
        app = create_app(bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
        with TestClient(app) as client:
            response = client.get(
                f"/books/{DEMO_BOOK}/members/{people.senior_id}",
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 200, response.text
    assert response.json()["member_id"] == people.senior_id
