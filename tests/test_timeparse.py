from __future__ import annotations

import pytest

from mcp_memory.errors import InvalidInput
from mcp_memory.timeparse import parse_instant, parse_optional


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
    assert parse_instant("2024-05-01", "until", end_of_day=True).isoformat() == "2024-05-01T23:59:59.999999+00:00"


@pytest.mark.parametrize("text", ["yesterday", "2024-02-30", "05/01/2024", "2024-05-01T25:00"])
def test_anything_else_is_rejected_with_the_form_to_use(text: str) -> None:
    with pytest.raises(InvalidInput, match="use a form such as 2024-05-01"):
        parse_instant(text, "since")


def test_an_absent_or_blank_date_is_no_condition() -> None:
    assert parse_optional(None, "since") is None
    assert parse_optional("  ", "since") is None
