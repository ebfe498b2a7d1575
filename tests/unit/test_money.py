"""Money: exact decimal totals to 2 places, cents, and JSON numbers."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from core.money import (
    MAX_AMOUNT,
    line_total,
    order_total,
    quantize,
    to_json_number,
)

D = Decimal


def test_total_is_exact() -> None:
    assert order_total([(3, D("19.99")), (1, D("0.01"))]) == D("59.98")


def test_point_one_plus_point_two_is_point_three() -> None:
    assert order_total([(1, D("0.1")), (1, D("0.2"))]) == D("0.30")
    assert order_total([(1, D("0.10")), (2, D("0.10"))]) == D("0.30")
    assert order_total([(10, D("0.1"))]) == D("1.00")


def test_total_has_two_places() -> None:
    total = order_total([(1, D("5"))])
    assert total == D("5.00")
    assert total.as_tuple().exponent == -2


def test_empty_total_is_zero() -> None:
    assert order_total([]) == D("0.00")


def test_large_quantities_stay_exact() -> None:
    assert line_total(10000, D("999999.99")) == D("9999999900.00")
    assert order_total([(10000, D("999999.99")), (1, D("99.99"))]) == MAX_AMOUNT


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0.005", "0.00"), ("0.015", "0.02"), ("0.025", "0.02"), ("1.234", "1.23"), ("2", "2.00")],
)
def test_quantize_is_bankers_rounding(amount: str, expected: str) -> None:
    assert quantize(D(amount)) == D(expected)


@pytest.mark.parametrize(
    "amount", ["0.01", "0.30", "19.99", "59.98", "1234567.89", "9999999999.99"]
)
def test_json_number_prints_the_exact_decimal(amount: str) -> None:
    text = orjson.dumps(to_json_number(D(amount))).decode()
    assert D(text) == D(amount)
