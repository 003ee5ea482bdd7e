"""Old helping old (老帮老): offers, needs, service orders, micro-wishes and care files.

The supply ledger (供给台账) holds what volunteers offer: categories, weekly
windows with exceptions, an area and a weekly capacity, until an end date or
for good. The demand ledger (需求台账) holds what recipients need: a category,
once or weekly, an area, an urgency, an estimate and who pays. A need becomes
service orders, each of which moves through one lifecycle:

    requested ─dispatch─▶ dispatched ─accept─▶ accepted ─start─▶ started ─complete─▶ completed
        │ └─publish─▶ published ─accept─┘            (点单 → 派单 → 接单 → 办结)
        │               dispatched ─decline─▶ requested
    completed ─confirm─▶ confirmed ─rate─▶ rated ─close─▶ closed (销号, with a follow-up 回访)
    completed ─reject─▶ rejected;   confirmed ─close─▶ closed
    requested … started ─cancel─▶ cancelled;   requested … accepted ─expire─▶ expired

Acceptance holds the payer's minutes (the reservation); confirmation posts
the credit through the active policy; reject, cancel and expire void the hold.
``TRANSITIONS`` says which action applies in which status; anything else is
``OrderTransitionNotAllowed``. Nothing here does I/O.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Final

from msgspec import Struct

from timebank.community.matching import Window

__all__ = [
    "CLOSED_STATUSES",
    "HOLDING_STATUSES",
    "OPEN_STATUSES",
    "TRANSITIONS",
    "WAITING_STATUSES",
    "CareFile",
    "NeedStatus",
    "Offer",
    "Order",
    "OrderAction",
    "OrderStatus",
    "OrderStep",
    "ServiceNeed",
    "Urgency",
    "Visit",
    "Wish",
    "WishStatus",
    "WishStep",
]


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Offer(Struct, frozen=True, kw_only=True):
    """A volunteer's standing offer in the supply ledger."""

    offer_id: str
    volunteer_id: str
    categories: frozenset[str]
    windows: tuple[Window, ...]
    """Weekly availability (weekday 0 = Monday, minutes from local midnight)."""
    unavailable_on: frozenset[date] = frozenset()
    """Exceptions: local dates the volunteer is away."""
    community: str
    grid: str = ""
    x_metres: int | None = None
    y_metres: int | None = None
    capacity_minutes_per_week: int
    starts_on: date
    ends_on: date | None = None
    """The last day of the offer; None: it never expires."""
    note: str = ""
    created_at: datetime
    actor: str
    withdrawn_at: datetime | None = None
    reminded_at: datetime | None = None
    """When the volunteer was reminded that the offer lapses."""

    def active_on(self, day: date) -> bool:
        return (
            self.withdrawn_at is None
            and self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
        )


class NeedStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ServiceNeed(Struct, frozen=True, kw_only=True):
    """A recipient's need in the demand ledger: once (``once_at``) or weekly (``windows``)."""

    need_id: str
    recipient_id: str
    category: str
    once_at: datetime | None = None
    windows: tuple[Window, ...] = ()
    starts_on: date
    until: date | None = None
    """The last day a weekly need recurs; None: until closed."""
    community: str
    grid: str = ""
    x_metres: int | None = None
    y_metres: int | None = None
    urgency: Urgency = Urgency.NORMAL
    estimated_minutes: int
    payer: str | None = None
    """``recipient`` (own minutes, then gifted ones), ``gifted`` (only minutes relatives
    gave), a programme account (``sponsor.x``, ``pool``), or None for the policy's default."""
    note: str = ""
    status: NeedStatus = NeedStatus.OPEN
    created_at: datetime
    actor: str
    on_behalf_of: str | None = None


class OrderStatus(StrEnum):
    REQUESTED = "requested"
    DISPATCHED = "dispatched"
    PUBLISHED = "published"
    ACCEPTED = "accepted"
    STARTED = "started"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    RATED = "rated"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class OrderAction(StrEnum):
    REQUEST = "request"
    DISPATCH = "dispatch"
    PUBLISH = "publish"
    DECLINE = "decline"
    ACCEPT = "accept"
    START = "start"
    COMPLETE = "complete"
    CONFIRM = "confirm"
    REJECT = "reject"
    RATE = "rate"
    CLOSE = "close"
    CANCEL = "cancel"
    EXPIRE = "expire"
    ESCALATE = "escalate"


_S = OrderStatus
_WAITING = frozenset({_S.REQUESTED, _S.DISPATCHED, _S.PUBLISHED})

TRANSITIONS: Final[dict[OrderAction, tuple[frozenset[OrderStatus], OrderStatus | None]]] = {
    OrderAction.DISPATCH: (frozenset({_S.REQUESTED, _S.PUBLISHED}), _S.DISPATCHED),
    OrderAction.PUBLISH: (frozenset({_S.REQUESTED}), _S.PUBLISHED),
    OrderAction.DECLINE: (frozenset({_S.DISPATCHED}), _S.REQUESTED),
    OrderAction.ACCEPT: (frozenset({_S.DISPATCHED, _S.PUBLISHED}), _S.ACCEPTED),
    OrderAction.START: (frozenset({_S.ACCEPTED}), _S.STARTED),
    OrderAction.COMPLETE: (frozenset({_S.STARTED}), _S.COMPLETED),
    OrderAction.CONFIRM: (frozenset({_S.COMPLETED}), _S.CONFIRMED),
    OrderAction.REJECT: (frozenset({_S.COMPLETED}), _S.REJECTED),
    OrderAction.RATE: (frozenset({_S.CONFIRMED}), _S.RATED),
    OrderAction.CLOSE: (frozenset({_S.CONFIRMED, _S.RATED}), _S.CLOSED),
    OrderAction.CANCEL: (_WAITING | {_S.ACCEPTED, _S.STARTED}, _S.CANCELLED),
    OrderAction.EXPIRE: (_WAITING | {_S.ACCEPTED}, _S.EXPIRED),
    OrderAction.ESCALATE: (_WAITING | {_S.ACCEPTED, _S.STARTED}, None),
}
"""Each action: the statuses it applies in, and the status it leads to (None: unchanged)."""

WAITING_STATUSES: Final = _WAITING
"""An order in one of these waits for a volunteer to accept it; it holds nothing yet."""
HOLDING_STATUSES: Final = frozenset({_S.ACCEPTED, _S.STARTED, _S.COMPLETED})
"""An order in one of these holds its payer's reserved minutes."""
OPEN_STATUSES: Final = _WAITING | HOLDING_STATUSES
"""Orders still being handled: they have deadlines and may escalate."""
CLOSED_STATUSES: Final = frozenset({_S.CLOSED, _S.REJECTED, _S.CANCELLED, _S.EXPIRED})


class OrderStep(Struct, frozen=True, kw_only=True):
    """One transition of an order: what was done, when, by whom, for whom."""

    action: OrderAction
    status: OrderStatus
    """The status after the step."""
    at: datetime
    actor: str
    on_behalf_of: str | None = None
    note: str = ""


class Order(Struct, frozen=True, kw_only=True):
    """A service order (one occurrence of a need), from request to close-out."""

    order_id: str
    need_id: str | None = None
    recipient_id: str
    category: str
    community: str
    grid: str = ""
    x_metres: int | None = None
    y_metres: int | None = None
    urgency: Urgency = Urgency.NORMAL
    estimated_minutes: int
    reserved_minutes: int
    """The credited minutes of the estimate: what acceptance holds on the payer."""
    payer: str | None = None
    scheduled_at: datetime | None = None
    policy_version: int
    status: OrderStatus = OrderStatus.REQUESTED
    requested_at: datetime
    accept_due_at: datetime
    complete_due_at: datetime | None = None
    expires_at: datetime | None = None
    escalation_level: int = 0
    """0: not escalated; n: with the n-th level of the policy's escalation chain."""
    escalate_at: datetime | None = None
    """When the order next goes up the chain, if still overdue."""
    dispatched_to: str | None = None
    volunteer_id: str | None = None
    payer_account: str | None = None
    hold_id: str | None = None
    accepted_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    actual_minutes: int | None = None
    credit_id: str | None = None
    credited_minutes: int = 0
    settled_transaction_id: str | None = None
    confirmed_at: datetime | None = None
    rating: int | None = None
    comment: str = ""
    follow_up: str = ""
    """The follow-up visit's record (回访), written at close-out."""
    closed_at: datetime | None = None
    history: tuple[OrderStep, ...] = ()

    @property
    def holding(self) -> bool:
        return self.status in HOLDING_STATUSES


class WishStatus(StrEnum):
    POSTED = "posted"
    ADOPTED = "adopted"
    FULFILLED = "fulfilled"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


class Wish(Struct, frozen=True, kw_only=True):
    """A micro-wish (微心愿): a resident's small wish, adopted and fulfilled by someone."""

    wish_id: str
    resident_id: str
    title: str
    community: str
    grid: str = ""
    posted_at: datetime
    status: WishStatus = WishStatus.POSTED
    adopter: str | None = None
    """A member id, or ``org:<name>`` for a partner organisation."""
    adopted_at: datetime | None = None
    fulfilled_at: datetime | None = None
    confirmed_at: datetime | None = None
    credit_minutes: int = 0
    """Minutes credited to the adopting member at confirmation (0: none)."""
    credit_id: str | None = None
    history: tuple[WishStep, ...] = ()


class WishStep(Struct, frozen=True, kw_only=True):
    """One transition of a micro-wish."""

    status: WishStatus
    at: datetime
    actor: str
    note: str = ""


class CareFile(Struct, frozen=True, kw_only=True):
    """One key resident's care file (一人一档) and the visits it calls for."""

    member_id: str
    visits_per_month: int
    needs: str = ""
    contacts: str = ""
    opened_at: datetime
    actor: str
    closed_at: datetime | None = None


class Visit(Struct, frozen=True, kw_only=True):
    """A recorded visit to a resident with a care file."""

    visit_id: str
    member_id: str
    visitor_id: str
    visited_at: datetime
    note: str = ""
    order_id: str | None = None
    recorded_at: datetime
    actor: str
