"""The Chroma store on its own: the words of a memory go in the metadata, away from Chroma's own full-text
index (memories written when they were Chroma's documents read the same), and the members of many threads
are read at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mcp_memory.core.models import Kind, MemoryFilter, MemoryRecord
from mcp_memory.storage import chroma_store
from mcp_memory.storage.chroma_metadata import to_metadata
from mcp_memory.storage.chroma_store import ChromaStore

DIM = 4


def record(n: int, content: str, **fields: object) -> MemoryRecord:
    return MemoryRecord(  # type: ignore[arg-type]
        id=f"{n:032x}",
        content=content,
        kind=Kind.fact,
        tags=(),
        source="claude-code",
        created_at=datetime(2025, 1, n + 1, tzinfo=UTC),
        content_hash=f"h{n}",
        **fields,
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


def test_the_members_of_many_threads_are_read_at_once_each_thread_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chroma_store, "THREADS_AT_ONCE", 2)  # read in pieces, as a forget of very many does
    store = ChromaStore(tmp_path, model_name="test", dimension=DIM)
    members = [
        record(1, "third", thread="t1", thread_seq=3),
        record(2, "first", thread="t1", thread_seq=1),
        record(3, "second", thread="t1", thread_seq=2),
        record(4, "alone", thread="t2", thread_seq=1),
        record(5, "no thread"),
    ]
    store.add("ns", members, [[1.0, 0.0, 0.0, 0.0]] * len(members))
    old = record(6, "superseded", thread="t3", thread_seq=1, superseded_by="0" * 32)
    store.add("ns", [old], [[0.0, 1.0, 0.0, 0.0]], shelf="superseded")

    found = store.threads("ns", ["t1", "t2", "t3", "nobody"])

    assert {name: [r.content for r in found[name]] for name in found} == {
        "t1": ["first", "second", "third"],
        "t2": ["alone"],
    }
    assert [r.content for r in store.thread("ns", "t1")] == ["first", "second", "third"]
    assert store.threads("ns", []) == {}
