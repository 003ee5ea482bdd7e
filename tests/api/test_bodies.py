"""The API's request bodies are the facade's commands: same fields, same limits, by construction."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.testing import TestClient

from timebank.bank.commands import COMMANDS, Command

BY_NAME: dict[str, type[Command[Any]]] = {
    command.__name__: command for commands in COMMANDS.values() for command in commands
}


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _limits(schema: dict[str, Any]) -> dict[str, Any]:
    """The length and range limits a property states, wherever in its schema."""
    found: dict[str, Any] = {}
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in {
                "maxLength",
                "minLength",
                "maxItems",
                "minItems",
                "pattern",
                "minimum",
                "maximum",
            }:
                found[key] = value
            elif isinstance(value, (dict, list)):
                for part in value if isinstance(value, list) else [value]:
                    found.update(_limits(part))
    return found


def test_every_command_body_states_the_commands_fields_and_limits(
    api: TestClient[Any],
) -> None:
    document = api.get("/schema/openapi.json").json()
    components = document["components"]["schemas"]
    checked = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            ref = body["content"]["application/json"]["schema"].get("$ref", "")
            name = ref.rsplit("/", 1)[-1].removesuffix("Body")
            command = BY_NAME.get(name)
            if command is None:
                continue  # a ledger-level body (transfers, holds), not a bank command
            schema = _resolve(body["content"]["application/json"]["schema"], components)
            own = msgspec.json.schema(command)["$defs"][command.__name__]
            in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert set(schema["properties"]) == set(own["properties"]) - in_path, (method, path)
            for field, value in schema["properties"].items():
                stated, enforced = _limits(value), _limits(own["properties"][field])
                # The schema states no limit the facade does not enforce (it may omit the
                # limits of a set's items, which Litestar's generator drops).
                assert stated.items() <= enforced.items(), (path, field, stated, enforced)
                if "maxLength" in own["properties"][field]:
                    assert value.get("maxLength") == own["properties"][field]["maxLength"]
            checked.add(command)
    with_body = {c for c in BY_NAME.values() if len(c.__struct_fields__) > 1}
    unchecked = sorted(c.__name__ for c in with_body - checked)
    assert unchecked == ["RevokeProxy"], unchecked  # DELETE: both its ids are in its path
