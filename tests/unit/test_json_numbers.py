"""Numbers are judged on the JSON text (`api.validation.json_model`): a price is taken when
its value has at most 2 decimals, whatever its spelling, and then exactly; integers are
JSON integers. A float's rounding never decides."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.schemas.orders import OrderIn
from api.validation import RequestValidationError, json_model
from core.money import MAX_AMOUNT


def _order(price: str, product_id: str = "1", quantity: str = "1") -> bytes:
    item = f'{{"product_id": {product_id}, "quantity": {quantity}, "price": {price}}}'
    return f'{{"items": [{item}]}}'.encode()


def _errors(raw: bytes) -> list[tuple[object, str]]:
    with pytest.raises(RequestValidationError) as caught:
        json_model(OrderIn, raw)
    return [(e["loc"][-1], e["type"]) for e in caught.value.errors]


def _spellings(value: Decimal) -> list[str]:
    """Ways JSON can write one number: fixed, with zeros after it, in E notation."""
    fixed = format(value, "f")
    padded = fixed + ("0" * 7 if "." in fixed else ".0000000")
    return [fixed, padded, format(value, "E"), format(value, "e").replace("e+", "e")]


@given(cents=st.integers(min_value=1, max_value=int(MAX_AMOUNT * 100)))
def test_every_spelling_of_an_amount_with_2_decimals_is_taken_exactly(cents: int) -> None:
    value = Decimal(cents).scaleb(-2)
    for text in _spellings(value):
        (item,) = json_model(OrderIn, _order(text)).items
        assert item.price == value, text


@given(
    digits=st.integers(min_value=1, max_value=10**30),
    scale=st.integers(min_value=3, max_value=40),
)
def test_a_value_with_more_than_2_decimals_is_refused_however_long(digits: int, scale: int) -> None:
    value = Decimal(digits).scaleb(-scale)
    if value > MAX_AMOUNT or value == value.quantize(Decimal("0.01")):
        return  # 2 decimals after all (trailing zeros), or refused for its size
    for text in _spellings(value):
        assert _errors(_order(text)) == [("price", "decimal_max_places")], text


@pytest.mark.parametrize("text", ["1.0", "1e0", "1E2", "1.000000000000000000000000000"])
@pytest.mark.parametrize("field", ["product_id", "quantity"])
def test_an_integer_written_as_a_float_is_refused(field: str, text: str) -> None:
    raw = _order("1", **{field: text})
    assert _errors(raw) == [(field, "int_type")]


def test_long_integers_are_read_as_they_are_up_to_the_parsers_limit() -> None:
    raw = _order("1", product_id="9223372036854775807")
    (item,) = json_model(OrderIn, raw).items
    assert item.product_id == 2**63 - 1
    assert _errors(_order("1", product_id="9" * 5000)) == [("body", "json_invalid")]
