"""Idempotency keys: a use case's outcome remembered under a caller's key, in its own unit.

An HTTP client that retries a request after a timeout cannot tell whether the
first attempt committed. ``TimeBank.idempotent(key, fingerprint)`` sets an
``IdempotencyScope`` for the one use case run inside it; ``BankBook.run``
then, inside the use case's unit of work:

- finds the outcome remembered under (actor, key): the call does nothing and
  the scope carries the remembered JSON (``replayed``), or the remembered
  ledger refusal is raised again; a different ``fingerprint`` under the same
  key raises ``IdempotencyKeyReused``;
- or runs the use case and remembers its encoded result (or the ledger's
  refusal) as a record, so outcome and memory commit together.

A call refused by a rule before anything was written remembers nothing: its
retry is decided afresh (and, the book unchanged, is refused the same way).
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from typing import Any

import msgspec
from msgspec import Struct

from timebank.bank.context import Context
from timebank.community.errors import IdempotencyKeyReused, RecordIdInvalid
from timebank.ledger import LedgerError, error_from_dict

__all__ = ["IDEMPOTENCY", "KEY_LENGTH_MAX", "IdempotencyScope"]

KEY_LENGTH_MAX = 128
KIND = "idempotency"

IDEMPOTENCY: ContextVar[IdempotencyScope | None] = ContextVar("timebank_idempotency", default=None)
_ENCODER = msgspec.json.Encoder()


class Remembered(Struct, frozen=True, kw_only=True):
    fingerprint: str
    result: msgspec.Raw
    """The encoded result (``null`` when the call was refused)."""
    error: dict[str, Any] | None = None


_DECODER = msgspec.json.Decoder(Remembered)


class IdempotencyScope:
    """One idempotent call: its key and fingerprint, and, after a replay, what was remembered."""

    def __init__(self, key: str, fingerprint: str) -> None:
        if type(key) is not str or not 0 < len(key) <= KEY_LENGTH_MAX or not key.isprintable():
            raise RecordIdInvalid(field="idempotency_key", maximum=KEY_LENGTH_MAX)
        self.key = key
        self.fingerprint = hashlib.sha256(str(fingerprint).encode()).hexdigest()
        self.replayed: bytes | None = None
        self._error: LedgerError | None = None

    def _record_id(self, actor: str) -> str:
        return hashlib.sha256(f"{actor}\x00{self.key}".encode()).hexdigest()

    def recall(self, ctx: Context) -> bool:
        """Whether the key was used before by this actor (and, if so, load what it gave)."""
        body = ctx.unit.records.get(KIND, self._record_id(ctx.actor))
        if body is None:
            return False
        remembered = _DECODER.decode(body)
        if remembered.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(key=self.key[:KEY_LENGTH_MAX])
        if remembered.error is not None:
            self._error = error_from_dict(remembered.error)
        else:
            self.replayed = bytes(remembered.result)
        return True

    def remember(
        self, ctx: Context, *, result: object = None, error: LedgerError | None = None
    ) -> None:
        remembered = Remembered(
            fingerprint=self.fingerprint,
            result=msgspec.Raw(_ENCODER.encode(None if error is not None else result)),
            error=None if error is None else error.to_dict(),
        )
        ctx.unit.records.put(KIND, self._record_id(ctx.actor), _ENCODER.encode(remembered))

    def raise_replayed_error(self) -> None:
        if self._error is not None:
            raise self._error
