"""Report and statement downloads over HTTP are safe to open in a spreadsheet.

Members named like formulas come back from the ``.csv`` and ``.xlsx`` downloads
with a leading ``'`` (text in XLSX, never a formula), and numbers, negative
minutes included, stay numbers. The writers themselves, and ``timebank export``,
are checked in ``tests/test_exports.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.columns import keyed
from tests.test_exports import PRINTABLE_FORMULAS, names_in, read_csv, read_xlsx, register_formulas
from timebank.bank import ISSUANCE, SYSTEM
from timebank.bank.commands import Donate, Grant
from timebank.ledger import ManualClock


def test_the_report_downloads_neutralise_member_names(
    api: Any, admin: dict[str, str], clock: ManualClock
) -> None:
    register_formulas(api.bank)
    clock.advance(timedelta(days=40))
    path = "/books/gulou/reports/inactive-members"
    csv_file = api.get(f"{path}.csv?days=30", headers=admin)
    assert csv_file.status_code == 200, csv_file.text
    header, *rows = read_csv(csv_file.content)
    assert names_in(rows, header) >= {"'" + name for name in PRINTABLE_FORMULAS}
    days = keyed(header).index("days_inactive")
    assert {row[days] for row in rows} == {"40"}

    xlsx_file = api.get(f"{path}.xlsx?days=30", headers=admin)
    assert xlsx_file.status_code == 200, xlsx_file.text
    first, *cells = read_xlsx(xlsx_file.content)
    header = [cell.value for cell in first]
    values = [[cell.value for cell in row] for row in cells]
    assert names_in(values, header) >= {"'" + name for name in PRINTABLE_FORMULAS}
    column = keyed(header).index("name")
    assert all(row[column].data_type == "s" for row in cells)
    assert {row[keyed(header).index("days_inactive")].data_type for row in cells} == {"n"}


def test_a_statement_download_keeps_negative_minutes_as_numbers(
    api: Any, admin: dict[str, str]
) -> None:
    register_formulas(api.bank)
    book = api.bank.book("gulou")
    book.gifts.grant(
        Grant(member_id="m1", minutes=60, reason="=1+1", source=ISSUANCE), actor=SYSTEM
    )
    book.gifts.donate(Donate(member_id="m1", minutes=30), actor=SYSTEM)
    xlsx_file = api.get("/books/gulou/members/m1/passbook.xlsx", headers=admin)
    assert xlsx_file.status_code == 200, xlsx_file.text
    first, *cells = read_xlsx(xlsx_file.content)
    delta = keyed([cell.value for cell in first]).index("delta_minutes")
    assert [(row[delta].value, row[delta].data_type) for row in cells] == [(60, "n"), (-30, "n")]
    csv_rows = read_csv(api.get("/books/gulou/members/m1/passbook.csv", headers=admin).content)
    delta = keyed(csv_rows[0]).index("delta_minutes")
    assert [row[delta] for row in csv_rows[1:]] == ["60", "-30"]
