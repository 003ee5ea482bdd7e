"""One use case's unit of work: the book's records and ledger, the clock, the active policy.

``Context`` holds what every use case needs inside one ``BankStore`` unit: the
typed records, the ledger unit with the ``Book`` that decides ledger requests
in it, the moment the use case runs, and the checks shared by use cases (who
may act, which member, which policy). Ledger requests go through ``submit``,
which a use case calls after its rule checks and before its record writes.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from timebank.bank.accounts import GIFTED, GROUP, OWN, member_account
from timebank.bank.records import Orders, Records, order_row
from timebank.community.errors import (
    ActorNotAuthorised,
    MemberNotActive,
    MemberNotFound,
    NoActivePolicy,
)
from timebank.community.model import Member, MemberStatus, PolicyVersion, Role
from timebank.community.policy import age_on
from timebank.community.port import BankReader, BankUnit
from timebank.ledger import (
    Account,
    Book,
    LedgerError,
    Rejection,
    Request,
    Transaction,
    error_from_dict,
)

__all__ = ["SYSTEM", "Context", "Refused", "Snapshot"]

SYSTEM = "system"
"""The actor of an embedding application acting on its own authority (an administrator)."""

TRANSITION_RETRIES_MAX = 100
"""How many refused attempts of one state transition get fresh transaction ids."""

COORDINATING = frozenset({Role.COORDINATOR, Role.ADMIN})


class Refused(Exception):
    """A ledger refusal inside a unit: the unit commits (remembering it), then it is raised."""

    def __init__(self, error: LedgerError) -> None:
        super().__init__(str(error))
        self.error = error


class Snapshot:
    """Read-only access shared by reads and units: records, members, the active policy."""

    def __init__(self, book_id: str, reader: BankReader | BankUnit, zone: ZoneInfo) -> None:
        self.book_id = book_id
        self.records = Records(reader.records)
        self.orders = Orders(
            reader.orders,
            partial(order_row, zone=zone),
            partial(self.records.bump, volunteers=True),
        )
        self.outbox = reader.outbox
        self._ledger = reader.ledger
        self.zone = zone

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def policy(self) -> PolicyVersion:
        version = self.records.settings().active_version
        policy = None if version is None else self.records.policy(version)
        if policy is None:
            raise NoActivePolicy(book_id=self.book_id)
        return policy

    def member(self, member_id: str) -> Member:
        member = self.records.member(member_id)
        if member is None:
            raise MemberNotFound(member_id=str(member_id)[:128])
        return member

    def account(self, account_id: str) -> Account:
        account = self._ledger.account(account_id)
        assert account is not None, account_id
        return account

    def purses(self, member_id: str) -> dict[str, Account]:
        return {purse: self.account(member_account(member_id, purse)) for purse in PURSES}


PURSES = (OWN, GIFTED, GROUP)


class Context(Snapshot):
    """Everything one use case needs inside its unit of work."""

    def __init__(
        self, book: Book, unit: BankUnit, now: datetime, zone: ZoneInfo, actor: str
    ) -> None:
        super().__init__(book.book_id, unit, zone)
        self.book = book
        self.unit = unit
        self.now = now
        self.today = self.local_date(now)
        self.actor = actor

    def age(self, member: Member) -> int:
        return age_on(member.birth_date, self.today)

    def active_member(self, member_id: str) -> Member:
        member = self.member(member_id)
        if member.status is not MemberStatus.ACTIVE:
            raise MemberNotActive(member_id=member_id, status=member.status.value)
        return member

    def is_coordinator(self, actor: str) -> bool:
        if actor == SYSTEM:
            return True
        member = self.records.member(actor)
        return (
            member is not None
            and member.status is MemberStatus.ACTIVE
            and bool(member.roles & COORDINATING)
        )

    def require_coordinator(self, action: str, member_id: str = "") -> None:
        """Only a coordinator (or the embedding application) may do this."""
        if not self.is_coordinator(self.actor):
            raise ActorNotAuthorised(actor=self.actor, action=action, member_id=member_id)

    def acting_for(
        self, member_id: str, action: str, *, coordinator_ok: bool = False
    ) -> str | None:
        """Who the actor acts for: None for the member themselves, else ``member_id``.

        Anyone else needs an active proxy authorisation from the member (or, where
        ``coordinator_ok``, the coordinator role).
        """
        actor = self.actor
        if actor == member_id:
            return None
        if actor == SYSTEM or (coordinator_ok and self.is_coordinator(actor)):
            return member_id
        proxy = self.records.proxy(member_id, actor)
        if proxy is not None and proxy.active and self._actor_active(actor):
            return member_id
        raise ActorNotAuthorised(actor=actor, action=action, member_id=member_id)

    def _actor_active(self, actor: str) -> bool:
        member = self.records.member(actor)
        return member is not None and member.status is MemberStatus.ACTIVE

    def prior(self, transaction_id: str) -> Transaction | None:
        """What an earlier call with the same request id gave: its transaction, or its error."""
        found = self.unit.ledger.find(transaction_id)
        if found is None:
            return None
        if isinstance(found, Rejection):
            raise Refused(error_from_dict(found.error))
        return found.transaction

    def fresh_id(self, base: str) -> str:
        """A transaction id for a state transition: ``base``, or a new one if it was refused.

        The ledger remembers a refusal under its id forever, so a transition the
        ledger refused (a reversal while the provider is short of minutes) gets
        ``base.r1``, ``base.r2``... when it is tried again later.
        """
        candidate = base
        for attempt in range(1, TRANSITION_RETRIES_MAX + 1):
            if not isinstance(self.unit.ledger.find(candidate), Rejection):
                return candidate
            candidate = f"{base}.r{attempt}"
        return candidate

    def submit(self, request: Request) -> Transaction:
        """Decide a ledger request in this unit; a refusal aborts the use case with ``Refused``."""
        outcome = self.book.apply_in(self.unit.ledger, request)
        if isinstance(outcome, LedgerError):
            raise Refused(outcome)
        return outcome
