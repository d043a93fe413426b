"""Reading a namespace out a page at a time, every memory with everything known of it.

A page is a slice of one shelf in the store's own order; the cursor names the shelf and the
position, so a namespace of any size leaves in bounded pieces. Parts of long memories are not
exported (they follow from the content), but their vectors are, when vectors are asked for.
"""

from __future__ import annotations

import re

import numpy as np

from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import SHELVES, ExportPage, MemoryRecord, Shelf, StoredMemory, Usage
from mcp_memory.core.validation import check_limit
from mcp_memory.storage.history import History
from mcp_memory.storage.store import VectorStore

MAX_PAGE = 1000
CURSOR_RE = re.compile(r"^(live|superseded):(\d{1,12})$")


def export_page(
    store: VectorStore,
    history: History,
    namespace: str,
    cursor: str | None,
    limit: int,
    *,
    vectors: bool = False,
    with_history: bool = False,
) -> ExportPage:
    """The memories from `cursor` (None: the first page), reading at most `limit` records of the store."""
    check_limit(limit, MAX_PAGE)
    shelf, offset = _position(cursor)
    rows = store.page(namespace, shelf, offset, limit, embeddings=vectors)
    wholes = [(record, vector) for record, vector in rows if record.part_of is None]
    usage = history.usage(namespace, [r.id for r, _ in wholes])
    part_vectors = _part_vectors(store, namespace, shelf, [r for r, _ in wholes]) if vectors else {}
    memories = [
        _stored(
            record,
            usage.get(record.id, Usage()),
            vector,
            part_vectors.get(record.id),
            history.events(namespace, record.id) if with_history else None,
        )
        for record, vector in wholes
    ]
    return ExportPage(memories=memories, next=_next(shelf, offset, len(rows), limit))


def _position(cursor: str | None) -> tuple[Shelf, int]:
    if cursor is None:
        return "live", 0
    if not (match := CURSOR_RE.fullmatch(cursor)):
        raise InvalidInput(f"malformed cursor {cursor[:40]!r}: pass the `next` of the previous page")
    shelf: Shelf = "live" if match[1] == "live" else "superseded"
    return shelf, int(match[2])


def _next(shelf: Shelf, offset: int, read: int, limit: int) -> str | None:
    if read == limit:
        return f"{shelf}:{offset + read}"
    later = SHELVES[SHELVES.index(shelf) + 1 :]
    return f"{later[0]}:0" if later else None


def _part_vectors(
    store: VectorStore, namespace: str, shelf: Shelf, records: list[MemoryRecord]
) -> dict[str, list[list[float]]]:
    """Each long memory's part vectors, in part order."""
    ids = [p for r in records for p in r.part_ids()]
    found = {part.id: vector for part, vector in store.get_with_embeddings(namespace, ids, shelf)} if ids else {}
    return {r.id: [found[p] for p in r.part_ids() if p in found] for r in records if r.parts}


def _stored(
    record: MemoryRecord,
    usage: Usage,
    vector: list[float] | None,
    part_vectors: list[list[float]] | None,
    events: list | None,
) -> StoredMemory:
    return StoredMemory(
        **record.fields()
        | {
            "occurred_at": record.occurred_at.isoformat() if record.occurred_at else None,
            "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        },
        access_count=usage.access_count,
        last_seen_at=usage.last_seen_at,
        history=events,
        vector=None if vector is None else np.asarray(vector, dtype=np.float32),
        part_vectors=None if part_vectors is None else [np.asarray(v, dtype=np.float32) for v in part_vectors],
    )
