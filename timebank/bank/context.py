"""One use case's unit of work: the book's records and ledger, the clock, the active policy.

``Snapshot`` is what every read sees: the typed records, orders and outbox, the
active policy, and the caller (``viewer``: their authority, resolved in the
same snapshot). ``Context`` adds what a use case needs inside one ``BankStore``
unit: the ledger unit with the ``Book`` that decides ledger requests in it, the
moment the use case runs, and the checks shared by use cases (who may act for
whom, which member, which policy). Ledger requests go through ``submit``, which
a use case calls after its rule checks and before its record writes.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from timebank.bank.accounts import GIFTED, GROUP, OWN, member_account
from timebank.bank.records import Orders, Records, order_row
from timebank.bank.retries import remember_request
from timebank.bank.viewer import SYSTEM, Viewer
from timebank.community.errors import (
    ActorNotAuthorised,
    MemberNotActive,
    MemberNotFound,
    NoActivePolicy,
    SelfApproval,
)
from timebank.community.model import Member, MemberStatus, PolicyVersion
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

TRANSITION_RETRIES_MAX = 100
"""How many refused attempts of one state transition get fresh transaction ids."""


class Refused(Exception):
    """A ledger refusal inside a unit: the unit commits (remembering it), then it is raised."""

    def __init__(self, error: LedgerError) -> None:
        super().__init__(str(error))
        self.error = error


class Snapshot:
    """Read-only access shared by reads and units: records, members, the active policy."""

    def __init__(
        self, book_id: str, reader: BankReader | BankUnit, zone: ZoneInfo, actor: str
    ) -> None:
        self.book_id = book_id
        self.records = Records(reader.records)
        self.viewer = Viewer(self.records, actor)
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

    def sees_any(self, *member_ids: str | None) -> bool:
        """Whether the caller may see one of these members (a record between them is theirs)."""
        for member_id in member_ids:
            member = None if member_id is None else self.records.member(member_id)
            if member is not None and self.viewer.sees_member(member):
                return True
        return False

    def visible_member(self, member_id: str) -> Member:
        """The member, if the caller may see them; otherwise, as for a stranger, not found."""
        return self.viewer.member_or_hidden(self.records.member(member_id), member_id)

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
        super().__init__(book.book_id, unit, zone, actor)
        self.book = book
        self.unit = unit
        self.now = now
        self.today = self.local_date(now)
        self.actor = actor

    def age(self, member: Member) -> int:
        return age_on(member.birth_date, self.today)

    def purses(self, member_id: str) -> dict[str, Account]:
        """The member's three purses, read (and locked, as a write will) together."""
        ids = [member_account(member_id, purse) for purse in PURSES]
        found: dict[str, Account] = {}
        for purse, account_id, account in zip(
            PURSES, ids, self.unit.ledger.lock_accounts(ids), strict=True
        ):
            assert account is not None, account_id
            found[purse] = account
        return found

    def active_member(self, member_id: str) -> Member:
        member = self.member(member_id)
        if member.status is not MemberStatus.ACTIVE:
            raise MemberNotActive(member_id=member_id, status=member.status.value)
        return member

    def require_coordinator(self, action: str, *members: Member) -> None:
        """Only a coordinator of the members' communities (or the application) may do this."""
        self.viewer.require_staff(action, *members)

    def acting_for(self, member: Member, action: str, *, staff_ok: bool = False) -> str | None:
        """Who the actor acts for: None for the member themselves, else the member's id.

        Anyone else needs an active proxy authorisation from the member or, where
        ``staff_ok``, to coordinate the member's community.
        """
        viewer = self.viewer
        member_id = member.member_id
        if self.actor == member_id:
            return None
        if viewer.acts_for(member_id) or (staff_ok and viewer.covers(member.community)):
            return member_id
        raise ActorNotAuthorised(actor=self.actor, action=action, member_id=member_id)

    def once(self, use_case: str, request_id: str, **request: object) -> bool:
        """Whether this is a retry of the same request under ``request_id`` (see ``retries``)."""
        return remember_request(self.records, use_case, request_id, request)

    def forbid_own_gain(self, gainer_id: str | None, action: str) -> None:
        """Nobody approves what pays themselves (the application excepted)."""
        if gainer_id is not None and self.actor == gainer_id and not self.viewer.is_system:
            raise SelfApproval(actor=self.actor, action=action, member_id=gainer_id)

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
