"""Hard limits on everything the ledger accepts.

Every request is checked against these before anything is written. They are
module constants so that a store, an API schema and the tests all read the
same numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

ID_LENGTH_MAX: Final = 128
"""Longest book, account, transaction or hold id, in characters."""

RESERVED_ID_PREFIX: Final = "~"
"""Ids starting with this are made by the ledger itself (hold expiries)."""

STORED_ID_LENGTH_MAX: Final = ID_LENGTH_MAX + 16
"""Longest id a store must keep: a ledger-made id (``~expire:<hold id>``) extends a caller's."""

POSTINGS_PER_TRANSACTION_MIN: Final = 2
POSTINGS_PER_TRANSACTION_MAX: Final = 1_000
"""A city-wide event can credit hundreds of volunteers in one transaction."""

AMOUNT_MINUTES_MAX: Final = 10**12
"""Largest single posting: about 1.9 million years of service."""

BALANCE_MINUTES_LIMIT: Final = 2**62
"""No balance or bound may leave [-limit, +limit]; it fits a signed 64-bit column."""

CODE_LENGTH_MAX: Final = 64
METADATA_BYTES_MAX: Final = 4_096
"""Metadata is a str -> str mapping whose JSON encoding fits this many bytes."""

PAGE_SIZE_DEFAULT: Final = 50
PAGE_SIZE_MAX: Final = 500

BATCH_REQUESTS_MAX: Final = 10_000
"""Most requests one ``submit_many`` call (one unit of work) carries."""

TIMESTAMP_MIN: Final = datetime(1900, 1, 1, tzinfo=UTC)
TIMESTAMP_END: Final = datetime(2200, 1, 1, tzinfo=UTC)
"""Moments a caller gives (effective, expiry, as-of) fall in [min, end): the years 1900 to 2199,
which every store keeps and every time zone can express."""

EXPIRE_BATCH_MAX: Final = 1_000
"""Most holds one `expire_holds` call resolves; call again for the rest."""
