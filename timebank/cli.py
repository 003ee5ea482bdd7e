"""The ``timebank`` command line: a demo, database migrations, and ``verify``.

Every command that touches a database takes ``--database`` (a SQLite file path
or a URL; ``postgresql://`` uses psycopg 3), defaulting to ``$TIMEBANK_DATABASE``
or ``timebank.db`` in the current directory.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta

import click

from timebank.ledger import Ledger, ManualClock

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
        gulou.register_member(
            member_id=member_id,
            name=name,
            birth_date=born,
            community="gulou",
            roles=roles,
            vetting=Vetting.STREET,
            actor=SYSTEM,
        )
    visit = gulou.credit_service(
        provider_id="li-na",
        recipient_id="chen-xiulan",
        category="companionship",
        raw_minutes=90,
        served_at=clock.now() - timedelta(hours=20),
        provenance=Provenance.CHECK_IN_OUT,
        actor="li-na",
    )
    gulou.confirm_credit(visit.credit_id, actor="wang-fang")
    gulou.relate("li-na", "liu-jun", RelationKind.SPOUSE, actor="wang-fang")
    gulou.give(giver_id="li-na", receiver_id="liu-jun", minutes=30, actor="li-na")
    event = gulou.create_event(
        title="重阳节敬老活动", category="community", held_at=clock.now(), actor="wang-fang"
    )
    gulou.credit_event(event.event_id, {"li-na": 120, "liu-jun": 120}, actor="wang-fang")
    # A service order from request to close-out (点单, 派单, 接单, 办结, 销号).
    gulou.request_order(
        recipient_id="chen-xiulan",
        category="meals",
        estimated_minutes=60,
        actor="wang-fang",
        order_id="o-1",
    )
    gulou.dispatch_order("o-1", volunteer_id="liu-jun", actor="wang-fang")
    gulou.accept_order("o-1", volunteer_id="liu-jun", actor="liu-jun")
    gulou.start_order("o-1", actor="liu-jun")
    gulou.complete_order("o-1", actual_minutes=45, actor="liu-jun")
    gulou.confirm_order("o-1", actor="wang-fang")
    gulou.rate_order("o-1", rating=5, comment="饭菜送到 很热情", actor="wang-fang")
    order = gulou.close_order("o-1", follow_up="回访 满意", actor="wang-fang")
    steps = " -> ".join(f"{step.action.value} ({step.actor})" for step in order.history)
    click.echo(f"order o-1, {order.credited_minutes} minutes credited: {steps}")
    month = gulou.order_report("2026-11").total
    click.echo(
        f"2026-11 orders: {month.requested}, processing rate {month.processing_rate.percent}%,"
        f" satisfaction rate {month.satisfaction_rate.percent}%"
    )
    click.echo("passbook of 李娜 (li-na), minutes:")
    for line in gulou.passbook("li-na").entries:
        click.echo(
            f"  {line.kind:<8}{line.delta_minutes:>+6}{line.balance_minutes:>7}"
            f"  {line.counterparty:<18}{line.category or '-':<14}{line.provenance or '-'}"
        )
    for member_id, name, *_ in people[1:]:
        balance = gulou.balance(member_id)
        click.echo(
            f"{name}: own {balance.own_minutes}, gifted {balance.gifted_minutes},"
            f" group {balance.group_minutes}"
        )
    click.echo(f"owed to members: {gulou.liability_minutes()} minutes")
    report = gulou.verify()
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
