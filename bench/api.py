"""Throughput and latency of requests that move minutes, over real HTTP on 127.0.0.1.

The request measured is the one a coordinator's tool sends most: confirming a
completed service order (``POST /books/{book}/orders/{id}/confirm``), which
posts the volunteer's credit in one transaction. The bench seeds completed
orders through the facade, starts ``uvicorn`` serving the timebank app on a
SQLite file (and on PostgreSQL if ``TIMEBANK_TEST_POSTGRES_URL`` is set; it
creates and drops its own database), and drives it with a bounded number of
requests from concurrent keep-alive connections. Two same-run baselines: the
same confirmations through the facade in this process on one thread (no HTTP),
and a bare Litestar endpoint that does nothing, served and driven as timebank is.

Targets: over HTTP at least 0.8x the in-process rate, p99 under 50 ms on SQLite
and under 100 ms on PostgreSQL. Servers are started
and stopped by this script (by their pid), on 127.0.0.1 only.

    .venv/bin/python bench/api.py [--requests 3000] [--concurrency 16] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from timebank.bank.commands import (
    AcceptOrder,
    CompleteOrder,
    ConfirmOrder,
    DispatchOrder,
    RegisterMember,
    RequestOrder,
    StartOrder,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-" + "x" * 32
BOOK = "bench"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the servers (run in a child process) --------------------------------------------------


def serve(kind: str, port: int, database: str) -> None:
    import uvicorn
    from litestar import Litestar, get

    if kind == "noop":

        @get("/noop", sync_to_thread=False)
        def noop() -> dict[str, bool]:
            return {"ok": True}

        app = Litestar(route_handlers=[noop])
    else:
        from timebank.api import ApiSettings, create_app
        from timebank.bank import TimeBank

        app = create_app(
            TimeBank.open(database), ApiSettings(token_secret=SECRET, rate_limit_per_minute=0)
        )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start(kind: str, database: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port), "--database", database],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the {kind} server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- seeding ----------------------------------------------------------------------------


def seed(database: str, orders: int) -> list[str]:
    """Completed orders, ready to be confirmed, paid by the programme (Nanjing's rules)."""
    from timebank.bank import SYSTEM, TimeBank
    from timebank.community import Role, Vetting
    from timebank.ledger import ManualClock

    clock = ManualClock(datetime.now(UTC) - timedelta(days=2), tick=timedelta(milliseconds=1))
    ids = []
    with TimeBank.open(database, clock=clock) as bank:
        book = bank.create_book(BOOK, "nanjing")
        book.members.register(
            RegisterMember(
                member_id="wang",
                name="王芳",
                birth_date=date(1980, 1, 1),
                community="c",
                roles={Role.COORDINATOR},
            ),
            actor=SYSTEM,
        )
        for n in range(20):
            book.members.register(
                RegisterMember(
                    member_id=f"v{n}",
                    name="张伟",
                    birth_date=date(1962, 1, 1),
                    community="c",
                    roles={Role.VOLUNTEER},
                    vetting=Vetting.STREET,
                ),
                actor=SYSTEM,
            )
            book.members.register(
                RegisterMember(
                    member_id=f"r{n}",
                    name="陈秀英",
                    birth_date=date(1938, 1, 1),
                    community="c",
                    roles={Role.RECIPIENT},
                ),
                actor=SYSTEM,
            )
        for n in range(orders):
            order_id = f"o{n}"
            book.orders.request(
                RequestOrder(
                    recipient_id=f"r{n % 20}",
                    category="companionship",
                    estimated_minutes=60,
                    order_id=order_id,
                ),
                actor="wang",
            )
            book.orders.dispatch(
                DispatchOrder(order_id=order_id, volunteer_id=f"v{n % 20}"), actor="wang"
            )
            book.orders.accept(
                AcceptOrder(order_id=order_id, volunteer_id=f"v{n % 20}"), actor="wang"
            )
            book.orders.start(StartOrder(order_id=order_id), actor="wang")
            book.orders.complete(CompleteOrder(order_id=order_id, actual_minutes=60), actor="wang")
            ids.append(order_id)
    return ids


# --- the load ---------------------------------------------------------------------------


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request on a keep-alive connection; read the whole response; its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def drive(
    port: int, paths: list[str], method: str, headers: dict[str, str], concurrency: int
) -> tuple[float, list[float], int]:
    """Send every path once from ``concurrency`` keep-alive connections (a minimal HTTP/1.1
    client, so that the load generator costs far less than the servers it measures)."""
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(paths))
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                path = queue.pop()
                request = (
                    f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
                    "Content-Length: 0\r\n\r\n"
                ).encode()
                began = time.perf_counter()
                status = await _exchange(reader, writer, request)
                latencies.append((time.perf_counter() - began) * 1000)
                if status >= 300:
                    errors += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    return len(paths) / elapsed, latencies, errors


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def measure(label: str, database: str, args: argparse.Namespace) -> None:
    from timebank.api import issue_token

    token = issue_token(SECRET, subject="wang", role="coordinator", book=BOOK)
    headers = {"Authorization": f"Bearer {token}"}
    rates, tails, noop_rates, noop_tails, local_rates = [], [], [], [], []
    for run in range(args.runs):
        local_rates.append(in_process(database, run, args))
        target = database if not database.endswith(".db") else database.replace(".db", f"{run}.db")
        if not target.endswith(".db"):
            target = create_postgres(database)
        ids = seed(target, args.requests)
        server, port = start("timebank", target)
        try:
            paths = [f"/books/{BOOK}/orders/{i}/confirm" for i in ids]
            rate, latencies, errors = asyncio.run(
                drive(port, paths, "POST", headers, args.concurrency)
            )
        finally:
            stop(server)
            if not target.endswith(".db"):
                drop_postgres(target)
        assert errors == 0, f"{errors} confirmations failed"
        rates.append(rate)
        tails.append(p99(latencies))
        noop, noop_port = start("noop", "-")
        try:
            rate, latencies, _ = asyncio.run(
                drive(noop_port, ["/noop"] * args.requests, "GET", {}, args.concurrency)
            )
        finally:
            stop(noop)
        noop_rates.append(rate)
        noop_tails.append(p99(latencies))
    rate, tail = statistics.median(rates), statistics.median(tails)
    base, base_tail = statistics.median(noop_rates), statistics.median(noop_tails)
    local = statistics.median(local_rates)
    print(
        f"{label}: confirm an order over HTTP {rate:,.0f} req/s, p99 {tail:.1f} ms;"
        f" the same use case in-process on one thread {local:,.0f}/s;"
        f" bare Litestar {base:,.0f} req/s, p99 {base_tail:.1f} ms"
        f" (medians of {args.runs} runs of {args.requests} requests,"
        f" {args.concurrency} connections)"
    )
    limit = 50 if label == "SQLite" else 100
    print(
        f"  HTTP / in-process {rate / local:.2f}x (target >= 0.8x:"
        f" {'met' if rate >= 0.8 * local else 'MISSED'}); HTTP / bare Litestar {rate / base:.0%};"
        f" p99 < {limit} ms {'met' if tail < limit else 'MISSED'}"
    )


def in_process(database: str, run: int, args: argparse.Namespace) -> float:
    """Confirmations per second through the facade in this process, on one thread."""
    from timebank.bank import TimeBank

    target = database.replace(".db", f"-local{run}.db") if database.endswith(".db") else ""
    if not target:
        target = create_postgres(database)
    try:
        ids = seed(target, args.requests)
        with TimeBank.open(target) as bank:
            book = bank.book(BOOK)
            started = time.perf_counter()
            for order_id in ids:
                book.orders.confirm(ConfirmOrder(order_id=order_id), actor="wang")
            return len(ids) / (time.perf_counter() - started)
    finally:
        if not database.endswith(".db"):
            drop_postgres(target)


def create_postgres(base_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"bench_api_{uuid.uuid4().hex[:8]}"
    url = make_url(base_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres(url_text: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(url_text)
    name = url.database
    base = make_url(os.environ["TIMEBANK_TEST_POSTGRES_URL"]).set(drivername="postgresql")
    admin_url = base.render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", choices=["noop", "timebank"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.database)
        return
    directory = Path(tempfile.mkdtemp())
    measure("SQLite", str(directory / "bench.db"), args)
    postgres = os.environ.get("TIMEBANK_TEST_POSTGRES_URL")
    if postgres:
        measure("PostgreSQL", postgres, args)


if __name__ == "__main__":
    main()
