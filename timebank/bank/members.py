"""Use cases on people and rules: books, policies, programme accounts, members, relations, proxies.

Each function runs inside one unit of work (a ``Context``), checks every rule
first, then writes: ledger requests before records, so that a ledger refusal
leaves no record behind.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import TypeVar

import msgspec
from pypinyin import Style, lazy_pinyin

from timebank.bank.accounts import (
    GIFTED,
    GROUP,
    ISSUANCE,
    OWN,
    PROGRAMME_ACCOUNTS,
    member_account,
    merchant_account,
    sponsor_account,
)
from timebank.bank.context import SYSTEM, Context
from timebank.bank.records import Programme
from timebank.community.errors import (
    ActorNotAuthorised,
    BirthDateInvalid,
    ChoiceUnknown,
    MemberExists,
    NameInvalid,
    PolicyInvalid,
    PolicyNotDraft,
    PolicyNotFound,
    ProxyNotFound,
    RecordIdInvalid,
    RelationExists,
    RelationToSelf,
    TextTooLong,
)
from timebank.community.limits import (
    FLAGS_MAX,
    MEMBER_ID_LENGTH_MAX,
    NAME_LENGTH_MAX,
    TEXT_LENGTH_MAX,
)
from timebank.community.model import (
    RELATION_INVERSE,
    Member,
    MemberStatus,
    PolicyStatus,
    PolicyVersion,
    Proxy,
    Relation,
    RelationKind,
    Role,
    Vetting,
)
from timebank.community.policy import PolicyRules, policy_problems
from timebank.ledger import Transfer, credit, debit

__all__ = [
    "FLAGS_MAX",
    "MEMBER_ID_LENGTH_MAX",
    "NAME_LENGTH_MAX",
    "TEXT_LENGTH_MAX",
    "activate_policy",
    "add_policy",
    "add_programme_account",
    "authorise_proxy",
    "check_choice",
    "check_choices",
    "check_cursor",
    "check_ids",
    "check_record_id",
    "check_rules",
    "check_text",
    "is_day",
    "name_keys",
    "register_member",
    "relate",
    "revoke_proxy",
    "set_up_book",
    "update_member",
]

_RECORD_ID = re.compile(r"[A-Za-z0-9_-]+")
_CURSOR = re.compile(r"[A-Za-z0-9_.-]+")


def check_record_id(field: str, value: object, maximum: int = MEMBER_ID_LENGTH_MAX) -> str:
    """Ids the bank makes accounts and records from: letters, digits, ``-`` and ``_``."""
    if type(value) is not str or not 0 < len(value) <= maximum or not _RECORD_ID.fullmatch(value):
        raise RecordIdInvalid(field=field, maximum=maximum)
    return value


def check_cursor(field: str, value: object, maximum: int) -> str:
    """A listing's cursor: an id the facade returned, which may join ids with a dot."""
    if type(value) is not str or not 0 < len(value) <= maximum or not _CURSOR.fullmatch(value):
        raise RecordIdInvalid(field=field, maximum=maximum)
    return value


DAY_MIN = date(1900, 1, 1)
DAY_MAX = date(2199, 12, 31)


def is_day(value: object) -> bool:
    """A plain date in the years 1900 to 2199 (a ``datetime`` is not a day)."""
    return type(value) is date and DAY_MIN <= value <= DAY_MAX


def check_text(field: str, value: object, maximum: int = TEXT_LENGTH_MAX) -> str:
    if type(value) is not str or len(value) > maximum or not value.isprintable():
        raise TextTooLong(field=field, maximum=maximum)
    return value


E = TypeVar("E", bound=StrEnum)

_COLLECTIONS = (set, frozenset, list, tuple)


def check_choice(field: str, kind: type[E], value: object) -> E:
    """One of the values of ``kind`` (given as itself or as its string)."""
    if isinstance(value, str) and value in {member.value for member in kind}:
        return kind(value)
    choices = ", ".join(member.value for member in kind)
    raise ChoiceUnknown(field=field, value=str(value)[:64], choices=choices)


def check_choices(field: str, kind: type[E], values: object) -> frozenset[E]:
    """A set, list or tuple of values of ``kind``."""
    if not isinstance(values, _COLLECTIONS):
        choices = ", ".join(member.value for member in kind)
        raise ChoiceUnknown(field=field, value=str(values)[:64], choices=choices)
    return frozenset(check_choice(field, kind, value) for value in values)


def check_ids(field: str, values: object, maximum: int = MEMBER_ID_LENGTH_MAX) -> tuple[str, ...]:
    """A set, list or tuple of record ids (a lone string is not a collection of ids)."""
    if not isinstance(values, _COLLECTIONS):
        raise RecordIdInvalid(field=field, maximum=maximum)
    return tuple(check_record_id(field, value, maximum) for value in values)


def name_keys(name: str) -> tuple[str, str]:
    """The pinyin search key and initials of a name (李娜 -> ``li na``, ``ln``)."""
    syllables = [s.lower() for s in lazy_pinyin(name, errors="default") if s.strip()]
    initials = "".join(s[0] for s in lazy_pinyin(name, style=Style.FIRST_LETTER) if s.strip())
    return " ".join(syllables), initials.lower()


# --- books and policies ----------------------------------------------------------------------


def set_up_book(ctx: Context, rules: PolicyRules) -> PolicyVersion:
    """Open the programme accounts and activate the first policy."""
    ctx.viewer.require_everywhere("set up a book")
    for account_id in PROGRAMME_ACCOUNTS:
        ctx.book.open_account_in(
            ctx.unit.ledger,
            account_id,
            balance_minutes_min=0 if account_id == "pool" else None,
            metadata={"programme": account_id},
        )
    draft = add_policy(ctx, rules)
    return activate_policy(ctx, draft.version)


def add_policy(ctx: Context, rules: PolicyRules) -> PolicyVersion:
    """Add a draft version of the book's rules (they apply to every community)."""
    ctx.viewer.require_everywhere("add a policy")
    rules = check_rules(rules)
    settings = ctx.records.settings()
    draft = PolicyVersion(
        version=settings.next_version,
        rules=rules,
        status=PolicyStatus.DRAFT,
        added_at=ctx.now,
        added_by=ctx.actor,
    )
    ctx.records.put_policy(draft)
    ctx.records.put_settings(msgspec.structs.replace(settings, next_version=draft.version + 1))
    return draft


def check_rules(rules: object) -> PolicyRules:
    """Rules whose fields have their declared types (so they read back) and make sense."""
    if type(rules) is not PolicyRules:
        raise PolicyInvalid(problems="not a PolicyRules")
    try:
        rules = msgspec.convert(msgspec.to_builtins(rules), PolicyRules)
    except (msgspec.ValidationError, TypeError, ValueError) as error:
        raise PolicyInvalid(problems=str(error)[:TEXT_LENGTH_MAX]) from None
    problems = policy_problems(rules)
    if problems:
        raise PolicyInvalid(problems="; ".join(problems))
    return rules


def activate_policy(ctx: Context, version: int) -> PolicyVersion:
    """Make a draft the rules in force; the version before it retires. Both are then frozen."""
    ctx.viewer.require_everywhere("activate a policy")
    policy = ctx.records.policy(version) if type(version) is int else None
    if policy is None:
        raise PolicyNotFound(version=version if type(version) is int else -1)
    if policy.status is not PolicyStatus.DRAFT:
        raise PolicyNotDraft(version=version, status=policy.status.value)
    settings = ctx.records.settings()
    if settings.active_version is not None:
        previous = ctx.records.policy(settings.active_version)
        assert previous is not None
        ctx.records.put_policy(
            msgspec.structs.replace(previous, status=PolicyStatus.RETIRED, retired_at=ctx.now)
        )
    active = msgspec.structs.replace(policy, status=PolicyStatus.ACTIVE, activated_at=ctx.now)
    ctx.records.put_policy(active)
    ctx.records.put_settings(msgspec.structs.replace(settings, active_version=version))
    return active


def add_programme_account(ctx: Context, kind: str, programme_id: str, name: str) -> Programme:
    """Register a sponsor (which may fund without limit) or a partner merchant."""
    ctx.viewer.require_everywhere(f"add a {kind}")
    check_record_id(f"{kind}_id", programme_id)
    check_text("name", name, NAME_LENGTH_MAX)
    if kind == "sponsor":
        account_id, minimum = sponsor_account(programme_id), None
    else:
        account_id, minimum = merchant_account(programme_id), 0
    found = ctx.records.programme(account_id)
    if found is not None:
        return found
    ctx.book.open_account_in(
        ctx.unit.ledger, account_id, balance_minutes_min=minimum, metadata={"programme": kind}
    )
    programme = Programme(
        account_id=account_id, kind=kind, name=name, added_at=ctx.now, added_by=ctx.actor
    )
    ctx.records.put_programme(programme)
    return programme


# --- members ------------------------------------------------------------------------------------


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
