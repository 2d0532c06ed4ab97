"""The program year: which year a day belongs to (it starts on a configured month and
day, August 1st by default) and how the year is named ("2026–27")."""

from __future__ import annotations

from datetime import date


def program_year(day: date, start: tuple[int, int]) -> tuple[date, date]:
    """The program year containing `day`: [first day, first day of the next year)."""
    month, dom = start
    first = date(day.year, month, dom)
    if day < first:
        first = date(day.year - 1, month, dom)
    return first, date(first.year + 1, month, dom)


def year_label(first: date) -> str:
    return f"{first.year}–{str(first.year + 1)[-2:]}" if first.month != 1 else str(first.year)
