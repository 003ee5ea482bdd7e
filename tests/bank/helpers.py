"""Shared helpers for the facade's tests: registering people, and the whole state of a book."""

from __future__ import annotations

from datetime import date
from typing import Any

from timebank.bank import SYSTEM, BankBook
from timebank.bank.commands import RegisterMember
from timebank.community import Member, Role, Vetting

KINDS = (
    "settings",
    "policy",
    "member",
    "relation",
    "proxy",
    "programme",
    "credit",
    "redemption",
    "event",
    "event_credit",
)


def book_state(book: BankBook) -> tuple[Any, ...]:
    """Everything a book holds: its chain head, every account, every record."""

    def reading(_: Any, ledger: Any) -> tuple[Any, ...]:
        head = ledger.head()
        accounts = tuple(ledger.accounts(after=None, limit=100_000))
        return (head.sequence, head.hash, accounts)

    with book.bank.store.read(book.book_id) as reader:
        records = tuple(tuple(reader.records.scan(kind, limit=100_000)) for kind in KINDS)
    return (book.read(reading), records)


def coordinator(book: BankBook, member_id: str = "coord", community: str = "gulou") -> Member:
    return book.members.register(
        RegisterMember(
            member_id=member_id,
            name="王芳",
            birth_date=date(1978, 4, 1),
            community=community,
            roles={Role.COORDINATOR},
        ),
        actor=SYSTEM,
    )


def volunteer(
    book: BankBook,
    member_id: str,
    birth_date: date,
    *,
    name: str = "李娜",
    vetting: Vetting = Vetting.STREET,
    community: str = "gulou",
    flags: frozenset[str] = frozenset(),
) -> Member:
    return book.members.register(
        RegisterMember(
            member_id=member_id,
            name=name,
            birth_date=birth_date,
            community=community,
            roles={Role.VOLUNTEER, Role.RECIPIENT},
            vetting=vetting,
            flags=flags,
        ),
        actor=SYSTEM,
    )
