"""Minutes over HTTP: credits, redemptions, gifts, grants, events, expiry, death; who sees what.

The cast (Nanjing's rules, community ``ninghai``): the coordinator Wang, the
younger senior Zhang who volunteers, the 88-year-old Chen who is served, her
daughter Li (a volunteer too, and Chen's proxy) and Zhao, a stranger to them
all. Sun coordinates another community, ``xinjiekou``, where Liu volunteers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.conftest import Tokens
from timebank.ledger import ManualClock

SERVED_AT = "2026-11-01T10:00:00+08:00"
People = dict[str, dict[str, str]]


def register(api: Any, headers: dict[str, str], member_id: str, **fields: Any) -> None:
    body = {
        "member_id": member_id,
        "name": fields.pop("name", "李娜"),
        "birth_date": fields.pop("birth_date", "1961-05-01"),
        "community": fields.pop("community", "ninghai"),
        "roles": fields.pop("roles", ["volunteer", "recipient"]),
        "vetting": fields.pop("vetting", "street"),
        **fields,
    }
    created = api.post("/books/gulou/members", json=body, headers=headers)
    assert created.status_code == 201, created.text


@pytest.fixture
def people(api: Any, coordinator: dict[str, str], admin: dict[str, str], tokens: Tokens) -> People:
    """Everyone registered over HTTP, with Li as Chen's proxy and Chen as Li's parent."""
    register(api, coordinator, "zhang", name="张伟")
    register(api, coordinator, "chen", name="陈秀英", birth_date="1938-03-01", roles=["recipient"])
    register(api, coordinator, "li", name="李娜", birth_date="1964-06-01")
    register(api, coordinator, "zhao", name="赵建国", birth_date="1950-01-01")
    elsewhere = {"community": "xinjiekou", "birth_date": "1980-01-01"}
    register(api, admin, "sun", name="孙丽", roles=["coordinator"], **elsewhere)
    register(api, admin, "liu", name="刘强", **elsewhere)
    proxy = api.post(
        "/books/gulou/members/chen/proxies", json={"proxy_id": "li"}, headers=coordinator
    )
    assert proxy.status_code == 201, proxy.text
    related = api.post(
        "/books/gulou/members/li/relations",
        json={"other_id": "chen", "kind": "parent"},
        headers=coordinator,
    )
    assert related.status_code == 201, related.text
    return {
        "wang": coordinator,
        "admin": admin,
        "zhang": tokens("zhang"),
        "chen": tokens("chen"),
        "li": tokens("li"),
        "zhao": tokens("zhao"),
        "sun": tokens("sun", "coordinator"),
        "liu": tokens("liu"),
        "elsewhere": tokens("zhang", book="xihu"),
    }


def service(provider: str, recipient: str, raw_minutes: int = 90, **fields: Any) -> dict[str, Any]:
    return {
        "provider_id": provider,
        "recipient_id": recipient,
        "category": "companionship",
        "raw_minutes": raw_minutes,
        "served_at": SERVED_AT,
        "provenance": "paper_record",
        **fields,
    }


def balance(api: Any, who: dict[str, str], member_id: str) -> dict[str, int]:
    found = api.get(f"/books/gulou/members/{member_id}/balance", headers=who)
    assert found.status_code == 200, found.text
    result: dict[str, int] = found.json()
    return result


def credit(api: Any, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    made = api.post("/books/gulou/credits", json=body, headers=who)
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def earned(api: Any, people: People, member_id: str, raw_minutes: int) -> None:
    """The centre confirms a service ``member_id`` gave Zhao: posted at once."""
    body = service(member_id, "zhao", raw_minutes, provenance="organisation_confirmation")
    assert credit(api, people["wang"], body)["status"] == "posted"


def same_problem(first: Any, second: Any) -> None:
    assert first.status_code == second.status_code == 404
    assert first.json()["type"] == second.json()["type"]


# --- credits ------------------------------------------------------------------------------------


def test_a_coordinator_credits_a_volunteer_and_the_recipients_proxy_confirms(
    api: Any, people: People
) -> None:
    made = credit(api, people["wang"], service("zhang", "chen", credit_id="visit-1"))
    assert (made["status"], made["credited_minutes"]) == ("pending", 90)
    assert balance(api, people["zhang"], "zhang")["incoming_minutes"] == 90
    seen = api.get("/books/gulou/credits/visit-1", headers=people["li"])
    assert seen.status_code == 200
    confirmed = api.post("/books/gulou/credits/visit-1/confirm", headers=people["li"])
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["confirmation"]) == (
        "posted",
        "recipient_confirmation",
    )
    assert balance(api, people["zhang"], "zhang")["own_minutes"] == 90
    again = api.post("/books/gulou/credits/visit-1/confirm", headers=people["li"])
    assert again.status_code == 409
    assert balance(api, people["zhang"], "zhang")["own_minutes"] == 90


def test_credits_awaiting_confirmation_are_listed_for_those_who_may_see_them(
    api: Any, people: People
) -> None:
    credit(api, people["wang"], service("zhang", "chen", credit_id="visit-1"))
    earned(api, people, "zhang", 60)

    def listed(who: str, query: str = "status=pending") -> list[str]:
        page = api.get(f"/books/gulou/credits?{query}", headers=people[who])
        assert page.status_code == 200, page.text
        return [c["credit_id"] for c in page.json()["items"]]

    assert listed("wang") == ["visit-1"]
    assert listed("li") == ["visit-1"]  # Chen's proxy
    assert listed("zhang", "provider_id=zhang") == sorted(listed("wang", "provider_id=zhang"))
    assert len(listed("wang", "provider_id=zhang")) == 2
    assert listed("sun") == []  # a coordinator of another community
    assert listed("liu") == []  # a stranger
    api.post("/books/gulou/credits/visit-1/confirm", headers=people["li"])
    assert listed("wang") == []
    bad = api.get("/books/gulou/credits?status=nonsense", headers=people["wang"])
    assert bad.status_code == 400


def test_a_disputed_credit_moves_nothing(api: Any, people: People) -> None:
    credit(api, people["wang"], service("zhang", "chen", credit_id="visit-1"))
    disputed = api.post(
        "/books/gulou/credits/visit-1/dispute",
        json={"reason": "she was in hospital that day"},
        headers=people["li"],
    )
    assert disputed.status_code == 200, disputed.text
    assert disputed.json()["status"] == "disputed"
    assert balance(api, people["zhang"], "zhang") == {
        "member_id": "zhang",
        "own_minutes": 0,
        "gifted_minutes": 0,
        "group_minutes": 0,
        "held_minutes": 0,
        "incoming_minutes": 0,
    }


def test_a_wrong_credit_is_corrected_by_reversal_not_by_editing(api: Any, people: People) -> None:
    earned(api, people, "zhang", 120)
    made = credit(
        api, people["wang"], service("zhang", "chen", 600, provenance="organisation_confirmation")
    )
    assert balance(api, people["zhang"], "zhang")["own_minutes"] == 720
    refused = api.post(
        f"/books/gulou/credits/{made['credit_id']}/reverse",
        json={"reason": "x"},
        headers=people["li"],
    )
    assert refused.status_code == 403
    path = f"/books/gulou/credits/{made['credit_id']}/reverse"
    keyed = {**people["wang"], "Idempotency-Key": "fix-typo"}
    reversed_ = api.post(path, json={"reason": "typed 600 for 60"}, headers=keyed)
    replayed = api.post(path, json={"reason": "typed 600 for 60"}, headers=keyed)
    assert reversed_.status_code == replayed.status_code == 200, reversed_.text
    assert replayed.content == reversed_.content
    assert reversed_.json()["status"] == "reversed"
    assert reversed_.json()["reversal_transaction_id"]
    assert balance(api, people["zhang"], "zhang")["own_minutes"] == 120
    assert api.get("/books/gulou/verify", headers=people["wang"]).json()["ok"] is True


def test_strangers_and_other_communities_learn_nothing_of_a_credit(
    api: Any, people: People
) -> None:
    credit(api, people["wang"], service("zhang", "chen", credit_id="visit-1"))
    asks = (
        ("GET", "", None),
        ("POST", "/confirm", None),
        ("POST", "/dispute", {"reason": "no"}),
        ("POST", "/reverse", {"reason": "no"}),
    )
    for who in ("zhao", "sun", "liu", "elsewhere"):
        headers = people[who]
        for method, suffix, body in asks:
            same_problem(
                api.request(
                    method, f"/books/gulou/credits/visit-1{suffix}", json=body, headers=headers
                ),
                api.request(
                    method, f"/books/gulou/credits/ghost{suffix}", json=body, headers=headers
                ),
            )
        same_problem(
            api.post("/books/gulou/credits", json=service("zhang", "chen"), headers=headers),
            api.post("/books/gulou/credits", json=service("ghost", "nobody"), headers=headers),
        )
    found = api.get("/books/gulou/credits/visit-1", headers=people["wang"]).json()
    assert found["status"] == "pending"
    assert balance(api, people["zhang"], "zhang")["incoming_minutes"] == 90


def test_a_coordinator_stays_inside_their_communities(api: Any, people: People) -> None:
    across = api.post("/books/gulou/credits", json=service("liu", "chen"), headers=people["wang"])
    assert across.status_code == 404
    assert across.json()["code"] == "member_not_found"
    own = api.post(
        "/books/gulou/credits",
        json=service("liu", "zhao", provenance="organisation_confirmation"),
        headers=people["admin"],
    )
    assert own.status_code == 201, own.text
    reverse = api.post(
        f"/books/gulou/credits/{own.json()['credit_id']}/reverse",
        json={"reason": "x"},
        headers=people["wang"],
    )
    assert reverse.status_code == 403  # wang sees zhao's side, but liu is not his to correct
    seen_by_sun = api.get(f"/books/gulou/credits/{own.json()['credit_id']}", headers=people["sun"])
    assert seen_by_sun.json()["provider_id"] == "liu"


def test_an_idempotency_key_credits_once_and_refuses_another_body(api: Any, people: People) -> None:
    keyed = {**people["wang"], "Idempotency-Key": "sheet-2026-11-01-row-3"}
    first = api.post("/books/gulou/credits", json=service("zhang", "chen"), headers=keyed)
    again = api.post("/books/gulou/credits", json=service("zhang", "chen"), headers=keyed)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert balance(api, people["zhang"], "zhang")["incoming_minutes"] == 90
    other = api.post("/books/gulou/credits", json=service("zhang", "chen", 60), headers=keyed)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    confirm = {**people["li"], "Idempotency-Key": "confirm-1"}
    path = f"/books/gulou/credits/{first.json()['credit_id']}/confirm"
    confirmed = api.post(path, headers=confirm)
    replayed = api.post(path, headers=confirm)
    assert (confirmed.status_code, replayed.status_code) == (200, 200)
    assert replayed.content == confirmed.content
    assert balance(api, people["zhang"], "zhang")["own_minutes"] == 90


def test_malformed_credit_requests_are_problems(api: Any, people: People) -> None:
    """JSON of the wrong shape or types is a 422 naming the field; no JSON at all is a 400."""
    bodies: list[Any] = [
        {**service("zhang", "chen"), "raw_minutes": "ninety"},
        {**service("zhang", "chen"), "raw_minutes": 1.5},
        {**service("zhang", "chen"), "provenance": "hearsay"},
        {**service("zhang", "chen"), "served_at": "yesterday"},
        {**service("zhang", "chen"), "minutes": 90},
        {"provider_id": "zhang"},
        ["zhang", "chen"],
        None,
    ]
    for body in bodies:
        sent = api.post("/books/gulou/credits", json=body, headers=people["wang"])
        assert sent.status_code == (400 if body is None else 422), (body, sent.text)
        assert sent.headers["content-type"].startswith("application/problem+json")
    raw = api.post(
        "/books/gulou/credits",
        content=b"{not json",
        headers={**people["wang"], "Content-Type": "application/json"},
    )
    assert raw.status_code == 400
    naive = api.post(
        "/books/gulou/credits",
        json=service("zhang", "chen", served_at="2026-11-01T10:00:00"),
        headers=people["wang"],
    )
    assert naive.status_code == 422
    credit(api, people["wang"], service("zhang", "chen", credit_id="visit-1"))
    for suffix in ("/dispute", "/reverse"):
        for body in ({}, {"reason": 3}, {"reason": "x", "more": 1}):
            sent = api.post(
                f"/books/gulou/credits/visit-1{suffix}", json=body, headers=people["wang"]
            )
            assert sent.status_code == 422, sent.text


# --- redemptions ---------------------------------------------------------------------------------


def test_a_senior_redeems_through_her_proxy_and_pays_only_what_was_spent(
    api: Any, people: People
) -> None:
    earned(api, people, "li", 120)
    gift = api.post(
        "/books/gulou/gifts",
        json={"giver_id": "li", "receiver_id": "chen", "minutes": 60},
        headers=people["li"],
    )
    assert gift.status_code == 201, gift.text
    booked = api.post(
        "/books/gulou/redemptions",
        json={
            "saver_id": "chen",
            "minutes": 60,
            "provider_id": "zhang",
            "category": "daily_care",
            "redemption_id": "bath-1",
        },
        headers=people["li"],
    )
    assert booked.status_code == 201, booked.text
    assert (booked.json()["status"], booked.json()["on_behalf_of"]) == ("booked", "chen")
    assert balance(api, people["li"], "chen")["held_minutes"] == 60
    assert api.get("/books/gulou/redemptions/bath-1", headers=people["zhang"]).status_code == 200
    done = api.post(
        "/books/gulou/redemptions/bath-1/complete", json={"spent_minutes": 45}, headers=people["li"]
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["spent_minutes"]) == ("done", 45)
    chen = balance(api, people["li"], "chen")
    assert (chen["gifted_minutes"], chen["held_minutes"]) == (15, 0)
    assert balance(api, people["zhang"], "zhang")["own_minutes"] == 45


def test_a_cancelled_redemption_releases_the_minutes(api: Any, people: People) -> None:
    granted = api.post(
        "/books/gulou/grants",
        json={"member_id": "chen", "minutes": 120, "reason": "lives alone", "source": "issuance"},
        headers=people["wang"],
    )
    assert granted.status_code == 201, granted.text
    booked = api.post(
        "/books/gulou/redemptions",
        json={
            "saver_id": "chen",
            "minutes": 60,
            "provider_id": "zhang",
            "redemption_id": "r1",
            "category": "daily_care",
        },
        headers=people["li"],
    )
    assert booked.status_code == 201, booked.text
    keyed = {**people["li"], "Idempotency-Key": "cancel-r1"}
    cancelled = api.post("/books/gulou/redemptions/r1/cancel", headers=keyed)
    replayed = api.post("/books/gulou/redemptions/r1/cancel", headers=keyed)
    assert cancelled.status_code == replayed.status_code == 200
    assert replayed.content == cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    chen = balance(api, people["li"], "chen")
    assert (chen["gifted_minutes"], chen["held_minutes"]) == (120, 0)


def test_strangers_learn_nothing_of_a_redemption(api: Any, people: People) -> None:
    api.post(
        "/books/gulou/grants",
        json={"member_id": "chen", "minutes": 120, "reason": "lives alone", "source": "issuance"},
        headers=people["wang"],
    )
    body = {
        "saver_id": "chen",
        "minutes": 60,
        "provider_id": "zhang",
        "redemption_id": "r1",
        "category": "daily_care",
    }
    assert api.post("/books/gulou/redemptions", json=body, headers=people["li"]).status_code == 201
    for who in ("zhao", "sun", "liu", "elsewhere"):
        headers = people[who]
        same_problem(
            api.get("/books/gulou/redemptions/r1", headers=headers),
            api.get("/books/gulou/redemptions/ghost", headers=headers),
        )
        for suffix, payload in (("/complete", {"spent_minutes": 60}), ("/cancel", None)):
            same_problem(
                api.post(f"/books/gulou/redemptions/r1{suffix}", json=payload, headers=headers),
                api.post(f"/books/gulou/redemptions/ghost{suffix}", json=payload, headers=headers),
            )
        booked = api.post(
            "/books/gulou/redemptions", json={**body, "redemption_id": "r2"}, headers=headers
        )
        assert booked.status_code == 404
    assert api.get("/books/gulou/redemptions/r1", headers=people["li"]).json()["status"] == "booked"
    assert balance(api, people["li"], "chen")["held_minutes"] == 60
    over = api.post(
        "/books/gulou/redemptions/r1/complete", json={"spent_minutes": "all"}, headers=people["li"]
    )
    assert over.status_code == 422


# --- gifts, donations, grants ---------------------------------------------------------------------


def test_a_daughter_gives_minutes_to_her_mother_once_per_idempotency_key(
    api: Any, people: People
) -> None:
    earned(api, people, "li", 120)
    keyed = {**people["li"], "Idempotency-Key": "gift-to-mum"}
    body = {"giver_id": "li", "receiver_id": "chen", "minutes": 60}
    first = api.post("/books/gulou/gifts", json=body, headers=keyed)
    again = api.post("/books/gulou/gifts", json=body, headers=keyed)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert first.json()["transaction_id"].startswith("gift.")
    assert balance(api, people["li"], "chen")["gifted_minutes"] == 60
    assert balance(api, people["li"], "li")["own_minutes"] == 60
    other = api.post("/books/gulou/gifts", json={**body, "minutes": 30}, headers=keyed)
    assert other.status_code == 409
    assert balance(api, people["li"], "chen")["gifted_minutes"] == 60
    stranger = api.post(
        "/books/gulou/gifts", json={**body, "receiver_id": "zhao"}, headers=people["li"]
    )
    assert stranger.status_code == 409, stranger.text
    assert stranger.json()["code"] == "gift_not_allowed"


def test_gifts_donations_and_grants_refuse_callers_who_cannot_see_the_member(
    api: Any, people: People
) -> None:
    earned(api, people, "li", 120)
    gift = {"giver_id": "li", "receiver_id": "chen", "minutes": 60}
    donation = {"member_id": "li", "minutes": 30}
    grant = {"member_id": "li", "minutes": 30, "reason": "x", "source": "issuance"}
    for who in ("zhao", "sun", "liu", "elsewhere"):
        for path, body in (("/gifts", gift), ("/donations", donation), ("/grants", grant)):
            refused = api.post(f"/books/gulou{path}", json=body, headers=people[who])
            assert refused.status_code == 404, (who, path, refused.text)
    # chen may not see li (li is her proxy, not the other way round): li is not there for her.
    assert api.post("/books/gulou/gifts", json=gift, headers=people["chen"]).status_code == 404
    assert api.post("/books/gulou/grants", json=grant, headers=people["li"]).status_code == 403
    assert balance(api, people["li"], "li")["own_minutes"] == 120
    for path, body in (("/gifts", gift), ("/donations", donation), ("/grants", grant)):
        for broken in ({**body, "minutes": "an hour"}, {**body, "surprise": True}, {}):
            assert api.post(
                f"/books/gulou{path}", json=broken, headers=people["wang"]
            ).status_code == (422)


def test_a_coordinator_grants_minutes_from_a_fund_to_those_it_covers(
    api: Any, people: People
) -> None:
    keyed = {**people["wang"], "Idempotency-Key": "grant-chen-nov"}
    body = {"member_id": "chen", "minutes": 120, "reason": "lives alone", "source": "issuance"}
    first = api.post("/books/gulou/grants", json=body, headers=keyed)
    again = api.post("/books/gulou/grants", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert balance(api, people["li"], "chen")["gifted_minutes"] == 120
    assert api.post(
        "/books/gulou/grants", json={**body, "minutes": 1}, headers=keyed
    ).status_code == (409)
    guarantee = api.post(
        "/books/gulou/grants", json={**body, "source": "guarantee"}, headers=people["wang"]
    )
    assert guarantee.status_code == 409
    assert guarantee.json()["code"] == "recipient_not_eligible"


def test_group_minutes_from_an_event_can_only_be_donated(api: Any, people: People) -> None:
    event = api.post(
        "/books/gulou/events",
        json={
            "title": "重阳节敬老活动",
            "category": "community",
            "held_at": SERVED_AT,
            "event_id": "double-ninth",
        },
        headers=people["wang"],
    )
    assert event.status_code == 201, event.text
    assert event.json()["payer_account"] == "issuance"
    keyed = {**people["wang"], "Idempotency-Key": "double-ninth-batch-1"}
    attendance = {"attendees": {"zhang": 120, "li": 90}}
    path = "/books/gulou/events/double-ninth/credits"
    credited = api.post(path, json=attendance, headers=keyed)
    replayed = api.post(path, json=attendance, headers=keyed)
    assert credited.status_code == replayed.status_code == 201, credited.text
    assert replayed.content == credited.content
    assert sorted(c["provider_id"] for c in credited.json()) == ["li", "zhang"]
    assert balance(api, people["zhang"], "zhang")["group_minutes"] == 120
    listed = api.get(path, headers=people["wang"])
    assert sorted(c["credited_minutes"] for c in listed.json()) == [90, 120]
    assert api.get(path, headers=people["sun"]).json() == []
    assert api.get(path, headers=people["zhang"]).status_code == 403
    donated = api.post(
        "/books/gulou/donations",
        json={"member_id": "zhang", "minutes": 120, "group": True},
        headers=people["zhang"],
    )
    assert donated.status_code == 201, donated.text
    assert balance(api, people["zhang"], "zhang")["group_minutes"] == 0
    pool = api.get("/books/gulou/programme-accounts/pool/balance", headers=people["wang"])
    assert pool.json()["posted_minutes"] == 120


def test_events_refuse_attendees_and_callers_out_of_reach(api: Any, people: People) -> None:
    event = {"title": "义诊", "category": "health", "held_at": SERVED_AT, "event_id": "clinic"}
    assert api.post("/books/gulou/events", json=event, headers=people["zhang"]).status_code == 403
    assert api.post("/books/gulou/events", json=event, headers=people["wang"]).status_code == 201
    path = "/books/gulou/events/clinic/credits"
    across = api.post(path, json={"attendees": {"zhang": 60, "liu": 60}}, headers=people["wang"])
    assert across.status_code == 404
    assert across.json()["code"] == "member_not_found"
    assert api.post(path, json={"attendees": {"liu": 60}}, headers=people["sun"]).status_code == 201
    for who, status in (("zhao", 403), ("elsewhere", 404)):  # a member; another book's token
        sent = api.post(path, json={"attendees": {"zhang": 60}}, headers=people[who])
        assert sent.status_code == status
    missing = api.post(
        "/books/gulou/events/ghost/credits",
        json={"attendees": {"zhang": 60}},
        headers=people["wang"],
    )
    assert missing.json()["code"] == "event_not_found"
    assert api.get("/books/gulou/events/ghost/credits", headers=people["wang"]).status_code == 404
    too_many = {"attendees": {f"m{i}": 60 for i in range(301)}}
    for broken in (too_many, {"attendees": ["zhang"]}, {"attendees": {"zhang": "1h"}}, {}):
        assert api.post(path, json=broken, headers=people["wang"]).status_code == 422
    assert api.post(path, json={"attendees": {}}, headers=people["wang"]).status_code == 422
    for broken in ({**event, "held_at": "soon"}, {**event, "group": "yes"}, {"title": "x"}):
        assert api.post("/books/gulou/events", json=broken, headers=people["wang"]).status_code == (
            422
        )
    assert balance(api, people["zhang"], "zhang")["group_minutes"] == 0


# --- expiry and death ----------------------------------------------------------------------------


def test_old_minutes_expire_into_the_pool_when_the_policy_says_so(
    api: Any, people: People, clock: ManualClock
) -> None:
    earned(api, people, "zhang", 120)
    rules = api.get("/books/gulou/policy", headers=people["wang"]).json()["rules"]
    draft = api.post(
        "/books/gulou/policies", json={**rules, "expiry_days": 30}, headers=people["admin"]
    )
    assert draft.status_code == 201, draft.text
    api.post(f"/books/gulou/policies/{draft.json()['version']}/activate", headers=people["admin"])
    clock.advance(timedelta(days=31))
    assert api.post("/books/gulou/expiry", json={}, headers=people["wang"]).status_code == 403
    keyed = {**people["admin"], "Idempotency-Key": "expiry-2026-12"}
    expired = api.post("/books/gulou/expiry", json={}, headers=keyed)
    replayed = api.post("/books/gulou/expiry", json={}, headers=keyed)
    assert expired.status_code == replayed.status_code == 200, expired.text
    assert replayed.content == expired.content
    assert expired.json()["expired_minutes"] == {"zhang": 120}
    assert balance(api, people["zhang"], "zhang")["own_minutes"] == 0
    pool = api.get("/books/gulou/programme-accounts/pool/balance", headers=people["wang"])
    assert pool.json()["posted_minutes"] == 120
    assert api.post("/books/gulou/expiry", json={"limit": "all"}, headers=keyed).status_code == 422


def test_a_death_is_recorded_by_a_coordinator_who_can_see_the_member(
    api: Any, people: People
) -> None:
    body = {"died_on": "2026-10-30", "heirs": ["li"]}
    for who in ("zhao", "sun", "elsewhere"):
        same_problem(
            api.post("/books/gulou/members/chen/death", json=body, headers=people[who]),
            api.post("/books/gulou/members/ghost/death", json=body, headers=people[who]),
        )
    assert api.post(
        "/books/gulou/members/chen/death", json=body, headers=people["li"]
    ).status_code == (403)
    for broken in ({"died_on": "last week"}, {**body, "heirs": "li"}, {**body, "x": 1}):
        sent = api.post("/books/gulou/members/chen/death", json=broken, headers=people["wang"])
        assert sent.status_code == 422
    recorded = api.post("/books/gulou/members/chen/death", json=body, headers=people["wang"])
    assert recorded.status_code == 200, recorded.text
    assert recorded.json() == {"transaction_id": None}
    assert api.get("/books/gulou/members/chen", headers=people["wang"]).json()["status"] == (
        "deceased"
    )
    again = api.post("/books/gulou/members/chen/death", json=body, headers=people["wang"])
    assert again.status_code == 409
