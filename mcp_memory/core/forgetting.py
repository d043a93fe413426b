"""Erasing memories from every index: vectors, parts, keywords, thread neighbours and usage.

A memory remembered into a thread shaped its neighbours (their vectors and keyword entries
include its words); those neighbours are re-embedded and re-indexed without it, so nothing of a
forgotten memory lingers in the ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mcp_memory.core.models import SHELVES, MemoryRecord, Shelf
from mcp_memory.core.threads import ThreadPlacer
from mcp_memory.storage.history import History
from mcp_memory.storage.keyword_index import KeywordIndex
from mcp_memory.storage.store import VectorStore


def shelf_of(record: MemoryRecord) -> Shelf:
    return "superseded" if record.superseded_by else "live"


def thread_members(store: VectorStore, namespace: str, memories: Sequence[MemoryRecord]) -> list[list[MemoryRecord]]:
    """The live threads the memories are in, each in order: read before they leave it."""
    threads = {m.thread for m in memories if m.thread is not None and shelf_of(m) == "live"}
    found = store.threads(namespace, sorted(threads))
    return [found[thread] for thread in sorted(threads) if thread in found]


def relink(
    store: VectorStore,
    keywords: KeywordIndex,
    threads: ThreadPlacer,
    namespace: str,
    members: Sequence[Sequence[MemoryRecord]],
    removed: set[str],
) -> None:
    """Re-embed and re-index the neighbours of memories that left their threads, without them."""
    for thread in members:
        relinked = threads.relink(thread, removed)
        store.update_embeddings(namespace, relinked.updated)
        keywords.add(namespace, zip([r.id for r in relinked.records], relinked.keyword_texts, strict=True))


class Eraser:
    def __init__(self, store: VectorStore, keywords: KeywordIndex, history: History, threads: ThreadPlacer) -> None:
        self._store = store
        self._keywords = keywords
        self._history = history
        self._threads = threads

    def erase(self, namespace: str, memories: Sequence[MemoryRecord], reason: str, now: datetime) -> None:
        """Delete memories and their parts everywhere; the caller holds the write lock."""
        # Neighbours first: a crash halfway leaves the memory unforgotten, never its words in them.
        members = thread_members(self._store, namespace, memories)
        self._threads.forget(namespace)
        relink(self._store, self._keywords, self._threads, namespace, members, {m.id for m in memories})
        for shelf in SHELVES:
            ids = [i for m in memories if shelf_of(m) == shelf for i in (m.id, *m.part_ids())]
            self._store.delete(namespace, ids, shelf)
        self._keywords.delete(namespace, [i for m in memories for i in (m.id, *m.part_ids())])
        self._history.forgotten(namespace, [m.id for m in memories], now, reason)

    def erase_namespace(self, namespace: str, memories: Sequence[MemoryRecord], now: datetime) -> None:
        self._history.forgotten(namespace, [m.id for m in memories], now, "whole namespace")
        self._store.drop(namespace)
        self._keywords.drop(namespace)
        self._threads.forget(namespace)
