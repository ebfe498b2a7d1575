"""Synopses of commands as the docs write them, `orders dlq discard (MESSAGE_ID... | --all)
--reason TEXT [--json]`: `[...]` optional, `(a | b)` alternatives, CAPITALS placeholders
(`ID...`: one or more), `<...>` a made-up value in an example (`order-<uuid>`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# What a placeholder of a synopsis or an example stands for, when a test fills it.
PLACEHOLDERS: dict[str, Callable[[], str]] = {
    "EMAIL": lambda: f"docs-{uuid.uuid4().hex[:10]}@example.com",
    "ID": lambda: str(uuid.uuid4()),
    "ORDER_ID": lambda: str(uuid.uuid4()),
    "EVENT_ID": lambda: str(uuid.uuid4()),
    "MESSAGE_ID": lambda: f"docs-{uuid.uuid4().hex[:8]}",
    "N": lambda: "5",
    "S": lambda: "5",
    "Q": lambda: "WorkflowType = 'OrderWorkflow'",
    "DURATION": lambda: "1h",
    "DIR": lambda: "/nonexistent/temporal-data",
    "TEXT": lambda: "checked by the documented-commands test",
}
_ANGLE = re.compile(r"<[^<>]+>")


def _synopsis_tokens(synopsis: str) -> list[str]:
    spaced = re.sub(r"([\[\]()|])", r" \1 ", synopsis)
    return spaced.split()


@dataclass(frozen=True)
class OptionalPart:
    items: list[Item]  # `[...]`


@dataclass(frozen=True)
class Choice:
    alternatives: list[list[Item]]  # `(a | b)`


Item = str | OptionalPart | Choice


def _parse(tokens: list[str], at: int = 0, closing: str = "") -> tuple[list[Item], int]:
    """A sequence of words, optional groups and choices, up to `closing`."""
    items: list[Item] = []
    choices: list[list[Item]] = []
    while at < len(tokens):
        token = tokens[at]
        if token == closing:
            break
        if token == "[":
            inner, at = _parse(tokens, at + 1, "]")
            items.append(OptionalPart(inner))
        elif token == "(":
            inner, at = _parse(tokens, at + 1, ")")
            items += inner
        elif token == "|":
            choices.append(items)
            items = []
        else:
            items.append(token)
        at += 1
    if choices:
        return [Choice([*choices, items])], at
    return items, at


def _expand(items: list[Item], *, optional: bool, pick: int) -> list[str]:
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, OptionalPart):
            out += _expand(item.items, optional=optional, pick=pick) if optional else []
        else:  # a choice: `pick` chooses; -1 prefers one with no placeholder
            out += _expand(_choose(item.alternatives, pick), optional=optional, pick=pick)
    return out


def _choose(alternatives: list[list[Item]], pick: int) -> list[Item]:
    if pick >= 0:
        return alternatives[pick % len(alternatives)]
    for alternative in alternatives:
        words = _expand(alternative, optional=False, pick=0)
        if not any(_placeholder(w) for w in words):
            return alternative
    return alternatives[0]


def _placeholder(word: str) -> str | None:
    name = word.removesuffix("...")
    return name if name in PLACEHOLDERS else None


def _fill(words: list[str]) -> list[str]:
    filled = []
    for word in words:
        name = _placeholder(word)
        filled.append(PLACEHOLDERS[name]() if name else fill_angles(word))
    return filled


def fill_angles(text: str) -> str:
    """`order-<uuid>`, `<order id>`...: a made-up id in their place."""
    return _ANGLE.sub(lambda _: str(uuid.uuid4()), text)


def synopsis_forms(synopsis: str) -> Iterator[list[str]]:
    """Every argv a synopsis allows, filled: all optional parts, each alternative once."""
    items, _ = _parse(_synopsis_tokens(synopsis))
    widest = max([1, *(_alternative_counts(items))])
    for pick in range(widest):
        yield _fill(_expand(items, optional=True, pick=pick))


def synopsis_to_run(synopsis: str) -> list[str]:
    """The plainest argv of a synopsis: no optional part, an alternative without a
    placeholder when there is one (`--all`), placeholders filled."""
    items, _ = _parse(_synopsis_tokens(synopsis))
    return _fill(_expand(items, optional=False, pick=-1))


def _alternative_counts(items: list[Item]) -> Iterator[int]:
    for item in items:
        if isinstance(item, OptionalPart):
            yield from _alternative_counts(item.items)
        elif isinstance(item, Choice):
            yield len(item.alternatives)
            for alternative in item.alternatives:
                yield from _alternative_counts(alternative)
