"""SECRET_KEY, the key that signs every access token: refused when it is guessable."""

from __future__ import annotations

import math
from collections import Counter

MIN_SECRET_KEY_LENGTH = 32
# Estimated bits (below): random keys of 32 characters or more score 90+ even in hex
# (`openssl rand -hex 16`), while a repeated character, word or pattern scores far less.
MIN_SECRET_KEY_BITS = 80
# .env.example's placeholder: public, so a token signed with it proves nothing.
EXAMPLE_SECRET_KEY = "change-me-to-a-random-string-of-at-least-32-characters"


def estimated_bits(secret: str) -> float:
    """A Shannon estimate of the secret's entropy: bits per character times the length of
    its shortest repeating unit ("passwordpassword..." counts as "password")."""
    if not secret:
        return 0.0
    unit = next(
        n for n in range(1, len(secret) + 1) if secret == (secret[:n] * len(secret))[: len(secret)]
    )
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * unit


def check_secret_key(secret: str) -> None:
    """ValueError, saying what to do, for a key anyone could guess or read."""
    if secret == EXAMPLE_SECRET_KEY or "change-me" in secret.lower():
        raise ValueError(
            "is the .env.example placeholder, which anyone can read: "
            "set a random one (python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters long")
    if estimated_bits(secret) < MIN_SECRET_KEY_BITS:
        raise ValueError(
            f"has too little entropy (about {estimated_bits(secret):.0f} bits, "
            f"at least {MIN_SECRET_KEY_BITS} needed): use a random string"
        )
