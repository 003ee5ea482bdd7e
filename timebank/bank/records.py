"""Typed access to a book's records: each kind is a msgspec Struct encoded as JSON.

``Records`` wraps a ``RecordReader`` (or ``RecordWriter`` inside a unit) and
knows each kind's id scheme and secondary key, so the facade never handles
bytes. The layout, by kind:

- ``settings`` ``book``: the active policy version and the next version number;
- ``policy`` ``000001``...: policy versions (key: status);
- ``member`` member id (key: community);
- ``relation`` ``member>other`` (key: member);
- ``proxy`` ``member>proxy`` (key: member), and ``proxy_of`` ``proxy>member`` (key:
  proxy): the same authorisation, found from either side;
- ``programme`` account id (key: ``sponsor`` or ``merchant``);
- ``credit`` credit id (key: provider), and ``credit_to`` credit id (key: recipient): the
  same credit, found from either side;
- ``redemption`` redemption id (key: saver);
- ``event`` event id;
- ``event_credit`` ``event>member`` (key: event): the attendee's credit id;
- ``offer`` offer id (key: volunteer), ``need`` need id (key: recipient);
- ``wish`` wish id (key: community);
- ``care_file`` member id (key: ``open`` or ``closed``), ``visit`` visit id (key: member);
- ``request`` ``use case>request id`` (key: use case): the fields of a request made under a
  caller's id, to tell a retry from a different request (see ``retries``).

Service orders are not records: they live in the store's orders port, whose
indexed columns (``OrderRow``) let a store compute reports itself
(``OrderAggregates``); ``Orders`` computes them from the rows for a store that
does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Struct

from timebank.community.exchange import (
    OPEN_STATUSES,
    TRANSITIONS,
    CareFile,
    Offer,
    Order,
    OrderAction,
    OrderStatus,
    ServiceNeed,
    Visit,
    Wish,
)
from timebank.community.model import (
    Credit,
    Event,
    Member,
    PolicyVersion,
    Proxy,
    Redemption,
    Relation,
)
from timebank.community.port import (
    OrderAggregates,
    OrderQuery,
    OrderReader,
    OrderRow,
    OrderTally,
    OrderWriter,
    RecordReader,
    RecordWriter,
    VolunteerTally,
    tally_orders,
    tally_volunteers,
)
from timebank.ledger.limits import STORED_ID_LENGTH_MAX

__all__ = ["BookSettings", "ExchangeStamp", "Orders", "Programme", "Records", "order_row"]

S = TypeVar("S", bound=Struct)

SCAN_PAGE = 500


class BookSettings(Struct, frozen=True, kw_only=True):
    active_version: int | None = None
    next_version: int = 1
    timezone: str = ""
    """The book's IANA time zone, set when it is created and never changed; empty in a book
    created before books had one (the bank's default zone then applies)."""


class ExchangeStamp(Struct, frozen=True, kw_only=True):
    """Counters bumped whenever what matching reads changes, so a built index can be reused.

    ``supply`` counts changes to offers and members; ``volunteers`` counts writes of
    orders that have a volunteer (acceptance, check-out, confirmation, rating...).
    A unit's changes are added up and written once, at the end of the unit.
    """

    supply: int = 0
    volunteers: int = 0


class EventCredit(Struct, frozen=True, kw_only=True):
    """Which credit an attendee of an event received (one per member per event)."""

    credit_id: str


class Programme(Struct, frozen=True, kw_only=True):
    """A sponsor or partner merchant of the programme, with its ledger account."""

    account_id: str
    kind: str
    name: str
    added_at: datetime
    added_by: str


_ENCODER = msgspec.json.Encoder()
_DECODERS: dict[type[Any], msgspec.json.Decoder[Any]] = {}


def _decode(kind: type[S], body: bytes) -> S:
    decoder = _DECODERS.get(kind)
    if decoder is None:
        decoder = _DECODERS[kind] = msgspec.json.Decoder(kind)
    return cast(S, decoder.decode(body))


_STAMP_DECODER = msgspec.json.Decoder(ExchangeStamp)


def _bumped(supply: int, volunteers: int) -> Callable[[bytes | None], bytes]:
    """The change of the stored stamp that adds these counts."""

    def change(body: bytes | None) -> bytes:
        stamp = ExchangeStamp() if body is None else _STAMP_DECODER.decode(body)
        return _ENCODER.encode(
            ExchangeStamp(supply=stamp.supply + supply, volunteers=stamp.volunteers + volunteers)
        )

    return change


def pair_id(first: str, second: str) -> str:
    return f"{first}>{second}"


class Records:
    """One book's records, typed."""

    def __init__(self, records: RecordReader) -> None:
        self._records = records

    # --- generic ----------------------------------------------------------

    def _get(self, kind: str, record_id: str, cls: type[S]) -> S | None:
        if type(record_id) is not str or not 0 < len(record_id) <= STORED_ID_LENGTH_MAX:
            return None  # no record has such an id (and a store may refuse to look it up)
        body = self._records.get(kind, record_id)
        return None if body is None else _decode(cls, body)

    def _put(self, kind: str, record_id: str, value: Struct, key: str | None = None) -> None:
        writer = cast(RecordWriter, self._records)
        writer.put(kind, record_id, _ENCODER.encode(value), key=key)

    def raw(self, kind: str, record_id: str) -> bytes | None:
        """A record's body as stored (for kinds the facade encodes itself)."""
        return self._records.get(kind, record_id)

    def put_raw(self, kind: str, record_id: str, body: bytes, *, key: str | None = None) -> None:
        cast(RecordWriter, self._records).put(kind, record_id, body, key=key)

    def _page(
        self, kind: str, cls: type[S], *, key: str | None, after: str | None, limit: int
    ) -> list[tuple[str, S]]:
        rows = self._records.scan(kind, key=key, after=after, limit=limit)
        return [(record_id, _decode(cls, body)) for record_id, body in rows]

    def _all(self, kind: str, cls: type[S], *, key: str | None = None) -> Iterator[S]:
        after: str | None = None
        while True:
            page = self._page(kind, cls, key=key, after=after, limit=SCAN_PAGE)
            for _, value in page:
                yield value
            if len(page) < SCAN_PAGE:
                return
            after = page[-1][0]

    # --- settings and policies ----------------------------------------------------------

    def settings(self) -> BookSettings:
        found = self._get("settings", "book", BookSettings)
        return BookSettings() if found is None else found

    def put_settings(self, settings: BookSettings) -> None:
        self._put("settings", "book", settings)

    def policy(self, version: int) -> PolicyVersion | None:
        return self._get("policy", f"{version:06d}", PolicyVersion)

    def put_policy(self, policy: PolicyVersion) -> None:
        self._put("policy", f"{policy.version:06d}", policy, key=policy.status.value)

    def policies(self) -> list[PolicyVersion]:
        return list(self._all("policy", PolicyVersion))

    # --- members, relations, proxies ----------------------------------------------------------

    def member(self, member_id: str) -> Member | None:
        return self._get("member", member_id, Member)

    def put_member(self, member: Member) -> None:
        self._put("member", member.member_id, member, key=member.community)
        self.bump(supply=True)

    # --- the exchange stamp ----------------------------------------------------------

    def stamp(self) -> ExchangeStamp:
        """The stamp as committed (inside a unit, without the unit's own bumps)."""
        found = self._get("settings", "exchange", ExchangeStamp)
        return ExchangeStamp() if found is None else found

    def bump(self, *, supply: bool = False, volunteers: bool = False) -> None:
        """Note that offers or members (``supply``) or volunteers' orders changed.

        The stamp is written once per unit, when its work returns: the store applies
        every bump of the unit then (``RecordWriter.update_at_end``).
        """
        writer = cast(RecordWriter, self._records)
        writer.update_at_end("settings", "exchange", _bumped(int(supply), int(volunteers)))

    def members(
        self, *, community: str | None = None, after: str | None = None, limit: int
    ) -> list[Member]:
        page = self._page("member", Member, key=community, after=after, limit=limit)
        return [member for _, member in page]

    def all_members(self) -> Iterator[Member]:
        return self._all("member", Member)

    def relation(self, member_id: str, other_id: str) -> Relation | None:
        return self._get("relation", pair_id(member_id, other_id), Relation)

    def put_relation(self, relation: Relation) -> None:
        record_id = pair_id(relation.member_id, relation.other_id)
        self._put("relation", record_id, relation, key=relation.member_id)

    def relations(self, member_id: str) -> list[Relation]:
        return list(self._all("relation", Relation, key=member_id))

    def proxy(self, member_id: str, proxy_id: str) -> Proxy | None:
        return self._get("proxy", pair_id(member_id, proxy_id), Proxy)

    def put_proxy(self, proxy: Proxy) -> None:
        self._put("proxy", pair_id(proxy.member_id, proxy.proxy_id), proxy, key=proxy.member_id)
        self._put("proxy_of", pair_id(proxy.proxy_id, proxy.member_id), proxy, key=proxy.proxy_id)

    def proxies(self, member_id: str) -> list[Proxy]:
        return list(self._all("proxy", Proxy, key=member_id))

    def proxied_by(self, proxy_id: str) -> list[Proxy]:
        """The authorisations ``proxy_id`` holds, revoked ones included."""
        return list(self._all("proxy_of", Proxy, key=proxy_id))

    # --- programme accounts ----------------------------------------------------------

    def programme(self, account_id: str) -> Programme | None:
        return self._get("programme", account_id, Programme)

    def put_programme(self, programme: Programme) -> None:
        self._put("programme", programme.account_id, programme, key=programme.kind)

    def programmes(self) -> list[Programme]:
        return list(self._all("programme", Programme))

    # --- credits, redemptions, events ----------------------------------------------------------

    def credit(self, credit_id: str) -> Credit | None:
        return self._get("credit", credit_id, Credit)

    def put_credit(self, credit: Credit) -> None:
        self._put("credit", credit.credit_id, credit, key=credit.provider_id)
        if credit.recipient_id is not None:
            self._put("credit_to", credit.credit_id, credit, key=credit.recipient_id)

    def credits_of(self, provider_id: str) -> list[Credit]:
        return list(self._all("credit", Credit, key=provider_id))

    def credits_page(
        self, *, provider_id: str | None = None, after: str | None, limit: int
    ) -> list[Credit]:
        """A page of credits in id order (of one provider, if given)."""
        page = self._page("credit", Credit, key=provider_id, after=after, limit=limit)
        return [credit for _, credit in page]

    def credits_to_page(self, recipient_id: str, *, after: str | None, limit: int) -> list[Credit]:
        """A page of the credits a member received, in id order."""
        page = self._page("credit_to", Credit, key=recipient_id, after=after, limit=limit)
        return [credit for _, credit in page]

    def all_credits(self) -> Iterator[Credit]:
        return self._all("credit", Credit)

    def redemption(self, redemption_id: str) -> Redemption | None:
        return self._get("redemption", redemption_id, Redemption)

    def put_redemption(self, redemption: Redemption) -> None:
        self._put("redemption", redemption.redemption_id, redemption, key=redemption.saver_id)

    def all_redemptions(self) -> Iterator[Redemption]:
        return self._all("redemption", Redemption)

    def redemptions_of(self, saver_id: str) -> list[Redemption]:
        return list(self._all("redemption", Redemption, key=saver_id))

    def event(self, event_id: str) -> Event | None:
        return self._get("event", event_id, Event)

    def put_event(self, event: Event) -> None:
        self._put("event", event.event_id, event)

    def events(self, *, after: str | None, limit: int) -> list[Event]:
        return [
            event for _, event in self._page("event", Event, key=None, after=after, limit=limit)
        ]

    def event_credit_id(self, event_id: str, member_id: str) -> str | None:
        found = self._get("event_credit", pair_id(event_id, member_id), EventCredit)
        return None if found is None else found.credit_id

    def put_event_credit(self, event_id: str, member_id: str, credit_id: str) -> None:
        self._put(
            "event_credit", pair_id(event_id, member_id), EventCredit(credit_id=credit_id), event_id
        )

    def event_credits(self, event_id: str, transaction_id: str | None = None) -> list[Credit]:
        """The credits of an event (of one crediting transaction, if given), by member."""
        found = []
        for link in self._all("event_credit", EventCredit, key=event_id):
            record = self.credit(link.credit_id)
            assert record is not None
            if transaction_id is None or record.transaction_id == transaction_id:
                found.append(record)
        return found

    # --- supply, demand, micro-wishes, care files ----------------------------------------

    def offer(self, offer_id: str) -> Offer | None:
        return self._get("offer", offer_id, Offer)

    def put_offer(self, offer: Offer) -> None:
        self._put("offer", offer.offer_id, offer, key=offer.volunteer_id)
        self.bump(supply=True)

    def offers(self, *, volunteer_id: str | None = None) -> Iterator[Offer]:
        return self._all("offer", Offer, key=volunteer_id)

    def offers_page(
        self, *, volunteer_id: str | None = None, after: str | None, limit: int
    ) -> list[Offer]:
        page = self._page("offer", Offer, key=volunteer_id, after=after, limit=limit)
        return [offer for _, offer in page]

    def need(self, need_id: str) -> ServiceNeed | None:
        return self._get("need", need_id, ServiceNeed)

    def put_need(self, need: ServiceNeed) -> None:
        self._put("need", need.need_id, need, key=need.recipient_id)

    def needs(self, *, recipient_id: str | None = None) -> Iterator[ServiceNeed]:
        return self._all("need", ServiceNeed, key=recipient_id)

    def needs_page(
        self, *, recipient_id: str | None = None, after: str | None, limit: int
    ) -> list[ServiceNeed]:
        page = self._page("need", ServiceNeed, key=recipient_id, after=after, limit=limit)
        return [need for _, need in page]

    def wish(self, wish_id: str) -> Wish | None:
        return self._get("wish", wish_id, Wish)

    def put_wish(self, wish: Wish) -> None:
        self._put("wish", wish.wish_id, wish, key=wish.community)

    def wishes(self, *, community: str | None = None) -> Iterator[Wish]:
        return self._all("wish", Wish, key=community)

    def care_file(self, member_id: str) -> CareFile | None:
        return self._get("care_file", member_id, CareFile)

    def put_care_file(self, care: CareFile) -> None:
        key = "open" if care.closed_at is None else "closed"
        self._put("care_file", care.member_id, care, key=key)

    def open_care_files(self) -> Iterator[CareFile]:
        return self._all("care_file", CareFile, key="open")

    def put_visit(self, visit: Visit) -> None:
        self._put("visit", visit.visit_id, visit, key=visit.member_id)

    def visit(self, visit_id: str) -> Visit | None:
        return self._get("visit", visit_id, Visit)

    def visits(self, member_id: str) -> list[Visit]:
        return sorted(self._all("visit", Visit, key=member_id), key=lambda v: v.visited_at)


_ORDER_DECODER = msgspec.json.Decoder(Order)
_EXPIRING = frozenset({*TRANSITIONS[OrderAction.EXPIRE][0]})


def _seconds(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else int((end - start).total_seconds())


def order_row(order: Order, zone: ZoneInfo) -> OrderRow:
    """The columns a store indexes and reports on, derived from the order."""
    due: datetime | None = None
    if order.status in OPEN_STATUSES:
        candidates = [order.escalate_at]
        if order.status in _EXPIRING:
            candidates.append(order.expires_at)
        due = min((c for c in candidates if c is not None), default=None)
    completed = order.completed_at
    return OrderRow(
        order_id=order.order_id,
        status=order.status.value,
        category=order.category,
        community=order.community,
        grid=order.grid,
        recipient_id=order.recipient_id,
        volunteer_id=order.volunteer_id,
        dispatched_to=order.dispatched_to if order.status is OrderStatus.DISPATCHED else None,
        month=order.requested_at.astimezone(zone).strftime("%Y-%m"),
        requested_at=order.requested_at,
        due_at=due,
        cancelled=order.status is OrderStatus.CANCELLED,
        processed=completed is not None,
        on_time=(
            completed is not None
            and order.complete_due_at is not None
            and completed <= order.complete_due_at
        ),
        response_seconds=_seconds(order.requested_at, order.accepted_at),
        completion_seconds=_seconds(order.requested_at, completed),
        rating=order.rating,
        credited_minutes=order.credited_minutes,
        served_at=completed,
    )


class Orders:
    """One book's service orders, typed; ``put`` derives the row a store indexes."""

    def __init__(
        self,
        orders: OrderReader,
        row_of: Callable[[Order], OrderRow],
        on_volunteer_write: Callable[[], None] = lambda: None,
    ) -> None:
        self._orders = orders
        self._row_of = row_of
        self._on_volunteer_write = on_volunteer_write

    def get(self, order_id: str) -> Order | None:
        if type(order_id) is not str or not 0 < len(order_id) <= STORED_ID_LENGTH_MAX:
            return None
        body = self._orders.get(order_id)
        return None if body is None else _ORDER_DECODER.decode(body)

    def put(self, order: Order) -> None:
        writer = cast(OrderWriter, self._orders)
        writer.put(self._row_of(order), _ENCODER.encode(order))
        if order.volunteer_id is not None:
            self._on_volunteer_write()

    def query(self, query: OrderQuery, *, after: str | None, limit: int) -> list[Order]:
        rows = self._orders.query(query, after=after, limit=limit)
        return [_ORDER_DECODER.decode(body) for _, body in rows]

    def page(self, *, status: str | None, after: str | None, limit: int) -> list[Order]:
        rows = self._orders.scan(status=status, after=after, limit=limit)
        return [_ORDER_DECODER.decode(body) for _, body in rows]

    def all(self, *, status: str | None = None) -> Iterator[Order]:
        after: str | None = None
        while True:
            page = self.page(status=status, after=after, limit=SCAN_PAGE)
            yield from page
            if len(page) < SCAN_PAGE:
                return
            after = page[-1].order_id

    def rows(self, communities: Sequence[str] | None = None) -> Iterator[OrderRow]:
        """Every order's row (of these communities, if given), derived from its body."""
        query = OrderQuery(communities=None if communities is None else tuple(communities))
        after: str | None = None
        while True:
            page = self.query(query, after=after, limit=SCAN_PAGE)
            for order in page:
                yield self._row_of(order)
            if len(page) < SCAN_PAGE:
                return
            after = page[-1].order_id

    def tallies(
        self, first_month: str, last_month: str, communities: Sequence[str] | None = None
    ) -> Sequence[OrderTally]:
        """``OrderAggregates.tally``: the store's if it has it, else from the rows."""
        if isinstance(self._orders, OrderAggregates):
            return self._orders.tally(first_month, last_month, communities)
        return tally_orders(self.rows(communities), first_month, last_month)

    def volunteers(
        self,
        served_from: datetime | None = None,
        served_until: datetime | None = None,
        communities: Sequence[str] | None = None,
    ) -> Sequence[VolunteerTally]:
        """``OrderAggregates.volunteer_tally``: the store's if it has it, else from the rows."""
        if isinstance(self._orders, OrderAggregates):
            return self._orders.volunteer_tally(served_from, served_until, communities)
        return tally_volunteers(self.rows(communities), served_from, served_until)

    def due(self, before: datetime, *, limit: int) -> list[Order]:
        rows = self._orders.due(before, limit=limit)
        return [_ORDER_DECODER.decode(body) for _, body in rows]
