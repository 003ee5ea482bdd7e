"""Every reason, action, kind and field name an error can carry reads in Chinese.

Errors carry data, and a Chinese problem's detail translates the fields that
hold short English phrases (``timebank.i18n.TRANSLATED_FIELDS``) through the
catalog. Three checks keep that true:

- the code: every value that reaches such a field of an error is found in the
  source with ``ast`` (literals, f-strings as templates, variables assigned in
  the function, and the parameters of the helpers that pass them on), and
  each one translates into Chinese with no English phrase left;
- the facade: every rule broken through ``TimeBank`` (the cases of
  ``tests/bank/test_errors.py``, and a few more whose reasons vary) gives a
  Chinese detail with no English phrase but its data;
- the API: problems with reasons (a provider not eligible, a schedule refused,
  a body of the wrong type) come back in Chinese under ``Accept-Language: zh-CN``.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest
from babel.messages.pofile import read_po
from litestar.testing import TestClient

import timebank
import timebank.community.errors
import timebank.ledger.errors
from tests.bank.test_errors import CASES, Case
from tests.human import has_chinese, untranslated
from timebank.api import ApiSettings, create_app, issue_token
from timebank.api.app import _invalid
from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import (
    COMMANDS,
    AddOffer,
    AddPolicy,
    CreditService,
    Give,
    OpenCareFile,
    RegisterMember,
    Relate,
)
from timebank.community import (
    GrantEligibility,
    PolicyRules,
    Provenance,
    RelationKind,
    Role,
    Vetting,
    Window,
)
from timebank.community.exchange import OrderAction, WishStatus
from timebank.community.policy import policy_problems
from timebank.community.rules import PROVIDER_RULES
from timebank.i18n import TRANSLATED_FIELDS, placeholders, text
from timebank.ledger import LedgerError, ManualClock
from timebank.ledger.model import Hold, Kind, PostHold, Reverse, Transfer, VoidHold

SOURCE = Path(timebank.__file__).parent
CARRIED = {
    name: context
    for name, context in TRANSLATED_FIELDS.items()
    if name in ("reason", "action", "kind", "field", "problems")
}
"""The fields that carry English phrases or field names (statuses and categories are codes)."""
OWN_WORDS = {"timebank/cli.py"}
"""Modules whose own exceptions word their messages themselves (the CLI's rows refused):
not problems, so their reasons are not looked for; the errors they raise are."""
ZH = {"Accept-Language": "zh-CN"}
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
"""09:00 on a Monday in Asia/Shanghai."""


# --- finding every value an error's field can carry -----------------------------------------


@dataclasses.dataclass(frozen=True)
class Found:
    """A value of a carried field: a literal, a template (an f-string) or an expression."""

    context: str
    kind: str  # "text", "template" or "unresolved"
    value: str
    where: str


Spec = dict[int | str, str]
"""Where a callable takes carried values: positional index or keyword -> context."""


def _errors() -> set[str]:
    names: set[str] = set()
    stack: list[type] = [LedgerError]
    while stack:
        cls = stack.pop()
        names.add(cls.__name__)
        stack.extend(cls.__subclasses__())
    return names


def _carried() -> Spec:
    """An error's spec: its carried fields, by keyword."""
    spec: Spec = {}
    for name, context in CARRIED.items():
        spec[name] = context
    return spec


def _positional(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    names = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    return names[1:] if names and names[0] in ("self", "cls") else names


def _own_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = function.args
    every = (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
    return {a.arg for a in every if a is not None}


class Source:
    """The parsed package: which callables take carried values, and the values passed."""

    def __init__(self) -> None:
        self.trees = {
            path.relative_to(SOURCE.parent).as_posix(): ast.parse(path.read_text("utf-8"))
            for path in sorted(SOURCE.rglob("*.py"))
        }
        self.parents: dict[ast.AST, ast.AST] = {}
        self.defined: dict[str, set[str]] = {}
        self.functions: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
        for path, tree in self.trees.items():
            self.defined[path] = set()
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    self.parents[child] = node
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self.defined[path].add(node.name)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.functions.append((path, node))
        self.specs: dict[tuple[str, str], Spec] = {}
        """(module, name) -> spec, for callables defined in the package."""
        self.by_name: dict[str, Spec] = {name: _carried() for name in _errors()}
        for path, tree in self.trees.items():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and path not in OWN_WORDS:
                    self._exception(path, node)
        self._propagate()

    def _exception(self, path: str, cls: ast.ClassDef) -> None:
        """A class of the package whose ``__init__`` takes a carried field (``BodyInvalid``)."""
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                spec: Spec = {}
                for index, name in enumerate(_positional(item)):
                    if name in CARRIED:
                        spec[index] = spec[name] = CARRIED[name]
                for arg in item.args.kwonlyargs:
                    if arg.arg in CARRIED:
                        spec[arg.arg] = CARRIED[arg.arg]
                if spec:
                    self.specs[(path, cls.name)] = spec
                    self.by_name.setdefault(cls.name, {}).update(spec)

    def spec(self, path: str, func: ast.expr) -> Spec:
        if isinstance(func, ast.Name):
            if func.id in self.defined[path]:
                return self.specs.get((path, func.id), {})
            return self.by_name.get(func.id, {})
        if isinstance(func, ast.Attribute):
            return self.by_name.get(func.attr, {})
        return {}

    def arguments(self, path: str, call: ast.Call) -> Iterator[tuple[str, ast.expr]]:
        spec = self.spec(path, call.func)
        for index, value in enumerate(call.args):
            if index in spec and not isinstance(value, ast.Starred):
                yield spec[index], value
        for keyword in call.keywords:
            if keyword.arg is not None and keyword.arg in spec:
                yield spec[keyword.arg], keyword.value

    def _propagate(self) -> None:
        """A parameter passed on, as it is, where a carried value goes carries one too."""
        changed = True
        while changed:
            changed = False
            for path, function in self.functions:
                positional = _positional(function)
                keyword = [a.arg for a in function.args.kwonlyargs]
                for node in ast.walk(function):
                    if not isinstance(node, ast.Call):
                        continue
                    for context, value in self.arguments(path, node):
                        while isinstance(value, ast.Subscript):
                            value = value.value
                        if not isinstance(value, ast.Name):
                            continue
                        keys: list[int | str] = []
                        if value.id in positional:
                            keys += [positional.index(value.id), value.id]
                        if value.id in keyword:
                            keys.append(value.id)
                        spec = self.specs.setdefault((path, function.name), {})
                        for key in keys:
                            if spec.get(key) != context:
                                spec[key] = context
                                self.by_name.setdefault(function.name, {})[key] = context
                                changed = True

    def enclosing(self, node: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        found = []
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append(node)
        return found

    def values(self, path: str, expr: ast.expr, scopes: list[Any], depth: int = 0) -> list[Any]:
        """What ``expr`` can be: ``(kind, value)`` pairs."""
        while isinstance(expr, ast.Subscript):
            expr = expr.value
        if isinstance(expr, ast.Constant):
            return [("text", expr.value)] if isinstance(expr.value, str) else []
        if isinstance(expr, ast.JoinedStr):
            return [("template", template(expr))]
        if isinstance(expr, ast.IfExp):
            return self.values(path, expr.body, scopes, depth) + self.values(
                path, expr.orelse, scopes, depth
            )
        if isinstance(expr, ast.Name) and depth < 4:
            if any(expr.id in _own_names(scope) for scope in scopes):
                return []  # a parameter: the callers' values are found where they call
            found = []
            for node in ast.walk(scopes[0]) if scopes else ():
                assigned = _assigned(node, expr.id)
                if assigned is not None:
                    found += self.values(path, assigned, scopes, depth + 1)
                elif isinstance(node, ast.For) and isinstance(node.iter, (ast.Tuple, ast.List)):
                    found += self._loop(path, node, expr.id, scopes, depth)
            for statement in self.trees[path].body if not found and path else ():
                assigned = _assigned(statement, expr.id)
                if assigned is not None:  # a module's constant
                    found += self.values(path, assigned, [], depth + 1)
            if found:
                return found
        if isinstance(expr, ast.Call) and depth < 4:
            found = self._returns(expr.func, depth)
            if found:
                return found
        return [("unresolved", ast.unparse(expr))]

    def _returns(self, func: ast.expr, depth: int) -> list[tuple[str, str]]:
        """What a function of the package returns (``reason = unavailable(...)``)."""
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        found: list[tuple[str, str]] = []
        for path, function in self.functions:
            if function.name != name:
                continue
            scopes = [function, *self.enclosing(function)]
            for node in ast.walk(function):
                if isinstance(node, ast.Return) and node.value is not None:
                    found += self.values(path, node.value, scopes, depth + 1)
        return found

    def _loop(
        self, path: str, loop: ast.For, name: str, scopes: list[Any], depth: int
    ) -> list[Any]:
        """``for name in ("a", "b")`` or ``for name, x in (("a", 1), ...)``."""
        assert isinstance(loop.iter, (ast.Tuple, ast.List))
        target = loop.target
        if isinstance(target, ast.Name) and target.id == name:
            return [v for e in loop.iter.elts for v in self.values(path, e, scopes, depth + 1)]
        found = []
        if isinstance(target, ast.Tuple):
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Name) and element.id == name:
                    for row in loop.iter.elts:
                        if isinstance(row, ast.Tuple):
                            found += self.values(path, row.elts[index], scopes, depth + 1)
        return found

    def found(self) -> list[Found]:
        every: set[Found] = set()
        for path, tree in self.trees.items():
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                for context, value in self.arguments(path, node):
                    for kind, shown in self.values(path, value, self.enclosing(node)):
                        where = f"{path}:{shown}" if kind == "unresolved" else path
                        every.add(Found(context, kind, shown, where))
        return sorted(every, key=lambda f: (f.context, f.kind, f.value, f.where))


def _assigned(node: ast.AST, name: str) -> ast.expr | None:
    """What ``node`` assigns to ``name`` (``name = ...`` or ``name: T = ...``), if it does."""
    if isinstance(node, ast.Assign):
        named = any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        return node.value if named else None
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.value if node.target.id == name else None
    return None


def template(expr: ast.JoinedStr) -> str:
    """An f-string as a template: ``f"at most {WINDOWS_MAX} windows"`` is
    ``at most {windows_max} windows``."""
    parts = []
    for value in expr.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value).replace("{", "{{").replace("}", "}}"))
        else:
            assert isinstance(value, ast.FormattedValue)
            name = re.sub(r"\W+", "_", ast.unparse(value.value)).strip("_").lower() or "value"
            parts.append("{" + name + ("!r" if value.conversion == ord("r") else "") + "}")
    return "".join(parts)


def sample(template_text: str) -> str:
    """A template filled as the code would fill it: ``12`` for a number, ``'m1'`` for a repr."""
    filled = re.sub(r"\{[a-z0-9_]+!r\}", "'m1'", template_text)
    filled = re.sub(r"\{[a-z0-9_]+\}", "12", filled)
    return filled.replace("{{", "{").replace("}}", "}")


@cache
def source() -> Source:
    return Source()


# Values built from codes or from data the source cannot show: what they can be.

RELATIONS = sorted(kind.value for kind in RelationKind)
JSON_PATH = "a JSON path ($.legs[0].minutes): data, not a phrase"


def _request_fields() -> list[str]:
    """The fields a retried use case compares (``ctx.once(..., member_id=...)``)."""
    names: set[str] = set()
    for _, function in source().functions:
        dicts: dict[str, ast.Dict] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        dicts[target.id] = node.value
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called not in ("once", "_retried"):
                continue
            for keyword in node.keywords:
                if keyword.arg is not None:
                    names.add(keyword.arg)
                elif isinstance(keyword.value, ast.Name) and keyword.value.id in dicts:
                    for key in dicts[keyword.value.id].keys:
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            names.add(key.value)
    return sorted(names)


def _returned(function: Callable[..., object]) -> list[str]:
    """The strings and templates a function returns (a provider rule's reasons)."""
    code = function.__code__
    tree = source().trees[Path(code.co_filename).resolve().relative_to(SOURCE.parent).as_posix()]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function.__name__:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    for kind, value in source().values("", inner.value, [node]):
                        found += filled(kind, value)
    return found


def _policy_problems() -> list[str]:
    """What ``policy_problems`` appends: one problem each, joined with ``; ``."""
    path = Path(policy_problems.__code__.co_filename).resolve()
    tree = source().trees[path.relative_to(SOURCE.parent).as_posix()]
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "problems"
        ):
            for kind, value in source().values("", node.args[0], []):
                found += filled(kind, value)
    return found


def _body_reasons() -> list[str]:
    """What msgspec says of a body of the wrong shape, for every command and field."""
    wrong: list[object] = [None, True, 1, -1, 1.5, "x", "", "x" * 300, [], ["x"] * 100, {}]
    wrong += [{"a": 1}, "2026-13-45", "2026-11-02T10:00:00", [{"weekday": 9}]]
    reasons: set[str] = {"Expected an integer of at most 64 bits"}
    commands = {command for group in COMMANDS.values() for command in group}
    for command in sorted(commands, key=lambda c: c.__name__):
        decoder = msgspec.json.Decoder(command, strict=True)
        bodies = [b"{}", b"[]", b'{"zzz": 1}']
        bodies += [msgspec.json.encode({f: v}) for f in command.__struct_fields__ for v in wrong]
        for body in bodies:
            try:
                decoder.decode(body)
            except msgspec.ValidationError as error:
                reasons.add(_invalid(error).reason)
    # Values a caller typed are data: the same reason for any of them.
    return sorted({re.sub(r"value '.*'$", "value 'x'", reason) for reason in reasons})


def _policy_conversions() -> list[str]:
    """What ``check_rules`` says of rules whose fields have the wrong types."""
    found = []
    for field, value in (("unit_minutes", "60"), ("categories", 3), ("rounding", "sideways")):
        builtins = msgspec.to_builtins(PolicyRules(name="x"))
        builtins[field] = value
        try:
            msgspec.convert(builtins, PolicyRules)
        except msgspec.ValidationError as error:
            found.append(str(error))
    return found


KNOWN: dict[str, tuple[str, Callable[[], list[str]]]] = {
    "timebank/community/rules.py:action.value": (
        "an order's action",
        lambda: [action.value for action in OrderAction],
    ),
    "timebank/bank/wishes.py:to.value": (
        "the status a micro-wish moves to",
        lambda: [status.value for status in WishStatus],
    ),
    "timebank/bank/wishes.py:WishStatus.CONFIRMED.value": (
        "the status a micro-wish moves to",
        lambda: [WishStatus.CONFIRMED.value],
    ),
    "timebank/bank/members.py:existing.kind.value": ("a relation", lambda: RELATIONS),
    "timebank/ledger/book.py:target.kind.value": (
        "a ledger transaction's kind",
        lambda: [kind.value for kind in Kind],
    ),
    "timebank/ledger/book.py:field": (
        "the first field of a ledger request that differs",
        lambda: sorted(
            {"kind"}
            | {
                name
                for request in (Transfer, Hold, PostHold, VoidHold, Reverse)
                for name in request.__struct_fields__
            }
        ),
    ),
    "timebank/bank/retries.py:name": ("a field of a retried request", _request_fields),
    "timebank/community/rules.py:rule(rules, provider, age, group)": (
        "what a provider rule returns",
        lambda: [value for _, rule in PROVIDER_RULES for value in _returned(rule)],
    ),
    "timebank/bank/programme.py:'; '.join(problems)": (
        "the policy's problems",
        _policy_problems,
    ),
    "timebank/bank/programme.py:str(error)": (
        "msgspec's message on rules of the wrong types",
        _policy_conversions,
    ),
    "timebank/api/app.py:reason": ("msgspec's message on a body", _body_reasons),
    "timebank/api/app.py:path": (JSON_PATH, list),
}
"""Expressions the scan cannot read, by ``module:expression``: what each is, and its values."""

POLICY_COUNTS = [
    name
    for name, kind in PolicyRules.__annotations__.items()
    if name.endswith(("_minutes", "_min", "_max", "_days"))
    and "_age_" not in name
    and "int" in str(kind)
]
"""The policy's numbers that ``policy_problems`` names when out of range."""
GIFT_KINDS = ["not related", *(f"a {relation}" for relation in RELATIONS)]
TEMPLATES: dict[str, list[str]] = {
    "add a {kind}": ["add a sponsor", "add a merchant"],
    "{kind}_id": ["sponsor_id", "merchant_id"],
    "{kind}; gifts go to: {allowed}": [
        f"{kind}; gifts go to: {', '.join(RELATIONS[:n])}"
        for n, kind in enumerate(GIFT_KINDS, start=1)
    ],
    "the guarantee fund covers: {allowed}": [
        "the guarantee fund covers: 80+ with no flag",
        "the guarantee fund covers: 80+ with living_alone",
        "the guarantee fund covers: 80+ with no flag; 0+ with x",
        "the guarantee fund covers: 60+ with disabled, living_alone; 90+ with no flag",
    ],
    "vetting is {provider_vetting}": [f"vetting is {level}" for level in Vetting],
    "{name} must be 1 to {policy_minutes_max}": [
        f"{name} must be 1 to 1000000000" for name in (*POLICY_COUNTS, "unknown_minutes")
    ],
    "{name} must be 0 to {policy_minutes_max}": [
        f"{name} must be 0 to 1000000000" for name in (*POLICY_COUNTS, "unknown_minutes")
    ],
    "deadlines of {name!r} must be 1 to {policy_minutes_max} minutes": [
        "deadlines of 'deadlines' must be 1 to 1000000000 minutes",
        "deadlines of 'meals' must be 1 to 1000000000 minutes",
    ],
    "{path}.{named_name}": [],  # a JSON path
}
"""Templates whose placeholders are codes worded into the sentence: the values they take."""


def filled(kind: str, value: str) -> list[str]:
    """A found value as code makes it: a template filled in (``TEMPLATES``, else ``sample``)."""
    if kind == "text":
        return [value]
    if kind == "template":
        return TEMPLATES.get(value, [sample(value)])
    return []


def catalog_values() -> list[tuple[str, str, str]]:
    """Every ``(context, value, where)`` a carried field can hold, as code would fill it."""
    found = []
    for item in source().found():
        if item.kind == "text":
            found.append((item.context, item.value, item.where))
        elif item.kind == "template":
            for value in filled(item.kind, item.value):
                found.append((item.context, value, f"{item.where}: {item.value}"))
        else:
            _, values = KNOWN[item.where]
            found += [(item.context, value, item.where) for value in values()]
    return sorted(set(found))


def test_every_expression_the_scan_cannot_read_is_known() -> None:
    """A new way of building a reason, an action or a field name is read, or listed in KNOWN."""
    unresolved = {f.where for f in source().found() if f.kind == "unresolved"}
    assert unresolved <= set(KNOWN), sorted(unresolved - set(KNOWN))
    unused = set(KNOWN) - unresolved
    assert not unused, sorted(unused)


def test_the_scan_finds_the_values_it_should() -> None:
    """The scan sees literals, f-strings, helpers' parameters and loops (a guard on itself)."""
    values = {(context, value) for context, value, _ in catalog_values()}
    assert ("reason", "not registered as a volunteer") in values
    assert ("reason", "at most 12 windows") in values  # f"at most {WINDOWS_MAX} windows"
    assert ("action", "open a care file") in values  # ctx.require_coordinator("open a care file")
    assert ("field", "estimated_minutes") in values
    assert ("field", "balance_minutes_min") in values  # for field, value in (("...", ...), ...)
    assert ("field", "credit_minutes") in values  # check_minutes("credit_minutes", ...)
    assert ("action", "cancel") in values
    assert ("kind", "spouse") in values
    assert ("reason", "aged 12, under 12 alone") in values


def _ids(values: list[tuple[str, str, str]]) -> list[str]:
    return [f"{context}:{value}"[:80] for context, value, _ in values]


VALUES = catalog_values()


@pytest.mark.parametrize(("context", "value", "where"), VALUES, ids=_ids(VALUES))
def test_every_carried_value_has_a_chinese_translation(
    context: str, value: str, where: str
) -> None:
    if has_chinese(value):
        return  # already Chinese (the demo's data)
    shown = text("zh").phrase(context, value)
    assert has_chinese(shown), (where, value, shown)
    assert untranslated(shown) == [], (where, value, shown)


def test_english_keeps_reasons_and_actions_as_they_are() -> None:
    """English problems read as the code wrote them (codes may have English names)."""
    for context, value, _ in VALUES:
        if context in ("reason", "action"):
            assert text("en").phrase(context, value) == value


REASONS_PO = SOURCE / "i18n" / "locale" / "zh_CN" / "LC_MESSAGES" / "reasons.po"


def test_the_reasons_catalog_is_well_formed() -> None:
    """Patterns are marked and fill in only what they match; nothing is defined twice."""
    with REASONS_PO.open("rb") as file:
        reasons = read_po(file, locale="zh_CN")
    others: set[tuple[str | None, str]] = set()
    for path in REASONS_PO.parent.glob("*.po"):
        if path != REASONS_PO:
            with path.open("rb") as file:
                others |= {(m.context, str(m.id)) for m in read_po(file) if m.id}
    for message in reasons:
        if not message.id:
            continue
        msgid, msgstr = str(message.id), str(message.string)
        assert message.context in ("reason", "action", "kind", "field"), msgid
        assert has_chinese(msgstr), msgid
        assert not message.fuzzy, msgid
        assert (message.context, msgid) not in others, msgid
        assert ("python-brace-format" in message.flags) == ("{" in msgid), msgid
        assert placeholders(msgstr) == placeholders(msgid), msgid


# --- through the facade -------------------------------------------------------------------


def data_values(error: LedgerError) -> list[str]:
    """The error's data a detail shows as it is: every field not translated, and the code."""
    data = error.to_dict()
    shown = [str(value) for key, value in data.items() if key not in TRANSLATED_FIELDS]
    return [*shown, error.code]


def chinese_detail(error: LedgerError) -> str:
    return text("zh").detail(error.code, error.template, error.to_dict())


def assert_chinese(error: LedgerError) -> None:
    detail = chinese_detail(error)
    assert has_chinese(detail), detail
    assert untranslated(detail, data_values(error)) == [], (error.code, detail)


def new_bank() -> TimeBank:
    return TimeBank(clock=ManualClock(START, tick=timedelta(seconds=1)))


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.error.__name__}-{c.label or c.arrange.__name__}" for c in CASES]
)
def test_every_rule_broken_through_the_facade_reads_in_chinese(case: Case) -> None:
    _, action = case.arrange(new_bank())
    with pytest.raises(LedgerError) as caught:
        action()
    assert_chinese(caught.value)


RULES = PolicyRules(
    name="reasons",
    payer_default="issuance",
    categories=("companionship", "meals"),
    provider_vetting_required=True,
    recipient_age_min=60,
    recipient_flags_any=frozenset({"living_alone"}),
    gift_relations=frozenset({"child", "spouse"}),
    gift_receiver_age_min=60,
    guarantee_grants_to=(
        GrantEligibility(age_min=80, flags=frozenset({"living_alone"})),
        GrantEligibility(age_min=90),
    ),
)
MONDAY = Window(weekday=0, start_minute=9 * 60, end_minute=12 * 60)


def member(
    book: BankBook,
    member_id: str,
    born: date,
    roles: set[Role],
    vetting: Vetting = Vetting.STREET,
    flags: frozenset[str] = frozenset(),
) -> None:
    book.members.register(
        RegisterMember(
            member_id=member_id,
            name="王芳",
            birth_date=born,
            community="gulou",
            roles=roles,
            vetting=vetting,
            flags=flags,
        ),
        actor=SYSTEM,
    )


def reasons_book() -> BankBook:
    """A coordinator, a vetted volunteer li (63), an unvetted one fang, and residents."""
    book = new_bank().create_book("gulou", RULES)
    member(book, "coord", date(1978, 4, 1), {Role.COORDINATOR})
    member(book, "li", date(1963, 5, 1), {Role.VOLUNTEER, Role.RECIPIENT})
    member(book, "fang", date(1990, 1, 1), {Role.VOLUNTEER}, vetting=Vetting.PENDING)
    member(book, "teen", date(2012, 1, 1), {Role.VOLUNTEER})
    member(book, "wu", date(1940, 1, 1), {Role.RECIPIENT})
    member(book, "young", date(1990, 6, 1), {Role.RECIPIENT})
    member(book, "son", date(1970, 6, 1), {Role.VOLUNTEER, Role.RECIPIENT})
    return book


def served(book: BankBook, provider: str, recipient: str) -> Any:
    return book.credits.record(
        CreditService(
            provider_id=provider,
            recipient_id=recipient,
            category="companionship",
            raw_minutes=60,
            served_at=START - timedelta(days=1),
            provenance=Provenance.ORGANISATION_CONFIRMATION,
        ),
        actor="coord",
    )


def offer(volunteer: str, **changes: Any) -> AddOffer:
    values: dict[str, Any] = {
        "volunteer_id": volunteer,
        "categories": ["companionship"],
        "windows": [MONDAY],
        "capacity_minutes_per_week": 120,
    }
    values.update(changes)
    return AddOffer(**values)


REFUSALS: dict[str, Callable[[BankBook], object]] = {
    "not a volunteer": lambda book: book.supply.add_offer(offer("wu"), actor="coord"),
    "not vetted": lambda book: served(book, "fang", "wu"),
    "too young alone": lambda book: served(book, "teen", "wu"),
    "recipient too young": lambda book: served(book, "li", "young"),
    "no windows": lambda book: book.supply.add_offer(offer("li", windows=[]), actor="coord"),
    "too many windows": lambda book: book.supply.add_offer(
        offer("li", windows=[MONDAY] * 50), actor="coord"
    ),
    "offer ends first": lambda book: book.supply.add_offer(
        offer("li", starts_on=date(2026, 12, 1), ends_on=date(2026, 11, 1)), actor="coord"
    ),
    "only one coordinate": lambda book: book.supply.add_offer(
        offer("li", x_metres=5), actor="coord"
    ),
    "capacity over a week": lambda book: book.supply.add_offer(
        offer("li", capacity_minutes_per_week=8 * 24 * 60), actor="coord"
    ),
    "gift to a stranger": lambda book: book.gifts.give(
        Give(giver_id="li", receiver_id="wu", minutes=10), actor="li"
    ),
    "a volunteer opens a care file": lambda book: book.care.open(
        OpenCareFile(member_id="wu", visits_per_month=2), actor="li"
    ),
    "too many visits": lambda book: book.care.open(
        OpenCareFile(member_id="wu", visits_per_month=999), actor="coord"
    ),
    "policy unusable": lambda book: book.programme.add_policy(
        AddPolicy(rules=PolicyRules(name="", record_minutes_min=0, offer_reminder_days=999)),
        actor=SYSTEM,
    ),
}


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_reasons_that_vary_read_in_chinese(refusal: str) -> None:
    book = reasons_book()
    with pytest.raises(LedgerError) as caught:
        REFUSALS[refusal](book)
    assert_chinese(caught.value)


def test_a_gift_to_a_relative_under_age_reads_in_chinese() -> None:
    book = reasons_book()
    book.members.relate(
        Relate(member_id="li", other_id="son", kind=RelationKind.CHILD), actor=SYSTEM
    )
    served(book, "li", "wu")
    with pytest.raises(LedgerError) as caught:
        book.gifts.give(Give(giver_id="li", receiver_id="son", minutes=10), actor="li")
    assert caught.value.code == "gift_not_allowed"
    assert_chinese(caught.value)


# --- through the API ----------------------------------------------------------------------

SECRET = "timebank-tests-" + "x" * 32


@pytest.fixture
def api() -> Iterator[TestClient[Any]]:
    book = reasons_book()
    app = create_app(book.bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
    with TestClient(app) as client:
        yield client


def headers(subject: str, role: str = "coordinator") -> dict[str, str]:
    token = issue_token(SECRET, subject=subject, role=role, book="gulou")
    return {"Authorization": f"Bearer {token}", **ZH}


WINDOW = {"weekday": 0, "start_minute": 540, "end_minute": 720}
OFFERS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "provider_not_eligible": (
        {"volunteer_id": "wu", "categories": ["companionship"], "windows": [WINDOW]},
        ["wu"],
    ),
    "schedule_invalid": (
        {"volunteer_id": "li", "categories": ["companionship"], "windows": []},
        ["li"],
    ),
    "request_body_invalid": (
        {"volunteer_id": "li", "categories": ["companionship"], "windows": "mornings"},
        ["mornings", "$.windows"],
    ),
}


@pytest.mark.parametrize("expected", sorted(OFFERS))
def test_problems_with_reasons_come_back_in_chinese(api: TestClient[Any], expected: str) -> None:
    body, sent = OFFERS[expected]
    response = api.post(
        "/books/gulou/offers",
        json={**body, "capacity_minutes_per_week": 120},
        headers=headers("coord"),
    )
    problem = response.json()
    assert problem["code"] == expected, problem
    data = problem.get("data") or {}
    shown = [str(v) for k, v in data.items() if k not in TRANSLATED_FIELDS] + sent
    for part in (problem["title"], problem["detail"]):
        assert has_chinese(part), problem
        assert untranslated(part, [*shown, problem["code"]]) == [], problem


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        ({"raw_minutes": "60"}, ["60"]),
        ({"raw_minutes": 60.5}, []),
        ({"served_at": "yesterday"}, ["yesterday"]),
        ({"provenance": "by phone"}, ["by phone"]),
        ({"surprise": 1}, ["surprise"]),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_in_chinese(
    api: TestClient[Any], body: dict[str, Any], sent: list[str]
) -> None:
    credit: dict[str, Any] = {
        "provider_id": "li",
        "recipient_id": "wu",
        "category": "companionship",
        "raw_minutes": 60,
        "served_at": "2026-11-01T10:00:00+08:00",
        "provenance": "paper_record",
    }
    response = api.post("/books/gulou/credits", json={**credit, **body}, headers=headers("coord"))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "request_body_invalid"
    reason = text("zh").phrase("reason", problem["data"]["reason"])
    for part in (problem["title"], problem["detail"], reason):
        assert has_chinese(part), (part, problem)
        assert untranslated(part, [*sent, problem["data"]["field"], problem["code"]]) == [], part
