"""The limits of every value a caller gives timebank, defined once.

Each limit is a constant (the facade's checks raise the named error when it is
broken) and an ``Annotated`` alias carrying the same constant as msgspec
``Meta`` (the commands in ``timebank.community.commands`` use the aliases, so
an HTTP body decoded into a command, and the OpenAPI schema generated from it,
say exactly what the facade enforces). Ranges that depend on the book's policy
(how many minutes a service may last, which categories exist) are checked by
the rules against the policy in force and are not repeated here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Final

from msgspec import Meta

__all__ = [
    "ATTENDEES_MAX",
    "BOOK_ID_LENGTH_MAX",
    "CATEGORIES_MAX",
    "CATEGORY_LENGTH_MAX",
    "DATES_MAX",
    "FLAGS_MAX",
    "FLAG_LENGTH_MAX",
    "HEIRS_MAX",
    "ID_LENGTH_MAX",
    "ID_PATTERN",
    "MEMBER_ID_LENGTH_MAX",
    "NAME_LENGTH_MAX",
    "SEQS_MAX",
    "TEXT_LENGTH_MAX",
    "TITLE_LENGTH_MAX",
    "Attendees",
    "Category",
    "Community",
    "Dates",
    "Flag",
    "MemberId",
    "MemberIds",
    "Name",
    "RecordId",
    "Seqs",
    "Text",
    "Title",
]

ID_PATTERN: Final = "^[A-Za-z0-9_-]+$"
"""Ids the bank makes accounts and records from: letters, digits, ``-`` and ``_``."""
MEMBER_ID_LENGTH_MAX: Final = 48
"""A member's id (it becomes part of their account ids, ``m.<id>.own``)."""
ID_LENGTH_MAX: Final = 64
"""Any other record's id: an offer, need, order, event, credit, request, visit."""
BOOK_ID_LENGTH_MAX: Final = 64
NAME_LENGTH_MAX: Final = 64
"""A name, a community, a grid, a programme account's name."""
TEXT_LENGTH_MAX: Final = 200
"""A note, a reason, a comment, a place, a follow-up."""
TITLE_LENGTH_MAX: Final = 128
"""An event's title."""
CATEGORY_LENGTH_MAX: Final = 64
FLAG_LENGTH_MAX: Final = 32
FLAGS_MAX: Final = 16
CATEGORIES_MAX: Final = 32
"""Categories one offer may name."""
DATES_MAX: Final = 366
"""Days an offer may list as unavailable."""
ATTENDEES_MAX: Final = 300
"""Attendees one event credit may name."""
HEIRS_MAX: Final = 50
SEQS_MAX: Final = 500
"""Outbox messages one acknowledgement may name."""

RecordId = Annotated[
    str, Meta(min_length=1, max_length=ID_LENGTH_MAX, pattern=ID_PATTERN, examples=["o-1024"])
]
MemberId = Annotated[
    str,
    Meta(
        min_length=1, max_length=MEMBER_ID_LENGTH_MAX, pattern=ID_PATTERN, examples=["wu-shuzhen"]
    ),
]
MemberIds = Annotated[Sequence[MemberId], Meta(max_length=HEIRS_MAX)]
Flag = Annotated[str, Meta(min_length=1, max_length=FLAG_LENGTH_MAX, pattern=ID_PATTERN)]
Name = Annotated[str, Meta(max_length=NAME_LENGTH_MAX)]
Community = Annotated[str, Meta(max_length=NAME_LENGTH_MAX, examples=["gulou"])]
Category = Annotated[str, Meta(min_length=1, max_length=CATEGORY_LENGTH_MAX, examples=["meals"])]
Text = Annotated[str, Meta(max_length=TEXT_LENGTH_MAX)]
Title = Annotated[str, Meta(max_length=TITLE_LENGTH_MAX)]
Dates = Annotated[Sequence[date], Meta(max_length=DATES_MAX)]
Attendees = Annotated[dict[MemberId, int], Meta(max_length=ATTENDEES_MAX)]
Seqs = Annotated[Sequence[int], Meta(max_length=SEQS_MAX)]
