"""Reports over HTTP: each as JSON, CSV (UTF-8 with a BOM) and XLSX; and statement downloads."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.api.conftest import Tokens
from tests.api.test_exchange import BOOK, H, add_offers, move, ok, order, seed, serve
from tests.columns import code_of, keyed
from timebank.bank.reports import PROCESSED_MEANS
from timebank.ledger import ManualClock

BOM = b"\xef\xbb\xbf"
REPORTS: list[tuple[str, dict[str, Any], str]] = [
    ("orders", {"first_month": "2026-11"}, "processing_rate_percent"),
    ("volunteer-board", {"month": "2026-11"}, "credited_minutes"),
    ("wish-adoption", {}, "adoption_rate_percent"),
    ("supply-demand-gap", {"week": "2026-11-02"}, "gap_minutes"),
    ("liability-forecast", {"years": 5}, "cumulative_gap_minutes"),
    ("inactive-members", {"days": 90}, "days_inactive"),
]


def a_month_of_service(api: Any, coordinator: H, admin: H, tokens: Tokens) -> None:
    """Zhang serves Chen (rated 5 by her proxy); Zhao's wish is adopted by Liu."""
    seed(api, coordinator, admin)
    add_offers(api, coordinator, tokens)
    order(
        api,
        coordinator,
        recipient_id="chen",
        category="meals",
        estimated_minutes=60,
        order_id="o-1",
    )
    serve(api, coordinator, tokens, "o-1", "zhang")
    ok(move(api, "o-1", "rate", tokens("li"), {"rating": 5}))
    body = {"resident_id": "zhao", "title": "想要一副老花镜", "wish_id": "w-1"}
    ok(api.post(f"{BOOK}/wishes", json=body, headers=coordinator), 201)
    adopt = {"adopter": "liu"}
    ok(api.post(f"{BOOK}/wishes/w-1/adopt", json=adopt, headers=tokens("liu")))


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(BOM)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def attachment(response: Any, suffix: str) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith(f'.{suffix}"')
    return disposition


def test_the_order_report_gives_processing_and_satisfaction_rates(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """One order requested, completed and rated 5: 100% processed and satisfied."""
    a_month_of_service(api, coordinator, admin, tokens)
    report = ok(api.get(f"{BOOK}/reports/orders?first_month=2026-11", headers=coordinator))
    total = report["total"]
    assert (total["requested"], total["processed"], total["credited_minutes"]) == (1, 1, 50)
    assert total["processing_rate"]["percent"] == "100.00"
    assert total["satisfaction_rate"]["percent"] == "100.00"
    assert [s["category"] for s in report["by_category"]] == ["meals"]
    rows = csv_rows(api.get(f"{BOOK}/reports/orders.csv?first_month=2026-11", headers=coordinator))
    header = keyed(rows[0])
    assert header[:4] == ["level", "month", "category", "grid"]
    levels = [code_of("level", r[0]) for r in rows[1:]]
    assert levels == ["total", "month", "category", "grid", "line"]
    assert rows[1][header.index("processing_rate_percent")] == "100.00"
    sheet = xlsx_rows(api.get(f"{BOOK}/reports/orders.xlsx?first_month=2026-11", headers=admin))
    assert sheet[0] == rows[0]
    assert len(sheet) == len(rows)


def test_the_volunteer_board_and_wish_adoption(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Zhang tops November's board; one wish of one is adopted."""
    a_month_of_service(api, coordinator, admin, tokens)
    board = ok(api.get(f"{BOOK}/reports/volunteer-board?month=2026-11", headers=coordinator))
    assert [(v["name"], v["orders"], v["credited_minutes"]) for v in board] == [("张伟", 1, 50)]
    rows = csv_rows(
        api.get(f"{BOOK}/reports/volunteer-board.csv?month=2026-11", headers=coordinator)
    )
    assert rows[1][keyed(rows[0]).index("name")] == "张伟"
    adoption = ok(api.get(f"{BOOK}/reports/wish-adoption", headers=coordinator))
    assert (adoption["community"], adoption["adopted"], adoption["posted"]) == ("ninghai", 1, 1)
    assert adoption["adoption_rate"]["percent"] == "100.00"
    sheet = xlsx_rows(api.get(f"{BOOK}/reports/wish-adoption.xlsx", headers=coordinator))
    assert sheet[1][keyed(sheet[0]).index("adopted")] == 1


def test_the_gap_the_forecast_and_inactive_members(
    api: Any, coordinator: H, admin: H, tokens: Tokens, clock: ManualClock
) -> None:
    """Supply against demand for a week; banked minutes by cohort; who has gone quiet."""
    a_month_of_service(api, coordinator, admin, tokens)
    gap = ok(api.get(f"{BOOK}/reports/supply-demand-gap?week=2026-11-02", headers=coordinator))
    meals = next(g for g in gap if (g["category"], g["grid"]) == ("meals", "g1"))
    # Zhang's 300 minutes a week, of companionship and meals, with no need of either open:
    # shared equally between them, not counted twice.
    assert meals["supply_minutes"] == 150
    assert sum(g["supply_minutes"] for g in gap if g["grid"] == "g1") == 300
    forecast = ok(api.get(f"{BOOK}/reports/liability-forecast?years=5", headers=coordinator))
    assert forecast["total_minutes"] == 50
    assert len(forecast["years"]) == 5
    rows = csv_rows(api.get(f"{BOOK}/reports/liability-forecast.csv?years=5", headers=coordinator))
    assert [code_of("section", rows[1][0]), *rows[1][1:4]] == ["total", "", "", "50"]
    assert [code_of("section", r[0]) for r in rows[1:]].count("year") == 5
    assert ok(api.get(f"{BOOK}/reports/inactive-members", headers=coordinator)) == []
    empty = csv_rows(api.get(f"{BOOK}/reports/inactive-members.csv", headers=coordinator))
    assert [keyed(row) for row in empty] == [
        ["member_id", "name", "community", "last_active_at", "days_inactive"]
    ]
    clock.advance(timedelta(days=100))
    idle = ok(api.get(f"{BOOK}/reports/inactive-members?days=90", headers=coordinator))
    assert "sun" not in {m["member_id"] for m in idle}
    assert "sun" in {
        m["member_id"] for m in ok(api.get(f"{BOOK}/reports/inactive-members", headers=admin))
    }
    sheet = xlsx_rows(api.get(f"{BOOK}/reports/inactive-members.xlsx", headers=coordinator))
    assert len(sheet) == len(idle) + 1


def test_every_report_downloads_as_csv_and_xlsx(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Each report: JSON, a CSV that starts with the BOM and has a header, and an XLSX."""
    a_month_of_service(api, coordinator, admin, tokens)
    for name, params, column in REPORTS:
        ok(api.get(f"{BOOK}/reports/{name}", params=params, headers=coordinator))
        as_csv = api.get(f"{BOOK}/reports/{name}.csv", params=params, headers=coordinator)
        assert column in keyed(csv_rows(as_csv)[0]), name
        attachment(as_csv, "csv")
        as_xlsx = api.get(f"{BOOK}/reports/{name}.xlsx", params=params, headers=coordinator)
        assert column in keyed(xlsx_rows(as_xlsx)[0]), name
        assert f"gulou-{name}" in attachment(as_xlsx, "xlsx")


def test_a_members_statement_downloads_for_those_who_may_see_it(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """Zhang's passbook has his credit; Li (Chen's proxy, not his) cannot have it."""
    a_month_of_service(api, coordinator, admin, tokens)
    rows = csv_rows(api.get(f"{BOOK}/members/zhang/passbook.csv", headers=tokens("zhang")))
    header = keyed(rows[0])
    assert header[:3] == ["sequence", "recorded_at", "account_id"]
    [line] = rows[1:]
    category = code_of("category", line[header.index("category")])
    assert (category, line[header.index("credited_minutes")]) == ("meals", "50")
    sheet = xlsx_rows(api.get(f"{BOOK}/members/zhang/passbook.xlsx", headers=coordinator))
    assert sheet[0] == rows[0]
    assert len(sheet) == 2
    chen = csv_rows(api.get(f"{BOOK}/members/chen/passbook.csv", headers=tokens("li")))
    assert chen[0] == rows[0]
    for headers in (tokens("li"), tokens("qian", "coordinator")):
        for suffix in ("csv", "xlsx"):
            hidden = api.get(f"{BOOK}/members/zhang/passbook.{suffix}", headers=headers)
            missing = api.get(f"{BOOK}/members/ghost/passbook.{suffix}", headers=headers)
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json()["code"] == missing.json()["code"]
    other_book = api.get(
        "/books/other/members/zhang/passbook.csv", headers=tokens("zhang", book="other")
    )
    assert other_book.status_code == 404


def test_reports_are_for_staff_of_the_book(
    api: Any, coordinator: H, admin: H, tokens: Tokens, clock: ManualClock
) -> None:
    """Members are refused; another community's coordinator sees only their own people."""
    a_month_of_service(api, coordinator, admin, tokens)
    other = tokens("qian", "coordinator")
    for name, params, _ in REPORTS:
        for suffix in ("", ".csv", ".xlsx"):
            path = f"{BOOK}/reports/{name}{suffix}"
            refused = api.get(path, params=params, headers=tokens("zhang"))
            assert refused.status_code == 403, path
            assert refused.headers["content-type"].startswith("application/problem+json")
            elsewhere = api.get(
                "/books/other" + path[len(BOOK) :], params=params, headers=coordinator
            )
            assert elsewhere.status_code == 404
            assert api.get(path, params=params).status_code == 401
    assert ok(api.get(f"{BOOK}/reports/volunteer-board?month=2026-11", headers=other)) == []
    theirs = ok(api.get(f"{BOOK}/reports/wish-adoption", headers=other))
    assert (theirs["community"], theirs["posted"]) == ("dongshan", 0)
    ninghai = api.get(f"{BOOK}/reports/wish-adoption?community=ninghai", headers=other)
    assert ninghai.status_code == 403
    clock.advance(timedelta(days=100))
    idle = ok(api.get(f"{BOOK}/reports/inactive-members", headers=other))
    assert [m["member_id"] for m in idle] == ["qian", "sun"]


def test_bad_report_parameters_are_problems_not_500(api: Any, coordinator: H) -> None:
    """A malformed month, week or count is refused before or by the desk."""
    for path, status in (
        ("/reports/orders?first_month=November", 400),
        ("/reports/orders", 400),
        ("/reports/orders?first_month=2026-13", 422),
        ("/reports/orders.csv?first_month=2026-11&last_month=2025-01", 422),
        ("/reports/volunteer-board?month=2026-11&limit=0", 400),
        ("/reports/supply-demand-gap?week=monday", 400),
        ("/reports/liability-forecast.xlsx?years=99", 400),
        ("/reports/inactive-members?days=-1", 400),
    ):
        response = api.get(BOOK + path, headers=coordinator)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


def test_the_order_report_says_what_processed_means(
    api: Any, coordinator: H, admin: H, tokens: Tokens
) -> None:
    """The JSON carries the definitions; the workbook notes them on the column headings."""
    a_month_of_service(api, coordinator, admin, tokens)
    report = ok(api.get(f"{BOOK}/reports/orders?first_month=2026-11", headers=coordinator))
    assert report["definitions"]["processed"] == PROCESSED_MEANS
    english = {**coordinator, "Accept-Language": "en"}
    response = api.get(f"{BOOK}/reports/orders.xlsx?first_month=2026-11", headers=english)
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    headings = sheet[1]
    notes = dict(zip(keyed([cell.value for cell in headings]), headings, strict=True))
    assert notes["processed"].comment.text == PROCESSED_MEANS
    assert "expired" in notes["processing_rate_percent"].comment.text
    assert notes["level"].comment is None
