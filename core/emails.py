"""One normalisation of email addresses, used by registering and by logging in alike.

Two spellings of one address are one account: surrounding spaces are dropped, the text
is put in Unicode NFC, the domain in its canonical IDNA form (`xn--` labels and their
Unicode spelling are the same domain), and the whole address in lower case.

Text longer than any address is refused before anything else is done with it: Unicode
normalisation is quadratic on some input (60 KB of combining marks took seconds).
"""

from __future__ import annotations

import unicodedata

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

MAX_LENGTH = 320  # the users table refuses longer

# Addresses in special-use domains (RFC 6761: .test, .local, .invalid, ...) are refused;
# this pattern says so in the OpenAPI document.
SPECIAL_USE_PATTERN = (
    r"(?i)@(.*\.)?(" + "|".join(d.replace(".", r"\.") for d in SPECIAL_USE_DOMAIN_NAMES) + r")\s*$"
)


def normalize_email(raw: str) -> str:
    """The canonical spelling of an address; ValueError when `raw` is not one."""
    if len(raw) > MAX_LENGTH:
        raise ValueError(f"an email address has at most {MAX_LENGTH} characters")
    text = unicodedata.normalize("NFC", raw.strip())
    try:
        # Syntax only, no DNS look-up.
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    email = unicodedata.normalize("NFC", f"{info.local_part}@{info.domain}".lower())
    if len(email) > MAX_LENGTH:
        raise ValueError(f"an email address has at most {MAX_LENGTH} characters")
    return email
