"""A memory record as Chroma metadata (scalars and lists of strings), and filters as Chroma `where` clauses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mcp_memory.core.models import Kind, MemoryFilter, MemoryRecord

METADATA_PREFIX = "m_"  # the caller's own metadata keys, apart from ours
CONTENT = "content"  # the key of a record's words; records written before it keep them as Chroma's document


def to_metadata(record: MemoryRecord, *, cleared: bool = False) -> dict[str, Any]:
    """Chroma metadata of a record; with `cleared`, fields without a value are given as None (to delete them)."""
    meta: dict[str, Any] = {
        "kind": record.kind.value,
        "source": record.source,
        "created_at": record.created_at.isoformat(),
        "time_ts": record.effective_time.timestamp(),
        "content_hash": record.content_hash,
    }
    optional: dict[str, Any] = {
        "tags": list(record.tags) or None,
        "occurred_at": record.occurred_at.isoformat() if record.occurred_at else None,
        "importance": record.importance,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        "expires_ts": record.expires_at.timestamp() if record.expires_at else None,
        "supersedes": list(record.supersedes) or None,
        "superseded_by": record.superseded_by,
        "superseded_at": record.superseded_at.isoformat() if record.superseded_at else None,
        "parts": record.parts or None,
        "part_of": record.part_of,
        "part": record.part,
    }
    meta.update({key: value for key, value in optional.items() if cleared or value is not None})
    if record.thread is not None:
        meta["thread"], meta["thread_seq"] = record.thread, record.thread_seq or 0
    meta.update({METADATA_PREFIX + key: value for key, value in record.metadata.items()})
    return meta


def to_record(id_: str, document: str | None, meta: Any) -> MemoryRecord:
    return MemoryRecord(
        id=id_,
        content=meta.get(CONTENT) or document or "",
        kind=Kind(meta["kind"]),
        tags=tuple(meta.get("tags") or ()),
        source=meta.get("source", ""),
        created_at=datetime.fromisoformat(meta["created_at"]),
        content_hash=meta.get("content_hash", ""),
        occurred_at=_time(meta.get("occurred_at")),
        importance=meta.get("importance"),
        thread=meta.get("thread"),
        thread_seq=meta.get("thread_seq"),
        metadata={k.removeprefix(METADATA_PREFIX): v for k, v in meta.items() if k.startswith(METADATA_PREFIX)},
        updated_at=_time(meta.get("updated_at")),
        expires_at=_time(meta.get("expires_at")),
        supersedes=tuple(meta.get("supersedes") or ()),
        superseded_by=meta.get("superseded_by"),
        superseded_at=_time(meta.get("superseded_at")),
        parts=meta.get("parts") or 0,
        part_of=meta.get("part_of"),
        part=meta.get("part"),
    )


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _clauses(where: MemoryFilter) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"tags": {"$contains": tag}} for tag in where.tags]
    if where.kind is not None:
        found.append({"kind": where.kind.value})
    if where.source is not None:
        found.append({"source": where.source})
    if where.since is not None:
        found.append({"time_ts": {"$gte": where.since.timestamp()}})
    if where.until is not None:
        found.append({"time_ts": {"$lte": where.until.timestamp()}})
    return found


def _all_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def to_where(where: MemoryFilter) -> dict[str, Any] | None:
    found = _clauses(where)
    return _all_of(found) if found else None
