"""How a time bank names its ledger accounts.

Each member has three purses: ``m.<id>`` (minutes they earned; the only one
that may go below zero, down to a mutual-credit limit), ``m.<id>.gifted``
(minutes given to them by relatives or granted by the programme) and
``m.<id>.group`` (group-volunteer minutes, kept apart where a policy lets them
only be donated). The programme's own accounts are ``pool`` (donated minutes),
``issuance`` (mints minutes for subsidised care), ``guarantee`` (the fund that
guarantees redemption), ``sponsor.<id>`` and ``merchant.<id>``.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "GIFTED",
    "GROUP",
    "GUARANTEE",
    "ISSUANCE",
    "MEMBER_PREFIX",
    "OWN",
    "POOL",
    "PROGRAMME_ACCOUNTS",
    "is_member_account",
    "member_account",
    "member_of",
    "merchant_account",
    "sponsor_account",
]

OWN: Final = "own"
GIFTED: Final = "gifted"
GROUP: Final = "group"
MEMBER_PREFIX: Final = "m."
POOL: Final = "pool"
ISSUANCE: Final = "issuance"
GUARANTEE: Final = "guarantee"

PROGRAMME_ACCOUNTS: Final = (POOL, ISSUANCE, GUARANTEE)
"""Opened with every book. ``pool`` never goes below zero; the funds may (they mint)."""


def member_account(member_id: str, purse: str = OWN) -> str:
    return MEMBER_PREFIX + member_id if purse == OWN else f"{MEMBER_PREFIX}{member_id}.{purse}"


def is_member_account(account_id: str) -> bool:
    return account_id.startswith(MEMBER_PREFIX)


def member_of(account_id: str) -> str:
    """The member a purse belongs to (member ids never contain a dot)."""
    assert is_member_account(account_id), account_id
    return account_id[len(MEMBER_PREFIX) :].split(".", 1)[0]


def sponsor_account(sponsor_id: str) -> str:
    return f"sponsor.{sponsor_id}"


def merchant_account(merchant_id: str) -> str:
    return f"merchant.{merchant_id}"
