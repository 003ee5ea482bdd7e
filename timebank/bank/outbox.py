"""Use cases of ``book.outbox``: messages written in the transaction of the change they announce.

``notify`` adds a message inside a unit; ``ack_outbox`` marks delivered ones, so
a delivery process reads each at least once and an acknowledged one never again.
"""

from __future__ import annotations

import msgspec

from timebank.bank.context import Context
from timebank.community.errors import (
    RecordIdInvalid,
)
from timebank.ledger import (
    PageSizeOutOfRange,
)
from timebank.ledger.limits import PAGE_SIZE_MAX

__all__ = [
    "ack_outbox",
    "notify",
]

_ENCODER = msgspec.json.Encoder()


def notify(ctx: Context, topic: str, key: str, **data: object) -> None:
    """Queue an outbox message in this unit: it commits with the change it reports."""
    body = {"book": ctx.book_id, "at": ctx.now, "actor": ctx.actor, **data}
    ctx.unit.outbox.add(topic, key, _ENCODER.encode(body).decode(), ctx.now)


SEQ_MAX = 2**62
"""Outbox seqs are database integers: a number past this is no seq."""


def ack_outbox(ctx: Context, *, seqs: object) -> int:
    """Mark notifications delivered; returns how many were newly marked (administrators)."""
    if not isinstance(seqs, (list, tuple)) or not all(
        type(s) is int and 0 <= s <= SEQ_MAX for s in seqs
    ):
        raise RecordIdInvalid(field="seqs", maximum=18)
    if len(seqs) > PAGE_SIZE_MAX:
        raise PageSizeOutOfRange(limit=len(seqs), maximum=PAGE_SIZE_MAX)
    ctx.viewer.require_everywhere("acknowledge notifications")
    return ctx.unit.outbox.mark_delivered(list(seqs), ctx.now)
