"""The documentation's code examples run as tests, so they never drift from the code.

Every ```python block in README.md and docs/**/*.md runs, top to bottom. The
blocks of one file share one namespace, in file order, so a later block can
build on an earlier one; each file starts from a fresh namespace. A block
whose fence reads ```python no-run is shown but not run. A failing block is
reported with its file and the line its fence opens on, and its traceback
points at the markdown lines themselves.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = frozenset({"python", "py", "python3"})
NO_RUN = "no-run"

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class Block:
    """One fenced python block: the line its opening fence is on (1-based) and its code."""

    line: int
    source: str
    run: bool


def markdown_files() -> list[Path]:
    """README.md and every markdown file under docs/, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def python_blocks(text: str) -> list[Block]:
    """The python blocks of a markdown text, in order (CommonMark fences, ``` or ~~~)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        indent = len(opening["indent"])
        fence = opening["fence"]
        words = opening["info"].split()
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not _closes(lines[end], fence):
            body.append(_dedent(lines[end], indent))
            end += 1
        if words and words[0].lower() in LANGUAGES:
            source = "\n".join(body) + "\n"
            blocks.append(Block(line=index + 1, source=source, run=NO_RUN not in words[1:]))
        index = end + 1
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    if len(line) - len(line.lstrip(" ")) > 3 or not stripped:
        return False
    return set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def _dedent(line: str, indent: int) -> str:
    """Drop up to ``indent`` leading spaces, as CommonMark does inside an indented fence."""
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def run_blocks(label: str, filename: str, blocks: list[Block]) -> int:
    """Run the blocks in one shared namespace; fail naming the file and block line.

    The code is compiled as if it stood at its real place in the markdown file,
    so tracebacks give markdown line numbers. Returns how many blocks ran.
    """
    namespace: dict[str, object] = {"__name__": "docs_" + re.sub(r"\W", "_", label)}
    ran = 0
    for block in blocks:
        if not block.run:
            continue
        padded = "\n" * block.line + block.source
        trace = ""
        try:
            exec(compile(padded, filename, "exec"), namespace)
        except BaseException as error:  # report every failure, including SystemExit
            frames = error.__traceback__.tb_next if error.__traceback__ else None
            trace = "".join(traceback.format_exception(type(error), error, frames))
        if trace:
            pytest.fail(f"{label}: the python block at line {block.line} failed:\n{trace}", False)
        ran += 1
    return ran


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


FILES = markdown_files()


@pytest.mark.parametrize("path", FILES, ids=[_relative(path) for path in FILES])
def test_markdown_examples_run(path: Path) -> None:
    """Every python block of a markdown file runs without error, in order."""
    text = path.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    fences = re.findall(r"^ {0,3}(?:`{3,}|~{3,})\s*(?:python|py|python3)\b", text, re.M | re.I)
    assert len(blocks) == len(fences), f"{_relative(path)}: a python fence was not collected"
    if fences:
        assert blocks, f"{_relative(path)} has python fences but no block was found"
    ran = run_blocks(_relative(path), str(path), blocks)
    assert ran == sum(block.run for block in blocks)


def test_readme_and_ledger_page_are_collected() -> None:
    """The README and the ledger page are among the files run, and both have examples."""
    collected = {_relative(path): path for path in FILES}
    for name in ("README.md", "docs/ledger.md"):
        assert name in collected, f"{name} is not collected"
        assert python_blocks(collected[name].read_text(encoding="utf-8")), f"{name} has no blocks"


# --- the runner itself ---------------------------------------------------------------------

SAMPLE = """\
# Sample

```python
total = 1
```

Some prose.

```python
total += 1
assert total == 3, total
```

```python no-run
raise RuntimeError("never run")
```

~~~py
unreachable = True
~~~
"""


def test_blocks_are_found_with_their_fence_lines() -> None:
    """Each python block is found with the line of its opening fence and its run flag."""
    blocks = python_blocks(SAMPLE)
    assert [(b.line, b.run) for b in blocks] == [(3, True), (9, True), (14, False), (18, True)]
    assert blocks[0].source == "total = 1\n"


def test_non_python_and_nested_fences_are_ignored() -> None:
    """Shell blocks are skipped, and a longer fence may contain a shorter one."""
    text = "````markdown\n```python\nboom()\n```\n````\n\n```sh\nls\n```\n"
    assert python_blocks(text) == []


def test_indented_fence_is_dedented() -> None:
    """A fence inside a list item is dedented by the fence's own indentation."""
    (block,) = python_blocks("- item\n\n  ```python\n  x = 1\n  ```\n")
    assert block.source == "x = 1\n"


def test_blocks_share_one_namespace_in_order() -> None:
    """A later block sees the names an earlier block of the same file defined."""
    blocks = python_blocks("```python\nx = 2\n```\n\n```python\nassert x == 2\n```\n")
    assert run_blocks("sample.md", "sample.md", blocks) == 2


def test_failing_block_reports_file_and_line() -> None:
    """A block that raises fails the test, naming the file and the block's line."""
    with pytest.raises(pytest.fail.Exception) as failure:
        run_blocks("sample.md", "sample.md", python_blocks(SAMPLE))
    message = str(failure.value)
    assert "sample.md: the python block at line 9 failed" in message
    assert 'File "sample.md", line 11' in message
    assert "AssertionError: 2" in message


def test_no_run_block_is_not_run() -> None:
    """A block marked no-run is collected but never executed."""
    blocks = python_blocks("```python no-run\nraise SystemExit(1)\n```\n")
    assert run_blocks("sample.md", "sample.md", blocks) == 0
