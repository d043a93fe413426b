"""Recall: candidates from both retrievers on the chosen shelves, ranked, long memories returned whole."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import numpy as np

from mcp_memory.core.config import Settings
from mcp_memory.core.embedder import Embedder
from mcp_memory.core.forgetting import shelf_of
from mcp_memory.core.models import (
    SHELVES,
    MemoryFilter,
    MemoryRecord,
    RecalledMemory,
    RecallResult,
    ScoreParts,
    Shelf,
    Usage,
)
from mcp_memory.core.ranking import Candidate, fuse, rank
from mcp_memory.core.retention import retention
from mcp_memory.storage.history import History
from mcp_memory.storage.keyword_index import KeywordIndex
from mcp_memory.storage.store import VectorStore


class Retriever:
    def __init__(
        self, store: VectorStore, embedder: Embedder, keywords: KeywordIndex, history: History, settings: Settings
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._keywords = keywords
        self._history = history
        self._settings = settings
        self._searcher = ThreadPoolExecutor(2, thread_name_prefix="mcp-memory-keywords")

    def recall(
        self,
        namespace: str,
        query: str,
        where: MemoryFilter,
        limit: int,
        shelves: Sequence[Shelf],
        now: datetime,
        *,
        explain: bool,
        record_use: bool = True,
    ) -> RecallResult:
        pool = max(limit, self._settings.candidate_pool)
        candidates = self._candidates(namespace, query, where, pool, shelves, now)
        relevance = fuse(candidates, self._settings.fusion, self._settings.dense_weight)
        usage = self._history.usage(namespace, list({c.record.memory_id for c in candidates}))
        kept = [retention(c.record, usage.get(c.record.memory_id, Usage()), now, self._settings) for c in candidates]
        ranked = rank(candidates, relevance, kept, limit)
        wholes = self._wholes(namespace, [c.record for c in candidates], [c.record for c, _ in ranked])
        memories = [
            _recalled(wholes[c.record.memory_id], c.record, usage.get(c.record.memory_id, Usage()), parts, explain)
            for c, parts in ranked
            if c.record.memory_id in wholes  # a part whose whole is gone is not worth a crash
        ]
        if record_use:  # being recalled is a use: it reinforces the memory in later rankings
            self._history.touch(namespace, [m.id for m in memories], now)
        return RecallResult(memories=memories)

    def _candidates(
        self, namespace: str, query: str, where: MemoryFilter, pool: int, shelves: Sequence[Shelf], now: datetime
    ) -> list[Candidate]:
        """The union of the dense and keyword hits on the shelves, each with both of its scores."""
        # The keyword search, and the reading of its hits with their vectors, run while the model embeds the
        # query and the store searches by it: all release the GIL, and the keyword side takes about as long.
        reading = self._searcher.submit(self._keyword_hits, namespace, query, pool, shelves, where)
        [embedding] = self._embedder.embed([query])
        dense = [hit for shelf in shelves for hit in self._store.query(namespace, embedding, pool, where, shelf)]
        keyword, read = reading.result()
        candidates = [Candidate(hit.record, hit.score, keyword.pop(hit.record.id, 0.0)) for hit in dense]
        extra = [read[i] for i in keyword if i in read]  # keyword hits the dense search missed
        if extra:
            similarities = np.asarray([v for _, v in extra], dtype=np.float32) @ np.asarray(embedding, dtype=np.float32)
            for (record, _), similarity in zip(extra, similarities, strict=True):
                if where.matches(record):
                    candidates.append(Candidate(record, float(similarity), keyword[record.id]))
        return [c for c in candidates if not c.record.expired(now)]

    def _keyword_hits(
        self, namespace: str, query: str, pool: int, shelves: Sequence[Shelf], where: MemoryFilter
    ) -> tuple[dict[str, float], dict[str, tuple[MemoryRecord, list[float]]]]:
        """The keyword hits' scores, and those that may meet the filter read with their vectors, by id."""
        keyword = dict(self._keywords.search(namespace, query, pool, shelves))
        read: dict[str, tuple[MemoryRecord, list[float]]] = {}
        for shelf in shelves:
            if unread := [i for i in keyword if i not in read]:
                read |= {r.id: (r, v) for r, v in self._store.get_with_embeddings(namespace, unread, shelf, where)}
        return keyword, read

    def _wholes(
        self, namespace: str, candidates: Sequence[MemoryRecord], ranked: Sequence[MemoryRecord]
    ) -> dict[str, MemoryRecord]:
        """The whole memory of each ranked record: itself, or, for a part, the memory it belongs to."""
        wholes = {r.id: r for r in candidates if r.part_of is None}
        for shelf in SHELVES:
            missing = [r.part_of for r in ranked if r.part_of and r.part_of not in wholes and shelf_of(r) == shelf]
            wholes |= {r.id: r for r in self._store.get(namespace, missing, shelf)}
        return wholes


def _recalled(whole: MemoryRecord, hit: MemoryRecord, usage: Usage, parts: ScoreParts, explain: bool) -> RecalledMemory:
    return RecalledMemory(
        **whole.fields(),
        score=parts.fused,
        similarity=parts.similarity,
        access_count=usage.access_count,
        last_seen_at=usage.last_seen_at,
        matched_part=hit.content if hit.part_of else None,
        explain=parts if explain else None,
    )
