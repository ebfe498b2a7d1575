"""The constrained field types the models share: ids, quantities, amounts, emails."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from core.emails import MAX_LENGTH as MAX_EMAIL_LENGTH
from core.emails import SPECIAL_USE_PATTERN, normalize_email
from core.money import MAX_AMOUNT

FORBID = ConfigDict(extra="forbid")

MAX_INT64 = 2**63 - 1


def _not_bool_or_text(value: object) -> object:
    # JSON true is not 1, and "7" is not 7: only JSON numbers are integers here.
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An amount as a decimal string: > 0, at most 10 digits before the point and 2 after.
AMOUNT_PATTERN = r"^([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0?\.(0[1-9]|[1-9][0-9]?))$"
_AMOUNT_TEXT = re.compile(AMOUNT_PATTERN)


def _amount_input(value: object) -> object:
    if isinstance(value, bool):
        raise PydanticCustomError("decimal_type", "Input should be a valid number")
    if isinstance(value, str) and not _AMOUNT_TEXT.fullmatch(value):
        raise PydanticCustomError(
            "decimal_parsing", "Input should be a decimal number > 0 with at most 2 decimals"
        )
    return value


# JSON integers (bigint in PostgreSQL). The constraints come before the validator, so
# the document shows them as minimum / maximum.
ProductId = Annotated[int, Field(ge=1, le=MAX_INT64), BeforeValidator(_not_bool_or_text)]
Quantity = Annotated[int, Field(ge=1, le=10000), BeforeValidator(_not_bool_or_text)]

# numeric(12,2): > 0, at most 2 decimals, at most MAX_AMOUNT; a JSON number or its text.
Amount = Annotated[
    Decimal,
    Field(gt=0, le=MAX_AMOUNT, decimal_places=2),
    BeforeValidator(_amount_input),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": float(MAX_AMOUNT),
                    "multipleOf": 0.01,
                },
                {"type": "string", "pattern": AMOUNT_PATTERN},
            ],
            "description": "a positive amount with at most 2 decimals",
        }
    ),
]

# An address in its one normalised spelling (`core.emails`).
Email = Annotated[
    str,
    Field(max_length=MAX_EMAIL_LENGTH),  # checked before the normalisation
    AfterValidator(normalize_email),
    WithJsonSchema(
        {
            "type": "string",
            "format": "email",
            "maxLength": MAX_EMAIL_LENGTH,
            "not": {"pattern": SPECIAL_USE_PATTERN},
            "description": "an address outside the special-use domains (.test, .local, ...)",
        }
    ),
]
