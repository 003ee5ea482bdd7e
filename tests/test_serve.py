"""``timebank serve --demo`` as a real process over real HTTP, on SQLite and on PostgreSQL.

Each smoke test starts the server on a free local port, waits (at most 30 s)
for ``/ready``, talks to it with httpx, and stops the process it started by
its pid, whatever happened. The demo book itself is checked in memory first.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.store.databases import admin_connection, postgres_base_url
from timebank.bank import TimeBank
from timebank.community import OrderStatus
from timebank.demo import DemoPeople, demo_people, seed_demo

SECRET = "serve-tests-" + "k" * 32
READY_WITHIN_S = 30.0


def test_the_demo_book_has_orders_in_every_state_and_verifies() -> None:
    """Seeding over a real clock back-dates its history, covers every order state, and verifies."""
    bank = TimeBank()
    people = seed_demo(bank)
    book = bank.book(people.book_id)
    assert {book.orders.get(order_id).status.value for order_id in people.orders.values()} == {
        status.value for status in OrderStatus
    }
    assert people == demo_people()
    assert any(
        p.proxy_id == people.proxy_id and p.active for p in book.members.proxies(people.senior_id)
    )
    assert book.events.credits("event-chongyang")
    assert book.wishes.get("wish-glasses").status.value == "confirmed"
    assert book.care.visits("wu-shuzhen")
    assert book.statements.verify().ok


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "timebank", *args],
        env={**os.environ, "TIMEBANK_TOKEN_SECRET": SECRET},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@contextmanager
def serving(database: str, logs: Path) -> Iterator[str]:
    """Run ``timebank serve --demo`` until the block ends; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "timebank", "serve", "--demo", "--database", database]
    with (logs / "serve.out").open("wb") as out, (logs / "serve.err").open("wb") as err:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env={**os.environ, "TIMEBANK_TOKEN_SECRET": SECRET, "TIMEBANK_LANG": "zh"},
            stdout=out,
            stderr=err,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, process, logs)
        yield base
    finally:
        process.terminate()  # SIGTERM to the pid we started: uvicorn shuts down gracefully
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def wait_until_ready(base: str, process: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{server_logs(logs)}")
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server was not ready within {READY_WITHIN_S} s:\n{server_logs(logs)}")


def server_logs(logs: Path) -> str:
    return "\n".join(
        (logs / name).read_text(encoding="utf-8", errors="replace")[-4000:]
        for name in ("serve.out", "serve.err")
    )


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database (created and dropped here); yields its URL."""
    base = postgres_base_url()
    if base is None:
        pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    name = f"tb_serve_{uuid.uuid4().hex[:12]}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_connection() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            admin.execute(f'DROP DATABASE "{name}"')


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield str(directory / "t.db")
    else:
        with postgres_database() as url:
            yield url


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_serve_demo_answers_over_http(kind: str, tmp_path: Path) -> None:
    """Health, the schema and its docs, a balance, and confirming the demo's completed order."""
    people = demo_people()
    book = people.book_id
    coordinator_args = ("--subject", people.coordinator_id, "--role", "coordinator")
    with ThreadPoolExecutor(max_workers=2) as pool:  # tokens are issued while the server starts
        tokens = [
            pool.submit(cli, "token", "--book", book, *coordinator_args),
            pool.submit(
                cli, "token", "--book", book, "--subject", people.proxy_id, "--role", "member"
            ),
        ]
        with database(kind, tmp_path) as target, serving(target, tmp_path) as base:
            coordinator, proxy = (t.result(timeout=60) for t in tokens)
            talk_to(base, people, coordinator, proxy)
    assert "已写入演示账簿 “demo”" in server_logs(tmp_path)


def talk_to(base: str, people: DemoPeople, coordinator: str, proxy: str) -> None:
    """What a first-time caller does: health, schema and docs, then the demo's data."""
    book, order_id = people.book_id, people.orders["completed"]
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/schema/openapi.json").json()["openapi"].startswith("3.1")
        docs = client.get("/schema/docs")
        assert (docs.status_code, "swagger" in docs.text.lower()) == (200, True)

        senior = f"/books/{book}/members/{people.senior_id}/balance"
        assert client.get(senior).status_code == 401
        as_proxy = {"Authorization": f"Bearer {proxy}"}
        assert client.get(senior, headers=as_proxy).json()["held_minutes"] == 60

        as_coordinator = {"Authorization": f"Bearer {coordinator}"}
        confirmed = client.post(f"/books/{book}/orders/{order_id}/confirm", headers=as_coordinator)
        assert confirmed.status_code == 200, confirmed.text
        order = confirmed.json()
        assert (order["status"], order["credited_minutes"]) == ("confirmed", 50)
        volunteer = client.get(
            f"/books/{book}/members/{people.volunteer_id}/balance", headers=as_coordinator
        ).json()
        assert volunteer["incoming_minutes"] == 0
