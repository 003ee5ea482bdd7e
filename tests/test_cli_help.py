"""The command line's help and usage errors in Chinese, and unchanged in English.

Every command's ``--help`` (its docstring, each option's help, click's headings and the
usage line) reads in Chinese with ``--lang zh``; a usage error (a missing option, a bad
value, an unknown command) says ``出错了:`` and what was wrong in Chinese. In English
both are click's own. A command or option whose help has no translation in the catalog
fails the test below, so a new one comes with its Chinese.
"""

from __future__ import annotations

import inspect
import unicodedata

import click
import pytest
from click.testing import CliRunner

from tests.human import has_chinese, untranslated
from timebank import sheets
from timebank.cli import REPORTS, main
from timebank.i18n import text


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += _walk(sub, (*path, name))
    return found


PATHS = _walk(main)
ZH = text("zh")
ERROR_ZH = ZH("Error:")
NAMES = (
    "timebank.db",
    "timebank.db-wal",
    "CSV UTF-8",
    "X-Forwarded-For",
    "OpenAPI 3.1",
    "INTEGER RANGE",
    "YYYY-MM-DD",
    "YYYY-MM",
    *REPORTS,
    "system",
    "paper_record",
    "volunteer",
    "recipient",
    "coordinator",
    "admin",
    "pending",
    "community",
    "street",
    "rejected",
)
"""Names a Chinese help page keeps as they are: files, formats, codes, metavars."""


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def _data_values(path: tuple[str, ...]) -> set[str]:
    """What the help shows as data: command and option names, metavars, codes, file names."""
    command = _command(path)
    ctx = click.Context(command, info_name=" ".join(("timebank", *path)))
    values = {"timebank", *path, *NAMES, *command.collect_usage_pieces(ctx)}
    if isinstance(command, click.Group):
        values.update(command.commands)
    for param in command.get_params(ctx):
        values.update(param.opts)
        values.update(param.secondary_opts)
        record = param.get_help_record(ctx)
        if record is not None:
            values.add(record[0])
    for columns in (sheets.MEMBER_COLUMNS, sheets.SERVICE_COLUMNS):
        values.update(columns.known)
    return values


def _run(*args: str, lang: str | None = None) -> tuple[int, str]:
    env = {"TIMEBANK_LANG": lang} if lang else {}
    result = CliRunner().invoke(main, list(args), env=env, prog_name="timebank")
    return result.exit_code, result.output


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "timebank")
def test_every_commands_help_reads_in_chinese(path: tuple[str, ...]) -> None:
    code, shown = _run("--lang", "zh", *path, "--help")
    assert code == 0, shown
    assert has_chinese(shown)
    assert untranslated(shown, _data_values(path)) == [], shown
    assert "用法:" in shown
    assert "选项:" in shown
    assert ZH.pgettext("help", "Show this message and exit.") in shown
    if isinstance(_command(path), click.Group):
        assert "命令:" in shown
    command = _command(path)
    if "\b" not in (command.help or ""):  # a \b block (the import's columns) is kept as written
        wide = [line for line in shown.splitlines() if _width(line) > 80]
        assert wide == [], "Chinese help is wrapped to the screen's width"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "timebank")
def test_every_commands_help_is_clicks_own_in_english(path: tuple[str, ...]) -> None:
    code, shown = _run("--lang", "en", *path, "--help")
    assert code == 0, shown
    assert shown.startswith(f"Usage: {' '.join(('timebank', *path))} [OPTIONS]")
    assert "Options:" in shown
    assert "Show this message and exit." in shown
    assert "用法" not in shown
    assert "选项" not in shown
    command = _command(path)
    first_words = " ".join(inspect.cleandoc(command.help or "").split()[:3])
    assert first_words in " ".join(shown.split())
    if isinstance(command, click.Group):
        assert "Commands:" in shown


def test_english_help_keeps_clicks_defaults_and_required_marks() -> None:
    _, shown = _run("--lang", "en", "report", "--help")
    assert "[default: timebank.db]" in shown
    assert "The book (programme) id.  [required]" in shown
    _, chinese = _run("--lang", "zh", "report", "--help")
    chinese = " ".join(chinese.split())
    assert "[默认: timebank.db]" in chinese
    assert "[必填]" in chinese


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "timebank")
def test_every_command_and_option_help_has_a_chinese_translation(path: tuple[str, ...]) -> None:
    command = _command(path)
    assert command.help, f"{path} has no help"
    english = inspect.cleandoc(command.help).partition("\f")[0]
    chinese = ZH.translation("help", english)
    assert chinese is not None, f"help of {path} is not in the zh_CN catalog (help.po)"
    assert has_chinese(chinese)
    for param in command.params:
        if isinstance(param, click.Option) and param.help:
            found = ZH.translation("help", param.help)
            assert found is not None, f"{path} {param.opts[0]}: its help is not in help.po"
            assert has_chinese(found)
    assert ZH.translation("help", "Show this message and exit.") is not None


def test_the_language_may_come_after_help_or_from_the_environment() -> None:
    _, after = _run("--help", "--lang", "zh", lang="en")
    assert "用法:" in after
    _, english = _run("--help", "--lang", "en", lang="zh")
    assert english.startswith("Usage: timebank [OPTIONS]")
    _, from_env = _run("report", "--help", lang="zh")
    assert "用法: timebank report [选项]" in from_env


def test_a_missing_option_is_said_in_chinese() -> None:
    code, shown = _run("--lang", "zh", "report", "orders")
    assert code == 2
    assert ERROR_ZH == "出错了:"
    error = next(line for line in shown.splitlines() if line.startswith(ERROR_ZH))
    assert has_chinese(error.removeprefix(ERROR_ZH))
    assert error == "出错了: 缺少选项 '--book'。"
    assert "用法: timebank report [选项]" in shown
    assert "运行 'timebank report --help' 查看帮助。" in shown
    assert untranslated(shown, _data_values(("report",))) == []


def test_a_missing_option_is_clicks_message_in_english() -> None:
    code, shown = _run("--lang", "en", "report", "orders")
    assert code == 2
    assert "Usage: timebank report [OPTIONS]" in shown
    assert "Try 'timebank report --help' for help." in shown
    assert shown.rstrip().endswith("Error: Missing option '--book'.")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("report", "weekly", "--book", "b"), "weekly"),
        (("serve", "--port", "99999"), "--port"),
        (("serve", "--port", "eighty"), "--port"),
        (("verfy",), "verify"),
        (("report", "orders", "--bok", "b"), "--book"),
        (("export", "month", "--book", "b", "--format", "pdf", "--out", "m.pdf"), "pdf"),
        (("import", "members", "--book", "b", "--actor", "a", "no-such-file.csv"), "no-such"),
        (("export", "passbook", "--book", "b", "--member", "m", "--from", "2026/1/1"), "--from"),
        (("db", "upgrad"), "upgrade"),
        (("report", "orders", "--book"), "--book"),
        (("--lang", "fr"), "fr"),
    ],
)
def test_usage_errors_are_said_in_chinese(args: tuple[str, ...], named: str) -> None:
    lead = () if args[0] == "--lang" else ("--lang", "zh")
    code, shown = _run(*lead, *args, lang="zh")
    assert code == 2, shown
    error = next(line for line in shown.splitlines() if line.startswith(ERROR_ZH))
    assert named in shown
    assert has_chinese(error.removeprefix(ERROR_ZH)), error
    values = {
        *args,
        *_data_values(()),
        *_data_values(tuple(a for a in args[:1] if a in main.commands)),
    }
    assert untranslated(shown, values) == [], shown
    _, english = _run("--lang", "en", *args) if lead else _run(*args, lang="en")
    assert "Error: " in english
    assert not has_chinese(english)


def test_a_command_without_a_translation_shows_its_english() -> None:
    from timebank.cli import _Group

    @click.group(cls=_Group)
    def group() -> None:
        """A group nobody has translated yet."""

    @group.command()
    @click.option("--size", help="How big it is, untranslated.")
    def measure(size: str | None) -> None:
        """Measure something, in English only."""

    result = CliRunner().invoke(group, ["measure", "--help"], env={"TIMEBANK_LANG": "zh"})
    assert result.exit_code == 0
    assert "用法:" in result.output
    assert "选项:" in result.output
    assert "Measure something, in English only." in result.output
    assert "How big it is, untranslated." in result.output
