"""What a book can do, in capabilities: ``book.members``, ``book.orders``, ``book.reports``...

Each capability is a small object over its book's one unit runner. Its
writes take one command (``timebank.bank.commands``) and run it through
``BankBook.execute``; its reads run over one consistent snapshot as the
caller (``actor``), who sees only what the ``Viewer`` lets them see.
"""

from __future__ import annotations

import builtins
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from timebank.bank import care, orders, reports, supply, wishes
from timebank.bank.care import VisitsDue
from timebank.bank.checks import (
    check_choice,
    check_cursor,
    check_moment,
    check_record_id,
    check_text,
    is_day,
)
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
from timebank.bank.context import SYSTEM, Snapshot
from timebank.bank.credits import sees_credit, visible_credit
from timebank.bank.dispatch import admitted, order_week
from timebank.bank.listing import merged_pages
from timebank.bank.matching import WAITING, need_of, week_of
from timebank.bank.orders import DeadlineRun
from timebank.bank.outbox import SEQ_MAX
from timebank.bank.passbook_print import PrintedPassbook, printed_passbook
from timebank.bank.programme import MinutesExpiry
from timebank.bank.records import Programme, Records
from timebank.bank.redemptions import visible_redemption
from timebank.bank.statements import MemberBalance, balances, liability, passbook
from timebank.community.errors import (
    CareFileNotFound,
    EventNotFound,
    ProgrammeAccountNotFound,
    RecordIdInvalid,
    ReportPeriodInvalid,
)
from timebank.community.exchange import (
    CareFile,
    Offer,
    Order,
    OrderStatus,
    ServiceNeed,
    Visit,
    Wish,
)
from timebank.community.limits import ID_LENGTH_MAX, MEMBER_ID_LENGTH_MAX, NAME_LENGTH_MAX
from timebank.community.matching import Ranked, WeekMatch, match_week, rank
from timebank.community.model import (
    Credit,
    CreditStatus,
    Event,
    Member,
    PassbookPage,
    PolicyVersion,
    Proxy,
    Redemption,
    Relation,
)
from timebank.community.port import OrderQuery, OutboxMessage
from timebank.ledger import PageSizeOutOfRange
from timebank.ledger.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from timebank.ledger.verify import VerifyReport

if TYPE_CHECKING:
    from timebank.bank.facade import BankBook


T = TypeVar("T")

SUGGESTIONS_MAX = 200
BOARD_MAX = 100


def _page_limit(limit: int) -> int:
    if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
        raise PageSizeOutOfRange(limit=limit if type(limit) is int else -1, maximum=PAGE_SIZE_MAX)
    return limit


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


def _limit(limit: int, maximum: int = PAGE_SIZE_MAX) -> int:
    if type(limit) is not int or not 1 <= limit <= maximum:
        raise PageSizeOutOfRange(limit=limit if type(limit) is int else -1, maximum=maximum)
    return limit


def _after(after: str | None) -> str | None:
    return None if after is None else check_record_id("after", after, ID_LENGTH_MAX)


def _found(value: T | None, error: Exception) -> T:
    if value is None:
        raise error
    return value


def _offers_of(
    records: Records, volunteer: str | None, after: str | None, limit: int
) -> list[Offer]:
    return records.offers_page(volunteer_id=volunteer, after=after, limit=limit)


def _offer_key(offer: Offer) -> str:
    return offer.offer_id


def _needs_of(
    records: Records, recipient: str | None, after: str | None, limit: int
) -> list[ServiceNeed]:
    return records.needs_page(recipient_id=recipient, after=after, limit=limit)


def _need_key(need: ServiceNeed) -> str:
    return need.need_id


class Capability:
    """One area of a book's work, run through the book's unit runner."""

    def __init__(self, book: BankBook) -> None:
        self._book = book


class ProgrammeOffice(Capability):
    """The book's policy versions, programme accounts (sponsors, merchants) and expiry."""

    def policy(self, *, actor: str = SYSTEM) -> PolicyVersion:
        """The policy version in force (anyone of the book may read the rules)."""
        return self._book.read(lambda snap, _: snap.policy(), actor)

    def policies(self, *, actor: str = SYSTEM) -> builtins.list[PolicyVersion]:
        return self._book.read(lambda snap, _: snap.records.policies(), actor)

    def add_policy(self, command: AddPolicy, *, actor: str) -> PolicyVersion:
        return self._book.execute(command, actor=actor)

    def activate_policy(self, command: ActivatePolicy, *, actor: str) -> PolicyVersion:
        return self._book.execute(command, actor=actor)

    def add_sponsor(self, command: AddSponsor, *, actor: str) -> Programme:
        return self._book.execute(command, actor=actor)

    def add_merchant(self, command: AddMerchant, *, actor: str) -> Programme:
        return self._book.execute(command, actor=actor)

    def expire_minutes(self, command: ExpireMinutes, *, actor: str) -> MinutesExpiry:
        return self._book.execute(command, actor=actor)


class Members(Capability):
    """Members, their relatives and proxies, and deaths."""

    def register(self, command: RegisterMember, *, actor: str) -> Member:
        return self._book.execute(command, actor=actor)

    def get(self, member_id: str, *, actor: str = SYSTEM) -> Member:
        return self._book.read(lambda snap, _: snap.visible_member(member_id), actor)

    def list(
        self,
        *,
        community: str | None = None,
        after: str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        actor: str = SYSTEM,
    ) -> builtins.list[Member]:
        """A page of the members the caller coordinates, in id order (of one community)."""
        limit = _page_limit(limit)
        if community is not None:
            check_text("community", community, NAME_LENGTH_MAX)
        if after is not None:
            check_record_id("after", after)

        def reading(snap: Snapshot, _: Any) -> builtins.list[Member]:
            viewer = snap.viewer
            viewer.require_staff("list members")
            if community is not None:
                chosen: tuple[str | None, ...] = (community,) if viewer.covers(community) else ()
            else:
                chosen = (None,) if viewer.everywhere else tuple(sorted(viewer.communities))
            fetches = [partial(_members_of, snap.records, c) for c in chosen]
            return merged_pages(fetches, _member_key, lambda _: True, after, limit)

        return self._book.read(reading, actor)

    def find(
        self, query: str, *, limit: int = PAGE_SIZE_DEFAULT, actor: str = SYSTEM
    ) -> builtins.list[Member]:
        """Members the caller coordinates whose name, pinyin or initials contain ``query``."""
        limit = _page_limit(limit)
        needle = check_text("query", query, NAME_LENGTH_MAX).strip().lower()
        compact = needle.replace(" ", "")

        def matches(member: Member) -> bool:
            return (
                needle in member.name.lower()
                or compact in member.name_key.replace(" ", "")
                or compact in member.name_initials
            )

        def reading(snap: Snapshot, _: Any) -> builtins.list[Member]:
            viewer = snap.viewer
            viewer.require_staff("find members")
            found = [
                m
                for m in snap.records.all_members()
                if needle and viewer.covers(m.community) and matches(m)
            ]
            return sorted(found, key=lambda m: (m.name_key, m.member_id))[:limit]

        return self._book.read(reading, actor)

    def update(self, command: UpdateMember, *, actor: str) -> Member:
        return self._book.execute(command, actor=actor)

    def relate(self, command: Relate, *, actor: str) -> Relation:
        return self._book.execute(command, actor=actor)

    def relations(self, member_id: str, *, actor: str = SYSTEM) -> builtins.list[Relation]:
        """The member's relations, each naming what the other member is to them."""

        def reading(snap: Snapshot, _: Any) -> builtins.list[Relation]:
            snap.visible_member(check_record_id("member_id", member_id))
            return snap.records.relations(member_id)

        return self._book.read(reading, actor)

    def authorise_proxy(self, command: AuthoriseProxy, *, actor: str) -> Proxy:
        return self._book.execute(command, actor=actor)

    def revoke_proxy(self, command: RevokeProxy, *, actor: str) -> Proxy:
        return self._book.execute(command, actor=actor)

    def proxies(self, member_id: str, *, actor: str = SYSTEM) -> builtins.list[Proxy]:
        """Every authorisation to act for the member, revoked ones included."""

        def reading(snap: Snapshot, _: Any) -> builtins.list[Proxy]:
            snap.visible_member(check_record_id("member_id", member_id))
            return snap.records.proxies(member_id)

        return self._book.read(reading, actor)

    def acting_for(self, *, actor: str) -> builtins.list[Member]:
        """The members ``actor`` may act for: themselves, then those who authorised them."""

        def reading(snap: Snapshot, _: Any) -> builtins.list[Member]:
            return [snap.member(member_id) for member_id in snap.viewer.principals()]

        return self._book.read(reading, actor)

    def record_death(self, command: RecordDeath, *, actor: str) -> str | None:
        return self._book.execute(command, actor=actor)


class Credits(Capability):
    """Credits for services: recorded, confirmed, disputed, reversed, listed."""

    def record(self, command: CreditService, *, actor: str) -> Credit:
        return self._book.execute(command, actor=actor)

    def confirm(self, command: ConfirmCredit, *, actor: str) -> Credit:
        return self._book.execute(command, actor=actor)

    def dispute(self, command: DisputeCredit, *, actor: str) -> Credit:
        return self._book.execute(command, actor=actor)

    def reverse(self, command: ReverseCredit, *, actor: str) -> Credit:
        return self._book.execute(command, actor=actor)

    def list(
        self,
        *,
        status: CreditStatus | None = None,
        provider_id: str | None = None,
        after: str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        actor: str = SYSTEM,
    ) -> builtins.list[Credit]:
        """A page of the credits the caller may see, in id order: of one status (``pending``:
        awaiting confirmation), of one provider, or both."""
        limit = _page_limit(limit)
        chosen = None if status is None else check_choice("status", CreditStatus, status)
        if provider_id is not None:
            check_record_id("provider_id", provider_id)
        if after is not None:
            check_cursor("after", after, ID_LENGTH_MAX + MEMBER_ID_LENGTH_MAX + 1)

        def reading(snap: Snapshot, _: Any) -> builtins.list[Credit]:
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

        return self._book.read(reading, actor)

    def get(self, credit_id: str, *, actor: str = SYSTEM) -> Credit:
        return self._book.read(lambda snap, _: visible_credit(snap, credit_id), actor)


class Redemptions(Capability):
    """Banked minutes redeemed for a service or goods."""

    def book(self, command: BookRedemption, *, actor: str) -> Redemption:
        return self._book.execute(command, actor=actor)

    def complete(self, command: CompleteRedemption, *, actor: str) -> Redemption:
        return self._book.execute(command, actor=actor)

    def cancel(self, command: CancelRedemption, *, actor: str) -> Redemption:
        return self._book.execute(command, actor=actor)

    def get(self, redemption_id: str, *, actor: str = SYSTEM) -> Redemption:
        return self._book.read(lambda snap, _: visible_redemption(snap, redemption_id), actor)


class Gifts(Capability):
    """Minutes given to relatives, donated to the pool, granted from it."""

    def give(self, command: Give, *, actor: str) -> str:
        return self._book.execute(command, actor=actor)

    def donate(self, command: Donate, *, actor: str) -> str:
        return self._book.execute(command, actor=actor)

    def grant(self, command: Grant, *, actor: str) -> str:
        return self._book.execute(command, actor=actor)


class Events(Capability):
    """Group events and their attendees' credits."""

    def create(self, command: CreateEvent, *, actor: str) -> Event:
        return self._book.execute(command, actor=actor)

    def credit(self, command: CreditEvent, *, actor: str) -> tuple[Credit, ...]:
        return self._book.execute(command, actor=actor)

    def credits(self, event_id: str, *, actor: str = SYSTEM) -> builtins.list[Credit]:
        """Every credit of an event the caller may see, by attendee, reversed ones included."""

        def reading(snap: Snapshot, _: Any) -> builtins.list[Credit]:
            snap.viewer.require_staff("read an event's credits")
            check_record_id("event_id", event_id, ID_LENGTH_MAX)
            if snap.records.event(event_id) is None:
                raise EventNotFound(event_id=event_id)
            return [c for c in snap.records.event_credits(event_id) if sees_credit(snap, c)]

        return self._book.read(reading, actor)


class Statements(Capability):
    """Balances, passbooks, what the programme owes, and the journal's check."""

    def balance(self, member_id: str, *, actor: str = SYSTEM) -> MemberBalance:
        return self._book.read(lambda snap, _: balances(snap, member_id), actor)

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
        return self._book.read(
            lambda snap, ledger: passbook(snap, ledger, member_id, after=cursor, limit=limit),
            actor,
        )

    def printable(
        self,
        member_id: str,
        *,
        since: date | None = None,
        until: date | None = None,
        actor: str = SYSTEM,
    ) -> PrintedPassbook:
        """The member's passbook to print: names, titles, service dates, a running balance.

        Lines served from ``since`` to ``until`` (days in the book's zone, both
        included; None: from the first, to the last), in service-date order; see
        ``timebank.bank.passbook_print``. Whoever may read the passbook may print it.
        """
        for field, day in (("since", since), ("until", until)):
            if day is not None and not is_day(day):
                raise ReportPeriodInvalid(field=field, reason="a date from 1900 to 2199 is needed")
        now = self._book.clock_now()
        return self._book.read(
            lambda snap, ledger: printed_passbook(
                snap, ledger, member_id, since=since, until=until, now=now
            ),
            actor,
        )

    def liability(self, *, actor: str = SYSTEM) -> int:
        """What the programme owes its members: the sum of their purses (staff only)."""

        def reading(snap: Snapshot, ledger: Any) -> int:
            snap.viewer.require_staff("read the liability")
            return liability(ledger)

        return self._book.read(reading, actor)

    def programme_balance(self, account_id: str, *, actor: str = SYSTEM) -> int:
        """The posted minutes of a programme account (``pool``, ``issuance``, ``sponsor.x``...)."""

        def reading(snap: Snapshot, ledger: Any) -> int:
            snap.viewer.require_staff("read a programme account")
            account = ledger.account(account_id)
            if account is None or account_id.startswith("m."):
                raise ProgrammeAccountNotFound(account_id=str(account_id)[:128])
            return int(account.posted_minutes)

        return self._book.read(reading, actor)

    def verify(self, *, actor: str = SYSTEM) -> VerifyReport:
        """Recompute the book's hash chain, balances and statements (staff only)."""
        self._book.read(lambda snap, _: snap.viewer.require_staff("verify the book"), actor)
        return self._book.ledger_book.verify()


class Supply(Capability):
    """The supply and demand ledgers (供给台账/需求台账): offers and needs."""

    def add_offer(self, command: AddOffer, *, actor: str) -> Offer:
        return self._book.execute(command, actor=actor)

    def update_offer(self, command: UpdateOffer, *, actor: str) -> Offer:
        return self._book.execute(command, actor=actor)

    def withdraw_offer(self, command: WithdrawOffer, *, actor: str) -> Offer:
        return self._book.execute(command, actor=actor)

    def offer(self, offer_id: str, *, actor: str = SYSTEM) -> Offer:
        return self._book.read(lambda snap, _: supply.visible_offer(snap, offer_id), actor)

    def offers(
        self, *, after: str | None = None, limit: int = PAGE_SIZE_DEFAULT, actor: str = SYSTEM
    ) -> builtins.list[Offer]:
        """A page of the supply ledger the caller may see, in id order."""
        limit, cursor = _limit(limit), _after(after)

        def reading(snap: Snapshot, _: Any) -> builtins.list[Offer]:
            viewer, records = snap.viewer, snap.records
            volunteers = (None,) if viewer.staff else viewer.principals()
            fetches = [partial(_offers_of, records, volunteer) for volunteer in volunteers]
            return merged_pages(fetches, _offer_key, viewer.sees_offer, cursor, limit)

        return self._book.read(reading, actor)

    def add_need(self, command: AddNeed, *, actor: str) -> ServiceNeed:
        return self._book.execute(command, actor=actor)

    def close_need(self, command: CloseNeed, *, actor: str) -> ServiceNeed:
        return self._book.execute(command, actor=actor)

    def need(self, need_id: str, *, actor: str = SYSTEM) -> ServiceNeed:
        return self._book.read(lambda snap, _: supply.visible_need(snap, need_id), actor)

    def needs(
        self, *, after: str | None = None, limit: int = PAGE_SIZE_DEFAULT, actor: str = SYSTEM
    ) -> builtins.list[ServiceNeed]:
        """A page of the demand ledger the caller may see, in id order."""
        limit, cursor = _limit(limit), _after(after)

        def reading(snap: Snapshot, _: Any) -> builtins.list[ServiceNeed]:
            viewer, records = snap.viewer, snap.records
            recipients = (None,) if viewer.staff else viewer.principals()
            fetches = [partial(_needs_of, records, recipient) for recipient in recipients]
            return merged_pages(fetches, _need_key, viewer.sees_need, cursor, limit)

        return self._book.read(reading, actor)


class Orders(Capability):
    """Service orders: 点单 → 派单 → 接单 → 办结 → confirm → rate → 销号 (and deadlines)."""

    def request(self, command: RequestOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def dispatch(self, command: DispatchOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def publish(self, command: PublishOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def decline(self, command: DeclineOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def accept(self, command: AcceptOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def start(self, command: StartOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def complete(self, command: CompleteOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def confirm(self, command: ConfirmOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def reject(self, command: RejectOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def rate(self, command: RateOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def close(self, command: CloseOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def cancel(self, command: CancelOrder, *, actor: str) -> Order:
        return self._book.execute(command, actor=actor)

    def get(self, order_id: str, *, actor: str = SYSTEM) -> Order:
        return self._book.read(lambda snap, _: orders.visible_order(snap, order_id), actor)

    def list(
        self,
        *,
        status: OrderStatus | None = None,
        category: str | None = None,
        community: str | None = None,
        grid: str | None = None,
        requested_from: datetime | None = None,
        requested_until: datetime | None = None,
        after: str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        actor: str = SYSTEM,
    ) -> builtins.list[Order]:
        """A page of the orders the caller may see, in id order; every filter given narrows it
        (``requested_from`` and ``requested_until`` bound when it was requested, as [from,
        until)). Staff see their communities' orders; a member those they are on (or act
        for), and those published for anyone to claim in their community."""
        limit, cursor = _limit(limit), _after(after)
        chosen = None if status is None else check_choice("status", OrderStatus, status).value
        for name, text in (("category", category), ("community", community), ("grid", grid)):
            if text is not None:
                check_text(name, text, ID_LENGTH_MAX)
        for name, moment in (
            ("requested_from", requested_from),
            ("requested_until", requested_until),
        ):
            if moment is not None:
                check_moment(name, moment)

        def reading(snap: Snapshot, _: Any) -> builtins.list[Order]:
            viewer = snap.viewer
            query = OrderQuery(
                status=chosen,
                category=category,
                grid=grid,
                requested_from=requested_from,
                requested_until=requested_until,
                communities=None if community is None else (community,),
            )
            if not viewer.everywhere:
                if viewer.staff:
                    allowed = viewer.communities
                    wanted = allowed if community is None else allowed & {community}
                    query = msgspec.structs.replace(query, communities=tuple(sorted(wanted)))
                else:
                    query = msgspec.structs.replace(
                        query, parties=viewer.principals(), published_in=viewer.home
                    )
            return snap.orders.query(query, after=cursor, limit=limit)

        return self._book.read(reading, actor)

    def run_deadlines(self, command: RunDeadlines, *, actor: str) -> DeadlineRun:
        return self._book.execute(command, actor=actor)


class Outbox(Capability):
    """Notifications waiting for a relay to deliver them."""

    def pending(
        self, *, after: int | None = None, limit: int = PAGE_SIZE_DEFAULT, actor: str = SYSTEM
    ) -> builtins.list[OutboxMessage]:
        """Undelivered notifications in order; a relay delivers them, then ``ack_outbox``.

        They span every community, so the application or an administrator reads them.
        """
        limit = _limit(limit)
        if after is not None and (type(after) is not int or not 0 <= after <= SEQ_MAX):
            raise RecordIdInvalid(field="after", maximum=18)

        def reading(snap: Snapshot, _: Any) -> builtins.list[OutboxMessage]:
            snap.viewer.require_everywhere("read the outbox")
            return list(snap.outbox.pending(after=after, limit=limit))

        return self._book.read(reading, actor)

    def ack(self, command: AckOutbox, *, actor: str) -> int:
        return self._book.execute(command, actor=actor)


class Matching(Capability):
    """Suggested volunteers for an order, and a week's matching."""

    def suggest(
        self, order_id: str, *, limit: int = 10, actor: str = SYSTEM
    ) -> builtins.list[Ranked]:
        """Volunteers who could take a waiting order, best first, each score explained: only
        those dispatch would accept (``timebank.bank.dispatch``), so a coordinator's come from
        the volunteers of their communities, and nobody unvetted, away or fully booked."""
        limit = _limit(limit, SUGGESTIONS_MAX)
        now = self._book.clock_now()

        def reading(snap: Snapshot, _: Any) -> builtins.list[Ranked]:
            order = orders.visible_order(snap, order_id)
            snap.viewer.require_covers("see suggested volunteers", order.community)
            cache = self._book.bank.supply_cache
            monday = order_week(snap, order, now)
            supply = cache.week(snap, monday)
            # Only volunteers dispatch would accept (dispatch's own check) are ranked.
            admit = admitted(
                snap, lambda week: supply if week == monday else cache.week(snap, week), now
            )
            return rank(
                need_of(snap, order),
                supply.index,
                now=now,
                limit=limit,
                admit=lambda _, volunteer: admit(order, volunteer.member_id),
            )

        return self._book.read(reading, actor)

    def week(self, week_of_day: date, *, actor: str = SYSTEM) -> WeekMatch:
        """Suggested volunteers for the week's waiting orders (order id -> volunteer id).

        Orders scheduled in the week, and unscheduled ones, are placed within every
        volunteer's weekly minutes, matching at least as many as greedy assignment.
        Only volunteers dispatch would accept for the order are matched to it
        (``timebank.bank.dispatch``: eligible, of the caller's communities, not its
        recipient, available as their offers say). Nothing is dispatched: a
        coordinator dispatches each suggestion. A coordinator's week is their
        communities' orders, matched to their communities' volunteers.
        """
        if not is_day(week_of_day):
            raise ReportPeriodInvalid(field="week", reason="a date from 1900 to 2199 is needed")
        now = self._book.clock_now()
        monday, following = week_of(week_of_day)

        def reading(snap: Snapshot, _: Any) -> WeekMatch:
            viewer = snap.viewer
            viewer.require_staff("match the week")
            waiting = [
                order
                for status in WAITING
                for order in snap.orders.all(status=status.value)
                if viewer.covers(order.community)
                and (
                    order.scheduled_at is None
                    or monday <= snap.local_date(order.scheduled_at) < following
                )
            ]
            cache = self._book.bank.supply_cache
            supply = cache.week(snap, monday)
            by_id = {o.order_id: o for o in waiting}
            admit = admitted(
                snap, lambda week: supply if week == monday else cache.week(snap, week), now
            )
            return match_week(
                [need_of(snap, o) for o in waiting],
                supply.index,
                now=now,
                admit=lambda need, volunteer: admit(by_id[need.need_id], volunteer.member_id),
            )

        return self._book.read(reading, actor)


class Wishes(Capability):
    """Micro-wishes (微心愿): posted, adopted, fulfilled, confirmed."""

    def post(self, command: PostWish, *, actor: str) -> Wish:
        return self._book.execute(command, actor=actor)

    def adopt(self, command: AdoptWish, *, actor: str) -> Wish:
        return self._book.execute(command, actor=actor)

    def fulfil(self, command: FulfilWish, *, actor: str) -> Wish:
        return self._book.execute(command, actor=actor)

    def confirm(self, command: ConfirmWish, *, actor: str) -> Wish:
        return self._book.execute(command, actor=actor)

    def withdraw(self, command: WithdrawWish, *, actor: str) -> Wish:
        return self._book.execute(command, actor=actor)

    def get(self, wish_id: str, *, actor: str = SYSTEM) -> Wish:
        return self._book.read(lambda snap, _: wishes.visible_wish(snap, wish_id), actor)

    def list(self, *, community: str | None = None, actor: str = SYSTEM) -> builtins.list[Wish]:
        """The micro-wishes the caller may see: of one community, or (by default) of the
        communities they coordinate, or, for a member, their own community's wish wall."""
        if community is not None:
            check_text("community", community, 64)

        def reading(snap: Snapshot, _: Any) -> builtins.list[Wish]:
            viewer = snap.viewer
            if community is not None:
                chosen: tuple[str | None, ...] = (community,)
            elif viewer.everywhere:
                chosen = (None,)
            elif viewer.staff:
                chosen = tuple(sorted(viewer.communities))
            else:
                chosen = (viewer.home,)
            found = (w for c in chosen for w in snap.records.wishes(community=c))
            return sorted((w for w in found if viewer.sees_wish(w)), key=lambda w: w.wish_id)

        return self._book.read(reading, actor)


class Care(Capability):
    """Care files and visits (回访) of members who need them."""

    def open(self, command: OpenCareFile, *, actor: str) -> CareFile:
        return self._book.execute(command, actor=actor)

    def close(self, command: CloseCareFile, *, actor: str) -> CareFile:
        return self._book.execute(command, actor=actor)

    def get(self, member_id: str, *, actor: str = SYSTEM) -> CareFile:
        def reading(snap: Snapshot, _: Any) -> CareFile:
            snap.visible_member(member_id)
            found = snap.records.care_file(member_id)
            return _found(found, CareFileNotFound(member_id=str(member_id)[:128]))

        return self._book.read(reading, actor)

    def record_visit(self, command: RecordVisit, *, actor: str) -> Visit:
        return self._book.execute(command, actor=actor)

    def visits(self, member_id: str, *, actor: str = SYSTEM) -> builtins.list[Visit]:
        def reading(snap: Snapshot, _: Any) -> builtins.list[Visit]:
            snap.visible_member(member_id)
            return snap.records.visits(member_id)

        return self._book.read(reading, actor)

    def due(self, *, on: date | None = None, actor: str = SYSTEM) -> builtins.list[VisitsDue]:
        """Residents of the caller's communities with fewer visits this month than their care
        file calls for."""
        now = self._book.clock_now()

        def reading(snap: Snapshot, _: Any) -> builtins.list[VisitsDue]:
            snap.viewer.require_staff("list visits due")
            day = snap.local_date(now) if on is None else on
            if not is_day(day):
                raise ReportPeriodInvalid(field="on", reason="a date from 1900 to 2199 is needed")
            return [d for d in care.visits_due(snap, day) if snap.viewer.covers(d.community)]

        return self._book.read(reading, actor)


class Reports(Capability):
    """A coordinator's reports: rates, the volunteer board, gaps, liability, inactivity."""

    def orders(
        self, first_month: str, last_month: str | None = None, *, actor: str = SYSTEM
    ) -> reports.OrderReport:
        """Processing, on-time and satisfaction rates and times, by month, category and grid."""
        last = first_month if last_month is None else last_month
        return self._book.read(lambda snap, _: reports.order_report(snap, first_month, last), actor)

    def volunteer_board(
        self, month: str, *, limit: int = 10, actor: str = SYSTEM
    ) -> builtins.list[reports.VolunteerOfMonth]:
        """The month's volunteer board (好人榜)."""
        limit = _limit(limit, BOARD_MAX)
        return self._book.read(lambda snap, _: reports.volunteer_board(snap, month, limit), actor)

    def wish_adoption(
        self, *, community: str | None = None, actor: str = SYSTEM
    ) -> reports.WishAdoption:
        if community is not None:
            check_text("community", community, 64)
        return self._book.read(lambda snap, _: reports.wish_adoption(snap, community), actor)

    def supply_demand_gap(
        self, week_of_day: date, *, actor: str = SYSTEM
    ) -> builtins.list[reports.GapLine]:
        """Offered against needed minutes per category and grid, for the week of the day."""
        if not is_day(week_of_day):
            raise ReportPeriodInvalid(field="week", reason="a date from 1900 to 2199 is needed")
        monday, _ = week_of(week_of_day)
        return self._book.read(lambda snap, _: reports.supply_demand_gap(snap, monday), actor)

    def liability_forecast(
        self, *, years: int = 10, actor: str = SYSTEM
    ) -> reports.LiabilityForecast:
        """Banked minutes by saver age cohort, and when they will be claimed against supply."""
        now = self._book.clock_now()
        return self._book.read(
            lambda snap, _: reports.liability_forecast(snap, snap.local_date(now), years), actor
        )

    def inactive_members(
        self, *, days: int = 90, actor: str = SYSTEM
    ) -> builtins.list[reports.InactiveMember]:
        now = self._book.clock_now()
        return self._book.read(lambda snap, _: reports.inactive_members(snap, now, days), actor)
