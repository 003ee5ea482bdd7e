"""The time bank's records: members, relations, proxies, policies, credits, redemptions, events.

Every value is a frozen, keyword-only msgspec Struct; a change is a new value
(``msgspec.structs.replace``) written back as a record. Minutes are integers.
Times are aware UTC datetimes; dates (birth, death) are plain dates.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from msgspec import Struct

from timebank.community.policy import PolicyRules

__all__ = [
    "LINEAL_RELATIONS",
    "RELATION_INVERSE",
    "Credit",
    "CreditStatus",
    "Event",
    "Member",
    "MemberStatus",
    "PassbookEntry",
    "PassbookPage",
    "PolicyStatus",
    "PolicyVersion",
    "Provenance",
    "Proxy",
    "Redemption",
    "RedemptionKind",
    "RedemptionStatus",
    "Relation",
    "RelationKind",
    "Role",
    "Vetting",
]


class Role(StrEnum):
    """What a member does in the time bank; a member may hold several."""

    VOLUNTEER = "volunteer"
    RECIPIENT = "recipient"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class Vetting(StrEnum):
    """How far a volunteer has been vetted (Nanjing vets at two levels)."""

    PENDING = "pending"
    COMMUNITY = "community"
    """First level: vetted by the community."""
    STREET = "street"
    """Second level: vetted by the street office as well."""
    REJECTED = "rejected"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DECEASED = "deceased"


class RelationKind(StrEnum):
    SPOUSE = "spouse"
    PARENT = "parent"
    """The other member is this member's parent."""
    CHILD = "child"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    SIBLING = "sibling"
    FRIEND = "friend"


RELATION_INVERSE: dict[RelationKind, RelationKind] = {
    RelationKind.SPOUSE: RelationKind.SPOUSE,
    RelationKind.PARENT: RelationKind.CHILD,
    RelationKind.CHILD: RelationKind.PARENT,
    RelationKind.GRANDPARENT: RelationKind.GRANDCHILD,
    RelationKind.GRANDCHILD: RelationKind.GRANDPARENT,
    RelationKind.SIBLING: RelationKind.SIBLING,
    RelationKind.FRIEND: RelationKind.FRIEND,
}
"""If B is A's parent, A is B's child."""

LINEAL_RELATIONS = frozenset(
    {RelationKind.PARENT, RelationKind.CHILD, RelationKind.GRANDPARENT, RelationKind.GRANDCHILD}
)
"""Direct ascendants and descendants (直系亲属)."""


class Provenance(StrEnum):
    """How a credited service was verified."""

    CHECK_IN_OUT = "check_in_out"
    """Recorded by the app at check-in and check-out (信用时)."""
    RECIPIENT_CONFIRMATION = "recipient_confirmation"
    ORGANISATION_CONFIRMATION = "organisation_confirmation"
    PAPER_RECORD = "paper_record"
    """A paper record typed in by a coordinator or proxy."""


class Member(Struct, frozen=True, kw_only=True):
    """A person in the time bank, with one time account (plus gifted and group sub-accounts)."""

    member_id: str
    name: str
    name_key: str
    """Pinyin of the name, lower case, no tones, for search and sorting (李娜 -> ``li na``)."""
    name_initials: str
    """Pinyin initials (李娜 -> ``ln``)."""
    birth_date: date
    community: str
    grid: str = ""
    roles: frozenset[Role] = frozenset()
    vetting: Vetting = Vetting.PENDING
    status: MemberStatus = MemberStatus.ACTIVE
    flags: frozenset[str] = frozenset()
    """Key-resident flags such as ``living_alone``, ``low_income``, ``disabled``."""
    registered_at: datetime
    registered_by: str
    died_on: date | None = None
    coordinates: frozenset[str] = frozenset()
    """Communities a coordinator serves besides their own (a street office's several)."""


class Relation(Struct, frozen=True, kw_only=True):
    """``other_id`` is ``member_id``'s ``kind`` (the inverse is recorded too)."""

    member_id: str
    other_id: str
    kind: RelationKind
    recorded_at: datetime
    recorded_by: str


class Proxy(Struct, frozen=True, kw_only=True):
    """An authorisation for ``proxy_id`` to act for ``member_id`` (a guardian, a coordinator)."""

    member_id: str
    proxy_id: str
    granted_at: datetime
    granted_by: str
    note: str = ""
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class PolicyStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class PolicyVersion(Struct, frozen=True, kw_only=True):
    """One version of a book's rules; immutable once activated."""

    version: int
    rules: PolicyRules
    status: PolicyStatus
    added_at: datetime
    added_by: str
    activated_at: datetime | None = None
    retired_at: datetime | None = None


class CreditStatus(StrEnum):
    PENDING = "pending"
    """Held on the payer until confirmed."""
    POSTED = "posted"
    DISPUTED = "disputed"
    """The hold was voided; nothing moved."""
    REVERSED = "reversed"
    """Posted, then corrected by a reversal."""


class Credit(Struct, frozen=True, kw_only=True):
    """A credited service: who served whom, how long, how it was verified, what it paid."""

    credit_id: str
    provider_id: str
    recipient_id: str | None
    """None for a group event credited from a programme account."""
    payer_account: str
    category: str
    raw_minutes: int
    credited_minutes: int
    provenance: Provenance
    policy_version: int
    served_at: datetime
    place: str
    status: CreditStatus
    transaction_id: str
    """The ledger transaction: the hold (if pending) or the transfer."""
    recorded_at: datetime
    actor: str
    on_behalf_of: str | None = None
    event_id: str | None = None
    provider_minutes: int
    """What reached the provider's purse; the rest (over a cap) went to the overflow account."""
    provider_account: str
    overflow_account: str | None = None
    settled_transaction_id: str | None = None
    """The post or void of a held credit."""
    reversal_transaction_id: str | None = None
    confirmation: Provenance | None = None
    """How a held credit was confirmed."""
    confirmed_by: str | None = None
    note: str = ""


class RedemptionKind(StrEnum):
    SERVICE = "service"
    GOODS = "goods"
    """Goods or a benefit at a partner merchant."""


class RedemptionStatus(StrEnum):
    BOOKED = "booked"
    DONE = "done"
    CANCELLED = "cancelled"


class Redemption(Struct, frozen=True, kw_only=True):
    """A saver spending banked minutes: held when booked, posted when done, voided if cancelled."""

    redemption_id: str
    saver_id: str
    kind: RedemptionKind
    payee_account: str
    provider_id: str | None
    merchant_id: str | None
    category: str
    booked_minutes: int
    spent_minutes: int
    status: RedemptionStatus
    hold_id: str
    policy_version: int
    booked_at: datetime
    actor: str
    on_behalf_of: str | None = None
    settled_transaction_id: str | None = None
    settled_at: datetime | None = None


class Event(Struct, frozen=True, kw_only=True):
    """A group volunteering event; each crediting of attendees is one ledger transaction."""

    event_id: str
    title: str
    category: str
    held_at: datetime
    place: str
    payer_account: str
    created_at: datetime
    created_by: str
    group: bool = True
    """Group-volunteer minutes: a policy may let them only be donated."""
    credit_ids: tuple[str, ...] = ()


class PassbookEntry(Struct, frozen=True, kw_only=True):
    """One line of a member's passbook (存折): a ledger entry with its service details."""

    sequence: int
    recorded_at: datetime
    account_id: str
    delta_minutes: int
    balance_minutes: int
    """The member's total (own, gifted and group minutes) after this entry."""
    kind: str
    """``service``, ``redemption``, ``gift``, ``donation``, ``grant``, ``expiry``..."""
    counterparty: str
    category: str
    raw_minutes: int | None
    credited_minutes: int | None
    provenance: str
    confirmation: str = ""
    """How a credit that was held was confirmed (``recipient_confirmation``...), if it was."""
    policy_version: int | None
    transaction_id: str


class PassbookPage(Struct, frozen=True, kw_only=True):
    entries: tuple[PassbookEntry, ...]
    next_cursor: str | None
