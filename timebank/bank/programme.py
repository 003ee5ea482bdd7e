"""Use cases of ``book.programme``: setting up a book, policies, programme accounts, expiry.

Each runs inside one unit of work (a ``Context``), checks every rule first, then
writes: ledger requests before records, so a refusal leaves no record behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from msgspec import Struct

from timebank.bank.accounts import (
    POOL,
    PROGRAMME_ACCOUNTS,
    member_account,
    merchant_account,
    sponsor_account,
)
from timebank.bank.checks import check_record_id, check_text
from timebank.bank.context import Context
from timebank.bank.records import Programme
from timebank.community.errors import (
    PolicyInvalid,
    PolicyNotDraft,
    PolicyNotFound,
)
from timebank.community.limits import (
    NAME_LENGTH_MAX,
    TEXT_LENGTH_MAX,
)
from timebank.community.model import (
    PolicyStatus,
    PolicyVersion,
)
from timebank.community.policy import PolicyRules, policy_problems
from timebank.ledger import (
    PageSizeOutOfRange,
    Transfer,
    credit,
    debit,
)

__all__ = [
    "EXPIRY_BATCH_MAX",
    "MinutesExpiry",
    "activate_policy",
    "add_policy",
    "add_programme_account",
    "check_rules",
    "expire_minutes",
    "set_up_book",
]


def set_up_book(ctx: Context, rules: PolicyRules) -> PolicyVersion:
    """Open the programme accounts, keep the book's time zone, activate the first policy."""
    ctx.viewer.require_everywhere("set up a book")
    settings = ctx.records.settings()
    ctx.records.put_settings(msgspec.structs.replace(settings, timezone=ctx.zone.key))
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


EXPIRY_BATCH_MAX = 200
ENTRY_PAGE = 500


class MinutesExpiry(Struct, frozen=True, kw_only=True):
    expired_minutes: dict[str, int]
    """Minutes expired per member in this batch."""
    next_after: str | None
    """Pass as ``after`` for the next batch of members; None when every member was seen."""
    transaction_id: str | None


def expire_minutes(ctx: Context, *, after: str | None, limit: int) -> MinutesExpiry:
    """Expire members' earned minutes older than the policy allows, oldest first, into the pool.

    Spending uses the oldest minutes first, so what may expire is what was
    credited before the cut-off less everything ever spent (or expired) since.
    A batch spans every community, so the application or an administrator runs it.
    """
    ctx.viewer.require_everywhere("expire minutes")
    policy = ctx.policy()
    days = policy.rules.expiry_days
    if type(limit) is not int:
        raise PageSizeOutOfRange(limit=-1, maximum=EXPIRY_BATCH_MAX)
    if after is not None:
        check_record_id("after", after)
    limit = max(1, min(limit, EXPIRY_BATCH_MAX))
    members = ctx.records.members(after=after, limit=limit)
    next_after = members[-1].member_id if len(members) == limit else None
    if days is None:
        return MinutesExpiry(expired_minutes={}, next_after=next_after, transaction_id=None)
    cutoff = ctx.now - timedelta(days=days)
    expired: dict[str, int] = {}
    for member in members:
        minutes = _expirable(ctx, member_account(member.member_id), cutoff)
        if minutes > 0:
            expired[member.member_id] = minutes
    if not expired:
        return MinutesExpiry(expired_minutes={}, next_after=next_after, transaction_id=None)
    transaction_id = f"expire.{ctx.now.isoformat()}.{members[0].member_id}"
    postings = [debit(member_account(m), n) for m, n in expired.items()]
    postings.append(credit(POOL, sum(expired.values())))
    ctx.submit(
        Transfer(
            transaction_id=transaction_id[:128],
            postings=tuple(postings),
            code="expiry",
            metadata={
                "kind": "expiry",
                "policy_version": str(policy.version),
                "cutoff": cutoff.isoformat(),
                "actor": ctx.actor,
            },
        )
    )
    return MinutesExpiry(
        expired_minutes=expired, next_after=next_after, transaction_id=transaction_id[:128]
    )


def _expirable(ctx: Context, account_id: str, cutoff: datetime) -> int:
    old_credits = 0
    debits = 0
    after: int | None = None
    while True:
        entries = ctx.unit.ledger.entries(account_id, after=after, limit=ENTRY_PAGE)
        for entry in entries:
            delta = entry.posted_delta_minutes
            if delta > 0 and entry.effective_at <= cutoff:
                old_credits += delta
            elif delta < 0:
                debits -= delta
        if len(entries) < ENTRY_PAGE:
            break
        after = entries[-1].sequence
    available = ctx.account(account_id).available_minutes
    return max(0, min(old_credits - debits, available))
