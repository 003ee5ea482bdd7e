"""The commands, the handler table and the capabilities agree with each other and the use cases."""

from __future__ import annotations

import importlib
import inspect
from datetime import date
from typing import Any

import msgspec
import pytest

from timebank.bank import TimeBank
from timebank.bank.capabilities import Capability
from timebank.bank.commands import (
    COMMANDS,
    AddMerchant,
    AddSponsor,
    BookRedemption,
    Command,
    ConfirmCredit,
    CreditService,
    Donate,
    Give,
    Grant,
    RegisterMember,
)
from timebank.bank.handlers import HANDLERS, use_case_of
from timebank.community.limits import ID_LENGTH_MAX, MEMBER_ID_LENGTH_MAX, TEXT_LENGTH_MAX
from timebank.community.policy import PolicyRules

RENAMED: dict[type[Command[Any]], dict[str, str]] = {
    CreditService: {"request_id": "credit_id"},
    BookRedemption: {"request_id": "redemption_id"},
    Give: {"request_id": "gift_id"},
    Donate: {"request_id": "donation_id"},
    Grant: {"request_id": "grant_id"},
    AddSponsor: {"sponsor_id": "programme_id"},
    AddMerchant: {"merchant_id": "programme_id"},
}
"""The few fields a use case knows by another name (what the handler prepares)."""
ADDED: dict[type[Command[Any]], set[str]] = {
    BookRedemption: {"kind"},
    AddSponsor: {"kind"},
    AddMerchant: {"kind"},
}
"""Parameters the handler derives from the command rather than copies."""

ALL = [command for commands in COMMANDS.values() for command in commands]


def test_every_command_has_one_handler_and_one_capability() -> None:
    assert len(ALL) == len(set(ALL)) == len(HANDLERS)
    assert set(ALL) == set(HANDLERS)


@pytest.mark.parametrize("command", ALL, ids=lambda c: c.__name__)
def test_a_use_case_takes_exactly_its_commands_fields(command: type[Command[Any]]) -> None:
    parameters = set(inspect.signature(use_case_of(command)).parameters) - {"ctx"}
    renamed = RENAMED.get(command, {})
    fields = {renamed.get(f, f) for f in command.__struct_fields__}
    assert parameters == fields | ADDED.get(command, set())


def test_every_capability_write_takes_its_command() -> None:
    book = TimeBank().create_book("gulou", PolicyRules(name="test"))
    seen: set[type[Command[Any]]] = set()
    for name, commands in COMMANDS.items():
        capability = getattr(book, name)
        assert isinstance(capability, Capability)
        for _, method in inspect.getmembers(capability, inspect.ismethod):
            hints = inspect.signature(method).parameters
            if "command" in hints:
                annotation = hints["command"].annotation
                (command,) = [c for c in commands if c.__name__ == annotation]
                seen.add(command)
                assert hints["actor"].kind is inspect.Parameter.KEYWORD_ONLY
    assert seen == set(ALL)


def test_modules_are_named_after_the_capabilities() -> None:
    book = TimeBank().create_book("gulou", PolicyRules(name="test"))
    names = {n for n, v in vars(book).items() if isinstance(v, Capability)}
    assert len(names) == 14
    assert set(COMMANDS) <= names
    for name in names:
        importlib.import_module(f"timebank.bank.{name}")
        assert importlib.import_module(f"timebank.api.routes.{name}").ROUTES, name
    for name, commands in COMMANDS.items():
        for command in commands:
            assert use_case_of(command).__module__ == f"timebank.bank.{name}", command


def test_execute_runs_a_command_and_refuses_what_is_not_one() -> None:
    book = TimeBank().create_book("gulou", PolicyRules(name="test"))
    member = book.execute(
        RegisterMember(
            name="李娜",
            birth_date=date(1960, 1, 1),
            community="gulou",
            member_id="li",
        ),
        actor="system",
    )
    assert book.members.get("li") == member
    with pytest.raises(TypeError):
        book.execute(msgspec.Struct(), actor="system")  # type: ignore[arg-type]


def test_limits_in_the_schema_are_the_facades() -> None:
    schema = msgspec.json.schema(CreditService)["$defs"]["CreditService"]["properties"]
    assert schema["note"]["maxLength"] == TEXT_LENGTH_MAX
    assert schema["provider_id"]["maxLength"] == MEMBER_ID_LENGTH_MAX
    request_id = schema["credit_id"]["anyOf"][0]  # the command's request_id, named in JSON
    assert request_id["maxLength"] == ID_LENGTH_MAX
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(
            msgspec.json.encode({"credit_id": "x" * (ID_LENGTH_MAX + 1)}),
            type=ConfirmCredit,
        )
