"""SECRET_KEY is refused at start-up when a strength estimator can guess it in fewer than
2^128 tries (RFC 7518 §3.2 wants an HS256 key of 256 random bits); the message names the
variable and the command that makes a good one, never the key."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from service.settings import load_settings
from service.settings.secret_key import MAX_ESTIMATED_LENGTH, check_secret_key
from tests.support.settings import make_settings, only_required_env, refused

GOOD_KEY_COMMAND = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    only_required_env(monkeypatch, tmp_path, secret_key=None)


def _refused(monkeypatch: pytest.MonkeyPatch, key: str) -> str:
    message = refused(monkeypatch, SECRET_KEY=key)
    assert key not in message  # the key itself is never printed
    return message


@pytest.mark.parametrize(
    "guessable",
    [
        "MySuperSecretKeyForOrdersService!",  # ~10^24 guesses: words, capitals, a symbol
        "MySuperSecretKeyForOrdersService!" * 2,
        "correct-horse-battery-staple-orders-2024!",
        "Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3",
        "3101b6395ddfa3b63e062e43c064ec6c",  # `openssl rand -hex 16`: zxcvbn counts 10^32
        "SZLUCnM78rsYpXP6xgwwAXVWT6FZlWNB",  # token_urlsafe(24): 32 characters, 10^32 again
    ],
)
def test_a_guessable_secret_key_is_refused_naming_it_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, guessable: str
) -> None:
    message = _refused(monkeypatch, guessable)
    assert "SECRET_KEY: is guessable" in message
    assert "2^128" in message
    assert GOOD_KEY_COMMAND in message


@pytest.mark.parametrize(
    "weak",
    [
        "a" * 40,
        "passwordpasswordpasswordpassword",
        "0123456789abcdef0123456789abcdef",
        "abababababababababababababababababababab",
        "test-secret-key-that-is-long-enough-0123456789",  # the test suite's old key
    ],
)
def test_patterns_and_words_are_refused(monkeypatch: pytest.MonkeyPatch, weak: str) -> None:
    assert "SECRET_KEY: is guessable" in _refused(monkeypatch, weak)


def test_keys_from_the_documented_commands_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(20):
        # secrets.token_urlsafe(48) (README, make run), `openssl rand -hex 32`, 32 bytes b64.
        for key in (secrets.token_urlsafe(48), secrets.token_hex(32), secrets.token_urlsafe(32)):
            monkeypatch.setenv("SECRET_KEY", key)
            assert load_settings().secret_key.get_secret_value() == key


def test_the_test_suites_key_passes() -> None:
    make_settings()  # tests/support/settings.py's key goes through the same check


def test_a_long_key_is_judged_by_a_bounded_prefix_and_quickly() -> None:
    """zxcvbn is quadratic and refuses more than 72 characters: it sees a prefix."""
    long_random = secrets.token_urlsafe(3000)
    started = time.perf_counter()
    check_secret_key(long_random)
    assert time.perf_counter() - started < 1.0
    with pytest.raises(ValueError, match="guessable"):  # a weak start is a weak key
        check_secret_key("a" * MAX_ESTIMATED_LENGTH + secrets.token_urlsafe(48))


def test_the_placeholder_is_refused_though_it_looks_random_to_zxcvbn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service.settings import EXAMPLE_SECRET_KEY

    assert "SECRET_KEY: is the .env.example placeholder" in _refused(
        monkeypatch, EXAMPLE_SECRET_KEY
    )
