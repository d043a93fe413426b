"""Export and import in the service: a namespace leaves in pages and arrives whole elsewhere. Real Chroma,
fake embedder (the end-to-end round trip through the CLI, on the real model, is in test_transfer.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from conftest import open_test_service
from fakes import HashingEmbedder

from mcp_memory.core.config import Settings
from mcp_memory.core.models import SHELVES, MemoryInput, StoredMemory
from mcp_memory.core.service import MemoryService
from mcp_memory.storage.chroma_store import configured_store
from mcp_memory.storage.coordination import Coordination
from mcp_memory.storage.history import History
from mcp_memory.storage.keyword_index import KeywordIndex

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
LONG_NOTE = " ".join(f"Paragraph {n} of the migration plan covers step {n} in detail." for n in range(40))


def exported(service: MemoryService, namespace: str = "ns", **options: bool) -> list[StoredMemory]:
    memories, cursor = [], None
    while True:
        page = service.export_page(namespace, cursor, limit=3, **options)
        memories += page.memories
        if (cursor := page.next) is None:
            return memories


def fill(service: MemoryService) -> dict[str, str]:
    """A namespace with a superseded preference, a thread, a long note, an expiring fact and some use."""
    ids = {}
    ids["old"] = service.remember("ns", "Alice uses vim", kind="preference", source="desktop", now=NOW).id
    ids["new"] = service.remember(
        "ns", "Alice switched to helix", kind="preference", supersedes=[ids["old"]], source="ide", now=NOW
    ).id
    turns = ["Did the deploy go out?", "Yes, twice last year.", "Which region?", "Frankfurt, on Tuesday."]
    chat = service.remember_many("ns", [MemoryInput(content=t, thread="standup") for t in turns], now=NOW)
    ids.update({f"turn{n}": r.id for n, r in enumerate(chat)})
    ids["long"] = service.remember("ns", LONG_NOTE, tags=["plan"], importance=0.8, source="cli", now=NOW).id
    ids["expiring"] = service.remember(
        "ns", "The staging password rotates", ttl="30 days", occurred_at="2026-05-30", now=NOW
    ).id
    service.recall("ns", "helix editor", now=NOW + timedelta(hours=1))
    return ids


def same_vectors(a: object, b: object) -> bool:
    """Equal up to float32 rounding: Chroma's cosine index may renormalise a vector it is given."""
    return (a is None and b is None) or (a is not None and b is not None and np.allclose(a, b, atol=1e-6))


def dumped(memories: list[StoredMemory]) -> list[str]:
    return [m.model_dump_json() for m in memories]


def comparable(memory: StoredMemory) -> dict[str, object]:
    return memory.model_dump(exclude={"vector", "part_vectors"})


def test_a_namespace_exported_and_imported_elsewhere_is_the_same_field_by_field(
    service: MemoryService, tmp_path: Path
) -> None:
    ids = fill(service)
    before = exported(service, vectors=True, history=True)
    assert {m.id for m in before} == set(ids.values())
    target = open_test_service(Settings(data_dir=tmp_path / "elsewhere"))
    result = target.import_memories("ns", before, model=HashingEmbedder().name, now=NOW + timedelta(days=1))
    assert (sorted(result.imported), result.skipped, result.embedded) == (sorted(ids.values()), [], 0)
    after = {m.id: m for m in exported(target, vectors=True, history=True)}
    for memory in before:
        assert comparable(after[memory.id]) == comparable(memory)
        assert same_vectors(after[memory.id].vector, memory.vector)
        assert same_vectors(after[memory.id].part_vectors, memory.part_vectors)
    assert after[ids["old"]].superseded_by == ids["new"]
    assert [after[ids[f"turn{n}"]].thread_seq for n in range(4)] == [1, 2, 3, 4]
    assert len(after[ids["long"]].part_vectors or []) > 1
    assert after[ids["new"]].access_count == 1


def test_importing_the_same_memories_twice_changes_nothing(service: MemoryService, tmp_path: Path) -> None:
    fill(service)
    memories = exported(service, history=True)
    target = open_test_service(Settings(data_dir=tmp_path / "elsewhere"))
    target.import_memories("ns", memories, now=NOW)
    first = exported(target, vectors=True, history=True)
    again = target.import_memories("ns", memories, now=NOW + timedelta(days=2))
    assert (again.imported, sorted(again.present)) == ([], sorted(m.id for m in memories))
    assert dumped(exported(target, vectors=True, history=True)) == dumped(first)


def test_an_import_without_vectors_embeds_threads_with_their_neighbours_as_remember_did(
    service: MemoryService, tmp_path: Path
) -> None:
    fill(service)
    memories = exported(service, vectors=True)
    target = open_test_service(Settings(data_dir=tmp_path / "elsewhere"))
    result = target.import_memories(
        "ns", [m.model_copy(update={"vector": None, "part_vectors": None}) for m in memories], now=NOW
    )
    assert result.embedded > len(memories)
    again = {m.id: m.vector for m in exported(target, vectors=True)}
    for memory in memories:
        assert again[memory.id] is not None and memory.vector is not None
        assert max(abs(a - b) for a, b in zip(again[memory.id], memory.vector, strict=True)) < 1e-5, memory.content
    found = target.recall("ns", "Frankfurt region", now=NOW).memories
    assert found[0].content == "Frankfurt, on Tuesday."


class CountingEmbedder(HashingEmbedder):
    """The fake model, counting its calls."""

    calls = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        return super().embed(texts)


def test_an_import_continuing_several_threads_embeds_them_together_as_remember_did(
    service: MemoryService, tmp_path: Path
) -> None:
    for n in range(4):  # two conversations, their turns interleaved
        for thread in ("harbour", "garden"):
            service.remember("ns", f"Turn {n} about the {thread}, number {n}.", thread=thread, now=NOW)
    memories = sorted(exported(service, vectors=True), key=lambda m: m.thread_seq or 0)
    model = CountingEmbedder()
    target = open_test_service(Settings(data_dir=tmp_path / "elsewhere"), model)
    bare = [m.model_copy(update={"vector": None}) for m in memories]
    target.import_memories("ns", bare[:4], now=NOW)  # the first two turns of each
    model.calls = 0
    result = target.import_memories("ns", bare[4:], now=NOW)  # the rest continue both threads
    assert model.calls == 1 and len(result.imported) == 4
    again = {m.id: m.vector for m in exported(target, vectors=True)}
    for memory in memories:
        assert again[memory.id] is not None and memory.vector is not None
        assert max(abs(a - b) for a, b in zip(again[memory.id], memory.vector, strict=True)) < 1e-5, memory.content


class WatchedTurns:
    """The service's write turns, counting those held."""

    def __init__(self, inner: Coordination) -> None:
        self._inner = inner
        self.held = 0

    @contextmanager
    def writing(self, namespace: str, *, publish: bool = True) -> Iterator[None]:
        with self._inner.writing(namespace, publish=publish):
            self.held += 1
            try:
                yield
            finally:
                self.held -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class TurnWatchingEmbedder(HashingEmbedder):
    """The fake model, noting for each call whether a write turn was held."""

    def __init__(self) -> None:
        super().__init__()
        self.turns: WatchedTurns | None = None
        self.calls: list[tuple[int, bool]] = []  # (texts, in a turn)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append((len(texts), bool(self.turns and self.turns.held)))
        return super().embed(texts)


def test_an_import_runs_the_model_before_its_write_turn_so_that_the_turn_lasts_only_the_stores_writes(
    service: MemoryService, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "watched")
    model = TurnWatchingEmbedder()
    store = configured_store(settings, model_name=model.name, dimension=model.dimension)
    history = History(settings.data_dir / "history.sqlite3")
    model.turns = turns = WatchedTurns(store.coordination(history))
    watched = MemoryService(store, model, KeywordIndex.beside(settings.data_dir), history, settings, turns)
    talk = [f"Turn {n} of the harbour talk." for n in range(5)]
    for text in talk[:3]:
        watched.remember("ns", text, thread="harbour", now=NOW)
    model.calls.clear()
    items = [
        MemoryInput(content="The harbour opens at six.", tags=["harbour"]),
        MemoryInput(content=LONG_NOTE.replace("migration", "harbour"), source="cli"),  # stored in parts
        *(MemoryInput(content=text, thread="harbour") for text in talk[3:]),  # re-links the stored tail
    ]
    result = watched.import_memories("ns", items, now=NOW)
    assert len(result.imported) == 4 and result.embedded > 4
    assert model.calls and not any(in_turn for _, in_turn in model.calls), model.calls
    # The same vectors as remembering the whole conversation: each turn's with its neighbours'.
    service.remember_many("ns", [MemoryInput(content=text, thread="harbour") for text in talk], now=NOW)
    reference = {m.content: m.vector for m in exported(service, vectors=True)}
    again = {m.content: m.vector for m in exported(watched, vectors=True)}
    assert all(same_vectors(again[text], reference[text]) for text in talk)


def test_vectors_of_another_model_are_not_trusted_but_embedded_again(service: MemoryService, tmp_path: Path) -> None:
    fill(service)
    memories = exported(service, vectors=True)
    other = HashingEmbedder(name="test/other", dimension=32)
    target = open_test_service(Settings(data_dir=tmp_path / "elsewhere"), other)
    result = target.import_memories("ns", memories, model="test/hashing", now=NOW)
    assert len(result.imported) == len(memories) and result.embedded > 0
    assert all(m.vector is not None and len(m.vector) == 32 for m in exported(target, vectors=True))


def test_an_import_skips_what_is_expired_invalid_or_already_remembered_in_other_words_and_says_so(
    service: MemoryService,
) -> None:
    kept = service.remember("ns", "Deploys happen on Tuesdays", now=NOW).id
    items = [
        MemoryInput(content="deploys HAPPEN on tuesdays", created_at=NOW - timedelta(days=3), source="mem0"),
        StoredMemory(content="Old news", expires_at=(NOW - timedelta(days=1)).isoformat()),
        MemoryInput(content="   "),
        MemoryInput(content="Fine", created_at=NOW + timedelta(days=1)),
        MemoryInput(content="The office moved to Leeds", created_at=NOW - timedelta(days=400), source="mem0"),
    ]
    result = service.import_memories("ns", items, now=NOW)
    assert [s.index for s in result.skipped] == [0, 1, 2, 3]
    assert kept in result.skipped[0].reason and "expired" in result.skipped[1].reason
    assert "future" in result.skipped[3].reason
    [imported] = result.imported
    memory = service.recall("ns", "office Leeds", now=NOW).memories[0]
    assert (memory.id, memory.source, memory.created_at) == (imported, "mem0", NOW - timedelta(days=400))
    assert [e.event for e in service.history("ns", imported).events] == ["imported"]


def test_a_check_only_import_stores_nothing(service: MemoryService) -> None:
    result = service.import_memories("ns", [MemoryInput(content="A fact"), MemoryInput(content="")], check_only=True)
    assert ([s.index for s in result.skipped], result.imported) == ([1], [])
    assert all(service.stats().namespaces.get("ns", 0) == 0 for _ in SHELVES)


def test_a_memory_forgotten_then_imported_again_counts_its_uses_again(service: MemoryService) -> None:
    first = service.remember("ns", "Alice rides to work", now=NOW)
    [memory] = exported(service)
    service.forget("ns", ids=[first.id], now=NOW)
    service.import_memories("ns", [memory], model=None, now=NOW)
    service.recall("ns", "how does Alice get to work", now=NOW + timedelta(hours=1))
    [again] = exported(service)
    assert (again.id, again.access_count) == (first.id, 1)
