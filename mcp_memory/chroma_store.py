"""`VectorStore` on Chroma: one collection per namespace, cosine space, our own embeddings."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from mcp_memory.errors import MemoryServerError, ModelMismatch, StorageError
from mcp_memory.models import Kind, MemoryFilter, MemoryRecord, ScoredRecord

COLLECTION_PREFIX = "mem-"
METADATA_PREFIX = "m_"  # the caller's own metadata keys, apart from ours
log = logging.getLogger(__name__)


class ChromaStore:
    """Chroma embedded on local disk; one instance per process that owns the directory."""

    def __init__(self, path: Path, *, model_name: str, dimension: int, search_ef: int = 100) -> None:
        self._model_name = model_name
        self._dimension = dimension
        self._search_ef = search_ef
        self._collections: dict[str, Collection] = {}
        path.mkdir(parents=True, exist_ok=True)
        with _translated("open the store"):
            self._client = chromadb.PersistentClient(
                path=str(path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
            )

    def add(self, namespace: str, records: Sequence[MemoryRecord], embeddings: Sequence[list[float]]) -> None:
        collection = self._collection(namespace, create=True)
        assert collection is not None
        with _translated("store the memory"):
            collection.add(
                ids=[r.id for r in records],
                documents=[r.content for r in records],
                embeddings=_vectors(embeddings),
                metadatas=[_to_metadata(r) for r in records],
            )

    def query(
        self, namespace: str, embedding: list[float], limit: int, where: MemoryFilter | None = None
    ) -> list[ScoredRecord]:
        collection = self._collection(namespace)
        if collection is None:
            return []
        with _translated("search the store"):
            found = collection.query(
                query_embeddings=_vectors([embedding]),
                n_results=limit,
                where=_to_where(where) if where else None,
                include=["documents", "metadatas", "distances"],
            )
        rows = zip(found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True)  # type: ignore[index]
        return [ScoredRecord(_to_record(i, doc, meta), 1.0 - float(dist)) for i, doc, meta, dist in rows]

    def get(self, namespace: str, ids: Sequence[str]) -> list[MemoryRecord]:
        collection = self._collection(namespace)
        if collection is None or not ids:
            return []
        with _translated("read the store"):
            found = collection.get(ids=list(ids), include=["documents", "metadatas"])
        rows = zip(found["ids"], found["documents"], found["metadatas"], strict=True)  # type: ignore[arg-type]
        return [_to_record(i, doc, meta) for i, doc, meta in rows]

    def get_with_embeddings(self, namespace: str, ids: Sequence[str]) -> list[tuple[MemoryRecord, list[float]]]:
        collection = self._collection(namespace)
        if collection is None or not ids:
            return []
        with _translated("read the store"):
            found = collection.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        rows = zip(found["ids"], found["documents"], found["metadatas"], found["embeddings"], strict=True)  # type: ignore[arg-type]
        return [(_to_record(i, doc, meta), vector) for i, doc, meta, vector in rows]

    def update_embeddings(self, namespace: str, embeddings: dict[str, list[float]]) -> None:
        collection = self._collection(namespace)
        if collection is not None and embeddings:
            with _translated("update embeddings"):
                collection.update(ids=list(embeddings), embeddings=_vectors(list(embeddings.values())))

    def thread(self, namespace: str, thread: str) -> list[MemoryRecord]:
        collection = self._collection(namespace)
        if collection is None:
            return []
        with _translated("read a thread"):
            found = collection.get(where={"thread": thread}, include=["documents", "metadatas"])
        rows = zip(found["ids"], found["documents"], found["metadatas"], strict=True)  # type: ignore[arg-type]
        return sorted((_to_record(i, doc, meta) for i, doc, meta in rows), key=lambda r: r.thread_seq or 0)

    def scan(self, namespace: str, batch: int = 1000) -> Iterator[list[MemoryRecord]]:
        collection = self._collection(namespace)
        offset = 0
        while collection is not None:
            with _translated("read the store"):
                found = collection.get(limit=batch, offset=offset, include=["documents", "metadatas"])
            if not found["ids"]:
                return
            rows = zip(found["ids"], found["documents"], found["metadatas"], strict=True)  # type: ignore[arg-type]
            yield [_to_record(i, doc, meta) for i, doc, meta in rows]
            offset += len(found["ids"])

    def delete(self, namespace: str, ids: Sequence[str]) -> None:
        collection = self._collection(namespace)
        if collection is not None and ids:
            with _translated("delete from the store"):
                collection.delete(ids=list(ids))

    def count(self, namespace: str) -> int:
        collection = self._collection(namespace)
        if collection is None:
            return 0
        with _translated("count the store"):
            return collection.count()

    def namespaces(self) -> list[str]:
        with _translated("list namespaces"):
            names = [c.name for c in self._client.list_collections()]
        return sorted(n.removeprefix(COLLECTION_PREFIX) for n in names if n.startswith(COLLECTION_PREFIX))

    def _collection(self, namespace: str, *, create: bool = False) -> Collection | None:
        if namespace in self._collections:
            return self._collections[namespace]
        name = COLLECTION_PREFIX + namespace
        with _translated("open the namespace"):
            if create:
                collection = self._client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": self._search_ef}},
                    metadata={"embedding_model": self._model_name, "embedding_dim": self._dimension},
                )
            else:
                try:
                    collection = self._client.get_collection(name, embedding_function=None)
                except chromadb.errors.NotFoundError:
                    return None
        self._check_model(namespace, collection.metadata or {})
        self._collections[namespace] = collection
        return collection

    def _check_model(self, namespace: str, metadata: dict[str, Any]) -> None:
        model, dim = metadata.get("embedding_model"), metadata.get("embedding_dim")
        if (model, dim) != (self._model_name, self._dimension):
            raise ModelMismatch(
                f"namespace {namespace!r} was embedded with {model} ({dim} dimensions), but this server runs "
                f"{self._model_name} ({self._dimension} dimensions): start it with "
                f"MCP_MEMORY_EMBEDDING_MODEL={model}"
            )


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Chroma's errors become the project's own, with the action that failed named."""
    try:
        yield
    except MemoryServerError:
        raise
    except chromadb.errors.NotFoundError:
        raise
    except Exception as exc:
        log.exception("chroma failed to %s", action)
        raise StorageError(f"could not {action}: {exc}") from exc


def _vectors(embeddings: Sequence[Sequence[float]]) -> list[Sequence[float] | Sequence[int]]:
    return [*embeddings]


def _to_metadata(record: MemoryRecord) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "kind": record.kind.value,
        "source": record.source,
        "created_at": record.created_at.isoformat(),
        "time_ts": record.effective_time.timestamp(),
        "content_hash": record.content_hash,
    }
    if record.tags:
        meta["tags"] = list(record.tags)
    if record.occurred_at is not None:
        meta["occurred_at"] = record.occurred_at.isoformat()
    if record.importance is not None:
        meta["importance"] = record.importance
    if record.thread is not None:
        meta["thread"], meta["thread_seq"] = record.thread, record.thread_seq or 0
    meta.update({METADATA_PREFIX + key: value for key, value in record.metadata.items()})
    return meta


def _to_record(id_: str, content: str | None, meta: Any) -> MemoryRecord:
    occurred = meta.get("occurred_at")
    return MemoryRecord(
        id=id_,
        content=content or "",
        kind=Kind(meta["kind"]),
        tags=tuple(meta.get("tags") or ()),
        source=meta.get("source", ""),
        created_at=datetime.fromisoformat(meta["created_at"]),
        content_hash=meta.get("content_hash", ""),
        occurred_at=datetime.fromisoformat(occurred) if occurred else None,
        importance=meta.get("importance"),
        thread=meta.get("thread"),
        thread_seq=meta.get("thread_seq"),
        metadata={k.removeprefix(METADATA_PREFIX): v for k, v in meta.items() if k.startswith(METADATA_PREFIX)},
    )


def _to_where(where: MemoryFilter) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = [{"tags": {"$contains": tag}} for tag in where.tags]
    if where.kind is not None:
        clauses.append({"kind": where.kind.value})
    if where.since is not None:
        clauses.append({"time_ts": {"$gte": where.since.timestamp()}})
    if where.until is not None:
        clauses.append({"time_ts": {"$lte": where.until.timestamp()}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
