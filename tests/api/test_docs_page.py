"""The API docs page renders the app's own OpenAPI 3.1 schema in a real browser.

The real app runs under uvicorn on a free local port, over an in-memory bank;
Debian's Chromium, driven by Playwright, opens ``/schema/docs`` and must list
the operations, with no "Unable to render this definition" error, no request
leaving the server, and no error in the browser's console (where a refusal by
the content security policy would show). Screenshots of the page, and of one
operation unfolded, are left in ``test-artifacts/`` to look at.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``,
which ``.ci/run`` installs from Debian. Without it this test is skipped, and
CI (``TIMEBANK_FAIL_ON_SKIP=1``) counts the skip as a failure.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from litestar import Litestar

from tests.api.conftest import SECRET
from timebank.api import ApiSettings, create_app
from timebank.bank import TimeBank

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
STARTED_WITHIN_S = 30.0
RENDERED_WITHIN_MS = 30_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(app: Litestar) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread until the block ends; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-docs-test", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTED_WITHIN_S
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started"
            assert time.monotonic() < deadline, f"uvicorn did not start in {STARTED_WITHIN_S} s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    bank = TimeBank()
    bank.create_book("gulou", "nanjing")
    with serving(create_app(bank, ApiSettings(token_secret=SECRET))) as base:
        yield base


def test_the_docs_page_lists_the_operations_of_the_3_1_schema_in_chromium(base_url: str) -> None:
    """Swagger UI 5, served by the app itself, renders every tag's operations."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does)")
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    complaints: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("request", lambda request: requested.append(request.url))
            page.on(
                "console",
                lambda message: (
                    complaints.append(message.text) if message.type == "error" else None
                ),
            )
            page.on("pageerror", lambda error: complaints.append(str(error)))
            response = page.goto(f"{base_url}/schema/docs")
            assert response is not None
            assert response.status == 200
            page.wait_for_selector(".opblock", timeout=RENDERED_WITHIN_MS)
            text = page.inner_text("body")
            operations = page.locator(".opblock").count()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "docs-page.png"))
            page.get_by_text("Register a member").first.click()  # unfold one operation
            page.get_by_role("button", name="Try it out").first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "docs-page-operation.png"))
        finally:
            browser.close()

    assert "Unable to render" not in text
    assert "OAS 3.1" in text  # Swagger UI's badge for the schema's version
    for expected in (
        "Register a member",
        "Credit a provider for a service",
        "/books/{book_id}/credits",
        "/books/{book_id}/members/{member_id}/balance",
    ):
        assert expected in text, expected
    assert operations > 50
    elsewhere = [url for url in requested if not url.startswith((base_url + "/", "data:"))]
    assert not elsewhere, elsewhere
    assert not complaints, complaints
