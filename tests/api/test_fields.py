"""Field authorisation: on every route whose body names a person or an account, naming one the
caller may not name is refused, and the same call with a value of their own goes through.

Each case is a call the caller may make (``body``), then the same call with one field
changed to someone else's member, a programme account, or the caller themselves where it
would pay them. The changed call is refused (403: they may not set it; 404: the member is
not theirs to see) and leaves the book as it was; the unchanged call succeeds. The world is
``tests/api/world.py``'s.
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
from timebank.bank.commands import AddNeed

SECRET = "field-authorisation-" + "x" * 32
G = f"/books/{BOOK}"
SERVED = "2026-10-25T10:00:00+08:00"


@dataclass(frozen=True)
class Case:
    actor: str
    method: str
    path: str
    body: dict[str, Any]
    changes: tuple[tuple[str, Any, int], ...]
    """(field, someone else's value, the status it gets)."""


def credit(provenance: str, **fields: Any) -> dict[str, Any]:
    return {
        "provider_id": "li",
        "recipient_id": "chen",
        "category": "companionship",
        "raw_minutes": 60,
        "served_at": SERVED,
        "provenance": provenance,
        **fields,
    }


CASES = {
    "a volunteer's check-in: only her own service, paid as the policy says": Case(
        "li",
        "POST",
        G + "/credits",
        credit("check_in_out"),
        (
            ("provider_id", "zhao", 404),
            ("payer", "issuance", 403),
            ("payer", "sponsor.acme", 403),
            ("payer", "guarantee", 403),
        ),
    ),
    "a recipient confirms only what she received": Case(
        "chen",
        "POST",
        G + "/credits",
        credit("recipient_confirmation"),
        (("recipient_id", "zhao", 404), ("payer", "pool", 403)),
    ),
    "a proxy confirms for her mother, never a service that pays herself": Case(
        "mei",
        "POST",
        G + "/credits",
        credit("recipient_confirmation"),
        (("provider_id", "mei", 403),),
    ),
    "the centre confirms for the organisation, never its own service": Case(
        "wang",
        "POST",
        G + "/credits",
        credit("organisation_confirmation"),
        (("provider_id", "wang", 403), ("provider_id", "sun", 404)),
    ),
    "a saver books with her own minutes": Case(
        "chen",
        "POST",
        G + "/redemptions",
        {"saver_id": "chen", "minutes": 30, "provider_id": "li", "category": "companionship"},
        (("saver_id", "zhao", 404),),
    ),
    "a proxy books for her mother, never paying herself": Case(
        "mei",
        "POST",
        G + "/redemptions",
        {"saver_id": "chen", "minutes": 30, "provider_id": "li", "category": "companionship"},
        (("provider_id", "mei", 403),),
    ),
    "a coordinator books with a provider of her communities": Case(
        "wang",
        "POST",
        G + "/redemptions",
        {"saver_id": "chen", "minutes": 30, "provider_id": "li", "category": "companionship"},
        (("provider_id", "sun", 404),),
    ),
    "a member gives her own minutes": Case(
        "chen",
        "POST",
        G + "/gifts",
        {"giver_id": "chen", "receiver_id": "son", "minutes": 30},
        (("giver_id", "zhao", 404),),
    ),
    "a proxy gives her mother's minutes, never to herself": Case(
        "mei",
        "POST",
        G + "/gifts",
        {"giver_id": "chen", "receiver_id": "son", "minutes": 30},
        (("receiver_id", "mei", 403),),
    ),
    "a member donates her own minutes": Case(
        "chen",
        "POST",
        G + "/donations",
        {"member_id": "chen", "minutes": 30},
        (("member_id", "zhao", 404),),
    ),
    "a coordinator grants to members of her communities, never to herself": Case(
        "wang",
        "POST",
        G + "/grants",
        {"member_id": "chen", "minutes": 30, "reason": "heating", "source": "guarantee"},
        (("member_id", "wang", 403), ("member_id", "sun", 404)),
    ),
    "the guarantee fund pays only for those it covers": Case(
        "wang",
        "POST",
        G + "/grants",
        {"member_id": "chen", "minutes": 30, "reason": "heating", "source": "guarantee"},
        (("member_id", "zhao", 409),),  # zhao is 66 and not living alone
    ),
    "a volunteer offers her own time": Case(
        "li",
        "POST",
        G + "/offers",
        {
            "volunteer_id": "li",
            "categories": ["meals"],
            "windows": [{"weekday": 0, "start_minute": 540, "end_minute": 600}],
            "capacity_minutes_per_week": 60,
        },
        (("volunteer_id", "zhao", 404),),
    ),
    "a member's need is paid as the policy says, or from her own purses": Case(
        "chen",
        "POST",
        G + "/needs",
        {
            "recipient_id": "chen",
            "category": "meals",
            "estimated_minutes": 30,
            "once_at": "2026-11-05T11:00:00+08:00",
            "payer": "gifted",
        },
        (("recipient_id", "zhao", 404), ("payer", "issuance", 403)),
    ),
    "a member orders for herself, paid as the policy says": Case(
        "chen",
        "POST",
        G + "/orders",
        {"recipient_id": "chen", "category": "meals", "estimated_minutes": 30},
        (
            ("recipient_id", "zhao", 404),
            ("payer", "sponsor.acme", 403),
            ("need_id", "need-elsewhere", 404),
        ),
    ),
    "the coordinator orders on the guarantee fund only for those it covers": Case(
        "wang",
        "POST",
        G + "/orders",
        {
            "recipient_id": "chen",
            "category": "meals",
            "estimated_minutes": 30,
            "payer": "guarantee",
        },
        (("recipient_id", "zhao", 409),),
    ),
    "a volunteer claims a published order for herself": Case(
        "li",
        "POST",
        G + "/orders/o-pub/accept",
        {"volunteer_id": "li"},
        (("volunteer_id", "zhao", 403),),
    ),
    "a coordinator dispatches a volunteer of her communities": Case(
        "wang",
        "POST",
        G + "/orders/o-req/dispatch",
        {"volunteer_id": "li"},
        (("volunteer_id", "sun", 404),),
    ),
    "a member posts her own wishes": Case(
        "chen",
        "POST",
        G + "/wishes",
        {"resident_id": "chen", "title": "老花镜"},
        (("resident_id", "zhao", 404),),
    ),
    "a member adopts a wish for herself": Case(
        "li",
        "POST",
        G + "/wishes/w-posted/adopt",
        {"adopter": "li"},
        (("adopter", "zhao", 403), ("adopter", "org:红十字会", 403)),
    ),
    "a visitor records her own visits": Case(
        "li",
        "POST",
        G + "/members/chen/visits",
        {"visitor_id": "li", "visited_at": SERVED},
        (("visitor_id", "zhao", 404),),
    ),
    "a member appoints her own proxy; her proxy appoints none": Case(
        "chen",
        "POST",
        G + "/members/chen/proxies",
        {"proxy_id": "li"},
        (),
    ),
    "a coordinator relates members of her communities": Case(
        "wang",
        "POST",
        G + "/members/chen/relations",
        {"other_id": "zhao", "kind": "friend"},
        (("other_id", "sun", 404),),
    ),
    "a coordinator names heirs of her communities": Case(
        "wang",
        "POST",
        G + "/members/wu/death",
        {"died_on": "2026-10-28", "heirs": []},
        (("heirs", ["sun"], 404),),
    ),
    "a coordinator credits attendees of her communities, never herself": Case(
        "wang",
        "POST",
        G + "/events/ev/credits",
        {"attendees": {"li": 60}},
        (("attendees", {"sun": 60}, 404), ("attendees", {"li": 60, "wang": 60}, 403)),
    ),
    "a coordinator registers members of her community, never coordinators": Case(
        "wang",
        "POST",
        G + "/members",
        {"name": "何建军", "birth_date": "1961-10-01", "community": "ninghai", "member_id": "he"},
        (
            ("community", "dongshan", 403),
            ("roles", ["coordinator"], 403),
            ("roles", ["admin"], 403),
            ("coordinates", ["dongshan"], 403),
        ),
    ),
    "a coordinator changes her members, never their staff roles": Case(
        "wang",
        "PATCH",
        G + "/members/chen",
        {"grid": "g2"},
        (("roles", ["admin"], 403), ("coordinates", ["dongshan"], 403)),
    ),
}
REFUSED_ELSEWHERE = {
    # A proxy appoints nobody and revokes nobody else; the member herself may do both.
    ("mei", "POST", G + "/members/chen/proxies", (("proxy_id", "li"),)): 403,
    ("mei", "DELETE", G + "/members/chen/proxies/sus", ()): 403,
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    app = create_app(TimeBank(), ApiSettings(token_secret=SECRET, rate_limit_per_minute=0))
    with TestClient(app) as test_client:
        yield test_client


def send(client: TestClient[Any], bank: TimeBank, case: Case, body: Any, actor: str) -> Any:
    client.app.state.bank = bank
    token = issue_token(SECRET, subject=actor, role="member", book=BOOK)
    return client.request(
        case.method, case.path, json=body, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_naming_someone_elses_is_refused_and_ones_own_goes_through(
    client: TestClient[Any], name: str
) -> None:
    case = CASES[name]
    bank = build()
    bank.book(BOOK).supply.add_need(
        AddNeed(
            recipient_id="zhao",
            category="meals",
            estimated_minutes=30,
            once_at=bank.clock.now(),
            need_id="need-elsewhere",
        ),
        actor="system",
    )
    before = book_state(bank.book(BOOK))
    for field, value, status in case.changes:
        refused = send(client, bank, case, {**case.body, field: value}, case.actor)
        assert refused.status_code == status, (name, field, value, refused.text)
        assert book_state(bank.book(BOOK)) == before, (name, field, "changed the book")
    allowed = send(client, bank, case, case.body, case.actor)
    assert 200 <= allowed.status_code < 300, (name, allowed.text)


@pytest.mark.parametrize(("key", "status"), list(REFUSED_ELSEWHERE.items()))
def test_a_proxy_neither_appoints_nor_revokes_another(
    client: TestClient[Any], key: tuple[str, str, str, tuple[tuple[str, str], ...]], status: int
) -> None:
    actor, method, path, fields = key
    bank = build()
    before = book_state(bank.book(BOOK))
    case = Case(actor, method, path, {}, ())
    response = send(client, bank, case, dict(fields) or None, actor)
    assert response.status_code == status, response.text
    assert book_state(bank.book(BOOK)) == before
