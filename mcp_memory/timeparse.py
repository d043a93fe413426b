"""Parsing of the dates callers give (`occurred_at`, `since`, `until`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from mcp_memory.errors import InvalidInput


def parse_instant(value: str, field: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime.

    A bare date means the start of that day, or its end when `end_of_day` (so `until=2024-05-01`
    includes the whole of May 1st). A date-time without an offset is taken as UTC.
    """
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{field}: {value!r} is not an ISO 8601 date; use a form such as 2024-05-01 or 2024-05-01T14:30:00Z"
        ) from None
    if _is_bare_date(text):
        day = date(parsed.year, parsed.month, parsed.day)
        parsed = datetime.combine(day, time.min)
        if end_of_day:
            parsed += timedelta(days=1) - timedelta(microseconds=1)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _is_bare_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse_optional(value: str | None, field: str, *, end_of_day: bool = False) -> datetime | None:
    return None if value is None or not value.strip() else parse_instant(value, field, end_of_day=end_of_day)
