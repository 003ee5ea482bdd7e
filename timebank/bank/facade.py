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
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from timebank.bank import events, members
from timebank.bank import minutes as moving
from timebank.bank.context import SYSTEM, Context, Refused, Snapshot
from timebank.bank.desk import ExchangeDesk
from timebank.bank.events import MinutesExpiry
from timebank.bank.idempotency import IDEMPOTENCY, IdempotencyScope
from timebank.bank.listing import merged_pages
from timebank.bank.members import (
    MEMBER_ID_LENGTH_MAX,
    check_choice,
    check_cursor,
    check_record_id,
)
from timebank.bank.minutes import sees_credit, visible_credit, visible_redemption
from timebank.bank.passbook import MemberBalance, balances, liability, passbook
from timebank.bank.records import Programme, Records
from timebank.bank.suggest import SupplyCache
from timebank.community.errors import (
    ActorNotAuthorised,
    AttendeesInvalid,
    EventNotFound,
    ProgrammeAccountNotFound,
    RecordIdInvalid,
)
from timebank.community.memory import MemoryBankStore
from timebank.community.model import (
    Credit,
    CreditStatus,
    Event,
    Member,
    MemberStatus,
    PassbookPage,
    PolicyVersion,
    Provenance,
    Proxy,
    Redemption,
    RedemptionKind,
    Relation,
    RelationKind,
    Role,
    Vetting,
)
from timebank.community.policy import PolicyRules
from timebank.community.port import BankStore
from timebank.community.presets import preset
from timebank.ledger import Book, Clock, Ledger, PageSizeOutOfRange, SystemClock
from timebank.ledger.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from timebank.ledger.verify import VerifyReport

__all__ = ["SYSTEM", "BankBook", "TimeBank"]

T = TypeVar("T")

_ATOMIC: ContextVar[tuple[str, Any] | None] = ContextVar("timebank_atomic", default=None)
"""The book and unit of the ``BankBook.atomic`` block running in this context."""

REQUEST_ID_LENGTH_MAX = 64
BOOK_ID_LENGTH_MAX = 64
DEFAULT_ZONE = "Asia/Shanghai"


def _request_id(request_id: str | None) -> str:
    if request_id is None:
        return uuid.uuid4().hex
    return check_record_id("request_id", request_id, REQUEST_ID_LENGTH_MAX)


def _page_limit(limit: int) -> int:
    if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
        raise PageSizeOutOfRange(limit=limit if type(limit) is int else -1, maximum=PAGE_SIZE_MAX)
    return limit


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
        self.zone = ZoneInfo(timezone)
        self.ledger = Ledger(self.store.ledger_store, clock=self.clock)
        self.supply_cache = SupplyCache()

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
        close = getattr(self.store, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> TimeBank:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def create_book(
        self, book_id: str, policy: PolicyRules | str, *, actor: str = SYSTEM
    ) -> BankBook:
        """Create a programme's book with its first policy (rules, or a preset's name).

        A book id is 1 to 64 letters, digits, ``-`` or ``_``: it names the book in URLs,
        files and logs, so nothing in it needs escaping.
        """
        # Checked before the book exists, so that a refused set-up leaves no book behind.
        check_record_id("book_id", book_id, BOOK_ID_LENGTH_MAX)
        rules = members.check_rules(preset(policy) if isinstance(policy, str) else policy)
        if check_record_id("actor", actor) != SYSTEM:
            raise ActorNotAuthorised(actor=actor, action="set up a book", member_id="")
        self.ledger.create_book(book_id)
        book = self.book(book_id)
        book.run(actor, lambda ctx: members.set_up_book(ctx, rules))
        return book

    def book(self, book_id: str) -> BankBook:
        return BankBook(self, self.ledger.book(book_id))

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


class BankBook(ExchangeDesk):
    """One time-bank programme: its members, rules and minutes, and its exchange desk."""

    def __init__(self, bank: TimeBank, book: Book) -> None:
        self.bank = bank
        self._book = book
        self.book_id = book.book_id

    # --- running use cases ----------------------------------------------------------

    def run(self, actor: str, use_case: Callable[[Context], T]) -> T:
        """Run one use case as one unit of work; a ledger refusal commits, then is raised.

        Inside ``TimeBank.idempotent(key, fingerprint)``, the unit first looks for
        the key's remembered outcome (a replay, see ``IdempotencyScope``), and
        otherwise remembers what this call returned, or the ledger refusal it
        met, in the same transaction.
        """
        check_record_id("actor", actor)
        scope = IDEMPOTENCY.get()
        outer = _ATOMIC.get()
        if outer is not None and outer[0] == self.book_id:
            # Inside ``atomic``: join its unit; a refusal aborts the whole of it.
            ctx = Context(self._book, outer[1], self.bank.clock.now(), self.bank.zone, actor)
            try:
                return use_case(ctx)
            except Refused as refused:
                raise refused.error from None

        def work(unit: Any) -> T | Refused:
            ctx = Context(self._book, unit, self.bank.clock.now(), self.bank.zone, actor)
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
        if not getattr(self.bank.store, "rolls_back_units", False):
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
        check_record_id("actor", actor)
        with self.bank.store.read(self.book_id) as reader:
            snapshot = Snapshot(self.book_id, reader, self.bank.zone, actor)
            return reading(snapshot, reader.ledger)

    def _clock_now(self) -> datetime:
        return self.bank.clock.now()

    def _supply_cache(self) -> SupplyCache:
        return self.bank.supply_cache

    # --- policies and programme accounts ----------------------------------------------------------

    def policy(self, *, actor: str = SYSTEM) -> PolicyVersion:
        """The policy version in force (anyone of the book may read the rules)."""
        return self.read(lambda snap, _: snap.policy(), actor)

    def policies(self, *, actor: str = SYSTEM) -> list[PolicyVersion]:
        return self.read(lambda snap, _: snap.records.policies(), actor)

    def add_policy(self, rules: PolicyRules, *, actor: str) -> PolicyVersion:
        return self.run(actor, partial(members.add_policy, rules=rules))

    def activate_policy(self, version: int, *, actor: str) -> PolicyVersion:
        return self.run(actor, partial(members.activate_policy, version=version))

    def add_sponsor(self, sponsor_id: str, name: str, *, actor: str) -> Programme:
        return self.run(
            actor,
            partial(
                members.add_programme_account, kind="sponsor", programme_id=sponsor_id, name=name
            ),
        )

    def add_merchant(self, merchant_id: str, name: str, *, actor: str) -> Programme:
        return self.run(
            actor,
            partial(
                members.add_programme_account, kind="merchant", programme_id=merchant_id, name=name
            ),
        )

    # --- members ----------------------------------------------------------

    def register_member(
        self,
        *,
        name: str,
        birth_date: date,
        community: str,
        actor: str,
        member_id: str | None = None,
        grid: str = "",
        roles: frozenset[Role] | set[Role] = frozenset(),
        vetting: Vetting = Vetting.PENDING,
        flags: frozenset[str] | set[str] = frozenset(),
        coordinates: frozenset[str] | set[str] = frozenset(),
    ) -> Member:
        """Register a member and open their time account (with any starting grant).

        ``coordinates`` names the communities a coordinator serves besides their own.
        """
        return self.run(
            actor,
            partial(
                members.register_member,
                member_id=uuid.uuid4().hex[:16] if member_id is None else member_id,
                name=name,
                birth_date=birth_date,
                community=community,
                grid=grid,
                roles=members.check_choices("roles", Role, roles),
                vetting=vetting,
                flags=frozenset(members.check_ids("flag", flags, 32)),
                coordinates=frozenset(coordinates),
            ),
        )

    def member(self, member_id: str, *, actor: str = SYSTEM) -> Member:
        return self.read(lambda snap, _: snap.visible_member(member_id), actor)

    def members(
        self,
        *,
        community: str | None = None,
        after: str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        actor: str = SYSTEM,
    ) -> list[Member]:
        """A page of the members the caller coordinates, in id order (of one community)."""
        limit = _page_limit(limit)
        if community is not None:
            members.check_text("community", community, members.NAME_LENGTH_MAX)
        if after is not None:
            check_record_id("after", after)

        def reading(snap: Snapshot, _: Any) -> list[Member]:
            viewer = snap.viewer
            viewer.require_staff("list members")
            if community is not None:
                chosen: tuple[str | None, ...] = (community,) if viewer.covers(community) else ()
            else:
                chosen = (None,) if viewer.everywhere else tuple(sorted(viewer.communities))
            fetches = [partial(_members_of, snap.records, c) for c in chosen]
            return merged_pages(fetches, _member_key, lambda _: True, after, limit)

        return self.read(reading, actor)

    def find_members(
        self, query: str, *, limit: int = PAGE_SIZE_DEFAULT, actor: str = SYSTEM
    ) -> list[Member]:
        """Members the caller coordinates whose name, pinyin or initials contain ``query``."""
        limit = _page_limit(limit)
        needle = members.check_text("query", query, members.NAME_LENGTH_MAX).strip().lower()
        compact = needle.replace(" ", "")

        def matches(member: Member) -> bool:
            return (
                needle in member.name.lower()
                or compact in member.name_key.replace(" ", "")
                or compact in member.name_initials
            )

        def reading(snap: Snapshot, _: Any) -> list[Member]:
            viewer = snap.viewer
            viewer.require_staff("find members")
            found = [
                m
                for m in snap.records.all_members()
                if needle and viewer.covers(m.community) and matches(m)
            ]
            return sorted(found, key=lambda m: (m.name_key, m.member_id))[:limit]

        return self.read(reading, actor)

    def update_member(
        self,
        member_id: str,
        *,
        actor: str,
        grid: str | None = None,
        roles: frozenset[Role] | set[Role] | None = None,
        vetting: Vetting | None = None,
        flags: frozenset[str] | set[str] | None = None,
        status: MemberStatus | None = None,
        coordinates: frozenset[str] | set[str] | None = None,
    ) -> Member:
        return self.run(
            actor,
            partial(
                members.update_member,
                member_id=member_id,
                grid=grid,
                roles=None if roles is None else members.check_choices("roles", Role, roles),
                vetting=vetting,
                flags=None if flags is None else frozenset(members.check_ids("flag", flags, 32)),
                status=status,
                coordinates=None if coordinates is None else frozenset(coordinates),
            ),
        )

    def relate(self, member_id: str, other_id: str, kind: RelationKind, *, actor: str) -> Relation:
        """Record that ``other_id`` is ``member_id``'s ``kind`` (spouse, parent, child...)."""
        return self.run(
            actor, partial(members.relate, member_id=member_id, other_id=other_id, kind=kind)
        )

    def relations(self, member_id: str, *, actor: str = SYSTEM) -> list[Relation]:
        """The member's relations, each naming what the other member is to them."""

        def reading(snap: Snapshot, _: Any) -> list[Relation]:
            snap.visible_member(check_record_id("member_id", member_id))
            return snap.records.relations(member_id)

        return self.read(reading, actor)

    def authorise_proxy(
        self, member_id: str, proxy_id: str, *, actor: str, note: str = ""
    ) -> Proxy:
        return self.run(
            actor,
            partial(members.authorise_proxy, member_id=member_id, proxy_id=proxy_id, note=note),
        )

    def revoke_proxy(self, member_id: str, proxy_id: str, *, actor: str) -> Proxy:
        return self.run(
            actor, partial(members.revoke_proxy, member_id=member_id, proxy_id=proxy_id)
        )

    def proxies(self, member_id: str, *, actor: str = SYSTEM) -> list[Proxy]:
        """Every authorisation to act for the member, revoked ones included."""

        def reading(snap: Snapshot, _: Any) -> list[Proxy]:
            snap.visible_member(check_record_id("member_id", member_id))
            return snap.records.proxies(member_id)

        return self.read(reading, actor)

    def acting_for(self, *, actor: str) -> list[Member]:
        """The members ``actor`` may act for: themselves, then those who authorised them."""

        def reading(snap: Snapshot, _: Any) -> list[Member]:
            return [snap.member(member_id) for member_id in snap.viewer.principals()]

        return self.read(reading, actor)

    def record_death(
        self, member_id: str, *, died_on: date, actor: str, heirs: tuple[str, ...] = ()
    ) -> str | None:
        """Record a death; returns the estate's transaction id if minutes moved."""
        return self.run(
            actor,
            partial(
                events.record_death,
                member_id=member_id,
                died_on=died_on,
                heirs=members.check_ids("heirs", heirs),
            ),
        )

    # --- crediting service ----------------------------------------------------------

    def credit_service(
        self,
        *,
        provider_id: str,
        recipient_id: str,
        category: str,
        raw_minutes: int,
        served_at: datetime,
        provenance: Provenance,
        actor: str,
        place: str = "",
        payer: str | None = None,
        note: str = "",
        request_id: str | None = None,
    ) -> Credit:
        """Credit a provider for a service: posted now, or held on the payer until confirmed."""
        return self.run(
            actor,
            partial(
                moving.credit_service,
                credit_id=_request_id(request_id),
                provider_id=provider_id,
                recipient_id=recipient_id,
                category=category,
                raw_minutes=raw_minutes,
                served_at=served_at,
                place=place,
                provenance=provenance,
                payer=payer,
                note=note,
            ),
        )

    def confirm_credit(self, credit_id: str, *, actor: str) -> Credit:
        return self.run(actor, partial(moving.confirm_credit, credit_id=credit_id))

    def dispute_credit(self, credit_id: str, *, reason: str, actor: str) -> Credit:
        return self.run(actor, partial(moving.dispute_credit, credit_id=credit_id, reason=reason))

    def reverse_credit(self, credit_id: str, *, reason: str, actor: str) -> Credit:
        return self.run(actor, partial(moving.reverse_credit, credit_id=credit_id, reason=reason))

    def credits(
        self,
        *,
        status: CreditStatus | None = None,
        provider_id: str | None = None,
        after: str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        actor: str = SYSTEM,
    ) -> list[Credit]:
        """A page of the credits the caller may see, in id order: of one status (``pending``:
        awaiting confirmation), of one provider, or both."""
        limit = _page_limit(limit)
        chosen = None if status is None else check_choice("status", CreditStatus, status)
        if provider_id is not None:
            check_record_id("provider_id", provider_id)
        if after is not None:
            check_cursor("after", after, REQUEST_ID_LENGTH_MAX + MEMBER_ID_LENGTH_MAX + 1)

        def reading(snap: Snapshot, _: Any) -> list[Credit]:
            records = snap.records
            viewer = snap.viewer

            def keep(record: Credit) -> bool:
                return (
                    (chosen is None or record.status is chosen)
                    and (provider_id is None or record.provider_id == provider_id)
                    and sees_credit(snap, record)
                )

            if viewer.staff:
                fetches = [partial(_credits_by, records, provider_id)]
            else:
                # A member's own credits, given and received, and those of whom they act for.
                fetches = [
                    fetch
                    for member_id in viewer.principals()
                    for fetch in (
                        partial(_credits_by, records, member_id),
                        partial(_credits_to, records, member_id),
                    )
                ]
            return merged_pages(fetches, _credit_key, keep, after, limit)

        return self.read(reading, actor)

    def credit(self, credit_id: str, *, actor: str = SYSTEM) -> Credit:
        return self.read(lambda snap, _: visible_credit(snap, credit_id), actor)

    # --- redemption, gifts, donations, grants -------------------------------------------

    def book_redemption(
        self,
        *,
        saver_id: str,
        minutes: int,
        actor: str,
        provider_id: str | None = None,
        merchant_id: str | None = None,
        category: str = "",
        request_id: str | None = None,
    ) -> Redemption:
        """Hold a saver's minutes for a service (``provider_id``) or goods (``merchant_id``)."""
        kind = RedemptionKind.GOODS if merchant_id is not None else RedemptionKind.SERVICE
        return self.run(
            actor,
            partial(
                moving.book_redemption,
                redemption_id=_request_id(request_id),
                saver_id=saver_id,
                minutes=minutes,
                kind=kind,
                provider_id=provider_id,
                merchant_id=merchant_id,
                category=category,
            ),
        )

    def complete_redemption(
        self, redemption_id: str, *, spent_minutes: int, actor: str
    ) -> Redemption:
        return self.run(
            actor,
            partial(
                moving.complete_redemption, redemption_id=redemption_id, spent_minutes=spent_minutes
            ),
        )

    def cancel_redemption(self, redemption_id: str, *, actor: str) -> Redemption:
        return self.run(actor, partial(moving.cancel_redemption, redemption_id=redemption_id))

    def redemption(self, redemption_id: str, *, actor: str = SYSTEM) -> Redemption:
        return self.read(lambda snap, _: visible_redemption(snap, redemption_id), actor)

    def give(
        self,
        *,
        giver_id: str,
        receiver_id: str,
        minutes: int,
        actor: str,
        request_id: str | None = None,
    ) -> str:
        """Give earned minutes to a relative; returns the transaction id."""
        return self.run(
            actor,
            partial(
                moving.give,
                gift_id=_request_id(request_id),
                giver_id=giver_id,
                receiver_id=receiver_id,
                minutes=minutes,
            ),
        )

    def donate(
        self,
        *,
        member_id: str,
        minutes: int,
        actor: str,
        group: bool = False,
        request_id: str | None = None,
    ) -> str:
        """Donate minutes to the community pool; returns the transaction id."""
        return self.run(
            actor,
            partial(
                moving.donate,
                donation_id=_request_id(request_id),
                member_id=member_id,
                minutes=minutes,
                group=group,
            ),
        )

    def grant(
        self,
        *,
        member_id: str,
        minutes: int,
        reason: str,
        actor: str,
        source: str = "pool",
        request_id: str | None = None,
    ) -> str:
        """Grant minutes from the pool (or a fund) to a member in need; returns the transaction."""
        return self.run(
            actor,
            partial(
                moving.grant,
                grant_id=_request_id(request_id),
                member_id=member_id,
                minutes=minutes,
                reason=reason,
                source=source,
            ),
        )

    # --- events, expiry ----------------------------------------------------------

    def create_event(
        self,
        *,
        title: str,
        category: str,
        held_at: datetime,
        actor: str,
        place: str = "",
        payer: str | None = None,
        group: bool = True,
        event_id: str | None = None,
    ) -> Event:
        return self.run(
            actor,
            partial(
                events.create_event,
                event_id=_request_id(event_id),
                title=title,
                category=category,
                held_at=held_at,
                place=place,
                payer=payer,
                group=group,
            ),
        )

    def credit_event(
        self,
        event_id: str,
        attendees: Mapping[str, int],
        *,
        actor: str,
        request_id: str | None = None,
    ) -> tuple[Credit, ...]:
        """Credit attendees (member id -> raw minutes) in one transaction."""
        if not isinstance(attendees, Mapping):
            raise AttendeesInvalid(reason="a mapping of member ids to raw minutes is needed")
        return self.run(
            actor,
            partial(
                events.credit_event,
                event_id=event_id,
                request_id=_request_id(request_id),
                attendees=dict(attendees),
            ),
        )

    def event_credits(self, event_id: str, *, actor: str = SYSTEM) -> list[Credit]:
        """Every credit of an event the caller may see, by attendee, reversed ones included."""

        def reading(snap: Snapshot, _: Any) -> list[Credit]:
            snap.viewer.require_staff("read an event's credits")
            check_record_id("event_id", event_id, REQUEST_ID_LENGTH_MAX)
            if snap.records.event(event_id) is None:
                raise EventNotFound(event_id=event_id)
            return [c for c in snap.records.event_credits(event_id) if sees_credit(snap, c)]

        return self.read(reading, actor)

    def expire_minutes(
        self, *, actor: str, after: str | None = None, limit: int = 100
    ) -> MinutesExpiry:
        """Expire old minutes for a batch of members (only if the policy sets an expiry)."""
        return self.run(actor, partial(events.expire_minutes, after=after, limit=limit))

    # --- reads ----------------------------------------------------------

    def balance(self, member_id: str, *, actor: str = SYSTEM) -> MemberBalance:
        return self.read(lambda snap, _: balances(snap, member_id), actor)

    def passbook(
        self,
        member_id: str,
        *,
        after: str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        actor: str = SYSTEM,
    ) -> PassbookPage:
        """A page of the member's passbook; pass ``next_cursor`` as ``after`` for the next."""
        limit = _page_limit(limit)
        if after is not None and (type(after) is not str or not after.isdigit() or len(after) > 18):
            raise RecordIdInvalid(field="after", maximum=18)
        cursor = None if after is None else int(after)
        return self.read(
            lambda snap, ledger: passbook(snap, ledger, member_id, after=cursor, limit=limit),
            actor,
        )

    def liability_minutes(self, *, actor: str = SYSTEM) -> int:
        """What the programme owes its members: the sum of their purses (staff only)."""

        def reading(snap: Snapshot, ledger: Any) -> int:
            snap.viewer.require_staff("read the liability")
            return liability(ledger)

        return self.read(reading, actor)

    def programme_balance(self, account_id: str, *, actor: str = SYSTEM) -> int:
        """The posted minutes of a programme account (``pool``, ``issuance``, ``sponsor.x``...)."""

        def reading(snap: Snapshot, ledger: Any) -> int:
            snap.viewer.require_staff("read a programme account")
            account = ledger.account(account_id)
            if account is None or account_id.startswith("m."):
                raise ProgrammeAccountNotFound(account_id=str(account_id)[:128])
            return int(account.posted_minutes)

        return self.read(reading, actor)

    def verify(self, *, actor: str = SYSTEM) -> VerifyReport:
        """Recompute the book's hash chain, balances and statements (staff only)."""
        self.read(lambda snap, _: snap.viewer.require_staff("verify the book"), actor)
        return self._book.verify()


def _members_of(
    records: Records, community: str | None, after: str | None, limit: int
) -> list[Member]:
    return records.members(community=community, after=after, limit=limit)


def _member_key(member: Member) -> str:
    return member.member_id


def _credits_by(
    records: Records, provider_id: str | None, after: str | None, limit: int
) -> list[Credit]:
    return records.credits_page(provider_id=provider_id, after=after, limit=limit)


def _credits_to(records: Records, recipient_id: str, after: str | None, limit: int) -> list[Credit]:
    return records.credits_to_page(recipient_id, after=after, limit=limit)


def _credit_key(credit: Credit) -> str:
    return credit.credit_id
