"""Reading the files a person gets (``Layout.human``) back into keys and codes, in tests."""

from __future__ import annotations

from collections.abc import Sequence

from timebank.i18n import catalog


def _names(context: str, lang: str) -> dict[str, str]:
    return {name: code for (ctx, code), name in catalog(lang).items() if ctx == context}


def keyed(header: Sequence[object], lang: str = "en") -> list[str]:
    """The column keys of a header row in ``lang`` (a time column's zone note dropped)."""
    names = _names("column", "zh" if lang == "zh" else "en")
    keys = []
    for name in header:
        shown = str(name)
        base = shown.split(" (", 1)[0] if shown not in names else shown
        keys.append(names.get(shown, names.get(base, shown)))
    return keys


def code_of(context: str, name: object, lang: str = "en") -> object:
    """The code a name stands for under ``context`` (``Meals`` is ``meals``); else the value."""
    return _names(context, "zh" if lang == "zh" else "en").get(str(name), name)
