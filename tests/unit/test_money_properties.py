"""Totals are exact for any items the API accepts, and every amount is exact in JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from api.schemas.orders import OrderIn
from core.money import MAX_AMOUNT, to_json_number
from core.order import OrderItem, total_of

cents = st.integers(min_value=1, max_value=int(MAX_AMOUNT * 100))
items = st.lists(
    st.tuples(st.integers(1, 2**63 - 1), st.integers(1, 10000), cents), min_size=1, max_size=100
)


@given(items)
@settings(max_examples=300, deadline=None)
def test_the_total_is_the_exact_sum_in_cents(lines: list[tuple[int, int, int]]) -> None:
    order_items = tuple(OrderItem(p, q, Decimal(c) / 100) for p, q, c in lines)
    exact_cents = sum(q * c for _, q, c in lines)
    assert total_of(order_items) == Decimal(exact_cents) / 100
    assert total_of(order_items).as_tuple().exponent == -2


@given(items)
@settings(max_examples=300, deadline=None)
def test_the_api_accepts_exactly_the_orders_that_fit_numeric_12_2(
    lines: list[tuple[int, int, int]],
) -> None:
    body = {
        "items": [
            {"product_id": p, "quantity": q, "price": str(Decimal(c) / 100)} for p, q, c in lines
        ]
    }
    fits = sum(q * c for _, q, c in lines) <= MAX_AMOUNT * 100
    try:
        parsed = OrderIn.model_validate(body)
    except ValidationError:
        assert not fits
    else:
        assert fits
        assert total_of(parsed.to_items()) == Decimal(sum(q * c for _, q, c in lines)) / 100


@given(cents)
def test_every_amount_is_exact_as_a_json_number(amount_cents: int) -> None:
    amount = Decimal(amount_cents) / 100
    assert Decimal(repr(to_json_number(amount))) == amount


@pytest.mark.parametrize("price", ["0.001", "1e400", "NaN", "-1", "0", "10000000000"])
def test_prices_outside_numeric_12_2_are_refused(price: str) -> None:
    with pytest.raises(ValidationError):
        OrderIn.model_validate({"items": [{"product_id": 1, "quantity": 1, "price": price}]})
