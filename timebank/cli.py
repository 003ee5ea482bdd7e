"""The ``timebank`` command line, over the facade (``timebank.bank``) and the HTTP API.

- ``demo``: a day at a Nanjing community centre, in memory;
- ``db upgrade``, ``verify``: the database schema, and every book's hash chain;
- ``backup``: an online copy of a SQLite database, verified (PostgreSQL: the pg_dump steps);
- ``serve``: the HTTP API under uvicorn (``--demo`` seeds a demo community);
- ``token``, ``openapi``: bearer tokens, and the API's OpenAPI schema;
- ``import members|services``: members and paper service records from CSV or XLSX;
- ``export passbook|report``, ``report``: passbooks and reports as CSV, XLSX, or a table;
- ``run-deadlines``: escalations, expiry and reminders, once (for cron).

Every command that touches a database takes ``--database`` (a SQLite file path
or a URL; ``postgresql://`` uses psycopg 3), defaulting to ``$TIMEBANK_DATABASE``
or ``timebank.db`` in the current directory. Only ``serve`` and ``db upgrade`` create
a database; every other command refuses a path where there is none.
"""

from __future__ import annotations

import csv
import hashlib
import os
import secrets
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import click
import msgspec

from timebank.bank.commands import (
    AcceptOrder,
    CloseOrder,
    CompleteOrder,
    ConfirmCredit,
    ConfirmOrder,
    CreateEvent,
    CreditEvent,
    CreditService,
    DispatchOrder,
    Give,
    RateOrder,
    RegisterMember,
    Relate,
    RequestOrder,
    RunDeadlines,
    StartOrder,
)
from timebank.ledger import Ledger, LedgerError, LimitExceeded, ManualClock

if TYPE_CHECKING:
    from rich.progress import Progress

    from timebank.api import ApiSettings
    from timebank.bank import BankBook, TimeBank
    from timebank.demo import DemoPeople
    from timebank.store import SqlStore
    from timebank.tables import Table

T = TypeVar("T")

DATABASE_OPTION = click.option(
    "--database",
    envvar="TIMEBANK_DATABASE",
    default="timebank.db",
    show_default=True,
    help="SQLite file path or database URL.",
)
BOOK_OPTION = click.option("--book", "book_id", required=True, help="The book (programme) id.")
SECRET_ENV = "TIMEBANK_TOKEN_SECRET"
IMPORT_ROWS_MAX = 100_000
PASSBOOK_PAGES_MAX = 10_000
DEADLINE_BATCHES_MAX = 1_000
Cell = str | int | Decimal | date | datetime | None
Raw = Cell | float
"""A cell as read from an import file (spreadsheets store numbers as floats)."""
Row = dict[str, Raw]


@click.group()
def main() -> None:
    """timebank: a time-bank ledger of volunteer minutes."""


@contextmanager
def _opened(database: str, *, create: bool = False) -> Iterator[TimeBank]:
    """The bank in ``database``; store and ledger errors become a one-line message and exit 1.

    Only ``serve`` (and ``db upgrade``) create a database; every other command refuses a
    path with no timebank database, rather than leaving an empty file where it was run.
    """
    from timebank.bank import TimeBank
    from timebank.store import StoreError

    try:
        with TimeBank.open(database, create=create) as bank:
            yield bank
    except (StoreError, LedgerError) as error:
        raise click.ClickException(str(error)) from error


@main.command()
def demo() -> None:
    """A day at a Nanjing community centre: a visit, a gift, an event, an order, a passbook."""
    from timebank.bank import SYSTEM, TimeBank
    from timebank.community import Provenance, RelationKind, Role, Vetting

    clock = ManualClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC), tick=timedelta(minutes=1))
    gulou = TimeBank(clock=clock).create_book("gulou", "nanjing")
    people = [
        ("wang-fang", "王芳", date(1980, 4, 1), {Role.COORDINATOR}),
        ("li-na", "李娜", date(1958, 3, 2), {Role.VOLUNTEER}),
        ("liu-jun", "刘军", date(1955, 8, 9), {Role.VOLUNTEER}),
        ("chen-xiulan", "陈秀兰", date(1938, 6, 6), {Role.RECIPIENT}),
    ]
    for member_id, name, born, roles in people:
        gulou.members.register(
            RegisterMember(
                member_id=member_id,
                name=name,
                birth_date=born,
                community="gulou",
                roles=roles,
                vetting=Vetting.STREET,
            ),
            actor=SYSTEM,
        )
    visit = gulou.credits.record(
        CreditService(
            provider_id="li-na",
            recipient_id="chen-xiulan",
            category="companionship",
            raw_minutes=90,
            served_at=clock.now() - timedelta(hours=20),
            provenance=Provenance.CHECK_IN_OUT,
        ),
        actor="li-na",
    )
    gulou.credits.confirm(ConfirmCredit(credit_id=visit.credit_id), actor="wang-fang")
    gulou.members.relate(
        Relate(member_id="li-na", other_id="liu-jun", kind=RelationKind.SPOUSE), actor="wang-fang"
    )
    gulou.gifts.give(Give(giver_id="li-na", receiver_id="liu-jun", minutes=30), actor="li-na")
    event = gulou.events.create(
        CreateEvent(title="重阳节敬老活动", category="community", held_at=clock.now()),
        actor="wang-fang",
    )
    gulou.events.credit(
        CreditEvent(event_id=event.event_id, attendees={"li-na": 120, "liu-jun": 120}),
        actor="wang-fang",
    )
    # A service order from request to close-out (点单, 派单, 接单, 办结, 销号).
    gulou.orders.request(
        RequestOrder(
            recipient_id="chen-xiulan", category="meals", estimated_minutes=60, order_id="o-1"
        ),
        actor="wang-fang",
    )
    gulou.orders.dispatch(DispatchOrder(order_id="o-1", volunteer_id="liu-jun"), actor="wang-fang")
    gulou.orders.accept(AcceptOrder(order_id="o-1", volunteer_id="liu-jun"), actor="liu-jun")
    gulou.orders.start(StartOrder(order_id="o-1"), actor="liu-jun")
    gulou.orders.complete(CompleteOrder(order_id="o-1", actual_minutes=45), actor="liu-jun")
    gulou.orders.confirm(ConfirmOrder(order_id="o-1"), actor="wang-fang")
    gulou.orders.rate(
        RateOrder(order_id="o-1", rating=5, comment="饭菜送到 很热情"), actor="wang-fang"
    )
    order = gulou.orders.close(CloseOrder(order_id="o-1", follow_up="回访 满意"), actor="wang-fang")
    steps = " -> ".join(f"{step.action.value} ({step.actor})" for step in order.history)
    click.echo(f"order o-1, {order.credited_minutes} minutes credited: {steps}")
    month = gulou.reports.orders("2026-11").total
    click.echo(
        f"2026-11 orders: {month.requested}, processing rate {month.processing_rate.percent}%,"
        f" satisfaction rate {month.satisfaction_rate.percent}%"
    )
    click.echo("passbook of 李娜 (li-na), minutes:")
    for line in gulou.statements.passbook("li-na").entries:
        click.echo(
            f"  {line.kind:<8}{line.delta_minutes:>+6}{line.balance_minutes:>7}"
            f"  {line.counterparty:<18}{line.category or '-':<14}{line.provenance or '-'}"
        )
    for member_id, name, *_ in people[1:]:
        balance = gulou.statements.balance(member_id)
        click.echo(
            f"{name}: own {balance.own_minutes}, gifted {balance.gifted_minutes},"
            f" group {balance.group_minutes}"
        )
    click.echo(f"owed to members: {gulou.statements.liability()} minutes")
    report = gulou.statements.verify()
    click.echo(
        f"verify: {'ok' if report.ok else report.first_break}, "
        f"{report.transactions_checked} transactions, {report.accounts_checked} accounts"
    )


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@DATABASE_OPTION
def upgrade(database: str) -> None:
    """Apply the packaged migrations to the database (creating it if needed)."""
    from timebank.store import StoreError
    from timebank.store import upgrade as apply_migrations

    try:
        apply_migrations(database)
    except StoreError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"database {database} is up to date")


@main.command()
@DATABASE_OPTION
@click.option("--book", "book_ids", multiple=True, help="Verify only this book (repeatable).")
@click.option(
    "--since-checkpoint",
    is_flag=True,
    help="Verify only what each book added since its last checkpoint (the whole book when it"
    " has none), and move the checkpoint to the end when nothing is found.",
)
def verify(database: str, book_ids: tuple[str, ...], since_checkpoint: bool) -> None:
    """Recompute every book's hash chain, balances, statements, holds, reversals and
    remembered outcomes; print each broken book's first break; exit 1 if any broke.

    With --since-checkpoint, each book is verified from the checkpoint its last clean
    verify with that flag recorded: the later records, and the head, balances, bounds and
    conservation of the whole book; a checkpoint that was tampered with is a break.

    A break names its kind, where it is (account, transaction, sequence) and the table
    it was found in. A book whose row in books is gone while its other rows remain is
    verified too, and reported broken.
    """
    from timebank.ledger import StoredRowInvalid
    from timebank.store import StoreError, open_store

    try:
        with open_store(database, migrate=False, create=False) as store:
            broken = _verify_books(store, book_ids, since_checkpoint=since_checkpoint)
    except (StoreError, LedgerError, StoredRowInvalid) as error:
        raise click.ClickException(str(error)) from error
    if broken:
        sys.exit(1)


def _printable(text: str) -> str:
    # Ids and details come from the database, which may have been tampered with:
    # control characters are shown escaped, never sent to the terminal.
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _verify_books(store: SqlStore, book_ids: Sequence[str], *, since_checkpoint: bool) -> int:
    """Verify the books (all when none are named), print a line for each; how many broke."""
    from timebank.ledger import Book, BookNotFound

    ledger = Ledger(store)
    # A books row whose id was overwritten with a number or bytes names no book;
    # the book it was is listed among the stray ids instead.
    ids = (*ledger.book_ids(), *store.stray_book_ids())
    known = {book_id for book_id in ids if isinstance(book_id, str)}
    broken = 0
    for book_id in book_ids or sorted(known):
        if book_id not in known:
            raise BookNotFound(book_id=book_id)
        report = Book(store, ledger.clock, book_id).verify(since_checkpoint=since_checkpoint)
        counts = f"{report.transactions_checked} transactions, {report.accounts_checked}"
        if report.first_break is None:
            click.echo(_printable(f"{book_id}: ok ({counts} accounts)"))
            continue
        broken += 1
        found = report.first_break
        where = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("account", found.account_id),
                ("transaction", found.transaction_id),
                ("sequence", found.sequence),
                ("table", found.table),
            )
            if value is not None
        )
        line = f"{book_id}: BROKEN {found.kind.value} at {where}: {found.detail}"
        click.echo(_printable(line))
    return broken


@main.command()
@DATABASE_OPTION
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def backup(database: str, out: Path) -> None:
    """Back up the database into the new file OUT, then verify the copy.

    A SQLite database is copied with SQLite's online backup, which takes one consistent
    snapshot (the file and what its -wal file holds) while timebank keeps running, into a
    self-contained file; every book of the copy is then verified, and a broken copy exits 1.
    Never copy a live timebank.db by hand: the newest records may still be in
    timebank.db-wal, and the copy would quietly lack them.

    For PostgreSQL, prints the pg_dump procedure (the server's own tools make the backup).
    """
    from timebank.ledger import StoredRowInvalid
    from timebank.store import (
        StoreError,
        backup_sqlite,
        open_store,
        postgres_backup_steps,
    )
    from timebank.store.backup import seal_sqlite, sqlite_path_of

    try:
        if sqlite_path_of(database) is None:
            click.echo("PostgreSQL keeps its own backups; run, with the server's tools:")
            for line in postgres_backup_steps(database, str(out)):
                click.echo(f"  {line}")
            return
        written = backup_sqlite(database, out)  # refuses a path with no timebank database
        click.echo(f"backup written to {written}; verifying the copy:")
        with open_store(written, migrate=False, create=False) as store:
            broken = _verify_books(store, (), since_checkpoint=False)
        seal_sqlite(written)
    except (FileExistsError, StoreError, LedgerError, StoredRowInvalid, ValueError) as error:
        raise click.ClickException(str(error)) from error
    if broken:
        raise click.ClickException(f"the copy in {written} did not verify; keep the original")
    click.echo(f"backup {written} is complete and verified")


# --- the HTTP API ----------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@DATABASE_OPTION
@click.option("--demo", is_flag=True, help="Seed the demo community (if absent); print tokens.")
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    help="Address or network (10.0.0.0/8) of a reverse proxy whose X-Forwarded-For names the"
    " client (repeatable). Default: $TIMEBANK_TRUSTED_PROXIES, else none.",
)
def serve(
    host: str, port: int, database: str, demo: bool, trusted_proxies: tuple[str, ...]
) -> None:
    """Serve the HTTP API with uvicorn until interrupted (Ctrl-C or SIGTERM).

    Tokens are signed with $TIMEBANK_TOKEN_SECRET (32 characters or more). If
    it is unset, this process makes up a random secret and prints an admin
    token; such tokens stop working when the process ends. Other settings:
    $TIMEBANK_CORS_ORIGINS, $TIMEBANK_RATE_LIMIT_PER_MINUTE, $TIMEBANK_TRUSTED_PROXIES.

    Proxy headers (X-Forwarded-For) are believed only from the trusted proxies:
    the rate limit counts requests by the address they name, or else by the
    connection's own address.
    """
    import uvicorn

    from timebank.api import ApiSettings, create_app

    secret = os.environ.get(SECRET_ENV, "")
    overrides: dict[str, object] = {"token_secret": secret or secrets.token_urlsafe(48)}
    if trusted_proxies:
        overrides["trusted_proxies"] = trusted_proxies
    with _opened(database, create=True) as bank:
        people = _demo_book(bank) if demo else None
        try:
            settings = ApiSettings.from_env(**overrides)
            app = create_app(bank, settings)
        except ValueError as error:  # a short secret, a malformed TIMEBANK_* number or proxy
            raise click.ClickException(f"settings: {error}") from error
        base = f"http://{host}:{port}"
        click.echo(f"timebank API on {base} over {database}")
        click.echo(f"  docs: {base}/schema/docs   OpenAPI: {base}/schema/openapi.json")
        if not secret:
            _print_secret_advice(settings, base)
        if people is not None:
            _print_demo_tokens(settings, people, base)
        # The app reads X-Forwarded-For itself, from settings.trusted_proxies only; uvicorn's
        # own reading would believe any process on 127.0.0.1.
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


def _demo_book(bank: TimeBank) -> DemoPeople:
    from timebank.demo import DEMO_BOOK, demo_people, seed_demo

    if DEMO_BOOK in bank.book_ids():
        click.echo(f"book {DEMO_BOOK!r} exists: not seeding it again")
        return demo_people()
    people = seed_demo(bank)
    report = bank.book(DEMO_BOOK).statements.verify()
    click.echo(
        f"seeded book {DEMO_BOOK!r}: {report.transactions_checked} transactions,"
        f" verify {'ok' if report.ok else 'BROKEN'}"
    )
    return people


def _hours(settings: ApiSettings) -> str:
    return f"{settings.token_lifetime.total_seconds() / 3600:g} h"


def _print_secret_advice(settings: ApiSettings, base: str) -> None:
    from timebank.api import issue_token

    lifetime = settings.token_lifetime
    token = issue_token(
        settings.token_secret, subject="admin", role="admin", book="*", lifetime=lifetime
    )
    click.echo(
        f"\n{SECRET_ENV} is not set: tokens are signed with a random secret that dies with"
        " this process.\n"
        f"  an admin token for every book ({_hours(settings)}): {token}\n"
        f"  for lasting tokens, set {SECRET_ENV} (32+ characters) and run"
        " `timebank token --book B --subject S --role R`.\n"
        f"  try: curl -H 'Authorization: Bearer <token>' {base}/health"
    )


def _print_demo_tokens(settings: ApiSettings, people: DemoPeople, base: str) -> None:
    from timebank.api import issue_token

    book = people.book_id
    rows = (
        ("admin", "admin", "admin"),
        ("coordinator", people.coordinator_id, "coordinator"),
        ("senior", people.senior_id, "member"),
        ("senior's proxy", people.proxy_id, "member"),
    )
    click.echo(f"\ndemo bearer tokens for book {book!r} ({_hours(settings)}):")
    for label, subject, role in rows:
        token = issue_token(
            settings.token_secret,
            subject=subject,
            role=role,
            book=book,
            lifetime=settings.token_lifetime,
        )
        click.echo(f"  {label} ({subject}): {token}")
    completed = people.orders["completed"]
    click.echo(
        f"\ntry: curl -H 'Authorization: Bearer <senior token>'"
        f" {base}/books/{book}/members/{people.senior_id}/balance\n"
        f"  order {completed} is completed and awaits confirmation by the coordinator or"
        f" the senior's proxy; docs: {base}/schema/docs\n"
    )


@main.command()
@click.option(
    "--book", "book_id", required=True, help="The book the token is for; * (admins) for all."
)
@click.option("--subject", required=True, help="Who the token names (a member id for people).")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "integration", "coordinator", "member"]),
)
@click.option("--hours", default=12, show_default=True, type=click.IntRange(1, 24 * 366))
def token(book_id: str, subject: str, role: str, hours: int) -> None:
    """Print a bearer token signed with $TIMEBANK_TOKEN_SECRET.

    A token says who is calling; what a person may do comes from the book's records
    at each request (a coordinator's communities are those the book gives them).
    """
    from timebank.api import issue_token

    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise click.ClickException(f"{SECRET_ENV} is not set: the server's secret is needed")
    try:
        signed = issue_token(
            secret,
            subject=subject,
            role=role,
            book=book_id,
            lifetime=timedelta(hours=hours),
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(signed)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
def openapi(out: Path | None) -> None:
    """Write the HTTP API's OpenAPI 3.1 schema as JSON (no server, no database)."""
    from litestar.serialization import encode_json

    from timebank.api import ApiSettings, create_app
    from timebank.bank import TimeBank

    app = create_app(TimeBank(), ApiSettings(token_secret=secrets.token_urlsafe(48)))
    schema = app.openapi_schema.to_schema()
    text = msgspec.json.format(encode_json(schema), indent=2).decode() + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)


@main.command("run-deadlines")
@DATABASE_OPTION
@BOOK_OPTION
def run_deadlines(database: str, book_id: str) -> None:
    """Escalate overdue orders, expire stale ones and remind volunteers, once (for cron)."""
    from timebank.bank import SYSTEM

    escalated: list[str] = []
    expired: list[str] = []
    reminded: list[str] = []
    with _opened(database) as bank:
        book = bank.book(book_id)
        for _ in range(DEADLINE_BATCHES_MAX):
            run = book.orders.run_deadlines(RunDeadlines(), actor=SYSTEM)
            escalated += run.escalated
            expired += run.expired
            reminded += run.reminded
            if not run.more:
                break
    for label, ids in (("escalated", escalated), ("expired", expired), ("reminded", reminded)):
        click.echo(f"{label}: {len(ids)}" + (f" ({', '.join(ids)})" if ids else ""))


# --- imports ---------------------------------------------------------------------------------


class CellInvalid(ValueError):
    """A cell of an import file cannot be read as its column's type."""

    def __init__(self, column: str, value: object, expected: str) -> None:
        self.column = column
        self.value = value
        self.expected = expected
        super().__init__(f"{column} {str(value)[:64]!r} is not {expected}")


MEMBER_COLUMNS = ("member_id", "name", "birth_date", "community")
MEMBER_OPTIONAL = ("grid", "roles", "vetting", "flags")
SERVICE_COLUMNS = ("provider_id", "recipient_id", "category", "raw_minutes", "served_at")
SERVICE_OPTIONAL = ("note",)
ALREADY = "already there"


def _text(value: Raw) -> str:
    """A cell as text: spreadsheets turn ids like 1001 into numbers, so integers come back."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _required(row: Row, column: str) -> str:
    text = _text(row.get(column))
    if not text:
        raise CellInvalid(column, "", "filled in")
    return text


def _day(row: Row, column: str) -> date:
    value = row.get(column)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value))
    except ValueError:
        raise CellInvalid(column, value, "a date (YYYY-MM-DD)") from None


def _moment(row: Row, column: str, zone: ZoneInfo) -> datetime:
    """A datetime; one without an offset is local time in the bank's zone."""
    value = row.get(column)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(_text(value))
        except ValueError:
            raise CellInvalid(column, value, "a date and time (YYYY-MM-DD HH:MM)") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _whole(row: Row, column: str) -> int:
    value = row.get(column)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _text(value)
    if text.isdigit() and len(text) <= 9:
        return int(text)
    raise CellInvalid(column, value, "a whole number of minutes")


def _choices(row: Row, column: str, kind: Callable[[str], T], names: str) -> list[T]:
    """Values separated by ``;`` (``volunteer;recipient``)."""
    chosen: list[T] = []
    for part in _text(row.get(column)).split(";"):
        if part.strip():
            try:
                chosen.append(kind(part.strip().lower()))
            except ValueError:
                raise CellInvalid(column, part.strip(), f"one of: {names}") from None
    return chosen


def _read_rows(
    path: Path, required: Sequence[str], optional: Sequence[str]
) -> Iterator[tuple[int, Row]]:
    """(row number as a spreadsheet shows it, cells by column) for each non-blank data row.

    The header is row 1. Raises ``RowRefused`` for a bad header or an unreadable row.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = _csv_records(path)
    elif suffix == ".xlsx":
        records = _xlsx_records(path)
    else:
        raise click.ClickException(f"{path}: use a .csv (UTF-8) or .xlsx file")
    header: list[str] | None = None
    for number, cells in records:
        if header is None:
            header = _header(cells, required, optional)
            continue
        if all(_text(cell) == "" for cell in cells):
            continue
        if number > IMPORT_ROWS_MAX + 1:
            raise RowRefused(number, f"an import takes at most {IMPORT_ROWS_MAX:,} rows")
        if any(_text(cell) for cell in cells[len(header) :]):
            raise RowRefused(number, f"more cells than the {len(header)} columns")
        yield number, dict(zip(header, cells, strict=False))
    if header is None:
        raise RowRefused(1, "the file is empty: a header row is needed")


def _header(cells: Sequence[Raw], required: Sequence[str], optional: Sequence[str]) -> list[str]:
    names = [_text(cell).lower() for cell in cells]
    while names and not names[-1]:
        names.pop()
    known = (*required, *optional)
    unknown = [name for name in names if name not in known]
    missing = [name for name in required if name not in names]
    if unknown or missing or len(set(names)) != len(names):
        problems = [f"unknown column {name!r}" for name in unknown]
        problems += [f"missing column {name!r}" for name in missing]
        if len(set(names)) != len(names):
            problems.append("a column is repeated")
        raise RowRefused(1, "; ".join(problems) + f" (columns: {', '.join(known)})")
    return names


def _csv_records(path: Path) -> Iterator[tuple[int, list[Raw]]]:
    """CSV records, UTF-8 with or without a BOM; a record may span lines."""
    number = 0
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        try:
            for number, record in enumerate(reader, start=1):
                cells: list[Raw] = list(record)
                yield number, cells
        except (UnicodeDecodeError, csv.Error) as error:
            reason = (
                "it is not UTF-8 (in Excel, save it as 'CSV UTF-8')"
                if isinstance(error, UnicodeDecodeError)
                else str(error)
            )
            raise RowRefused(number + 1, f"the file cannot be read: {reason}") from error


def _xlsx_records(path: Path) -> Iterator[tuple[int, list[Raw]]]:
    """The first sheet's rows, streamed (openpyxl's read-only mode)."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not XLSX
        raise RowRefused(1, f"the file cannot be read as XLSX: {error}") from error
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    finally:
        workbook.close()


class RowRefused(click.ClickException):
    """A row of an import file broke a rule: ``row N: reason``, exit code 1."""

    def __init__(self, row: int, reason: str) -> None:
        self.row = row
        self.reason = reason
        super().__init__(f"row {row}: {reason}")


@dataclass(frozen=True, kw_only=True)
class _ImportKind:
    """What one kind of import reads, checks without writing, and applies."""

    noun: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    rehearse: Callable[[BankBook, BankBook, Row], None]
    """Check a row against the real book and the rules, writing only to a scratch book."""
    apply: Callable[[BankBook, Row], str]
    """Apply a row to the real book; says what happened (``registered``, ``already there``...)."""
    restart: Callable[[], None] = lambda: None
    """Forget what ``apply`` counted, before the rows are applied (again) from the top."""
    pending: Callable[[], Sequence[str]] = tuple
    """Ids of what was applied but waits for someone's confirmation, to print after the count."""


def _progress() -> Progress:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    console = Console(stderr=True)
    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal)


def _import(database: str, book_id: str, path: Path, kind: _ImportKind) -> None:
    """Check every row (nothing is written), then apply them in order."""
    with _opened(database) as bank:
        book = bank.book(book_id)
        scratch = _scratch_book(book)
        rows = 0
        outcomes: Counter[str] = Counter()
        checked = _stamp(path)
        with _progress() as progress:
            task = progress.add_task(f"checking {path.name}", total=None)
            for number, row in _read_rows(path, kind.required, kind.optional):
                _refusing(number, partial(kind.rehearse, book, scratch, row))
                rows += 1
                progress.advance(task)
            if _stamp(path) != checked:
                raise click.ClickException(f"{path} changed while it was checked: nothing imported")
            task = progress.add_task(f"importing {path.name}", total=rows)

            def apply_all() -> None:
                # The store runs this again, from the top, after a transient failure.
                outcomes.clear()
                kind.restart()
                for number, row in _read_rows(path, kind.required, kind.optional):
                    outcomes[_refusing(number, partial(kind.apply, book, row))] += 1
                    progress.advance(task)

            book.atomic(apply_all)
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
    click.echo(f"{path.name}: {rows} rows checked; {kind.noun}: {counts or 'none'}")
    for pending_id in kind.pending():
        click.echo(f"  held until confirmed: {pending_id}")


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def _refusing(number: int, call: Callable[[], T]) -> T:
    """Run ``call`` for a row; a broken rule becomes ``row N: reason``."""
    try:
        return call()
    except (LedgerError, CellInvalid) as error:
        raise RowRefused(number, str(error)) from error


def _scratch_book(book: BankBook) -> BankBook:
    """An empty in-memory book under the same policy, to rehearse an import on."""
    from timebank.bank import TimeBank

    bank = TimeBank(clock=book.bank.clock, timezone=book.bank.zone.key)
    return bank.create_book(book.book_id, book.programme.policy().rules)


# members


def _member_fields(row: Row) -> dict[str, Any]:
    from timebank.community import Role, Vetting

    vetting = _choices(row, "vetting", Vetting, ", ".join(Vetting))
    if len(vetting) > 1:
        raise CellInvalid("vetting", _text(row.get("vetting")), "one level of vetting")
    return {
        "member_id": _required(row, "member_id"),
        "name": _required(row, "name"),
        "birth_date": _day(row, "birth_date"),
        "community": _required(row, "community"),
        "grid": _text(row.get("grid")),
        "roles": frozenset(_choices(row, "roles", Role, ", ".join(Role))),
        "vetting": vetting[0] if vetting else Vetting.PENDING,
        "flags": frozenset(_text(f) for f in _text(row.get("flags")).split(";") if f.strip()),
    }


def _registered(book: BankBook, fields: dict[str, Any]) -> bool:
    """Whether the member is already registered as the row says (an earlier import)."""
    from timebank.community import MemberExists, MemberNotFound

    try:
        member = book.members.get(fields["member_id"])
    except MemberNotFound:
        return False
    same = (member.name, member.birth_date, member.community) == (
        fields["name"].strip(),
        fields["birth_date"],
        fields["community"],
    )
    if not same:
        raise MemberExists(member_id=member.member_id)
    return True


def _rehearse_member(book: BankBook, scratch: BankBook, row: Row) -> None:
    from timebank.bank import SYSTEM

    fields = _member_fields(row)
    if not _registered(book, fields):
        scratch.members.register(
            RegisterMember(**fields), actor=SYSTEM
        )  # an id repeated in the file is refused


def _apply_member(book: BankBook, row: Row) -> str:
    from timebank.bank import SYSTEM

    fields = _member_fields(row)
    if _registered(book, fields):
        return ALREADY
    book.members.register(RegisterMember(**fields), actor=SYSTEM)
    return "registered"


MEMBERS = _ImportKind(
    noun="members",
    required=MEMBER_COLUMNS,
    optional=MEMBER_OPTIONAL,
    rehearse=_rehearse_member,
    apply=_apply_member,
)


# paper service records


def _service_fields(book: BankBook, row: Row, seen: dict[str, int]) -> dict[str, Any]:
    """The row as ``credit_service`` arguments, with a request id derived from its content.

    The id hashes the book, the row's values and how many identical rows came
    before it in the file, so importing a file again (or a longer version of
    it) finds each credit already there instead of crediting it twice.
    """
    fields: dict[str, Any] = {
        "provider_id": _required(row, "provider_id"),
        "recipient_id": _required(row, "recipient_id"),
        "category": _required(row, "category"),
        "raw_minutes": _whole(row, "raw_minutes"),
        "served_at": _moment(row, "served_at", book.bank.zone),
        "note": _text(row.get("note")),
    }
    values = [str(fields[name]) for name in sorted(fields) if name != "served_at"]
    served_at = fields["served_at"].astimezone(UTC).isoformat()
    content = "\x1f".join([book.book_id, *values, served_at])
    seen[content] = seen.get(content, 0) + 1
    digest = hashlib.sha256(f"{content}\x1f{seen[content]}".encode()).hexdigest()
    fields["request_id"] = f"paper-{digest[:40]}"
    return fields


def _credited(book: BankBook, request_id: str) -> bool:
    from timebank.community import CreditNotFound

    try:
        book.credits.get(request_id)
    except CreditNotFound:
        return False
    return True


def _copy_member(book: BankBook, scratch: BankBook, member_id: str) -> None:
    """Register the real book's member in the scratch book, once."""
    from timebank.bank import SYSTEM
    from timebank.community import MemberNotActive, MemberNotFound, MemberStatus

    try:
        scratch.members.get(member_id)
        return
    except MemberNotFound:
        pass
    member = book.members.get(member_id)  # raises MemberNotFound for an unknown id
    if member.status is not MemberStatus.ACTIVE:
        raise MemberNotActive(member_id=member_id, status=member.status.value)
    scratch.members.register(
        RegisterMember(
            member_id=member.member_id,
            name=member.name,
            birth_date=member.birth_date,
            community=member.community,
            grid=member.grid,
            roles=member.roles,
            vetting=member.vetting,
            flags=member.flags,
        ),
        actor=SYSTEM,
    )


def _services() -> _ImportKind:
    from timebank.bank import SYSTEM
    from timebank.community import CreditStatus, Provenance

    # Identical rows seen so far, by content: the checking pass and the applying pass each
    # count from the top of the file, so both derive the same request ids.
    seen: dict[str, int] = {}
    applied: dict[str, int] = {}
    held: list[str] = []  # credit ids, so a coordinator can confirm them (no listing finds them)

    def rehearse(book: BankBook, scratch: BankBook, row: Row) -> None:
        fields = _service_fields(book, row, seen)
        if _credited(book, fields["request_id"]):
            return
        _copy_member(book, scratch, fields["provider_id"])
        _copy_member(book, scratch, fields["recipient_id"])
        # Balances start at zero on the scratch book: the real ones are checked on apply.
        with suppress(LimitExceeded):
            scratch.credits.record(
                CreditService(**fields, provenance=Provenance.PAPER_RECORD), actor=SYSTEM
            )

    def apply(book: BankBook, row: Row) -> str:
        fields = _service_fields(book, row, applied)
        if _credited(book, fields["request_id"]):
            return ALREADY
        credit = book.credits.record(
            CreditService(**fields, provenance=Provenance.PAPER_RECORD), actor=SYSTEM
        )
        if credit.status is CreditStatus.PENDING:
            held.append(credit.credit_id)
            return "held until confirmed"
        return "credited"

    def restart() -> None:
        applied.clear()
        held.clear()

    return _ImportKind(
        noun="service records",
        required=SERVICE_COLUMNS,
        optional=SERVICE_OPTIONAL,
        rehearse=rehearse,
        apply=apply,
        restart=restart,
        pending=lambda: tuple(held),
    )


IMPORT_HELP = """

Reads CSV (UTF-8, with or without a BOM) or XLSX (the first sheet), by the
file's extension; the header row names the columns, and "row N" in a message
is the row as a spreadsheet shows it (the header is row 1).

Every row is first checked against the book's rules on a scratch copy of its
policy (ids, names, dates, categories, minutes, who may serve whom, that members
exist), with nothing written; then all the rows are applied in one database
transaction. A bad row, found in either pass (a rule that depends on live
balances is only met in the second), stops the import with "row N: reason" and
exit code 1, and the book is left exactly as it was: the whole file is imported
or none of it. Running the same file again imports nothing twice: rows already
imported are recognised and skipped.
"""


@main.group("import")
def import_() -> None:
    """Import members or paper service records from CSV or XLSX files."""


@import_.command(
    "members",
    help="Register members from a file."
    + IMPORT_HELP
    + """
Columns: member_id, name, birth_date (YYYY-MM-DD), community, and optionally
grid, roles (volunteer;recipient;coordinator;admin), vetting (pending,
community, street, rejected) and flags (separated by ;). Members are registered
by the system. A member already registered with the same name, birth date and
community is skipped; with different details, the row is refused.""",
)
@DATABASE_OPTION
@BOOK_OPTION
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_members(database: str, book_id: str, file: Path) -> None:
    _import(database, book_id, file, MEMBERS)


@import_.command(
    "services",
    help="Credit paper service records from a file."
    + IMPORT_HELP
    + """
Columns: provider_id, recipient_id, category, raw_minutes, served_at
(YYYY-MM-DD HH:MM, local time unless it has an offset), and optionally note.
Each is credited by the system with provenance paper_record (held until
confirmed if the policy requires confirmation), under a request id derived from
the row's values (and how many identical rows come before it), which is what
makes a re-import credit nothing twice.""",
)
@DATABASE_OPTION
@BOOK_OPTION
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_services(database: str, book_id: str, file: Path) -> None:
    _import(database, book_id, file, _services())


# --- exports and reports ---------------------------------------------------------------------

REPORTS = ("orders", "board", "wishes", "gap", "liability", "inactive", "visits")


@dataclass(frozen=True, kw_only=True)
class _Period:
    months: tuple[str, ...]
    week: date | None
    days: int
    years: int
    community: str | None


def _this_month(book: BankBook) -> str:
    return book.bank.clock.now().astimezone(book.bank.zone).strftime("%Y-%m")


def _report(book: BankBook, name: str, period: _Period) -> Table:
    """The report as its one table layout (``timebank.tables``), the API's downloads' columns."""
    from timebank import tables

    months = sorted(period.months) or [_this_month(book)]
    if name == "orders":
        title = f"orders {months[0]} to {months[-1]}"
        return tables.ORDERS.table(book.reports.orders(months[0], months[-1]), title=title)
    if name == "board":
        board = book.reports.volunteer_board(months[-1])
        return tables.VOLUNTEER_BOARD.table(board, title=f"volunteer board {months[-1]}")
    if name == "wishes":
        adoption = book.reports.wish_adoption(community=period.community)
        return tables.WISH_ADOPTION.table(adoption, title="micro-wishes")
    if name == "gap":
        week = period.week or book.bank.clock.now().astimezone(book.bank.zone).date()
        gap = book.reports.supply_demand_gap(week)
        return tables.SUPPLY_DEMAND_GAP.table(gap, title=f"supply and demand, week of {week}")
    if name == "liability":
        forecast = book.reports.liability_forecast(years=period.years)
        title = f"liability, claims from age {forecast.claim_age}"
        return tables.LIABILITY_FORECAST.table(forecast, title=title)
    if name == "inactive":
        days = period.days
        idle = book.reports.inactive_members(days=days)
        return tables.INACTIVE_MEMBERS.table(idle, title=f"inactive for {days} days")
    assert name == "visits", name
    return tables.VISITS_DUE.table(book.care.due(), title="care-file visits due")


def _period_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = (
        click.option(
            "--month",
            "months",
            multiple=True,
            help="YYYY-MM (repeatable: orders cover the first to the last). Default: this month.",
        ),
        click.option(
            "--week",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            help="A day of the week for the gap report. Default: today.",
        ),
        click.option("--days", default=90, show_default=True, help="Idle days (inactive)."),
        click.option("--years", default=10, show_default=True, help="Forecast years (liability)."),
        click.option("--community", help="One community (wishes)."),
    )
    for option in reversed(options):
        command = option(command)
    return command


def _period(
    months: tuple[str, ...], week: datetime | None, days: int, years: int, community: str | None
) -> _Period:
    day = None if week is None else week.date()
    return _Period(months=months, week=day, days=days, years=years, community=community)


def _write(table: Table, fmt: str, out: Path) -> None:
    from timebank.tables import csv_bytes, xlsx_bytes

    if fmt == "csv":
        data = csv_bytes(table.header, table.rows)
    else:
        data = xlsx_bytes(table.header, table.rows, title=table.title)
    out.write_bytes(data)
    click.echo(f"wrote {out}: {table.title}, {len(table.rows)} rows")


FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
OUT_OPTION = click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)


@main.group()
def export() -> None:
    """Write passbooks and reports as CSV (UTF-8 with a BOM, for Excel) or XLSX."""


@export.command("passbook")
@DATABASE_OPTION
@BOOK_OPTION
@click.option("--member", "member_id", required=True, help="The member whose passbook to write.")
@FORMAT_OPTION
@OUT_OPTION
def export_passbook(database: str, book_id: str, member_id: str, fmt: str, out: Path) -> None:
    """A member's whole passbook (存折), one line per entry."""
    from timebank.community import PassbookEntry
    from timebank.ledger.limits import PAGE_SIZE_MAX
    from timebank.tables import PASSBOOK

    entries: list[PassbookEntry] = []
    with _opened(database) as bank:
        book = bank.book(book_id)
        cursor: str | None = None
        for _ in range(PASSBOOK_PAGES_MAX):
            page = book.statements.passbook(member_id, after=cursor, limit=PAGE_SIZE_MAX)
            entries += page.entries
            cursor = page.next_cursor
            if cursor is None:
                break
    _write(PASSBOOK.table(entries, title=f"passbook {member_id}"), fmt, out)


@export.command("report")
@click.argument("name", type=click.Choice(REPORTS))
@DATABASE_OPTION
@BOOK_OPTION
@_period_options
@FORMAT_OPTION
@OUT_OPTION
def export_report(
    name: str,
    database: str,
    book_id: str,
    months: tuple[str, ...],
    week: datetime | None,
    days: int,
    years: int,
    community: str | None,
    fmt: str,
    out: Path,
) -> None:
    """A report as a file: orders, board, wishes, gap, liability, inactive or visits."""
    with _opened(database) as bank:
        table = _report(bank.book(book_id), name, _period(months, week, days, years, community))
    _write(table, fmt, out)


def _shown(cell: Cell, zone: ZoneInfo) -> str:
    """A cell for the terminal: times in the bank's zone, to the minute; no control characters."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return "".join("\ufffd" if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in str(cell))


@main.command("report")
@click.argument("name", type=click.Choice(REPORTS))
@DATABASE_OPTION
@BOOK_OPTION
@_period_options
def report(
    name: str,
    database: str,
    book_id: str,
    months: tuple[str, ...],
    week: datetime | None,
    days: int,
    years: int,
    community: str | None,
) -> None:
    """Print a report as a table: orders, board, wishes, gap, liability, inactive or visits."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    with _opened(database) as bank:
        table = _report(bank.book(book_id), name, _period(months, week, days, years, community))
        zone = bank.zone
    if not table.header:  # no columns: rich would print nothing at all
        click.echo(f"{table.title}: nothing to report")
        return
    shown = Table(title=table.title)
    for column in table.header:
        shown.add_column(column, overflow="fold")
    for row in table.rows:
        shown.add_row(*(Text(_shown(cell, zone)) for cell in row))  # text, not rich markup
    if not table.rows:
        shown.caption = "nothing to report"
    Console(width=None if sys.stdout.isatty() else 240).print(shown)
