"""The timebank command line on real SQLite files: demo, db, verify, token, openapi, import,
export, report and run-deadlines."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner
from litestar.security.jwt import Token

from timebank.bank import SYSTEM, TimeBank
from timebank.bank.commands import RegisterMember, UpdateMember
from timebank.cli import main
from timebank.community import Order, Role, Vetting
from timebank.demo import seed_demo
from timebank.ledger import Ledger, ManualClock, credit, debit
from timebank.store import open_store

ZONE = ZoneInfo("Asia/Shanghai")


def run(*args: str) -> tuple[int, str]:
    """The command in English (``--lang en``): the Chinese output has tests of its own."""
    result = CliRunner().invoke(main, ["--lang", "en", *args])
    return result.exit_code, result.output


def seeded(path: Path) -> None:
    with open_store(path) as store:
        book = Ledger(store, clock=ManualClock(datetime(2026, 11, 1, tzinfo=UTC))).create_book(
            "sunflower"
        )
        book.open_account("pool", balance_minutes_min=None)
        book.open_account("wang-fang")
        book.transfer("visit-1", [debit("pool", 60), credit("wang-fang", 60)])


def test_demo_prints_a_passbook_balances_and_a_verified_book() -> None:
    """The demo credits a visit, a gift, an event and an order, then verifies the book."""
    code, output = run("demo")
    assert code == 0, output
    assert "Service    +90     90  issuance" in output
    assert "李娜: own 1 h, gifted 0 min, group 2 h" in output
    assert "刘军: own 45 min, gifted 30 min, group 2 h" in output
    assert "Order o-1, 45 min credited: request (wang-fang) -> dispatch (wang-fang)" in output
    assert "close (wang-fang)" in output
    assert "2026-11 orders: 1, processing rate 100.00%, satisfaction rate 100.00%" in output
    assert "Owed to members: 6 h 15 min" in output
    assert "verify: ok, 6 transactions, 15 accounts" in output
    chinese = CliRunner().invoke(main, ["--lang", "zh", "demo"]).output
    assert "李娜: 本人 1小时，受赠 0分，团体 2小时" in chinese  # noqa: RUF001 (Chinese punctuation)
    assert "工单 o-1 记入 45分: 点单 (wang-fang) -> 派单 (wang-fang)" in chinese
    assert "应兑付会员的时长: 6小时15分" in chinese
    assert "核对: 无误，共 6 笔交易、15 个账户" in chinese  # noqa: RUF001


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    """db upgrade makes an empty file into a current timebank database, and is repeatable."""
    path = tmp_path / "centre.db"
    for _ in range(2):
        code, output = run("db", "upgrade", "--database", str(path))
        assert code == 0, output
    tables = {name for (name,) in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert {"books", "accounts", "transactions", "postings", "timebank_alembic_version"} <= tables


def test_verify_reports_each_book(tmp_path: Path) -> None:
    """verify says ok per book and exits 0 when every book checks out."""
    path = tmp_path / "centre.db"
    seeded(path)
    code, output = run("verify", "--database", str(path))
    assert (code, output.strip()) == (0, "sunflower: ok (1 transactions, 2 accounts)")


def test_verify_names_the_break_and_exits_1(tmp_path: Path) -> None:
    """A cached balance edited behind the ledger's back is reported with its account."""
    path = tmp_path / "centre.db"
    seeded(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE accounts SET posted_minutes = 600 WHERE id = 'wang-fang'")
    code, output = run("verify", "--database", str(path))
    assert code == 1
    assert "sunflower: BROKEN balance_mismatch at account wang-fang" in output


def test_verify_refuses_an_unknown_book(tmp_path: Path) -> None:
    """Asking for a book the database does not have is a clear error, not a traceback."""
    path = tmp_path / "centre.db"
    seeded(path)
    code, output = run("verify", "--database", str(path), "--book", "elsewhere")
    assert code == 1
    assert "book 'elsewhere' does not exist" in output


# --- commands that read never create a database; backups are online and verified ------------


@pytest.mark.parametrize(
    "args",
    [
        ("verify",),
        ("report", "orders", "--book", "gulou"),
        ("export", "passbook", "--book", "gulou", "--member", "li-na", "--out", "li-na.csv"),
        ("run-deadlines", "--book", "gulou"),
        ("backup", "copy.db"),
    ],
    ids=lambda args: args[0],
)
def test_a_command_run_where_there_is_no_database_creates_none(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run in the wrong folder, a command says there is no database and leaves no file."""
    monkeypatch.chdir(tmp_path)
    code, output = run(*args)
    assert code == 1, output
    assert "timebank.db: no such file; no database was created" in output
    assert list(tmp_path.iterdir()) == []


def test_verify_refuses_a_file_that_is_not_a_timebank_database(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("shopping: rice, eggs\n", encoding="utf-8")
    code, output = run("verify", "--database", str(notes))
    assert code == 1
    assert "not a SQLite database" in output
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE books (id TEXT)")
    code, output = run("verify", "--database", str(other))
    assert code == 1
    assert "a SQLite file, but not a timebank database" in output


def _wal_has_frames(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def test_backup_copies_what_the_wal_still_holds_while_the_bank_is_open(tmp_path: Path) -> None:
    """With commits still in timebank.db-wal (the bank open, no checkpoint), a plain copy of
    the file lacks them and still verifies; the backup has every one, verified, in one file."""
    path = tmp_path / "centre.db"
    seeded(path)
    store = open_store(path)
    try:
        with store.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        book = Ledger(store, clock=ManualClock(datetime(2026, 11, 2, tzinfo=UTC))).book("sunflower")
        for number in range(20):
            book.transfer(f"visit-{number + 2}", [debit("pool", 30), credit("wang-fang", 30)])
        assert _wal_has_frames(path)
        plain = tmp_path / "plain-copy.db"
        shutil.copyfile(path, plain)  # what "copy timebank.db daily" does
        code, output = run("verify", "--database", str(plain))
        assert (code, output.strip()) == (0, "sunflower: ok (1 transactions, 2 accounts)")

        code, output = run("backup", "--database", str(path), str(tmp_path / "backup.db"))
        assert code == 0, output
        assert "sunflower: ok (21 transactions, 2 accounts)" in output
        assert output.strip().endswith("is complete and verified")
    finally:
        store.close()
    backup = tmp_path / "backup.db"
    assert not backup.with_name("backup.db-wal").exists()
    with sqlite3.connect(backup) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        balance = connection.execute(
            "SELECT posted_minutes FROM accounts WHERE id = 'wang-fang'"
        ).fetchone()
    assert balance == (60 + 20 * 30,)
    # A copy of the backup is a backup: it is all in the one file.
    again = tmp_path / "backup-of-backup.db"
    shutil.copyfile(backup, again)
    code, output = run("verify", "--database", str(again))
    assert (code, output.strip()) == (0, "sunflower: ok (21 transactions, 2 accounts)")


def test_backup_never_overwrites_and_reports_a_broken_copy(tmp_path: Path) -> None:
    path = tmp_path / "centre.db"
    seeded(path)
    existing = tmp_path / "yesterday.db"
    existing.write_bytes(b"yesterday's backup")
    code, output = run("backup", "--database", str(path), str(existing))
    assert code == 1
    assert "exists; a backup is written to a new file" in output
    assert existing.read_bytes() == b"yesterday's backup"
    code, output = run("backup", "--database", str(path), str(path))
    assert code == 1
    assert "exists; a backup is written to a new file" in output
    assert not [name for name in tmp_path.iterdir() if name.name.endswith(".partial")]
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE accounts SET posted_minutes = 600 WHERE id = 'wang-fang'")
    code, output = run("backup", "--database", str(path), str(tmp_path / "today.db"))
    assert code == 1
    assert "sunflower: BROKEN balance_mismatch at account wang-fang" in output
    assert "did not verify; keep the original" in output


def test_backup_of_postgresql_prints_the_pg_dump_steps() -> None:
    code, output = run(
        "backup", "--database", "postgresql://keeper:secret@db.example/timebank", "tb.dump"
    )
    assert code == 0, output
    assert "pg_dump --format=custom --no-owner --file=tb.dump" in output
    assert "postgresql://keeper:***@db.example/timebank" in output
    assert "secret" not in output
    assert "pg_restore" in output


# --- tokens and the OpenAPI schema -----------------------------------------------------------

SECRET = "cli-tests-" + "s" * 32


def run_with(env: dict[str, str | None], *args: str) -> tuple[int, str]:
    result = CliRunner(env=env).invoke(main, ["--lang", "en", *args])
    return result.exit_code, result.output


def test_token_is_signed_with_the_servers_secret() -> None:
    """A coordinator's token names its subject, role and book, for N hours; the book itself
    says which communities they coordinate."""
    code, output = run_with(
        {"TIMEBANK_TOKEN_SECRET": SECRET},
        *("token", "--book", "gulou", "--subject", "wang", "--role", "coordinator"),
        *("--hours", "2"),
    )
    assert code == 0, output
    token = Token.decode(output.strip(), SECRET, "HS256")
    assert token.sub == "wang"
    assert token.extras == {"role": "coordinator", "book": "gulou"}
    assert token.exp - token.iat == timedelta(hours=2)


def test_token_refuses_without_a_secret_or_for_a_member_of_every_book() -> None:
    """No secret, no token; a person's token is for one book, and never for 'system'."""
    code, output = run_with(
        {"TIMEBANK_TOKEN_SECRET": None}, "token", "--book", "b", "--subject", "s", "--role", "admin"
    )
    assert code == 1
    assert "TIMEBANK_TOKEN_SECRET is not set" in output
    code, output = run_with(
        {"TIMEBANK_TOKEN_SECRET": SECRET},
        "token",
        "--book",
        "*",
        "--subject",
        "s",
        "--role",
        "member",
    )
    assert (code, "one book, not every book" in output) == (1, True)
    for role in ("member", "coordinator"):
        code, output = run_with(
            {"TIMEBANK_TOKEN_SECRET": SECRET},
            *("token", "--book", "gulou", "--subject", "system", "--role", role),
        )
        assert (code, "never 'system'" in output) == (1, True), output


def test_openapi_writes_the_schema_without_a_server(tmp_path: Path) -> None:
    """The schema is OpenAPI 3.1 JSON describing the API's routes."""
    out = tmp_path / "openapi.json"
    code, output = run("openapi", "--out", str(out))
    assert code == 0, output
    schema = json.loads(out.read_text(encoding="utf-8"))
    assert schema["openapi"].startswith("3.1")
    assert {"/health", "/ready", "/books/{book_id}/members/{member_id}/balance"} <= set(
        schema["paths"]
    )


# --- imports -----------------------------------------------------------------------------------

MEMBERS_HEADER = "member_id,name,birth_date,community,grid,roles,vetting,flags"


@pytest.fixture
def centre(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file holding book ``gulou`` (Nanjing rules) with its coordinator, Wang Fang,
    who is the one importing ($TIMEBANK_ACTOR) unless a test says otherwise."""
    monkeypatch.setenv("TIMEBANK_ACTOR", "wang-fang")
    path = str(tmp_path / "centre.db")
    with TimeBank.open(path) as bank:
        bank.create_book("gulou", "nanjing").members.register(
            RegisterMember(
                member_id="wang-fang",
                name="王芳",
                birth_date=date(1980, 4, 1),
                community="ninghai",
                roles={Role.COORDINATOR},
            ),
            actor=SYSTEM,
        )
    return path


def order_of(database: str, order_id: str) -> Order:
    with TimeBank.open(database) as bank:
        return bank.book("demo").orders.get(order_id)


def state_of(database: str) -> tuple[list[str], int, int]:
    """Member ids, transactions and the liability of book ``gulou``."""
    with TimeBank.open(database) as bank:
        book = bank.book("gulou")
        return (
            [m.member_id for m in book.members.list()],
            book.statements.verify().transactions_checked,
            book.statements.liability(),
        )


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def test_import_members_from_csv_with_a_bom(centre: str, tmp_path: Path) -> None:
    """Excel's UTF-8 CSV (with a BOM) registers members with roles, vetting and flags."""
    file = tmp_path / "members.csv"
    file.write_bytes(
        (
            f"{MEMBERS_HEADER}\n"
            "li-na,李娜,1958-03-02,ninghai,g1,volunteer;recipient,street,\n"
            "chen-xiulan,陈秀兰,1938-06-06,ninghai,g2,recipient,,living_alone;disabled\n"
        ).encode("utf-8-sig")
    )
    code, output = run("import", "members", str(file), "--book", "gulou", "--database", centre)
    assert code == 0, output
    assert "members.csv: 2 rows checked; members: 2 registered" in output
    with TimeBank.open(centre) as bank:
        li, chen = (
            bank.book("gulou").members.get("li-na"),
            bank.book("gulou").members.get("chen-xiulan"),
        )
    assert (li.name, li.roles, li.vetting) == (
        "李娜",
        {Role.VOLUNTEER, Role.RECIPIENT},
        Vetting.STREET,
    )
    assert (chen.grid, chen.vetting, chen.flags) == (
        "g2",
        Vetting.PENDING,
        {"living_alone", "disabled"},
    )


def test_import_members_from_xlsx_and_again_changes_nothing(centre: str, tmp_path: Path) -> None:
    """Spreadsheet cells (dates, numeric ids) are read as text; a re-import skips every row."""
    file = tmp_path / "members.xlsx"
    write_xlsx(
        file,
        [
            MEMBERS_HEADER.split(","),
            [1001, "刘军", datetime(1955, 8, 9), "ninghai", "g1", "volunteer", "street", None],
            [None] * 8,  # blank rows are skipped
            ["zhao", "赵建国", "1941-07-07", "ninghai", None, "recipient", None, None],
        ],
    )
    args = ("import", "members", str(file), "--book", "gulou", "--database", centre)
    code, output = run(*args)
    assert code == 0, output
    assert "2 rows checked; members: 2 registered" in output
    before = state_of(centre)
    assert before[0] == ["1001", "wang-fang", "zhao"]
    code, output = run(*args)
    assert (code, "members: 2 already there" in output) == (0, True)
    assert state_of(centre) == before


def test_a_bad_member_row_names_its_row_and_registers_nobody(centre: str, tmp_path: Path) -> None:
    """Every row is checked before any is applied: row 3's error leaves row 2 unregistered."""
    file = tmp_path / "members.csv"
    file.write_text(
        f"{MEMBERS_HEADER}\n"
        "li-na,李娜,1958-03-02,ninghai,g1,volunteer,street,\n"
        "liu-jun,刘军,1955-08-09,ninghai,g1,volunteer,famous,\n",
        encoding="utf-8",
    )
    before = state_of(centre)
    code, output = run("import", "members", str(file), "--book", "gulou", "--database", centre)
    assert code == 1
    assert "row 3, vetting: 'famous' is not one of: pending, community, street, rejected" in output
    assert state_of(centre) == before


def test_a_row_the_rules_refuse_reports_the_typed_error(centre: str, tmp_path: Path) -> None:
    """The dry run applies the book's rules: a repeated id and a future birth date are refused."""
    file = tmp_path / "members.csv"
    file.write_text(
        f"{MEMBERS_HEADER}\nli-na,李娜,1958-03-02,ninghai,,,,\nli-na,李娜,1958-03-02,ninghai,,,,\n",
        encoding="utf-8",
    )
    before = state_of(centre)
    code, output = run("import", "members", str(file), "--book", "gulou", "--database", centre)
    assert (code, "row 3: member 'li-na' is already registered" in output) == (1, True)
    file.write_text(f"{MEMBERS_HEADER}\nli-na,李娜,2999-01-01,ninghai,,,,\n", encoding="utf-8")
    code, output = run("import", "members", str(file), "--book", "gulou", "--database", centre)
    assert (code, "row 2: birth date 2999-01-01 is in the future" in output) == (1, True)
    assert state_of(centre) == before


def test_import_refuses_unknown_columns_and_other_formats(centre: str, tmp_path: Path) -> None:
    """A misspelt column is refused as row 1; so is text in no known encoding, and a file that
    is neither CSV, tab-separated text nor XLSX."""
    file = tmp_path / "members.csv"
    file.write_text("member_id,name,birthday,community\n", encoding="utf-8")
    code, output = run("import", "members", str(file), "--book", "gulou", "--database", centre)
    assert code == 1
    assert "row 1: unknown column 'birthday'; missing column 'birth_date'" in output
    file.write_bytes(f"{MEMBERS_HEADER}\n".encode() + b"\xff\xfe\xfd,\xff\n")
    code, output = run("import", "members", str(file), "--book", "gulou", "--database", centre)
    assert code == 1
    assert "row 1: the file cannot be read as text in any of UTF-8, GB18030" in output
    other = tmp_path / "members.pdf"
    other.write_text(MEMBERS_HEADER, encoding="utf-8")
    code, output = run("import", "members", str(other), "--book", "gulou", "--database", centre)
    assert (code, "use a .csv, .tsv or .txt (tab-separated), or .xlsx file" in output) == (1, True)


SERVICES_HEADER = "provider_id,recipient_id,category,raw_minutes,served_at,note"


@pytest.fixture
def members(centre: str) -> str:
    """Li Na, a vetted volunteer, and Chen Xiulan, 88, in book ``gulou``."""
    with TimeBank.open(centre) as bank:
        book = bank.book("gulou")
        for member_id, name, born, role in [
            ("li-na", "李娜", date(1958, 3, 2), Role.VOLUNTEER),
            ("chen-xiulan", "陈秀兰", date(1938, 6, 6), Role.RECIPIENT),
        ]:
            book.members.register(
                RegisterMember(
                    member_id=member_id,
                    name=name,
                    birth_date=born,
                    community="ninghai",
                    roles={role},
                    vetting=Vetting.STREET,
                ),
                actor=SYSTEM,
            )
    return centre


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%d 10:00")


def test_import_paper_records_from_csv_credits_once(members: str, tmp_path: Path) -> None:
    """Paper records are held until confirmed (Nanjing); importing again credits nothing twice."""
    file = tmp_path / "services.csv"
    file.write_text(
        f"{SERVICES_HEADER}\n"
        f"li-na,chen-xiulan,companionship,90,{days_ago(3)},纸质记录\n"
        f"li-na,chen-xiulan,companionship,90,{days_ago(3)},纸质记录\n"  # the same visit twice
        f"li-na,chen-xiulan,meals,45,{days_ago(2)},\n",
        encoding="utf-8-sig",
    )
    args = ("import", "services", str(file), "--book", "gulou", "--database", members)
    code, output = run(*args)
    assert code == 0, output
    assert "3 rows checked; service records: 3 held until confirmed" in output
    with TimeBank.open(members) as bank:
        assert bank.book("gulou").statements.balance("li-na").incoming_minutes == 90 + 90 + 45
    before = state_of(members)
    code, output = run(*args)
    assert (code, "service records: 3 already there" in output) == (0, True)
    assert state_of(members) == before


def test_import_paper_records_from_xlsx(members: str, tmp_path: Path) -> None:
    """Spreadsheet cells hold datetimes and numbers (minutes as a float) rather than text."""
    file = tmp_path / "services.xlsx"
    served = (datetime.now(UTC) - timedelta(days=5)).replace(tzinfo=None, microsecond=0)
    write_xlsx(
        file,
        [
            SERVICES_HEADER.split(","),
            ["li-na", "chen-xiulan", "haircut", 30.0, served, "理发"],
        ],
    )
    code, output = run("import", "services", str(file), "--book", "gulou", "--database", members)
    assert code == 0, output
    assert "1 rows checked; service records: 1 held until confirmed" in output
    with TimeBank.open(members) as bank:
        assert bank.book("gulou").statements.balance("li-na").incoming_minutes == 30


def test_a_bad_service_row_names_its_row_and_credits_nothing(members: str, tmp_path: Path) -> None:
    """Row 2 is fine, row 3 names a stranger: the import stops and nothing is credited."""
    file = tmp_path / "services.csv"
    file.write_text(
        f"{SERVICES_HEADER}\n"
        f"li-na,chen-xiulan,companionship,90,{days_ago(3)},\n"
        f"li-na,nobody,companionship,60,{days_ago(3)},\n",
        encoding="utf-8",
    )
    before = state_of(members)
    code, output = run("import", "services", str(file), "--book", "gulou", "--database", members)
    assert code == 1
    assert "row 3: no member 'nobody'" in output
    assert state_of(members) == before
    file.write_text(
        f"{SERVICES_HEADER}\nchen-xiulan,li-na,meals,60,{days_ago(1)},\n", encoding="utf-8"
    )
    code, output = run("import", "services", str(file), "--book", "gulou", "--database", members)
    assert code == 1
    assert "row 2: member 'chen-xiulan' may not provide: not registered as a volunteer" in output
    assert state_of(members) == before


def test_an_import_records_the_coordinator_who_ran_it(
    members: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--actor names the coordinator: the members they register, the credits they record and
    the journal's transactions name them, not 'system'."""
    monkeypatch.delenv("TIMEBANK_ACTOR")
    people = tmp_path / "members.csv"
    people.write_text(f"{MEMBERS_HEADER}\nzhao,赵建国,1941-07-07,ninghai,,recipient,,\n")
    args = ("import", "members", str(people), "--book", "gulou", "--database", members)
    code, output = run(*args, "--actor", "wang-fang")
    assert code == 0, output
    services = tmp_path / "services.csv"
    services.write_text(f"{SERVICES_HEADER}\nli-na,chen-xiulan,companionship,90,{days_ago(3)},\n")
    args = ("import", "services", str(services), "--book", "gulou", "--database", members)
    code, output = run(*args, "--actor", "wang-fang")
    assert code == 0, output
    with TimeBank.open(members) as bank:
        book = bank.book("gulou")
        assert book.members.get("zhao").registered_by == "wang-fang"
        [held] = book.read(lambda snap, _: snap.records.credits_of("li-na"))
        assert (held.actor, held.on_behalf_of) == ("wang-fang", None)
        assert book.ledger_book.transaction(held.transaction_id).metadata["actor"] == "wang-fang"


def test_an_import_is_refused_unless_a_coordinator_of_the_book_runs_it(
    members: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --actor, 'system', a stranger or a volunteer: refused before anything is read."""
    people = tmp_path / "members.csv"
    people.write_text(f"{MEMBERS_HEADER}\nzhao,赵建国,1941-07-07,ninghai,,recipient,,\n")
    args = ("import", "members", str(people), "--book", "gulou", "--database", members)
    before = state_of(members)
    monkeypatch.delenv("TIMEBANK_ACTOR")
    code, output = run(*args)
    assert (code, "Missing option '--actor'" in output) == (2, True), output
    for actor, said in (
        ("system", "--actor names the coordinator doing this, by their member id, not 'system'"),
        ("ghost", "--actor 'ghost': book 'gulou' has no such member"),
        ("li-na", "--actor 'li-na': the member is not a coordinator of book 'gulou'"),
    ):
        code, output = run(*args, "--actor", actor)
        assert (code, said in output) == (1, True), output
    monkeypatch.setenv("TIMEBANK_ACTOR", "li-na")
    code, output = run(*args)
    assert (code, "'li-na': the member is not a coordinator" in output) == (1, True), output
    assert state_of(members) == before


def test_an_imports_actor_may_do_only_what_their_role_allows(members: str, tmp_path: Path) -> None:
    """A coordinator of another community, or appointing a coordinator: the row is refused as
    the facade refuses that coordinator, and nothing is written."""
    with TimeBank.open(members) as bank:
        bank.book("gulou").members.register(
            RegisterMember(
                member_id="qian",
                name="钱进",
                birth_date=date(1979, 9, 9),
                community="dongshan",
                roles={Role.COORDINATOR},
            ),
            actor=SYSTEM,
        )
    before = state_of(members)
    services = tmp_path / "services.csv"
    services.write_text(f"{SERVICES_HEADER}\nli-na,chen-xiulan,companionship,90,{days_ago(3)},\n")
    args = ("import", "services", str(services), "--book", "gulou", "--database", members)
    code, output = run(*args, "--actor", "qian")
    assert (code, "row 2: no member 'li-na'" in output) == (1, True), output  # not hers to see
    people = tmp_path / "members.csv"
    people.write_text(f"{MEMBERS_HEADER}\nzhou,周强,1975-01-01,ninghai,,coordinator,,\n")
    args = ("import", "members", str(people), "--book", "gulou", "--database", members)
    code, output = run(*args, "--actor", "wang-fang")
    assert (code, "row 2" in output, "wang-fang" in output) == (1, True, True), output
    assert state_of(members) == before


# --- exports, reports and deadlines ----------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file holding the demo community (book ``demo``); tests must not change it."""
    path = str(tmp_path_factory.mktemp("demo") / "demo.db")
    with TimeBank.open(path) as bank:
        seed_demo(bank)
    return path


def test_export_passbook_as_csv_starts_with_a_bom(demo_db: str, tmp_path: Path) -> None:
    """Excel on Chinese Windows needs the BOM to read UTF-8; each entry is one line."""
    out = tmp_path / "li-na.csv"
    args = ("export", "passbook", "--book", "demo", "--member", "li-na", "--database", demo_db)
    code, output = run(*args, "--ledger", "--format", "csv", "--out", str(out))
    assert code == 0, output
    data = out.read_bytes()
    assert data.startswith("\ufeffNo.,Recorded at (China Standard Time),Account,".encode())
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [line["Kind"] for line in lines] == ["Service", "Event", "Gift"]


def test_export_report_as_xlsx_loads_in_a_spreadsheet(demo_db: str, tmp_path: Path) -> None:
    """The volunteer board as a workbook: a header row, then one row per volunteer."""
    month = order_of(demo_db, "o-closed").history[0].at.astimezone(ZONE).strftime("%Y-%m")
    out = tmp_path / "board.xlsx"
    code, output = run(
        *("export", "report", "board", "--book", "demo", "--database", demo_db),
        *("--month", month, "--format", "xlsx", "--out", str(out)),
    )
    assert code == 0, output
    sheet = openpyxl.load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Place", "Member id", "Name")
    assert {row[2] for row in rows[1:]} >= {"李娜", "赵敏", "刘军"}


def test_report_prints_a_table(demo_db: str) -> None:
    """Reports print as tables: micro-wishes, and the orders of the demo's month."""
    code, output = run("report", "wishes", "--book", "demo", "--database", demo_db)
    assert code == 0, output
    assert "Micro-wishes" in output
    assert "┃ Community ┃ Posted ┃ Adopted ┃" in output
    # the download's columns: a rate is its numerator, denominator and percent
    assert (
        "│           │ 3      │ 2       │ 1         │ 1         │ 2               │ 3  " in output
    )
    assert "│ 66.67           │" in output
    chinese = (
        CliRunner()
        .invoke(main, ["--lang", "zh", "report", "wishes", "--book", "demo", "--database", demo_db])
        .output
    )
    assert "微心愿认领情况" in chinese
    assert "┃ 社区 ┃ 发布数 ┃ 认领数 ┃" in chinese
    code, output = run("report", "visits", "--book", "demo", "--database", demo_db)
    assert (code, "吴淑珍" in output) == (0, True)


def test_report_refuses_a_malformed_month(demo_db: str) -> None:
    """A report period error is a one-line message, not a traceback."""
    code, output = run(
        "report", "orders", "--book", "demo", "--month", "11/2026", "--database", demo_db
    )
    assert code == 1
    assert "a month is YYYY-MM, from 1900 to 2199, not '11/2026'" in output


def test_run_deadlines_escalates_overdue_orders(demo_db: str, tmp_path: Path) -> None:
    """Orders waiting more than a day for a volunteer go up the chain; a second run is quiet."""
    copy = tmp_path / "demo.db"
    shutil.copyfile(demo_db, copy)
    code, output = run("run-deadlines", "--book", "demo", "--database", str(copy))
    assert code == 0, output
    assert "escalated: 3 (o-dispatched, o-published, o-requested)" in output
    assert order_of(str(copy), "o-requested").escalation_level == 1
    code, output = run("run-deadlines", "--book", "demo", "--database", str(copy))
    assert (code, "escalated: 0" in output) == (0, True)


def test_run_deadlines_by_hand_names_an_administrator(demo_db: str, tmp_path: Path) -> None:
    """By hand, --actor names the administrator running it (recorded on each escalation); a
    coordinator is refused, since the run spans the book. Without it the run is the scheduler's."""
    copy = tmp_path / "demo.db"
    shutil.copyfile(demo_db, copy)
    args = ("run-deadlines", "--book", "demo", "--database", str(copy))
    code, output = run(*args, "--actor", "wang-fang")
    assert (code, "'wang-fang': the member is not an administrator" in output) == (1, True)
    with TimeBank.open(str(copy)) as bank:
        bank.book("demo").members.update(
            UpdateMember(member_id="wang-fang", roles={Role.ADMIN}), actor=SYSTEM
        )
    code, output = run(*args, "--actor", "wang-fang")
    assert code == 0, output
    assert order_of(str(copy), "o-requested").history[-1].actor == "wang-fang"
