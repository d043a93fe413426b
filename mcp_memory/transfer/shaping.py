"""Fitting other tools' values into what validation accepts: tags, metadata, source names and times.

Foreign files carry tags of any case and length, metadata of any shape and times in several forms.
These helpers trim, rename or drop what would not fit, and never raise on odd values, so that a
reader can take every record the importer would accept. Times are the exception: a time that cannot
be read is the record's fault, and its reader reports it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TypeGuard

from mcp_memory.core.models import Scalar
from mcp_memory.core.validation import (
    MAX_METADATA_CHARS,
    MAX_METADATA_KEYS,
    MAX_SOURCE_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    METADATA_KEY_RE,
)

_NOT_SLUG = re.compile(r"[\W_]+")
_NOT_KEY = re.compile(r"[^a-z0-9_]+")


def is_text(value: object) -> TypeGuard[str]:
    """Whether a foreign value is a string with something in it."""
    return isinstance(value, str) and bool(value.strip())


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags as validation keeps them: trimmed, lowercased, at most 64 characters, unique, at most 20."""
    cleaned: list[str] = []
    for tag in tags:
        text = " ".join(tag.split()).lower()[:MAX_TAG_CHARS].strip()
        if text and text not in cleaned:
            cleaned.append(text)
    return cleaned[:MAX_TAGS]


def slug(text: str) -> str:
    """A heading or name as a tag: its lowercase letters and digits (any script) joined by '-' ('' when none)."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")[:MAX_TAG_CHARS].strip("-")


def metadata_key(name: str) -> str | None:
    """A foreign metadata key renamed to fit `^[a-z][a-z0-9_]{0,39}$`, or None when nothing is left."""
    key = _NOT_KEY.sub("_", name.lower()).strip("_")
    if key and not key[0].isalpha():
        key = f"x_{key}"
    key = key[:40].rstrip("_")
    return key if METADATA_KEY_RE.fullmatch(key) else None


def scalar(value: object) -> Scalar | None:
    """A foreign value as a metadata value the store keeps unchanged, or None when it has none.

    Strings are cut to 512 characters, a list of plain values becomes one comma-separated string, and
    what cannot be kept exactly (objects, infinities, integers past 64 bits) is dropped or spelled out.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else str(value)[:MAX_METADATA_CHARS]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:MAX_METADATA_CHARS] if value else None
    if isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(map(str, value))[:MAX_METADATA_CHARS]
    return None


def fit_metadata(*groups: Iterable[tuple[str, object]]) -> dict[str, Scalar]:
    """Metadata within the limits, from (key, value) pairs in order of importance.

    The reader's own keys come first; a later pair never replaces an earlier key, and pairs past the
    sixteenth key, or without a usable key or value, are dropped.
    """
    metadata: dict[str, Scalar] = {}
    for group in groups:
        for name, raw in group:
            key, value = metadata_key(name), scalar(raw)
            if key is None or value is None or key in metadata:
                continue
            if len(metadata) == MAX_METADATA_KEYS:
                return metadata
            metadata[key] = value
    return metadata


def source_name(name: str) -> str | None:
    """A tool or app name as a memory's source: printable, at most 100 characters; None when blank."""
    text = "".join(c for c in " ".join(name.split()) if c.isprintable())[:MAX_SOURCE_CHARS].strip()
    return text or None


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 string or seconds since 1970 as a UTC time; None when absent.

    Raises ValueError, with words for a person, when the value is there but is not a time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{value!r} is not a time in seconds since 1970") from None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not an ISO 8601 time") from None
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    raise ValueError(f"{str(value)[:40]!r} is not a time")


def past_time(value: object, field: str) -> datetime | None:
    """`parse_time` for when a memory was made: a time after now is an error, as the importer would say."""
    try:
        when = parse_time(value)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from None
    if when is not None and when > datetime.now(UTC):
        raise ValueError(f"{field} {when.isoformat()} is in the future")
    return when
