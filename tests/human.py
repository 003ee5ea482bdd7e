"""Checks of text a person reads: no English sentence left in Chinese output.

``untranslated(text, data_values)`` finds the runs of two or more English
words in ``text`` once the data it shows (ids, codes, names, JSON paths) is
taken out: a single English word may be a code or a unit, but two in a row
are a phrase nobody translated. Tests of problems, the CLI and exports share it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["ENGLISH_RUN", "has_chinese", "untranslated"]

ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ '-][A-Za-z]{2,})+")
"""Two or more English words in a row, joined by a space, an apostrophe or a hyphen."""
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def has_chinese(text: str) -> bool:
    """Whether ``text`` holds at least one Chinese character."""
    return _CHINESE.search(text) is not None


def untranslated(text: str, data_values: Iterable[str] = ()) -> list[str]:
    """The runs of English words in ``text``, once every one of ``data_values`` is removed.

    Values are removed longest first (so that ``li`` does not cut ``living_alone``);
    values shorter than two characters are ignored.
    """
    shown = text
    for value in sorted({str(v) for v in data_values}, key=len, reverse=True):
        if len(value) >= 2:
            shown = shown.replace(value, " ")
    return ENGLISH_RUN.findall(shown)
