"""What can be checked of a documented command without running it: `orders` argv parsed by
the command's own parser, `temporal` subcommands and flags against the venv's CLI, `make`
targets and variables against the Makefile, paths against the checkout, setting names
against `Settings`, and every executable written so that it is found from a fresh clone
(`.venv/bin/orders`, not `orders`, in a block a person pastes)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import re
import subprocess

from service.commands import build_parser
from service.settings import Settings
from tests.support.doc_commands import ROOT, Documented, words_of
from tests.support.doc_synopsis import fill_angles, synopsis_forms

VENV_ORDERS, VENV_TEMPORAL = ".venv/bin/orders", ".venv/bin/temporal"
_ASSIGNMENT = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=")


def problems(command: Documented) -> list[str]:
    """Why `command` would not work as the docs write it; [] when nothing is found."""
    if command.lang == "sql":
        return []  # run against a database by the e2e test
    if command.mark == "settings":
        return _settings_problems(command.text)
    if command.source == "table":
        return [p for form in synopsis_forms(command.text) for p in _orders(form[1:])]
    found = []
    for words in words_of(fill_angles(command.text)):
        found += _simple(words, pasted=command.source == "block")
    return found


def _simple(words: list[str], *, pasted: bool) -> list[str]:
    exe, args = words[0], words[1:]
    if exe == "temporal" or (exe == "orders" and pasted):  # prose may say `orders x`
        return [f"`{exe}` is not on PATH in a fresh clone: write .venv/bin/{exe}"]
    if exe in ("orders", VENV_ORDERS):
        return _orders(args, partial=not pasted)
    if exe == VENV_TEMPORAL:
        return _temporal(args)
    if exe == "make":
        return _make(args)
    if exe == ".venv/bin/python" and args[:1] == ["-m"]:
        module = ROOT / args[1].replace(".", "/")
        found = module.with_suffix(".py").exists() or (module / "__main__.py").exists()
        return [] if found else [f"no module {args[1]} in the checkout"]
    if "/" in exe and not exe.startswith((".venv/", "/")):
        path = ROOT / exe
        return [] if path.is_file() else [f"no file {exe} in the checkout"]
    return []


def _orders(argv: list[str], *, partial: bool = False) -> list[str]:
    """The command's own parser accepts `argv` (`partial`: a command named in prose, which
    may stop before its required arguments: its subcommands and options must exist)."""
    parser = build_parser("")
    if partial:
        return _walk(parser, argv)
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            args, rest = parser.parse_known_args(argv)
    except SystemExit:
        return [f"orders {' '.join(argv)}: {errors.getvalue().strip().splitlines()[-1]}"]
    if rest and not getattr(args, "passthrough", False):
        return [f"orders {' '.join(argv)}: unrecognized arguments {rest}"]
    if getattr(args, "command", None) is not None and not hasattr(args, "run"):
        return [f"orders {' '.join(argv)}: no command to run"]
    return []


def _walk(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    node = parser
    for word in argv:
        choices = _subcommands(node)
        if word.startswith("-"):
            if word.split("=")[0] not in node._option_string_actions:
                return [f"orders {' '.join(argv)}: no option {word} here"]
        elif choices is not None:
            if word not in choices:
                return [f"orders {' '.join(argv)}: no command {word!r} (one of {sorted(choices)})"]
            node = choices[word]
    return []


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return None


def _temporal(args: list[str]) -> list[str]:
    path = []
    for word in args:
        if word.startswith("-"):
            break
        path.append(word)
    help_text = _temporal_help(tuple(path))
    usage = f"temporal {' '.join(path)} [flags]"
    if usage not in help_text:
        return [f"temporal {' '.join(path)}: no such command"]
    flags = [w.split("=")[0] for w in args if w.startswith("--")]
    return [
        f"temporal {' '.join(path)}: no flag {flag}"
        for flag in flags
        if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text)
    ]


@functools.cache
def _temporal_help(path: tuple[str, ...]) -> str:
    done = subprocess.run(
        [str(ROOT / VENV_TEMPORAL), *path, "--help"], capture_output=True, text=True, timeout=30
    )
    return done.stdout + done.stderr


def _make(args: list[str]) -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    found = []
    for word in args:
        if "=" in word:
            name = word.split("=")[0]
            if not re.search(rf"^{name}\s*\??=|\$\({name}\)", makefile, re.MULTILINE):
                found.append(f"make: the Makefile reads no variable {name}")
        elif not word.startswith("-") and not re.search(
            rf"^{re.escape(word)}\s*:", makefile, re.MULTILINE
        ):
            found.append(f"make: no target {word}")
    return found


def _settings_problems(text: str) -> list[str]:
    known = {name.upper() for name in Settings.model_fields}
    names = _ASSIGNMENT.findall(text)
    return [f"{name} is no setting" for name in names if name not in known]
