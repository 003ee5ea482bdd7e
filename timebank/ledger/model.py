"""The ledger's values: requests going in, records coming out.

All are frozen, keyword-only msgspec Structs. Requests (``Transfer``, ``Hold``,
``PostHold``, ``VoidHold``, ``Reverse``) are tagged so that a store can keep
the exact request behind every transaction id and compare a retry with it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from msgspec import Struct

__all__ = [
    "Account",
    "Balance",
    "BookHead",
    "Entry",
    "ExpiryReport",
    "Hold",
    "HoldRecord",
    "HoldStatus",
    "Kind",
    "PostHold",
    "Posting",
    "Rejection",
    "Request",
    "Reverse",
    "Side",
    "StatementPage",
    "Transaction",
    "Transfer",
    "VoidHold",
    "credit",
    "debit",
]


class Side(enum.StrEnum):
    """Which side of the books a posting is on. Balances are credits minus debits."""

    DEBIT = "debit"
    CREDIT = "credit"


class Kind(enum.StrEnum):
    """What a journal record does to balances."""

    TRANSFER = "transfer"
    """Moves posted minutes."""
    HOLD = "hold"
    """Reserves minutes as pending."""
    POST = "post"
    """Releases a hold and moves the posted minutes (at most the held amount)."""
    VOID = "void"
    """Releases a hold; nothing moves."""
    EXPIRE = "expire"
    """Releases a hold past its expiry; made by the ledger itself."""
    REVERSAL = "reversal"
    """Moves back the posted minutes of an earlier transfer or post."""


class HoldStatus(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


class Posting(Struct, frozen=True, kw_only=True, gc=False):
    """One leg of a transaction: minutes on one side of one account."""

    account_id: str
    side: Side
    amount_minutes: int


def debit(account_id: str, amount_minutes: int) -> Posting:
    """A posting that takes ``amount_minutes`` from ``account_id``."""
    return Posting(account_id=account_id, side=Side.DEBIT, amount_minutes=amount_minutes)


def credit(account_id: str, amount_minutes: int) -> Posting:
    """A posting that gives ``amount_minutes`` to ``account_id``."""
    return Posting(account_id=account_id, side=Side.CREDIT, amount_minutes=amount_minutes)


# --- requests -----------------------------------------------------------------


class Transfer(Struct, frozen=True, kw_only=True, tag="transfer"):
    """Move posted minutes between two or more accounts in one balanced transaction."""

    transaction_id: str
    postings: tuple[Posting, ...]
    code: str = ""
    metadata: dict[str, str] = {}
    effective_at: datetime | None = None
    """When the service really happened, for back-dated paper records."""


class Hold(Struct, frozen=True, kw_only=True, tag="hold"):
    """Reserve minutes as pending until posted, voided or expired."""

    transaction_id: str
    postings: tuple[Posting, ...]
    expires_at: datetime | None = None
    code: str = ""
    metadata: dict[str, str] = {}


class PostHold(Struct, frozen=True, kw_only=True, tag="post"):
    """Post a pending hold: in full, for ``amount_minutes`` (two-posting holds), or as ``postings``.

    Given postings name exactly the hold's accounts on the same sides, each for
    at most the held minutes, and balance.
    """

    transaction_id: str
    hold_id: str
    amount_minutes: int | None = None
    postings: tuple[Posting, ...] | None = None
    code: str = ""
    metadata: dict[str, str] = {}


class VoidHold(Struct, frozen=True, kw_only=True, tag="void"):
    """Release a pending hold; no minutes move."""

    transaction_id: str
    hold_id: str
    code: str = ""
    metadata: dict[str, str] = {}


class Reverse(Struct, frozen=True, kw_only=True, tag="reversal"):
    """Move back every posted minute of an earlier transfer or post."""

    transaction_id: str
    reverses_id: str
    code: str = ""
    metadata: dict[str, str] = {}


Request = Transfer | Hold | PostHold | VoidHold | Reverse


# --- records --------------------------------------------------------------------


class Transaction(Struct, frozen=True, kw_only=True, gc=False):
    """One committed journal record, chained to the previous one in its book by hash."""

    book_id: str
    transaction_id: str
    sequence: int
    """1, 2, 3, ... per book, in commit order."""
    kind: Kind
    postings: tuple[Posting, ...]
    code: str
    metadata: dict[str, str]
    recorded_at: datetime
    effective_at: datetime | None
    expires_at: datetime | None
    related_id: str | None
    """The hold a post/void/expire resolves, or the transaction a reversal undoes."""
    previous_hash: str
    hash: str


class Account(Struct, frozen=True, kw_only=True, gc=False):
    """An account and its cached balances.

    ``posted_minutes`` is credits minus debits of everything posted; pending
    holds are kept apart as ``debits_pending_minutes`` and
    ``credits_pending_minutes``. The minimum bound is checked against posted
    minus pending debits, the maximum against posted plus pending credits.
    """

    book_id: str
    account_id: str
    balance_minutes_min: int | None
    balance_minutes_max: int | None
    metadata: dict[str, str]
    opened_at: datetime
    closed_at: datetime | None = None
    posted_minutes: int = 0
    debits_pending_minutes: int = 0
    credits_pending_minutes: int = 0

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def available_minutes(self) -> int:
        """What the account can still spend: posted minus pending debits."""
        return self.posted_minutes - self.debits_pending_minutes

    @property
    def pending_minutes(self) -> int:
        """Net pending: pending credits minus pending debits."""
        return self.credits_pending_minutes - self.debits_pending_minutes

    def balance(self) -> Balance:
        return Balance(
            account_id=self.account_id,
            posted_minutes=self.posted_minutes,
            debits_pending_minutes=self.debits_pending_minutes,
            credits_pending_minutes=self.credits_pending_minutes,
        )


class Balance(Struct, frozen=True, kw_only=True, gc=False):
    """An account's balances at one moment."""

    account_id: str
    posted_minutes: int
    debits_pending_minutes: int
    credits_pending_minutes: int

    @property
    def available_minutes(self) -> int:
        return self.posted_minutes - self.debits_pending_minutes

    @property
    def pending_minutes(self) -> int:
        return self.credits_pending_minutes - self.debits_pending_minutes


class Entry(Struct, frozen=True, kw_only=True, gc=False):
    """One account's line in one transaction, with the account's balances after it."""

    account_id: str
    sequence: int
    transaction_id: str
    kind: Kind
    code: str
    recorded_at: datetime
    effective_at: datetime
    """The transaction's effective time, or its recorded time when it has none."""
    posted_delta_minutes: int
    debits_pending_delta_minutes: int
    credits_pending_delta_minutes: int
    posted_minutes: int
    debits_pending_minutes: int
    credits_pending_minutes: int


class StatementPage(Struct, frozen=True, kw_only=True):
    """A bounded page of an account's entries, oldest first."""

    account_id: str
    entries: tuple[Entry, ...]
    next_after: int | None
    """Pass as ``after`` to read the next page; None on the last page."""


class HoldRecord(Struct, frozen=True, kw_only=True, gc=False):
    """The state of one hold."""

    hold_id: str
    postings: tuple[Posting, ...]
    expires_at: datetime | None
    status: HoldStatus
    resolved_by: str | None = None


class BookHead(Struct, frozen=True, kw_only=True, gc=False):
    """The end of a book's hash chain."""

    book_id: str
    sequence: int
    hash: str
    recorded_at: datetime | None


class Rejection(Struct, frozen=True, kw_only=True):
    """A request refused on a rule, kept so that a retry gets the same answer."""

    request: Request
    error_code: str
    error: dict[str, object]


class ExpiryReport(Struct, frozen=True, kw_only=True):
    """What one ``expire_holds`` call did."""

    expired: tuple[Transaction, ...]
    more_due: bool
