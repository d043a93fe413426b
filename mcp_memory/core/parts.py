"""Long memories: content longer than the model's window is decomposed into parts, never truncated.

A sentence-transformers model reads a fixed number of word pieces (256 for MiniLM) and silently
drops the rest, so a fact in the last paragraph of a long note would be unfindable by meaning.
Such a memory is stored whole and also as parts, cut at paragraph and sentence boundaries by
semchunk; each part is embedded and keyword-indexed on its own and points to the whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import semchunk

from mcp_memory.core.models import MemoryRecord, part_id

OVERLAP = 0.1  # of a part's size, so that a fact cut at a boundary is whole in one of the parts


class Splitter:
    def __init__(self, count_tokens: Callable[[str], int], window: int, part_tokens: int) -> None:
        self._count = count_tokens
        self._window = window
        self._part_tokens = min(part_tokens, window)

    def parts(self, record: MemoryRecord) -> list[MemoryRecord]:
        """The parts of a memory too long for the model; none for one it reads whole."""
        if self._count(record.content) <= self._window:
            return []
        texts = semchunk.chunk(record.content, self._part_tokens, self._count, overlap=OVERLAP)
        assert isinstance(texts, list)
        return [
            replace(
                record,
                id=part_id(record.id, n),
                content=text,
                content_hash="",
                thread=None,
                thread_seq=None,
                supersedes=(),
                part_of=record.id,
                part=n,
            )
            for n, text in enumerate(texts)
        ]
