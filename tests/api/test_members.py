"""Members over HTTP: registration, visibility by role, proxies, balances, idempotency keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.conftest import SECRET, Tokens
from timebank.api import issue_token
from timebank.api.auth import jwt_auth

CHEN = {
    "name": "陈秀英",
    "birth_date": "1938-03-01",
    "community": "ninghai",
    "member_id": "chen",
    "roles": ["recipient"],
}


def register(api: Any, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return api.post("/books/gulou/members", json=body, headers=headers)


def test_a_coordinator_registers_a_member_who_then_sees_their_own_balance(
    api: Any, coordinator: dict[str, str], tokens: Tokens
) -> None:
    created = register(api, coordinator, CHEN)
    assert created.status_code == 201, created.text
    assert created.json()["name_key"] == "chen xiu ying"
    own = api.get("/books/gulou/members/chen/balance", headers=tokens("chen"))
    assert own.status_code == 200
    assert own.json()["own_minutes"] == 0


def test_strangers_learn_nothing_and_other_communities_are_out_of_reach(
    api: Any, coordinator: dict[str, str], tokens: Tokens
) -> None:
    register(api, coordinator, CHEN)
    register(api, coordinator, {**CHEN, "member_id": "zhao", "name": "赵建国"})
    for path in ("", "/balance", "/passbook", "/relations", "/proxies"):
        stranger = api.get(f"/books/gulou/members/chen{path}", headers=tokens("zhao"))
        missing = api.get(f"/books/gulou/members/ghost{path}", headers=tokens("zhao"))
        assert stranger.status_code == missing.status_code == 404
        assert stranger.json()["type"] == missing.json()["type"]
    elsewhere = tokens("qian", "coordinator")  # coordinates dongshan
    assert api.get("/books/gulou/members/chen", headers=elsewhere).status_code == 404
    assert register(api, elsewhere, {**CHEN, "member_id": "x"}).status_code == 403
    assert api.get("/books/gulou/members", headers=elsewhere).json() == {
        "items": [qian(api, elsewhere)],  # only the members of their own community
        "next": None,
    }
    # A token names a person; someone the book does not know may do nothing at all.
    assert api.get("/books/gulou/members/chen", headers=tokens("li")).status_code == 403
    assert api.get("/books/other/members/chen", headers=coordinator).status_code == 404
    assert api.get("/books/gulou/members/chen").status_code == 401


def qian(api: Any, headers: dict[str, str]) -> Any:
    return api.get("/books/gulou/members/qian", headers=headers).json()


def test_a_proxy_sees_the_member_they_act_for(
    api: Any, coordinator: dict[str, str], tokens: Tokens
) -> None:
    register(api, coordinator, CHEN)
    register(
        api, coordinator, {**CHEN, "member_id": "li", "name": "李娜", "birth_date": "1970-01-01"}
    )
    assert api.get("/books/gulou/members/chen", headers=tokens("li")).status_code == 404
    granted = api.post(
        "/books/gulou/members/chen/proxies", json={"proxy_id": "li"}, headers=coordinator
    )
    assert granted.status_code == 201, granted.text
    assert api.get("/books/gulou/members/chen/balance", headers=tokens("li")).status_code == 200
    api.delete("/books/gulou/members/chen/proxies/li", headers=coordinator)
    assert api.get("/books/gulou/members/chen", headers=tokens("li")).status_code == 404


def test_an_idempotency_key_replays_the_first_response_and_refuses_another_body(
    api: Any, coordinator: dict[str, str]
) -> None:
    keyed = {**coordinator, "Idempotency-Key": "register-chen"}
    first = register(api, keyed, CHEN)
    again = register(api, keyed, CHEN)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    other = register(api, keyed, {**CHEN, "name": "陈秀兰"})
    assert other.status_code == 409
    assert other.json()["type"] == "urn:timebank:problem:idempotency_key_reused"
    listed = api.get("/books/gulou/members", headers=coordinator).json()["items"]
    assert [m["member_id"] for m in listed] == ["chen", "wang"]


def test_problems_speak_chinese_when_asked(api: Any, coordinator: dict[str, str]) -> None:
    english = api.get("/books/gulou/members/ghost", headers=coordinator)
    chinese = api.get(
        "/books/gulou/members/ghost", headers={**coordinator, "Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert english.headers["content-type"].startswith("application/problem+json")
    assert english.json()["code"] == chinese.json()["code"] == "member_not_found"
    assert chinese.headers["content-language"] == "zh"
    assert english.json()["title"] != chinese.json()["title"]


def test_the_books_name_the_administrator_who_acted(
    api: Any, admin: dict[str, str], tokens: Tokens
) -> None:
    """An administrator's token acts with the programme's authority, and the records and the
    journal name them (``admin:<subject>``), never ``system``."""
    created = register(api, admin, CHEN)
    assert created.status_code == 201, created.text
    assert created.json()["registered_by"] == "admin:ops"
    grant = {"member_id": "chen", "minutes": 60, "reason": "困难补助", "source": "issuance"}
    moved = api.post("/books/gulou/grants", json=grant, headers=tokens("zhou", "admin"))
    assert moved.status_code == 201, moved.text
    transaction_id = moved.json()["transaction_id"]
    journal = api.get(f"/books/gulou/ledger/transactions/{transaction_id}", headers=admin)
    assert journal.json()["metadata"]["actor"] == "admin:zhou"
    line = api.get("/books/gulou/members/chen/passbook", headers=admin).json()["entries"][-1]
    assert line["delta_minutes"] == 60


def test_an_administrators_token_names_them_by_an_id(api: Any) -> None:
    """An administrator is named by an id (it is written into the books): a token naming them
    otherwise is not issued, and refused if presented."""
    with pytest.raises(ValueError, match="an administrator's names them by an id"):
        issue_token(SECRET, subject="ops@example.org", role="admin", book="*")
    crafted = jwt_auth(SECRET, timedelta(hours=1)).create_token(
        identifier="ops@example.org", token_extras={"role": "admin", "book": "*"}
    )
    refused = api.get("/books/gulou/members", headers={"Authorization": f"Bearer {crafted}"})
    assert refused.status_code == 401
