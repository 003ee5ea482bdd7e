"""The problem catalogs as the tests read them: titles in both languages, Chinese details."""

from __future__ import annotations

from timebank.i18n import catalog

TITLES: dict[str, tuple[str, str]] = {
    code: (english, catalog("zh").get(("problem", code), ""))
    for (context, code), english in catalog("en").items()
    if context == "problem"
}
"""A problem code's (English, Chinese) title."""

ZH_DETAILS: dict[str, str] = {
    context: chinese
    for (context, _template), chinese in catalog("zh").items()
    if (context in TITLES and "{" in chinese) or (context in TITLES and context != "problem")
}
"""A problem code's Chinese detail template (the English one is the error's ``template``)."""
