"""Reads: a member's balances, their passbook (存折), and the programme's outstanding liability.

The passbook merges the entries of a member's three purses in ledger order and
adds, from each transaction's metadata (or the credit record of an event), the
service details a passbook prints: counterparty, category, raw and credited
minutes, provenance and the policy version.
"""

from __future__ import annotations

import heapq

from msgspec import Struct

from timebank.bank.accounts import GIFTED, GROUP, OWN, is_member_account, member_account, member_of
from timebank.bank.context import PURSES, Snapshot
from timebank.community.model import PassbookEntry, PassbookPage
from timebank.ledger import Entry, Rejection, Side, Transaction
from timebank.ledger.port import Committed, LedgerReader

__all__ = ["MemberBalance", "balances", "liability", "passbook"]

ACCOUNT_PAGE = 500
ENTRY_CHUNK = 200


class MemberBalance(Struct, frozen=True, kw_only=True):
    """A member's purses: what they earned, were given, and earned in groups."""

    member_id: str
    own_minutes: int
    gifted_minutes: int
    group_minutes: int
    held_minutes: int
    """Reserved by pending holds (bookings, unconfirmed services) on their purses."""
    incoming_minutes: int = 0
    """Credits held until confirmed: theirs once the service is confirmed."""

    @property
    def total_minutes(self) -> int:
        return self.own_minutes + self.gifted_minutes + self.group_minutes


def balances(snapshot: Snapshot, member_id: str) -> MemberBalance:
    snapshot.visible_member(member_id)
    purses = snapshot.purses(member_id)
    return MemberBalance(
        member_id=member_id,
        own_minutes=purses[OWN].posted_minutes,
        gifted_minutes=purses[GIFTED].posted_minutes,
        group_minutes=purses[GROUP].posted_minutes,
        held_minutes=sum(a.debits_pending_minutes for a in purses.values()),
        incoming_minutes=sum(a.credits_pending_minutes for a in purses.values()),
    )


def liability(ledger: LedgerReader) -> int:
    """The minutes the programme owes its members: the sum of every member purse."""
    total = 0
    after: str | None = None
    while True:
        accounts = ledger.accounts(after=after, limit=ACCOUNT_PAGE)
        total += sum(a.posted_minutes for a in accounts if is_member_account(a.account_id))
        if len(accounts) < ACCOUNT_PAGE:
            return total
        after = accounts[-1].account_id


def passbook(
    snapshot: Snapshot, ledger: LedgerReader, member_id: str, *, after: int | None, limit: int
) -> PassbookPage:
    """A page of the member's posted movements, oldest first, with the running total.

    Entries that move no posted minutes (holds and their voids) print no line
    but are read past, so a page is short only when it is the last.
    """
    snapshot.visible_member(member_id)
    accounts = [member_account(member_id, purse) for purse in PURSES]
    running: dict[str, int] | None = None
    lines: list[tuple[Entry, int]] = []
    cursor = after
    while True:
        streams = [list(ledger.entries(a, after=cursor, limit=ENTRY_CHUNK)) for a in accounts]
        if running is None:
            running = {
                account: stream[0].posted_minutes - stream[0].posted_delta_minutes
                if stream
                else snapshot.account(account).posted_minutes
                for account, stream in zip(accounts, streams, strict=True)
            }
        # A full stream may hold more entries past its last one: merge only up to there.
        full = [s[-1].sequence for s in streams if len(s) == ENTRY_CHUNK]
        bound = min(full) if full else None
        merged = [
            entry
            for entry in heapq.merge(*streams, key=lambda e: e.sequence)
            if bound is None or entry.sequence <= bound
        ]
        for index, entry in enumerate(merged):
            running[entry.account_id] = entry.posted_minutes
            if entry.posted_delta_minutes != 0:
                lines.append((entry, sum(running.values())))
            if len(lines) == limit:
                more = index + 1 < len(merged) or bound is not None
                return PassbookPage(
                    entries=_lines(snapshot, ledger, member_id, lines),
                    next_cursor=str(entry.sequence) if more else None,
                )
        if bound is None:
            entries = _lines(snapshot, ledger, member_id, lines)
            return PassbookPage(entries=entries, next_cursor=None)
        cursor = bound


def _lines(
    snapshot: Snapshot, ledger: LedgerReader, member_id: str, lines: list[tuple[Entry, int]]
) -> tuple[PassbookEntry, ...]:
    """The page's lines, their transactions read together (three queries, whatever the count)."""
    found = ledger.find_many(list(dict.fromkeys(entry.transaction_id for entry, _ in lines)))
    return tuple(
        _line(snapshot, member_id, entry, total, found.get(entry.transaction_id))
        for entry, total in lines
    )


def _line(
    snapshot: Snapshot,
    member_id: str,
    entry: Entry,
    total: int,
    found: Committed | Rejection | None,
) -> PassbookEntry:
    transaction = found.transaction if isinstance(found, Committed) else None
    metadata = {} if transaction is None else transaction.metadata
    raw = metadata.get("raw_minutes")
    credited = metadata.get("credited_minutes")
    if metadata.get("kind") == "event":
        record = snapshot.records.credit(f"{entry.transaction_id[len('event.') :]}.{member_id}")
        if record is not None:
            raw, credited = str(record.raw_minutes), str(record.credited_minutes)
    version = metadata.get("policy_version")
    return PassbookEntry(
        sequence=entry.sequence,
        recorded_at=entry.recorded_at,
        account_id=entry.account_id,
        delta_minutes=entry.posted_delta_minutes,
        balance_minutes=total,
        kind=metadata.get("kind", entry.kind.value),
        counterparty=_counterparty(transaction, member_id, entry.posted_delta_minutes),
        category=metadata.get("category", ""),
        raw_minutes=None if raw is None else int(raw),
        credited_minutes=None if credited is None else int(credited),
        provenance=metadata.get("provenance", ""),
        confirmation=metadata.get("confirmation", ""),
        policy_version=None if version is None else int(version),
        transaction_id=entry.transaction_id,
    )


def _counterparty(transaction: Transaction | None, member_id: str, delta: int) -> str:
    """The first account on the other side that is not one of the member's own purses."""
    if transaction is None:
        return ""
    other_side = Side.DEBIT if delta > 0 else Side.CREDIT
    for posting in transaction.postings:
        account = posting.account_id
        if posting.side is other_side and not (
            is_member_account(account) and member_of(account) == member_id
        ):
            return account
    return ""
