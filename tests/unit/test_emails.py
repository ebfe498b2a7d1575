"""The one email normalisation."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

import pytest

from core.emails import SPECIAL_USE_PATTERN, normalize_email


def test_spellings_of_one_address_normalise_alike() -> None:
    spellings = [
        "zoë@bücher.example",
        " ZOË@BÜCHER.example ",
        "zoe\u0308@xn--bcher-kva.example",
        "Zoe\u0308@XN--BCHER-KVA.EXAMPLE",
    ]
    assert {normalize_email(s) for s in spellings} == {"zoë@bücher.example"}


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@", "@b.example", "a\x00@b.example", "a@b@c"])
def test_non_addresses_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="email"):
        normalize_email(bad)


@pytest.mark.parametrize("email", ["dev@service.test", "a@b.LOCAL", "x@localhost", "y@z.onion"])
def test_special_use_domains_are_refused_as_the_document_says(email: str) -> None:
    assert re.search(SPECIAL_USE_PATTERN, email)
    with pytest.raises(ValueError, match="email"):
        normalize_email(email)


def test_the_special_use_pattern_spares_ordinary_domains() -> None:
    assert not re.search(SPECIAL_USE_PATTERN, "dev@testing.example.com")
    assert not re.search(SPECIAL_USE_PATTERN, "local@example.org")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("a" * 321, id="321-chars"),
        # About 60 KB of combining marks: NFC is quadratic on such text (seconds a call).
        pytest.param("a" + "\u0323\u0302" * 15000 + "@b.example", id="combining-marks"),
    ],
)
def test_over_long_input_is_refused_before_any_normalisation(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    class Recording:
        @staticmethod
        def normalize(form: Literal["NFC"], text: str) -> str:
            calls.append(text)
            return unicodedata.normalize(form, text)

    monkeypatch.setattr("core.emails.unicodedata", Recording)
    with pytest.raises(ValueError, match="at most 320 characters"):
        normalize_email(raw)
    assert calls == []
