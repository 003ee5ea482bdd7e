"""The facade an embedding application (and timebank's own API and CLI) calls.

``TimeBank`` opens a store (a SQLite file by default, PostgreSQL by URL, or
memory) and hands out ``BankBook`` objects, one per programme. Every method of
``BankBook`` is one use case and one unit of work: it commits whole or leaves
no trace, returns typed values, raises errors named after the broken rule
(``timebank.community.errors`` and ``timebank.ledger.errors``), and records who
acted (``actor``) and, when that is a proxy or coordinator, for whom.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import partial
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from timebank.bank import capabilities, programme
from timebank.bank.checks import check_record_id
from timebank.bank.commands import Command
from timebank.bank.context import SYSTEM, Context, Refused, Snapshot
from timebank.bank.handlers import HANDLERS
from timebank.bank.idempotency import IDEMPOTENCY, IdempotencyScope
from timebank.bank.matching import SupplyCache
from timebank.bank.viewer import check_actor, is_application
from timebank.community.errors import (
    ActorNotAuthorised,
    TimeZoneUnknown,
)
from timebank.community.limits import BOOK_ID_LENGTH_MAX
from timebank.community.memory import MemoryBankStore
from timebank.community.policy import PolicyRules
from timebank.community.port import BankStore
from timebank.community.presets import preset
from timebank.ledger import Book, Clock, Ledger, SystemClock

__all__ = ["SYSTEM", "BankBook", "TimeBank"]

T = TypeVar("T")
R = TypeVar("R")

_ATOMIC: ContextVar[tuple[str, Any] | None] = ContextVar("timebank_atomic", default=None)
"""The book and unit of the ``BankBook.atomic`` block running in this context."""

DEFAULT_ZONE = "Asia/Shanghai"


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises ``TimeZoneUnknown``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise TimeZoneUnknown(timezone=str(name)[:64]) from None


class TimeBank:
    """Time banks kept in one store. ``TimeBank()`` keeps them in memory.

    Use ``TimeBank.open("timebank.db")`` for a SQLite file or
    ``TimeBank.open("postgresql://user@host/db")`` for PostgreSQL.
    """

    def __init__(
        self,
        store: BankStore | None = None,
        *,
        clock: Clock | None = None,
        timezone: str = DEFAULT_ZONE,
    ) -> None:
        self.store: BankStore = MemoryBankStore() if store is None else store
        self.clock: Clock = SystemClock() if clock is None else clock
        self.zone = zone_of(timezone)
        """The zone of books created without one of their own."""
        self.ledger = Ledger(self.store.ledger_store, clock=self.clock)
        self.supply_cache = SupplyCache()
        self._known_books: set[str] = set()
        self._zones: dict[str, ZoneInfo] = {}
        """Each book's zone, once read: a book's zone never changes."""

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str] = "timebank.db",
        *,
        clock: Clock | None = None,
        timezone: str = DEFAULT_ZONE,
        **store_options: Any,
    ) -> TimeBank:
        """Open (and migrate) a SQLite file or a database URL."""
        # The SQL adapter is imported here, at the composition root, so that the
        # facade's own imports stay free of SQLAlchemy.
        from timebank.store import open_bank_store

        return cls(open_bank_store(target, **store_options), clock=clock, timezone=timezone)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> TimeBank:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def create_book(
        self,
        book_id: str,
        policy: PolicyRules | str,
        *,
        actor: str = SYSTEM,
        timezone: str | None = None,
    ) -> BankBook:
        """Create a programme's book with its first policy (rules, or a preset's name).

        A book id is 1 to 64 letters, digits, ``-`` or ``_``: it names the book in URLs,
        files and logs, so nothing in it needs escaping. ``timezone`` (an IANA name; the
        bank's zone, Asia/Shanghai, by default) is the book's for good: its months, weeks
        and "today", and every time a person reads.
        """
        # Checked before the book exists, so that a refused set-up leaves no book behind.
        check_record_id("book_id", book_id, BOOK_ID_LENGTH_MAX)
        rules = programme.check_rules(preset(policy) if isinstance(policy, str) else policy)
        zone = self.zone if timezone is None else zone_of(timezone)
        if not is_application(check_actor(actor)):
            raise ActorNotAuthorised(actor=actor, action="set up a book", member_id="")
        self.ledger.create_book(book_id)
        self._zones[book_id] = zone
        book = self.book(book_id)
        book.run(actor, lambda ctx: programme.set_up_book(ctx, rules))
        return book

    def book(self, book_id: str) -> BankBook:
        """An existing book; raises ``BookNotFound``.

        Books are never deleted, so a book found once is remembered and later
        calls ask the store nothing: a request's one unit or snapshot is its
        only trip to the database.
        """
        if book_id in self._known_books:
            return BankBook(self, Book(self.store.ledger_store, self.clock, book_id))
        book = BankBook(self, self.ledger.book(book_id))
        self._known_books.add(book_id)
        return book

    @contextmanager
    def idempotent(self, key: str, fingerprint: str) -> Iterator[IdempotencyScope]:
        """Make the one use case called inside the block idempotent under ``key``.

        The first call with a key remembers its outcome (the encoded result, or
        the ledger's refusal) in its own transaction. A later call with the same
        key and actor does nothing and sets ``scope.replayed`` to the remembered
        JSON (or raises the remembered error); with another ``fingerprint`` (say,
        a different request body) it raises ``IdempotencyKeyReused``.
        """
        scope = IdempotencyScope(key, fingerprint)
        token = IDEMPOTENCY.set(scope)
        try:
            yield scope
        finally:
            IDEMPOTENCY.reset(token)

    def book_ids(self) -> list[str]:
        return self.ledger.book_ids()


class BankBook:
    """One time-bank programme, its work grouped in capabilities.

    ``book.programme``, ``book.members``, ``book.credits``, ``book.redemptions``,
    ``book.gifts``, ``book.events``, ``book.statements``, ``book.supply``,
    ``book.orders``, ``book.outbox``, ``book.matching``, ``book.wishes``,
    ``book.care`` and ``book.reports``: each write takes one command and is one
    unit of work (``execute``); each read is one consistent snapshot.
    """

    def __init__(self, bank: TimeBank, book: Book) -> None:
        self.bank = bank
        self._book = book
        self.book_id = book.book_id
        self.programme = capabilities.ProgrammeOffice(self)
        self.members = capabilities.Members(self)
        self.credits = capabilities.Credits(self)
        self.redemptions = capabilities.Redemptions(self)
        self.gifts = capabilities.Gifts(self)
        self.events = capabilities.Events(self)
        self.statements = capabilities.Statements(self)
        self.supply = capabilities.Supply(self)
        self.orders = capabilities.Orders(self)
        self.outbox = capabilities.Outbox(self)
        self.matching = capabilities.Matching(self)
        self.wishes = capabilities.Wishes(self)
        self.care = capabilities.Care(self)
        self.reports = capabilities.Reports(self)

    @property
    def zone(self) -> ZoneInfo:
        """The book's time zone: its months, weeks and "today", and the times people read."""
        found = self.bank._zones.get(self.book_id)
        if found is None:
            with self.bank.store.read(self.book_id) as reader:
                named = Snapshot(self.book_id, reader, self.bank.zone, SYSTEM).records
                found = zone_of(named.settings().timezone or self.bank.zone.key)
            self.bank._zones[self.book_id] = found
        return found

    # --- running use cases ----------------------------------------------------------

    def run(self, actor: str, use_case: Callable[[Context], T]) -> T:
        """Run one use case as one unit of work; a ledger refusal commits, then is raised.

        Inside ``TimeBank.idempotent(key, fingerprint)``, the unit first looks for
        the key's remembered outcome (a replay, see ``IdempotencyScope``), and
        otherwise remembers what this call returned, or the ledger refusal it
        met, in the same transaction.
        """
        check_actor(actor)
        scope = IDEMPOTENCY.get()
        outer = _ATOMIC.get()
        if outer is not None and outer[0] == self.book_id:
            # Inside ``atomic``: join its unit; a refusal aborts the whole of it.
            ctx = Context(self._book, outer[1], self.bank.clock.now(), self.zone, actor)
            try:
                return use_case(ctx)
            except Refused as refused:
                raise refused.error from None

        zone = self.zone

        def work(unit: Any) -> T | Refused:
            ctx = Context(self._book, unit, self.bank.clock.now(), zone, actor)
            if scope is not None and scope.recall(ctx):
                return cast(T, None)
            try:
                result = use_case(ctx)
            except Refused as refused:
                if scope is not None:
                    scope.remember(ctx, error=refused.error)
                return refused
            if scope is not None:
                scope.remember(ctx, result=result)
            return result

        outcome = self.bank.store.transact(self.book_id, work)
        if isinstance(outcome, Refused):
            raise outcome.error
        if scope is not None:
            scope.raise_replayed_error()
        return outcome

    def atomic(self, work: Callable[[], T]) -> T:
        """Run ``work``, which calls this book's methods, as one unit of work: all or nothing.

        Every call on this book inside ``work`` (in this thread) joins one
        transaction; if any raises, a rule broken or a ledger refusal alike,
        nothing of any of them is kept. This is how an import of many rows is
        applied. It needs a store that can roll back several ledger requests
        (SQLite or PostgreSQL); the memory store refuses it.
        """
        if not self.bank.store.rolls_back_units:
            raise TypeError("atomic needs a database store (SQLite or PostgreSQL)")

        def outer(unit: Any) -> T:
            token = _ATOMIC.set((self.book_id, unit))
            try:
                return work()
            finally:
                _ATOMIC.reset(token)

        return self.bank.store.transact(self.book_id, outer)

    def read(self, reading: Callable[[Snapshot, Any], T], actor: str = SYSTEM) -> T:
        """Run ``reading`` over one consistent snapshot, as ``actor`` (see ``Viewer``)."""
        check_actor(actor)
        zone = self.zone
        with self.bank.store.read(self.book_id) as reader:
            snapshot = Snapshot(self.book_id, reader, zone, actor)
            return reading(snapshot, reader.ledger)

    def execute(self, command: Command[R], *, actor: str) -> R:
        """Run one command as one unit of work, as ``actor``; returns what its use case returns.

        ``HANDLERS`` maps each command to its use case. Every capability's writes
        come here (``book.orders.accept(AcceptOrder(...), actor=...)`` is
        ``book.execute(AcceptOrder(...), actor=...)``).
        """
        handler = HANDLERS.get(type(command))
        if handler is None:
            raise TypeError(f"{type(command).__name__} is not a command of timebank")
        return cast(R, self.run(actor, partial(handler, command)))

    def clock_now(self) -> datetime:
        """The bank's clock: what "now" is for reads that depend on the day."""
        return self.bank.clock.now()

    @property
    def ledger_book(self) -> Book:
        """The ledger book under this programme (its journal, accounts and holds)."""
        return self._book
