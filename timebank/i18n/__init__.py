"""Human-facing text in Chinese (zh-CN) and English, and times in the book's zone.

Every sentence, title, column header and name a person reads comes from the
gettext catalogs under ``timebank/i18n/locale/<locale>/LC_MESSAGES/*.po``,
read with Babel. Two kinds of message live there:

- **Sentences** written in code: the English text is the ``msgid``, so the
  English catalog needs no entry and the Chinese one translates it. Their
  placeholders are ``{name}`` fields filled from data (``python-brace-format``).
- **Names of codes** (a problem's title, a category, a status, a report's
  column): the ``msgctxt`` says what kind of code it is and the ``msgid`` is
  the code itself; both catalogs name it (``category``/``meal_delivery`` is
  "Meal delivery" and "助餐").

Errors carry data, never sentences: a problem's detail is the error's English
``template`` translated under its code, and fields that hold codes or short
English phrases (a reason, an action, a status, a field name) are translated
under their own context before they are put in (:meth:`Text.detail`).

A PO file per part of the application (``problems.po``, ``reports.po``...)
keeps the catalogs readable; all the files of one locale form one catalog.
``LANGUAGES`` are the short tags the API, the CLI and the pages accept; codes
and JSON keys stay English in every language.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "TRANSLATED_FIELDS",
    "Text",
    "catalog",
    "code_named",
    "language_of",
    "negotiate",
    "text",
]

LANGUAGES = ("zh", "en")
"""The languages spoken: ``zh`` (简体中文, zh-CN) and ``en``."""
LOCALES = {"zh": "zh_CN", "en": "en"}
DEFAULT_LANGUAGE = "en"
"""For a caller who states no preference (an API client without ``Accept-Language``)."""
LOCALE_DIR = Path(__file__).parent / "locale"

TRANSLATED_FIELDS = {
    "reason": "reason",
    "action": "action",
    "status": "status",
    "kind": "kind",
    "field": "field",
    "category": "category",
    "problems": "reason",
}
"""A detail's fields whose values are codes or short English phrases, and their contexts."""

_BRACES = re.compile(r"\{([a-z_][a-z0-9_]*)[^{}]*\}")


def _load(locale: str) -> dict[tuple[str | None, str], str]:
    from babel.messages.pofile import read_po

    messages: dict[tuple[str | None, str], str] = {}
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as file:
            po = read_po(file, locale=locale)
        for message in po:
            if not message.id or message.fuzzy or not isinstance(message.id, str):
                continue
            if isinstance(message.string, str) and message.string:
                messages[(message.context, message.id)] = message.string
    return messages


@cache
def catalog(lang: str) -> Mapping[tuple[str | None, str], str]:
    """The merged catalog of one language: ``(context, msgid) -> translation``."""
    return _load(LOCALES[lang])


def negotiate(header: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The language an ``Accept-Language`` header prefers (q-values honoured), or ``default``."""
    best, best_q = default, -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = language_of(tag)
        if primary is not None and q > best_q:
            best, best_q = primary, q
    return best


def language_of(value: str | None) -> str | None:
    """``zh`` or ``en`` for a tag such as ``zh-CN``, ``zh_CN.UTF-8`` or ``en_US``; else None."""
    if not value:
        return None
    primary = value.strip().lower().replace("_", "-").split("-")[0].split(".")[0]
    return primary if primary in LANGUAGES else None


def environment_language() -> str:
    """The CLI's language when none is given: ``TIMEBANK_LANG``, then the locale, else Chinese."""
    for name in ("TIMEBANK_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        found = language_of(os.environ.get(name))
        if found is not None:
            return found
    return "zh"


class Text:
    """Translations and formats for one language: ``t = text("zh"); t("Hi {name}", name=...)``."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}: one of {', '.join(LANGUAGES)}")
        self.lang = lang
        self._messages = catalog(lang)

    def __repr__(self) -> str:
        return f"Text({self.lang!r})"

    def translation(self, context: str | None, msgid: str) -> str | None:
        """The catalog's translation, or None when it has none."""
        return self._messages.get((context, msgid))

    def __call__(self, msgid: str, /, **fields: object) -> str:
        """A sentence, translated and filled in."""
        return _filled(self._messages.get((None, msgid), msgid), msgid, fields)

    def pgettext(self, context: str, msgid: str, /, **fields: object) -> str:
        """A sentence under a context, translated and filled in."""
        return _filled(self._messages.get((context, msgid), msgid), msgid, fields)

    def name(self, context: str, code: str) -> str:
        """A code's name (``name("category", "meal_delivery")``); an unknown code is itself."""
        found = self._messages.get((context, code))
        if found is not None:
            return found
        if self.lang == "en":
            return code.replace("_", " ")
        english = catalog("en").get((context, code))
        return english if english is not None else code

    def detail(self, code: str, template: str, fields: Mapping[str, object]) -> str:
        """An error's detail: its English ``template`` translated under ``code``, filled in.

        Fields in ``TRANSLATED_FIELDS`` are translated under their context first.
        """
        shown = dict(fields)
        for key, context in TRANSLATED_FIELDS.items():
            value = shown.get(key)
            if isinstance(value, str):
                # A code may read differently in one error (a wish "posted" is 已发布, a
                # credit's 已入账): ``status:wish_transition_not_allowed`` comes first.
                own = self._messages.get((f"{context}:{code}", value))
                shown[key] = own if own is not None else self.phrase(context, value)
        return _filled(self._messages.get((code, template), template), template, shown)

    def phrase(self, context: str, value: str) -> str:
        """A short phrase or code under ``context``; ``a; b`` is translated part by part."""
        found = self._messages.get((context, value))
        if found is not None:
            return found
        if "; " in value:
            parts = [self.phrase(context, part) for part in value.split("; ")]
            return ("\uff1b" if self.lang == "zh" else "; ").join(parts)  # a full-width ;
        if context != "reason":
            found = self._messages.get(("reason", value))
            if found is not None:
                return found
        for pattern, translated in _patterns(self.lang, context):
            matched = pattern.fullmatch(value)
            if matched is not None:
                return translated.format(**matched.groupdict())
        return value

    # formats

    def minutes(self, minutes: int) -> str:
        """``90`` as ``1小时30分`` or ``1 h 30 min``; ``0`` as ``0分``/``0 min``; signs kept."""
        sign = "-" if minutes < 0 else ""
        hours, rest = divmod(abs(minutes), 60)
        zh = self.lang == "zh"
        parts = [f"{hours}小时" if zh else f"{hours} h"] if hours else []
        if rest or not hours:
            parts.append(f"{rest}分" if zh else f"{rest} min")
        return sign + ("" if zh else " ").join(parts)

    def moment(self, value: datetime, zone: ZoneInfo) -> str:
        """A time in ``zone``, to the minute: ``2026-11-30 14:00``."""
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def day(self, value: date) -> str:
        return value.isoformat()

    def zone_name(self, zone: ZoneInfo) -> str:
        """The zone as a header names it: ``北京时间 (Asia/Shanghai)`` or ``Asia/Shanghai``."""
        named = self._messages.get(("zone", zone.key))
        return f"{named} ({zone.key})" if named else zone.key


def _filled(translated: str, original: str, fields: Mapping[str, object]) -> str:
    if not fields:
        return translated
    try:
        return translated.format(**fields)
    except (KeyError, IndexError, ValueError):
        return original.format(**fields)


@cache
def _patterns(lang: str, context: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """A context's templates as patterns: ``at most 12 windows`` finds ``at most {maximum} ...``."""
    found: list[tuple[re.Pattern[str], str]] = []
    for (message_context, msgid), translated in catalog(lang).items():
        if message_context != context or "{" not in msgid:
            continue
        pattern, at = [], 0
        for placeholder in _BRACES.finditer(msgid):
            pattern.append(re.escape(msgid[at : placeholder.start()]))
            pattern.append(f"(?P<{placeholder.group(1)}>.+?)")
            at = placeholder.end()
        pattern.append(re.escape(msgid[at:]))
        try:
            found.append((re.compile("".join(pattern), re.DOTALL), translated))
        except re.error:  # a placeholder repeated in one template: exact matches only
            continue
    return tuple(found)


@cache
def _codes(context: str) -> dict[str, str]:
    named: dict[str, str] = {}
    for lang in reversed(LANGUAGES):
        for (message_context, code), name in catalog(lang).items():
            if message_context == context:
                named[name.casefold()] = code
                named[code.casefold()] = code
    return named


def code_named(context: str, name: str) -> str | None:
    """The code a person named in either language (``助餐`` or ``Meals`` is ``meals``)."""
    return _codes(context).get(name.strip().casefold())


@cache
def text(lang: str) -> Text:
    """The ``Text`` of a language (``zh`` or ``en``)."""
    return Text(lang)


def placeholders(template: str) -> set[str]:
    """The field names a template fills in (for tests of the catalogs)."""
    return set(_BRACES.findall(template))
