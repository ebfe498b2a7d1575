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


def _fractional(value: object) -> bool:
    if isinstance(value, float):
        return not value.is_integer()
    return isinstance(value, Decimal) and value != value.to_integral_value()


def _json_integer(value: object) -> object:
    # Only a JSON integer is an integer here: not true, not "7", and not 1.0 or 1e0 (a
    # number with a point or an exponent, which arrives as a float, or a Decimal when read
    # exactly: `api.validation`).
    if type(value) is int:
        return value
    if _fractional(value):  # pydantic's own words for 2.5
        raise PydanticCustomError(
            "int_from_float", "Input should be a valid integer, got a number with a fractional part"
        )
    raise PydanticCustomError("int_type", "Input should be a valid integer")


# An amount as a decimal string: > 0, at most 10 digits before the point and 2 after.
AMOUNT_PATTERN = r"^([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0?\.(0[1-9]|[1-9][0-9]?))$"
_AMOUNT_TEXT = re.compile(AMOUNT_PATTERN)
_AMOUNT_TEXT_MAX = len("9999999999.99")


def _amount_input(value: object) -> object:
    if isinstance(value, bool):
        raise PydanticCustomError("decimal_type", "Input should be a valid number")
    if isinstance(value, str) and (
        len(value) > _AMOUNT_TEXT_MAX or not _AMOUNT_TEXT.fullmatch(value)
    ):
        raise PydanticCustomError(
            "decimal_parsing", "Input should be a decimal number > 0 with at most 2 decimals"
        )
    return value


# JSON integers (bigint in PostgreSQL). The constraints come before the validator, so
# the document shows them as minimum / maximum. JSON Schema counts 1.0 as an integer; we
# do not, and the description says so.
_INTEGER = "a JSON integer, written without a decimal point or exponent (1, not 1.0 or 1e0)"
ProductId = Annotated[
    int, Field(ge=1, le=MAX_INT64, description=_INTEGER), BeforeValidator(_json_integer)
]
Quantity = Annotated[
    int, Field(ge=1, le=10000, description=_INTEGER), BeforeValidator(_json_integer)
]

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
            "description": (
                "a positive amount with at most 2 decimals, judged on the JSON text, never"
                " rounded: its value counts, not its spelling (19.99, 19.9, 20, 1e1 and"
                " 19.990 are taken; 1.001 and 1.000000000000000000000000001 are refused)"
            ),
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
