"""Working days in England and Wales: weekends and bank holidays (from `holidays`) skipped."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    england = holidays.country_holidays("GB", subdiv="ENG", years=year)
    wales = holidays.country_holidays("GB", subdiv="WLS", years=year)
    # A day is a bank holiday for us when it is one in both England and Wales.
    return frozenset(set(england) & set(wales))


def bank_holiday_name(day: date) -> str | None:
    if day not in _bank_holidays(day.year):
        return None
    return holidays.country_holidays("GB", subdiv="ENG", years=day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(day: date, count: int) -> date:
    """The working day ``count`` working days after ``day`` (before it when negative)."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
    return current
