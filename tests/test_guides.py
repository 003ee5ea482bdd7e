"""The coordinator's guides, followed step by step as a new user would follow them.

``docs/guide/coordinator.md`` and ``docs/guide/coordinator.zh.md`` (the English
and the Chinese page of the docs site) show their steps as shell blocks. The
blocks a test runs are fenced ```sh guide; for each page this test starts
``timebank serve --demo`` (what ``./scripts/run`` starts) in a fresh temporary
directory, over a fresh ``timebank.db``, on a free port on 127.0.0.1, and then
walks the page top to bottom, in the page's language: the server and every
command run with ``TIMEBANK_LANG`` set to it (``en`` or ``zh``), so the English
page shows what the commands print in English and the Chinese page what they
print in Chinese (a request asks for Chinese problem details itself, with
``-H "Accept-Language: zh-CN"``):

- a block fenced with ``file=NAME`` (```csv file=members.csv) is written to
  ``NAME`` in the directory, where the page shows it;
- each command of a ```sh guide block (a line, or lines joined by a trailing
  backslash; ``#`` comments are skipped) runs in bash in that directory, one
  at a time, in one session: variables set by one command (``TOKEN=$(...)``)
  are there for the next. ``timebank`` runs ``[sys.executable, "-m",
  "timebank"]`` and ``curl`` fails on an HTTP error (``--fail-with-body``).
  The page sets the port once, in a command of its own (``PORT=8000``), and
  every later command reaches the server at ``http://127.0.0.1:$PORT``; that
  one command sets the test server's port instead. Every command must exit 0;
- in a ```sh guide fails block the last command must exit non-zero;
- a ```text output block after either shows what the last command prints:
  each of its lines must appear in that output, in order (``...`` stands for
  anything).

Blocks fenced plain ```sh (the server itself, a browser, a cron table) and
```powershell (the same steps on Windows) are shown, not run. The two pages
must stay in step: the same number of ``##`` sections and the same commands
and sample files, in the same order. Only language may differ: a command's
``-H "Accept-Language: ..."``, and a sample file's heading row, whose headings
may be in Chinese (``姓名`` for ``name``) as long as they name the same columns,
in the same order, as the other page's. The test stops the server it started,
by its pid, whatever happens.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from timebank import sheets

ROOT = Path(__file__).resolve().parent.parent
GUIDES = {
    "en": ROOT / "docs" / "guide" / "coordinator.md",
    "zh": ROOT / "docs" / "guide" / "coordinator.zh.md",
}
SECRET = "guide-tests-" + "s" * 40
PORT_LINE = re.compile(r"PORT=\d+")  # the one line a reader changes when port 8000 is taken
FIXED_PORT = re.compile(r"127\.0\.0\.1:\d")
ACCEPT_LANGUAGE = re.compile(r"""\s+-H\s+(["'])Accept-Language:[^"']*\1""", re.IGNORECASE)
"""A request's ``-H "Accept-Language: zh-CN"``: the language its reader wants the answer in."""
SHEET_COLUMNS = (sheets.MEMBER_COLUMNS, sheets.SERVICE_COLUMNS)
"""The columns a sample file's headings may name, in English or in Chinese."""
READY_WITHIN_S = 30.0
COMMAND_TIMEOUT_S = 60.0

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_PRELUDE = """\
timebank() { "$GUIDE_PYTHON" -m timebank "$@"; }
curl() { command curl --silent --show-error --fail-with-body --max-time 30 "$@"; }
set -a
"""
_EPILOGUE = """
guide_status=$?
env -0 > "$GUIDE_ENV_FILE"
exit $guide_status
"""
_SHELL_ONLY = frozenset({"_", "SHLVL", "PWD", "OLDPWD", "GUIDE_ENV_FILE", "guide_status"})


@dataclass(frozen=True)
class Fenced:
    """One fenced block: the line its opening fence is on (1-based), its info words, its text."""

    line: int
    info: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Step:
    """Something the reader does: write a file, or run commands (and maybe see an output)."""

    line: int
    file: str | None = None
    content: str = ""
    commands: tuple[str, ...] = ()
    fails: bool = False
    output: str | None = None


def fenced_blocks(text: str) -> list[Fenced]:
    """Every fenced block of a markdown text, in order (``` or ~~~ fences)."""
    blocks: list[Fenced] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not _closes(lines[end], fence):
            spaces = len(lines[end]) - len(lines[end].lstrip(" "))
            body.append(lines[end][min(spaces, indent) :])
            end += 1
        info = tuple(opening["info"].split())
        blocks.append(Fenced(line=index + 1, info=info, text="\n".join(body) + "\n"))
        index = end + 1
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def commands_of(text: str) -> tuple[str, ...]:
    """The commands of a shell block, as a terminal reads them; ``#`` comment lines dropped.

    A command goes on over the next line after a trailing backslash or inside an
    open quote (a JSON body over several lines); its text is kept as written, for
    bash to read exactly as a terminal would.
    """
    commands: list[str] = []
    pending: list[str] = []
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending.append(line)
        if not _continues("\n".join(pending)):
            commands.append("\n".join(pending).strip())
            pending = []
    assert not pending, f"a command is not finished: {pending!r}"
    return tuple(commands)


def _continues(command: str) -> bool:
    """Whether a command goes on past its last line: an open quote or a trailing backslash."""
    quote: str | None = None
    escaped = False
    for char in command:
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote is None and char in "'\"":
            quote = char
        elif char == quote:
            quote = None
    return quote is not None or command.endswith("\\")


def guide_steps(text: str) -> list[Step]:
    """What a reader of the page does, in order."""
    steps: list[Step] = []
    for block in fenced_blocks(text):
        words = block.info
        files = [w.removeprefix("file=") for w in words[1:] if w.startswith("file=")]
        if files:
            steps.append(Step(line=block.line, file=files[0], content=block.text))
        elif words[:2] == ("sh", "guide"):
            fails = words[2:] == ("fails",)
            assert fails or len(words) == 2, f"line {block.line}: unknown fence {' '.join(words)}"
            commands = commands_of(block.text)
            assert commands, f"line {block.line}: a sh guide block without commands"
            steps.append(Step(line=block.line, commands=commands, fails=fails))
        elif words == ("text", "output"):
            assert steps, f"line {block.line}: output without a command"
            assert steps[-1].commands, f"line {block.line}: output without a command"
            last = steps.pop()
            steps.append(Step(**{**last.__dict__, "output": block.text}))
    for step in steps:
        assert not step.fails or step.output is not None, (
            f"line {step.line}: a sh guide fails block must show its error in a text output block"
        )
    return steps


def shows(expected: str, output: str) -> bool:
    """Whether each line of ``expected`` appears in ``output``, in order; ``...`` is a gap."""
    position = 0
    for line in expected.splitlines():
        for fragment in (part.strip() for part in line.split("...")):
            if fragment:
                found = output.find(fragment, position)
                if found < 0:
                    return False
                position = found + len(fragment)
    return True


def sections(text: str) -> list[str]:
    """The page's ``##`` headings, outside fenced blocks."""
    headings: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence is None and opening is not None:
            fence = opening["fence"]
        elif fence is not None and _closes(line, fence):
            fence = None
        elif fence is None and line.startswith("## "):
            headings.append(line[3:].strip())
    return headings


# --- following a page ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def base_env(directory: Path, language: str) -> dict[str, str]:
    """The environment of the server and the commands: the page's ``language`` (``en``, ``zh``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    env.update(
        TIMEBANK_TOKEN_SECRET=SECRET,
        GUIDE_PYTHON=sys.executable,
        HOME=str(directory),
        LANG="C.UTF-8",
        TIMEBANK_LANG=language,  # each page shows what the commands print in its language
        NO_COLOR="1",
    )
    return env


@contextmanager
def demo_server(directory: Path, language: str) -> Iterator[int]:
    """``timebank serve --demo`` over ``directory/timebank.db``, as ``./scripts/run`` starts it.

    Yields the port it listens on, once it is ready.
    """
    port = free_port()
    command = [sys.executable, "-m", "timebank", "serve", "--demo"]
    command += ["--database", "timebank.db", "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with (directory / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            command, cwd=directory, env=base_env(directory, language), stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + READY_WITHIN_S
            while not _ready(base):
                assert process.poll() is None, "the server stopped:\n" + _tail(directory)
                assert time.monotonic() < deadline, "the server never got ready:\n" + _tail(
                    directory
                )
                time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/ready", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _tail(directory: Path) -> str:
    return (directory / "serve.log").read_text(errors="replace")[-3000:]


class Session:
    """One terminal in the temporary directory: commands share its variables."""

    def __init__(self, directory: Path, port: int, language: str) -> None:
        self.directory = directory
        self.port = port
        self.env = base_env(directory, language)
        self.env_file = directory / ".guide-env"

    def run(self, command: str) -> tuple[int, str]:
        if PORT_LINE.fullmatch(command):
            command = f"PORT={self.port}"
        script = _PRELUDE + command + _EPILOGUE
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.directory,
            env={**self.env, "GUIDE_ENV_FILE": str(self.env_file)},
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
        if self.env_file.exists():
            pairs = self.env_file.read_text().split("\0")
            found = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
            self.env = {k: v for k, v in found.items() if k not in _SHELL_ONLY}
            self.env_file.unlink()
        return done.returncode, done.stdout + done.stderr


def follow(page: Path, directory: Path, language: str) -> int:
    """Do what the page says, step by step, in its ``language``; return how many commands ran."""
    steps = guide_steps(page.read_text(encoding="utf-8"))
    ran = 0
    with demo_server(directory, language) as port:
        session = Session(directory, port, language)
        for step in steps:
            where = f"{page.relative_to(ROOT)}, block at line {step.line}"
            if step.file is not None:
                (directory / step.file).write_text(step.content, encoding="utf-8")
                continue
            output = ""
            for number, command in enumerate(step.commands, start=1):
                code, output = session.run(command)
                ran += 1
                must_fail = step.fails and number == len(step.commands)
                if (code != 0) != must_fail:
                    expected = "a failure" if must_fail else "exit 0"
                    raise StepFailed(
                        f"{where}: `{command}` exited {code}, not {expected}:\n{output}\n"
                        f"--- server log ---\n{_tail(directory)}"
                    )
            if step.output is not None and not shows(step.output, output):
                raise StepFailed(
                    f"{where}: the output is not what the page shows.\n"
                    f"--- shown ---\n{step.output}--- printed ---\n{output}"
                )
    return ran


class StepFailed(AssertionError):
    """A step of a guide did not do what the page says."""


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int | StepFailed]:
    """Both pages followed at once (each on its own server and directory), by language."""
    if shutil.which("bash") is None or shutil.which("curl") is None:
        pytest.skip("following the guide needs bash and curl")

    def outcome(language: str) -> int | StepFailed:
        try:
            directory = tmp_path_factory.mktemp(f"guide-{language}")
            return follow(GUIDES[language], directory, language)
        except StepFailed as failure:
            return failure

    with ThreadPoolExecutor(max_workers=len(GUIDES)) as pool:
        return dict(zip(GUIDES, pool.map(outcome, GUIDES), strict=True))


@pytest.mark.parametrize("language", sorted(GUIDES))
def test_a_new_coordinator_can_follow_the_guide(
    language: str, followed: dict[str, int | StepFailed]
) -> None:
    """Every sh guide command of the page succeeds (or fails as shown) on a fresh demo."""
    result = followed[language]
    if isinstance(result, StepFailed):
        pytest.fail(str(result), False)
    assert result >= 20


def same_request(command: str) -> str:
    """A command without its ``-H "Accept-Language: ..."``: the pages' languages may differ."""
    return ACCEPT_LANGUAGE.sub("", command)


def same_sheet(content: str) -> str:
    """A sample file with its headings as the columns they name (``姓名`` is ``name``).

    The first line is read as comma-separated headings; one that no import knows is kept as
    it is written, and so are the rows below.
    """
    heading, newline, rows = content.partition("\n")
    named = []
    for cell in heading.split(","):
        found = (kind.column(cell) for kind in SHEET_COLUMNS)
        named.append(next((column for column in found if column is not None), cell))
    return ",".join(named) + newline + rows


def test_the_two_pages_stay_in_step() -> None:
    """Both pages have as many sections, and the same commands and files in the same order."""
    texts = {language: path.read_text(encoding="utf-8") for language, path in GUIDES.items()}
    counts = {language: len(sections(text)) for language, text in texts.items()}
    assert counts["en"] == counts["zh"] >= 8, counts

    def runnable(text: str) -> list[tuple[str | None, str, tuple[str, ...], bool]]:
        return [
            (
                s.file,
                same_sheet(s.content) if s.file else s.content,
                tuple(map(same_request, s.commands)),
                s.fails,
            )
            for s in guide_steps(text)
        ]

    assert runnable(texts["en"]) == runnable(texts["zh"])


@pytest.mark.parametrize("language", sorted(GUIDES))
def test_commands_reach_the_server_through_one_port_line(language: str) -> None:
    """The page sets ``PORT`` once, before any command uses it; no command names a port itself."""
    commands = [
        c for s in guide_steps(GUIDES[language].read_text(encoding="utf-8")) for c in s.commands
    ]
    port_lines = [n for n, command in enumerate(commands) if PORT_LINE.fullmatch(command)]
    assert len(port_lines) == 1, port_lines
    using = [n for n, command in enumerate(commands) if "$PORT" in command]
    assert using, "no command reaches the server"
    assert port_lines[0] < using[0]
    assert not [c for c in commands if FIXED_PORT.search(c)], "a command names a port itself"


# --- the reader itself -----------------------------------------------------------------------

SAMPLE = """\
# Sample

```csv file=people.csv
member_id,name
a,A
```

```sh
timebank serve --demo
```

```powershell
$PORT = 8000
```

```sh guide
# a comment
TOKEN=$(timebank token --book demo \\
  --subject wang-fang --role coordinator)
curl http://127.0.0.1:$PORT/health
```

```sh guide fails
timebank import members people.csv --book demo
```

```text output
Error: row 1: ... missing column 'birth_date'
```
"""


def test_steps_are_read_in_page_order() -> None:
    """Files, runnable commands and shown output are read in order; sh and powershell are not."""
    file, commands, failing = guide_steps(SAMPLE)
    assert (file.file, file.content) == ("people.csv", "member_id,name\na,A\n")
    assert commands.commands == (
        "TOKEN=$(timebank token --book demo \\\n  --subject wang-fang --role coordinator)",
        "curl http://127.0.0.1:$PORT/health",
    )
    assert commands.output is None
    assert not commands.fails
    assert failing.fails
    assert failing.output == "Error: row 1: ... missing column 'birth_date'\n"


def test_a_command_goes_on_inside_quotes() -> None:
    """A JSON body over several lines is one command, kept as written."""
    block = 'curl -d \'{"a": 1,\n  "b": "\\""}\'\necho "x\ny" \\\n  z\nls\n'
    assert commands_of(block) == (
        'curl -d \'{"a": 1,\n  "b": "\\""}\'',
        'echo "x\ny" \\\n  z',
        "ls",
    )


def test_shown_output_matches_in_order_with_gaps() -> None:
    """Each shown line must appear, in order; ``...`` skips anything."""
    printed = "Error: row 1: unknown column 'birthday'; missing column 'birth_date'\n"
    assert shows("Error: row 1: ... missing column 'birth_date'", printed)
    assert not shows("missing column 'birth_date'\nError: row 1:", printed)


def test_a_failing_block_must_show_its_error() -> None:
    """A sh guide fails block without a text output block is a mistake in the page."""
    with pytest.raises(AssertionError, match="must show its error"):
        guide_steps("```sh guide fails\ntimebank verify\n```\n")


def test_the_pages_may_differ_only_in_language() -> None:
    """A request's Accept-Language and a sheet's Chinese headings do not put the pages apart."""
    english = "curl -X POST http://127.0.0.1:$PORT/x \\\n  -H \"Authorization: Bearer $T\" -d '{}'"
    chinese = english.replace("curl", 'curl -H "Accept-Language: zh-CN"')
    assert same_request(chinese) == english
    assert same_request("curl -H 'accept-language: en' http://h/") == "curl http://h/"
    rows = "qian-guihua,钱桂花,1939-08-15\n"
    assert same_sheet("编号,姓名,出生日期\n" + rows) == "member_id,name,birth_date\n" + rows
    assert same_sheet("服务时长(分钟),备注\n") == "raw_minutes,note\n"
    assert same_sheet("姓名,生日\n" + rows) != same_sheet("name,community\n" + rows)
    assert same_sheet("nickname,name\n") == "nickname,name\n"
