"""Old helping old over HTTP: offers, needs, orders from 点单 to 销号, deadlines, matching.

Gulou's coordinator Wang (community ``ninghai``) registers volunteers Zhang
(65, grid g1) and Liu (63, grid g2), seniors Chen (88, g1, offline: her
daughter-in-law Li is her proxy) and Zhao (85, g2), and, through an admin,
Sun, who lives in another community.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.conftest import Tokens
from timebank.ledger import ManualClock

H = dict[str, str]
BOOK = "/books/gulou"
MORNINGS = [{"weekday": d, "start_minute": 540, "end_minute": 720} for d in range(5)]
DAYS = [{"weekday": d, "start_minute": 480, "end_minute": 1080} for d in range(7)]
PEOPLE: list[dict[str, Any]] = [
    {"member_id": "zhang", "name": "张伟", "birth_date": "1961-05-01", "grid": "g1"},
    {"member_id": "liu", "name": "刘洋", "birth_date": "1963-08-09", "grid": "g2"},
    {"member_id": "chen", "name": "陈秀英", "birth_date": "1938-03-01", "grid": "g1"},
    {"member_id": "zhao", "name": "赵建国", "birth_date": "1941-07-07", "grid": "g2"},
    {"member_id": "li", "name": "李娜", "birth_date": "1970-01-01", "grid": "g1"},
]
VOLUNTEERS = {"zhang", "liu"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def seed(api: Any, coordinator: H, admin: H) -> None:
    """Register the cast, make Li Chen's proxy, and Sun in the ``dongshan`` community."""
    for person in PEOPLE:
        volunteer = person["member_id"] in VOLUNTEERS
        body = {
            **person,
            "community": "ninghai",
            "roles": ["volunteer", "recipient"] if volunteer else ["recipient"],
            "vetting": "street",
        }
        ok(api.post(f"{BOOK}/members", json=body, headers=coordinator), 201)
    ok(api.post(f"{BOOK}/members/chen/proxies", json={"proxy_id": "li"}, headers=coordinator), 201)
    sun = {
        "member_id": "sun",
        "name": "孙丽",
        "birth_date": "1960-02-02",
        "community": "dongshan",
        "roles": ["volunteer", "recipient"],
        "vetting": "street",
    }
    ok(api.post(f"{BOOK}/members", json=sun, headers=admin), 201)


def add_offers(api: Any, coordinator: H, tokens: Tokens) -> None:
    zhang = {
        "volunteer_id": "zhang",
        "categories": ["companionship", "meals"],
        "windows": MORNINGS,
        "capacity_minutes_per_week": 300,
        "ends_on": "2026-11-12",
        "offer_id": "zhang-1",
    }
    ok(api.post(f"{BOOK}/offers", json=zhang, headers=tokens("zhang")), 201)
    liu = {
        "volunteer_id": "liu",
        "categories": ["companionship", "repairs"],
        "windows": DAYS,
        "capacity_minutes_per_week": 600,
        "offer_id": "liu-1",
    }
    ok(api.post(f"{BOOK}/offers", json=liu, headers=coordinator), 201)


def order(api: Any, headers: H, **body: Any) -> Any:
    return ok(api.post(f"{BOOK}/orders", json=body, headers=headers), 201)


def move(api: Any, order_id: str, action: str, headers: H, body: Any = None) -> Any:
    return api.post(f"{BOOK}/orders/{order_id}/{action}", json=body, headers=headers)


def serve(api: Any, coordinator: H, tokens: Tokens, order_id: str, volunteer: str) -> Any:
    """Dispatch, accept, start, complete (50 minutes) and confirm (by the coordinator)."""
    ok(move(api, order_id, "dispatch", coordinator, {"volunteer_id": volunteer}))
    mine = tokens(volunteer)
    ok(move(api, order_id, "accept", mine, {"volunteer_id": volunteer}))
    ok(move(api, order_id, "start", mine))
    ok(move(api, order_id, "complete", mine, {"actual_minutes": 50}))
    return ok(move(api, order_id, "confirm", coordinator))


def balance(api: Any, member_id: str, headers: H) -> Any:
    return ok(api.get(f"{BOOK}/members/{member_id}/balance", headers=headers))


def test_an_order_runs_from_request_to_close_out_with_a_proxy_for_an_offline_senior(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """点单 by a proxy → 派单 → 接单 → 办结 → the proxy confirms and rates → 销号."""
    seed(api, coordinator, admin)
    add_offers(api, coordinator, tokens)
    li, zhang = tokens("li"), tokens("zhang")
    need = {
        "recipient_id": "chen",
        "category": "meals",
        "estimated_minutes": 60,
        "windows": [{"weekday": 0, "start_minute": 600, "end_minute": 720}],
        "urgency": "high",
        "need_id": "chen-meals",
    }
    created = ok(api.post(f"{BOOK}/needs", json=need, headers=li), 201)
    assert (created["grid"], created["on_behalf_of"]) == ("g1", "chen")
    placed = order(api, li, need_id="chen-meals", scheduled_at="2026-11-02T10:30:00+08:00")
    assert (placed["status"], placed["reserved_minutes"]) == ("requested", 60)
    order_id = placed["order_id"]

    dispatched = ok(move(api, order_id, "dispatch", coordinator, {"volunteer_id": "zhang"}))
    assert dispatched["dispatched_to"] == "zhang"
    ok(move(api, order_id, "accept", zhang, {"volunteer_id": "zhang"}))
    assert balance(api, "zhang", zhang)["incoming_minutes"] == 60
    ok(move(api, order_id, "start", zhang))
    ok(move(api, order_id, "complete", zhang, {"actual_minutes": 50}))
    confirmed = ok(move(api, order_id, "confirm", li))
    assert (confirmed["status"], confirmed["credited_minutes"]) == ("confirmed", 50)
    assert balance(api, "zhang", zhang)["own_minutes"] == 50
    assert balance(api, "chen", li)["held_minutes"] == 0

    bad = move(api, order_id, "rate", li, {"rating": 6})
    assert bad.status_code == 422
    assert bad.json()["code"] == "rating_out_of_range"
    ok(move(api, order_id, "rate", li, {"rating": 5, "comment": "准时, 很耐心"}))
    closed = ok(move(api, order_id, "close", coordinator, {"follow_up": "回访: 老人满意"}))
    assert closed["status"] == "closed"
    assert [(s["action"], s["actor"], s.get("on_behalf_of")) for s in closed["history"]] == [
        ("request", "li", "chen"),
        ("dispatch", "wang", None),
        ("accept", "zhang", None),
        ("start", "zhang", None),
        ("complete", "zhang", None),
        ("confirm", "li", "chen"),
        ("rate", "li", "chen"),
        ("close", "wang", None),
    ]
    again = move(api, order_id, "start", zhang)
    assert again.status_code == 409
    assert again.json()["code"] == "order_transition_not_allowed"
    for who in ("chen", "li", "zhang"):
        assert ok(api.get(f"{BOOK}/orders/{order_id}", headers=tokens(who)))["status"] == "closed"
    listed = ok(api.get(f"{BOOK}/orders", params={"status": "closed"}, headers=li))
    assert [o["order_id"] for o in listed["items"]] == [order_id]


def test_a_declined_order_goes_back_and_a_published_one_is_claimed(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """A volunteer declines a dispatch; the order is published and anyone nearby claims it."""
    seed(api, coordinator, admin)
    order(
        api,
        coordinator,
        recipient_id="zhao",
        category="repairs",
        estimated_minutes=90,
        order_id="o-2",
    )
    ok(move(api, "o-2", "dispatch", coordinator, {"volunteer_id": "zhang"}))
    declined = ok(move(api, "o-2", "decline", tokens("zhang"), {"reason": "不会修水管"}))
    assert (declined["status"], declined["dispatched_to"]) == ("requested", None)
    assert api.get(f"{BOOK}/orders/o-2", headers=tokens("liu")).status_code == 404
    ok(move(api, "o-2", "publish", coordinator))
    waiting = ok(api.get(f"{BOOK}/orders", params={"status": "published"}, headers=tokens("liu")))
    assert [o["order_id"] for o in waiting["items"]] == ["o-2"]
    elsewhere = api.get(f"{BOOK}/orders", params={"status": "published"}, headers=tokens("sun"))
    assert ok(elsewhere)["items"] == []
    claimed = ok(move(api, "o-2", "accept", tokens("liu"), {"volunteer_id": "liu"}))
    assert (claimed["status"], claimed["volunteer_id"]) == ("accepted", "liu")


def test_cancelling_an_accepted_order_voids_the_hold(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Zhang banks 50 minutes, orders help paid from them, then cancels: nothing is spent."""
    seed(api, coordinator, admin)
    order(
        api,
        coordinator,
        recipient_id="chen",
        category="meals",
        estimated_minutes=60,
        order_id="earn",
    )
    serve(api, coordinator, tokens, "earn", "zhang")
    zhang = tokens("zhang")
    assert balance(api, "zhang", zhang)["own_minutes"] == 50
    order(
        api,
        zhang,
        recipient_id="zhang",
        category="companionship",
        estimated_minutes=30,
        payer="recipient",
        order_id="o-3",
    )
    ok(move(api, "o-3", "dispatch", coordinator, {"volunteer_id": "liu"}))
    ok(move(api, "o-3", "accept", tokens("liu"), {"volunteer_id": "liu"}))
    assert balance(api, "zhang", zhang)["held_minutes"] == 30
    cancelled = ok(move(api, "o-3", "cancel", zhang, {"reason": "家人来访"}))
    assert cancelled["status"] == "cancelled"
    after = balance(api, "zhang", zhang)
    assert (after["held_minutes"], after["own_minutes"]) == (0, 50)
    assert balance(api, "liu", tokens("liu"))["incoming_minutes"] == 0


def test_deadlines_escalate_orders_and_the_outbox_carries_the_messages(
    api: Any, coordinator: H, admin: H, tokens: Tokens, clock: ManualClock
) -> None:
    """A day without acceptance goes up the chain; the relay reads and acknowledges."""
    seed(api, coordinator, admin)
    add_offers(api, coordinator, tokens)
    order(
        api,
        tokens("li"),
        recipient_id="chen",
        category="meals",
        estimated_minutes=30,
        order_id="o-4",
    )
    # The deadlines and the outbox span every community: the programme's, not a coordinator's.
    for who in (tokens("li"), coordinator):
        for path in ("/deadlines/run", "/outbox/ack"):
            refused = api.post(BOOK + path, json={"seqs": []}, headers=who)
            assert refused.status_code == 403, refused.text
        assert api.get(f"{BOOK}/outbox", headers=who).status_code == 403
    elsewhere = tokens("wang", "coordinator", book="other")
    assert api.post("/books/other/deadlines/run", headers=elsewhere).status_code == 404
    assert api.get("/books/other/outbox", headers=elsewhere).status_code == 404
    assert api.get(f"{BOOK}/outbox", headers=elsewhere).status_code == 404
    clock.advance(timedelta(days=1, hours=1))
    run = ok(api.post(f"{BOOK}/deadlines/run", headers=admin))
    assert run["escalated"] == ["o-4"]
    assert run["reminded"] == ["zhang-1"]
    assert ok(api.get(f"{BOOK}/orders/o-4", headers=coordinator))["escalation_level"] == 1

    first = ok(api.get(f"{BOOK}/outbox", params={"limit": 1}, headers=admin))
    assert len(first["items"]) == 1
    assert first["next"] is not None
    rest = ok(api.get(f"{BOOK}/outbox", params={"after": first["next"]}, headers=admin))
    messages = first["items"] + rest["items"]
    topics = {(m["topic"], m["key"]) for m in messages}
    assert {("order.escalated", "o-4"), ("offer.lapsing", "zhang")} <= topics
    seqs = [m["seq"] for m in messages]
    acked = ok(api.post(f"{BOOK}/outbox/ack", json={"seqs": seqs}, headers=admin))
    assert acked == {"acknowledged": len(seqs)}
    assert ok(api.get(f"{BOOK}/outbox", headers=admin))["items"] == []


def test_suggestions_rank_volunteers_and_the_week_is_matched(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Zhang lives in Chen's grid, so he is suggested first; only staff may ask."""
    seed(api, coordinator, admin)
    add_offers(api, coordinator, tokens)
    order(
        api,
        tokens("li"),
        recipient_id="chen",
        category="companionship",
        estimated_minutes=60,
        scheduled_at="2026-11-04T10:00:00+08:00",
        order_id="o-5",
    )
    ranked = ok(api.get(f"{BOOK}/orders/o-5/suggestions", headers=coordinator))
    assert [r["member_id"] for r in ranked] == ["zhang", "liu"]
    assert sum(p["points"] for p in ranked[0]["parts"]) == ranked[0]["score"]
    top = ok(api.get(f"{BOOK}/orders/o-5/suggestions?limit=1", headers=coordinator))
    assert [r["member_id"] for r in top] == ["zhang"]
    week = ok(api.get(f"{BOOK}/matching/week", params={"day": "2026-11-04"}, headers=coordinator))
    assert week["assignments"]["o-5"] in {"zhang", "liu"}

    assert api.get(f"{BOOK}/orders/o-5/suggestions", headers=tokens("li")).status_code == 403
    week_of = {"day": "2026-11-04"}
    assert api.get(f"{BOOK}/matching/week", params=week_of, headers=tokens("li")).status_code == 403
    foreign = tokens("wang", "coordinator", book="other")
    assert api.get(f"{BOOK}/matching/week", params=week_of, headers=foreign).status_code == 404
    assert api.get(f"{BOOK}/orders/o-5/suggestions", headers=foreign).status_code == 404
    other = tokens("qian", "coordinator")
    assert api.get(f"{BOOK}/orders/o-5/suggestions", headers=other).status_code == 404
    theirs = ok(api.get(f"{BOOK}/matching/week", params={"day": "2026-11-04"}, headers=other))
    assert theirs == {"assignments": {}, "unmatched": []}


def test_offers_and_needs_are_changed_closed_and_paged(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """An offer is extended for good and withdrawn; a need is closed; pages follow a cursor."""
    seed(api, coordinator, admin)
    add_offers(api, coordinator, tokens)
    zhang = tokens("zhang")
    changed = api.patch(
        f"{BOOK}/offers/zhang-1",
        json={"never_expires": True, "capacity_minutes_per_week": 240},
        headers=zhang,
    )
    assert (ok(changed)["ends_on"], ok(changed)["capacity_minutes_per_week"]) == (None, 240)
    withdrawn = ok(api.post(f"{BOOK}/offers/zhang-1/withdraw", headers=zhang))
    assert withdrawn["withdrawn_at"] is not None
    assert ok(api.get(f"{BOOK}/offers/zhang-1", headers=zhang))["withdrawn_at"] is not None
    first = ok(api.get(f"{BOOK}/offers", params={"limit": 1}, headers=coordinator))
    second = ok(
        api.get(f"{BOOK}/offers", params={"limit": 1, "after": first["next"]}, headers=coordinator)
    )
    assert [o["offer_id"] for o in first["items"] + second["items"]] == ["liu-1", "zhang-1"]
    assert [o["offer_id"] for o in ok(api.get(f"{BOOK}/offers", headers=zhang))["items"]] == [
        "zhang-1"
    ]

    once = {
        "recipient_id": "zhao",
        "category": "repairs",
        "estimated_minutes": 45,
        "once_at": "2026-11-05T15:00:00+08:00",
        "need_id": "zhao-lamp",
    }
    ok(api.post(f"{BOOK}/needs", json=once, headers=tokens("zhao")), 201)
    closed = ok(api.post(f"{BOOK}/needs/zhao-lamp/close", headers=coordinator))
    assert closed["status"] == "closed"
    assert ok(api.get(f"{BOOK}/needs/zhao-lamp", headers=tokens("zhao")))["status"] == "closed"
    assert [n["need_id"] for n in ok(api.get(f"{BOOK}/needs", headers=coordinator))["items"]] == [
        "zhao-lamp"
    ]
    refused = api.post(f"{BOOK}/orders", json={"need_id": "zhao-lamp"}, headers=coordinator)
    assert refused.status_code == 409
    assert refused.json()["code"] == "need_not_open"


def test_callers_without_the_right_learn_nothing(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """A stranger, another community's coordinator and another book's token all see 404."""
    seed(api, coordinator, admin)
    add_offers(api, coordinator, tokens)
    need = {
        "recipient_id": "chen",
        "category": "meals",
        "estimated_minutes": 30,
        "once_at": "2026-11-03T11:00:00+08:00",
        "need_id": "n-1",
    }
    ok(api.post(f"{BOOK}/needs", json=need, headers=tokens("li")), 201)
    order(api, tokens("li"), need_id="n-1", order_id="o-1")
    strangers = [
        tokens("zhao"),
        tokens("sun"),
        tokens("qian", "coordinator"),
    ]
    for path, ghost in (
        ("/offers/zhang-1", "/offers/ghost"),
        ("/needs/n-1", "/needs/ghost"),
        ("/orders/o-1", "/orders/ghost"),
    ):
        for headers in strangers:
            hidden = api.get(BOOK + path, headers=headers)
            missing = api.get(BOOK + ghost, headers=headers)
            assert hidden.status_code == missing.status_code == 404, path
            assert hidden.json()["code"] == missing.json()["code"]
        assert api.get("/books/other" + path, headers=tokens("li", book="other")).status_code == 404
        assert api.get("/books/other" + path, headers=coordinator).status_code == 404
        assert api.get(BOOK + path).status_code == 401
    for headers in strangers:
        for listing in ("/offers", "/needs", "/orders"):
            assert ok(api.get(BOOK + listing, headers=headers))["items"] == []
    for action, body in (
        ("dispatch", {"volunteer_id": "zhang"}),
        ("cancel", {"reason": "x"}),
        ("publish", None),
    ):
        for headers in strangers:
            assert move(api, "o-1", action, headers, body).status_code == 404
    elsewhere = strangers[2]
    assert move(api, "o-1", "dispatch", coordinator, {"volunteer_id": "sun"}).status_code == 404
    taken = api.post(
        f"{BOOK}/offers",
        json={
            "volunteer_id": "zhang",
            "categories": ["meals"],
            "windows": MORNINGS,
            "capacity_minutes_per_week": 60,
        },
        headers=tokens("zhao"),
    )
    assert taken.status_code == 404
    placed = api.post(f"{BOOK}/orders", json={"need_id": "n-1"}, headers=elsewhere)
    assert placed.status_code == 404
    # The facade still decides who may act: Chen's volunteer may not confirm his own work.
    ok(move(api, "o-1", "dispatch", coordinator, {"volunteer_id": "zhang"}))
    assert move(api, "o-1", "publish", tokens("zhang")).status_code == 403
    assert ok(api.get(f"{BOOK}/orders/o-1", headers=tokens("chen")))["status"] == "dispatched"


def test_an_idempotency_key_replays_a_transition_with_the_identical_body(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """A retried accept does nothing twice and answers exactly as the first time."""
    seed(api, coordinator, admin)
    order(
        api,
        coordinator,
        recipient_id="zhao",
        category="repairs",
        estimated_minutes=60,
        order_id="o-1",
    )
    ok(move(api, "o-1", "dispatch", coordinator, {"volunteer_id": "liu"}))
    keyed = {**tokens("liu"), "Idempotency-Key": "accept-o-1"}
    first = move(api, "o-1", "accept", keyed, {"volunteer_id": "liu"})
    again = move(api, "o-1", "accept", keyed, {"volunteer_id": "liu"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    history = ok(api.get(f"{BOOK}/orders/o-1", headers=coordinator))["history"]
    assert [s["action"] for s in history] == ["request", "dispatch", "accept"]
    reused = move(api, "o-1", "start", keyed)
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
    deadline_key = {**coordinator, "Idempotency-Key": "run-1"}
    runs = [api.post(f"{BOOK}/deadlines/run", headers=deadline_key) for _ in range(2)]
    assert runs[0].content == runs[1].content


def test_malformed_requests_are_problems_never_500(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Unknown fields and impossible windows are 422; bodies that do not decode and bad query
    values are 400."""
    seed(api, coordinator, admin)
    order(
        api,
        coordinator,
        recipient_id="zhao",
        category="repairs",
        estimated_minutes=60,
        order_id="o-1",
    )
    base = {"volunteer_id": "zhang", "categories": ["meals"], "capacity_minutes_per_week": 60}
    bad_bodies: list[tuple[str, Any]] = [
        ("/offers", {**base, "windows": [{"weekday": 7, "start_minute": 0, "end_minute": 60}]}),
        ("/offers", {**base, "windows": [{"weekday": 1, "start_minute": 600, "end_minute": 60}]}),
        ("/offers", {**base, "windows": MORNINGS, "colour": "red"}),
        ("/offers", {**base, "windows": MORNINGS * 10}),
        ("/offers", {**base, "windows": "mornings"}),
        ("/needs", {"recipient_id": "zhao", "category": "meals"}),
        ("/needs", [1, 2, 3]),
        ("/orders", {"recipient_id": 5}),
        ("/orders/o-1/dispatch", {}),
        ("/orders/o-1/complete", {"actual_minutes": "fifty"}),
        ("/orders/o-1/rate", {"rating": 5, "stars": 5}),
        ("/outbox/ack", {"seqs": ["one"]}),
    ]
    for path, body in bad_bodies:
        response = api.post(BOOK + path, json=body, headers=coordinator)
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "request_body_invalid"
    raw = api.post(
        f"{BOOK}/orders",
        content=b"{not json",
        headers={**coordinator, "Content-Type": "application/json"},
    )
    assert raw.status_code == 400
    for path, params in (
        ("/orders", {"status": "lost"}),
        ("/orders", {"limit": 0}),
        ("/matching/week", {"day": "next tuesday"}),
        ("/matching/week", {}),
        ("/outbox", {"after": "x"}),
    ):
        response = api.get(BOOK + path, params=params, headers=coordinator)
        assert response.status_code == 400, (path, params, response.text)
    naive = {
        "recipient_id": "zhao",
        "category": "repairs",
        "estimated_minutes": 30,
        "scheduled_at": "2026-11-03T10:00:00",
    }
    assert api.post(f"{BOOK}/orders", json=naive, headers=coordinator).status_code == 422


def test_orders_filter_by_category_area_and_time(
    api: Any, coordinator: H, admin: H, clock: ManualClock
) -> None:
    """Filters combine with visibility; a time without a zone is refused, never guessed."""
    seed(api, coordinator, admin)
    order(
        api, coordinator, recipient_id="chen", category="meals", estimated_minutes=30, order_id="a"
    )
    clock.advance(timedelta(days=3))
    order(
        api,
        coordinator,
        recipient_id="chen",
        category="companionship",
        estimated_minutes=60,
        order_id="b",
    )

    def ids(query: str) -> list[str]:
        page = ok(api.get(f"{BOOK}/orders?{query}", headers=coordinator))
        return [o["order_id"] for o in page["items"]]

    assert ids("category=meals") == ["a"]
    assert ids("community=ninghai") == ["a", "b"]
    assert ids("community=elsewhere") == []
    since = (clock.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"requested_from={since}") == ["b"]
    assert ids(f"requested_until={since}") == ["a"]
    naive = api.get(f"{BOOK}/orders?requested_from=2026-11-01T00:00:00", headers=coordinator)
    assert naive.status_code == 422
    assert naive.json()["code"] == "timestamp_not_aware"
