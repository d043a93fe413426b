"""A filtered search of the store returns what an exact search of the records meeting the filter returns,
whichever route the store takes for it, and stays right as records are written, changed and moved."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from mcp_memory.core.models import Kind, MemoryFilter, MemoryRecord
from mcp_memory.storage import chroma_search
from mcp_memory.storage.chroma_filters import FilterIndexes
from mcp_memory.storage.chroma_store import ChromaStore

DIM, COUNT, LIMIT = 16, 300, 20
START = datetime(2024, 1, 1, tzinfo=UTC)
TAGS = ["work", "food", "travel", "rare"]
SOURCES = ["claude-code", "cursor"]
# The thresholds of each route, set so that a store of a few hundred records takes it.
ROUTES = {
    "in memory": {"IN_MEMORY_MAX": 10**9, "EXACT_MAX": 0, "FETCH_MAX": 0},
    "exact": {"IN_MEMORY_MAX": 0, "EXACT_MAX": 10**9, "FETCH_MAX": 10**9},
    "screened": {"IN_MEMORY_MAX": 0, "EXACT_MAX": 0, "FETCH_MAX": 10**9},
    "restricted": {"IN_MEMORY_MAX": 0, "EXACT_MAX": 0, "FETCH_MAX": 0},
}
FILTERS = {
    "broad": MemoryFilter(tags=("work",)),
    "narrow": MemoryFilter(tags=("rare",), kind=Kind.fact),
    "time window": MemoryFilter(since=START + timedelta(days=100), until=START + timedelta(days=190)),
    "all conditions": MemoryFilter(tags=("food",), kind=Kind.note, source="cursor", since=START + timedelta(days=50)),
    "fewer than the limit": MemoryFilter(tags=("rare", "travel")),
    "nothing": MemoryFilter(tags=("unknown",)),
}


def make_records(count: int, seed: int = 0) -> tuple[list[MemoryRecord], np.ndarray]:
    rng = random.Random(seed)
    records = [
        MemoryRecord(
            id=f"m{n:04d}",
            content=f"memory {n}",
            kind=rng.choice(list(Kind)),
            tags=tuple(t for t, share in zip(TAGS, (0.5, 0.3, 0.3, 0.05), strict=True) if rng.random() < share),
            source=rng.choice(SOURCES),
            created_at=START + timedelta(hours=rng.randrange(365 * 24)),
            content_hash=f"h{n}",
        )
        for n in range(count)
    ]
    vectors = np.random.default_rng(seed).standard_normal((count, DIM))
    return records, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def exact_search(records: list[MemoryRecord], vectors: np.ndarray, query: np.ndarray, where: MemoryFilter) -> list[str]:
    order = np.argsort(-(vectors @ query))
    return [records[k].id for k in order if where.matches(records[k])][:LIMIT]


@pytest.fixture
def filled(tmp_path: Path) -> tuple[ChromaStore, list[MemoryRecord], np.ndarray]:
    store = ChromaStore(tmp_path, model_name="test", dimension=DIM)
    records, vectors = make_records(COUNT)
    store.add("ns", records, vectors.tolist())
    store.warm("ns")  # as the server does once it is ready (the index, made with the collection, holds every vector)
    return store, records, vectors


def take(route: str, monkeypatch: pytest.MonkeyPatch, *, may_fall_back: bool = False) -> None:
    for threshold, value in ROUTES[route].items():
        monkeypatch.setattr(chroma_search, threshold, value)
    if (
        route == "in memory" and not may_fall_back
    ):  # the index's vectors answer: the route it would fall back on is never taken

        def refused(*args: object) -> None:
            raise AssertionError("the in-memory route fell back")

        monkeypatch.setattr(chroma_search, "_restricted", refused)


def queries(count: int = 5) -> np.ndarray:
    found = np.random.default_rng(99).standard_normal((count, DIM))
    return found / np.linalg.norm(found, axis=1, keepdims=True)


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("name", list(FILTERS))
def test_a_filtered_search_finds_what_an_exact_search_of_the_passing_records_finds(
    filled: tuple[ChromaStore, list[MemoryRecord], np.ndarray], route: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    take(route, monkeypatch)
    store, records, vectors = filled
    where = FILTERS[name]
    for query in queries():
        hits = store.query("ns", query.tolist(), LIMIT, where)
        assert all(where.matches(hit.record) for hit in hits)
        assert [hit.record.id for hit in hits] == exact_search(records, vectors, query, where)
        assert [hit.score for hit in hits] == pytest.approx(
            [float(vectors[int(hit.record.id[1:])] @ query) for hit in hits], abs=1e-5
        )


def test_without_its_filter_index_the_store_lets_chroma_filter_and_finds_the_same(
    filled: tuple[ChromaStore, list[MemoryRecord], np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, records, vectors = filled
    monkeypatch.setattr(FilterIndexes, "of", lambda self, collection: None)
    for where in FILTERS.values():
        query = queries(1)[0]
        hits = store.query("ns", query.tolist(), LIMIT, where)
        assert [hit.record.id for hit in hits] == exact_search(records, vectors, query, where)


def test_a_screened_search_whose_nearest_records_hold_too_few_that_pass_searches_them_all(
    filled: tuple[ChromaStore, list[MemoryRecord], np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, records, vectors = filled
    monkeypatch.setattr(chroma_search, "EXACT_MAX", 0)
    monkeypatch.setattr(chroma_search, "MARGIN", 0.05)  # fetches far fewer than hold the limit
    where = FILTERS["broad"]
    query = queries(1)[0]
    hits = store.query("ns", query.tolist(), LIMIT, where)
    assert [hit.record.id for hit in hits] == exact_search(records, vectors, query, where)


@pytest.mark.parametrize("route", list(ROUTES))
def test_records_written_changed_moved_and_deleted_after_the_index_was_read_are_searched_as_they_are_now(
    filled: tuple[ChromaStore, list[MemoryRecord], np.ndarray], route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    take(route, monkeypatch)
    store, records, vectors = filled
    where = MemoryFilter(tags=("rare",))
    store.query("ns", queries(1)[0].tolist(), LIMIT, where)  # the index is read
    retagged = [_with(r, tags=("rare",)) for r in records[:10]] + [_with(r, tags=()) for r in records[10:20]]
    store.update("ns", retagged)
    new, new_vectors = make_records(20, seed=1)
    new = [_with(r, id=f"n{n:04d}", tags=("rare",)) for n, r in enumerate(new)]
    store.add("ns", new, new_vectors.tolist())
    moved = [r for r in records[20:] if "rare" in r.tags][:3]
    store.move("ns", moved, "superseded")
    store.delete("ns", [r.id for r in records[30:40]])
    now = {r.id: r for r in records[40:] if r not in moved} | {r.id: r for r in retagged + new}
    vectors_now = {r.id: v for r, v in zip(records + new, [*vectors, *new_vectors], strict=True)}
    ids = list(now)
    for query in queries():
        hits = store.query("ns", query.tolist(), LIMIT, where)
        expected = exact_search([now[i] for i in ids], np.asarray([vectors_now[i] for i in ids]), query, where)
        assert [hit.record.id for hit in hits] == expected
    store.warm("ns")  # the superseded shelf, created by the move, has had its index from its first write
    assert {h.record.id for h in store.query("ns", queries(1)[0].tolist(), LIMIT, where, "superseded")} == {
        r.id for r in moved
    }


@pytest.mark.parametrize("route", list(ROUTES))
def test_records_whose_vectors_changed_after_the_index_was_read_are_searched_by_their_new_vectors(
    filled: tuple[ChromaStore, list[MemoryRecord], np.ndarray], route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    take(route, monkeypatch)
    store, records, _ = filled
    where, query = FILTERS["broad"], queries(1)[0]
    store.query("ns", query.tolist(), LIMIT, where)  # the index is read
    farthest = [r for r in records if where.matches(r)][-LIMIT:]  # the last to meet the filter now lie nearest
    store.update_embeddings("ns", {r.id: query.tolist() for r in farthest})

    hits = store.query("ns", query.tolist(), LIMIT, where)

    assert {h.record.id for h in hits} == {r.id for r in farthest}
    assert all(h.score == pytest.approx(1.0) for h in hits)


def test_a_filtered_search_of_a_namespace_without_memories_finds_nothing(tmp_path: Path) -> None:
    store = ChromaStore(tmp_path, model_name="test", dimension=DIM)
    assert store.query("ns", queries(1)[0].tolist(), LIMIT, FILTERS["broad"]) == []


def test_a_namespace_this_store_created_is_searched_in_memory_from_its_first_write_without_reading_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    take("in memory", monkeypatch)

    def unread(*args: object) -> None:
        raise AssertionError("the vectors were read back from Chroma")

    monkeypatch.setattr("mcp_memory.storage.chroma_filters._read_vectors", unread)
    store = ChromaStore(tmp_path, model_name="test", dimension=DIM)
    records, vectors = make_records(COUNT)
    store.add("ns", records, vectors.tolist())  # no warm: the index was made with the collection

    for name in ("broad", "narrow", "all conditions"):
        query, where = queries(1)[0], FILTERS[name]
        assert [h.record.id for h in store.query("ns", query.tolist(), LIMIT, where)] == exact_search(
            records, vectors, query, where
        )


def _with(record: MemoryRecord, **changes: object) -> MemoryRecord:
    return MemoryRecord(**{**record.__dict__, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("route", list(ROUTES))
def test_records_another_store_changed_behind_this_ones_index_are_never_returned_wrongly(
    filled: tuple[ChromaStore, list[MemoryRecord], np.ndarray],
    tmp_path: Path,
    route: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    take(route, monkeypatch, may_fall_back=True)  # too few of its candidates are left: another route
    store, records, vectors = filled
    where = FILTERS["broad"]
    store.query("ns", queries(1)[0].tolist(), LIMIT, where)  # the index is read
    other = ChromaStore(tmp_path, model_name="test", dimension=DIM)  # its writes bypass this store's index
    gone = [r.id for r in records if "work" in r.tags][::2]
    other.delete("ns", gone)
    other.update("ns", [_with(r, tags=()) for r in records[:50]])
    now = [r for r in records[50:] if r.id not in gone]
    query = queries(1)[0]
    hits = store.query("ns", query.tolist(), LIMIT, where)
    assert all(where.matches(hit.record) and hit.record.id not in gone for hit in hits)
    assert {h.record.id for h in hits} <= set(
        exact_search(now, vectors[50:][[r.id not in gone for r in records[50:]]], query, where)
    )


def test_a_store_warmed_before_its_first_search_finds_the_same_and_warming_an_empty_namespace_creates_nothing(
    filled: tuple[ChromaStore, list[MemoryRecord], np.ndarray], tmp_path: Path
) -> None:
    _, records, vectors = filled
    warmed = ChromaStore(tmp_path, model_name="test", dimension=DIM)
    warmed.warm("ns")
    warmed.warm("nobody")

    query, where = queries(1)[0], FILTERS["time window"]
    assert [h.record.id for h in warmed.query("ns", query.tolist(), LIMIT, where)] == exact_search(
        records, vectors, query, where
    )
    assert warmed.namespaces() == ["ns"]


def test_records_fetched_by_id_under_a_filter_leave_out_only_those_known_not_to_meet_it(
    filled: tuple[ChromaStore, list[MemoryRecord], np.ndarray], tmp_path: Path
) -> None:
    store, records, vectors = filled
    where = FILTERS["all conditions"]
    store.warm("ns")
    late = _with(records[0], id="late", tags=("food",), kind=Kind.note, source="cursor")
    ChromaStore(tmp_path, model_name="test", dimension=DIM).add("ns", [late], [vectors[0].tolist()])  # unseen
    ids = [r.id for r in records] + ["late"]

    fetched = {r.id for r, _ in store.get_with_embeddings("ns", ids, where=where)}

    assert fetched == {r.id for r in records if where.matches(r)} | {"late"}
    assert len(store.get_with_embeddings("ns", ids)) == COUNT + 1
