"""`MemoryService`: remember, recall and forget. Every front end (MCP, CLI, benchmarks) calls this."""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import UTC, datetime

from mcp_memory.config import Settings
from mcp_memory.embedder import Embedder
from mcp_memory.errors import InvalidInput, NotFound
from mcp_memory.models import (
    ForgetResult,
    Kind,
    MemoryFilter,
    MemoryRecord,
    RecalledMemory,
    RecallResult,
    RememberResult,
    SimilarMemory,
    Stats,
)
from mcp_memory.store import VectorStore
from mcp_memory.timeparse import parse_optional
from mcp_memory.validation import check_content, check_ids, check_namespace, check_tags

MAX_RECALL = 50
SIMILAR_SHOWN = 3


class MemoryService:
    """The memory library. The namespace is an argument of every call, chosen by the caller's edge."""

    def __init__(self, store: VectorStore, embedder: Embedder, settings: Settings) -> None:
        self._store = store
        self._embedder = embedder
        self._settings = settings
        # Writes are serialised so that later checks (duplicates, supersession) see a stable store.
        self._write_lock = threading.Lock()

    def remember(
        self,
        namespace: str,
        content: str,
        *,
        tags: list[str] | tuple[str, ...] = (),
        kind: Kind | str = Kind.fact,
        importance: float | None = None,
        occurred_at: str | None = None,
        source: str = "unknown",
    ) -> RememberResult:
        check_namespace(namespace)
        record = MemoryRecord(
            id=uuid.uuid4().hex,
            content=(text := check_content(content, self._settings.max_content_bytes)),
            kind=_check_kind(kind),
            tags=check_tags(tags),
            source=source,
            created_at=datetime.now(UTC),
            content_hash=content_hash(text),
            occurred_at=parse_optional(occurred_at, "occurred_at"),
            importance=_check_importance(importance),
        )
        [embedding] = self._embedder.embed([record.content])
        with self._write_lock:
            neighbours = self._store.query(namespace, embedding, SIMILAR_SHOWN)
            self._store.add(namespace, [record], [embedding])
        similar = [
            SimilarMemory(id=hit.record.id, content=hit.record.content, score=round(hit.score, 4))
            for hit in neighbours
            if hit.score >= self._settings.similar_threshold
        ]
        return RememberResult(id=record.id, status="created", similar=similar)

    def recall(
        self,
        namespace: str,
        query: str,
        *,
        limit: int = 5,
        tags: list[str] | tuple[str, ...] | None = None,
        kind: Kind | str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> RecallResult:
        check_namespace(namespace)
        if not query.strip():
            raise InvalidInput("query is empty: describe what you want to remember, e.g. 'user's preferred editor'")
        if not 1 <= limit <= MAX_RECALL:
            raise InvalidInput(f"limit {limit} is out of range: use 1 to {MAX_RECALL}")
        where = MemoryFilter(
            tags=check_tags(tags or ()),
            kind=_check_kind(kind) if kind is not None else None,
            since=parse_optional(since, "since"),
            until=parse_optional(until, "until", end_of_day=True),
        )
        if where.since and where.until and where.since > where.until:
            raise InvalidInput("since is after until: swap them or widen the range")
        [embedding] = self._embedder.embed([query.strip()])
        hits = self._store.query(namespace, embedding, limit, where)
        return RecallResult(memories=[_recalled(hit.record, hit.score) for hit in hits])

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
        return ForgetResult(forgotten=[i for i in wanted if i in found], missing=[i for i in wanted if i not in found])

    def stats(self) -> Stats:
        counts = {ns: self._store.count(ns) for ns in self._store.namespaces()}
        return Stats(data_dir=str(self._settings.data_dir), embedding_model=self._embedder.name, namespaces=counts)


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


def _recalled(record: MemoryRecord, score: float) -> RecalledMemory:
    return RecalledMemory(
        id=record.id,
        content=record.content,
        score=round(score, 4),
        kind=record.kind,
        tags=list(record.tags),
        source=record.source,
        created_at=record.created_at,
        occurred_at=record.occurred_at,
    )
