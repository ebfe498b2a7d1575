"""The commands the operator's docs (README.md, docs/operations.md) tell a person to run,
read out of the Markdown so that tests can hold the docs to the code.

Three places hold commands:
- fenced `bash` (and `sql`) blocks, each marked on the line before its fence with
  `<!-- commands: MARK -->`;
- the commands table of docs/operations.md (its header's first cell is `command`): each
  code span of a row's first cell that starts with `orders` is a synopsis, `[...]` optional,
  `(a | b)` alternatives, CAPITALS placeholders; a row is `run` unless its first cell ends
  with `<!-- MARK -->`;
- inline code spans of the prose that start with `orders `, `.venv/bin/` or `temporal `.

The marks say what a test may do with a command:
  run       safe: run it, as written, against the test's own servers and names
  long      runs for minutes or until stopped (make run, orders serve, make bench)
  stack     needs the running stack of `make run` (a service on localhost:8000, a worker)
  destroys  empties or deletes state (make reset, orders reset)
  docker    needs a Docker engine
  settings  not a command: environment variables to set
Every command, whatever its mark, is checked without running it (`static_problems`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/operations.md")
MARKS = frozenset({"run", "long", "stack", "destroys", "docker", "settings"})

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)")
_BLOCK_MARK = re.compile(r"^\s*<!--\s*commands:\s*(?P<mark>[\w-]+)\s*-->\s*$")
_ROW_MARK = re.compile(r"<!--\s*(?P<mark>[\w-]+)\s*-->\s*$")
_SPAN = re.compile(r"`([^`\n]+)`")
_INLINE_START = re.compile(r"^(orders |\.venv/bin/|temporal (workflow|operator|worker|server))")


@dataclass(frozen=True)
class Documented:
    doc: str  # the file, relative to the checkout
    line: int  # where it starts
    text: str  # one logical command line (continuations joined), or a synopsis
    mark: str
    source: str  # "block", "table" or "inline"
    lang: str = "bash"

    def __str__(self) -> str:
        return f"{self.doc}:{self.line} [{self.mark}] {self.text}"


@dataclass(frozen=True)
class Block:
    doc: str
    line: int  # the fence's
    lang: str
    mark: str | None
    lines: list[tuple[int, str]]


def blocks(doc: str) -> list[Block]:
    """Every fenced block of `doc`, with the mark on the line before its fence."""
    lines = (ROOT / doc).read_text().splitlines()
    found, at = [], 0
    while at < len(lines):
        opening = _FENCE.match(lines[at])
        if opening is None:
            at += 1
            continue
        before = lines[at - 1] if at else ""
        marked = _BLOCK_MARK.match(before)
        body, end = [], at + 1
        while end < len(lines) and not lines[end].strip().startswith("```"):
            body.append((end + 1, lines[end][len(opening["indent"]) :]))
            end += 1
        mark = marked["mark"] if marked else None
        found.append(Block(doc, at + 1, opening["lang"], mark, body))
        at = end + 1
    return found


def block_commands(block: Block) -> list[Documented]:
    """The logical lines of a bash block (continuations joined, comments and blanks out),
    or the statements of an SQL block."""
    if block.lang == "sql":
        text = " ".join(line.strip() for _, line in block.lines)
        return [Documented(block.doc, block.line, text, block.mark or "", "block", "sql")]
    commands, pending, start = [], "", 0
    for number, line in block.lines:
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        start = start or number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        commands.append(Documented(block.doc, start, pending + stripped, block.mark or "", "block"))
        pending, start = "", 0
    return commands


def table_commands(doc: str) -> list[Documented]:
    """The synopses of the commands table(s) of `doc`, with each row's mark."""
    found, in_table = [], False
    for number, line in enumerate((ROOT / doc).read_text().splitlines(), start=1):
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if cells and cells[0] == "command":
            in_table = True
            continue
        if not in_table or set(cells[0]) <= {"-", " ", ":"}:
            continue
        marked = _ROW_MARK.search(cells[0])
        mark = marked["mark"] if marked else "run"
        for span in _SPAN.findall(cells[0]):
            if span.startswith("orders"):
                synopsis = span.replace("\\|", "|")
                found.append(Documented(doc, number, synopsis, mark, "table"))
    return found


def inline_commands(doc: str) -> list[Documented]:
    """Code spans of the prose (outside fences and tables) that are commands."""
    found, fenced = [], False
    for number, line in enumerate((ROOT / doc).read_text().splitlines(), start=1):
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("|"):
            continue
        for span in _SPAN.findall(line):
            if _INLINE_START.match(span):
                found.append(Documented(doc, number, span, "inline", "inline"))
    return found


def documented() -> list[Documented]:
    """Every command of the docs: blocks, tables and prose."""
    out: list[Documented] = []
    for doc in DOCS:
        for block in blocks(doc):
            if block.lang in ("bash", "sql"):
                out += block_commands(block)
        out += table_commands(doc)
        out += inline_commands(doc)
    return out


def words_of(command: str) -> list[list[str]]:
    """The simple commands of a shell line (split at |, &&, ||, ;), each as words, with the
    leading `VAR=value` assignments dropped; [] where the shell's quoting defeats us."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:
        return []
    simple: list[list[str]] = [[]]
    for token in tokens:
        if token in ("|", "&&", "||", ";", "&"):
            simple.append([])
        elif not simple[-1] and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token):
            continue
        else:
            simple[-1].append(token)
    return [s for s in simple if s]
