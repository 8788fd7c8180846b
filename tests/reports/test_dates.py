"""Report dates: named intervals, the previous period (as the explorer compares), bins."""

from datetime import date

import pytest

from core.errors import ServiceError
from reports.costs import bin_start, check_range, interval_dates, previous_period

TODAY = date(2026, 11, 18)


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ("this_month", (date(2026, 11, 1), date(2026, 11, 30))),
        ("last_7_days", (date(2026, 11, 12), TODAY)),
        ("last_month", (date(2026, 10, 1), date(2026, 10, 31))),
        ("last_3_months", (date(2026, 8, 1), date(2026, 10, 31))),
        ("last_12_months", (date(2025, 11, 1), date(2026, 10, 31))),
        ("next_month", (date(2026, 12, 1), date(2026, 12, 31))),
        ("next_3_months", (date(2026, 12, 1), date(2027, 2, 28))),
        ("year_to_date", (date(2026, 1, 1), TODAY)),
    ],
)
def test_named_intervals(interval, expected):
    assert interval_dates(interval, TODAY) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 11, 1), date(2026, 11, 30), (date(2026, 10, 1), date(2026, 10, 31))),
        (date(2026, 11, 1), date(2026, 11, 15), (date(2026, 10, 1), date(2026, 10, 15))),
        (date(2026, 3, 1), date(2026, 3, 30), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2026, 7, 1), date(2026, 9, 30), (date(2026, 4, 1), date(2026, 6, 30))),
        (date(2026, 9, 5), date(2026, 9, 11), (date(2026, 8, 29), date(2026, 9, 4))),
    ],
)
def test_previous_period_compares_as_the_explorer_does(start, end, expected):
    assert previous_period(start, end) == expected


def test_bins_and_ranges():
    day = date(2026, 11, 18)  # a Wednesday
    assert bin_start(day, "day") == day
    assert bin_start(day, "week") == date(2026, 11, 16)
    assert bin_start(day, "month") == date(2026, 11, 1)
    assert bin_start(day, "quarter") == date(2026, 10, 1)
    with pytest.raises(ServiceError) as reversed_range:
        check_range(date(2026, 2, 1), date(2026, 1, 1))
    assert reversed_range.value.field == "end_date"
    with pytest.raises(ServiceError):
        check_range(date(2020, 1, 1), date(2026, 1, 1))
