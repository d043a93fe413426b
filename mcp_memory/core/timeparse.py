"""Parsing of the dates callers give (`occurred_at`, `since`, `until`, `expires_at`, `ttl`): ISO 8601 or phrases."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from mcp_memory.core.errors import InvalidInput

YEAR_MONTH = re.compile(r"^\d{4}-\d{2}$")
ISO_LIKE = re.compile(r"^\d{4}-\d")
SECONDS = re.compile(r"^\d+(\.\d+)?$")
# A date or a duration is a short phrase; the phrase parser's time grows with the length of its input.
MAX_PHRASE_CHARS = 100


def parse_instant(
    value: str, field: str, *, end_of_period: bool = False, now: datetime | None = None, future: bool = False
) -> datetime:
    """An ISO 8601 date or date-time, or a phrase ('last week', 'in March 2023'), as an aware UTC datetime.

    A date, or a phrase naming a day, week, month or year, means the start of that period, or
    with `end_of_period` its end: so `until=2024-05-01` includes the whole of May 1st, and
    `since='March 2023'` starts on March 1st. Phrases are read relative to `now` (default: the
    current time), as the past ('friday': the last one) unless `future`. A time without an
    offset is taken as UTC.
    """
    text = _short(value, field)
    try:
        parsed, period = datetime.fromisoformat(text), "day" if _is_bare_date(text) else "time"
    except ValueError:
        if YEAR_MONTH.match(text):
            parsed, period = datetime.fromisoformat(text + "-01"), "month"
        elif ISO_LIKE.match(text):  # a malformed ISO date is a mistake, not a phrase to guess at
            raise _not_a_date(field, text) from None
        else:
            parsed, period = _parse_phrase(text, field, now or datetime.now(UTC), future)
    try:
        return _bound(zoned(parsed), period, end_of_period).astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{field}: {text!r} is out of the range of dates this server handles") from None


def zoned(moment: datetime) -> datetime:
    """A time without a zone is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _short(value: str, field: str) -> str:
    text = value.strip()
    if len(text) > MAX_PHRASE_CHARS:
        raise InvalidInput(
            f"{field} is {len(text):,} characters long: give a date or a duration in at most {MAX_PHRASE_CHARS}, "
            "such as '2024-05-01', 'last week' or '7 days'"
        )
    return text


def parse_optional(
    value: str | None, field: str, *, end_of_period: bool = False, now: datetime | None = None, future: bool = False
) -> datetime | None:
    if value is None or not value.strip():
        return None
    return parse_instant(value, field, end_of_period=end_of_period, now=now, future=future)


def _parse_phrase(text: str, field: str, now: datetime, future: bool) -> tuple[datetime, str]:
    from dateparser.date import DateDataParser  # imported on first use: it loads its languages slowly

    parser = DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": now.astimezone(UTC).replace(tzinfo=None),
            "PREFER_DATES_FROM": "future" if future else "past",
            "RETURN_TIME_AS_PERIOD": True,
        },
    )
    found = parser.get_date_data(text.removeprefix("in ").removeprefix("on ").strip())
    if found.date_obj is None:
        raise _not_a_date(field, text)
    return found.date_obj, found.period or "day"


def _not_a_date(field: str, text: str) -> InvalidInput:
    return InvalidInput(
        f"{field}: {text!r} is not a date; use ISO 8601 such as 2024-05-01 or 2024-05-01T14:30:00Z, "
        "or a phrase such as 'last week' or 'March 2023'"
    )


def _bound(moment: datetime, period: str, end: bool) -> datetime:
    """The start (or end) of the day, week, month or year that `moment` falls in; a time is itself."""
    day = moment.date()
    if period == "time":
        return moment
    if period == "week":
        first, last = day - timedelta(days=day.weekday()), day + timedelta(days=6 - day.weekday())
    elif period == "month":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    elif period == "year":
        first, last = day.replace(month=1, day=1), day.replace(month=12, day=31)
    else:
        first = last = day
    if end:
        return datetime.combine(last, time.max, moment.tzinfo)
    return datetime.combine(first, time.min, moment.tzinfo)


def _is_bare_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse_ttl(value: str, now: datetime) -> datetime:
    """When a memory given a time to live expires: '7 days', '2 weeks', or ISO 8601 (P7D, PT12H)."""
    text = _short(value, "ttl")
    span = _duration(text, now)
    if span <= timedelta(0):
        raise InvalidInput(f"ttl: {text!r} is not a positive duration; say how long to keep the memory: '30 days'")
    try:
        return now + span
    except OverflowError:
        raise InvalidInput(f"ttl: {text!r} is far too long: omit ttl for a memory that never expires") from None


def _duration(text: str, now: datetime) -> timedelta:
    from pydantic import TypeAdapter, ValidationError

    if SECONDS.match(text):  # '30' could mean seconds or days: a unit is needed
        raise InvalidInput(f"ttl: {text!r} has no unit: say '{text} days', '{text} hours' or '{text} minutes'")
    try:
        return TypeAdapter(timedelta).validate_python(text)
    except ValidationError:
        pass  # not ISO 8601: perhaps a phrase
    except (OverflowError, ValueError):
        raise InvalidInput(f"ttl: {text!r} is far too long: omit ttl for a memory that never expires") from None
    from dateparser import parse

    moment = parse(f"in {text}", languages=["en"], settings={"RELATIVE_BASE": now.replace(tzinfo=None)})
    if moment is None or not text[:1].isdigit():
        raise InvalidInput(
            f"ttl: {text!r} is not a duration; use a phrase such as '7 days' or '12 hours', or ISO 8601 (P7D)"
        )
    return moment - now.astimezone(UTC).replace(tzinfo=None)
