"""The ``timebank`` command line: a demo, database migrations, and ``verify``.

Every command that touches a database takes ``--database`` (a SQLite file path
or a URL; ``postgresql://`` uses psycopg 3), defaulting to ``$TIMEBANK_DATABASE``
or ``timebank.db`` in the current directory.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click

from timebank.ledger import Ledger, ManualClock, credit, debit

DATABASE_OPTION = click.option(
    "--database",
    envvar="TIMEBANK_DATABASE",
    default="timebank.db",
    show_default=True,
    help="SQLite file path or database URL.",
)


@click.group()
def main() -> None:
    """timebank: a time-bank ledger of volunteer minutes."""


@main.command()
def demo() -> None:
    """Credit volunteers from a community pool, post a held order, and verify the book."""
    clock = ManualClock(datetime(2026, 11, 1, 9, 0, tzinfo=UTC), tick=timedelta(minutes=1))
    book = Ledger(clock=clock).create_book("sunflower-community")
    book.open_account("pool", balance_minutes_min=None)
    for member in ("wang-fang", "li-jun", "zhang-wei"):
        book.open_account(member)
    book.transfer(
        "event-2026-11-01",
        [debit("pool", 180), credit("wang-fang", 90), credit("li-jun", 90)],
        code="group-event",
    )
    book.hold("order-17", [debit("wang-fang", 60), credit("zhang-wei", 60)])
    book.post_hold("order-17-done", "order-17", amount_minutes=45)
    click.echo(f"{'account':<14}{'posted':>8}{'pending':>9}")
    for account in book.accounts():
        balance = account.balance()
        click.echo(
            f"{account.account_id:<14}{balance.posted_minutes:>8}{balance.pending_minutes:>9}"
        )
    report = book.verify()
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
def verify(database: str, book_ids: tuple[str, ...]) -> None:
    """Recompute every book's hash chain and balances; exit 1 at the first break."""
    from timebank.ledger import LedgerError
    from timebank.store import StoreError, open_store

    try:
        with open_store(database, migrate=False) as store:
            ledger = Ledger(store)
            broken = 0
            for book_id in book_ids or ledger.book_ids():
                report = ledger.book(book_id).verify()
                counts = f"{report.transactions_checked} transactions, {report.accounts_checked}"
                if report.first_break is None:
                    click.echo(f"{book_id}: ok ({counts} accounts)")
                    continue
                broken += 1
                found = report.first_break
                where = ", ".join(
                    f"{name} {value}"
                    for name, value in (
                        ("sequence", found.sequence),
                        ("transaction", found.transaction_id),
                        ("account", found.account_id),
                    )
                    if value is not None
                )
                click.echo(f"{book_id}: BROKEN {found.kind.value} at {where}: {found.detail}")
    except (StoreError, LedgerError) as error:
        raise click.ClickException(str(error)) from error
    if broken:
        sys.exit(1)
