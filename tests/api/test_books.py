"""Books over HTTP: creating and listing them, policies, programme accounts, the raw ledger."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Tokens

LEDGER = "/books/gulou/ledger"


def pool_minutes(api: Any, headers: dict[str, str]) -> int:
    found = api.get("/books/gulou/programme-accounts/pool/balance", headers=headers)
    assert found.status_code == 200, found.text
    minutes: int = found.json()["posted_minutes"]
    return minutes


def transfer(amount: int, transaction_id: str = "t1") -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "postings": [
            {"account_id": "issuance", "side": "debit", "amount_minutes": amount},
            {"account_id": "pool", "side": "credit", "amount_minutes": amount},
        ],
        "code": "top-up",
        "metadata": {"source": "district fund"},
    }


def hold(amount: int, transaction_id: str) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "postings": [
            {"account_id": "pool", "side": "debit", "amount_minutes": amount},
            {"account_id": "guarantee", "side": "credit", "amount_minutes": amount},
        ],
    }


# --- books -------------------------------------------------------------------------------------


def test_an_admin_creates_a_book_from_a_preset_and_sees_every_book(
    api: Any, admin: dict[str, str], tokens: Tokens
) -> None:
    created = api.post("/books", json={"book_id": "xihu", "preset": "hangzhou_xihu"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["book_id"] == "xihu"
    assert created.json()["policy"]["rules"]["starting_grant_minutes"] == 300
    assert api.get("/books", headers=admin).json() == ["gulou", "xihu"]
    assert api.get("/books", headers=tokens("chen")).json() == ["gulou"]
    assert api.get("/books", headers=tokens("li", book="xihu")).json() == ["xihu"]
    again = api.post("/books", json={"book_id": "xihu", "preset": "nanjing"}, headers=admin)
    assert again.status_code == 409
    assert again.json()["code"] == "book_exists"


def test_only_an_admin_creates_books_and_only_from_a_known_preset(
    api: Any, admin: dict[str, str], coordinator: dict[str, str], tokens: Tokens
) -> None:
    body = {"book_id": "xihu", "preset": "nanjing"}
    for headers in (coordinator, tokens("chen"), tokens("sync", "integration", book="*")):
        refused = api.post("/books", json=body, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["code"] == "actor_not_authorised"
    unknown = api.post("/books", json={"book_id": "xihu", "preset": "atlantis"}, headers=admin)
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "policy_invalid"
    for malformed in ({"book_id": "xihu"}, {**body, "extra": 1}, ["xihu"]):
        assert api.post("/books", json=malformed, headers=admin).status_code == 422
    assert api.get("/books", headers=admin).json() == ["gulou"]


# --- policies ----------------------------------------------------------------------------------


def test_an_admin_adds_a_draft_policy_and_activates_it(
    api: Any, coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    """The rules apply to every community, so the programme's administrator sets them."""
    active = api.get("/books/gulou/policy", headers=coordinator)
    assert active.status_code == 200
    assert (active.json()["version"], active.json()["status"]) == (1, "active")
    rules = {"name": "Gulou 2027", "stored_minutes_max": 60_000, "expiry_days": 3650}
    refused = api.post("/books/gulou/policies", json=rules, headers=coordinator)
    assert refused.status_code == 403, refused.text
    draft = api.post("/books/gulou/policies", json=rules, headers=admin)
    assert draft.status_code == 201, draft.text
    assert (draft.json()["version"], draft.json()["status"]) == (2, "draft")
    assert api.get("/books/gulou/policy", headers=coordinator).json()["version"] == 1
    assert api.post("/books/gulou/policies/2/activate", headers=coordinator).status_code == 403
    activated = api.post("/books/gulou/policies/2/activate", headers=admin)
    assert activated.status_code == 200, activated.text
    assert api.get("/books/gulou/policy", headers=coordinator).json()["rules"]["name"] == (
        "Gulou 2027"
    )
    listed = api.get("/books/gulou/policies", headers=coordinator).json()
    assert [(p["version"], p["status"]) for p in listed] == [(1, "retired"), (2, "active")]


def test_policies_are_refused_to_members_malformed_rules_and_other_books(
    api: Any, coordinator: dict[str, str], admin: dict[str, str], tokens: Tokens
) -> None:
    rules = {"name": "Gulou 2027"}
    member = api.post("/books/gulou/policies", json=rules, headers=tokens("wang"))
    assert member.status_code == 403
    assert api.post("/books/gulou/policies/1/activate", headers=tokens("chen")).status_code == 403
    for malformed in ({"name": "x", "unknown_rule": True}, {"unit_minutes": 60}, {"name": 7}):
        refused = api.post("/books/gulou/policies", json=malformed, headers=admin)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "request_body_invalid"
    unusable = api.post(
        "/books/gulou/policies", json={"name": "x", "unit_minutes": 0}, headers=admin
    )
    assert unusable.status_code == 422
    missing = api.post("/books/gulou/policies/9/activate", headers=admin)
    assert missing.status_code == 404
    elsewhere = tokens("wang", book="xihu")
    for path in ("/books/gulou/policy", "/books/gulou/policies"):
        assert api.get(path, headers=elsewhere).status_code == 404
    assert len(api.get("/books/gulou/policies", headers=coordinator).json()) == 1


# --- programme accounts, liability, verify -------------------------------------------------------


def test_sponsors_and_merchants_open_programme_accounts_staff_can_read(
    api: Any, coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    """The programme's partners are the administrator's to add; its coordinators read them."""
    body = {"sponsor_id": "acme", "name": "Acme Ltd"}
    assert api.post("/books/gulou/sponsors", json=body, headers=coordinator).status_code == 403
    sponsor = api.post("/books/gulou/sponsors", json=body, headers=admin)
    assert sponsor.status_code == 201, sponsor.text
    assert sponsor.json()["account_id"] == "sponsor.acme"
    merchant = api.post(
        "/books/gulou/merchants",
        json={"merchant_id": "barber", "name": "Li's barbers"},
        headers=admin,
    )
    assert merchant.json()["account_id"] == "merchant.barber"
    balance = api.get(
        "/books/gulou/programme-accounts/sponsor.acme/balance", headers=coordinator
    ).json()
    assert balance == {"account_id": "sponsor.acme", "posted_minutes": 0}
    assert api.get("/books/gulou/liability", headers=coordinator).json() == {"liability_minutes": 0}
    report = api.get("/books/gulou/verify", headers=coordinator).json()
    assert report["ok"] is True


def test_programme_accounts_and_reports_are_for_staff_of_the_book(
    api: Any, coordinator: dict[str, str], tokens: Tokens
) -> None:
    member = tokens("chen")
    for path in ("/programme-accounts/pool/balance", "/liability", "/verify"):
        refused = api.get("/books/gulou" + path, headers=member)
        assert refused.status_code == 403
        assert api.get("/books/gulou" + path, headers=tokens("x", book="xihu")).status_code == 404
    body = {"sponsor_id": "acme", "name": "Acme"}
    assert api.post("/books/gulou/sponsors", json=body, headers=member).status_code == 403
    assert api.post("/books/gulou/sponsors", json={**body, "x": 1}, headers=member).status_code == (
        422
    )
    for account_id in ("m.wang", "ghost"):
        hidden = api.get(
            f"/books/gulou/programme-accounts/{account_id}/balance", headers=coordinator
        )
        assert hidden.status_code == 404
        assert hidden.json()["code"] == "programme_account_not_found"


# --- the raw ledger ------------------------------------------------------------------------------


def test_an_admin_transfers_holds_posts_voids_and_reverses_on_the_raw_ledger(
    api: Any, admin: dict[str, str]
) -> None:
    moved = api.post(f"{LEDGER}/transfers", json=transfer(120), headers=admin)
    assert moved.status_code == 201, moved.text
    assert (moved.json()["kind"], moved.json()["sequence"] > 0) == ("transfer", True)
    assert pool_minutes(api, admin) == 120

    held = api.post(f"{LEDGER}/holds", json=hold(60, "h1"), headers=admin)
    assert held.json()["kind"] == "hold"
    assert api.get(f"{LEDGER}/holds/h1", headers=admin).json()["status"] == "pending"
    assert api.get(f"{LEDGER}/accounts/pool", headers=admin).json()["debits_pending_minutes"] == 60
    posted = api.post(
        f"{LEDGER}/holds/h1/post",
        json={"transaction_id": "p1", "amount_minutes": 45},
        headers=admin,
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["related_id"] == "h1"
    assert api.get(f"{LEDGER}/holds/h1", headers=admin).json()["resolved_by"] == "p1"
    assert pool_minutes(api, admin) == 75

    api.post(f"{LEDGER}/holds", json=hold(30, "h2"), headers=admin)
    voided = api.post(f"{LEDGER}/holds/h2/void", json={"transaction_id": "v2"}, headers=admin)
    assert voided.json()["kind"] == "void"
    assert api.get(f"{LEDGER}/accounts/pool", headers=admin).json()["debits_pending_minutes"] == 0

    reversed_ = api.post(
        f"{LEDGER}/reversals", json={"transaction_id": "r1", "reverses_id": "p1"}, headers=admin
    )
    assert reversed_.json()["kind"] == "reversal"
    assert pool_minutes(api, admin) == 120
    assert api.get(f"{LEDGER}/transactions/t1", headers=admin).json() == moved.json()
    statement = api.get(f"{LEDGER}/accounts/pool/statement?limit=2", headers=admin).json()
    assert [e["transaction_id"] for e in statement["entries"]] == ["t1", "h1"]
    rest = api.get(
        f"{LEDGER}/accounts/pool/statement?after={statement['next_after']}", headers=admin
    ).json()
    assert [e["transaction_id"] for e in rest["entries"]] == ["p1", "h2", "v2", "r1"]
    assert api.get("/books/gulou/verify", headers=admin).json()["ok"] is True


def test_a_ledger_transaction_id_replays_its_outcome_and_refuses_another_request(
    api: Any, tokens: Tokens
) -> None:
    integration = tokens("wechat", "integration", book="*")
    first = api.post(f"{LEDGER}/transfers", json=transfer(120), headers=integration)
    again = api.post(
        f"{LEDGER}/transfers", json=transfer(120), headers={**integration, "Idempotency-Key": "t1"}
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert pool_minutes(api, integration) == 120
    other = api.post(f"{LEDGER}/transfers", json=transfer(90), headers=integration)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    keyed = api.post(
        f"{LEDGER}/transfers",
        json=transfer(90, "t2"),
        headers={**integration, "Idempotency-Key": "not-t2"},
    )
    assert keyed.status_code == 400
    short = api.post(f"{LEDGER}/holds", json=hold(500, "h9"), headers=integration)
    retried = api.post(f"{LEDGER}/holds", json=hold(500, "h9"), headers=integration)
    assert short.status_code == retried.status_code == 422
    assert short.json() == retried.json()
    assert pool_minutes(api, integration) == 120


def test_the_raw_ledger_is_for_admins_and_integrations_only(
    api: Any, admin: dict[str, str], coordinator: dict[str, str], tokens: Tokens
) -> None:
    api.post(f"{LEDGER}/transfers", json=transfer(120), headers=admin)
    everyone_else = (coordinator, tokens("chen"), tokens("ops", "admin", book="xihu"))
    reads = ("/transactions/t1", "/transactions/ghost", "/holds/h1", "/accounts/pool")
    for headers in everyone_else:
        expected = 404 if headers is everyone_else[2] else 403
        for path in reads:
            assert api.get(LEDGER + path, headers=headers).status_code == expected
        writes = (
            ("/transfers", transfer(60, "t9")),
            ("/holds", hold(10, "h9")),
            ("/holds/h9/post", {"transaction_id": "p9"}),
            ("/holds/h9/void", {"transaction_id": "v9"}),
            ("/reversals", {"transaction_id": "r9", "reverses_id": "t1"}),
        )
        for path, body in writes:
            assert api.post(LEDGER + path, json=body, headers=headers).status_code == expected
    assert pool_minutes(api, admin) == 120
    assert api.get(f"{LEDGER}/transactions/ghost", headers=admin).status_code == 404
    assert api.get(f"{LEDGER}/holds/ghost", headers=admin).status_code == 404


def test_malformed_ledger_requests_are_problems_never_server_errors(
    api: Any, admin: dict[str, str]
) -> None:
    bad_postings = [
        [{"account_id": "pool", "side": "sideways", "amount_minutes": 5}],
        [{"account_id": "pool", "side": "debit", "amount_minutes": 1.5}],
        [{"account_id": "pool", "side": "debit", "amount_minutes": 5, "memo": "x"}],
        "pool",
    ]
    for postings in bad_postings:
        sent = api.post(
            f"{LEDGER}/transfers", json={**transfer(5), "postings": postings}, headers=admin
        )
        assert sent.status_code == 422, sent.text
        assert sent.json()["code"] == "request_body_invalid"
    unbalanced = transfer(5)
    unbalanced["postings"][1]["amount_minutes"] = 6
    assert api.post(f"{LEDGER}/transfers", json=unbalanced, headers=admin).status_code == 422
    huge = transfer(10**30, "t-huge")
    assert api.post(f"{LEDGER}/transfers", json=huge, headers=admin).status_code in (400, 422)
    naive = {**transfer(5, "t-naive"), "effective_at": "2026-11-01T09:00:00"}
    assert api.post(f"{LEDGER}/transfers", json=naive, headers=admin).status_code == 422
    for after in ("-1", "x", str(2**70)):
        page = api.get(f"{LEDGER}/accounts/pool/statement?after={after}", headers=admin)
        assert page.status_code in (400, 422), page.text
    assert api.get("/books/gulou/verify", headers=admin).json()["ok"] is True
