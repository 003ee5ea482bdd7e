"""Who is calling: the actor of a read or a use case, and their authority as the book says now.

Every read and every use case names its ``actor``: ``SYSTEM`` (the embedding
application, or an integration acting through it), ``admin:<name>`` (a named
administrator acting with the application's authority: see ``admin_actor``),
or a member id. ``Viewer`` resolves that actor against the book's records inside
the same snapshot or unit of work that does the work, so authority is always
current: a coordinator whose role was removed, a suspended member, a revoked
proxy lose it on their very next call, whatever token they still hold.

- ``SYSTEM`` and ``admin:<name>`` see and do everything in the book;
- an active member with the ``admin`` role coordinates every community;
- an active member with the ``coordinator`` role coordinates their own
  community and those listed in their ``coordinates``;
- every active member acts for themselves and for the members who authorised
  them as their proxy, while that authorisation stands (a proxy acts for the
  member, never in the member's place: it cannot appoint further proxies).

Anyone else (an unknown id, a suspended or deceased member) has no authority:
every call they make is refused with ``ActorNotAuthorised``. A record a caller
may not see is reported missing, exactly like one that does not exist.
"""

from __future__ import annotations

from timebank.bank.checks import check_record_id
from timebank.bank.records import Records
from timebank.community.errors import ActorNotAuthorised, MemberNotFound
from timebank.community.exchange import Offer, Order, OrderStatus, ServiceNeed, Wish, WishStatus
from timebank.community.model import Member, MemberStatus, Role

__all__ = ["ADMIN_PREFIX", "SYSTEM", "Viewer", "admin_actor", "check_actor", "is_application"]

SYSTEM = "system"
"""The actor of an embedding application acting on its own authority (a scheduled job, an
integration)."""
ADMIN_PREFIX = "admin:"
"""``admin:<name>``: the actor of a named administrator acting with the application's authority.
A member id never holds a colon, so no member is ever taken for one."""

ACTOR_LENGTH_MAX = 128


def admin_actor(name: str) -> str:
    """The actor an administrator named ``name`` (an id: letters, digits, ``-``, ``_``) acts
    as: the application's authority, and their own name in everything they write."""
    return ADMIN_PREFIX + check_record_id("admin", name)


def is_application(actor: str) -> bool:
    """Whether ``actor`` acts with the application's authority (``SYSTEM`` or an admin)."""
    return actor == SYSTEM or actor.startswith(ADMIN_PREFIX)


def check_actor(actor: object) -> str:
    """An actor as a use case or read accepts it: a member id, ``SYSTEM``, or ``admin:<name>``;
    raises ``RecordIdInvalid``."""
    if isinstance(actor, str) and actor.startswith(ADMIN_PREFIX):
        check_record_id("actor", actor.removeprefix(ADMIN_PREFIX))
        return actor
    return check_record_id("actor", actor)


class Viewer:
    """One caller's authority in one book, resolved in the snapshot or unit that uses it."""

    def __init__(self, records: Records, actor: str) -> None:
        self.actor = actor
        self._records = records
        self._proxy_for: dict[str, bool] = {}
        self.member: Member | None = None
        self.everywhere = is_application(actor)
        self.communities: frozenset[str] = frozenset()
        if self.everywhere:
            return
        member = records.member(actor)
        if member is None or member.status is not MemberStatus.ACTIVE:
            raise ActorNotAuthorised(
                actor=str(actor)[:ACTOR_LENGTH_MAX], action="use this book", member_id=""
            )
        self.member = member
        if Role.ADMIN in member.roles:
            self.everywhere = True
        elif Role.COORDINATOR in member.roles:
            self.communities = frozenset({member.community}) | member.coordinates

    @property
    def is_system(self) -> bool:
        """The application's own authority: ``SYSTEM`` or a named administrator."""
        return self.everywhere and self.member is None

    @property
    def staff(self) -> bool:
        """A coordinator of some community, an administrator, or the application."""
        return self.everywhere or bool(self.communities)

    @property
    def home(self) -> str:
        """The caller's own community ('' for the application)."""
        return "" if self.member is None else self.member.community

    def covers(self, community: str) -> bool:
        """Whether the caller coordinates ``community``."""
        return self.everywhere or community in self.communities

    def proxy_for(self, member_id: str) -> bool:
        """Whether ``member_id`` has authorised the caller to act for them, and still does."""
        if self.member is None or member_id == self.actor:
            return False
        if member_id not in self._proxy_for:
            found = self._records.proxy(member_id, self.actor)
            self._proxy_for[member_id] = found is not None and found.active
        return self._proxy_for[member_id]

    def acts_for(self, member_id: str) -> bool:
        """Whether the caller is the member, their authorised proxy, or the application."""
        return self.is_system or member_id == self.actor or self.proxy_for(member_id)

    def sees(self, member_id: str, community: str) -> bool:
        """Whether the caller may see the records of ``member_id``, of ``community``."""
        return self.covers(community) or self.acts_for(member_id)

    def sees_member(self, member: Member) -> bool:
        return self.sees(member.member_id, member.community)

    def principals(self) -> tuple[str, ...]:
        """The members the caller acts for: themselves, then those who authorised them."""
        if self.member is None:
            return ()
        granted = (p.member_id for p in self._records.proxied_by(self.actor) if p.active)
        return (self.actor, *sorted(set(granted)))

    def member_or_hidden(self, member: Member | None, member_id: object) -> Member:
        """``member`` if the caller may see it; otherwise, as for an unknown id, not found."""
        if member is None or not self.sees_member(member):
            raise MemberNotFound(member_id=str(member_id)[:ACTOR_LENGTH_MAX])
        return member

    def require_everywhere(self, action: str) -> None:
        """Only the application or an administrator may do this (it spans every community)."""
        if not self.everywhere:
            raise ActorNotAuthorised(actor=self.actor, action=action, member_id="")

    def require_staff(self, action: str, *members: Member) -> None:
        """Only a coordinator of every one of ``members``' communities (or of some, if none)."""
        if not self.staff:
            member_id = members[0].member_id if members else ""
            raise ActorNotAuthorised(actor=self.actor, action=action, member_id=member_id)
        for member in members:
            if not self.covers(member.community):
                raise ActorNotAuthorised(
                    actor=self.actor, action=action, member_id=member.member_id
                )

    def require_covers(self, action: str, community: str) -> None:
        """Only a coordinator of ``community`` may do this."""
        if not self.covers(community):
            raise ActorNotAuthorised(actor=self.actor, action=action, member_id="")

    # --- what the caller may see of the exchange ------------------------------------------

    def sees_offer(self, offer: Offer) -> bool:
        return self.sees(offer.volunteer_id, offer.community)

    def sees_need(self, need: ServiceNeed) -> bool:
        return self.sees(need.recipient_id, need.community)

    def sees_order(self, order: Order) -> bool:
        """The recipient's side, the volunteer's side, and (全员接单) members of the order's
        community while it is published for anyone to claim."""
        if self.sees(order.recipient_id, order.community):
            return True
        if self.member is None:
            return False
        for volunteer in (order.volunteer_id, order.dispatched_to):
            if volunteer is not None and self.acts_for(volunteer):
                return True
        return order.status is OrderStatus.PUBLISHED and order.community == self.home

    def sees_wish(self, wish: Wish) -> bool:
        """The resident's side, the adopter, and (the wish wall) members of the wish's
        community while it waits to be adopted."""
        if self.sees(wish.resident_id, wish.community):
            return True
        if self.member is None:
            return False
        if wish.adopter is not None and self.acts_for(wish.adopter):
            return True
        return wish.status is WishStatus.POSTED and wish.community == self.home
