"""The one clock. Store UTC; tests move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

#: Deadlines, due dates and "today" are days in England and Wales.
LONDON = ZoneInfo("Europe/London")


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        """Today's date in London (a deadline falls due at London's midnight, not UTC's)."""
        return self.now().astimezone(LONDON).date()

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def reset(self) -> None:
        self.offset = timedelta(0)


clock = Clock()
