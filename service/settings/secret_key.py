"""SECRET_KEY, the key that signs every access token: refused when it is guessable.

An HS256 key wants 256 random bits (RFC 7518 §3.2). What a key is worth against someone
who knows words, names, keyboard walks, dates, repeats, sequences and l33t spellings is
estimated by zxcvbn (Dropbox's estimator): the number of guesses it would take. A key under
2^128 guesses is refused: `MySuperSecretKeyForOrdersService!` rates about 10^24 (zxcvbn's
0-4 score alone, 4, would pass it), a 48-byte random token about 10^63. zxcvbn is
quadratic in the length and refuses more than 72 characters, so it judges a key's first
72: a longer key passes when they are random (a weak start is refused, whatever follows).
Checked once, when the settings load: about 30 ms at 72 characters.
"""

from __future__ import annotations

import functools
import math
from typing import Final

MIN_SECRET_KEY_LENGTH: Final = 32
# 2^128 guesses, in zxcvbn's unit (log10 of the guesses).
MIN_GUESSES_LOG10: Final = 128 * math.log10(2)
# zxcvbn's own bound (it raises above it); its matching is quadratic in the length.
MAX_ESTIMATED_LENGTH: Final = 72
# .env.example's placeholder: public, so a token signed with it proves nothing. (zxcvbn
# rates it above 2^128: it is refused by name.)
EXAMPLE_SECRET_KEY: Final = "change-me-to-a-random-string-of-at-least-32-characters"
GOOD_KEY_COMMAND: Final = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


@functools.lru_cache(maxsize=4)  # settings built again (tests: hundreds) judge it once
def estimated_guesses_log10(secret: str) -> float:
    """log10 of the guesses zxcvbn needs for the key's first MAX_ESTIMATED_LENGTH characters."""
    from zxcvbn import zxcvbn  # untyped (mypy override); loaded only here

    result = zxcvbn(secret[:MAX_ESTIMATED_LENGTH], max_length=MAX_ESTIMATED_LENGTH)
    return float(result["guesses_log10"])


def check_secret_key(secret: str) -> None:
    """ValueError, saying what to do, for a key anyone could read or guess."""
    if secret == EXAMPLE_SECRET_KEY or "change-me" in secret.lower():
        raise ValueError(
            "is the .env.example placeholder, which anyone can read: "
            f"make a random one with: {GOOD_KEY_COMMAND}"
        )
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(
            f"must be at least {MIN_SECRET_KEY_LENGTH} characters long: "
            f"make a random one with: {GOOD_KEY_COMMAND}"
        )
    guesses = estimated_guesses_log10(secret)
    if guesses < MIN_GUESSES_LOG10:
        raise ValueError(
            f"is guessable: about 10^{guesses:.0f} guesses (zxcvbn), under the 2^128 "
            "(about 10^38.5) a token-signing key needs; HS256 wants 256 random bits. "
            f"Make one with: {GOOD_KEY_COMMAND}"
        )
