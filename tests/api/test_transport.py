"""The HTTP transport under abuse: rate limits, proxy headers, odd paths, lenient decoding.

- The rate limit runs before the token check, so guessing tokens is limited too,
  and it counts by the client's real address: ``X-Forwarded-For`` is believed
  only from a trusted proxy (``timebank serve --trusted-proxy``), and uvicorn's
  own habit of believing 127.0.0.1 is off.
- Odd bytes in the docs' asset paths are a 404, never a 500.
- Only whole paths are spared the token: an id that reads ``health`` or a book
  named ``docs`` needs a token like any other, and is reachable with one.
- A JSON body must fit its operation exactly: ``"10"``, ``60.0`` or ``1e2`` for
  an integer is a 422 naming the field (a body that is not JSON at all stays a
  400); integers wider than 64 bits, in a body, a query or a path, are refused.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from tests.api.catalogs import TITLES, ZH_DETAILS
from tests.api.conftest import SECRET, Tokens
from timebank.api import ApiSettings, create_app, issue_token
from timebank.api.auth import EXCLUDED
from timebank.bank import SYSTEM, TimeBank
from timebank.bank.commands import RegisterMember
from timebank.community import Role, Vetting
from timebank.i18n import text

PROBLEM = "application/problem+json"
BAD_TOKEN = {"Authorization": "Bearer not-a-token"}
WIDE = "99999999999999999999999"
"""Wider than 64 bits."""


def problem_code(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    code: str = response.json()["code"]
    return code


def limited_client(per_minute: int) -> TestClient[Litestar]:
    bank = TimeBank()
    bank.create_book("gulou", "nanjing")
    settings = ApiSettings(token_secret=SECRET, rate_limit_per_minute=per_minute)
    return TestClient(create_app(bank, settings))


# --- tokens: verified once, trusted until they expire, and only by their own secret ---------------


def _admin_headers(secret: str, lifetime: timedelta = timedelta(hours=1)) -> dict[str, str]:
    token = issue_token(secret, subject="ops", role="admin", book="*", lifetime=lifetime)
    return {"Authorization": f"Bearer {token}"}


def test_a_token_verified_before_is_refused_once_it_has_expired() -> None:
    with limited_client(0) as client:
        headers = _admin_headers(SECRET, lifetime=timedelta(seconds=1))
        assert client.get("/books/gulou/members", headers=headers).status_code == 200
        assert client.get("/books/gulou/members", headers=headers).status_code == 200
        time.sleep(2.1)  # past its expiry, which is kept in whole seconds
        refused = client.get("/books/gulou/members", headers=headers)
        assert refused.status_code == 401, refused.text


def test_a_token_one_app_verified_is_refused_by_an_app_with_another_secret() -> None:
    headers = _admin_headers(SECRET)
    with limited_client(0) as client:
        assert client.get("/books/gulou/members", headers=headers).status_code == 200
    bank = TimeBank()
    bank.create_book("gulou", "nanjing")
    other = ApiSettings(token_secret="another-secret-" + "y" * 32, rate_limit_per_minute=0)
    with TestClient(create_app(bank, other)) as client:
        refused = client.get("/books/gulou/members", headers=headers)
        assert refused.status_code == 401, refused.text
        assert (
            client.get(
                "/books/gulou/members", headers=_admin_headers(other.token_secret)
            ).status_code
            == 200
        )


# --- the rate limit runs first ------------------------------------------------------------------


def test_requests_with_a_bad_token_count_toward_the_rate_limit(tokens: Tokens) -> None:
    """Five guesses at a token use a limit of five: the sixth request is 429, good token or not."""
    with limited_client(5) as client:
        guesses = [client.get("/books/gulou/members", headers=BAD_TOKEN) for _ in range(5)]
        assert [g.status_code for g in guesses] == [401] * 5
        refused = client.get("/books/gulou/members", headers=BAD_TOKEN)
        assert refused.status_code == 429
        assert problem_code(refused) == "too_many_requests"
        assert "x-request-id" in refused.headers
        good = tokens("wang", "coordinator")
        assert client.get("/books/gulou/members", headers=good).status_code == 429
        assert client.get("/books/gulou/members").status_code == 429  # no token at all


def test_only_the_health_checks_themselves_are_spared_the_rate_limit(tokens: Tokens) -> None:
    """A member id that reads ``health`` is counted like any other path."""
    admin = tokens("ops", "admin", book="*")
    with limited_client(3) as client:
        found = [client.get("/books/gulou/members/health", headers=admin) for _ in range(3)]
        assert [f.status_code for f in found] == [404] * 3
        assert client.get("/books/gulou/members/health", headers=admin).status_code == 429
        assert [client.get(p).status_code for p in ("/health", "/ready") * 5] == [200] * 10


# --- proxy headers, through `timebank serve` --------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(tmp_path: Path, *options: str, per_minute: int = 3) -> Iterator[str]:
    """``timebank serve`` on a free port of 127.0.0.1 until the block ends; yields its URL."""
    port = free_port()
    environment = {
        **os.environ,
        "TIMEBANK_TOKEN_SECRET": SECRET,
        "TIMEBANK_RATE_LIMIT_PER_MINUTE": str(per_minute),
    }
    environment.pop("TIMEBANK_TRUSTED_PROXIES", None)
    command = [sys.executable, "-m", "timebank", "serve", "--port", str(port)]
    command += ["--database", str(tmp_path / "t.db"), *options]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=environment, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()  # the pid started above, and only it
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def statuses(base: str, forwarded_for: list[str], source: str = "127.0.0.1") -> list[int]:
    """One request with a bad token per ``X-Forwarded-For`` value, from ``source``."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=base, transport=transport, timeout=10) as client:
        return [
            client.get(
                "/books/gulou/members",
                headers={
                    **BAD_TOKEN,
                    "X-Forwarded-For": sent,
                    "X-Real-IP": sent,
                    "Forwarded": f"for={sent}",
                },
            ).status_code
            for sent in forwarded_for
        ]


def test_a_client_spoofing_x_forwarded_for_is_limited_by_its_own_address(tmp_path: Path) -> None:
    """With no trusted proxy (the default), a new forwarded address each time changes nothing."""
    with served(tmp_path) as base:
        spoofed = [f"203.0.113.{n}" for n in range(1, 6)]
        assert statuses(base, spoofed) == [401, 401, 401, 429, 429]


def test_a_trusted_proxys_forwarded_address_is_the_client(tmp_path: Path) -> None:
    """Each forwarded client has its own budget; an untrusted peer's header is ignored."""
    with served(tmp_path, "--trusted-proxy", "127.0.0.1") as base:
        assert statuses(base, ["203.0.113.5"] * 4) == [401, 401, 401, 429]
        assert statuses(base, ["203.0.113.6"]) == [401]
        # The proxy appends the address it saw: what the client wrote before it is not believed.
        assert statuses(base, ["203.0.113.6, 203.0.113.5"]) == [429]
        untrusted = statuses(base, [f"198.51.100.{n}" for n in range(4)], source="127.0.0.2")
        assert untrusted == [401, 401, 401, 429]


BAD = ("--trusted-proxy", "everyone")


def test_trusted_proxies_come_from_the_environment_and_must_be_addresses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TIMEBANK_TRUSTED_PROXIES", "10.0.0.7, 172.16.0.0/12,,::1")
    settings = ApiSettings.from_env(token_secret=SECRET)
    assert settings.trusted_proxies == ("10.0.0.7", "172.16.0.0/12", "::1")
    assert ApiSettings(token_secret=SECRET).trusted_proxies == ()
    for wrong in ("proxy.example", "*", "10.0.0.0/33"):
        with pytest.raises(ValueError, match="not an IP address or network"):
            ApiSettings(token_secret=SECRET, trusted_proxies=(wrong,))
    refused = subprocess.run(
        [sys.executable, "-m", "timebank", "serve", "--database", str(tmp_path / "t.db"), *BAD],
        env={**os.environ, "TIMEBANK_TOKEN_SECRET": SECRET},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert "trusted proxy 'everyone' is not an IP address or network" in refused.stderr


# --- odd paths ----------------------------------------------------------------------------------

ODD_ASSET_PATHS = [
    "/schema/assets/%00",
    "/schema/assets/swagger-ui.css%00",
    "/schema/assets/swagger-ui.css%00.png",
    "/schema/assets/a%00b/c",
    "/schema/assets/%ff%fe",
    "/schema/assets/%0a",
    "/schema/assets/%2e%2e",
    "/schema/assets/..%2f..%2fopenapi.json",
    "/schema/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/schema/assets/" + "a" * 5_000,
    "/schema/assets/index.html",
    "/schema/assets/",
    "/schema/%00",
    "/schema/docs%00",
    "/schema/openapi.json%00",
]


@pytest.fixture(scope="module")
def plain() -> Iterator[TestClient[Litestar]]:
    bank = TimeBank()
    bank.create_book("gulou", "nanjing")
    settings = ApiSettings(token_secret=SECRET, rate_limit_per_minute=0)
    with TestClient(create_app(bank, settings)) as client:
        yield client


@pytest.mark.parametrize("path", ODD_ASSET_PATHS)
def test_odd_bytes_in_asset_paths_are_not_found_never_a_server_error(
    plain: TestClient[Litestar], path: str
) -> None:
    response = plain.get(path)
    assert response.status_code in (400, 401, 404), (path, response.status_code)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=300))
def test_any_asset_name_is_served_or_not_found(plain: TestClient[Litestar], name: str) -> None:
    response = plain.get("/schema/assets/" + quote(name, safe=""))
    assert response.status_code in (200, 400, 401, 404), (name, response.text)


def test_the_docs_assets_are_the_swagger_ui_files_and_no_others(
    plain: TestClient[Litestar],
) -> None:
    page = plain.get("/schema/docs").text
    assets = sorted(set(re.findall(r"/schema/assets/[\w.-]+", page)))
    assert assets == [
        "/schema/assets/favicon-32x32.png",
        "/schema/assets/swagger-ui-bundle.js",
        "/schema/assets/swagger-ui-standalone-preset.js",
        "/schema/assets/swagger-ui.css",
    ]
    script = plain.get("/schema/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert re.search(rb'PACKAGE_VERSION:"5\.\d+\.\d+"', script.content)  # Swagger UI 5
    assert plain.get("/schema/assets/index.html").status_code == 404  # it would load a CDN page


# --- whole paths only are spared the token ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "spared"),
    [
        ("/health", True),
        ("/ready", True),
        ("/schema", True),
        ("/schema/docs", True),
        ("/schema/openapi.json", True),
        ("/schema/assets/swagger-ui.css", True),
        ("/healthz", False),
        ("/health/x", False),
        ("/schemas", False),
        ("/docs", False),
        ("/books/gulou/members/health", False),
        ("/books/gulou/members/health-1", False),
        ("/books/docs/members/ready", False),
        ("/books/schema/members", False),
        ("/books/gulou/members/x/health", False),
    ],
)
def test_the_token_exclusions_match_whole_paths(path: str, spared: bool) -> None:
    """Litestar searches the patterns anywhere in the path, as ``re.search`` does."""
    assert (re.compile("|".join(EXCLUDED)).search(path) is not None) is spared


def test_ids_that_read_like_the_spared_paths_need_a_token_and_work_with_one(
    tokens: Tokens,
) -> None:
    bank = TimeBank()
    for book_id in ("docs", "schema"):
        book = bank.create_book(book_id, "nanjing")
        for member_id in ("health-1", "ready", "docs", "schema"):
            book.members.register(
                RegisterMember(
                    member_id=member_id,
                    name="王芳",
                    birth_date=date(1950, 1, 1),
                    community="ninghai",
                    roles={Role.VOLUNTEER},
                    vetting=Vetting.STREET,
                ),
                actor=SYSTEM,
            )
    settings = ApiSettings(token_secret=SECRET, rate_limit_per_minute=0)
    with TestClient(create_app(bank, settings)) as client:
        for book_id in ("docs", "schema"):
            staff = tokens("ops", "admin", book=book_id)
            for member_id in ("health-1", "ready", "docs", "schema"):
                path = f"/books/{book_id}/members/{member_id}"
                for headers in ({}, BAD_TOKEN):
                    refused = client.get(path, headers=headers)
                    assert refused.status_code == 401, (path, refused.text)
                    assert problem_code(refused) == "not_authenticated"
                found = client.get(path, headers=staff)
                assert found.status_code == 200, (path, found.text)
                assert found.json()["member_id"] == member_id
                member = tokens(member_id, book=book_id)
                balance = client.get(f"{path}/balance", headers=member)
                assert balance.status_code == 200, balance.text


# --- integers are integers ----------------------------------------------------------------------


@pytest.fixture
def credits_api(api: Any, coordinator: dict[str, str]) -> Any:
    """The api's book with a volunteer Zhang and a recipient Chen of Wang's community."""
    for member_id, born, role in (
        ("zhang", "1961-05-01", "volunteer"),
        ("chen", "1938-03-01", "recipient"),
    ):
        body = {
            "member_id": member_id,
            "name": "张伟",
            "birth_date": born,
            "community": "ninghai",
            "roles": [role],
            "vetting": "street",
        }
        created = api.post("/books/gulou/members", json=body, headers=coordinator)
        assert created.status_code == 201, created.text
    return api


def credit_body(raw_minutes: str) -> bytes:
    """A credit whose ``raw_minutes`` is written exactly as given (``1e2`` stays ``1e2``)."""
    return (
        '{"provider_id": "zhang", "recipient_id": "chen", "category": "companionship",'
        f' "raw_minutes": {raw_minutes}, "served_at": "2026-11-01T10:00:00+08:00",'
        ' "provenance": "paper_record"}'
    ).encode()


@pytest.mark.parametrize("raw_minutes", ['"10"', '"60"', "60.0", "1e2", "true", "null", WIDE])
def test_minutes_must_be_json_integers(
    credits_api: Any, coordinator: dict[str, str], raw_minutes: str
) -> None:
    """Litestar would turn ``"60"`` or ``60.0`` into 60; the API refuses them, naming the field."""
    headers = {**coordinator, "Content-Type": "application/json"}
    sent = credits_api.post(
        "/books/gulou/credits", content=credit_body(raw_minutes), headers=headers
    )
    assert sent.status_code == 422, sent.text
    assert problem_code(sent) == "request_body_invalid"
    problem = sent.json()
    assert problem["type"] == "urn:timebank:problem:request_body_invalid"
    assert problem["data"]["field"] == "$.raw_minutes"
    assert "raw_minutes" in problem["detail"]
    chinese = credits_api.post(
        "/books/gulou/credits",
        content=credit_body(raw_minutes),
        headers={**headers, "Accept-Language": "zh-CN"},
    ).json()
    assert chinese["title"] == TITLES["request_body_invalid"][1]
    reason = text("zh").phrase("reason", chinese["data"]["reason"])
    template = ZH_DETAILS["request_body_invalid"]
    assert chinese["detail"] == template.format(field="$.raw_minutes", reason=reason)
    assert credits_api.bank.book("gulou").statements.liability() == 0


def test_a_json_integer_is_accepted_and_a_body_that_is_not_json_stays_a_400(
    credits_api: Any, coordinator: dict[str, str]
) -> None:
    headers = {**coordinator, "Content-Type": "application/json"}
    accepted = credits_api.post("/books/gulou/credits", content=credit_body("60"), headers=headers)
    assert accepted.status_code == 201, accepted.text
    for content in (b"{not json", b'{"raw_minutes": 60', b"", b"\xff\xfe"):
        sent = credits_api.post("/books/gulou/credits", content=content, headers=headers)
        assert sent.status_code == 400, (content, sent.text)
        assert problem_code(sent) == "request_malformed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"minutes": "30", "member_id": "zhang", "reason": "x", "source": "issuance"}, "$.minutes"),
        (
            {"minutes": 2**64, "member_id": "zhang", "reason": "x", "source": "issuance"},
            "$.minutes",
        ),
        ({"member_id": "zhang", "reason": "x", "source": "issuance"}, "$.minutes"),
        ({"minutes": 30, "member_id": 7, "reason": "x", "source": "issuance"}, "$.member_id"),
        ({"minutes": 30, "member_id": "zhang", "reason": "x", "source": "x", "y": 1}, "$.y"),
        ([30], "$"),
    ],
)
def test_every_wrong_value_is_named_in_the_problem(
    credits_api: Any, admin: dict[str, str], body: Any, field: str
) -> None:
    sent = credits_api.post("/books/gulou/grants", content=json.dumps(body), headers=admin)
    assert sent.status_code == 422, sent.text
    assert sent.json()["data"]["field"] == field


def test_integers_wider_than_64_bits_are_refused_anywhere_in_a_body(
    api: Any, admin: dict[str, str]
) -> None:
    """The outbox stores sequence numbers as 64-bit integers: a wider one never reaches it."""
    for seqs in ([2**63], [-(2**63) - 1], [1, 2**70]):
        sent = api.post(
            "/books/gulou/outbox/ack", content=json.dumps({"seqs": seqs}), headers=admin
        )
        assert sent.status_code == 422, sent.text
        assert sent.json()["data"]["field"].startswith("$.seqs[")
    fits = api.post("/books/gulou/outbox/ack", json={"seqs": [2**63 - 1]}, headers=admin)
    assert fits.status_code < 500, fits.text


@pytest.mark.parametrize(
    "path",
    [
        f"/books/gulou/members?limit={WIDE}",
        f"/books/gulou/members?limit=-{WIDE}",
        f"/books/gulou/outbox?after={WIDE}",
        "/books/gulou/outbox?after=9223372036854775808",
        "/books/gulou/outbox?limit=1e2",
        "/books/gulou/outbox?limit=10.0",
        f"/books/gulou/credits?limit={WIDE}",
        f"/books/gulou/reports/inactive-members?days={WIDE}",
        f"/books/gulou/reports/inactive-members.xlsx?days={WIDE}",
        f"/books/gulou/ledger/accounts/pool/statement?after={WIDE}",
    ],
)
def test_integers_wider_than_64_bits_in_a_query_are_a_400(
    api: Any, admin: dict[str, str], path: str
) -> None:
    response = api.get(path, headers=admin)
    assert response.status_code == 400, (path, response.text)
    assert problem_code(response) == "request_malformed"


def test_an_integer_wider_than_64_bits_in_a_path_is_a_400(api: Any, admin: dict[str, str]) -> None:
    response = api.post(f"/books/gulou/policies/{WIDE}/activate", headers=admin)
    assert response.status_code == 400, response.text
    assert problem_code(response) == "request_malformed"
    assert api.post("/books/gulou/policies/9/activate", headers=admin).status_code == 404


def test_a_token_for_the_server_is_still_what_opens_it() -> None:
    """The checks above never stand in for the token: a sound token is needed first."""
    token = issue_token(SECRET, subject="ops", role="admin", book="*")
    with limited_client(0) as client:
        assert client.get(f"/books/gulou/outbox?after={WIDE}").status_code == 401
        authorised = {"Authorization": f"Bearer {token}"}
        assert (
            client.get(f"/books/gulou/outbox?after={WIDE}", headers=authorised).status_code == 400
        )
