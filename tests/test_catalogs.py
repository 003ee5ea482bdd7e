"""The translation catalogs: valid PO files, complete, and true to their placeholders.

Every sentence the code writes through a ``Text`` (``t("...")``, ``_t()("...")``,
``t.pgettext(...)``) has a Chinese translation; every code named in one language
is named in the other; a translation fills in exactly the fields its English does;
and the formats (hours and minutes, a zone's name) read as a person expects.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

import timebank
from tests.human import has_chinese
from timebank.i18n import LOCALE_DIR, catalog, language_of, negotiate, placeholders, text

SOURCE = Path(timebank.__file__).parent
PO_FILES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
NAME_CONTEXTS = {
    "problem",
    "column",
    "category",
    "status",
    "level",
    "section",
    "kind",
    "provenance",
    "role",
    "vetting",
    "relation",
    "urgency",
    "break",
    "zone",
    "token",
    "deadline",
    "status:wish_transition_not_allowed",
}
"""Contexts whose msgids are codes: both languages name each of them."""


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_catalog_is_a_valid_po_file_without_fuzzy_or_duplicate_entries(path: Path) -> None:
    seen: set[tuple[str | None, str]] = set()
    with path.open("rb") as file:
        po = read_po(file, abort_invalid=True)
    for message in po:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        key = (message.context, str(message.id))
        assert key not in seen, key
        seen.add(key)
        if path.parts[-3] == "zh_CN":
            assert message.string, f"{key} has no translation"


def test_every_chinese_translation_fills_in_exactly_its_english_fields() -> None:
    for (context, msgid), chinese in catalog("zh").items():
        if context in NAME_CONTEXTS:
            continue
        assert placeholders(chinese) == placeholders(msgid), (context, msgid)
        words = re.sub(r"\{[^{}]*\}", "", msgid)
        if re.search(r"[A-Za-z]{2,}", words):  # a sentence, not a layout such as "{a}: {b}"
            assert has_chinese(chinese), (context, msgid)


def test_every_code_named_in_one_language_is_named_in_the_other() -> None:
    def names(lang: str) -> set[tuple[str | None, str]]:
        return {key for key in catalog(lang) if key[0] in NAME_CONTEXTS}

    assert names("zh") == names("en")
    for key in names("zh"):
        assert has_chinese(catalog("zh")[key]) or key[0] == "zone", key


def test_a_wish_posted_is_published_and_a_credit_posted_is_booked() -> None:
    zh = text("zh")
    wish = zh.detail(
        "wish_transition_not_allowed",
        "micro-wish {wish_id!r} is {status}; it cannot be {action}",
        {"wish_id": "w-1", "status": "posted", "action": "fulfilled"},
    )
    assert "当前为 已发布" in wish
    credit = zh.detail(
        "credit_not_pending",
        "credit {credit_id!r} is {status}, not pending",
        {"credit_id": "c-1", "status": "posted"},
    )
    assert "已入账" in credit


def _sentences() -> list[tuple[str, int, str | None, str]]:
    """Every literal sentence passed to a ``Text`` in the code: (file, line, context, msgid)."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func, first = node.func, node.args[0]
            context: str | None = None
            if isinstance(func, ast.Attribute) and func.attr == "pgettext":
                if not isinstance(first, ast.Constant) or len(node.args) < 2:
                    continue
                context, first = str(first.value), node.args[1]
            elif not (
                (isinstance(func, ast.Name) and func.id == "t")
                or (isinstance(func, ast.Call) and getattr(func.func, "id", None) == "_t")
            ):
                continue
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((str(path.relative_to(SOURCE)), node.lineno, context, first.value))
    return found


SENTENCES = _sentences()


def test_the_code_writes_sentences_through_the_catalog() -> None:
    """So that the test below checks something: the command line and exports use it."""
    assert len(SENTENCES) >= 15
    assert {where.split("/")[0] for where, *_ in SENTENCES} >= {"cli.py"}


@pytest.mark.parametrize(
    ("where", "line", "context", "msgid"), SENTENCES, ids=[f"{w}:{n}" for w, n, *_ in SENTENCES]
)
def test_every_sentence_in_the_code_has_a_chinese_translation(
    where: str, line: int, context: str | None, msgid: str
) -> None:
    chinese = text("zh").translation(context, msgid)
    assert chinese is not None, f"{where}:{line} {msgid!r} is not in the zh_CN catalog"
    assert placeholders(chinese) == placeholders(msgid)


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_hours_and_minutes_read_back_to_the_minutes(minutes: int) -> None:
    for lang, hour, minute in (("zh", "小时", "分"), ("en", " h", " min")):
        shown = text(lang).minutes(minutes).replace(" ", "")
        sign = -1 if shown.startswith("-") else 1
        body = shown.lstrip("-")
        hours, _, rest = body.partition(hour.strip()) if hour.strip() in body else ("0", "", body)
        rest = rest.removesuffix(minute.strip()) or "0"
        assert sign * (int(hours) * 60 + int(rest)) == minutes
        assert (minutes < 0) == shown.startswith("-")


def test_hours_and_minutes_as_a_senior_reads_them() -> None:
    zh, en = text("zh"), text("en")
    assert [zh.minutes(m) for m in (0, 45, 60, 90, -130)] == [
        "0分",
        "45分",
        "1小时",
        "1小时30分",
        "-2小时10分",
    ]
    assert [en.minutes(m) for m in (45, 60, 90)] == ["45 min", "1 h", "1 h 30 min"]


def test_a_time_is_read_in_the_books_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    moment = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # the 1st, 01:00 in Beijing
    assert text("zh").moment(moment, shanghai) == "2026-12-01 01:00"
    assert text("zh").zone_name(shanghai) == "北京时间 (Asia/Shanghai)"
    assert text("en").zone_name(ZoneInfo("Europe/London")) == "Europe/London"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR, zh-Hans;q=0.5", "zh"),
        ("fr-FR", "en"),
        ("", "en"),
        ("zh;q=abc, en;q=0.1", "en"),
    ],
)
def test_the_language_a_caller_prefers(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_a_locale_names_its_language() -> None:
    assert [language_of(v) for v in ("zh_CN.UTF-8", "en_US", "C.UTF-8", "", None)] == [
        "zh",
        "en",
        None,
        None,
        None,
    ]


def test_a_phrase_with_values_is_translated_by_its_pattern() -> None:
    """A reason built with values (``at most 12 ...``) finds its template in the catalog."""
    zh = text("zh")
    detail = zh.detail(
        "time_zone_unknown",
        "{timezone!r} is not a time zone (such as Asia/Shanghai)",
        {"timezone": "Mars/Base"},
    )
    assert detail == "“Mars/Base” 不是有效的时区 (例如 Asia/Shanghai)"


def test_every_presets_programme_is_named_in_chinese() -> None:
    from timebank.community.presets import PRESETS

    for make in PRESETS.values():
        named = text("zh").translation("programme", make().name)
        assert named is not None
        assert has_chinese(named)
