"""Unit conversion and rounding, and how event values are read (pure functions)."""

from decimal import Decimal

import pytest

from metrics.aggregation import convert, parse_number, round_value

D = Decimal


@pytest.mark.parametrize(
    ("rounding", "value", "expected"),
    [
        # UP is the ceiling: toward +infinity, also for negative values.
        ("UP", "2.1", "3"),
        ("UP", "2", "2"),
        ("UP", "-2.1", "-2"),
        ("UP", "-2", "-2"),
        ("UP", "0.000000000001", "1"),
        # DOWN is the floor: toward -infinity.
        ("DOWN", "2.9", "2"),
        ("DOWN", "2", "2"),
        ("DOWN", "-2.1", "-3"),
        ("DOWN", "-2", "-2"),
        # NEAREST: halves away from zero (0.5 -> 1, where banker's rounding would give 0).
        ("NEAREST", "0.5", "1"),
        ("NEAREST", "2.5", "3"),
        ("NEAREST", "2.4999", "2"),
        ("NEAREST", "-0.5", "-1"),
        ("NEAREST", "-2.5", "-3"),
        ("NEAREST", "-2.4999", "-2"),
        # NEAREST_HALF: to a multiple of 0.5, quarter boundaries away from zero.
        ("NEAREST_HALF", "2.25", "2.5"),
        ("NEAREST_HALF", "2.2499", "2"),
        ("NEAREST_HALF", "2.75", "3"),
        ("NEAREST_HALF", "2.7499", "2.5"),
        ("NEAREST_HALF", "-2.25", "-2.5"),
        ("NEAREST_HALF", "-2.2499", "-2"),
        ("NEAREST_HALF", "3", "3"),
        # NEAREST_TENTH: to 0.1, halves away from zero (2.25 -> 2.3, not 2.2).
        ("NEAREST_TENTH", "2.25", "2.3"),
        ("NEAREST_TENTH", "2.2499", "2.2"),
        ("NEAREST_TENTH", "-2.25", "-2.3"),
        ("NEAREST_TENTH", "-2.2499", "-2.2"),
        ("NEAREST_TENTH", "7", "7"),
        ("NONE", "2.345", "2.345"),
        ("NONE", "-2.345", "-2.345"),
    ],
)
def test_each_rounding_mode_including_negative_and_boundary_values(rounding, value, expected):
    assert round_value(D(value), rounding) == D(expected)


def test_conversion_divides_by_the_factor_before_rounding():
    assert convert(D(5), D(2), "UP") == D(3)  # 2.5 up
    assert convert(D(-5), D(2), "UP") == D(-2)  # -2.5 up (toward +inf)
    assert convert(D(-5), D(2), "DOWN") == D(-3)
    assert convert(D(5), D(2), "NEAREST") == D(3)
    assert convert(D(1500), D(1000), "NEAREST_HALF") == D("1.5")
    assert convert(D(1249), D(1000), "NEAREST_HALF") == D("1")


def test_conversion_without_rounding_keeps_the_exact_quotient():
    third = convert(D(10), D(3), "NONE")
    assert abs(third - D(10) / D(3)) < D("1e-25")


def test_no_conversion_leaves_the_value_alone():
    assert convert(D("2.5"), None, None) == D("2.5")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, "3"), (2.5, "2.5"), ("4.25", "4.25"), (" -7 ", "-7"), ("1e3", "1000"), (0.1, "0.1")],
)
def test_numbers_and_numeric_strings_are_read_as_decimals(raw, expected):
    assert parse_number(raw) == D(expected)


@pytest.mark.parametrize("raw", ["abc", "", "1,5", True, None, [], {}, "nan", float("inf")])
def test_non_numeric_values_are_refused(raw):
    with pytest.raises(ValueError):
        parse_number(raw)
