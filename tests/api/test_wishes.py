"""Micro-wishes (微心愿) and care files (一人一档) over HTTP, with the cast of ``test_exchange``."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Tokens
from tests.api.test_exchange import BOOK, H, balance, ok, seed


def wish(api: Any, wish_id: str, action: str, headers: H, body: Any = None) -> Any:
    return api.post(f"{BOOK}/wishes/{wish_id}/{action}", json=body, headers=headers)


def post_wish(api: Any, headers: H, resident_id: str, wish_id: str, title: str) -> Any:
    body = {"resident_id": resident_id, "title": title, "wish_id": wish_id}
    return ok(api.post(f"{BOOK}/wishes", json=body, headers=headers), 201)


def test_a_wish_is_posted_adopted_fulfilled_and_confirmed_with_a_credit(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Liu adopts Zhao's wish from the wall, fulfils it, and the centre credits him 30 minutes."""
    seed(api, coordinator, admin)
    liu = tokens("liu")
    posted = post_wish(api, tokens("zhao"), "zhao", "w-1", "想要一副老花镜")
    assert (posted["status"], posted["community"]) == ("posted", "ninghai")
    wall = ok(api.get(f"{BOOK}/wishes", headers=liu))
    assert [w["wish_id"] for w in wall] == ["w-1"]
    ok(wish(api, "w-1", "adopt", liu, {"adopter": "liu"}))
    ok(wish(api, "w-1", "fulfil", liu))
    refused = wish(api, "w-1", "confirm", tokens("zhao"), {"credit_minutes": 30})
    assert refused.status_code == 403
    confirmed = ok(wish(api, "w-1", "confirm", coordinator, {"credit_minutes": 30}))
    assert (confirmed["status"], confirmed["credit_minutes"]) == ("confirmed", 30)
    assert [s["status"] for s in confirmed["history"]] == [
        "posted",
        "adopted",
        "fulfilled",
        "confirmed",
    ]
    assert balance(api, "liu", liu)["own_minutes"] == 30
    assert ok(api.get(f"{BOOK}/wishes/w-1", headers=liu))["adopter"] == "liu"


def test_an_organisation_adopts_and_a_resident_withdraws(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Only a coordinator adopts for a partner organisation; the resident's side withdraws."""
    seed(api, coordinator, admin)
    li = tokens("li")
    post_wish(api, li, "chen", "w-2", "修好收音机")
    organisation = {"adopter": "org:鼓楼供电所"}
    assert wish(api, "w-2", "adopt", tokens("zhang"), organisation).status_code == 403
    adopted = ok(wish(api, "w-2", "adopt", coordinator, organisation))
    assert adopted["adopter"] == "org:鼓楼供电所"
    withdrawn = ok(wish(api, "w-2", "withdraw", li))
    assert withdrawn["status"] == "withdrawn"
    again = wish(api, "w-2", "withdraw", li)
    assert again.status_code == 409
    assert again.json()["code"] == "wish_transition_not_allowed"
    listed = ok(api.get(f"{BOOK}/wishes", params={"community": "ninghai"}, headers=coordinator))
    assert [w["status"] for w in listed] == ["withdrawn"]


def test_care_files_count_visits_and_list_who_is_due(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Chen is to be visited twice a month; after Zhang's one visit she is one short."""
    seed(api, coordinator, admin)
    zhang = tokens("zhang")
    body = {"visits_per_month": 2, "needs": "独居, 行动不便"}
    refused = api.post(f"{BOOK}/members/chen/care-file", json=body, headers=tokens("li"))
    assert refused.status_code == 403
    opened = ok(api.post(f"{BOOK}/members/chen/care-file", json=body, headers=coordinator), 201)
    assert opened["visits_per_month"] == 2
    assert (
        ok(api.get(f"{BOOK}/members/chen/care-file", headers=tokens("li")))["needs"]
        == body["needs"]
    )
    visit = {"visitor_id": "zhang", "visited_at": "2026-11-02T08:30:00+08:00", "note": "聊天"}
    recorded = ok(api.post(f"{BOOK}/members/chen/visits", json=visit, headers=zhang), 201)
    assert recorded["visitor_id"] == "zhang"
    visits = ok(api.get(f"{BOOK}/members/chen/visits", headers=coordinator))
    assert [v["visit_id"] for v in visits] == [recorded["visit_id"]]
    [due] = ok(api.get(f"{BOOK}/visits-due", headers=coordinator))
    assert (due["member_id"], due["visits_this_month"], due["missing"]) == ("chen", 1, 1)
    later = ok(api.get(f"{BOOK}/visits-due", params={"on": "2026-12-15"}, headers=admin))
    assert [(d["member_id"], d["missing"]) for d in later] == [("chen", 2)]
    closed = ok(api.post(f"{BOOK}/members/chen/care-file/close", headers=coordinator))
    assert closed["closed_at"] is not None
    assert ok(api.get(f"{BOOK}/visits-due", headers=coordinator)) == []
    late = api.post(f"{BOOK}/members/chen/visits", json=visit, headers=zhang)
    assert late.status_code == 404
    assert late.json()["code"] == "care_file_not_found"


def test_callers_without_the_right_learn_nothing(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Wishes and care files are hidden from strangers exactly as missing ones are."""
    seed(api, coordinator, admin)
    post_wish(api, tokens("zhao"), "zhao", "w-1", "想要一副老花镜")
    ok(wish(api, "w-1", "adopt", tokens("liu"), {"adopter": "liu"}))
    post_wish(api, tokens("zhao"), "zhao", "w-2", "一盏台灯")
    ok(
        api.post(
            f"{BOOK}/members/chen/care-file", json={"visits_per_month": 2}, headers=coordinator
        ),
        201,
    )
    other = tokens("qian", "coordinator")
    hidden = [
        ("/wishes/w-1", tokens("zhang")),  # adopted: off the wall
        ("/wishes/w-2", tokens("sun")),  # another community's wall
        ("/wishes/w-2", other),
        ("/members/chen/care-file", tokens("zhang")),
        ("/members/chen/visits", tokens("zhang")),
        ("/members/chen/care-file", other),
    ]
    for path, headers in hidden:
        found = api.get(BOOK + path, headers=headers)
        ghost = api.get(
            BOOK + path.replace("w-", "ghost-").replace("chen", "ghost"), headers=headers
        )
        assert found.status_code == ghost.status_code == 404, path
        assert found.json()["code"] == ghost.json()["code"]
        assert (
            api.get("/books/other" + path, headers=tokens("chen", book="other")).status_code == 404
        )
    assert ok(api.get(f"{BOOK}/wishes", headers=tokens("sun"))) == []
    assert ok(api.get(f"{BOOK}/wishes", params={"community": "ninghai"}, headers=other)) == []
    assert [w["wish_id"] for w in ok(api.get(f"{BOOK}/wishes", headers=tokens("zhang")))] == ["w-2"]
    assert wish(api, "w-1", "fulfil", tokens("zhang")).status_code == 404
    assert wish(api, "w-2", "adopt", tokens("sun"), {"adopter": "sun"}).status_code == 404
    # zhang sees the wish on her wall, but adopts only for herself (or whom she acts for).
    assert wish(api, "w-2", "adopt", tokens("zhang"), {"adopter": "liu"}).status_code == 403
    assert wish(api, "w-2", "adopt", tokens("zhang"), {"adopter": "ghost"}).status_code == 403
    visit = {"visitor_id": "liu", "visited_at": "2026-11-02T08:30:00+08:00"}
    assert (
        api.post(f"{BOOK}/members/chen/visits", json=visit, headers=tokens("zhang")).status_code
        == 404
    )
    assert api.post(f"{BOOK}/members/chen/visits", json=visit, headers=other).status_code == 404
    assert api.get(f"{BOOK}/visits-due", headers=tokens("zhang")).status_code == 403
    assert ok(api.get(f"{BOOK}/visits-due", headers=other)) == []
    assert api.get(f"{BOOK}/visits-due").status_code == 401


def test_an_idempotency_key_replays_an_adoption(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """A retried adoption answers as the first did, and adopts once."""
    seed(api, coordinator, admin)
    post_wish(api, tokens("zhao"), "zhao", "w-1", "想要一副老花镜")
    keyed = {**tokens("liu"), "Idempotency-Key": "adopt-w-1"}
    first = wish(api, "w-1", "adopt", keyed, {"adopter": "liu"})
    again = wish(api, "w-1", "adopt", keyed, {"adopter": "liu"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert len(ok(api.get(f"{BOOK}/wishes/w-1", headers=coordinator))["history"]) == 2


def test_malformed_bodies_are_422_problems(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Wrong types, unknown fields and missing fields never reach the desk."""
    seed(api, coordinator, admin)
    post_wish(api, coordinator, "zhao", "w-1", "想要一副老花镜")
    for path, body in (
        ("/wishes", {"resident_id": "zhao"}),
        ("/wishes", {"resident_id": "zhao", "title": "x", "urgent": True}),
        ("/wishes/w-1/adopt", {}),
        ("/wishes/w-1/adopt", {"adopter": ["liu"]}),
        ("/wishes/w-1/confirm", {"credit_minutes": -5}),
        ("/members/chen/care-file", {"visits_per_month": "two"}),
        ("/members/chen/visits", {"visitor_id": "zhang", "visited_at": "yesterday"}),
    ):
        response = api.post(BOOK + path, json=body, headers=coordinator)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "request_body_invalid"
    bad_day = api.get(f"{BOOK}/visits-due", params={"on": "soon"}, headers=coordinator)
    assert bad_day.status_code == 400
    too_many = api.post(
        f"{BOOK}/members/chen/care-file", json={"visits_per_month": 99}, headers=coordinator
    )
    assert too_many.status_code == 422
