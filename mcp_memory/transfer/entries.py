"""What a file reader yields: each memory found, or what was wrong, with the line it starts on.

Every format (this server's export, other tools' memories, plain text) is read into these, so that
one importer checks, reports and stores them all alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Protocol

from mcp_memory.core.models import MemoryInput


@dataclass(frozen=True)
class Entry:
    """One memory read from a file; `line` is where it starts (1-based)."""

    line: int
    memory: MemoryInput


@dataclass(frozen=True)
class BadEntry:
    """Something in the file that is not a memory this reader can take, and why, in words a person can act on."""

    line: int
    reason: str


class Reader(Protocol):
    """Reads one file format; `origin` names the file, for sources and messages."""

    def __call__(self, stream: IO[str], origin: str) -> Iterator[Entry | BadEntry]: ...


def stable_id(*key: str) -> str:
    """A memory id derived from what identifies a memory in its original file (its format and its id
    there, or its words), so that importing the same file twice finds the same ids and adds nothing."""
    return hashlib.sha256("\x1f".join(key).encode("utf-8")).hexdigest()[:32]
