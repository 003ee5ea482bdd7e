"""The canonical encoding of a journal record and the hash chain over it.

A record's hash is SHA-256 over a JSON array of the record's fields in a fixed
order, ending with ``previous_hash``. Times are RFC 3339 in UTC (``Z``, with
microseconds only when not zero), postings are objects with sorted keys
(``account_id``, ``amount_minutes``, ``side``), metadata keys are sorted, and
there is no whitespace. The same inputs give the same bytes, and so the same
hash, on every machine and in every store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime

import msgspec

from timebank.ledger.model import Kind, Posting, Transaction

__all__ = [
    "GENESIS_HASH",
    "HASH_VERSION",
    "canonical_bytes",
    "sha256_hex",
    "transaction_hash",
]

HASH_VERSION = "timebank-ledger/1"
GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of the first record of every book."""

_encode = msgspec.json.Encoder(order="sorted").encode


def canonical_bytes(
    book_id: str,
    sequence: int,
    transaction_id: str,
    kind: Kind,
    postings: Sequence[Posting],
    code: str,
    metadata: Mapping[str, str],
    recorded_at: datetime,
    effective_at: datetime | None,
    expires_at: datetime | None,
    related_id: str | None,
    previous_hash: str,
    /,
) -> bytes:
    """The exact bytes a record's hash covers, for the fields in this order."""
    return _encode(
        (
            HASH_VERSION,
            book_id,
            sequence,
            transaction_id,
            kind,
            postings,
            code,
            metadata,
            recorded_at,
            effective_at,
            expires_at,
            related_id,
            previous_hash,
        )
    )


def transaction_hash(transaction: Transaction) -> str:
    """Recompute the hash a committed record should carry."""
    return sha256_hex(
        canonical_bytes(
            transaction.book_id,
            transaction.sequence,
            transaction.transaction_id,
            transaction.kind,
            transaction.postings,
            transaction.code,
            transaction.metadata,
            transaction.recorded_at,
            transaction.effective_at,
            transaction.expires_at,
            transaction.related_id,
            transaction.previous_hash,
        )
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
