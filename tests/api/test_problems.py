"""Every error is an RFC 9457 problem, in Chinese or English, and no input makes the API fail.

The catalog names every problem in both languages and explains every domain
error in Chinese from the error's own data; each family of domain error has
its status; malformed requests of any shape to any write route are refused
with a problem and leave the book as it was; and every response carries a
request id and the security headers, with CORS, rate limiting, health checks
and the OpenAPI docs (served without a CDN) working as configured.
"""

from __future__ import annotations

import dataclasses
import json
import re
import string
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import TestClient

import timebank.community.errors as bank_errors
import timebank.ledger.errors as ledger_errors
import timebank.store.errors as store_errors
from tests.api.catalogs import TITLES, ZH_DETAILS
from tests.api.conftest import SECRET, Tokens
from tests.human import has_chinese
from timebank.api import ApiSettings, create_app, issue_token
from timebank.api.problems import _HTTP_CODES
from timebank.bank import SYSTEM, BankBook, TimeBank
from timebank.bank.commands import CreditService, RegisterMember
from timebank.community import (
    ActorNotAuthorised,
    MemberNotFound,
    Provenance,
    Role,
    Vetting,
)
from timebank.i18n import text
from timebank.ledger import (
    Conflict,
    LedgerError,
    LimitExceeded,
    ManualClock,
    NotFound,
    RequestInvalid,
)

PROBLEM = "application/problem+json"
ZH = {"Accept-Language": "zh-CN"}


def domain_errors() -> list[type[LedgerError]]:
    """Every ``LedgerError`` class the three error modules export, families included."""
    found: dict[str, type[LedgerError]] = {}
    for module in (ledger_errors, bank_errors, store_errors):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, LedgerError):
                found[value.code] = value
    return sorted(found.values(), key=lambda cls: cls.code)


ERRORS = domain_errors()
CONCRETE = [cls for cls in ERRORS if dataclasses.fields(cls)]
"""The errors raised on purpose (the families, ``NotFound`` and the rest, carry no data)."""
HTTP_CODES = {
    *_HTTP_CODES.values(),
    *("http_error", "store_unavailable", "internal_error", "request_body_invalid"),
}


FUZZ_BANKS = pytest.mark.parametrize("bank", ["memory", "sqlite"], indirect=True)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def sample(cls: type[LedgerError]) -> LedgerError:
    """One instance of ``cls`` with plausible data of each field's type."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        kind = str(field.type)
        if "datetime" in kind:
            values[field.name] = datetime(2026, 11, 2, 1, tzinfo=UTC)
        elif "int" in kind:
            values[field.name] = 42
        else:
            values[field.name] = f"{field.name}-1"
    return cls(**values)


def data_of(error: LedgerError) -> dict[str, Any]:
    return {key: value for key, value in error.to_dict().items() if key != "code"}


def assert_problem(response: Any) -> dict[str, Any]:
    """The response is an RFC 9457 problem consistent with its status; returns its body."""
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["type"] == "urn:timebank:problem:" + body["code"]
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["instance"].startswith("/")
    return body


# --- the catalog -------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.code)
def test_every_domain_error_has_an_english_and_a_chinese_title(cls: type[LedgerError]) -> None:
    english, chinese = TITLES[cls.code]
    assert english
    assert not has_chinese(english)
    assert has_chinese(chinese)


@pytest.mark.parametrize("code", sorted(HTTP_CODES))
def test_every_http_problem_has_an_english_and_a_chinese_title(code: str) -> None:
    english, chinese = TITLES[code]
    assert english
    assert has_chinese(chinese)


def test_the_catalog_names_no_problem_that_does_not_exist() -> None:
    """A typo in a code would leave the real problem untitled."""
    codes = {cls.code for cls in ERRORS}
    assert set(TITLES) <= codes | HTTP_CODES
    operations = {"request_body_invalid", "request_malformed", "store_unavailable"}
    operations.add("internal_error")
    assert set(ZH_DETAILS) <= codes | operations


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.code)
def test_the_chinese_detail_uses_exactly_the_english_fields(cls: type[LedgerError]) -> None:
    chinese = ZH_DETAILS[cls.code]
    assert has_chinese(chinese)
    assert placeholders(chinese) == placeholders(cls.template)
    assert placeholders(chinese) == {field.name for field in dataclasses.fields(cls)}


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.code)
def test_the_chinese_detail_formats_with_the_errors_own_data(cls: type[LedgerError]) -> None:
    error = sample(cls)
    detail = ZH_DETAILS[cls.code].format(**data_of(error))
    assert "{" not in detail
    for value in data_of(error).values():
        assert str(value) in detail


# --- domain errors through the app --------------------------------------------------------

CHEN = {"name": "陈秀英", "birth_date": "1938-03-01", "community": "ninghai", "member_id": "chen"}


def register(api: Any, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return api.post("/books/gulou/members", json=body, headers=headers)


def test_a_missing_member_is_404_in_english_by_default(
    api: Any, coordinator: dict[str, str]
) -> None:
    response = api.get("/books/gulou/members/ghost", headers=coordinator)
    assert response.status_code == 404
    body = assert_problem(response)
    assert body["code"] == "member_not_found"
    assert body["title"] == "No such member"
    assert body["detail"] == str(MemberNotFound(member_id="ghost"))
    assert body["data"] == {"member_id": "ghost"}
    assert response.headers["content-language"] == "en"


def test_a_missing_member_is_404_in_chinese_when_asked(
    api: Any, coordinator: dict[str, str]
) -> None:
    response = api.get("/books/gulou/members/ghost", headers={**coordinator, **ZH})
    assert response.status_code == 404
    body = assert_problem(response)
    assert (body["title"], body["detail"]) == ("会员不存在", "没有会员 “ghost”")
    assert response.headers["content-language"] == "zh"


def test_registering_a_member_twice_is_a_409_conflict(
    api: Any, coordinator: dict[str, str]
) -> None:
    assert register(api, coordinator, CHEN).status_code == 201
    response = register(api, {**coordinator, **ZH}, CHEN)
    assert response.status_code == 409
    body = assert_problem(response)
    assert body["code"] == "member_exists"
    assert body["detail"] == ZH_DETAILS["member_exists"].format(member_id="chen")


def test_a_birth_date_in_the_future_is_a_422(api: Any, coordinator: dict[str, str]) -> None:
    response = register(api, coordinator, {**CHEN, "birth_date": "2030-01-01"})
    assert response.status_code == 422
    body = assert_problem(response)
    assert body["code"] == "birth_date_invalid"
    assert body["title"] == TITLES["birth_date_invalid"][0]
    assert "2030-01-01" in body["detail"]


def test_a_member_registering_someone_is_403_not_authorised(
    api: Any, coordinator: dict[str, str], tokens: Tokens
) -> None:
    assert register(api, coordinator, CHEN).status_code == 201
    response = register(api, {**tokens("chen"), **ZH}, {**CHEN, "member_id": "chen-2"})
    assert response.status_code == 403
    body = assert_problem(response)
    assert body["code"] == "actor_not_authorised"
    assert body["title"] == TITLES["actor_not_authorised"][1]
    action = text("zh").phrase("action", body["data"]["action"])  # the action in Chinese too
    assert action == "登记会员"
    data = {**body["data"], "action": action}
    assert body["detail"] == ZH_DETAILS["actor_not_authorised"].format(**data)


@get("/test-only/raise/{code:str}", sync_to_thread=False)
def raise_error(code: FromPath[str]) -> None:
    """Raise a sample of the domain error whose code is given."""
    raise sample(next(cls for cls in ERRORS if cls.code == code))


@pytest.fixture(scope="module")
def shared() -> Iterator[TestClient[Litestar]]:
    """One app over an empty book for the tests that only read, plus a route raising any error."""
    bank = TimeBank()
    bank.create_book("gulou", "nanjing")
    app = create_app(bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
    app.register(raise_error)
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        ("zh-CN", "zh"),
        ("zh-Hans-CN,zh;q=0.9", "zh"),
        ("en;q=0.5, zh;q=0.9", "zh"),
        ("zh;q=0.1, en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR, de;q=0.8", "en"),
        ("", "en"),
        ("zh;q=nonsense, en;q=0.2", "en"),
    ],
)
def test_the_language_follows_accept_language_and_its_q_values(
    shared: Any, admin: dict[str, str], accept_language: str, language: str
) -> None:
    headers = {**admin, "Accept-Language": accept_language}
    response = shared.get("/books/gulou/members/ghost", headers=headers)
    body = assert_problem(response)
    assert body["title"] == TITLES["member_not_found"][0 if language == "en" else 1]
    assert has_chinese(body["detail"]) == (language == "zh")
    assert response.headers["content-language"] == language


def expected_status(error: LedgerError) -> int:
    if isinstance(error, ActorNotAuthorised):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    assert isinstance(error, RequestInvalid | LimitExceeded), error
    return 422


@pytest.mark.parametrize("cls", CONCRETE, ids=lambda cls: cls.code)
def test_every_domain_error_answers_with_its_familys_status_in_both_languages(
    shared: Any, coordinator: dict[str, str], cls: type[LedgerError]
) -> None:
    """422 RequestInvalid and LimitExceeded, 404 NotFound, 409 Conflict, 403 not authorised."""
    error = sample(cls)
    english = shared.get(f"/test-only/raise/{cls.code}", headers=coordinator)
    chinese = shared.get(f"/test-only/raise/{cls.code}", headers={**coordinator, **ZH})
    for response in (english, chinese):
        assert response.status_code == expected_status(error)
        assert assert_problem(response)["data"] == data_of(error)
    assert english.json()["title"] == TITLES[cls.code][0]
    assert english.json()["detail"] == str(error)
    assert chinese.json()["title"] == TITLES[cls.code][1]
    assert chinese.json()["detail"] == ZH_DETAILS[cls.code].format(**data_of(error))


# --- malformed input never fails the server ---------------------------------------------


@pytest.fixture
def funded(api: Any) -> Any:
    """The api's book with minutes in it: li (ninghai) served zhang for two hours."""
    book: BankBook = api.bank.book("gulou")
    for member_id, born in (("li", date(1963, 5, 1)), ("zhang", date(1940, 5, 1))):
        book.members.register(
            RegisterMember(
                member_id=member_id,
                name="李娜",
                birth_date=born,
                community="ninghai",
                roles={Role.VOLUNTEER, Role.RECIPIENT},
                vetting=Vetting.STREET,
            ),
            actor=SYSTEM,
        )
    book.credits.record(
        CreditService(
            provider_id="li",
            recipient_id="zhang",
            category="companionship",
            raw_minutes=120,
            served_at=api.bank.clock.now(),
            provenance=Provenance.RECIPIENT_CONFIRMATION,
        ),
        actor="zhang",
    )
    assert book.statements.liability() > 0
    return api


def book_health(api: Any) -> tuple[bool, int]:
    book: BankBook = api.bank.book("gulou")
    return book.statements.verify().ok, book.statements.liability()


def write_routes(app: Litestar) -> list[tuple[str, str, bool]]:
    """Every (method, path template, takes a body) the app answers that may change something."""
    found = set()
    for route in app.routes:
        for method, handler in getattr(route, "route_handler_map", {}).items():
            if method in {"POST", "PUT", "PATCH", "DELETE"}:
                handler = handler[0] if isinstance(handler, tuple) else handler
                takes_body = "data" in handler.parsed_fn_signature.parameters
                found.add((method, route.path, takes_body))
    return sorted(found)


PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")
PLAUSIBLE = {"book_id": ["gulou"], "member_id": ["wang", "li", "zhang"]}
ANYWHERE = ["wang", "li", "gulou", "1", "ghost", "-1", "..", "%00"]


def filled(path: str, choose: Any) -> str:
    """``path`` with each ``{name:type}`` replaced by ``choose(name, type)``, URL-quoted."""
    return PARAMETER.sub(lambda m: quote(choose(m.group(1), m.group(2) or "str"), safe=""), path)


def plausible(name: str, kind: str) -> str:
    return "1" if kind == "int" else PLAUSIBLE.get(name, ANYWHERE)[0]


def parameter_values(name: str, kind: str) -> st.SearchStrategy[str]:
    """Mostly plausible (so the body is what is refused), sometimes anything at all."""
    if kind == "int":
        return st.one_of(st.integers(-5, 10**20).map(str), st.sampled_from(ANYWHERE))
    known = st.sampled_from(PLAUSIBLE.get(name, ANYWHERE))
    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
    return st.one_of(known, known, known, text)


FIELDS = [
    *("name", "birth_date", "community", "member_id", "other_id", "kind", "proxy_id", "note"),
    *("minutes", "raw_minutes", "category", "reason", "status", "roles", "flags", "vetting"),
    *("provider_id", "recipient_id", "giver_id", "receiver_id", "served_at", "title", "limit"),
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["wang", "li", "zhang", "gulou", "ninghai", "2026-11-02", "recipient"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/octet-stream",
    "nonsense",
]


@st.composite
def malformed_requests(draw: st.DrawFn, routes: list[tuple[str, str, bool]]) -> dict[str, Any]:
    """One request to one write route: a random JSON value, random bytes, or a wrong type."""
    method, template, _ = draw(st.sampled_from(routes))
    path = filled(template, lambda name, kind: draw(parameter_values(name, kind)))
    shape = draw(st.sampled_from(["json", "bytes", "content-type"]))
    content_type = "application/json"
    if shape == "json":
        content = json.dumps(draw(JSON_VALUES), ensure_ascii=draw(st.booleans())).encode()
    elif shape == "bytes":
        content = draw(st.binary(max_size=200))
    else:
        content_type = draw(st.sampled_from(CONTENT_TYPES))
        content = draw(st.binary(max_size=60) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
    headers = {"Content-Type": content_type}
    key = draw(st.none() | st.text(string.ascii_letters + string.digits + "-_", max_size=140))
    if key is not None:
        headers["Idempotency-Key"] = key
    return {"method": method, "url": path, "content": content, "headers": headers}


FUZZ_EXAMPLES = min(settings.default.max_examples, 200)


@FUZZ_BANKS
def test_random_requests_to_every_write_route_never_fail_the_server(
    funded: Any, coordinator: dict[str, str]
) -> None:
    """Whatever arrives, the answer is below 500, a problem if refused, and the book holds."""
    routes = write_routes(funded.app)
    assert routes
    before = book_health(funded)
    assert before[0]

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(request=malformed_requests(routes))
    def check(request: dict[str, Any]) -> None:
        headers = {**coordinator, **request.pop("headers")}
        response = funded.request(**request, headers=headers)
        assert response.status_code < 500, (request, response.text)
        if response.status_code >= 400:
            assert_problem(response)

    check()
    assert book_health(funded) == before


MALFORMED_BODIES: list[tuple[str, bytes]] = [
    ("application/json", b""),
    ("application/json", b"{"),
    ("application/json", b"null"),
    ("application/json", b"[]"),
    ("application/json", b'"text"'),
    ("application/json", b"\xff\xfe\x00"),
    ("application/json", b'{"name": 1e999}'),
    ("application/json", b"[" * 10_000),
    ("text/plain", b"name=chen"),
    ("application/x-www-form-urlencoded", b"name=chen&birth_date=1938-03-01"),
    ("multipart/form-data", b"--x\r\n"),
]


@FUZZ_BANKS
def test_every_write_route_refuses_the_usual_malformed_bodies_with_a_problem(
    funded: Any, coordinator: dict[str, str]
) -> None:
    before = book_health(funded)
    for method, template, _ in write_routes(funded.app):
        url = filled(template, plausible)
        for content_type, content in MALFORMED_BODIES:
            headers = {**coordinator, "Content-Type": content_type}
            response = funded.request(method, url, content=content, headers=headers)
            assert response.status_code < 500, (method, url, content[:20], response.text)
            if response.status_code >= 400:
                assert_problem(response)
    assert book_health(funded) == before


@FUZZ_BANKS
def test_a_body_over_one_mebibyte_is_413_on_every_route_that_reads_one(
    funded: Any, coordinator: dict[str, str]
) -> None:
    """A route that takes no body never reads it, so it answers as if it were not there."""
    before = book_health(funded)
    oversized = b'{"name": "' + b"x" * (1 << 20) + b'"}'
    headers = {**coordinator, "Content-Type": "application/json"}
    for method, template, takes_body in write_routes(funded.app):
        url = filled(template, plausible)
        response = funded.request(method, url, content=oversized, headers=headers)
        if takes_body:
            assert response.status_code == 413, (method, url, response.status_code)
            assert assert_problem(response)["code"] == "request_too_large"
        else:
            assert response.status_code < 500, (method, url, response.text)
    assert book_health(funded) == before


# --- security and operations ---------------------------------------------------------------

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def test_every_response_carries_a_request_id_and_the_security_headers(
    api: Any, coordinator: dict[str, str]
) -> None:
    responses = [
        api.get("/health"),
        api.get("/books/gulou/members", headers=coordinator),
        api.get("/books/gulou/members"),
        api.get("/books/gulou/members/ghost", headers=coordinator),
        api.post("/books/gulou/members", content=b"{", headers=coordinator),
        api.get("/no/such/route"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 401, 404, 400, 404]
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert "default-src 'self'" in response.headers["content-security-policy"]


def test_a_request_id_sent_is_echoed_and_bounded(api: Any) -> None:
    sent = api.get("/health", headers={"X-Request-Id": "desk-7f3a"})
    assert sent.headers["x-request-id"] == "desk-7f3a"
    long = api.get("/health", headers={"X-Request-Id": "a" * 500})
    assert long.headers["x-request-id"] == "a" * 64


@pytest.fixture
def plain_bank(clock: ManualClock) -> TimeBank:
    bank = TimeBank(clock=clock)
    bank.create_book("gulou", "nanjing")
    return bank


def client(bank: TimeBank, **options: Any) -> TestClient[Litestar]:
    return TestClient(create_app(bank, ApiSettings(token_secret=SECRET, **options)))


def test_cors_allows_the_configured_origin_only(plain_bank: TimeBank) -> None:
    origin = "https://centre.example"
    with client(plain_bank, cors_origins=(origin,), rate_limit_per_minute=0) as api:
        preflight = api.options(
            "/books/gulou/members",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code in (200, 204)
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "POST" in preflight.headers["access-control-allow-methods"]
        simple = api.get("/health", headers={"Origin": origin})
        assert simple.headers["access-control-allow-origin"] == origin
        stranger = api.get("/health", headers={"Origin": "https://elsewhere.example"})
        assert stranger.headers.get("access-control-allow-origin") in (None, "")


def test_without_configured_origins_there_are_no_cors_headers(plain_bank: TimeBank) -> None:
    origin = "https://centre.example"
    with client(plain_bank, rate_limit_per_minute=0) as api:
        simple = api.get("/health", headers={"Origin": origin})
        preflight = api.options(
            "/books/gulou/members",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        for response in (simple, preflight):
            assert not any(h.startswith("access-control-") for h in response.headers)


def test_the_rate_limit_answers_429_as_a_problem_after_the_configured_number(
    plain_bank: TimeBank, tokens: Tokens
) -> None:
    headers = {**tokens("ops", "admin", book="*"), **ZH}
    with client(plain_bank, rate_limit_per_minute=5) as api:
        allowed = [api.get("/books/gulou/members", headers=headers) for _ in range(5)]
        assert [r.status_code for r in allowed] == [200] * 5
        refused = api.get("/books/gulou/members", headers=headers)
        assert refused.status_code == 429
        body = assert_problem(refused)
        assert body["code"] == "too_many_requests"
        assert body["title"] == TITLES["too_many_requests"][1]
        assert "x-request-id" in refused.headers
        health = [api.get("/health").status_code for _ in range(10)]
        assert health == [200] * 10


def test_health_and_readiness_need_no_token(api: Any) -> None:
    assert api.get("/health").json() == {"status": "ok"}
    assert api.get("/ready").json() == {"status": "ready"}


def test_the_schema_is_openapi_3_1_and_needs_no_token(api: Any) -> None:
    response = api.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "/books/{book_id}/members" in schema["paths"]


def test_the_docs_page_loads_only_local_assets_and_they_are_served(api: Any) -> None:
    page = api.get("/schema/docs")
    assert page.status_code == 200
    assert "http://" not in page.text
    assert "https://" not in page.text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), asset
        served = api.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > (500 if asset.endswith(".png") else 1000), asset


@get("/test-only/store-busy", sync_to_thread=False)
def store_busy() -> None:
    """Fail as the store does when the database stayed busy past its retries."""
    from timebank.store.errors import StoreBusy

    raise StoreBusy("the database stayed busy", attempts=5)


@get("/test-only/bug", sync_to_thread=False)
def bug() -> None:
    raise ZeroDivisionError("a bug")


def test_an_unavailable_database_is_503_and_a_bug_is_a_bare_500() -> None:
    """The store's own failures say "try again"; anything else says nothing of the server."""
    bank = TimeBank()
    app = create_app(bank, ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
    app.register(store_busy)
    app.register(bug)
    with TestClient(app) as client:
        busy = client.get("/test-only/store-busy", headers={"Authorization": "Bearer x"})
        assert busy.status_code == 401  # the token is checked first
        token = issue_token(SECRET, subject="ops", role="admin", book="*")
        headers = {"Authorization": f"Bearer {token}"}
        busy = client.get("/test-only/store-busy", headers=headers)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "1"
        assert assert_problem(busy)["code"] == "store_unavailable"
        broken = client.get("/test-only/bug", headers=headers)
        assert broken.status_code == 500
        body = assert_problem(broken)
        assert body["code"] == "internal_error"
        assert "ZeroDivision" not in broken.text
