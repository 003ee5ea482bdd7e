"""A passbook a person reads: names, titles, service dates, and a running balance.

``printed_passbook`` reads a member's passbook for printing
(``book.statements.printable``). Where ``statements.passbook`` gives a
page of ledger entries with their account ids, this gives what a paper
passbook (存折) shows, as data a renderer words in the reader's language
(``timebank.printing``):

- one line per transaction that changed the member's total (a redemption paid
  from their own and gifted purses at once is one line, a move between their
  own purses is none);
- the line's date is when the service was given where there is one (the
  ``served_at`` of a credit, the check-out of an order, the time an event was
  held), else when it was recorded;
- what happened, by kind (``service``, ``order``, ``wish``, ``event``,
  ``redemption``, ``gift``, ``donation``, ``grant``, ``expiry``, ``estate``,
  ``correction``), with its category, the event's or wish's title, a grant's
  or correction's reason, and the person it concerns by name (whom a service
  was for, who gave it, the relative who gave or was given minutes, and how
  they are related);
- who is on the other side by name: a member's name, a sponsor's or
  merchant's name, or the code of one of the programme's own accounts
  (``pool``, ``issuance``, ``guarantee``) for the renderer to name.

Lines are printed in service-date order (ties in ledger order). The balance
on each line is the balance after it *in that order*: the opening balance is
the sum of every line served before the period (so it is the ledger balance
when the period starts, less any service from before the period that was
recorded inside it, plus any service from inside it recorded before it),
each line adds its minutes, and the closing balance is the opening balance
plus the period's lines. With no end date, the closing balance is the
member's ledger balance (the sum of their three purses).

The ledger is read in bulk, never a query per line: the member's entries in chunks of
``ENTRY_CHUNK`` (those dated before the period only add to the opening
balance and are not looked up), their transactions ``TRANSACTION_BATCH`` at a
time (``find_many``), or, for a member the book is mostly about, the journal
itself on the store's fast path (``stated_journal``); names, titles and
relations once each. Lines dated by a credit record (a confirmed credit, an
order, a wish) are placed once the rest is read: their records are read by id,
a primary-key read each (cheaper than scanning the member's credits unless
most of those are wanted, ``SCAN_WHEN_WANTED``; then they are scanned once).
Lines are kept as four integer arrays and a table of distinct labels (a label
repeats: the same service for the same neighbour) and are built one at a time
as they are printed, so a year of 100,000 lines holds a few megabytes.
"""

from __future__ import annotations

import heapq
import itertools
from array import array
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from msgspec import Struct

from timebank.bank.accounts import PROGRAMME_ACCOUNTS, is_member_account, member_account, member_of
from timebank.bank.context import PURSES, Snapshot
from timebank.community.errors import ReportPeriodInvalid
from timebank.ledger import Committed, Side, Transaction
from timebank.ledger.port import LedgerReader

__all__ = ["PRINT_LINES_MAX", "PrintedLine", "PrintedPassbook", "printed_passbook"]

ENTRY_CHUNK = 2_000
"""Entries of one purse read per query."""
DENSE_ENTRIES_MIN = 200
"""A member's entries in one chunk from which their journal may be read instead (see
``_movements``)."""
TRANSACTION_BATCH = 1_000
"""Transactions looked up together (``find_many``)."""
SCAN_WHEN_WANTED = (3, 4)
"""The share of a member's credits wanted from which they are all scanned, not read by id."""
DENSE_SPAN = 2
"""The journal is read instead of the member's entries while at least one transaction in
this many is the member's."""
JOURNAL_CHUNK = 2_000
"""Journal transactions read per query (the fast path)."""
SCAN_PAGE = 5_000
"""Credit records read per query when the member's credits are scanned."""
PRINT_LINES_MAX = 500_000
"""Most lines one printed passbook holds; a longer one needs a shorter period."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

SERVICE_KINDS = frozenset({"service", "order", "wish"})
"""Kinds whose line is dated by the service, read from its credit record."""
CREDITED_KINDS = SERVICE_KINDS | {"event"}
"""Kinds whose lines each have a credit record."""


class PrintedLine(Struct, frozen=True, kw_only=True, gc=False):
    """One printed line: when, what happened, with whom, the minutes and the balance after it."""

    served_at: datetime
    """When the service was given (UTC), or, for a line with no service, when it was recorded."""
    kind: str
    """``service``, ``order``, ``wish``, ``event``, ``redemption``, ``gift``, ``donation``,
    ``grant``, ``expiry``, ``estate``, ``correction``, or the ledger's kind of anything else."""
    category: str = ""
    title: str = ""
    """An event's or wish's title, a grant's or correction's reason."""
    party: str = ""
    """The name of the person the line concerns (whom a service was for, who gave it...)."""
    relation: str = ""
    """How ``party`` is related to the member (``parent``, ``child``...), for gifts."""
    counterparty: str = ""
    """The other side's name (a member, a sponsor, a merchant); empty for a programme account."""
    counterparty_account: str = ""
    """``pool``, ``issuance`` or ``guarantee`` when the other side is one of the programme's own."""
    delta_minutes: int
    balance_minutes: int
    """The balance after this line, in printed (service-date) order."""


_Label = tuple[str, str, str, str, str, str, str, bool]
"""kind, category, title, party, relation, counterparty, counterparty_account, and whether
minutes came in (a line's wording depends on its direction)."""


class PrintedPassbook:
    """A member's passbook for printing; ``lines()`` builds its lines one at a time."""

    def __init__(
        self,
        *,
        member_name: str,
        book_id: str,
        programme_name: str,
        zone: ZoneInfo,
        since: date | None,
        until: date | None,
        generated_at: datetime,
        opening_balance_minutes: int,
        served_us: array[int],
        sequences: array[int],
        deltas: array[int],
        label_ids: array[int],
        labels: Sequence[_Label],
    ) -> None:
        self.member_name = member_name
        self.book_id = book_id
        self.programme_name = programme_name
        self.zone = zone
        self.since = since
        self.until = until
        self.generated_at = generated_at
        self.opening_balance_minutes = opening_balance_minutes
        self.minutes_in = sum(d for d in deltas if d > 0)
        self.minutes_out = -sum(d for d in deltas if d < 0)
        self.closing_balance_minutes = opening_balance_minutes + self.minutes_in - self.minutes_out
        self._served_us = served_us
        self._deltas = deltas
        self._label_ids = label_ids
        self._labels = labels
        self._order = _service_order(served_us, sequences)

    def __len__(self) -> int:
        return len(self._deltas)

    def lines(self) -> Iterator[PrintedLine]:
        """The lines in service-date order, each with the balance after it."""
        served, deltas, label_ids, labels = (
            self._served_us,
            self._deltas,
            self._label_ids,
            self._labels,
        )
        balance = self.opening_balance_minutes
        order: Sequence[int] = range(len(deltas)) if self._order is None else self._order
        for index in order:
            delta = deltas[index]
            balance += delta
            kind, category, title, party, relation, counterparty, account, _ = labels[
                label_ids[index]
            ]
            yield PrintedLine(
                served_at=EPOCH + served[index] * MICROSECOND,
                kind=kind,
                category=category,
                title=title,
                party=party,
                relation=relation,
                counterparty=counterparty,
                counterparty_account=account,
                delta_minutes=delta,
                balance_minutes=balance,
            )

    def compact(self) -> Iterator[tuple[int, int, int, int]]:
        """The lines as ``lines()`` gives them, for a renderer that writes many: (label,
        service time in microseconds since 1970 UTC, minutes, balance after). A label is an
        index into ``samples()``, which gives its line's words."""
        served, deltas, label_ids = self._served_us, self._deltas, self._label_ids
        balance = self.opening_balance_minutes
        order: Sequence[int] = range(len(deltas)) if self._order is None else self._order
        for index in order:
            delta = deltas[index]
            balance += delta
            yield label_ids[index], served[index], delta, balance

    def samples(self) -> list[PrintedLine]:
        """One line of each distinct kind of line (same words, same direction), dated at the
        epoch with one minute in or out: what a renderer words once and sizes columns by."""
        return list(self._samples())

    def _samples(self) -> Iterator[PrintedLine]:
        for kind, category, title, party, relation, counterparty, account, into in self._labels:
            yield PrintedLine(
                served_at=EPOCH,
                kind=kind,
                category=category,
                title=title,
                party=party,
                relation=relation,
                counterparty=counterparty,
                counterparty_account=account,
                delta_minutes=1 if into else -1,
                balance_minutes=0,
            )


def _service_order(served_us: array[int], sequences: array[int]) -> array[int] | None:
    """Line indexes by service time, ties in ledger order; None when that is their order."""
    in_ledger_order = _ascending(sequences)
    if in_ledger_order and _ascending(served_us):
        return None
    order = list(range(len(served_us)))
    if not in_ledger_order:
        order.sort(key=sequences.__getitem__)
    order.sort(key=served_us.__getitem__)  # stable: ties stay in ledger order
    return array("q", order)


def _ascending(values: array[int]) -> bool:
    return all(a <= b for a, b in zip(values, itertools.islice(values, 1, None), strict=False))


def local_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of ``day`` in ``zone``, in UTC."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def period_bounds(
    since: date | None, until: date | None, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """The period's first moment and the moment after its last day (``until`` is included)."""
    if since is not None and until is not None and until < since:
        raise ReportPeriodInvalid(field="until", reason="the last day comes before the first")
    start = None if since is None else local_start(since, zone)
    end = None if until is None else local_start(until + timedelta(days=1), zone)
    return start, end


# --- reading ------------------------------------------------------------------------------------


class _Movement(Struct, frozen=True, kw_only=True, gc=False):
    """A transaction that changed the member's total, and by how much."""

    sequence: int
    transaction_id: str
    code: str
    recorded_at: datetime
    effective_at: datetime
    delta_minutes: int
    transaction: Transaction | None = None
    """The transaction, when it was read with the movement (a stretch of the journal)."""


StatedJournal = Callable[..., tuple[Sequence[Transaction], Sequence[tuple[int, int, int]]]]


def _movements(ledger: LedgerReader, member_id: str) -> Iterator[_Movement]:
    """Every movement of the member's total, in ledger order.

    The member's three purses are read entry by entry, a chunk at a time. Where
    a chunk shows the member in most of the journal's transactions (a member the
    book is mostly about) and the store reads its journal on a fast path
    (``stated_journal``), the journal itself is read from there, each
    transaction with the balances its postings left, until the member thins out.
    """
    accounts = tuple(member_account(member_id, purse) for purse in PURSES)
    stated: StatedJournal | None = getattr(ledger, "stated_journal", None)
    cursor = 0
    while True:
        chunk, cursor_after, entries = _entry_chunk(ledger, accounts, cursor)
        yield from chunk
        if cursor_after is None:
            return
        cursor = cursor_after
        if stated is not None and entries >= DENSE_ENTRIES_MIN and _dense(entries, chunk):
            resumed = yield from _journal_stretch(stated, ledger, frozenset(accounts), cursor)
            if resumed is None:
                return
            cursor = resumed


def _dense(entries: int, chunk: list[_Movement]) -> bool:
    span = chunk[-1].sequence - chunk[0].sequence + 1 if chunk else 0
    return 0 < span <= DENSE_SPAN * entries


def _entry_chunk(
    ledger: LedgerReader, accounts: Sequence[str], after: int
) -> tuple[list[_Movement], int | None, int]:
    """The movements after ``after`` that a chunk of each purse's entries covers whole,
    where to go on from (None: this was the last), and how many entries were read."""
    streams = [ledger.entries(account, after=after, limit=ENTRY_CHUNK) for account in accounts]
    # A full stream may hold more entries past its last one: merge only up to there.
    full = [stream[-1].sequence for stream in streams if len(stream) == ENTRY_CHUNK]
    bound = min(full) if full else None
    merged = heapq.merge(*streams, key=lambda entry: entry.sequence)
    movements: list[_Movement] = []
    count = 0
    for sequence, group in itertools.groupby(merged, key=lambda entry: entry.sequence):
        if bound is not None and sequence > bound:
            break
        entries = list(group)
        count += len(entries)
        delta = sum(entry.posted_delta_minutes for entry in entries)
        if delta:
            first = entries[0]
            movements.append(
                _Movement(
                    sequence=sequence,
                    transaction_id=first.transaction_id,
                    code=first.code,
                    recorded_at=first.recorded_at,
                    effective_at=first.effective_at,
                    delta_minutes=delta,
                )
            )
    return movements, bound, count


def _journal_stretch(
    stated: StatedJournal, ledger: LedgerReader, accounts: frozenset[str], after: int
) -> Generator[_Movement, None, int | None]:
    """Movements read off the journal after ``after``; returns where the member thinned out
    (to go on by entries), or None at the journal's end.

    The stated balances of a posting are its account's balances after it, so a
    purse's change is the difference from its previous stated balance; a purse's
    balance before its first posting here comes from its entry.
    """
    posted: dict[str, int] = {}
    while True:
        transactions, balances = stated(after=after, limit=JOURNAL_CHUNK)
        row = 0
        touched = 0
        for transaction in transactions:
            delta = 0
            hit = False
            for posting in transaction.postings:
                account = posting.account_id
                now_posted = balances[row][0]
                row += 1
                if account not in accounts:
                    continue
                hit = True
                if account not in posted:
                    entry = ledger.entries(account, after=transaction.sequence - 1, limit=1)[0]
                    posted[account] = now_posted - entry.posted_delta_minutes
                delta += now_posted - posted[account]
                posted[account] = now_posted
            touched += hit
            if delta:
                yield _Movement(
                    sequence=transaction.sequence,
                    transaction_id=transaction.transaction_id,
                    code=transaction.code,
                    recorded_at=transaction.recorded_at,
                    effective_at=transaction.effective_at or transaction.recorded_at,
                    delta_minutes=delta,
                    transaction=transaction,
                )
        if len(transactions) < JOURNAL_CHUNK:
            return None
        after = transactions[-1].sequence
        if touched * DENSE_SPAN < len(transactions):
            return after


class _Lookups:
    """Names, titles, relations and credit records, each read once per passbook."""

    def __init__(self, snapshot: Snapshot, member_id: str) -> None:
        self._records = snapshot.records
        self._member_id = member_id
        self._names: dict[str, str] = {}
        self._accounts: dict[str, tuple[str, str]] = {}
        self._relations: dict[str, str] = {}
        self._titles: dict[tuple[str, str], str] = {}

    def name(self, member_id: str | None) -> str:
        if not member_id:
            return ""
        found = self._names.get(member_id)
        if found is None:
            member = self._records.member(member_id)
            found = self._names[member_id] = "" if member is None else member.name
        return found

    def account(self, account_id: str) -> tuple[str, str]:
        """(the holder's name, a programme account's code) of an account on the other side."""
        found = self._accounts.get(account_id)
        if found is None:
            if is_member_account(account_id):
                found = (self.name(member_of(account_id)), "")
            elif account_id in PROGRAMME_ACCOUNTS:
                found = ("", account_id)
            else:
                programme = self._records.programme(account_id)
                found = ("" if programme is None else programme.name, "")
            self._accounts[account_id] = found
        return found

    def relation(self, other_id: str | None) -> str:
        if not other_id:
            return ""
        found = self._relations.get(other_id)
        if found is None:
            relation = self._records.relation(self._member_id, other_id)
            found = self._relations[other_id] = "" if relation is None else relation.kind.value
        return found

    def title(self, kind: str, record_id: str | None) -> str:
        if not record_id:
            return ""
        found = self._titles.get((kind, record_id))
        if found is None:
            record = (
                self._records.event(record_id) if kind == "event" else self._records.wish(record_id)
            )
            found = self._titles[(kind, record_id)] = "" if record is None else record.title
        return found

    def service_times(self, credit_ids: set[str], credits: int) -> dict[str, datetime]:
        """The service times of these credits, of the about ``credits`` the member has.

        Each is read by id (a primary-key read: about as costly as one row of a scan)
        unless most of the member's credits are wanted; then all of them are read in
        one scan, keeping only these.
        """
        if len(credit_ids) * SCAN_WHEN_WANTED[1] >= credits * SCAN_WHEN_WANTED[0]:
            return self.served_times(credit_ids)
        found: dict[str, datetime] = {}
        for credit_id in sorted(credit_ids):
            record = self._records.credit(credit_id)
            if record is not None:
                found[credit_id] = record.served_at
        return found

    def served_times(self, credit_ids: set[str]) -> dict[str, datetime]:
        """The service times of these credits, from one scan of the member's credits (as
        provider, then as recipient); only these are kept."""
        found: dict[str, datetime] = {}
        records, member_id = self._records, self._member_id
        for to_member in (False, True):
            after: str | None = None
            while True:
                page = (
                    records.credits_to_page(member_id, after=after, limit=SCAN_PAGE)
                    if to_member
                    else records.credits_page(provider_id=member_id, after=after, limit=SCAN_PAGE)
                )
                for record in page:
                    if record.credit_id in credit_ids:
                        found[record.credit_id] = record.served_at
                if len(page) < SCAN_PAGE:
                    break
                after = page[-1].credit_id
        return found


def _kind_of(metadata: dict[str, str], movement: _Movement, found: Transaction | None) -> str:
    kind = metadata.get("kind") or movement.code or ("" if found is None else found.kind.value)
    if kind == "service":
        if "order" in metadata:
            return "order"
        if "wish" in metadata:
            return "wish"
    return kind


def _other_side(transaction: Transaction | None, own: frozenset[str], delta: int) -> str:
    """The first account on the other side that is not one of the member's own purses."""
    if transaction is None:
        return ""
    other = Side.DEBIT if delta > 0 else Side.CREDIT
    for posting in transaction.postings:
        if posting.side is other and posting.account_id not in own:
            return posting.account_id
    return ""


def _label(
    lookups: _Lookups, member_id: str, kind: str, metadata: dict[str, str], other: str, delta: int
) -> _Label:
    counterparty, account = lookups.account(other) if other else ("", "")
    party = relation = title = ""
    if kind in SERVICE_KINDS:
        party = lookups.name(metadata.get("recipient" if delta > 0 else "provider"))
        if kind == "wish":
            title = lookups.title("wish", metadata.get("wish"))
    elif kind == "event":
        title = lookups.title("event", metadata.get("event"))
    elif kind == "gift":
        other_id = metadata.get("giver" if delta > 0 else "receiver")
        party, relation = lookups.name(other_id), lookups.relation(other_id)
    elif kind in ("grant", "correction"):
        title = metadata.get("reason", "")
    elif kind == "estate" and metadata.get("deceased") != member_id:
        party = lookups.name(metadata.get("deceased"))
    elif kind == "redemption":
        party = counterparty
    category = metadata.get("category", "")
    return (kind, category, title, party, relation, counterparty, account, delta > 0)


class _Collector:
    """The lines of the period as integer arrays and a table of distinct labels."""

    def __init__(self, start: datetime | None, end: datetime | None) -> None:
        self.start_us = None if start is None else (start - EPOCH) // MICROSECOND
        self.end_us = None if end is None else (end - EPOCH) // MICROSECOND
        self.opening = 0
        self.served_us: array[int] = array("q")
        self.sequences: array[int] = array("q")
        self.deltas: array[int] = array("q")
        self.label_ids: array[int] = array("q")
        self.labels: list[_Label] = []
        self._label_index: dict[_Label, int] = {}
        self.deferred: list[tuple[str, datetime, int, int, int]] = []
        """Lines whose service time is on a credit record, read after the others: (credit
        id, effective time, minutes, label id, sequence)."""
        self.credits = 0
        """Lines that have a credit record (about how many credits the member has)."""

    def label_id(self, label: _Label) -> int:
        """The label's place in the table of distinct labels (added if new)."""
        index = self._label_index.get(label)
        if index is None:
            index = self._label_index[label] = len(self.labels)
            self.labels.append(label)
        return index

    def add(self, served: datetime, delta: int, label_id: int, sequence: int) -> None:
        served_us = (served - EPOCH) // MICROSECOND
        if self.start_us is not None and served_us < self.start_us:
            self.opening += delta
            return
        if self.end_us is not None and served_us >= self.end_us:
            return
        if len(self.deltas) >= PRINT_LINES_MAX:
            reason = (
                f"at most {PRINT_LINES_MAX} lines per printed passbook: choose a shorter period"
            )
            raise ReportPeriodInvalid(field="since", reason=reason)
        self.served_us.append(served_us)
        self.sequences.append(sequence)
        self.deltas.append(delta)
        self.label_ids.append(label_id)


def _transactions(ledger: LedgerReader, batch: list[_Movement]) -> dict[int, Transaction]:
    """The batch's transactions by sequence: those read with it, the others looked up."""
    found = {m.sequence: m.transaction for m in batch if m.transaction is not None}
    missing = [m.transaction_id for m in batch if m.transaction is None]
    if missing:
        for outcome in ledger.find_many(missing).values():
            if isinstance(outcome, Committed):
                found[outcome.transaction.sequence] = outcome.transaction
    return found


def _add_batch(
    ledger: LedgerReader,
    lookups: _Lookups,
    member_id: str,
    batch: list[_Movement],
    lines: _Collector,
) -> None:
    """Look up a batch of movements' transactions and add their lines (those dated by a
    credit record wait for it: see ``printed_passbook``)."""
    found = _transactions(ledger, batch)
    own = frozenset(member_account(member_id, purse) for purse in PURSES)
    for movement in batch:
        transaction = found.get(movement.sequence)
        metadata = {} if transaction is None else transaction.metadata
        kind = _kind_of(metadata, movement, transaction)
        delta = movement.delta_minutes
        other = _other_side(transaction, own, delta)
        label_id = lines.label_id(_label(lookups, member_id, kind, metadata, other, delta))
        if kind in CREDITED_KINDS:
            lines.credits += 1
        credit_id = metadata.get("credit") if kind in SERVICE_KINDS else None
        if credit_id is None:
            lines.add(movement.effective_at, delta, label_id, movement.sequence)
        else:
            lines.deferred.append(
                (credit_id, movement.effective_at, delta, label_id, movement.sequence)
            )


def _before(movement: _Movement, start: datetime | None) -> bool:
    """Whether the movement was served before the period, known without its transaction.

    A service is never recorded before it was given, so a movement recorded before
    the period was served before it. Only service transactions (code ``service``)
    take their service time from a credit record; any other is dated by its
    effective time, which the entry carries.
    """
    if start is None:
        return False
    return movement.recorded_at < start or (
        movement.code != "service" and movement.effective_at < start
    )


def _after(movement: _Movement, end: datetime | None) -> bool:
    """Whether the movement, not a service, is dated after the period."""
    return end is not None and movement.code != "service" and movement.effective_at >= end


def printed_passbook(
    snapshot: Snapshot,
    ledger: LedgerReader,
    member_id: str,
    *,
    since: date | None,
    until: date | None,
    now: datetime,
) -> PrintedPassbook:
    """The member's passbook for printing, for service dates from ``since`` to ``until``."""
    member = snapshot.visible_member(member_id)
    start, end = period_bounds(since, until, snapshot.zone)
    lines = _Collector(start, end)
    lookups = _Lookups(snapshot, member_id)
    batch: list[_Movement] = []
    for movement in _movements(ledger, member_id):
        if _before(movement, start):
            lines.opening += movement.delta_minutes
            continue
        if _after(movement, end):
            continue
        batch.append(movement)
        if len(batch) == TRANSACTION_BATCH:
            _add_batch(ledger, lookups, member_id, batch, lines)
            batch = []
    if batch:
        _add_batch(ledger, lookups, member_id, batch, lines)
    if lines.deferred:
        wanted = {credit_id for credit_id, *_ in lines.deferred}
        served = lookups.service_times(wanted, lines.credits)
        for credit_id, effective, delta, label_id, sequence in lines.deferred:
            lines.add(served.get(credit_id, effective), delta, label_id, sequence)
    return PrintedPassbook(
        member_name=member.name,
        book_id=snapshot.book_id,
        programme_name=snapshot.policy().rules.name,
        zone=snapshot.zone,
        since=since,
        until=until,
        generated_at=now,
        opening_balance_minutes=lines.opening,
        served_us=lines.served_us,
        sequences=lines.sequences,
        deltas=lines.deltas,
        label_ids=lines.label_ids,
        labels=lines.labels,
    )
