"""Checks on what callers send, with messages that say what to change."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sized
from datetime import datetime

from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import Kind, Scalar
from mcp_memory.core.timeparse import zoned

NAMESPACE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$")
ID_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_TAGS = 20
MAX_RECALL = 50
MAX_TAG_CHARS = 64
MAX_QUERY_CHARS = 2000
MAX_IDS = 1000  # ids in one forget, or superseded by one memory
MAX_BATCH = 1000  # memories in one remember_many


def check_namespace(namespace: str) -> str:
    if not NAMESPACE_RE.fullmatch(namespace):
        raise InvalidInput(
            f"invalid namespace {namespace!r}: use 1-63 lowercase letters, digits, '-' or '_', "
            "starting and ending with a letter or digit (for example 'alice' or 'team-web')"
        )
    return namespace


def check_content(content: str, max_bytes: int) -> str:
    text = content.strip()
    if not text:
        raise InvalidInput("content is empty: pass the fact to remember as one self-contained sentence")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise InvalidInput(
            f"content is {size:,} bytes, over the limit of {max_bytes:,}: split it into smaller memories"
        )
    return text


def check_tags(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    cleaned = []
    for tag in tags:
        tag = tag.strip().lower()
        if not tag or len(tag) > MAX_TAG_CHARS:
            raise InvalidInput(f"invalid tag {tag!r}: tags are 1-{MAX_TAG_CHARS} characters")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"{len(cleaned)} tags given: use at most {MAX_TAGS}")
    return tuple(cleaned)


def check_query(query: str) -> str:
    text = query.strip()
    if not text:
        raise InvalidInput("query is empty: describe what you want to recall, e.g. 'user's preferred editor'")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"query is {len(text):,} characters, over the limit of {MAX_QUERY_CHARS:,}: "
            "ask for one thing in a phrase or a sentence"
        )
    return text


def check_batch(items: Sized) -> None:
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"{len(items):,} memories in one batch: send at most {MAX_BATCH:,} at a time")


def check_ids(ids: list[str]) -> list[str]:
    if not ids:
        raise InvalidInput("no ids given: pass the ids returned by remember or recall")
    if len(ids) > MAX_IDS:
        raise InvalidInput(f"{len(ids):,} ids given: pass at most {MAX_IDS:,} at a time")
    bad = [i for i in ids if not ID_RE.fullmatch(i)]
    if bad:
        raise InvalidInput(
            f"malformed id(s) {', '.join(map(repr, bad[:5]))}: ids are 32 hex characters, as returned by recall"
        )
    return list(dict.fromkeys(ids))


METADATA_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_METADATA_KEYS = 16
MAX_METADATA_CHARS = 512
MAX_THREAD_CHARS = 200


def check_metadata(metadata: dict[str, Scalar]) -> dict[str, Scalar]:
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidInput(f"{len(metadata)} metadata keys given: use at most {MAX_METADATA_KEYS}")
    for key, value in metadata.items():
        if not METADATA_KEY_RE.fullmatch(key):
            raise InvalidInput(f"invalid metadata key {key!r}: use lowercase letters, digits and '_', up to 40")
        if isinstance(value, str) and len(value) > MAX_METADATA_CHARS:
            raise InvalidInput(f"metadata {key!r} is over {MAX_METADATA_CHARS} characters")
        # The store keeps 64-bit integers and finite floats; anything else would come back changed, or not at all.
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"metadata {key!r} is {value}: give a finite number, or a string")
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            raise InvalidInput(f"metadata {key!r} is too large an integer to keep exactly: give it as a string")
    return dict(metadata)


def check_thread(thread: str | None) -> str | None:
    if thread is None:
        return None
    thread = thread.strip()
    if not thread or len(thread) > MAX_THREAD_CHARS:
        raise InvalidInput(f"invalid thread {thread!r}: name it in 1-{MAX_THREAD_CHARS} characters")
    return thread


MAX_SOURCE_CHARS = 100


def check_source(source: str) -> str:
    """The name of the host that wrote a memory, as an import carries it."""
    name = source.strip()
    if not name or len(name) > MAX_SOURCE_CHARS or not name.isprintable():
        raise InvalidInput(
            f"invalid source {source[:40]!r}: name the host in 1-{MAX_SOURCE_CHARS} printable characters"
        )
    return name


def check_created_at(created_at: datetime, now: datetime) -> datetime:
    """When an imported memory was first remembered: a moment past (a time without a zone is UTC)."""
    when = zoned(created_at)
    if when > now:
        raise InvalidInput(f"created_at {when.isoformat()} is in the future: a memory cannot be older than now")
    return when


def check_kind(kind: Kind | str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in Kind)
        raise InvalidInput(f"unknown kind {kind!r}: use one of {choices}") from None


def check_importance(importance: float | None) -> float | None:
    if importance is not None and not 0.0 <= importance <= 1.0:
        raise InvalidInput(f"importance {importance} is out of range: use 0.0 (trivial) to 1.0 (critical)")
    return importance


def check_limit(limit: int, most: int, what: str = "limit") -> int:
    """A count asked for, from 1 to `most`."""
    if not 1 <= limit <= most:
        raise InvalidInput(f"{what} {limit} is out of range: use 1 to {most}")
    return limit


def content_hash(text: str) -> str:
    """Hash of the content with case and white space normalised: equal hashes mean the same words."""
    normal = " ".join(text.lower().split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()
