from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.timeparse import parse_instant, parse_optional, parse_ttl

NOW = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", "2024-05-01T00:00:00+00:00"),
        ("2024-05-01T14:30:00Z", "2024-05-01T14:30:00+00:00"),
        ("2024-05-01T14:30:00+02:00", "2024-05-01T12:30:00+00:00"),
        ("2024-05-01 14:30", "2024-05-01T14:30:00+00:00"),
    ],
)
def test_iso_dates_become_utc_instants(text: str, expected: str) -> None:
    assert parse_instant(text, "since").isoformat() == expected


def test_a_bare_date_as_an_end_means_the_end_of_that_day() -> None:
    assert parse_instant("2024-05-01", "until", end_of_period=True).isoformat() == "2024-05-01T23:59:59.999999+00:00"


@pytest.mark.parametrize(
    ("phrase", "start", "end"),
    [
        ("yesterday", "2023-05-07T00:00:00", "2023-05-07T23:59:59.999999"),
        ("last week", "2023-05-01T00:00:00", "2023-05-07T23:59:59.999999"),
        ("in March 2023", "2023-03-01T00:00:00", "2023-03-31T23:59:59.999999"),
        ("last month", "2023-04-01T00:00:00", "2023-04-30T23:59:59.999999"),
        ("last year", "2022-01-01T00:00:00", "2022-12-31T23:59:59.999999"),
        ("3 hours ago", "2023-05-08T10:56:00", "2023-05-08T10:56:00"),
    ],
)
def test_phrases_name_periods_relative_to_now(phrase: str, start: str, end: str) -> None:
    assert parse_instant(phrase, "since", now=NOW).isoformat() == start + "+00:00"
    assert parse_instant(phrase, "until", end_of_period=True, now=NOW).isoformat() == end + "+00:00"


@pytest.mark.parametrize("text", ["someday soon-ish", "2024-02-30", "the blue one"])
def test_anything_else_is_rejected_with_the_forms_to_use(text: str) -> None:
    with pytest.raises(InvalidInput, match="use ISO 8601 such as 2024-05-01"):
        parse_instant(text, "since")


def test_an_absent_or_blank_date_is_no_condition() -> None:
    assert parse_optional(None, "since") is None
    assert parse_optional("  ", "since") is None


def test_a_date_or_duration_longer_than_a_phrase_is_refused_before_it_is_parsed() -> None:
    now = datetime(2024, 5, 15, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="at most 100"):
        parse_instant("1 " * 500_000, "occurred_at", now=now)
    with pytest.raises(InvalidInput, match="ttl is 999,999 characters long"):
        parse_ttl("7 " * 500_000, now)
