"""Correlation ids: a sane client id is kept, anything else is replaced by a fresh one."""

from __future__ import annotations

import re

import pytest

from core import correlation


@pytest.mark.parametrize(
    "good", ["abc", "req-42", "0f3c9a7e-1b2d-4c5e-8f90-123456789abc", "a" * 128]
)
def test_a_sane_id_is_kept(good: str) -> None:
    assert correlation.accept(good) == good


@pytest.mark.parametrize("bad", [None, "", "a" * 129, "has space", "new\nline", "é"])
def test_anything_else_gets_a_fresh_id(bad: str | None) -> None:
    fresh = correlation.accept(bad)
    assert re.fullmatch(r"[0-9a-f]{32}", fresh)
    assert fresh != correlation.accept(bad)


def test_current_is_none_outside_a_request() -> None:
    assert correlation.current() is None
    token = correlation.correlation_id.set("req-1")
    try:
        assert correlation.current() == "req-1"
    finally:
        correlation.correlation_id.reset(token)
