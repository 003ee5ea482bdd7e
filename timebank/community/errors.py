"""Every time-bank rule, as an exception named after the rule.

They extend the ledger's tree, so one mapping (``RequestInvalid`` -> 422,
``NotFound`` -> 404, ``Conflict`` -> 409, ``LimitExceeded`` -> 422) serves
both layers, and each carries a stable ``code`` and its data.

    LedgerError
    └── BankError
        ├── (RequestInvalid)
        │   ├── NameInvalid
        │   ├── BirthDateInvalid
        │   ├── RecordIdInvalid
        │   ├── TextTooLong
        │   ├── PolicyInvalid
        │   ├── CategoryUnknown
        │   ├── ChoiceUnknown
        │   ├── TimeZoneUnknown
        │   ├── ServiceMinutesOutOfRange
        │   ├── CreditRoundsToZero
        │   ├── MinutesNotPositive
        │   ├── SelfDealing
        │   ├── RelationToSelf
        │   ├── AttendeesInvalid
        │   ├── ReasonRequired
        │   ├── ScheduleInvalid
        │   ├── RatingOutOfRange
        │   └── ReportPeriodInvalid
        ├── (NotFound)
        │   ├── MemberNotFound
        │   ├── PolicyNotFound
        │   ├── NoActivePolicy
        │   ├── CreditNotFound
        │   ├── RedemptionNotFound
        │   ├── EventNotFound
        │   ├── ProgrammeAccountNotFound
        │   ├── ProxyNotFound
        │   ├── OfferNotFound
        │   ├── NeedNotFound
        │   ├── OrderNotFound
        │   ├── WishNotFound
        │   └── CareFileNotFound
        ├── (Conflict)
        │   ├── MemberExists
        │   ├── MemberNotActive
        │   ├── RelationExists
        │   ├── PolicyNotDraft
        │   ├── ActorNotAuthorised
        │   │   └── SelfApproval
        │   ├── ProviderNotEligible
        │   ├── RecipientNotEligible
        │   ├── RedemptionAgeNotReached
        │   ├── GiftNotAllowed
        │   ├── GroupMinutesOnlyDonated
        │   ├── CreditNotPending
        │   ├── CreditNotPosted
        │   ├── RedemptionNotBooked
        │   ├── MerchantRedemptionNotAllowed
        │   ├── NeedNotOpen
        │   ├── IdempotencyKeyReused
        │   ├── OrderTransitionNotAllowed
        │   ├── WishTransitionNotAllowed
        │   └── BookingsOpenAtDeath
        └── (LimitExceeded)
            ├── CreditLimitExceeded
            └── StoredMinutesCapExceeded
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from timebank.ledger.errors import Conflict, LedgerError, LimitExceeded, NotFound, RequestInvalid

__all__ = [
    "ActorNotAuthorised",
    "AttendeesInvalid",
    "BankError",
    "BirthDateInvalid",
    "BookingsOpenAtDeath",
    "CareFileNotFound",
    "CategoryUnknown",
    "ChoiceUnknown",
    "CreditLimitExceeded",
    "CreditNotFound",
    "CreditNotPending",
    "CreditNotPosted",
    "CreditRoundsToZero",
    "EventNotFound",
    "GiftNotAllowed",
    "GroupMinutesOnlyDonated",
    "IdempotencyKeyReused",
    "MemberExists",
    "MemberNotActive",
    "MemberNotFound",
    "MerchantRedemptionNotAllowed",
    "MinutesNotPositive",
    "NameInvalid",
    "NeedNotFound",
    "NeedNotOpen",
    "NoActivePolicy",
    "OfferNotFound",
    "OrderNotFound",
    "OrderTransitionNotAllowed",
    "PolicyInvalid",
    "PolicyNotDraft",
    "PolicyNotFound",
    "ProgrammeAccountNotFound",
    "ProviderNotEligible",
    "ProxyNotFound",
    "RatingOutOfRange",
    "ReasonRequired",
    "RecipientNotEligible",
    "RecordIdInvalid",
    "RedemptionAgeNotReached",
    "RedemptionNotBooked",
    "RedemptionNotFound",
    "RelationExists",
    "RelationToSelf",
    "ReportPeriodInvalid",
    "ScheduleInvalid",
    "SelfApproval",
    "SelfDealing",
    "ServiceMinutesOutOfRange",
    "StoredMinutesCapExceeded",
    "TextTooLong",
    "TimeZoneUnknown",
    "WishNotFound",
    "WishTransitionNotAllowed",
]


@dataclasses.dataclass(eq=False, kw_only=True)
class BankError(LedgerError):
    """Base of every time-bank rule."""

    code: ClassVar[str] = "bank_error"
    template: ClassVar[str] = "time-bank rule broken"


# --- the request is malformed on its own -------------------------------------


@dataclasses.dataclass(eq=False, kw_only=True)
class NameInvalid(BankError, RequestInvalid):
    code: ClassVar[str] = "name_invalid"
    template: ClassVar[str] = "a name must be 1 to {maximum} printable characters: {name!r}"
    name: str
    maximum: int


@dataclasses.dataclass(eq=False, kw_only=True)
class BirthDateInvalid(BankError, RequestInvalid):
    code: ClassVar[str] = "birth_date_invalid"
    template: ClassVar[str] = "birth date {birth_date} is in the future or before 1900"
    birth_date: str


@dataclasses.dataclass(eq=False, kw_only=True)
class RecordIdInvalid(BankError, RequestInvalid):
    code: ClassVar[str] = "record_id_invalid"
    template: ClassVar[str] = "{field} must be 1 to {maximum} letters, digits, '-', '_' or '.'"
    field: str
    maximum: int


@dataclasses.dataclass(eq=False, kw_only=True)
class TextTooLong(BankError, RequestInvalid):
    code: ClassVar[str] = "text_too_long"
    template: ClassVar[str] = "{field} is longer than {maximum} characters or not printable"
    field: str
    maximum: int


@dataclasses.dataclass(eq=False, kw_only=True)
class PolicyInvalid(BankError, RequestInvalid):
    code: ClassVar[str] = "policy_invalid"
    template: ClassVar[str] = "the policy is unusable: {problems}"
    problems: str


@dataclasses.dataclass(eq=False, kw_only=True)
class CategoryUnknown(BankError, RequestInvalid):
    code: ClassVar[str] = "category_unknown"
    template: ClassVar[str] = "category {category!r} is not one of the policy's categories"
    category: str


@dataclasses.dataclass(eq=False, kw_only=True)
class ChoiceUnknown(BankError, RequestInvalid):
    code: ClassVar[str] = "choice_unknown"
    template: ClassVar[str] = "{field} {value!r} is not one of: {choices}"
    field: str
    value: str
    choices: str


@dataclasses.dataclass(eq=False, kw_only=True)
class TimeZoneUnknown(BankError, RequestInvalid):
    """A book's time zone must be an IANA name such as ``Asia/Shanghai``."""

    code: ClassVar[str] = "time_zone_unknown"
    template: ClassVar[str] = "{timezone!r} is not a time zone (such as Asia/Shanghai)"
    timezone: str


@dataclasses.dataclass(eq=False, kw_only=True)
class ServiceMinutesOutOfRange(BankError, RequestInvalid):
    code: ClassVar[str] = "service_minutes_out_of_range"
    template: ClassVar[str] = "{raw_minutes} raw minutes is outside {minimum}..{maximum}"
    raw_minutes: int
    minimum: int
    maximum: int


@dataclasses.dataclass(eq=False, kw_only=True)
class CreditRoundsToZero(BankError, RequestInvalid):
    code: ClassVar[str] = "credit_rounds_to_zero"
    template: ClassVar[str] = "{raw_minutes} raw minutes of {category!r} credit nothing"
    category: str
    raw_minutes: int


@dataclasses.dataclass(eq=False, kw_only=True)
class MinutesNotPositive(BankError, RequestInvalid):
    code: ClassVar[str] = "minutes_not_positive"
    template: ClassVar[str] = "{field} must be a positive whole number of minutes, not {value}"
    field: str
    value: str


@dataclasses.dataclass(eq=False, kw_only=True)
class SelfDealing(BankError, RequestInvalid):
    code: ClassVar[str] = "self_dealing"
    template: ClassVar[str] = "member {member_id!r} cannot {action} themselves"
    member_id: str
    action: str


@dataclasses.dataclass(eq=False, kw_only=True)
class RelationToSelf(BankError, RequestInvalid):
    code: ClassVar[str] = "relation_to_self"
    template: ClassVar[str] = "member {member_id!r} cannot be related to themselves"
    member_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class AttendeesInvalid(BankError, RequestInvalid):
    code: ClassVar[str] = "attendees_invalid"
    template: ClassVar[str] = "attendees: {reason}"
    reason: str


@dataclasses.dataclass(eq=False, kw_only=True)
class ReasonRequired(BankError, RequestInvalid):
    code: ClassVar[str] = "reason_required"
    template: ClassVar[str] = "{action} needs a recorded reason"
    action: str


@dataclasses.dataclass(eq=False, kw_only=True)
class ScheduleInvalid(BankError, RequestInvalid):
    code: ClassVar[str] = "schedule_invalid"
    template: ClassVar[str] = "{field}: {reason}"
    field: str
    reason: str


@dataclasses.dataclass(eq=False, kw_only=True)
class RatingOutOfRange(BankError, RequestInvalid):
    code: ClassVar[str] = "rating_out_of_range"
    template: ClassVar[str] = "a rating is 1 to 5, not {rating}"
    rating: str


@dataclasses.dataclass(eq=False, kw_only=True)
class ReportPeriodInvalid(BankError, RequestInvalid):
    code: ClassVar[str] = "report_period_invalid"
    template: ClassVar[str] = "{field}: {reason}"
    field: str
    reason: str


# --- something named does not exist ----------------------------------------------


@dataclasses.dataclass(eq=False, kw_only=True)
class MemberNotFound(BankError, NotFound):
    code: ClassVar[str] = "member_not_found"
    template: ClassVar[str] = "no member {member_id!r}"
    member_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class PolicyNotFound(BankError, NotFound):
    code: ClassVar[str] = "policy_not_found"
    template: ClassVar[str] = "no policy version {version}"
    version: int


@dataclasses.dataclass(eq=False, kw_only=True)
class NoActivePolicy(BankError, NotFound):
    code: ClassVar[str] = "no_active_policy"
    template: ClassVar[str] = "book {book_id!r} has no active policy"
    book_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class CreditNotFound(BankError, NotFound):
    code: ClassVar[str] = "credit_not_found"
    template: ClassVar[str] = "no credit {credit_id!r}"
    credit_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class RedemptionNotFound(BankError, NotFound):
    code: ClassVar[str] = "redemption_not_found"
    template: ClassVar[str] = "no redemption {redemption_id!r}"
    redemption_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class EventNotFound(BankError, NotFound):
    code: ClassVar[str] = "event_not_found"
    template: ClassVar[str] = "no event {event_id!r}"
    event_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class ProgrammeAccountNotFound(BankError, NotFound):
    code: ClassVar[str] = "programme_account_not_found"
    template: ClassVar[str] = "no programme account {account_id!r}"
    account_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class ProxyNotFound(BankError, NotFound):
    code: ClassVar[str] = "proxy_not_found"
    template: ClassVar[str] = "{proxy_id!r} holds no active authorisation for {member_id!r}"
    member_id: str
    proxy_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class OfferNotFound(BankError, NotFound):
    code: ClassVar[str] = "offer_not_found"
    template: ClassVar[str] = "no offer {offer_id!r}"
    offer_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class NeedNotFound(BankError, NotFound):
    code: ClassVar[str] = "need_not_found"
    template: ClassVar[str] = "no need {need_id!r}"
    need_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class OrderNotFound(BankError, NotFound):
    code: ClassVar[str] = "order_not_found"
    template: ClassVar[str] = "no service order {order_id!r}"
    order_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class WishNotFound(BankError, NotFound):
    code: ClassVar[str] = "wish_not_found"
    template: ClassVar[str] = "no micro-wish {wish_id!r}"
    wish_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class CareFileNotFound(BankError, NotFound):
    code: ClassVar[str] = "care_file_not_found"
    template: ClassVar[str] = "member {member_id!r} has no open care file"
    member_id: str


# --- the request clashes with the book's state -----------------------------------


@dataclasses.dataclass(eq=False, kw_only=True)
class MemberExists(BankError, Conflict):
    code: ClassVar[str] = "member_exists"
    template: ClassVar[str] = "member {member_id!r} is already registered"
    member_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class MemberNotActive(BankError, Conflict):
    code: ClassVar[str] = "member_not_active"
    template: ClassVar[str] = "member {member_id!r} is {status}"
    member_id: str
    status: str


@dataclasses.dataclass(eq=False, kw_only=True)
class RelationExists(BankError, Conflict):
    code: ClassVar[str] = "relation_exists"
    template: ClassVar[str] = "{member_id!r} and {other_id!r} are already related ({kind})"
    member_id: str
    other_id: str
    kind: str


@dataclasses.dataclass(eq=False, kw_only=True)
class PolicyNotDraft(BankError, Conflict):
    code: ClassVar[str] = "policy_not_draft"
    template: ClassVar[str] = "policy version {version} is {status}; only a draft can be activated"
    version: int
    status: str


@dataclasses.dataclass(eq=False, kw_only=True)
class ActorNotAuthorised(BankError, Conflict):
    code: ClassVar[str] = "actor_not_authorised"
    template: ClassVar[str] = "{actor!r} may not {action} for {member_id!r}"
    actor: str
    action: str
    member_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class SelfApproval(ActorNotAuthorised):
    """Nobody approves, confirms or books what pays themselves: the other side must."""

    code: ClassVar[str] = "self_approval"
    template: ClassVar[str] = "{actor!r} may not {action}: it would pay {member_id!r} themselves"


@dataclasses.dataclass(eq=False, kw_only=True)
class ProviderNotEligible(BankError, Conflict):
    code: ClassVar[str] = "provider_not_eligible"
    template: ClassVar[str] = "member {member_id!r} may not provide: {reason}"
    member_id: str
    reason: str


@dataclasses.dataclass(eq=False, kw_only=True)
class RecipientNotEligible(BankError, Conflict):
    code: ClassVar[str] = "recipient_not_eligible"
    template: ClassVar[str] = "member {member_id!r} may not receive: {reason}"
    member_id: str
    reason: str


@dataclasses.dataclass(eq=False, kw_only=True)
class RedemptionAgeNotReached(BankError, Conflict):
    code: ClassVar[str] = "redemption_age_not_reached"
    template: ClassVar[str] = "member {member_id!r} is {age}; savers redeem from {age_min}"
    member_id: str
    age: int
    age_min: int


@dataclasses.dataclass(eq=False, kw_only=True)
class GiftNotAllowed(BankError, Conflict):
    code: ClassVar[str] = "gift_not_allowed"
    template: ClassVar[str] = "{giver_id!r} may not give to {receiver_id!r}: {reason}"
    giver_id: str
    receiver_id: str
    reason: str


@dataclasses.dataclass(eq=False, kw_only=True)
class GroupMinutesOnlyDonated(BankError, Conflict):
    code: ClassVar[str] = "group_minutes_only_donated"
    template: ClassVar[str] = "member {member_id!r}'s group-volunteer minutes can only be donated"
    member_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class CreditNotPending(BankError, Conflict):
    code: ClassVar[str] = "credit_not_pending"
    template: ClassVar[str] = "credit {credit_id!r} is {status}, not pending"
    credit_id: str
    status: str


@dataclasses.dataclass(eq=False, kw_only=True)
class CreditNotPosted(BankError, Conflict):
    code: ClassVar[str] = "credit_not_posted"
    template: ClassVar[str] = "credit {credit_id!r} is {status}, not posted"
    credit_id: str
    status: str


@dataclasses.dataclass(eq=False, kw_only=True)
class RedemptionNotBooked(BankError, Conflict):
    code: ClassVar[str] = "redemption_not_booked"
    template: ClassVar[str] = "redemption {redemption_id!r} is {status}, not booked"
    redemption_id: str
    status: str


@dataclasses.dataclass(eq=False, kw_only=True)
class MerchantRedemptionNotAllowed(BankError, Conflict):
    code: ClassVar[str] = "merchant_redemption_not_allowed"
    template: ClassVar[str] = (
        "the policy lets minutes buy services only, not goods at {merchant_id!r}"
    )
    merchant_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class NeedNotOpen(BankError, Conflict):
    code: ClassVar[str] = "need_not_open"
    template: ClassVar[str] = "need {need_id!r} is closed"
    need_id: str


@dataclasses.dataclass(eq=False, kw_only=True)
class IdempotencyKeyReused(BankError, Conflict):
    code: ClassVar[str] = "idempotency_key_reused"
    template: ClassVar[str] = "idempotency key {key!r} was used before for a different request"
    key: str


@dataclasses.dataclass(eq=False, kw_only=True)
class OrderTransitionNotAllowed(BankError, Conflict):
    code: ClassVar[str] = "order_transition_not_allowed"
    template: ClassVar[str] = "order {order_id!r} is {status}; it cannot {action}"
    order_id: str
    status: str
    action: str


@dataclasses.dataclass(eq=False, kw_only=True)
class WishTransitionNotAllowed(BankError, Conflict):
    code: ClassVar[str] = "wish_transition_not_allowed"
    template: ClassVar[str] = "micro-wish {wish_id!r} is {status}; it cannot be {action}"
    wish_id: str
    status: str
    action: str


@dataclasses.dataclass(eq=False, kw_only=True)
class BookingsOpenAtDeath(BankError, Conflict):
    """A death is recorded once nothing holds the member's minutes, so none are stranded."""

    code: ClassVar[str] = "bookings_open_at_death"
    template: ClassVar[str] = (
        "member {member_id!r} has {held_minutes} minutes held for bookings and"
        " {incoming_minutes} awaiting confirmation; settle them first: {bookings}"
    )
    member_id: str
    held_minutes: int
    incoming_minutes: int
    bookings: str


# --- a balance would leave the bounds the policy sets --------------------------------


@dataclasses.dataclass(eq=False, kw_only=True)
class CreditLimitExceeded(BankError, LimitExceeded):
    code: ClassVar[str] = "credit_limit_exceeded"
    template: ClassVar[str] = (
        "member {member_id!r} has {available_minutes} minutes to spend"
        " (credit limit {credit_limit_minutes}); {requested_minutes} requested"
    )
    member_id: str
    available_minutes: int
    credit_limit_minutes: int
    requested_minutes: int


@dataclasses.dataclass(eq=False, kw_only=True)
class StoredMinutesCapExceeded(BankError, LimitExceeded):
    code: ClassVar[str] = "stored_minutes_cap_exceeded"
    template: ClassVar[str] = (
        "member {member_id!r} holds {stored_minutes} of at most {cap_minutes} minutes;"
        " {requested_minutes} more refused"
    )
    member_id: str
    stored_minutes: int
    cap_minutes: int
    requested_minutes: int
