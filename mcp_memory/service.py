"""`MemoryService`: remember, recall and forget. Every front end (MCP, CLI, benchmarks) calls this."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from mcp_memory.config import Settings
from mcp_memory.embedder import Embedder
from mcp_memory.errors import InvalidInput, NotFound
from mcp_memory.keyword_index import KeywordIndex
from mcp_memory.models import (
    ForgetResult,
    Kind,
    MemoryFilter,
    MemoryInput,
    MemoryRecord,
    RecalledMemory,
    RecallResult,
    RememberResult,
    Scalar,
    ScoreParts,
    SimilarMemory,
    Stats,
)
from mcp_memory.ranking import Candidate, fuse
from mcp_memory.store import VectorStore
from mcp_memory.threads import ThreadPlacer, keyword_entries
from mcp_memory.timeparse import parse_optional
from mcp_memory.validation import (
    check_content,
    check_ids,
    check_metadata,
    check_namespace,
    check_tags,
    check_thread,
)

MAX_RECALL = 50
SIMILAR_SHOWN = 3
log = logging.getLogger(__name__)


class MemoryService:
    """The memory library. The namespace is an argument of every call, chosen by the caller's edge."""

    def __init__(self, store: VectorStore, embedder: Embedder, keywords: KeywordIndex, settings: Settings) -> None:
        self._store = store
        self._embedder = embedder
        self._keywords = keywords
        self._settings = settings
        # Writes are serialised so that later checks (duplicates, thread order) see a stable store.
        self._write_lock = threading.Lock()
        self._threads = ThreadPlacer(store, embedder.embed, context=settings.thread_context)

    def tuned(self, **changes: object) -> MemoryService:
        """The same store and model under other ranking settings (fusion, weights): for comparisons."""
        tuned = MemoryService(self._store, self._embedder, self._keywords, self._settings.model_copy(update=changes))
        tuned._write_lock, tuned._threads = self._write_lock, self._threads
        return tuned

    def remember(
        self,
        namespace: str,
        content: str,
        *,
        tags: Sequence[str] = (),
        kind: Kind | str = Kind.fact,
        importance: float | None = None,
        occurred_at: str | None = None,
        thread: str | None = None,
        metadata: dict[str, Scalar] | None = None,
        source: str = "unknown",
    ) -> RememberResult:
        item = MemoryInput(
            content=content,
            tags=list(tags),
            kind=kind,
            importance=importance,
            occurred_at=occurred_at,
            thread=thread,
            metadata=metadata or {},
        )
        return self.remember_many(namespace, [item], source=source)[0]

    def remember_many(
        self, namespace: str, items: Sequence[MemoryInput], *, source: str = "unknown"
    ) -> list[RememberResult]:
        """Remember several memories with one batched embedding; all are checked before any is stored."""
        check_namespace(namespace)
        now = datetime.now(UTC)
        records = [self._record(item, source, now) for item in items]
        with self._write_lock:
            try:
                placed = self._threads.place(namespace, records)
                neighbours = [self._store.query(namespace, v, SIMILAR_SHOWN) for v in placed.vectors]
                self._store.add(namespace, placed.records, placed.vectors)
                self._store.update_embeddings(namespace, placed.updated)
                self._keywords.add(namespace, zip([r.id for r in placed.records], placed.keyword_texts, strict=True))
            except BaseException:
                self._threads.forget(namespace)
                raise
            records = placed.records
        threshold = self._settings.similar_threshold
        return [
            RememberResult(
                id=record.id,
                status="created",
                similar=[
                    SimilarMemory(id=h.record.id, content=h.record.content, score=round(h.score, 4))
                    for h in hits
                    if h.score >= threshold
                ],
            )
            for record, hits in zip(records, neighbours, strict=True)
        ]

    def recall(
        self,
        namespace: str,
        query: str,
        *,
        limit: int = 5,
        tags: Sequence[str] | None = None,
        kind: Kind | str | None = None,
        since: str | None = None,
        until: str | None = None,
        now: datetime | None = None,
        explain: bool = False,
    ) -> RecallResult:
        """The memories best matching `query`: dense and keyword retrieval, fused.

        `since`/`until` take ISO 8601 or phrases such as 'last week', relative to `now`.
        """
        check_namespace(namespace)
        if not query.strip():
            raise InvalidInput("query is empty: describe what you want to recall, e.g. 'user's preferred editor'")
        if not 1 <= limit <= MAX_RECALL:
            raise InvalidInput(f"limit {limit} is out of range: use 1 to {MAX_RECALL}")
        where = MemoryFilter(
            tags=check_tags(tuple(tags or ())),
            kind=_check_kind(kind) if kind is not None else None,
            since=parse_optional(since, "since", now=now),
            until=parse_optional(until, "until", end_of_period=True, now=now),
        )
        if where.since and where.until and where.since > where.until:
            raise InvalidInput("since is after until: swap them or widen the range")
        ranked = fuse(
            self._candidates(namespace, query.strip(), where, max(limit, self._settings.candidate_pool)),
            self._settings.fusion,
            self._settings.dense_weight,
            limit,
        )
        return RecallResult(memories=[_recalled(c.record, parts, explain) for c, parts in ranked])

    def forget(self, namespace: str, ids: list[str]) -> ForgetResult:
        check_namespace(namespace)
        wanted = check_ids(ids)
        with self._write_lock:
            found = {r.id for r in self._store.get(namespace, wanted)}
            if not found:
                raise NotFound(
                    f"none of the ids {', '.join(wanted[:5])} exist in namespace {namespace!r}: "
                    "recall first to find the ids of what to forget"
                )
            self._store.delete(namespace, sorted(found))
            self._keywords.delete(namespace, sorted(found))
            self._threads.forget(namespace)
        return ForgetResult(forgotten=[i for i in wanted if i in found], missing=[i for i in wanted if i not in found])

    def stats(self) -> Stats:
        counts = {ns: self._store.count(ns) for ns in self._store.namespaces()}
        return Stats(data_dir=str(self._settings.data_dir), embedding_model=self._embedder.name, namespaces=counts)

    def reindex(self, namespaces: Sequence[str] | None = None) -> dict[str, int]:
        """Rebuild the keyword index from the vector store; memories indexed per namespace."""
        indexed = {}
        with self._write_lock:
            for namespace in namespaces or self._store.namespaces():
                records = [r for batch in self._store.scan(namespace) for r in batch]
                self._keywords.drop(namespace)
                self._keywords.add(namespace, keyword_entries(records, context=self._settings.thread_context))
                indexed[namespace] = len(records)
        return indexed

    def repair(self) -> list[str]:
        """Reindex the namespaces whose keyword index disagrees with the store (after a crash between the two)."""
        stale = [ns for ns in self._store.namespaces() if self._keywords.count(ns) != self._store.count(ns)]
        if stale:
            log.warning("rebuilding the keyword index of %s", ", ".join(stale))
            self.reindex(stale)
        return stale

    def _record(self, item: MemoryInput, source: str, now: datetime) -> MemoryRecord:
        text = check_content(item.content, self._settings.max_content_bytes)
        return MemoryRecord(
            id=uuid.uuid4().hex,
            content=text,
            kind=_check_kind(item.kind),
            tags=check_tags(item.tags),
            source=source,
            created_at=now,
            content_hash=content_hash(text),
            occurred_at=parse_optional(item.occurred_at, "occurred_at"),
            importance=_check_importance(item.importance),
            thread=check_thread(item.thread),
            metadata=check_metadata(item.metadata),
        )

    def _candidates(self, namespace: str, query: str, where: MemoryFilter, pool: int) -> list[Candidate]:
        """The union of the dense and keyword hits, each with both of its scores."""
        [embedding] = self._embedder.embed([query])
        dense = self._store.query(namespace, embedding, pool, where)
        keyword = dict(self._keywords.search(namespace, query, pool))
        candidates = [Candidate(h.record, h.score, keyword.get(h.record.id, 0.0)) for h in dense]
        seen = {h.record.id for h in dense}
        extra = [
            (record, vector)
            for record, vector in self._store.get_with_embeddings(namespace, [i for i in keyword if i not in seen])
            if where.matches(record)
        ]
        if extra:
            similarities = np.asarray([v for _, v in extra], dtype=np.float32) @ np.asarray(embedding, dtype=np.float32)
            candidates += [Candidate(r, float(s), keyword[r.id]) for (r, _), s in zip(extra, similarities, strict=True)]
        return candidates


def content_hash(text: str) -> str:
    """Hash of the content with case and white space normalised: equal hashes mean the same words."""
    normal = " ".join(text.lower().split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def _check_kind(kind: Kind | str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in Kind)
        raise InvalidInput(f"unknown kind {kind!r}: use one of {choices}") from None


def _check_importance(importance: float | None) -> float | None:
    if importance is not None and not 0.0 <= importance <= 1.0:
        raise InvalidInput(f"importance {importance} is out of range: use 0.0 (trivial) to 1.0 (critical)")
    return importance


def _recalled(record: MemoryRecord, parts: ScoreParts, explain: bool) -> RecalledMemory:
    return RecalledMemory(
        id=record.id,
        content=record.content,
        score=parts.fused,
        similarity=parts.similarity,
        kind=record.kind,
        tags=list(record.tags),
        source=record.source,
        created_at=record.created_at,
        occurred_at=record.occurred_at,
        thread=record.thread,
        metadata=record.metadata,
        explain=parts if explain else None,
    )
