"""Checks of raw values shared by the use cases: ids, cursors, days, text, choices, minutes.

Each returns the value it checked, typed, or raises the typed error named after
the broken rule; the limits themselves live in ``timebank.community.limits``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from timebank.community.errors import (
    ChoiceUnknown,
    MinutesNotPositive,
    ReasonRequired,
    RecordIdInvalid,
    TextTooLong,
)
from timebank.community.limits import (
    MEMBER_ID_LENGTH_MAX,
    TEXT_LENGTH_MAX,
)
from timebank.ledger import (
    TimestampNotAware,
)
from timebank.ledger.checks import check_aware
from timebank.ledger.limits import AMOUNT_MINUTES_MAX

__all__ = [
    "check_choice",
    "check_choices",
    "check_cursor",
    "check_ids",
    "check_minutes",
    "check_moment",
    "check_reason",
    "check_record_id",
    "check_text",
    "is_day",
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


def check_minutes(field: str, value: object) -> int:
    if type(value) is not int or not 0 < value <= AMOUNT_MINUTES_MAX:
        raise MinutesNotPositive(field=field, value=repr(value)[:32])
    return value


def check_moment(field: str, value: object) -> datetime:
    """A moment with a time zone, in the years 1900 to 2199 (as the ledger accepts them)."""
    if not isinstance(value, datetime):
        raise TimestampNotAware(field=field)
    check_aware(field, value)
    return value


def check_reason(action: str, reason: object) -> str:
    if type(reason) is not str or not reason.strip():
        raise ReasonRequired(action=action)
    return check_text("reason", reason, TEXT_LENGTH_MAX)
