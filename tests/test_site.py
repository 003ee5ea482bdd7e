"""The documentation site builds with no warnings, so a broken link or reference fails the tests.

``mkdocs build --strict`` turns every warning into a failure: a link to a page
or anchor that does not exist, a page missing from the nav, an API reference
(``::: timebank...``) naming an object that is gone. The build runs once, in a
subprocess, into a temporary directory, and takes a few seconds; the tests read
the HTML it wrote.

The site is in English and in Chinese (the i18n plugin): ``page.zh.md`` beside
``page.md`` is the page's Chinese text, built under ``zh/`` with material's
chrome (navigation, search) in Chinese; a page with no ``.zh.md`` shows its
English text there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_SECONDS_MAX = 120
CHINESE_PAGES = ("index", "guide/coordinator", "deploy")


@dataclass(frozen=True)
class Build:
    """What ``mkdocs build --strict`` said, and where it wrote the site."""

    returncode: int
    output: str
    stderr: str
    site: Path

    def html(self, url: str) -> str:
        """The HTML of the page at ``url`` in the site (``""``, ``"zh/"``, ``"zh/deploy/"``)."""
        return (self.site / url / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """One strict build of the site, for every test of this module."""
    site = tmp_path_factory.mktemp("site") / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_SECONDS_MAX,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    return Build(result.returncode, result.stdout + result.stderr, result.stderr, site)


def test_site_builds_strictly_with_no_warnings(build: Build) -> None:
    """mkdocs build --strict succeeds and writes the home page and every reference page."""
    assert build.returncode == 0, build.output
    assert "WARNING" not in build.stderr, build.stderr
    assert (build.site / "index.html").is_file()
    for page in ("bank", "ledger", "community", "errors"):
        html = (build.site / "reference" / page / "index.html").read_text(encoding="utf-8")
        assert 'class="doc doc-heading"' in html, f"reference/{page} rendered no API object"


def nav_titles(html: str) -> list[str]:
    """The titles in a page's navigation (the left sidebar), as the page shows them."""
    primary = html[html.index('<nav class="md-nav md-nav--primary"') :]
    primary = primary[: primary.index("md-sidebar--secondary")]
    return re.findall(r'<span class="md-ellipsis">\s*(.*?)\s*</span>', primary, re.S)


def heading(source: Path) -> str:
    """The title of a markdown page: its first line, a ``#`` heading."""
    return source.read_text(encoding="utf-8").splitlines()[0].removeprefix("# ")


def test_the_chinese_site_has_chinese_pages_and_chrome(build: Build) -> None:
    """zh/ is in Chinese: the lang attribute, the nav titles, the search box and the pages."""
    assert build.returncode == 0, build.output
    home = build.html("zh/")
    assert '<html lang="zh"' in home
    titles = nav_titles(home)
    for title in ("首页", "社区工作者", "操作手册", "开发者", "在 PostgreSQL 上部署"):
        assert title in titles, titles
    assert 'placeholder="搜索"' in home
    assert '<html lang="en"' in build.html("")
    assert 'placeholder="Search"' in build.html("")
    assert "操作手册" not in nav_titles(build.html(""))

    for page in CHINESE_PAGES:
        url = "zh/" if page == "index" else f"zh/{page}/"
        html = build.html(url)
        chinese, english = ROOT / "docs" / f"{page}.zh.md", ROOT / "docs" / f"{page}.md"
        assert heading(chinese) in html, f"{url} does not show {chinese.relative_to(ROOT)}"
        assert heading(english) not in html, f"{url} shows {english.relative_to(ROOT)}"
        assert 'hreflang="en"' in html, f"{url} has no language menu"
    assert "在 Windows 上" in build.html("zh/guide/coordinator/")
    assert "On Windows" in build.html("guide/coordinator/")


def test_english_only_pages_fall_back_with_chinese_chrome(build: Build) -> None:
    """A page with no .zh.md is in the Chinese site too: its English text, Chinese navigation."""
    assert build.returncode == 0, build.output
    html = build.html("zh/ledger/")
    assert '<html lang="zh"' in html
    assert heading(ROOT / "docs" / "ledger.md") in html
    assert "操作手册" in nav_titles(html)


def test_the_search_index_holds_the_chinese_pages(build: Build) -> None:
    """One search index serves both sites; it has the Chinese pages, and Chinese in its config."""
    assert build.returncode == 0, build.output
    index = json.loads((build.site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert "zh" in index["config"]["lang"]
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    for page in CHINESE_PAGES:
        url = "zh/" if page == "index" else f"zh/{page}/"
        assert url in locations, sorted(loc for loc in locations if loc.startswith("zh/"))
    # Chinese has no spaces: jieba splits its words in the index (zero-width spaces between
    # them), so a search for a word in the middle of a sentence (派单) finds the page.
    guide = next(doc for doc in index["docs"] if doc["location"].startswith("zh/guide/"))
    assert "\u200b派单\u200b" in guide["text"]
