"""Dates: parse user dates, and turn relative wording ("this week") into a window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag.errors import ConfigError

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@dataclass(frozen=True)
class DateWindow:
    """An inclusive window of publication dates that the question refers to."""

    start: date
    end: date
    phrase: str

    def contains(self, day: date) -> bool:
        """True when day falls inside the window."""
        return self.start <= day <= self.end


def parse_date(text: str, what: str = "date") -> date:
    """A user-supplied date: YYYY-MM-DD, 'today' or 'yesterday'."""
    lowered = text.strip().lower()
    if lowered == "today":
        return date.today()
    if lowered == "yesterday":
        return date.today() - timedelta(days=1)
    try:
        return date.fromisoformat(lowered)
    except ValueError as exc:
        raise ConfigError(f"bad {what} {text!r}: use YYYY-MM-DD") from exc


def _month_window(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt - timedelta(days=1)


_RELATIVE = re.compile(
    r"\b(today|tonight|yesterday|this week|last week|past week|this weekend|last weekend|"
    r"this month|last month|past month|this year|last year|recently|"
    r"(?:on |last |this )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
    re.IGNORECASE,
)


def relative_window(question: str, as_of: date) -> DateWindow | None:
    """The window that relative wording in the question points at, if any."""
    match = _RELATIVE.search(question)
    if not match:
        return None
    phrase = match.group(1).lower()
    start, end = _window(phrase, as_of)
    return DateWindow(start, end, phrase)


def _window(phrase: str, as_of: date) -> tuple[date, date]:
    day = timedelta(days=1)
    if phrase in {"today", "tonight"}:
        return as_of - day, as_of
    if phrase == "yesterday":
        return as_of - 2 * day, as_of - day
    if phrase in {"this week", "past week", "this weekend", "last weekend"}:
        return as_of - 7 * day, as_of
    if phrase == "last week":
        return as_of - 14 * day, as_of - 4 * day
    if phrase in {"this month", "past month", "recently"}:
        return as_of - 31 * day, as_of
    if phrase == "last month":
        first = as_of.replace(day=1) - day
        return _month_window(first.year, first.month)
    if phrase == "this year":
        return date(as_of.year, 1, 1), as_of
    if phrase == "last year":
        return date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)
    weekday = WEEKDAYS.index(phrase.split()[-1])
    back = (as_of.weekday() - weekday) % 7 or (7 if phrase.startswith("last") else 0)
    target = as_of - back * day
    return target - day, target + day
