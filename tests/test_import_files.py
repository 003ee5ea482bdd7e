"""Import files as Excel and WPS write them: encodings, Chinese headings, full-width cells, the
ways people write dates, and refusals that name the row and the column in Chinese and English.

The command line runs on real SQLite files (``timebank import members|services``); the cell
readers of ``timebank.sheets`` are also checked on their own, with Hypothesis.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from timebank import sheets
from timebank.bank import SYSTEM, TimeBank
from timebank.bank.commands import RegisterMember
from timebank.cli import main
from timebank.community import Role, Vetting
from timebank.i18n import text

ZONE = ZoneInfo("Asia/Shanghai")
FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
"""ASCII to full-width (``1962/4/5`` as a Chinese input method may type it)."""
BAD_BYTES = b"\xff\xff\xff"
"""Neither UTF-8 nor GB18030: 0xFF starts no character in either."""


def imported(lang: str, kind: str, file: Path, database: str) -> tuple[int, str]:
    args = ["--lang", lang, "import", kind, str(file), "--book", "gulou", "--database", database]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


@pytest.fixture
def centre(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Book ``gulou`` (Nanjing rules) and its coordinator Wang Fang, who runs the imports."""
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


@pytest.fixture
def members(centre: str) -> str:
    """Li Na, a vetted volunteer, and Chen Xiulan, a recipient, in book ``gulou``."""
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


def state_of(database: str) -> tuple[list[str], int, int, int]:
    """Member ids, transactions, the liability and Li Na's incoming minutes, if she is there."""
    with TimeBank.open(database) as bank:
        book = bank.book("gulou")
        ids = [m.member_id for m in book.members.list()]
        incoming = book.statements.balance("li-na").incoming_minutes if "li-na" in ids else 0
        return (
            ids,
            book.statements.verify().transactions_checked,
            book.statements.liability(),
            incoming,
        )


def member(database: str, member_id: str) -> tuple[str, date, frozenset[Role], Vetting]:
    with TimeBank.open(database) as bank:
        found = bank.book("gulou").members.get(member_id)
        return found.name, found.birth_date, frozenset(found.roles), found.vetting


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def local(days: int, at: time) -> datetime:
    """``days`` ago at ``at``, Beijing time."""
    day = (datetime.now(ZONE) - timedelta(days=days)).date()
    return datetime.combine(day, at, tzinfo=ZONE)


# --- encodings -------------------------------------------------------------------------------


def test_a_gb18030_csv_with_chinese_headings_registers_members(centre: str, tmp_path: Path) -> None:
    """Excel's plain "CSV" on Chinese Windows: GB18030 bytes, Chinese headings and values."""
    data = (
        "会员编号,姓名,出生日期,社区,网格,角色,审核\n"
        "li-na,李娜,1962/4/5,ninghai,g1,志愿者,街道审核\n"
        "chen-xiulan,陈秀兰,1938年6月6日,ninghai,g2,服务对象;志愿者,\n"
    ).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    file = tmp_path / "会员.csv"
    file.write_bytes(data)
    code, output = imported("zh", "members", file, centre)
    assert code == 0, output
    assert "会员.csv: 已检查 2 行; 会员: 新登记 2 人" in output
    assert member(centre, "li-na") == (
        "李娜",
        date(1962, 4, 5),
        frozenset({Role.VOLUNTEER}),
        Vetting.STREET,
    )
    assert member(centre, "chen-xiulan") == (
        "陈秀兰",
        date(1938, 6, 6),
        frozenset({Role.RECIPIENT, Role.VOLUNTEER}),
        Vetting.PENDING,
    )
    code, output = imported("en", "members", file, centre)
    assert (code, "会员.csv: 2 rows checked; members: 2 already there" in output) == (0, True)


@pytest.mark.parametrize("bom", [True, False], ids=["with-bom", "without-bom"])
def test_utf8_with_or_without_a_bom_reads_every_date_format(
    centre: str, tmp_path: Path, bom: bool
) -> None:
    """Each way a date is written (and a date with a time of midnight) is the same day."""
    written = [
        "1962-04-05",
        "1962/4/5",
        "1962-4-5",
        "1962.4.5",
        "1962年4月5日",
        "1962/04/05 0:00",
        "1962/4/5".translate(FULL_WIDTH),
    ]
    lines = ["member_id,name,birth_date,community"]
    lines += [f"m{number},会员{number},{day},ninghai" for number, day in enumerate(written)]
    file = tmp_path / "members.csv"
    file.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig" if bom else "utf-8"))
    code, output = imported("en", "members", file, centre)
    assert code == 0, output
    assert f"{len(written)} rows checked; members: {len(written)} registered" in output
    for number in range(len(written)):
        assert member(centre, f"m{number}")[1] == date(1962, 4, 5)


def test_excel_unicode_text_is_tab_separated_utf16(centre: str, tmp_path: Path) -> None:
    """Excel's "Unicode text" (.txt): UTF-16 with a BOM, cells separated by tabs."""
    file = tmp_path / "members.txt"
    rows = [["姓名", "会员编号", "出生日期", "社区"], ["李娜", "li-na", "1962/4/5", "ninghai"]]
    file.write_bytes("\r\n".join("\t".join(row) for row in rows).encode("utf-16"))
    code, output = imported("zh", "members", file, centre)
    assert code == 0, output
    assert member(centre, "li-na")[:2] == ("李娜", date(1962, 4, 5))


def test_a_tab_separated_csv_is_read_by_its_header(centre: str, tmp_path: Path) -> None:
    file = tmp_path / "members.csv"
    file.write_text("member_id\tname\tbirth_date\tcommunity\nli-na\t李娜\t1962-4-5\tninghai\n")
    code, output = imported("en", "members", file, centre)
    assert (code, member(centre, "li-na")[0]) == (0, "李娜"), output


# --- cells as people type them ---------------------------------------------------------------


def test_full_width_characters_and_ideographic_spaces_are_normalised(
    centre: str, tmp_path: Path
) -> None:
    """Full-width ids, digits and punctuation become ASCII; spaces of every kind are trimmed;
    headings typed with a full-width letter or a trailing space still match."""
    file = tmp_path / "members.csv"
    wide = {word: word.translate(FULL_WIDTH) for word in ("member_id", "li-na", "ninghai")}
    file.write_text(
        f"{wide['member_id']},姓名\u3000,出生日期 ,Community\xa0,角色\n"
        f"\u3000{wide['li-na']}\u3000,\u3000李娜\xa0,{'1962-04-05'.translate(FULL_WIDTH)},"
        f"\u3000{wide['ninghai']},Volunteer\n",
        encoding="utf-8",
    )
    code, output = imported("zh", "members", file, centre)
    assert code == 0, output
    assert member(centre, "li-na") == (
        "李娜",
        date(1962, 4, 5),
        frozenset({Role.VOLUNTEER}),
        Vetting.PENDING,
    )


def test_xlsx_with_real_date_cells_and_text_dates(centre: str, tmp_path: Path) -> None:
    """Date cells (openpyxl gives datetimes at midnight) and dates typed as text both read."""
    file = tmp_path / "members.xlsx"
    write_xlsx(
        file,
        [
            ["会员编号", "姓名", "出生日期", "社区", "角色"],
            ["li-na", "李娜", datetime(1962, 4, 5), "ninghai", "volunteer"],
            [1001, "刘军", "1955/8/9", "ninghai", "志愿者"],
            ["chen", "陈秀兰", "1938年6月6日".translate(FULL_WIDTH), "ninghai", "recipient"],
        ],
    )
    code, output = imported("zh", "members", file, centre)
    assert code == 0, output
    assert "已检查 3 行; 会员: 新登记 3 人" in output
    assert member(centre, "li-na")[1] == date(1962, 4, 5)
    assert member(centre, "1001")[1] == date(1955, 8, 9)
    assert member(centre, "chen")[1] == date(1938, 6, 6)


def test_paper_records_with_excel_times_and_spreadsheet_numbers(
    members: str, tmp_path: Path
) -> None:
    """Times as Excel writes them are local time; minutes as floats, full-width or 1,200."""
    moments = [
        local(3, time(14, 0)),
        local(3, time(15, 30)),
        local(2, time(9, 5)),
        local(2, time(10, 0)),
        local(1, time(8, 0)),
    ]
    written = [
        f"{moments[0]:%Y}/{moments[0].month}/{moments[0].day} 14:00",
        f"{moments[1]:%Y-%m-%d} 15:30:00",
        f"{moments[2]:%Y}年{moments[2].month}月{moments[2].day}日 9:05",
        moments[3].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        f"{moments[4]:%Y-%m-%dT%H:%M+08:00}".translate(FULL_WIDTH),
    ]
    minutes = [
        "90",
        "90".translate(FULL_WIDTH),
        "45.0",
        "60分钟",
        '"1,200"',
    ]  # quoted, as Excel does
    lines = ["志愿者编号,服务对象编号,服务类别,服务时长(分钟),服务时间,备注"]
    lines += [
        f"li-na,chen-xiulan,companionship,{count},{at},第{n}次\uff0c陪同就医"
        for n, (count, at) in enumerate(zip(minutes, written, strict=True))
    ]
    file = tmp_path / "服务记录.csv"
    file.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    code, output = imported("zh", "services", file, members)
    assert code == 0, output
    assert "服务记录.csv: 已检查 5 行; 服务记录: 5 条待确认" in output
    held = re.findall(r"待确认: (paper-[0-9a-f]+)", output)
    assert len(held) == 5
    with TimeBank.open(members) as bank:
        credits = [bank.book("gulou").credits.get(credit_id) for credit_id in held]
    assert [credit.served_at for credit in credits] == moments
    assert [credit.raw_minutes for credit in credits] == [90, 90, 45, 60, 1200]
    assert state_of(members)[3] == 90 + 90 + 45 + 60 + 1200


@pytest.mark.parametrize("named", ["陪伴聊天", "Companionship", "companionship", " COMPANIONSHIP "])
def test_a_category_may_be_named_in_chinese_or_english(
    named: str, members: str, tmp_path: Path
) -> None:
    """A coordinator types 陪伴聊天 (as the reports name it); the book keeps the code."""
    at = local(1, time(9, 0))
    file = tmp_path / "records.csv"
    file.write_text(
        "provider_id,recipient_id,category,raw_minutes,served_at\n"
        f"li-na,chen-xiulan,{named},60,{at:%Y-%m-%d %H:%M}\n",
        encoding="utf-8",
    )
    code, output = imported("zh", "services", file, members)
    assert code == 0, output
    [held] = re.findall(r"待确认: (paper-[0-9a-f]+)", output)
    with TimeBank.open(members) as bank:
        assert bank.book("gulou").credits.get(held).category == "companionship"
    again = tmp_path / "again.csv"
    again.write_text(
        "provider_id,recipient_id,category,raw_minutes,served_at\n"
        f"li-na,chen-xiulan,companionship,60,{at:%Y-%m-%d %H:%M}\n",
        encoding="utf-8",
    )
    code, output = imported("en", "services", again, members)
    assert code == 0, output
    assert "1 already" in output  # the same record, whatever the sheet called its category


def test_a_paper_record_from_xlsx_with_a_datetime_cell(members: str, tmp_path: Path) -> None:
    served = local(4, time(16, 45))
    file = tmp_path / "services.xlsx"
    write_xlsx(
        file,
        [
            ["服务者编号", "服务对象编号", "类别", "时长", "服务时间"],
            ["li-na", "chen-xiulan", "haircut", 30.0, served.replace(tzinfo=None)],
        ],
    )
    code, output = imported("en", "services", file, members)
    assert code == 0, output
    assert "1 rows checked; service records: 1 held until confirmed" in output
    (credit_id,) = re.findall(r"held until confirmed: (paper-[0-9a-f]+)", output)
    with TimeBank.open(members) as bank:
        assert bank.book("gulou").credits.get(credit_id).served_at == served


# --- refusals: the row and the column named, in both languages, and nothing written ----------

MEMBERS_CN = "会员编号,姓名,出生日期,社区\n"
FINE_ROW = "xu-lan,徐兰,1945-06-30,ninghai\n"


@pytest.mark.parametrize(
    ("data", "chinese", "english"),
    [
        (
            (MEMBERS_CN + FINE_ROW + "lu-ming,陆明,1962/13/5,ninghai\n").encode("gb18030"),
            "第 3 行 “出生日期”: “1962/13/5” 不是日期 (例如 1962-04-05 或 1962/4/5)",
            "row 3, 出生日期: '1962/13/5' is not a date (such as 1962-04-05 or 1962/4/5)",
        ),
        (
            (
                "member_id,name,birth_date,community\n" + FINE_ROW + "lu,陆明,1962.2.30,ninghai\n"
            ).encode(),
            "第 3 行 “birth_date”: “1962.2.30” 不是日期 (例如 1962-04-05 或 1962/4/5)",
            "row 3, birth_date: '1962.2.30' is not a date (such as 1962-04-05 or 1962/4/5)",
        ),
        (
            (MEMBERS_CN + FINE_ROW + "lu-ming,陆明,22741,ninghai\n").encode("utf-8-sig"),
            "第 3 行 “出生日期”: “22741” 不是日期 (例如 1962-04-05): 它像是表格里的日期序号",
            "row 3, 出生日期: '22741' is not a date (such as 1962-04-05): it looks like a"
            " spreadsheet's day number; format the column as a date",
        ),
        (
            (MEMBERS_CN + FINE_ROW + "lu-ming,\u3000,1962/4/5,ninghai\n").encode(),
            "第 3 行 “姓名”: 这一格是空的, 必须填写",
            "row 3, 姓名: the cell is empty; it must be filled in",
        ),
        (
            MEMBERS_CN.encode() + FINE_ROW.encode("gb18030") + BAD_BYTES + b",x,1962/4/5,n\n",
            "第 1 行: 无法读取此文件: 它不是以 UTF-8, GB18030 中任何一种编码保存的文本",
            "row 1: the file cannot be read as text in any of UTF-8, GB18030"
            " (in Excel, save it as 'CSV UTF-8')",
        ),
        (
            "会员编号,姓名,生日期,社区\n".encode("gb18030"),
            "第 1 行: 未知的列 “生日期”\uff1b缺少列 “出生日期” (birth_date)",
            "row 1: unknown column '生日期'; missing column 'birth_date'",
        ),
        (
            "会员编号,姓名,出生日期,社区,编号\n".encode(),
            "第 1 行: 列 “编号” 重复了",
            "row 1: column '编号' is repeated",
        ),
        (
            (MEMBERS_CN + FINE_ROW + "xu-lan,徐兰,1945-06-30,ninghai\n").encode(),
            "第 3 行: 会员 “xu-lan” 已经登记过了",
            "row 3: member 'xu-lan' is already registered",
        ),
    ],
    ids=[
        "month-13",
        "february-30",
        "day-number",
        "empty-name",
        "encoding",
        "unknown-column",
        "repeated-column",
        "rule",
    ],
)
def test_a_refused_member_file_names_row_and_column_and_registers_nobody(
    centre: str, tmp_path: Path, data: bytes, chinese: str, english: str
) -> None:
    file = tmp_path / "members.csv"
    file.write_bytes(data)
    before = state_of(centre)
    for lang, expected in (("zh", chinese), ("en", english)):
        code, output = imported(lang, "members", file, centre)
        assert code == 1, output
        assert expected in output, output
        assert state_of(centre) == before


def test_the_bad_bytes_are_neither_utf8_nor_gb18030() -> None:
    for encoding in ("utf-8", "gb18030"):
        with pytest.raises(UnicodeDecodeError):
            BAD_BYTES.decode(encoding)


SERVICES_CN = "志愿者编号,服务对象编号,服务类别,服务时长(分钟),服务时间\n"


@pytest.mark.parametrize(
    ("row", "chinese", "english"),
    [
        (
            "li-na,chen-xiulan,meals,45,2026/2/30 14:00",
            "第 3 行 “服务时间”: “2026/2/30 14:00” 不是日期和时间",
            "row 3, 服务时间: '2026/2/30 14:00' is not a date and time (such as 2026-11-30 14:00"
            " or 2026/11/30 14:00)",
        ),
        (
            "li-na,chen-xiulan,meals,45,46000.5",
            "第 3 行 “服务时间”: “46000.5” 不是日期和时间 (例如 2026/11/30 14:00):"
            " 它像是表格里的日期序号",
            "row 3, 服务时间: '46000.5' is not a date and time (such as 2026/11/30 14:00): it looks"
            " like a spreadsheet's day number",
        ),
        (
            "li-na,chen-xiulan,meals,1.5小时,{served}",
            "第 3 行 “服务时长(分钟)”: “1.5小时” 不是整数的分钟数 (例如 90)",
            "row 3, 服务时长(分钟): '1.5小时' is not a whole number of minutes (such as 90)",
        ),
        (
            "li-na,nobody,meals,45,{served}",
            "第 3 行: 没有会员 “nobody”",
            "row 3: no member 'nobody'",
        ),
    ],
    ids=["february-30", "day-number", "hours", "rule"],
)
def test_a_refused_service_file_names_row_and_column_and_credits_nothing(
    members: str, tmp_path: Path, row: str, chinese: str, english: str
) -> None:
    served = f"{local(2, time(10, 0)):%Y/%m/%d %H:%M}"
    file = tmp_path / "services.csv"
    fine = f"li-na,chen-xiulan,companionship,90,{served}\n"
    file.write_bytes((SERVICES_CN + fine + row.format(served=served) + "\n").encode("gb18030"))
    before = state_of(members)
    for lang, expected in (("zh", chinese), ("en", english)):
        code, output = imported(lang, "services", file, members)
        assert code == 1, output
        assert expected in output, output
        assert state_of(members) == before


def test_a_file_of_another_kind_is_refused_in_both_languages(centre: str, tmp_path: Path) -> None:
    file = tmp_path / "members.xls"
    file.write_bytes(b"\xd0\xcf\x11\xe0")
    code, output = imported("zh", "members", file, centre)
    assert (
        code,
        "members.xls: 请使用 .csv、.tsv 或 .txt (制表符分隔) 文件, 或 .xlsx 文件" in output,
    ) == (
        1,
        True,
    )
    code, output = imported("en", "members", file, centre)
    assert (code, "use a .csv, .tsv or .txt (tab-separated), or .xlsx file" in output) == (1, True)


# --- the readers on their own ----------------------------------------------------------------

FORMATS = (
    "{y:04d}-{m:02d}-{d:02d}",
    "{y:04d}/{m}/{d}",
    "{y:04d}-{m}-{d}",
    "{y:04d}.{m}.{d}",
    "{y:04d}年{m}月{d}日",
    "{y:04d}/{m:02d}/{d:02d} 0:00",
    "{y:04d}-{m:02d}-{d:02d} 00:00:00",
)


@given(
    st.dates(min_value=date(1000, 1, 1)),
    st.sampled_from(FORMATS),
    st.booleans(),
    st.sampled_from(["", " ", "\u3000", "\xa0"]),
)
def test_any_date_in_any_accepted_format_reads_back(
    day: date, format: str, full_width: bool, space: str
) -> None:
    written = format.format(y=day.year, m=day.month, d=day.day)
    if full_width:
        written = written.translate(FULL_WIDTH)
    assert sheets.parse_day(space + written + space) == day


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31)),
    st.sampled_from(["{y}/{m}/{d} {H}:{M:02d}", "{y}-{m:02d}-{d:02d} {H:02d}:{M:02d}:{S:02d}"]),
)
def test_any_local_time_written_as_excel_writes_it_reads_back(
    moment: datetime, format: str
) -> None:
    moment = moment.replace(microsecond=0)
    if "{S" not in format:
        moment = moment.replace(second=0)
    fields = {"H": moment.hour, "M": moment.minute, "S": moment.second}
    written = format.format(y=moment.year, m=moment.month, d=moment.day, **fields)
    assert sheets.parse_moment(written, ZONE) == moment.replace(tzinfo=ZONE)


@given(st.integers(min_value=0, max_value=10**9 - 1))
def test_full_width_digits_of_a_number_read_as_the_number(n: int) -> None:
    assert sheets.parse_whole(str(n).translate(FULL_WIDTH)) == n
    assert sheets.parse_whole(f"{n:,}") == n
    assert sheets.parse_whole(f"{n}.0") == n
    record = sheets.Record(2, {"raw_minutes": f"\u3000{str(n).translate(FULL_WIDTH)}\u3000"}, {})
    assert record.whole("raw_minutes") == n


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1))
def test_chinese_characters_are_never_changed(name: str) -> None:
    assert sheets.normalise(name) == name
    assert sheets.normalise(name, prose=True) == name


@given(st.characters(categories=["Zs"]))
def test_every_kind_of_space_is_a_plain_space_and_trimmed(space: str) -> None:
    assert sheets.normalise(f"{space}李{space}娜{space}") == "李 娜"
    assert sheets.normalise(f"{space}李{space}娜{space}", prose=True) == "李 娜"


def test_normalisation_of_spaces_and_punctuation() -> None:
    assert sheets.normalise("\u3000李\u3000娜\xa0") == "李 娜"
    assert sheets.normalise("\u200b\ufeffli-na ") == "li-na"
    assert sheets.normalise("li-na(".translate(FULL_WIDTH) + "一\uff09") == "li-na(一)"
    note = "饭菜送到\uff0c很热情\uff01"  # Chinese punctuation in free text is kept
    assert sheets.normalise(note + "12点".translate(FULL_WIDTH), prose=True) == note + "12点"
    assert sheets.MEMBER_COLUMNS.column(" Birth".translate(FULL_WIDTH) + " Date\u3000") == (
        "birth_date"
    )
    assert sheets.MEMBER_COLUMNS.column("*出生日期") == "birth_date"
    assert sheets.SERVICE_COLUMNS.column("服务时长\uff08分钟\uff09") == "raw_minutes"
    assert sheets.SERVICE_COLUMNS.column("姓名") is None


@pytest.mark.parametrize(
    "written", ["1962/13/5", "2026/2/30", "62/4/5", "1962-4/5", "1962/4/5 13:00", "5/4/1962"]
)
def test_what_is_not_a_date_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match=r"date|month|day"):
        sheets.parse_day(written)


@pytest.mark.parametrize("written", ["1.5", "-5", "1小时", "90 hours", "1,20", "1234567890", ""])
def test_what_is_not_whole_minutes_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match=r"whole|large"):
        sheets.parse_whole(written)


def test_a_midnight_datetime_cell_is_a_birth_date_and_another_time_is_not() -> None:
    record = sheets.Record(
        4,
        {"birth_date": datetime(1962, 4, 5), "other": datetime(1962, 4, 5, 9, 30)},
        {"birth_date": "出生日期", "other": "生日"},
    )
    assert record.day("birth_date") == date(1962, 4, 5)
    with pytest.raises(sheets.CellInvalid) as refused:
        record.day("other")
    assert refused.value.to_dict() == {
        "code": "cell_invalid",
        "row": 4,
        "column": "生日",
        "key": "other",
        "value": "1962-04-05T09:30:00",
        "expected": "a date without a time of day (such as 1962-04-05)",
    }


def test_the_reader_streams_records_with_spreadsheet_row_numbers(tmp_path: Path) -> None:
    """A quoted cell with a line break is one row; blank rows are skipped but counted."""
    file = tmp_path / "members.csv"
    file.write_bytes(
        '姓名,会员编号,出生日期,社区\n"李\n娜",li-na,1962/4/5,n\n,,,\nx,y,1962/4/6,n\n'.encode(
            "gb18030"
        )
    )
    records = list(sheets.read(file, sheets.MEMBER_COLUMNS, max_rows=10))
    assert [(r.number, r.text("member_id")) for r in records] == [(2, "li-na"), (4, "y")]
    assert records[0].heading("name") == "姓名"
    with pytest.raises(sheets.TooManyRows) as refused:
        list(sheets.read(file, sheets.MEMBER_COLUMNS, max_rows=1))
    assert refused.value.row == 4


def test_every_sheet_error_and_expected_phrase_reads_in_chinese() -> None:
    zh = text("zh")
    phrases = [
        sheets.DATE_EXPECTED,
        sheets.DATE_ONLY_EXPECTED,
        sheets.DAY_NUMBER_EXPECTED,
        sheets.MOMENT_EXPECTED,
        sheets.MOMENT_NUMBER_EXPECTED,
        sheets.WHOLE_EXPECTED,
    ]
    for phrase in phrases:
        assert zh.translation("expected", phrase) is not None, phrase
    errors = [
        sheets.SheetTypeUnknown,
        sheets.SheetEmpty,
        sheets.EncodingUnknown,
        sheets.SheetUnreadable,
        sheets.HeaderInvalid,
        sheets.RowTooLong,
        sheets.TooManyRows,
        sheets.CellEmpty,
        sheets.CellInvalid,
    ]
    for error in errors:
        assert zh.translation(error.code, error.template) is not None, error.code
