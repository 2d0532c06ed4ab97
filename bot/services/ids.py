"""Reading numbers people and payloads send: ids named by buttons, forms and commands,
and other whole numbers typed in text. One rule for all of them.

Only ASCII digits count (`str.isdigit` also takes "²" and "٣", which `int` then refuses
or reads as another number), and an id is at most what copbot's id columns hold: they
are INTEGER, four bytes on PostgreSQL, so a larger number names nothing and is never sent
to the database (which would refuse it with an error, not "no such row").
"""

from __future__ import annotations

MAX_ID = 2**31 - 1  # the largest INTEGER on PostgreSQL: copbot's id columns


def whole_number(value: object, max_digits: int = 9) -> int | None:
    """`value` as a whole number if it is only ASCII digits (at most `max_digits`)."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > max_digits:
        return None
    return int(text)


def object_id(value: object) -> int | None:
    """The id a button value, metadata field or argument names; None when it names none
    (not a positive whole number an id column can hold)."""
    number = whole_number(value, max_digits=len(str(MAX_ID)))
    if number is None or not 0 < number <= MAX_ID:
        return None
    return number
