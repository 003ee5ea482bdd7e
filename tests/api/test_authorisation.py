"""The authorisation matrix: every route of the app, called by every kind of caller.

The rows are the app's own route table: a route without a row here fails
``test_every_route_has_a_row``. Each row names the member the route is about
(``self``) and, for each kind of caller, what they get:

- ``O``: the call is allowed and succeeds (2xx);
- ``F``: 403, the caller may not do this (their authority, never the record, is at fault);
- ``H``: 404, exactly as for something that does not exist: the caller may not see it.

The callers, in the order of each row's letters (see ``tests/api/world.py`` for who they are):

    A  an administrator's token (acts as the programme, every book)
    I  an integration's token for the book (acts as the programme)
    C  the coordinator of their community (wang)
    Q  another community's coordinator (qian)
    D  a coordinator whose role was removed (demoted), with their old coordinator token
    S  the member themselves
    P  the member's proxy (mei)
    U  a proxy whose own membership is suspended (sus)
    R  a proxy whose authorisation was revoked (rev)
    K  a relative who is not a proxy (son)
    M  another member of the community (zhao)
    X  a token for someone the book does not know
    B  the member's own token for another book

Every refused call must leave the book exactly as it was; every allowed one runs on a
book of its own, so that one caller's success does not stand in another's way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.world import BOOK, build
from tests.bank.helpers import book_state
from timebank.api import ApiSettings, create_app, issue_token
from timebank.bank import TimeBank

SECRET = "authorisation-matrix-" + "x" * 32
CALLERS = "AICQDSPURKMXB"
UNAUTHENTICATED = {"/health", "/ready"}
"""Routes anyone may call; the docs routes (``/schema...``) are the same for everyone."""


def headers(caller: str, subject: str) -> dict[str, str]:
    subject_of = {
        "A": ("ops", "admin", "*"),
        "I": ("relay", "integration", BOOK),
        "C": ("wang", "coordinator", BOOK),
        "Q": ("qian", "coordinator", BOOK),
        "D": ("demoted", "coordinator", BOOK),
        "S": (subject, "member", BOOK),
        "P": ("mei", "member", BOOK),
        "U": ("sus", "member", BOOK),
        "R": ("rev", "member", BOOK),
        "K": ("son", "member", BOOK),
        "M": ("zhao", "member", BOOK),
        "X": ("nobody", "member", BOOK),
        "B": (subject, "member", "other"),
    }
    who, role, book = subject_of[caller]
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=who, role=role, book=book)}"}


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    """The route as the app declares it (``/books/{book_id:str}/...``)."""
    path: str
    expected: str
    """One letter per caller, in ``CALLERS`` order (spaces are for reading)."""
    body: Any = None
    subject: str = "chen"

    @property
    def outcomes(self) -> dict[str, str]:
        letters = self.expected.replace(" ", "")
        assert len(letters) == len(CALLERS), self
        return dict(zip(CALLERS, letters, strict=True))


B = "/books/{book_id:str}"
G = f"/books/{BOOK}"
ME = B + "/members/{member_id:str}"
CREDIT = B + "/credits/{credit_id:str}"
ORDER = B + "/orders/{order_id:str}"
WISH = B + "/wishes/{wish_id:str}"
REDEMPTION = B + "/redemptions/{redemption_id:str}"

EVERYONE = "O O O O O O O F O O O F H"
"""Any person of the book (a suspended one or a stranger has no authority)."""
PROGRAMME = "O O F F F F F F F F F F H"
"""What spans the book: the programme's administrator (or another system) only."""
STAFF = "O O O O F F F F F F F F H"
"""Any coordinator (what they get is their communities' part)."""
HERS = "O O O H H O O F H H H F H"
"""Chen herself, her proxy and her coordinator; she is not there for anyone else."""
HER_COORDINATOR = "O O O H H F F F H H H F H"
"""Only her coordinator: she and her proxy see it, but may not do it."""

CREDIT_BODY = {
    "provider_id": "li",
    "recipient_id": "chen",
    "category": "companionship",
    "raw_minutes": 60,
    "served_at": "2026-10-25T10:00:00+08:00",
    "provenance": "paper_record",
}
OFFER_BODY = {
    "volunteer_id": "li",
    "categories": ["meals"],
    "windows": [{"weekday": 0, "start_minute": 540, "end_minute": 600}],
    "capacity_minutes_per_week": 60,
}
NEED_BODY = {
    "recipient_id": "chen",
    "category": "meals",
    "estimated_minutes": 30,
    "once_at": "2026-11-05T11:00:00+08:00",
}
ORDER_BODY = {"recipient_id": "chen", "category": "meals", "estimated_minutes": 30}
REPORTS = [
    ("orders", "?first_month=2026-11"),
    ("volunteer-board", "?month=2026-11"),
    ("wish-adoption", ""),
    ("supply-demand-gap", "?week=2026-11-02"),
    ("liability-forecast", ""),
    ("inactive-members", ""),
]

ROWS = [
    # --- books, policies, programme accounts ---------------------------------------------
    Row("GET", "/books", "/books", "O O O O O O O O O O O O O"),
    Row(
        "POST",
        "/books",
        "/books",
        "O F F F F F F F F F F F F",
        {"book_id": "new", "preset": "ruian"},
    ),
    Row("GET", B + "/policy", G + "/policy", EVERYONE),
    Row("GET", B + "/policies", G + "/policies", EVERYONE),
    Row("POST", B + "/policies", G + "/policies", PROGRAMME, {"name": "next"}),
    Row("POST", B + "/policies/{version:int}/activate", G + "/policies/2/activate", PROGRAMME),
    Row("POST", B + "/sponsors", G + "/sponsors", PROGRAMME, {"sponsor_id": "x", "name": "X"}),
    Row("POST", B + "/merchants", G + "/merchants", PROGRAMME, {"merchant_id": "x", "name": "X"}),
    Row(
        "GET",
        B + "/programme-accounts/{account_id:str}/balance",
        G + "/programme-accounts/pool/balance",
        STAFF,
    ),
    Row("GET", B + "/liability", G + "/liability", STAFF),
    Row("GET", B + "/verify", G + "/verify", STAFF),
    # --- the raw ledger ---------------------------------------------------------------------
    Row(
        "POST",
        B + "/ledger/transfers",
        G + "/ledger/transfers",
        PROGRAMME,
        {
            "transaction_id": "t-2",
            "postings": [
                {"account_id": "issuance", "side": "debit", "amount_minutes": 5},
                {"account_id": "sponsor.acme", "side": "credit", "amount_minutes": 5},
            ],
        },
    ),
    Row(
        "POST",
        B + "/ledger/holds",
        G + "/ledger/holds",
        PROGRAMME,
        {
            "transaction_id": "h-2",
            "postings": [
                {"account_id": "issuance", "side": "debit", "amount_minutes": 5},
                {"account_id": "sponsor.acme", "side": "credit", "amount_minutes": 5},
            ],
        },
    ),
    Row(
        "POST",
        B + "/ledger/holds/{hold_id:str}/post",
        G + "/ledger/holds/h-1/post",
        PROGRAMME,
        {"transaction_id": "p-1"},
    ),
    Row(
        "POST",
        B + "/ledger/holds/{hold_id:str}/void",
        G + "/ledger/holds/h-1/void",
        PROGRAMME,
        {"transaction_id": "v-1"},
    ),
    Row(
        "POST",
        B + "/ledger/reversals",
        G + "/ledger/reversals",
        PROGRAMME,
        {"transaction_id": "r-1", "reverses_id": "t-1"},
    ),
    Row(
        "GET",
        B + "/ledger/transactions/{transaction_id:str}",
        G + "/ledger/transactions/t-1",
        PROGRAMME,
    ),
    Row("GET", B + "/ledger/holds/{hold_id:str}", G + "/ledger/holds/h-1", PROGRAMME),
    Row("GET", B + "/ledger/accounts/{account_id:str}", G + "/ledger/accounts/issuance", PROGRAMME),
    Row(
        "GET",
        B + "/ledger/accounts/{account_id:str}/statement",
        G + "/ledger/accounts/issuance/statement",
        PROGRAMME,
    ),
    # --- members, relations, proxies ------------------------------------------------------
    Row(
        "POST",
        B + "/members",
        G + "/members",
        "O O O F F F F F F F F F H",
        {"name": "何建军", "birth_date": "1961-10-01", "community": "ninghai", "member_id": "he"},
    ),
    Row("GET", B + "/members", G + "/members", STAFF),
    Row("GET", ME, G + "/members/chen", HERS),
    Row("PATCH", ME, G + "/members/chen", HER_COORDINATOR, {"grid": "g2"}),
    Row(
        "POST",
        ME + "/relations",
        G + "/members/chen/relations",
        "O O O H H H H F H H H F H",  # she may not see zhao, let alone call him her friend
        {"other_id": "zhao", "kind": "friend"},
    ),
    Row("GET", ME + "/relations", G + "/members/chen/relations", HERS),
    Row(
        "POST",
        ME + "/proxies",
        G + "/members/chen/proxies",
        "O O O H H O F F H H H F H",  # she appoints; her proxy never appoints another
        {"proxy_id": "li"},
    ),
    Row(
        "DELETE",
        ME + "/proxies/{proxy_id:str}",
        G + "/members/chen/proxies/mei",
        HERS,  # she, her coordinator, or the proxy stepping down
    ),
    Row("GET", ME + "/proxies", G + "/members/chen/proxies", HERS),
    Row("GET", ME + "/balance", G + "/members/chen/balance", HERS),
    Row("GET", ME + "/passbook", G + "/members/chen/passbook", HERS),
    Row("GET", ME + "/passbook.csv", G + "/members/chen/passbook.csv", HERS),
    Row("GET", ME + "/passbook.xlsx", G + "/members/chen/passbook.xlsx", HERS),
    Row("GET", ME + "/passbook.html", G + "/members/chen/passbook.html", HERS),
    Row(
        "POST",
        ME + "/death",
        G + "/members/wu/death",
        "O O O H H F H F H H H F H",  # nobody records their own death
        {"died_on": "2026-10-28"},
        subject="wu",
    ),
    # --- credits, redemptions, gifts, donations, grants --------------------------------------
    Row("POST", B + "/credits", G + "/credits", HERS, CREDIT_BODY),
    Row("GET", B + "/credits", G + "/credits", EVERYONE),
    Row("GET", CREDIT, G + "/credits/c-pending", HERS),
    Row("POST", CREDIT + "/confirm", G + "/credits/c-pending/confirm", HERS),
    Row("POST", CREDIT + "/dispute", G + "/credits/c-pending/dispute", HERS, {"reason": "没有来"}),
    Row(
        "POST",
        CREDIT + "/reverse",
        G + "/credits/c-posted/reverse",
        HER_COORDINATOR,
        {"reason": "entered twice"},
    ),
    Row(
        "POST",
        B + "/redemptions",
        G + "/redemptions",
        HERS,
        {"saver_id": "chen", "minutes": 30, "provider_id": "li", "category": "companionship"},
    ),
    Row("GET", REDEMPTION, G + "/redemptions/r-booked", HERS),
    Row(
        "POST",
        REDEMPTION + "/complete",
        G + "/redemptions/r-booked/complete",
        HERS,
        {"spent_minutes": 20},
    ),
    Row("POST", REDEMPTION + "/cancel", G + "/redemptions/r-booked/cancel", HERS),
    Row(
        "POST",
        B + "/gifts",
        G + "/gifts",
        "O O F H H O O F H H H F H",  # her own minutes: not even her coordinator gives them
        {"giver_id": "chen", "receiver_id": "son", "minutes": 30},
    ),
    Row(
        "POST",
        B + "/donations",
        G + "/donations",
        "O O F H H O O F H H H F H",
        {"member_id": "chen", "minutes": 30},
    ),
    Row(
        "POST",
        B + "/grants",
        G + "/grants",
        HER_COORDINATOR,
        {"member_id": "chen", "minutes": 30, "reason": "heating", "source": "guarantee"},
    ),
    # --- events, expiry ---------------------------------------------------------------------
    Row(
        "POST",
        B + "/events",
        G + "/events",
        STAFF,
        {"title": "义诊", "category": "companionship", "held_at": "2026-10-28T09:00:00+08:00"},
    ),
    Row(
        "POST",
        B + "/events/{event_id:str}/credits",
        G + "/events/ev/credits",
        "O O O H F F F F F F F F H",  # li is not qian's to credit
        {"attendees": {"li": 60}},
    ),
    Row("GET", B + "/events/{event_id:str}/credits", G + "/events/ev/credits", STAFF),
    Row("POST", B + "/expiry", G + "/expiry", PROGRAMME, {}),
    # --- the supply and demand ledgers ------------------------------------------------------
    Row("POST", B + "/offers", G + "/offers", HERS, OFFER_BODY, subject="li"),
    Row("GET", B + "/offers", G + "/offers", EVERYONE),
    Row(
        "GET",
        B + "/offers/{offer_id:str}",
        G + "/offers/off-li",
        HERS,
        subject="li",
    ),
    Row(
        "PATCH",
        B + "/offers/{offer_id:str}",
        G + "/offers/off-li",
        HERS,
        {"capacity_minutes_per_week": 120},
        subject="li",
    ),
    Row(
        "POST",
        B + "/offers/{offer_id:str}/withdraw",
        G + "/offers/off-li/withdraw",
        HERS,
        subject="li",
    ),
    Row("POST", B + "/needs", G + "/needs", HERS, NEED_BODY),
    Row("GET", B + "/needs", G + "/needs", EVERYONE),
    Row("GET", B + "/needs/{need_id:str}", G + "/needs/need-chen", HERS),
    Row("POST", B + "/needs/{need_id:str}/close", G + "/needs/need-chen/close", HERS),
    # --- orders -----------------------------------------------------------------------------
    Row("POST", B + "/orders", G + "/orders", HERS, ORDER_BODY),
    Row("GET", B + "/orders", G + "/orders", EVERYONE),
    Row("GET", ORDER, G + "/orders/o-req", HERS),
    Row(
        "POST",
        ORDER + "/dispatch",
        G + "/orders/o-req/dispatch",
        HER_COORDINATOR,
        {"volunteer_id": "li"},
    ),
    Row("POST", ORDER + "/publish", G + "/orders/o-req/publish", HER_COORDINATOR),
    Row(
        "POST",
        ORDER + "/decline",
        G + "/orders/o-disp/decline",
        HERS,
        {"reason": "那天要去医院"},
        subject="li",
    ),
    Row(
        "POST",
        ORDER + "/accept",
        G + "/orders/o-disp/accept",
        HERS,
        {"volunteer_id": "li"},
        subject="li",
    ),
    Row("POST", ORDER + "/start", G + "/orders/o-acc/start", HERS, subject="li"),
    Row(
        "POST",
        ORDER + "/complete",
        G + "/orders/o-start/complete",
        HERS,
        {"actual_minutes": 50},
        subject="li",
    ),
    Row("POST", ORDER + "/confirm", G + "/orders/o-done/confirm", HERS),
    Row("POST", ORDER + "/reject", G + "/orders/o-done/reject", HERS, {"reason": "没有送到"}),
    Row("POST", ORDER + "/rate", G + "/orders/o-conf/rate", HERS, {"rating": 5}),
    Row(
        "POST",
        ORDER + "/close",
        G + "/orders/o-conf/close",
        HER_COORDINATOR,
        {"follow_up": "回访 满意"},
    ),
    Row("POST", ORDER + "/cancel", G + "/orders/o-req/cancel", HERS, {"reason": "不需要了"}),
    Row("GET", ORDER + "/suggestions", G + "/orders/o-req/suggestions", HER_COORDINATOR),
    Row("POST", B + "/deadlines/run", G + "/deadlines/run", PROGRAMME),
    Row("GET", B + "/outbox", G + "/outbox", PROGRAMME),
    Row("POST", B + "/outbox/ack", G + "/outbox/ack", PROGRAMME, {"seqs": [1]}),
    Row("GET", B + "/matching/week", G + "/matching/week?day=2026-11-02", STAFF),
    # --- micro-wishes and care files --------------------------------------------------------
    Row("POST", B + "/wishes", G + "/wishes", HERS, {"resident_id": "chen", "title": "老花镜"}),
    Row(
        "POST",
        WISH + "/adopt",
        G + "/wishes/w-posted/adopt",
        "O O O H F F O F F F F F H",  # on the community's wall, but adopted only for oneself
        {"adopter": "li"},
    ),
    Row(
        "POST",
        WISH + "/fulfil",
        G + "/wishes/w-adopted/fulfil",
        "O O O H H F O F H H H F H",  # the adopter's side (li, through mei), or the centre
    ),
    Row("POST", WISH + "/confirm", G + "/wishes/w-fulfilled/confirm", HERS, {}),
    Row(
        "POST",
        WISH + "/withdraw",
        G + "/wishes/w-posted/withdraw",
        "O O O H F O O F F F F F H",  # the wall shows it to the community; only her side acts
    ),
    Row("GET", WISH, G + "/wishes/w-posted", "O O O H O O O F O O O F H"),
    Row("GET", B + "/wishes", G + "/wishes", EVERYONE),
    Row(
        "POST",
        ME + "/care-file",
        G + "/members/chen/care-file",
        HER_COORDINATOR,
        {"visits_per_month": 3},
    ),
    Row("POST", ME + "/care-file/close", G + "/members/chen/care-file/close", HER_COORDINATOR),
    Row("GET", ME + "/care-file", G + "/members/chen/care-file", HERS),
    Row(
        "POST",
        ME + "/visits",
        G + "/members/chen/visits",
        "O O O H H H O F H H H F H",  # li's visit: li (through mei) or the centre records it
        {"visitor_id": "li", "visited_at": "2026-10-25T10:00:00+08:00"},
    ),
    Row("GET", ME + "/visits", G + "/members/chen/visits", HERS),
    Row("GET", B + "/visits-due", G + "/visits-due", STAFF),
    # --- reports ----------------------------------------------------------------------------
    *(
        Row("GET", f"{B}/reports/{name}{suffix}", f"{G}/reports/{name}{suffix}{query}", STAFF)
        for name, query in REPORTS
        for suffix in ("", ".csv", ".xlsx")
    ),
    *(
        Row("GET", f"{B}/reports/month{suffix}", f"{G}/reports/month{suffix}?month=2026-10", STAFF)
        for suffix in (".html", ".xlsx")
    ),
]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    app = create_app(TimeBank(), ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
    with TestClient(app) as test_client:
        yield test_client


def on(client: TestClient[Any], bank: TimeBank) -> TestClient[Any]:
    client.app.state.bank = bank
    return client


def call(client: TestClient[Any], row: Row, caller: str) -> Any:
    return client.request(
        row.method,
        row.path,
        json=row.body,
        headers=headers(caller, row.subject),
    )


def check(row: Row, caller: str, expected: str, response: Any) -> None:
    where = f"{row.method} {row.path} as {caller}: {response.status_code} {response.text[:300]}"
    if expected == "O":
        assert 200 <= response.status_code < 300, where
    elif expected == "F":
        assert response.status_code == 403, where
    else:
        assert response.status_code == 404, where
        assert response.json()["code"].endswith("_not_found"), where


def _id(row: Row) -> str:
    return f"{row.method} {row.path.removeprefix(G)}"


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_every_caller_gets_what_the_matrix_says(client: TestClient[Any], row: Row) -> None:
    outcomes = row.outcomes
    refused = [c for c in CALLERS if outcomes[c] != "O"]
    bank = build()
    before = book_state(bank.book(BOOK))
    for caller in refused:
        check(row, caller, outcomes[caller], call(on(client, bank), row, caller))
    assert book_state(bank.book(BOOK)) == before, f"{_id(row)}: a refusal changed the book"
    for caller in (c for c in CALLERS if outcomes[c] == "O"):
        fresh = bank if row.method == "GET" else build()
        check(row, caller, "O", call(on(client, fresh), row, caller))
        assert fresh.book(BOOK).statements.verify().ok


def test_every_route_has_a_row(client: TestClient[Any]) -> None:
    """A new route without a row in the matrix fails here."""
    declared = {
        (method, route.path)
        for route in client.app.routes
        for handler in route.route_handlers
        for method in handler.http_methods
        if method != "OPTIONS" and not route.path.startswith("/schema")
    }
    covered = {(row.method, row.route) for row in ROWS}
    assert declared - UNAUTHENTICATED_ROUTES == covered


UNAUTHENTICATED_ROUTES = {("GET", path) for path in UNAUTHENTICATED}


@pytest.mark.parametrize("path", sorted(UNAUTHENTICATED))
def test_health_and_readiness_need_no_token(client: TestClient[Any], path: str) -> None:
    assert on(client, build()).get(path).status_code == 200


# --- listings reveal nothing hidden ----------------------------------------------------------

LISTINGS = [
    ("/members", "member_id", "/members/{}"),
    ("/credits", "credit_id", "/credits/{}"),
    ("/offers", "offer_id", "/offers/{}"),
    ("/needs", "need_id", "/needs/{}"),
    ("/orders", "order_id", "/orders/{}"),
]


@pytest.fixture(params=["memory", "sqlite"])
def listed(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[TimeBank]:
    """The world on memory, and on SQLite (where orders are filtered in SQL)."""
    if request.param == "memory":
        yield build()
        return
    opened: list[TimeBank] = []

    def open_bank(clock: Any) -> TimeBank:
        opened.append(TimeBank.open(tmp_path / "listed.db", clock=clock))
        return opened[0]

    try:
        yield build(open_bank)
    finally:
        opened[0].close()


@pytest.mark.parametrize("caller", [c for c in CALLERS if c not in "UXB"])
def test_pages_hold_only_what_the_caller_may_see_and_never_end_on_a_hidden_record(
    client: TestClient[Any], listed: TimeBank, caller: str
) -> None:
    """Page by page (one item a page), every item and every ``next`` cursor is a record the
    caller may open; what the administrator lists and the caller may open is all listed."""
    api = on(client, listed)
    for listing, key, one in LISTINGS:
        everything = _page_through(api, listing, key, headers("A", "chen"))
        mine = _page_through(api, listing, key, headers(caller, "chen"))
        opens = {
            item
            for item in everything
            if api.get(G + one.format(item), headers=headers(caller, "chen")).status_code == 200
        }
        if listing == "/members" and caller not in "AICQ":
            assert mine is None, (listing, caller)  # only staff list members
            continue
        assert mine is not None
        assert set(mine) == opens, (listing, caller, sorted(set(mine) ^ opens))


def _page_through(api: Any, listing: str, key: str, who: dict[str, str]) -> list[str] | None:
    items: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"after": after} if after else {})}
        response = api.get(G + listing, params=params, headers=who)
        if response.status_code == 403:
            return None
        page = response.json()
        ids = [item[key] for item in page["items"]]
        assert len(ids) <= 1
        if page["next"] is not None:
            assert ids == [page["next"]]  # the cursor is the last item the caller saw
        items += ids
        if page["next"] is None:
            return items
        after = page["next"]
