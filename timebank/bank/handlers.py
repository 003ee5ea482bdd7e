"""The handler table: which use case runs each command.

``HANDLERS`` maps every command of ``timebank.bank.commands`` to a handler
``(command, ctx) -> result`` that runs one use case of ``timebank.bank`` in the
unit of work ``ctx``. A use case receives the command's fields by name
(``tests/bank/test_commands.py`` proves every use case's parameters are its
command's fields), after the few preparations a command needs: a new record id
when the caller gave none, and the redemption's kind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

from msgspec.structs import asdict

from timebank.bank import (
    care,
    credits,
    events,
    gifts,
    members,
    orders,
    outbox,
    programme,
    redemptions,
    supply,
    wishes,
)
from timebank.bank.checks import check_choices, check_ids, check_record_id
from timebank.bank.commands import (
    AcceptOrder,
    AckOutbox,
    ActivatePolicy,
    AddMerchant,
    AddNeed,
    AddOffer,
    AddPolicy,
    AddSponsor,
    AdoptWish,
    AuthoriseProxy,
    BookRedemption,
    CancelOrder,
    CancelRedemption,
    CloseCareFile,
    CloseNeed,
    CloseOrder,
    Command,
    CompleteOrder,
    CompleteRedemption,
    ConfirmCredit,
    ConfirmOrder,
    ConfirmWish,
    CreateEvent,
    CreditEvent,
    CreditService,
    DeclineOrder,
    DispatchOrder,
    DisputeCredit,
    Donate,
    ExpireMinutes,
    FulfilWish,
    Give,
    Grant,
    OpenCareFile,
    PostWish,
    PublishOrder,
    RateOrder,
    RecordDeath,
    RecordVisit,
    RegisterMember,
    RejectOrder,
    Relate,
    RequestOrder,
    ReverseCredit,
    RevokeProxy,
    RunDeadlines,
    StartOrder,
    UpdateMember,
    UpdateOffer,
    WithdrawOffer,
    WithdrawWish,
)
from timebank.bank.context import Context
from timebank.community.errors import AttendeesInvalid
from timebank.community.limits import FLAG_LENGTH_MAX, ID_LENGTH_MAX
from timebank.community.model import RedemptionKind, Role

__all__ = ["HANDLERS", "Handler", "new_id", "use_case_of"]

Handler = Callable[[Command[Any], Context], Any]
Fields = dict[str, Any]


def new_id(given: object, field: str, length: int = 32) -> str:
    """The caller's id for a new record, checked, or a fresh one of ``length`` hex digits."""
    if given is None:
        return uuid.uuid4().hex[:length]
    return check_record_id(field, given, ID_LENGTH_MAX)


def _fresh(field: str, *, to: str | None = None, length: int = 32) -> Callable[[Fields], Fields]:
    """A new record id in ``field`` (renamed ``to``, for the use case), when none is given."""

    def prepare(fields: Fields) -> Fields:
        fields[to or field] = new_id(fields.pop(field), field, length)
        return fields

    return prepare


def _programme(kind: str, field: str) -> Callable[[Fields], Fields]:
    def prepare(fields: Fields) -> Fields:
        return {"kind": kind, "programme_id": fields[field], "name": fields["name"]}

    return prepare


def _member(fields: Fields) -> Fields:
    if fields["member_id"] is None:
        fields["member_id"] = uuid.uuid4().hex[:16]  # checked by the use case, like a given one
    return _member_change(fields)


def _member_change(fields: Fields) -> Fields:
    if fields["roles"] is not None:
        fields["roles"] = check_choices("roles", Role, fields["roles"])
    if fields["flags"] is not None:
        fields["flags"] = frozenset(check_ids("flag", fields["flags"], FLAG_LENGTH_MAX))
    if fields["coordinates"] is not None:
        fields["coordinates"] = frozenset(fields["coordinates"])
    return fields


def _death(fields: Fields) -> Fields:
    fields["heirs"] = check_ids("heirs", fields["heirs"])
    return fields


def _redemption(fields: Fields) -> Fields:
    merchant = fields["merchant_id"] is not None
    fields["kind"] = RedemptionKind.GOODS if merchant else RedemptionKind.SERVICE
    return _fresh("request_id", to="redemption_id")(fields)


def _attendees(fields: Fields) -> Fields:
    if not isinstance(fields["attendees"], Mapping):
        raise AttendeesInvalid(reason="a mapping of member ids to raw minutes is needed")
    fields["attendees"] = dict(fields["attendees"])
    fields["request_id"] = new_id(fields["request_id"], "request_id")
    return fields


def _event(fields: Fields) -> Fields:
    fields["event_id"] = new_id(fields["event_id"], "request_id")
    return fields


def _handler(
    use_case: Callable[..., Any], prepare: Callable[[Fields], Fields] | None = None
) -> Handler:
    def handle(command: Command[Any], ctx: Context) -> Any:
        fields = asdict(command)
        if prepare is not None:
            fields = prepare(fields)
        return use_case(ctx, **fields)

    handle.__wrapped__ = use_case  # type: ignore[attr-defined]
    handle.__doc__ = use_case.__doc__
    return handle


HANDLERS: Final[dict[type[Command[Any]], Handler]] = {
    # programme
    AddPolicy: _handler(programme.add_policy),
    ActivatePolicy: _handler(programme.activate_policy),
    AddSponsor: _handler(programme.add_programme_account, _programme("sponsor", "sponsor_id")),
    AddMerchant: _handler(programme.add_programme_account, _programme("merchant", "merchant_id")),
    ExpireMinutes: _handler(programme.expire_minutes),
    # members
    RegisterMember: _handler(members.register_member, _member),
    UpdateMember: _handler(members.update_member, _member_change),
    Relate: _handler(members.relate),
    AuthoriseProxy: _handler(members.authorise_proxy),
    RevokeProxy: _handler(members.revoke_proxy),
    RecordDeath: _handler(members.record_death, _death),
    # credits
    CreditService: _handler(credits.credit_service, _fresh("request_id", to="credit_id")),
    ConfirmCredit: _handler(credits.confirm_credit),
    DisputeCredit: _handler(credits.dispute_credit),
    ReverseCredit: _handler(credits.reverse_credit),
    # redemptions
    BookRedemption: _handler(redemptions.book_redemption, _redemption),
    CompleteRedemption: _handler(redemptions.complete_redemption),
    CancelRedemption: _handler(redemptions.cancel_redemption),
    # gifts
    Give: _handler(gifts.give, _fresh("request_id", to="gift_id")),
    Donate: _handler(gifts.donate, _fresh("request_id", to="donation_id")),
    Grant: _handler(gifts.grant, _fresh("request_id", to="grant_id")),
    # events
    CreateEvent: _handler(events.create_event, _event),
    CreditEvent: _handler(events.credit_event, _attendees),
    # supply
    AddOffer: _handler(supply.add_offer, _fresh("offer_id", length=16)),
    UpdateOffer: _handler(supply.update_offer),
    WithdrawOffer: _handler(supply.withdraw_offer),
    AddNeed: _handler(supply.add_need, _fresh("need_id", length=16)),
    CloseNeed: _handler(supply.close_need),
    # orders
    RequestOrder: _handler(orders.request_order, _fresh("order_id", length=16)),
    DispatchOrder: _handler(orders.dispatch_order),
    PublishOrder: _handler(orders.publish_order),
    DeclineOrder: _handler(orders.decline_order),
    AcceptOrder: _handler(orders.accept_order),
    StartOrder: _handler(orders.start_order),
    CompleteOrder: _handler(orders.complete_order),
    ConfirmOrder: _handler(orders.confirm_order),
    RejectOrder: _handler(orders.reject_order),
    RateOrder: _handler(orders.rate_order),
    CloseOrder: _handler(orders.close_order),
    CancelOrder: _handler(orders.cancel_order),
    RunDeadlines: _handler(orders.run_deadlines),
    # outbox
    AckOutbox: _handler(outbox.ack_outbox),
    # wishes
    PostWish: _handler(wishes.post_wish, _fresh("wish_id", length=16)),
    AdoptWish: _handler(wishes.adopt_wish),
    FulfilWish: _handler(wishes.fulfil_wish),
    ConfirmWish: _handler(wishes.confirm_wish),
    WithdrawWish: _handler(wishes.withdraw_wish),
    # care
    OpenCareFile: _handler(care.open_care_file),
    CloseCareFile: _handler(care.close_care_file),
    RecordVisit: _handler(care.record_visit, _fresh("visit_id", length=16)),
}
"""Every command, and the handler that runs its use case."""


def use_case_of(command_type: type[Command[Any]]) -> Callable[..., Any]:
    """The use case function a command runs (what ``HANDLERS`` wraps)."""
    handler: Any = HANDLERS[command_type]
    use_case: Callable[..., Any] = handler.__wrapped__
    return use_case
