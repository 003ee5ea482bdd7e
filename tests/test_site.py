"""The documentation site builds with no warnings, so a broken link or reference fails the tests.

``mkdocs build --strict`` turns every warning into a failure: a link to a page
or anchor that does not exist, a page missing from the nav, an API reference
(``::: timebank...``) naming an object that is gone. The build runs in a
subprocess, into a temporary directory, and takes a few seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_SECONDS_MAX = 120


def test_site_builds_strictly_with_no_warnings(tmp_path: Path) -> None:
    """mkdocs build --strict succeeds and writes the home page and every reference page."""
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_SECONDS_MAX,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (site / "index.html").is_file()
    for page in ("bank", "ledger", "community", "errors"):
        html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
        assert 'class="doc doc-heading"' in html, f"reference/{page} rendered no API object"
