"""Every write timebank does, as data: one frozen command per use case.

A command names everything its use case needs, with the limits of
``timebank.community.limits``. The facade runs it (``book.execute(command,
actor=...)`` or the capability's method, ``book.orders.accept(...)``), the HTTP
API decodes request bodies straight into it (so the OpenAPI schema states the
facade's own limits), and the CLI and the pages build it. ``COMMANDS`` lists
them by capability: what an embedding application can ask of a book.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from msgspec import Meta, Struct

from timebank.bank.orders import DeadlineRun
from timebank.bank.programme import MinutesExpiry
from timebank.bank.records import Programme
from timebank.community.exchange import CareFile, Offer, Order, ServiceNeed, Urgency, Visit, Wish
from timebank.community.limits import (
    CATEGORIES_MAX,
    FLAGS_MAX,
    Attendees,
    Category,
    Community,
    Dates,
    Flag,
    MemberId,
    MemberIds,
    Name,
    RecordId,
    Seqs,
    Text,
    Title,
)
from timebank.community.matching import WINDOWS_MAX, Window
from timebank.community.model import (
    Credit,
    Event,
    Member,
    MemberStatus,
    PolicyVersion,
    Provenance,
    Proxy,
    Redemption,
    Relation,
    RelationKind,
    Role,
    Vetting,
)
from timebank.community.policy import PolicyRules

__all__ = [
    "CAPABILITIES",
    "COMMANDS",
    "AcceptOrder",
    "AckOutbox",
    "ActivatePolicy",
    "AddMerchant",
    "AddNeed",
    "AddOffer",
    "AddPolicy",
    "AddSponsor",
    "AdoptWish",
    "AuthoriseProxy",
    "BookRedemption",
    "CancelOrder",
    "CancelRedemption",
    "CloseCareFile",
    "CloseNeed",
    "CloseOrder",
    "Command",
    "CompleteOrder",
    "CompleteRedemption",
    "ConfirmCredit",
    "ConfirmOrder",
    "ConfirmWish",
    "CreateEvent",
    "CreditEvent",
    "CreditService",
    "DeclineOrder",
    "DispatchOrder",
    "DisputeCredit",
    "Donate",
    "ExpireMinutes",
    "FulfilWish",
    "Give",
    "Grant",
    "OpenCareFile",
    "PostWish",
    "PublishOrder",
    "RateOrder",
    "RecordDeath",
    "RecordVisit",
    "RegisterMember",
    "RejectOrder",
    "Relate",
    "RequestOrder",
    "ReverseCredit",
    "RevokeProxy",
    "RunDeadlines",
    "StartOrder",
    "UpdateMember",
    "UpdateOffer",
    "WithdrawOffer",
    "WithdrawWish",
]

R = TypeVar("R")

Payer = Name
"""A programme account (``pool``, ``guarantee``) or a sponsor's id."""
Flags = Annotated[Set[Flag], Meta(max_length=FLAGS_MAX)]
Windows = Annotated[Sequence[Window], Meta(max_length=WINDOWS_MAX)]
Categories = Annotated[Sequence[Category], Meta(min_length=1, max_length=CATEGORIES_MAX)]


class Command(Struct, Generic[R], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One use case's input; ``R`` is what running it returns."""


class AddPolicy(Command[PolicyVersion], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Add a draft version of the book's rules (administrators)."""

    rules: PolicyRules


class ActivatePolicy(Command[PolicyVersion], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Put a policy version in force (administrators)."""

    version: int


class AddSponsor(Command[Programme], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Open a sponsor's account, which may pay for services and events."""

    sponsor_id: MemberId
    name: Name


class AddMerchant(Command[Programme], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Open a merchant's account, where savers redeem minutes for goods."""

    merchant_id: MemberId
    name: Name


class ExpireMinutes(Command[MinutesExpiry], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Expire old minutes for a batch of members, if the policy sets an expiry."""

    after: MemberId | None = None
    limit: int = 100


class RegisterMember(Command[Member], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Register a member and open their time account (with any starting grant).

    ``coordinates`` names the communities a coordinator serves besides their own."""

    name: Name
    birth_date: date
    community: Community
    member_id: MemberId | None = None
    grid: Name = ""
    roles: Set[Role] = frozenset()
    vetting: Vetting = Vetting.PENDING
    flags: Flags = frozenset()
    coordinates: Set[Community] = frozenset()


class UpdateMember(Command[Member], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Change a member's grid, roles, vetting, flags, status or communities (None: unchanged)."""

    member_id: MemberId
    grid: Name | None = None
    roles: Set[Role] | None = None
    vetting: Vetting | None = None
    flags: Flags | None = None
    status: MemberStatus | None = None
    coordinates: Set[Community] | None = None


class Relate(Command[Relation], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Record that two members are relatives (coordinators only)."""

    member_id: MemberId
    other_id: MemberId
    kind: RelationKind


class AuthoriseProxy(Command[Proxy], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Let ``proxy_id`` act for ``member_id`` (a relative, a neighbour, the centre)."""

    member_id: MemberId
    proxy_id: MemberId
    note: Text = ""


class RevokeProxy(Command[Proxy], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """End a proxy's authority."""

    member_id: MemberId
    proxy_id: MemberId


class RecordDeath(Command[str | None], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Record a death; returns the estate's transaction id if minutes moved."""

    member_id: MemberId
    died_on: date
    heirs: MemberIds = ()


class CreditService(Command[Credit], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Credit a provider for a service: posted now, or held on the payer until confirmed."""

    provider_id: MemberId
    recipient_id: MemberId
    category: Category
    raw_minutes: int
    served_at: datetime
    provenance: Provenance
    place: Text = ""
    payer: Payer | None = None
    note: Text = ""
    request_id: RecordId | None = msgspec.field(default=None, name="credit_id")
    """A retry with the same id is the same request (``credit_id`` in JSON)."""


class ConfirmCredit(Command[Credit], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The recipient's side confirms a held credit, which posts it."""

    credit_id: RecordId


class DisputeCredit(Command[Credit], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The recipient's side disputes a held credit."""

    credit_id: RecordId
    reason: Text


class ReverseCredit(Command[Credit], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Reverse a credit: a held one is released, a posted one is undone by a reversal."""

    credit_id: RecordId
    reason: Text


class BookRedemption(Command[Redemption], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hold a saver's minutes for a service (``provider_id``) or goods (``merchant_id``)."""

    saver_id: MemberId
    minutes: int
    provider_id: MemberId | None = None
    merchant_id: MemberId | None = None
    category: Name = ""
    request_id: RecordId | None = msgspec.field(default=None, name="redemption_id")
    """A retry with the same id is the same request (``redemption_id`` in JSON)."""


class CompleteRedemption(
    Command[Redemption], frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """Spend what a booked redemption used; the rest of the hold returns to the saver."""

    redemption_id: RecordId
    spent_minutes: int


class CancelRedemption(Command[Redemption], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Cancel a booked redemption; its minutes return to the saver."""

    redemption_id: RecordId


class Give(Command[str], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Give earned minutes to a relative; returns the transaction id."""

    giver_id: MemberId
    receiver_id: MemberId
    minutes: int
    request_id: RecordId | None = msgspec.field(default=None, name="gift_id")
    """A retry with the same id is the same request (``gift_id`` in JSON)."""


class Donate(Command[str], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Donate minutes to the community pool; returns the transaction id."""

    member_id: MemberId
    minutes: int
    group: bool = False
    request_id: RecordId | None = msgspec.field(default=None, name="donation_id")
    """A retry with the same id is the same request (``donation_id`` in JSON)."""


class Grant(Command[str], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Grant minutes from the pool (or a fund) to a member in need; returns the transaction id."""

    member_id: MemberId
    minutes: int
    reason: Text
    source: Payer = "pool"
    request_id: RecordId | None = msgspec.field(default=None, name="grant_id")
    """A retry with the same id is the same request (``grant_id`` in JSON)."""


class CreateEvent(Command[Event], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Record a group event (a class, a clean-up) whose attendees are credited together."""

    title: Title
    category: Category
    held_at: datetime
    place: Text = ""
    payer: Payer | None = None
    group: bool = True
    event_id: RecordId | None = None


class CreditEvent(
    Command[tuple[Credit, ...]], frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """Credit attendees (member id -> raw minutes) in one transaction."""

    event_id: RecordId
    attendees: Attendees
    request_id: RecordId | None = None


class AddOffer(Command[Offer], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Record a volunteer's offer (供给台账); ``ends_on=None`` means it never expires."""

    volunteer_id: MemberId
    categories: Categories
    windows: Windows
    capacity_minutes_per_week: int
    offer_id: RecordId | None = None
    unavailable_on: Dates = ()
    starts_on: date | None = None
    ends_on: date | None = None
    grid: Name | None = None
    x_metres: int | None = None
    y_metres: int | None = None
    note: Text = ""


class UpdateOffer(Command[Offer], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Change an offer's windows, exceptions, capacity or end (None: unchanged)."""

    offer_id: RecordId
    windows: Windows | None = None
    unavailable_on: Dates | None = None
    capacity_minutes_per_week: int | None = None
    ends_on: date | None = None
    never_expires: bool = False


class WithdrawOffer(Command[Offer], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Withdraw an offer."""

    offer_id: RecordId


class AddNeed(Command[ServiceNeed], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Record a recipient's need (需求台账): once (``once_at``) or weekly (``windows``)."""

    recipient_id: MemberId
    category: Category
    estimated_minutes: int
    need_id: RecordId | None = None
    once_at: datetime | None = None
    windows: Windows = ()
    starts_on: date | None = None
    until: date | None = None
    grid: Name | None = None
    x_metres: int | None = None
    y_metres: int | None = None
    urgency: Urgency = Urgency.NORMAL
    payer: Payer | None = None
    note: Text = ""


class CloseNeed(Command[ServiceNeed], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Close a need."""

    need_id: RecordId


class RequestOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Order a service (点单), from a need or directly; a repeated ``order_id`` returns it."""

    need_id: RecordId | None = None
    recipient_id: MemberId | None = None
    category: Category | None = None
    estimated_minutes: int | None = None
    scheduled_at: datetime | None = None
    payer: Payer | None = None
    urgency: Urgency | None = None
    order_id: RecordId | None = None


class DispatchOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Dispatch an order to one volunteer (派单)."""

    order_id: RecordId
    volunteer_id: MemberId


class PublishOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Publish an order to the community, for any vetted volunteer to claim (全员接单)."""

    order_id: RecordId


class DeclineOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The dispatched volunteer declines; the order waits for dispatch again."""

    order_id: RecordId
    reason: Text


class AcceptOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A volunteer accepts an order (接单)."""

    order_id: RecordId
    volunteer_id: MemberId


class StartOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The volunteer starts the service."""

    order_id: RecordId


class CompleteOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The volunteer completes the service (办结) and reports the minutes it took."""

    order_id: RecordId
    actual_minutes: int


class ConfirmOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The recipient's side confirms the service, which credits the volunteer."""

    order_id: RecordId


class RejectOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The recipient's side rejects the completed service."""

    order_id: RecordId
    reason: Text


class RateOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The recipient's side rates the service, 1 to 5."""

    order_id: RecordId
    rating: int
    comment: Text = ""


class CloseOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A coordinator closes out the order (销号) with the follow-up visit's note (回访)."""

    order_id: RecordId
    follow_up: Text


class CancelOrder(Command[Order], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Cancel an order that has not been completed."""

    order_id: RecordId
    reason: Text


class RunDeadlines(Command[DeadlineRun], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Escalate or expire orders past their deadlines (administrators; a batch at a time)."""

    limit: int = 100


class AckOutbox(Command[int], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Mark notifications delivered; returns how many were newly marked."""

    seqs: Seqs


class PostWish(Command[Wish], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Post a resident's micro-wish (微心愿)."""

    resident_id: MemberId
    title: Text
    wish_id: RecordId | None = None


class AdoptWish(Command[Wish], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Adopt a wish for a member (their id) or a partner organisation (``org:<name>``)."""

    wish_id: RecordId
    adopter: Name


class FulfilWish(Command[Wish], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The adopter fulfils the wish."""

    wish_id: RecordId


class ConfirmWish(Command[Wish], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Confirm a fulfilled wish; a coordinator may credit a member adopter minutes."""

    wish_id: RecordId
    credit_minutes: Annotated[int, Meta(ge=0)] = 0
    """Minutes the programme credits a member adopter (coordinators only; 0: none)."""


class WithdrawWish(Command[Wish], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Withdraw a wish nobody has fulfilled."""

    wish_id: RecordId


class OpenCareFile(Command[CareFile], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Open a care file for a member who is to be visited ``visits_per_month`` times."""

    member_id: MemberId
    visits_per_month: int
    needs: Text = ""
    contacts: Text = ""


class CloseCareFile(Command[CareFile], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Close a member's care file."""

    member_id: MemberId


class RecordVisit(Command[Visit], frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Record a visit to a member with a care file."""

    member_id: MemberId
    visitor_id: MemberId
    visited_at: datetime
    note: Text = ""
    order_id: RecordId | None = None
    visit_id: RecordId | None = None


COMMANDS: dict[str, tuple[type[Command[Any]], ...]] = {
    "programme": (
        AddPolicy,
        ActivatePolicy,
        AddSponsor,
        AddMerchant,
        ExpireMinutes,
    ),
    "members": (
        RegisterMember,
        UpdateMember,
        Relate,
        AuthoriseProxy,
        RevokeProxy,
        RecordDeath,
    ),
    "credits": (
        CreditService,
        ConfirmCredit,
        DisputeCredit,
        ReverseCredit,
    ),
    "redemptions": (
        BookRedemption,
        CompleteRedemption,
        CancelRedemption,
    ),
    "gifts": (
        Give,
        Donate,
        Grant,
    ),
    "events": (
        CreateEvent,
        CreditEvent,
    ),
    "supply": (
        AddOffer,
        UpdateOffer,
        WithdrawOffer,
        AddNeed,
        CloseNeed,
    ),
    "orders": (
        RequestOrder,
        DispatchOrder,
        PublishOrder,
        DeclineOrder,
        AcceptOrder,
        StartOrder,
        CompleteOrder,
        ConfirmOrder,
        RejectOrder,
        RateOrder,
        CloseOrder,
        CancelOrder,
        RunDeadlines,
    ),
    "outbox": (AckOutbox,),
    "wishes": (
        PostWish,
        AdoptWish,
        FulfilWish,
        ConfirmWish,
        WithdrawWish,
    ),
    "care": (
        OpenCareFile,
        CloseCareFile,
        RecordVisit,
    ),
}
"""The commands of each capability of a book, in the order the capability lists them."""

CAPABILITIES = tuple(COMMANDS)
