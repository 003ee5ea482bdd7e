"""A retried use case must be the same request: every field of it is remembered and compared.

A use case that creates something under a caller-chosen id (a credit id, an
order id, a gift id...) can be retried after a lost reply: the retry returns
what the first call made. ``remember_request`` keeps the request's fields as a
record (kind ``request``, id ``<use case>><request id>``) in the unit that
made it; a later call under the same id is compared field by field, in the
order the use case lists them, and the first field that differs is named in
``IdempotencyConflict``. A refusal by a rule rolls the unit back, memory and
all, so its retry is decided afresh.

Values are compared in a canonical form: sets as sorted lists, moments as UTC
instants (``09:00+08:00`` is ``01:00Z``), enums and Structs as their JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import msgspec

from timebank.bank.records import Records, pair_id
from timebank.ledger import IdempotencyConflict

__all__ = ["canonical", "remember_request"]

KIND = "request"
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(dict[str, Any])


def canonical(value: object) -> Any:
    """A JSON value that is equal for equal requests, however they were spelled."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        try:
            return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
        except OverflowError:  # no UTC time (year 1 at +14:00): the use case refuses it later
            return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, msgspec.Struct):
        return canonical(msgspec.to_builtins(value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def remember_request(
    records: Records, use_case: str, request_id: str, request: Mapping[str, object]
) -> bool:
    """Whether ``request_id`` was used before for this very request (a retry).

    The first time, the request is remembered (in the caller's unit) and False
    is returned. Later, True if every field is equal; otherwise the first field
    that differs raises ``IdempotencyConflict``.
    """
    fields = {name: canonical(value) for name, value in request.items()}
    record_id = pair_id(use_case, request_id)
    body = records.raw(KIND, record_id)
    if body is None:
        records.put_raw(KIND, record_id, _ENCODER.encode(fields), key=use_case)
        return False
    before = _DECODER.decode(body)
    for name, value in fields.items():
        if before.get(name) != value:
            raise IdempotencyConflict(transaction_id=request_id, field=name)
    return True
