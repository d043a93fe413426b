"""How the store lays memories out in Chroma: the words in the metadata, away from Chroma's own full-text
index; memories written when they were Chroma's documents read the same."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mcp_memory.core.models import Kind, MemoryFilter, MemoryRecord
from mcp_memory.storage.chroma_metadata import to_metadata
from mcp_memory.storage.chroma_store import ChromaStore

DIM = 4


def record(n: int, content: str) -> MemoryRecord:
    return MemoryRecord(
        id=f"{n:032x}",
        content=content,
        kind=Kind.fact,
        tags=(),
        source="claude-code",
        created_at=datetime(2025, 1, n + 1, tzinfo=UTC),
        content_hash=f"h{n}",
    )


def test_words_are_kept_out_of_chromas_documents_and_earlier_memories_kept_there_read_the_same(
    tmp_path: Path,
) -> None:
    store = ChromaStore(tmp_path, model_name="test", dimension=DIM)
    new = record(1, "Lisbon trams are yellow")
    store.add("ns", [new], [[1.0, 0.0, 0.0, 0.0]])
    collection = store._collection("ns", "live")
    assert collection is not None
    assert collection.get(include=["documents"])["documents"] == [None]
    # As an earlier version wrote a memory: its words as Chroma's document, not in the metadata.
    old = record(2, "Oslo has a fjord")
    collection.add(
        ids=[old.id], documents=[old.content], embeddings=[[0.0, 1.0, 0.0, 0.0]], metadatas=[to_metadata(old)]
    )
    del store, collection

    reopened = ChromaStore(tmp_path, model_name="test", dimension=DIM)
    assert {r.content for r in reopened.get("ns", [new.id, old.id])} == {new.content, old.content}
    assert [h.record.content for h in reopened.query("ns", [0.0, 1.0, 0.0, 0.0], 1)] == [old.content]
    assert [h.record.content for h in reopened.query("ns", [1.0, 0.0, 0.0, 0.0], 1, MemoryFilter(kind=new.kind))] == [
        new.content
    ]
    reopened.update("ns", [new])  # metadata is merged: the words stay
    assert [r.content for r in reopened.get("ns", [new.id])] == [new.content]
