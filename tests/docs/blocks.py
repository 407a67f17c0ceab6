"""Every fenced code block of README.md and docs/*.md, and what its test does with it.

Found anew on each run, so a block someone adds is tested without anyone registering it.
How a block is classified (first match wins):

==========================  ===================================================  ===========
fence / marker              test                                                 kind
==========================  ===================================================  ===========
``<!-- docs-test: skip        not run; the reason is required and the few such    ``skip``
REASON -->``                 blocks are counted (a remote host, the suite itself)
``python`` + ``<!--           an API listing: every class and method it names     ``api``
docs-test: api -->``         exists, ``async`` where it says so
``python`` with ``def         run by pytest in a fresh virtualenv built from a    ``pytest``
test_``                      wheel, beside ``images/demo-layout``
``python``                   run as a script in that virtualenv                  ``script``
``yaml`` + ``<!-- docs-test:  parsed as a rules file                               ``rules``
rules -->``
``yaml`` + ``<!-- docs-test:  a fragment nested under KEY (dotted), wrapped into a  ``config``
config-under KEY -->``       config document, then as below
``yaml``                     a config document (a fragment of top-level sections  ``config``
                             gets ``version`` and in-memory ``storage``) loaded
                             by ``load_config``
``json``                     parsed; the notification event examples are also    ``json``
                             compared with an event the registry sends
``bash`` / ``sh``            run with bash on loopback in a sandbox               ``shell``
                             (tests/docs/sandbox.py)
``toml``                     parsed with tomllib                                 ``toml``
``text``                     shown output or a listing: not run                  ``text``
no language                  an error: every block says what it is               ``unknown``
==========================  ===================================================  ===========

The marker is an HTML comment (invisible when rendered) on the line right above the fence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"<!--\s*docs-test:\s*(?P<kind>[\w-]+)\s*(?P<arg>.*?)\s*-->")
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")
TEXT_LANGUAGES = frozenset({"text", "console", "http"})


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    marker: str | None  # e.g. "skip", "api", "rules", "config-under"
    marker_arg: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def kind(self) -> str:
        if self.marker == "skip":
            return "skip"
        if self.language == "python":
            if self.marker == "api":
                return "api"
            return "pytest" if re.search(r"^def test_", self.text, re.M) else "script"
        if self.language in ("yaml", "yml"):
            return "rules" if self.marker == "rules" else "config"
        if self.language == "json":
            return "json"
        if self.language == "toml":
            return "toml"
        if self.language in ("bash", "sh", "shell"):
            return "shell"
        if self.language in TEXT_LANGUAGES:
            return "text"
        return "unknown"


def markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            body.append(lines[end][indent:])
            end += 1
        marker = MARKER.search(lines[index - 1]) if index else None
        found.append(
            Block(
                path=path,
                line=index + 1,
                language=opening["lang"].lower(),
                text="\n".join(body) + "\n",
                marker=marker["kind"] if marker else None,
                marker_arg=marker["arg"] if marker else "",
            )
        )
        index = end + 1
    return found


def all_blocks() -> list[Block]:
    return [block for path in markdown_files() for block in blocks_of(path)]


def of_kind(*kinds: str) -> list[Block]:
    return [block for block in all_blocks() if block.kind in kinds]


def preceding(block: Block, kind: str) -> Block | None:
    """The nearest block of ``kind`` above ``block`` in the same file (a shell block's
    ``config.yml`` is the config shown before it)."""
    earlier = [b for b in blocks_of(block.path) if b.line < block.line and b.kind == kind]
    return earlier[-1] if earlier else None
