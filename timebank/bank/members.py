"""Use cases of ``book.members``: members and their changes, relations, proxies, death, estate.

Each runs inside one unit of work (a ``Context``), checks every rule first, then
writes: ledger requests before records, so a refusal leaves no record behind.
"""

from __future__ import annotations

from datetime import date

import msgspec
from pypinyin import Style, lazy_pinyin

from timebank.bank.accounts import (
    GIFTED,
    GROUP,
    ISSUANCE,
    OWN,
    POOL,
    member_account,
)
from timebank.bank.checks import check_choice, check_choices, check_record_id, check_text
from timebank.bank.context import SYSTEM, Context
from timebank.bank.orders import close_commitments
from timebank.bank.purses import net, receive
from timebank.community.errors import (
    ActorNotAuthorised,
    BirthDateInvalid,
    BookingsOpenAtDeath,
    GiftNotAllowed,
    MemberExists,
    MemberNotActive,
    NameInvalid,
    ProxyNotFound,
    RecordIdInvalid,
    RelationExists,
    RelationToSelf,
    TextTooLong,
)
from timebank.community.exchange import HOLDING_STATUSES
from timebank.community.limits import (
    FLAGS_MAX,
    MEMBER_ID_LENGTH_MAX,
    NAME_LENGTH_MAX,
)
from timebank.community.model import (
    RELATION_INVERSE,
    CreditStatus,
    Member,
    MemberStatus,
    Proxy,
    RedemptionStatus,
    Relation,
    RelationKind,
    Role,
    Vetting,
)
from timebank.community.policy import DeathHandling
from timebank.community.port import OrderQuery
from timebank.ledger import (
    Posting,
    Transfer,
    credit,
    debit,
)

__all__ = [
    "BOOKINGS_NAMED_MAX",
    "authorise_proxy",
    "name_keys",
    "record_death",
    "register_member",
    "relate",
    "revoke_proxy",
    "update_member",
]

BOOKINGS_NAMED_MAX = 10
"""Open bookings named in the refusal to record a death."""


def name_keys(name: str) -> tuple[str, str]:
    """The pinyin search key and initials of a name (李娜 -> ``li na``, ``ln``)."""
    syllables = [s.lower() for s in lazy_pinyin(name, errors="default") if s.strip()]
    initials = "".join(s[0] for s in lazy_pinyin(name, style=Style.FIRST_LETTER) if s.strip())
    return " ".join(syllables), initials.lower()


def _check_member_fields(
    ctx: Context, name: object, birth_date: object, community: object, grid: object
) -> None:
    if type(name) is not str or not 0 < len(name.strip()) <= NAME_LENGTH_MAX:
        raise NameInvalid(name=str(name)[:NAME_LENGTH_MAX], maximum=NAME_LENGTH_MAX)
    if not name.isprintable():
        raise NameInvalid(name=name, maximum=NAME_LENGTH_MAX)
    if type(birth_date) is not date or not date(1900, 1, 1) <= birth_date <= ctx.today:
        raise BirthDateInvalid(birth_date=str(birth_date)[:32])
    check_text("community", community, NAME_LENGTH_MAX)
    check_text("grid", grid, NAME_LENGTH_MAX)


def _check_flags(flags: frozenset[str]) -> frozenset[str]:
    if len(flags) > FLAGS_MAX:
        raise TextTooLong(field="flags", maximum=FLAGS_MAX)
    for flag in flags:
        check_record_id("flag", flag, 32)
    return flags


STAFF_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})
"""Roles that carry authority over others: only administrators give or take them."""


def _check_coordinates(coordinates: object) -> frozenset[str]:
    if not isinstance(coordinates, (set, frozenset, list, tuple)) or len(coordinates) > FLAGS_MAX:
        raise TextTooLong(field="coordinates", maximum=FLAGS_MAX)
    return frozenset(check_text("coordinates", c, NAME_LENGTH_MAX) for c in coordinates)


def register_member(
    ctx: Context,
    *,
    member_id: str,
    name: str,
    birth_date: date,
    community: str,
    grid: str,
    roles: frozenset[Role],
    vetting: Vetting,
    flags: frozenset[str],
    coordinates: frozenset[str],
) -> Member:
    """Register a member, open their purses, and pay the policy's starting grant.

    A coordinator registers members of the communities they coordinate; only an
    administrator (or the application) appoints coordinators and administrators.
    """
    ctx.require_coordinator("register a member")
    check_record_id("member_id", member_id)
    if member_id == SYSTEM:
        raise RecordIdInvalid(field="member_id (reserved)", maximum=MEMBER_ID_LENGTH_MAX)
    _check_member_fields(ctx, name, birth_date, community, grid)
    ctx.viewer.require_covers("register a member in this community", community)
    roles = check_choices("roles", Role, roles)
    vetting = check_choice("vetting", Vetting, vetting)
    flags = _check_flags(frozenset(flags))
    coordinates = _check_coordinates(coordinates)
    if roles & STAFF_ROLES or coordinates:
        ctx.viewer.require_everywhere("appoint a coordinator")
    rules = ctx.policy().rules
    if ctx.records.member(member_id) is not None:
        raise MemberExists(member_id=member_id)
    name_key, initials = name_keys(name)
    member = Member(
        member_id=member_id,
        name=name.strip(),
        name_key=name_key,
        name_initials=initials,
        birth_date=birth_date,
        community=community,
        grid=grid,
        roles=roles,
        vetting=vetting,
        flags=flags,
        coordinates=coordinates,
        registered_at=ctx.now,
        registered_by=ctx.actor,
    )
    for purse in (OWN, GIFTED, GROUP):
        minimum = -rules.credit_limit_minutes if purse == OWN else 0
        ctx.book.open_account_in(
            ctx.unit.ledger,
            member_account(member_id, purse),
            balance_minutes_min=minimum,
            metadata={"member": member_id, "purse": purse},
        )
    if rules.starting_grant_minutes:
        grant = rules.starting_grant_minutes
        ctx.submit(
            Transfer(
                transaction_id=f"start.{member_id}",
                postings=(debit(ISSUANCE, grant), credit(member_account(member_id), grant)),
                code="starting_grant",
                metadata={"kind": "grant", "reason": "starting grant", "actor": ctx.actor},
            )
        )
    ctx.records.put_member(member)
    return member


def update_member(
    ctx: Context,
    member_id: str,
    *,
    grid: str | None,
    roles: frozenset[Role] | None,
    vetting: Vetting | None,
    flags: frozenset[str] | None,
    status: MemberStatus | None,
    coordinates: frozenset[str] | None,
) -> Member:
    """Change a member's grid, roles, vetting, flags or status (not to deceased: see death).

    A coordinator changes the members of their communities; a coordinator or
    administrator themselves, and anyone's staff roles, only an administrator.
    """
    member = ctx.visible_member(member_id)
    ctx.require_coordinator("update a member", member)
    if member.roles & STAFF_ROLES:
        ctx.viewer.require_everywhere("change a coordinator")
    changes: dict[str, object] = {}
    if grid is not None:
        changes["grid"] = check_text("grid", grid, NAME_LENGTH_MAX)
    if roles is not None:
        new_roles = check_choices("roles", Role, roles)
        if new_roles != member.roles and (member.roles | new_roles) & STAFF_ROLES:
            ctx.viewer.require_everywhere("appoint a coordinator")
        changes["roles"] = new_roles
    if vetting is not None:
        changes["vetting"] = check_choice("vetting", Vetting, vetting)
    if flags is not None:
        changes["flags"] = _check_flags(frozenset(flags))
    if coordinates is not None:
        changes["coordinates"] = _check_coordinates(coordinates)
        ctx.viewer.require_everywhere("appoint a coordinator")
    if status is not None:
        status = check_choice("status", MemberStatus, status)
        if MemberStatus.DECEASED in (status, member.status):
            raise ActorNotAuthorised(
                actor=ctx.actor, action="change a death by update", member_id=member_id
            )
        changes["status"] = status
    updated = msgspec.structs.replace(member, **changes)
    ctx.records.put_member(updated)
    return updated


def relate(ctx: Context, member_id: str, other_id: str, kind: RelationKind) -> Relation:
    """Record that ``other_id`` is ``member_id``'s ``kind``, and the inverse.

    Relations decide who may receive gifts and inherit, so only a coordinator of
    both members' communities (or the application) records them: a member cannot
    declare themselves someone's child.
    """
    kind = check_choice("kind", RelationKind, kind)
    if member_id == other_id:
        raise RelationToSelf(member_id=member_id)
    member = ctx.visible_member(member_id)
    other = ctx.visible_member(other_id)
    ctx.require_coordinator("record a relation", member, other)
    existing = ctx.records.relation(member_id, other_id)
    if existing is not None:
        if existing.kind is kind:
            return existing
        raise RelationExists(member_id=member_id, other_id=other_id, kind=existing.kind.value)
    relation = Relation(
        member_id=member_id,
        other_id=other_id,
        kind=kind,
        recorded_at=ctx.now,
        recorded_by=ctx.actor,
    )
    inverse = Relation(
        member_id=other_id,
        other_id=member_id,
        kind=RELATION_INVERSE[kind],
        recorded_at=ctx.now,
        recorded_by=ctx.actor,
    )
    ctx.records.put_relation(relation)
    ctx.records.put_relation(inverse)
    return relation


def authorise_proxy(ctx: Context, member_id: str, proxy_id: str, note: str) -> Proxy:
    """Record that ``proxy_id`` may act for ``member_id``.

    The member grants it themselves (to anyone they trust), or a coordinator of
    both members' communities does; a proxy never appoints further proxies.
    """
    if member_id == proxy_id:
        raise RelationToSelf(member_id=member_id)
    member = ctx.visible_member(member_id)
    if ctx.actor != member_id:
        ctx.require_coordinator("authorise a proxy", member)  # never a proxy of theirs
        ctx.require_coordinator("authorise a proxy", member, ctx.visible_member(proxy_id))
    ctx.active_member(member_id)
    ctx.active_member(proxy_id)
    check_text("note", note)
    existing = ctx.records.proxy(member_id, proxy_id)
    if existing is not None and existing.active:
        return existing
    proxy = Proxy(
        member_id=member_id, proxy_id=proxy_id, granted_at=ctx.now, granted_by=ctx.actor, note=note
    )
    ctx.records.put_proxy(proxy)
    return proxy


def revoke_proxy(ctx: Context, member_id: str, proxy_id: str) -> Proxy:
    """End an authorisation; the member, a coordinator of theirs or the proxy themselves may."""
    existing = ctx.records.proxy(member_id, proxy_id)
    if ctx.actor not in (member_id, proxy_id):
        member = ctx.visible_member(member_id)
        ctx.require_coordinator("revoke a proxy", member)
    if existing is None or not existing.active:
        raise ProxyNotFound(member_id=member_id, proxy_id=proxy_id)
    revoked = msgspec.structs.replace(existing, revoked_at=ctx.now, revoked_by=ctx.actor)
    ctx.records.put_proxy(revoked)
    return revoked


def record_death(
    ctx: Context, *, member_id: str, died_on: date, heirs: tuple[str, ...]
) -> str | None:
    """Record a death; by policy the minutes stay, go to named relatives, or to the pool.

    A coordinator of the member and of every heir records it, once nothing holds
    the member's minutes (a booking, an accepted order, a credit awaiting
    confirmation): otherwise ``BookingsOpenAtDeath`` names what to settle first,
    so that no minute is stranded in a closed purse. What waits on the member
    and holds nothing is closed with the death: orders not yet accepted are
    cancelled (or, dispatched to them, go back to be dispatched again), their
    offers withdrawn, their needs and care file closed, their unadopted wishes
    withdrawn.
    """
    member = ctx.visible_member(member_id)
    heirs = tuple(dict.fromkeys(heirs))
    ctx.require_coordinator("record a death", member, *(ctx.visible_member(heir) for heir in heirs))
    if member.status is MemberStatus.DECEASED:
        raise MemberNotActive(member_id=member_id, status=member.status.value)
    if type(died_on) is not date or not member.birth_date <= died_on <= ctx.today:
        raise BirthDateInvalid(birth_date=str(died_on)[:32])
    _refuse_open_bookings(ctx, member_id)
    policy = ctx.policy()
    handling = policy.rules.death_handling
    for heir in heirs:
        if ctx.records.relation(member_id, heir) is None:
            raise GiftNotAllowed(
                giver_id=member_id, receiver_id=heir, reason="not a recorded relative"
            )
        ctx.active_member(heir)
    transaction_id = None
    if handling is not DeathHandling.KEEP:
        transaction_id = _settle_estate(ctx, member_id, heirs, handling, policy.version)
    died = msgspec.structs.replace(member, status=MemberStatus.DECEASED, died_on=died_on)
    ctx.records.put_member(died)
    close_commitments(ctx, died)
    return transaction_id


def _refuse_open_bookings(ctx: Context, member_id: str) -> None:
    """Refuse while anything holds minutes to or from the member's purses."""
    purses = ctx.purses(member_id).values()
    held = sum(account.debits_pending_minutes for account in purses)
    incoming = sum(account.credits_pending_minutes for account in purses)
    if not held and not incoming:
        return
    named = [
        f"redemption {r.redemption_id}"
        for r in ctx.records.redemptions_of(member_id)
        if r.status is RedemptionStatus.BOOKED
    ]
    named += [
        f"order {o.order_id}"
        for o in ctx.orders.query(OrderQuery(parties=(member_id,)), after=None, limit=100)
        if o.status in HOLDING_STATUSES
    ]
    named += [
        f"credit {c.credit_id}"
        for c in ctx.records.credits_of(member_id)
        if c.status is CreditStatus.PENDING
    ]
    named += [
        f"credit {c.credit_id}"
        for c in ctx.records.credits_to_page(member_id, after=None, limit=100)
        if c.status is CreditStatus.PENDING
    ]
    raise BookingsOpenAtDeath(
        member_id=member_id,
        held_minutes=held,
        incoming_minutes=incoming,
        bookings=", ".join(named[:BOOKINGS_NAMED_MAX]) or "holds on their purses",
    )


def _settle_estate(
    ctx: Context, member_id: str, heirs: tuple[str, ...], handling: DeathHandling, version: int
) -> str | None:
    purses = ctx.purses(member_id)
    debits = [
        debit(member_account(member_id, purse), account.available_minutes)
        for purse, account in purses.items()
        if account.available_minutes > 0
    ]
    total = sum(p.amount_minutes for p in debits)
    if total == 0:
        return None
    if handling is DeathHandling.RELATIVES and heirs:
        share, remainder = divmod(total, len(heirs))
        credits: list[Posting] = []
        for index, heir in enumerate(heirs):
            amount = share + (remainder if index == 0 else 0)
            if amount:
                credits += receive(ctx, ctx.policy().rules, heir, amount, GIFTED, overflow=True)
    else:
        credits = [credit(POOL, total)]
    transaction_id = f"estate.{member_id}"
    ctx.submit(
        Transfer(
            transaction_id=transaction_id,
            postings=net([*debits, *credits]),
            code="estate",
            metadata={
                "kind": "estate",
                "policy_version": str(version),
                "deceased": member_id,
                "actor": ctx.actor,
            },
        )
    )
    return transaction_id
