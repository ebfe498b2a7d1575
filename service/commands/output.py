"""What an operator's command prints: lines for a person, or one JSON document (`--json`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import orjson


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document, for scripts")


def emit(args: argparse.Namespace, data: Any, lines: Callable[[Any], list[str]]) -> None:
    if args.json:
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode())
        sys.stdout.write("\n")
    else:
        sys.stdout.write("".join(line + "\n" for line in lines(data)))
    sys.stdout.flush()
