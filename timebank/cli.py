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

import hashlib
import inspect
import os
import re
import secrets
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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

from timebank import sheets
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
    from timebank.i18n import Text
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
ACTOR_ENV = "TIMEBANK_ACTOR"
ACTOR_OPTION = click.option(
    "--actor",
    envvar=ACTOR_ENV,
    required=True,
    metavar="MEMBER_ID",
    help="The coordinator doing this, by their member id in the book: the book records them as "
    "having acted, and they may do only what a coordinator of theirs may. Default: "
    "$TIMEBANK_ACTOR.",
)
SECRET_ENV = "TIMEBANK_TOKEN_SECRET"
IMPORT_ROWS_MAX = 100_000
PASSBOOK_PAGES_MAX = 10_000
DEADLINE_BATCHES_MAX = 1_000
Cell = str | int | Decimal | date | datetime | None


class _Refusal(click.ClickException):
    """A command's refusal, shown with its ``Error:`` in the run's language."""

    def __init__(self, message: str, t: Text) -> None:
        super().__init__(message)
        self.language = t

    def show(self, file: Any = None) -> None:
        click.echo(f"{self.language('Error:')} {self.format_message()}", file=file, err=True)


HELP = "help"
"""The catalogs' context of help texts: a command's docstring, an option's help."""
CLICK = "click"
"""The catalogs' context of click's own usage messages (``Missing option {name}.``)."""
_LANG_SEEN = "timebank.lang"
"""Where the group keeps what ``--lang`` says before its options are parsed."""
_CLOSING = set(",.:;!?)]\uff0c\u3002\u3001\uff1b\uff1a\uff1f\uff01\uff09\u300b\u300d\u201d\u2026")
"""What a line does not start with: commas, full stops, closing brackets (full-width too)."""
_OPENING = set("([\u201c\uff08\u300a\u300c")
"""What a line does not end with: opening brackets and quotes."""


def _language(ctx: click.Context | None) -> Text:
    """The language of the run ``ctx`` belongs to: ``--lang``, ``$TIMEBANK_LANG``, the locale,
    else Chinese."""
    from timebank.i18n import environment_language, text

    chosen = None
    if ctx is not None:
        root = ctx.find_root()
        chosen = root.params.get("lang") or root.meta.get(_LANG_SEEN)
    return text(chosen or environment_language())


def _lang_in(args: Sequence[str]) -> str | None:
    """What ``--lang`` says among the group's own options, read before they are parsed:
    ``--help`` is handled first, and its page is then in the language asked for."""
    from timebank.i18n import LANGUAGES

    for at, arg in enumerate(args):
        if arg == "--lang" and at + 1 < len(args):
            value = args[at + 1]
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        elif arg == "--" or not arg.startswith("-"):
            return None  # the command: its options are its own
        else:
            continue
        return value if value in LANGUAGES else None
    return None


def _width(text: str) -> int:
    """Columns on screen: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """What a line may break between, and whether a space comes before each: words, and
    each Chinese character, with punctuation kept beside what it closes or opens."""
    pieces: list[tuple[str, bool]] = []
    space = False
    for c in text:
        if c.isspace():
            space = bool(pieces)
            continue
        if pieces and not space:
            last, spaced = pieces[-1]
            narrow = _width(c) == 1 and _width(last[-1]) == 1
            if narrow or c in _CLOSING or last[-1] in _OPENING:
                pieces[-1] = (last + c, spaced)
                continue
        pieces.append((c, space))
        space = False
    return pieces


def _filled(text: str, width: int, first: str, rest: str) -> str:
    """A paragraph wrapped to ``width`` columns, its first line after ``first``."""
    lines: list[str] = []
    line, empty = first, True
    for piece, space in _pieces(text):
        joined = f"{line}{' ' if space and not empty else ''}{piece}"
        if not empty and _width(joined) > width:
            lines.append(line)
            line = rest + piece
        else:
            line = joined
        empty = False
    lines.append(line)
    return "\n".join(lines)


def _wrapped(text: str, width: int, first: str = "", rest: str = "") -> str:
    """Click's ``wrap_text`` (paragraphs kept, ``\\b`` ones as they are), by width on screen."""
    paragraphs: list[tuple[int, bool, list[str]]] = []
    for block in re.split(r"\n[ \t]*\n", text.expandtabs()):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        indent = len(lines[0]) - len(lines[0].lstrip())
        raw = lines[0].strip() == "\b"
        body = lines[1:] if raw else [line.strip() for line in lines]
        paragraphs.append((indent, raw, body if raw else [" ".join(body)]))
    shown = []
    for indent, raw, body in paragraphs:
        extra = " " * indent
        if raw:
            shown.append("\n".join((first if at == 0 else rest) + extra + line
                                   for at, line in enumerate(body)))  # fmt: skip
        else:
            shown.append(_filled(body[0], width, first + extra, rest + extra))
    return "\n\n".join(shown)


class _Formatter(click.HelpFormatter):
    """Click's help layout; with ``wide`` (Chinese), text is wrapped by its width on screen,
    where click counts a Chinese character as one column."""

    wide = False

    def write_text(self, text: str) -> None:
        if not self.wide:
            super().write_text(text)
            return
        indent = " " * self.current_indent
        self.write(_wrapped(text, self.width, indent, indent))
        self.write("\n")

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        rows = list(rows)
        if not self.wide:
            super().write_dl(rows, col_max, col_spacing)
            return
        first_col = min(max((_width(first) for first, _ in rows), default=0), col_max)
        first_col += col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if _width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - _width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = _wrapped(second, max(self.width - first_col - 2, 10)).splitlines()
            self.write(f"{lines[0]}\n" if lines else "\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class _Context(click.Context):
    formatter_class = _Formatter

    def make_formatter(self) -> click.HelpFormatter:
        formatter = super().make_formatter()
        if isinstance(formatter, _Formatter):
            formatter.wide = _language(self).lang == "zh"
        return formatter


def _translated_help(t: Text, english: str | None) -> str | None:
    """A command's help in ``t``'s language (its English is the msgid), or None."""
    if not english:
        return None
    return t.translation(HELP, inspect.cleandoc(english).partition("\f")[0])


def _clipped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` columns on screen, ending in ``...`` when cut."""
    if _width(text) <= limit:
        return text
    kept = ""
    for c in text:
        if _width(kept + c) > limit - 3:
            break
        kept += c
    return kept.rstrip("\uff0c\u3001\uff1b\uff1a,;: ") + "..."


def _short_help(command: click.Command, t: Text, limit: int) -> str:
    """A command's line in its group's list: the first sentence of its translated help."""
    english = command.get_short_help_str(limit)
    if t.lang == "en":
        return english
    if command.short_help:
        return _translated_help(t, command.short_help) or english
    translated = _translated_help(t, command.help)
    if translated is None:
        return english
    first = translated.split("\n\n")[0].replace("\n", "")
    sentence, stop, _ = first.partition("。")
    return _clipped(sentence + stop, limit)


def _help_record(param: click.Parameter, ctx: click.Context, t: Text) -> tuple[str, str] | None:
    """An option's line: click's own in English; in another language, its help translated."""
    record = param.get_help_record(ctx)
    if record is None or t.lang == "en" or not isinstance(param, click.Option):
        return record
    shown = (t.translation(HELP, param.help) or param.help) if param.help else ""
    extra = param.get_help_extra(ctx)
    items = []
    if "envvars" in extra:
        items.append(t("env var: {var}", var=", ".join(extra["envvars"])))
    if "default" in extra:
        items.append(t("default: {default}", default=extra["default"]))
    if "range" in extra:
        items.append(extra["range"])
    if "required" in extra:
        items.append(t("required"))
    if items:
        joined = "; ".join(items)
        shown = f"{shown}  [{joined}]" if shown else f"[{joined}]"
    return record[0], shown


class _Translated(click.Command):
    """Help in the run's language, translated as it is formatted: a docstring or an
    option's help is its own msgid under ``help``, and shows in English where the
    catalog has no translation; click's headings and usage prefix are msgids too."""

    context_class = _Context

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        t = _language(ctx)
        pieces = [t.pgettext("usage", piece) for piece in self.collect_usage_pieces(ctx)]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=t("Usage:") + " ")

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        translated = _translated_help(_language(ctx), self.help)
        if translated is None or self.deprecated:
            super().format_help_text(ctx, formatter)
            return
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(translated)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        t = _language(ctx)
        records = []
        for param in self.get_params(ctx):
            record = _help_record(param, ctx, t)
            if record is not None and not isinstance(param, click.Argument):
                records.append(record)
        if records:
            with formatter.section(t("Options")):
                formatter.write_dl(records)


class _Command(_Translated):
    """A ``timebank`` command: its help in the run's language."""


class _Group(_Translated, click.Group):
    """A group of ``timebank`` commands (``db``, ``import``, ``export``): its help, and its
    list of commands, in the run's language."""

    command_class = _Command
    group_class: type[click.Group] | type[type] | None = type  # its groups are _Groups

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        t = _language(ctx)
        commands = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                commands.append((name, command))
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        rows = [(name, _short_help(command, t, limit)) for name, command in commands]
        with formatter.section(t("Commands")):
            formatter.write_dl(rows)


def _usage_message(error: click.UsageError, t: Text) -> str:
    """Click's message in ``t``'s language where the catalog has its template, else click's."""
    english = error.format_message()
    if t.lang == "en":
        return english
    if isinstance(error, click.BadParameter) and not isinstance(error, click.MissingParameter):
        said = t.phrase(CLICK, error.message)
        prefix, suffix = "Invalid value for ", f": {error.message}"
        if english.startswith(prefix) and english.endswith(suffix):
            name = english[len(prefix) : -len(suffix)]
            return t("Invalid value for {name}: {message}", name=name, message=said)
        return t("Invalid value: {message}", message=said)
    possibilities = getattr(error, "possibilities", None)
    if possibilities:  # no such option or command, and the ones meant, maybe
        named = ", ".join(repr(p) for p in sorted(possibilities))
        if len(possibilities) == 1:
            meant = t("Did you mean {possibility}?", possibility=named)
        else:
            meant = t("(Did you mean one of: {possibilities}?)", possibilities=named)
        said = t.phrase(CLICK, error.message)
        return f"{said}{'' if _width(said[-1:]) == 2 else ' '}{meant}"
    return t.phrase(CLICK, english)


class _UsageError(click.UsageError):
    """Click's usage error in the run's language: the usage line, the hint, ``Error:``."""

    def __init__(self, error: click.UsageError, t: Text) -> None:
        super().__init__(_usage_message(error, t), error.ctx)
        self.language = t

    def show(self, file: Any = None) -> None:
        t, ctx = self.language, self.ctx
        if ctx is not None:
            hint = ""
            if ctx.command.get_help_option(ctx) is not None:
                option = max(ctx.command.get_help_option_names(ctx), key=len)
                said = t("Try '{command} {option}' for help.", command=ctx.command_path,
                         option=option)  # fmt: skip
                hint = f"{said}\n"
            click.echo(f"{ctx.get_usage()}\n{hint}", file=file, err=True, color=ctx.color)
        color = ctx.color if ctx is not None else None
        click.echo(f"{t('Error:')} {self.format_message()}", file=file, err=True, color=color)


def _said_usage(error: click.UsageError, t: Text) -> click.UsageError:
    """A usage error click shows its usual way, to be shown in ``t``'s language."""
    if isinstance(error, _UsageError) or type(error).show is not click.UsageError.show:
        return error  # said already, or shown its own way (no arguments: the help)
    return _UsageError(error, t)


class _Main(_Group):
    """The ``timebank`` group: usage errors, and a command's refusal, say ``Error:`` in
    the run's language."""

    group_class = _Group

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:  # the group's own options
            from timebank.i18n import environment_language, text

            found = _lang_in(args) or environment_language()
            t = _language(error.ctx) if error.ctx is not None else text(found)
            raise _said_usage(error, t) from error

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_LANG_SEEN] = _lang_in(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:  # with its usage line
            raise _said_usage(error, _language(error.ctx or ctx)) from error
        except click.ClickException as error:
            raise _Refusal(error.format_message(), _language(ctx)) from error


@click.group(cls=_Main)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    help="Language of what is printed and written: zh (简体中文) or en. "
    "Default: $TIMEBANK_LANG, then the locale ($LANG), else zh.",
)
def main(lang: str | None) -> None:
    """timebank: a time-bank ledger of volunteer minutes."""


def _t() -> Text:
    """The language of this run: ``--lang``, ``$TIMEBANK_LANG``, the locale, else Chinese."""
    return _language(click.get_current_context(silent=True))


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
        raise click.ClickException(_said(error)) from error


def _said(error: Exception) -> str:
    """An error in the run's language: a broken rule's sentence is built from its data."""
    if isinstance(error, LedgerError):
        return _t().detail(error.code, error.template, error.to_dict())
    return str(error)


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
    t = _t()
    steps = " -> ".join(
        f"{t.name('action', step.action.value)} ({step.actor})" for step in order.history
    )
    credited = t.minutes(order.credited_minutes or 0)
    click.echo(t("Order o-1, {minutes} credited: {steps}", minutes=credited, steps=steps))
    month = gulou.reports.orders("2026-11").total
    said = (
        "{month} orders: {count}, processing rate {processing}%, satisfaction rate {satisfaction}%"
    )
    click.echo(
        t(
            said,
            month="2026-11",
            count=month.requested,
            processing=month.processing_rate.percent,
            satisfaction=month.satisfaction_rate.percent,
        )
    )
    click.echo(t("Passbook of {name} ({member}):", name="李娜", member="li-na"))
    for line in gulou.statements.passbook("li-na").entries:
        kind = t.name("kind", line.kind)
        category = t.name("category", line.category) if line.category else "-"
        provenance = t.name("provenance", line.provenance) if line.provenance else "-"
        click.echo(
            f"  {kind:<8}{line.delta_minutes:>+6}{line.balance_minutes:>7}"
            f"  {line.counterparty:<18}{category:<14}{provenance}"
        )
    for member_id, name, *_ in people[1:]:
        balance = gulou.statements.balance(member_id)
        click.echo(
            t(
                "{name}: own {own}, gifted {gifted}, group {group}",
                name=name,
                own=t.minutes(balance.own_minutes),
                gifted=t.minutes(balance.gifted_minutes),
                group=t.minutes(balance.group_minutes),
            )
        )
    owed = t.minutes(gulou.statements.liability())
    click.echo(t("Owed to members: {minutes}", minutes=owed))
    report = gulou.statements.verify()
    click.echo(
        t(
            "verify: {outcome}, {transactions} transactions, {accounts} accounts",
            outcome=t("ok") if report.ok else str(report.first_break),
            transactions=report.transactions_checked,
            accounts=report.accounts_checked,
        )
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
        raise click.ClickException(_said(error)) from error
    click.echo(_t()("Database {database} is up to date", database=database))


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
        raise click.ClickException(_said(error)) from error
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
    t = _t()
    # A books row whose id was overwritten with a number or bytes names no book;
    # the book it was is listed among the stray ids instead.
    ids = (*ledger.book_ids(), *store.stray_book_ids())
    known = {book_id for book_id in ids if isinstance(book_id, str)}
    broken = 0
    for book_id in book_ids or sorted(known):
        if book_id not in known:
            raise BookNotFound(book_id=book_id)
        report = Book(store, ledger.clock, book_id).verify(since_checkpoint=since_checkpoint)
        if report.first_break is None:
            line = t(
                "{book}: ok ({transactions} transactions, {accounts} accounts)",
                book=book_id,
                transactions=report.transactions_checked,
                accounts=report.accounts_checked,
            )
            click.echo(_printable(line))
            continue
        broken += 1
        found = report.first_break
        # English keeps the codes (a script may look for them); other languages name them.
        english = t.lang == "en"
        where = ", ".join(
            f"{name if english else t.name('column', key)} {value}"
            for name, key, value in (
                ("account", "account_id", found.account_id),
                ("transaction", "transaction_id", found.transaction_id),
                ("sequence", "sequence", found.sequence),
                ("table", "table", found.table),
            )
            if value is not None
        )
        line = t(
            "{book}: BROKEN {kind} at {where}: {detail}",
            book=book_id,
            kind=found.kind.value if english else t.name("break", found.kind.value),
            where=where,
            detail=found.detail,
        )
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
            click.echo(_t()("PostgreSQL keeps its own backups; run, with the server's tools:"))
            for line in postgres_backup_steps(database, str(out)):
                click.echo(f"  {line}")
            return
        written = backup_sqlite(database, out)  # refuses a path with no timebank database
        click.echo(_t()("Backup written to {path}; verifying the copy:", path=written))
        with open_store(written, migrate=False, create=False) as store:
            broken = _verify_books(store, (), since_checkpoint=False)
        seal_sqlite(written)
    except (FileExistsError, StoreError, LedgerError, StoredRowInvalid, ValueError) as error:
        raise click.ClickException(_said(error)) from error
    if broken:
        message = "The copy in {path} did not verify; keep the original"
        raise click.ClickException(_t()(message, path=written))
    click.echo(_t()("Backup {path} is complete and verified", path=written))


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
        t = _t()
        click.echo(t("timebank API on {base} over {database}", base=base, database=database))
        click.echo(t("  docs: {docs}   OpenAPI: {openapi}", docs=f"{base}/schema/docs",
                     openapi=f"{base}/schema/openapi.json"))  # fmt: skip
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
        click.echo(_t()("Book '{book}' exists: not seeding it again", book=DEMO_BOOK))
        return demo_people()
    people = seed_demo(bank)
    report = bank.book(DEMO_BOOK).statements.verify()
    message = (
        "Seeded book '{book}': {transactions} transactions, verify ok"
        if report.ok
        else "Seeded book '{book}': {transactions} transactions, verify BROKEN"
    )
    click.echo(_t()(message, book=DEMO_BOOK, transactions=report.transactions_checked))
    return people


def _hours(settings: ApiSettings) -> str:
    return f"{settings.token_lifetime.total_seconds() / 3600:g} h"


def _print_secret_advice(settings: ApiSettings, base: str) -> None:
    from timebank.api import issue_token

    lifetime = settings.token_lifetime
    token = issue_token(
        settings.token_secret, subject="admin", role="admin", book="*", lifetime=lifetime
    )
    t = _t()
    click.echo(
        "\n"
        + t(
            "{name} is not set: tokens are signed with a random secret that dies with"
            " this process.",
            name=SECRET_ENV,
        )
    )
    lasting = "timebank token --book B --subject S --role R"
    click.echo(t("  an admin token for every book ({hours}): {token}", hours=_hours(settings),
                 token=token))  # fmt: skip
    click.echo(t("  for lasting tokens, set {name} (32+ characters) and run `{command}`.",
                 name=SECRET_ENV, command=lasting))  # fmt: skip
    click.echo(t("  try: {command}", command=f"curl -H 'Authorization: Bearer <token>' "
                 f"{base}/health"))  # fmt: skip


def _print_demo_tokens(settings: ApiSettings, people: DemoPeople, base: str) -> None:
    from timebank.api import issue_token

    book = people.book_id
    rows = (
        ("admin", "admin", "admin"),
        ("coordinator", people.coordinator_id, "coordinator"),
        ("senior", people.senior_id, "member"),
        ("senior's proxy", people.proxy_id, "member"),
    )
    t = _t()
    click.echo("\n" + t("Demo bearer tokens for book '{book}' ({hours}):", book=book,
                          hours=_hours(settings)))  # fmt: skip
    for label, subject, role in rows:
        token = issue_token(
            settings.token_secret,
            subject=subject,
            role=role,
            book=book,
            lifetime=settings.token_lifetime,
        )
        click.echo(f"  {t.name('token', label)} ({subject}): {token}")
    completed = people.orders["completed"]
    balance = f"{base}/books/{book}/members/{people.senior_id}/balance"
    click.echo("\n" + t("try: {command}", command=f"curl -H 'Authorization: Bearer "
                         f"<senior token>' {balance}"))  # fmt: skip
    click.echo(
        t(
            "  order {order} is completed and awaits confirmation by the coordinator or"
            " the senior's proxy; docs: {docs}",
            order=completed,
            docs=f"{base}/schema/docs",
        )
        + "\n"
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
@click.option(
    "--actor",
    metavar="MEMBER_ID",
    help="An administrator running this by hand, by their member id (recorded as having "
    "acted). Without it (and $TIMEBANK_ACTOR is not read here) the run is the scheduler's, "
    "recorded as system.",
)
def run_deadlines(database: str, book_id: str, actor: str | None) -> None:
    """Escalate overdue orders, expire stale ones and remind volunteers, once (for cron)."""
    from timebank.bank import SYSTEM

    escalated: list[str] = []
    expired: list[str] = []
    reminded: list[str] = []
    with _opened(database) as bank:
        book = bank.book(book_id)
        acting = SYSTEM if actor is None else _coordinator(book, actor, everywhere=True)
        for _ in range(DEADLINE_BATCHES_MAX):
            run = book.orders.run_deadlines(RunDeadlines(), actor=acting)
            escalated += run.escalated
            expired += run.expired
            reminded += run.reminded
            if not run.more:
                break
    t = _t()
    for label, ids in (("escalated", escalated), ("expired", expired), ("reminded", reminded)):
        named = t.name("deadline", label)
        click.echo(f"{named}: {len(ids)}" + (f" ({', '.join(ids)})" if ids else ""))


def _coordinator(book: BankBook, actor: str, *, everywhere: bool = False) -> str:
    """``actor`` (``--actor``), once the book holds them as an active coordinator (with
    ``everywhere``: an administrator); what they may do is then the book's to check."""
    from timebank.bank import SYSTEM
    from timebank.community import MemberNotFound, MemberStatus, RecordIdInvalid, Role

    t, book_id = _t(), book.book_id
    if actor == SYSTEM:
        said = t(
            "--actor names the coordinator doing this, by their member id, not '{actor}'",
            actor=actor,
        )
        raise click.ClickException(said)
    try:
        member = book.members.get(actor)
    except (MemberNotFound, RecordIdInvalid):
        said = t("--actor '{actor}': book '{book}' has no such member", actor=actor, book=book_id)
        raise click.ClickException(said) from None
    if member.status is not MemberStatus.ACTIVE:
        status = t.name("status", member.status.value)
        said = t(
            "--actor '{actor}': the member is {status}, not active", actor=actor, status=status
        )
        raise click.ClickException(said)
    if everywhere and Role.ADMIN not in member.roles:
        said = t(
            "--actor '{actor}': the member is not an administrator of book '{book}'",
            actor=actor,
            book=book_id,
        )
        raise click.ClickException(said)
    if not member.roles & {Role.COORDINATOR, Role.ADMIN}:
        said = t(
            "--actor '{actor}': the member is not a coordinator of book '{book}'",
            actor=actor,
            book=book_id,
        )
        raise click.ClickException(said)
    return actor


# --- imports ---------------------------------------------------------------------------------

ALREADY = "already there"
OUTCOMES = {
    "registered": "{count} registered",
    ALREADY: "{count} already there",
    "held until confirmed": "{count} held until confirmed",
    "credited": "{count} credited",
}
"""What applying a row did, and how the line after an import counts it."""
VETTING_NAMES = {"社区审核": "community", "街道审核": "street"}
"""Chinese names of vetting levels accepted beside the catalog's (``社区已审核``)."""


class RowRefused(click.ClickException):
    """A file or a row of it was refused: ``row N: reason``, in the run's language; exit 1."""

    def __init__(self, row: int, message: str) -> None:
        self.row = row
        super().__init__(message)


def _quoted(t: Text, name: str) -> str:
    return f"“{name}”" if t.lang == "zh" else repr(name)


def _column_named(t: Text, columns: sheets.Columns, column: str) -> str:
    """A column as a message names it: ``'birth_date'``, or ``“出生日期” (birth_date)``."""
    chinese = columns.aliases.get(column, ())
    if t.lang == "zh" and chinese:
        return f"“{chinese[0]}” ({column})"
    return _quoted(t, column)


def _sheet_message(error: sheets.SheetError) -> str:
    """What was wrong with the file, a row or a cell, in the run's language."""
    t = _t()
    fields = error.fields()
    if isinstance(error, sheets.HeaderInvalid):
        columns = error.columns
        problems = [t("unknown column {name}", name=_quoted(t, name)) for name in error.unknown]
        problems += [
            t("missing column {name}", name=_column_named(t, columns, name))
            for name in error.missing
        ]
        problems += [
            t("column {name} is repeated", name=_quoted(t, name)) for name in error.repeated
        ]
        if t.lang == "zh":
            known = (
                f"{columns.aliases[c][0]} ({c})" if c in columns.aliases else c
                for c in columns.known
            )
            fields.update(problems="\uff1b".join(problems), columns="、".join(known))
        else:
            fields.update(problems="; ".join(problems))
    elif isinstance(error, sheets.CellInvalid):
        fields["expected"] = t.phrase("expected", error.expected)
    return t.detail(error.code, error.template, fields)


def _refused(error: sheets.SheetError) -> click.ClickException:
    if isinstance(error, sheets.RowError):
        return RowRefused(error.row, _sheet_message(error))
    return click.ClickException(_sheet_message(error))


def _records(path: Path, columns: sheets.Columns) -> Iterator[sheets.Record]:
    """The file's data rows (``timebank.sheets``); a bad file or row is refused as ``row N``."""
    try:
        yield from sheets.read(path, columns, max_rows=IMPORT_ROWS_MAX)
    except sheets.SheetError as error:
        raise _refused(error) from error


@dataclass(frozen=True, kw_only=True)
class _ImportKind:
    """What one kind of import reads, checks without writing, and applies."""

    noun: str
    columns: sheets.Columns
    rehearse: Callable[[BankBook, BankBook, sheets.Record], None]
    """Check a row against the real book and the rules, writing only to a scratch book."""
    apply: Callable[[BankBook, sheets.Record], str]
    """Apply a row to the real book; says what happened (one of ``OUTCOMES``)."""
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


def _import(database: str, book_id: str, path: Path, kind: _ImportKind, actor: str) -> None:
    """Check every row (nothing is written), then apply them in order, as ``actor``."""
    t = _t()
    with _opened(database) as bank:
        book = bank.book(book_id)
        scratch = _scratch_book(book)
        _copy_member(book, scratch, _coordinator(book, actor))  # the rehearsal acts as them too
        rows = 0
        outcomes: Counter[str] = Counter()
        checked = _stamp(path)
        with _progress() as progress:
            task = progress.add_task(t("checking {file}", file=path.name), total=None)
            for record in _records(path, kind.columns):
                _refusing(record.number, partial(kind.rehearse, book, scratch, record))
                rows += 1
                progress.advance(task)
            if _stamp(path) != checked:
                message = t("{file} changed while it was checked: nothing imported", file=path)
                raise click.ClickException(message)
            task = progress.add_task(t("importing {file}", file=path.name), total=rows)

            def apply_all() -> None:
                # The store runs this again, from the top, after a transient failure.
                outcomes.clear()
                kind.restart()
                for record in _records(path, kind.columns):
                    outcomes[_refusing(record.number, partial(kind.apply, book, record))] += 1
                    progress.advance(task)

            book.atomic(apply_all)
    counts = ("\uff0c" if t.lang == "zh" else ", ").join(
        t(OUTCOMES[outcome], count=count) for outcome, count in sorted(outcomes.items())
    )
    noun = t.pgettext("import", kind.noun)
    counts = counts or t.pgettext("import", "none")
    summary = t(
        "{file}: {rows} rows checked; {noun}: {counts}",
        file=path.name,
        rows=rows,
        noun=noun,
        counts=counts,
    )
    click.echo(summary)
    for pending_id in kind.pending():
        click.echo("  " + t("held until confirmed: {credit_id}", credit_id=pending_id))


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def _refusing(number: int, call: Callable[[], T]) -> T:
    """Run ``call`` for a row; a broken rule or a bad cell becomes ``row N: reason``."""
    try:
        return call()
    except sheets.SheetError as error:
        raise _refused(error) from error
    except LedgerError as error:
        reason = _said(error)
        raise RowRefused(number, _t()("row {row}: {reason}", row=number, reason=reason)) from error


def _scratch_book(book: BankBook) -> BankBook:
    """An empty in-memory book under the same policy, to rehearse an import on."""
    from timebank.bank import TimeBank

    bank = TimeBank(clock=book.bank.clock, timezone=book.zone.key)
    return bank.create_book(book.book_id, book.programme.policy().rules)


# members


def _named(codes: Iterable[T], context: str) -> dict[str, T]:
    """Codes (a ``StrEnum``) by their value (``volunteer``) and Chinese name (``志愿者``)."""
    from timebank.i18n import text

    zh = text("zh")
    named: dict[str, T] = {}
    for code in codes:
        named[str(code)] = code
        chinese = zh.translation(context, str(code))
        if chinese:
            named[chinese.lower()] = code
    return named


def _one_of(context: str, codes: Iterable[object]) -> str:
    """What a coded column expects: ``one of: a, b``; in Chinese, with the codes' names."""
    t = _t()
    if t.lang == "zh":
        names = "、".join(f"{code} ({t.name(context, str(code))})" for code in codes)
    else:
        names = ", ".join(map(str, codes))
    return f"one of: {names}"


def _member_fields(record: sheets.Record) -> dict[str, Any]:
    """The row as ``RegisterMember`` arguments, its cells read in the columns' order."""
    from timebank.community import Role, Vetting

    fields: dict[str, Any] = {
        "member_id": record.required("member_id"),
        "name": record.required("name"),
        "birth_date": record.day("birth_date"),
        "community": record.required("community"),
        "grid": record.text("grid"),
        "roles": frozenset(record.choices("roles", _named(Role, "role"), _one_of("role", Role))),
    }
    vettings = _named(Vetting, "vetting")
    vettings.update({name: Vetting(code) for name, code in VETTING_NAMES.items()})
    vetting = record.choices("vetting", vettings, _one_of("vetting", Vetting))
    if len(vetting) > 1:
        raise record.invalid("vetting", record.text("vetting"), "one level of vetting")
    fields["vetting"] = vetting[0] if vetting else Vetting.PENDING
    fields["flags"] = frozenset(record.items("flags"))
    return fields


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


def _rehearse_member(
    book: BankBook, scratch: BankBook, record: sheets.Record, *, actor: str
) -> None:
    fields = _member_fields(record)
    if not _registered(book, fields):
        scratch.members.register(
            RegisterMember(**fields), actor=actor
        )  # an id repeated in the file is refused


def _apply_member(book: BankBook, record: sheets.Record, *, actor: str) -> str:
    fields = _member_fields(record)
    if _registered(book, fields):
        return ALREADY
    book.members.register(RegisterMember(**fields), actor=actor)
    return "registered"


def _members(actor: str) -> _ImportKind:
    return _ImportKind(
        noun="members",
        columns=sheets.MEMBER_COLUMNS,
        rehearse=partial(_rehearse_member, actor=actor),
        apply=partial(_apply_member, actor=actor),
    )


# paper service records


def _category(named: str) -> str:
    """A category as the sheet names it: its code, or its name in Chinese or English."""
    from timebank.i18n import code_named

    return code_named("category", named) or named


def _service_fields(book: BankBook, record: sheets.Record, seen: dict[str, int]) -> dict[str, Any]:
    """The row as ``credit_service`` arguments, with a request id derived from its content.

    The id hashes the book, the row's values and how many identical rows came
    before it in the file, so importing a file again (or a longer version of
    it) finds each credit already there instead of crediting it twice.
    """
    fields: dict[str, Any] = {
        "provider_id": record.required("provider_id"),
        "recipient_id": record.required("recipient_id"),
        "category": _category(record.required("category")),
        "raw_minutes": record.whole("raw_minutes"),
        "served_at": record.moment("served_at", book.zone),
        "note": record.text("note"),
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
            coordinates=member.coordinates,
        ),
        actor=SYSTEM,
    )


def _services(actor: str) -> _ImportKind:
    from timebank.community import CreditStatus, Provenance

    # Identical rows seen so far, by content: the checking pass and the applying pass each
    # count from the top of the file, so both derive the same request ids.
    seen: dict[str, int] = {}
    applied: dict[str, int] = {}
    held: list[str] = []  # credit ids, so a coordinator can confirm them (no listing finds them)

    def rehearse(book: BankBook, scratch: BankBook, record: sheets.Record) -> None:
        fields = _service_fields(book, record, seen)
        if _credited(book, fields["request_id"]):
            return
        _copy_member(book, scratch, fields["provider_id"])
        _copy_member(book, scratch, fields["recipient_id"])
        # Balances start at zero on the scratch book: the real ones are checked on apply.
        with suppress(LimitExceeded):
            scratch.credits.record(
                CreditService(**fields, provenance=Provenance.PAPER_RECORD), actor=actor
            )

    def apply(book: BankBook, record: sheets.Record) -> str:
        fields = _service_fields(book, record, applied)
        if _credited(book, fields["request_id"]):
            return ALREADY
        credit = book.credits.record(
            CreditService(**fields, provenance=Provenance.PAPER_RECORD), actor=actor
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
        columns=sheets.SERVICE_COLUMNS,
        rehearse=rehearse,
        apply=apply,
        restart=restart,
        pending=lambda: tuple(held),
    )


IMPORT_HELP = """

Reads the first sheet of an XLSX file, or a CSV file (comma-separated, or
tab-separated when the header has tabs and no commas) in UTF-8 (with or without
a BOM), UTF-16 with a BOM, or GB18030 (GBK): what Excel saves as "CSV UTF-8",
as plain "CSV" on Chinese Windows, or as "Unicode text" (.txt). The encoding is
found by decoding the whole file (UTF-8 first); a file that is none of these is
refused. The header row names the columns, in English or in Chinese (below);
"row N" in a message is the row as a spreadsheet shows it (the header is row 1),
and the column is named as the header wrote it.

Cells are read as people type them: full-width letters, digits and spaces
(and the ideographic space) are read as ASCII, spaces around a value are
dropped, and names and notes keep their Chinese punctuation. Dates are date
cells or text such as 1962-04-05, 1962/4/5, 1962-4-5, 1962.4.5 or 1962年4月5日;
a time follows the date after a space (2026/11/30 14:00, 2026-11-30 14:00:00),
or ISO 8601 with an offset (2026-11-30T14:00+08:00). A number where a date
belongs (a spreadsheet's day number) is refused: format the column as a date.

Every row is first checked against the book's rules on a scratch copy of its
policy (ids, names, dates, categories, minutes, who may serve whom, that members
exist), with nothing written; then all the rows are applied in one database
transaction. A bad row, found in either pass (a rule that depends on live
balances is only met in the second), stops the import with "row N: reason" and
exit code 1, and the book is left exactly as it was: the whole file is imported
or none of it. Running the same file again imports nothing twice: rows already
imported are recognised and skipped. Messages are in the language of --lang.
"""


def _columns_help(columns: sheets.Columns, notes: Mapping[str, str]) -> str:
    """The columns and the Chinese headings each may have instead, one a line."""
    lines = ["\b", "Columns (* required; other headings accepted):"]
    for column in columns.known:
        star = "*" if column in columns.required else " "
        other = ", ".join(columns.aliases.get(column, ()))
        lines.append(f"  {star} {column}: {other}{notes.get(column, '')}")
    return "\n\n" + "\n".join(lines)


@main.group("import")
def import_() -> None:
    """Import members or paper service records from XLSX or CSV files."""


@import_.command(
    "members",
    help="Register members from a file."
    + IMPORT_HELP
    + _columns_help(
        sheets.MEMBER_COLUMNS,
        {
            "birth_date": " (a date)",
            "roles": " (volunteer, recipient, coordinator, admin, or 志愿者, 服务对象...)",
            "vetting": " (pending, community, street, rejected, or 待审核, 社区审核, 街道审核...)",
        },
    )
    + """

Roles and flags take several values, separated by ; (or its full-width form), a comma or 、.
Members are registered by the coordinator --actor names (only an administrator
appoints coordinators). A member already registered with the same name, birth
date and community is skipped; with different details, the row is refused.""",
)
@DATABASE_OPTION
@BOOK_OPTION
@ACTOR_OPTION
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_members(database: str, book_id: str, actor: str, file: Path) -> None:
    _import(database, book_id, file, _members(actor), actor)


@import_.command(
    "services",
    help="Credit paper service records from a file."
    + IMPORT_HELP
    + _columns_help(
        sheets.SERVICE_COLUMNS,
        {
            "raw_minutes": " (whole minutes: 90, 90.0, 1,200, 90分钟)",
            "served_at": " (local time unless it has an offset)",
        },
    )
    + """

Each row is credited by the coordinator --actor names with provenance
paper_record (held until confirmed if the policy requires confirmation), under
a request id derived from the row's values (and how many identical rows come
before it), which is what makes a re-import credit nothing twice.""",
)
@DATABASE_OPTION
@BOOK_OPTION
@ACTOR_OPTION
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_services(database: str, book_id: str, actor: str, file: Path) -> None:
    _import(database, book_id, file, _services(actor), actor)


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
    return book.bank.clock.now().astimezone(book.zone).strftime("%Y-%m")


def _report(book: BankBook, name: str, period: _Period) -> Table:
    """The report as a person reads it (``Layout.human``), with the API downloads' columns."""
    from timebank import tables

    t, zone = _t(), book.zone
    months = sorted(period.months) or [_this_month(book)]
    if name == "orders":
        title = t("Orders, {first} to {last}", first=months[0], last=months[-1])
        report = book.reports.orders(months[0], months[-1])
        return tables.ORDERS.human(report, t, zone, title=title)
    if name == "board":
        board = book.reports.volunteer_board(months[-1])
        title = t("Volunteer board, {month}", month=months[-1])
        return tables.VOLUNTEER_BOARD.human(board, t, zone, title=title)
    if name == "wishes":
        adoption = book.reports.wish_adoption(community=period.community)
        return tables.WISH_ADOPTION.human(adoption, t, zone, title=t("Micro-wishes"))
    if name == "gap":
        week = period.week or book.bank.clock.now().astimezone(zone).date()
        gap = book.reports.supply_demand_gap(week)
        title = t("Supply and demand, the week of {day}", day=week.isoformat())
        return tables.SUPPLY_DEMAND_GAP.human(gap, t, zone, title=title)
    if name == "liability":
        forecast = book.reports.liability_forecast(years=period.years)
        title = t("Liability, claims from age {age}", age=forecast.claim_age)
        return tables.LIABILITY_FORECAST.human(forecast, t, zone, title=title)
    if name == "inactive":
        idle = book.reports.inactive_members(days=period.days)
        title = t("Members inactive for {days} days", days=period.days)
        return tables.INACTIVE_MEMBERS.human(idle, t, zone, title=title)
    assert name == "visits", name
    return tables.VISITS_DUE.human(book.care.due(), t, zone, title=t("Care-file visits due"))


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
        data = xlsx_bytes(table.header, table.rows, title=table.title, notes=table.notes)
    out.write_bytes(data)
    rows = len(table.rows)
    click.echo(_t()("Wrote {path}: {title}, {rows} rows", path=out, title=table.title, rows=rows))


FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
OUT_OPTION = click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)


@main.group()
def export() -> None:
    """Write passbooks and reports as CSV (UTF-8 with a BOM, for Excel) or XLSX."""


DAY = click.DateTime(formats=["%Y-%m-%d"])


@export.command("passbook")
@DATABASE_OPTION
@BOOK_OPTION
@click.option("--member", "member_id", required=True, help="The member whose passbook to write.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "html"]),
    default="csv",
    show_default=True,
    help="html: an A4 page to print from a browser.",
)
@click.option("--from", "since", type=DAY, help="First service day, YYYY-MM-DD (book's zone).")
@click.option("--to", "until", type=DAY, help="Last service day, YYYY-MM-DD, included.")
@click.option(
    "--ledger",
    is_flag=True,
    help="The ledger's own lines instead (account ids, transaction ids, recording times), one "
    "per entry in ledger order, to reconcile with the journal (csv or xlsx).",
)
@OUT_OPTION
def export_passbook(
    database: str,
    book_id: str,
    member_id: str,
    fmt: str,
    since: datetime | None,
    until: datetime | None,
    ledger: bool,
    out: Path,
) -> None:
    """A member's passbook (存折) as a person reads it, in the run's language.

    Names instead of ids, what happened in words, service dates in the book's time
    zone, hours and minutes, and the balance after each line, in order of service
    date. CSV and XLSX also give the minutes as numbers.
    """
    if ledger:
        _export_ledger_passbook(database, book_id, member_id, fmt, out)
        return
    from timebank import printing

    t = _t()
    with _opened(database) as bank:
        passbook = bank.book(book_id).statements.printable(
            member_id,
            since=None if since is None else since.date(),
            until=None if until is None else until.date(),
        )
    write = {
        "csv": printing.write_passbook_csv,
        "xlsx": printing.write_passbook_xlsx,
        "html": printing.write_passbook_html,
    }[fmt]
    with out.open("wb") as file:
        write(passbook, t, file)
    title = printing.passbook_title(passbook, t)
    click.echo(t("Wrote {path}: {title}, {rows} rows", path=out, title=title, rows=len(passbook)))


def _export_ledger_passbook(
    database: str, book_id: str, member_id: str, fmt: str, out: Path
) -> None:
    """The passbook in the ledger's own columns, one line per entry (``--ledger``)."""
    from timebank.community import PassbookEntry
    from timebank.ledger.limits import PAGE_SIZE_MAX
    from timebank.tables import PASSBOOK

    if fmt == "html":
        raise click.UsageError("--ledger writes csv or xlsx")
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
        zone = book.zone
    t = _t()
    title = t("Passbook of {member}, ledger lines", member=member_id)
    _write(PASSBOOK.human(entries, t, zone, title=title), fmt, out)


@export.command("month")
@DATABASE_OPTION
@BOOK_OPTION
@click.option("--month", help="YYYY-MM, a calendar month in the book's zone. Default: this month.")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "xlsx"]), default="html", show_default=True
)
@OUT_OPTION
def export_month(database: str, book_id: str, month: str | None, fmt: str, out: Path) -> None:
    """A month's report to print: each volunteer's services and hours, totals, the orders."""
    from timebank import printing

    t = _t()
    with _opened(database) as bank:
        book = bank.book(book_id)
        report = printing.month_report(book, month or _this_month(book))
    write = printing.write_month_html if fmt == "html" else printing.write_month_xlsx
    with out.open("wb") as file:
        write(report, t, file)
    rows = len(report.volunteers)
    title = printing.month_title(report, t)
    click.echo(t("Wrote {path}: {title}, {rows} rows", path=out, title=title, rows=rows))


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
    if isinstance(cell, datetime):  # a local time already (``Layout.human``), or an aware one
        local = cell if cell.tzinfo is None else cell.astimezone(zone)
        return local.strftime("%Y-%m-%d %H:%M")
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
        book = bank.book(book_id)
        table = _report(book, name, _period(months, week, days, years, community))
        zone = book.zone
    if not table.header:  # no columns: rich would print nothing at all
        click.echo(_t()("{title}: nothing to report", title=table.title))
        return
    shown = Table(title=table.title)
    for column in table.header:
        shown.add_column(column, overflow="fold")
    for row in table.rows:
        shown.add_row(*(Text(_shown(cell, zone)) for cell in row))  # text, not rich markup
    if not table.rows:
        shown.caption = _t()("nothing to report")
    Console(width=None if sys.stdout.isatty() else 240).print(shown)
