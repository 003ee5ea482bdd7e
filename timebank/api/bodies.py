"""Request bodies made from the facade's commands, so the HTTP API and the facade agree.

A write whose target is in the path (``POST /orders/{order_id}/accept``) takes
the rest of its command as its body: ``body_of(AcceptOrder, "order_id")`` is a
struct with every field of ``AcceptOrder`` but ``order_id``, with the same types,
limits and defaults, so the OpenAPI schema states the facade's own limits.
``command_of`` puts the path back. A write with nothing in its path takes the
command itself as its body.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from msgspec import NODEFAULT, Struct

from timebank.bank.commands import Command

__all__ = ["body_of", "command_of"]

C = TypeVar("C", bound=Command[Any])


def body_of(command: type[Command[Any]], *path: str) -> type[Struct]:
    """The body of ``command``'s route: its fields without those in ``path``."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for field in msgspec.structs.fields(command):
        if field.name in path:
            continue
        if field.default is not NODEFAULT:
            fields.append((field.name, field.type, field.default))
        elif field.default_factory is not NODEFAULT:
            fields.append(
                (field.name, field.type, msgspec.field(default_factory=field.default_factory))
            )
        else:
            fields.append((field.name, field.type))
    missing = set(path) - set(command.__struct_fields__)
    if missing:
        raise TypeError(f"{command.__name__} has no field {', '.join(sorted(missing))}")
    return msgspec.defstruct(
        f"{command.__name__}Body",
        fields,
        kw_only=True,
        frozen=True,
        forbid_unknown_fields=True,
        module=__name__,
    )


def command_of(command: type[C], body: Struct, **path: Any) -> C:
    """``command`` from its route's ``body`` and the values of its path."""
    return command(**msgspec.structs.asdict(body), **path)
