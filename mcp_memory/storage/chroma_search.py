"""A filtered search of a Chroma collection by the cheapest route for how many records the filter lets through.

Chroma filters before it searches: a SQLite scan of the metadata (40 to 130 ms at 100,000 records),
then an HNSW search that skips the records left out, which grows slow as they become many. Knowing
from the `FilterIndex` how many pass, the search takes one of three routes instead:

- few (up to `EXACT_MAX`): their embeddings are fetched and scored exactly;
- a share large enough that the nearest `FETCH_MAX` records hold the limit: the nearest records are
  fetched unfiltered, ids and distances only, and screened by the index;
- in between: Chroma's HNSW search restricted to the ids the index gives, without its SQLite scan.

Whatever the route, only the records returned are read in full, and each is checked against the
filter once more: a record the index has not seen yet, or holds stale fields of, is never returned
wrongly. The costs behind the thresholds were measured on 100,000 records of 384 dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import chromadb
import numpy as np
from chromadb.api.models.Collection import Collection

from mcp_memory.core.models import MemoryFilter, MemoryRecord, ScoredRecord
from mcp_memory.storage.chroma_metadata import to_record, to_where
from mcp_memory.storage.filter_index import FilterIndex, Selection

IN_MEMORY_MAX = 40_000  # records scored from the index's own vectors, when it holds them
# Candidates the index's 8-bit scores choose beyond the limit, all scored again exactly: those scores
# err by about 0.001, far less than lies between the limit's record and the 16th after it.
SPARE = 16
EXACT_MAX = 400  # records scored exactly: their embeddings are fetched at ~35 µs each
FETCH_MAX = 2000  # nearest records fetched unfiltered (~7 µs each); beyond, the restricted search is cheaper
MARGIN = 1.5  # records fetched beyond those that the filter's share says hold the limit


def filtered_query(
    collection: Collection, index: FilterIndex, embedding: list[float], limit: int, where: MemoryFilter
) -> list[ScoredRecord]:
    """The `limit` nearest records of the collection meeting `where`, best first."""
    selection = index.select(where)
    if selection.count == 0:
        return []
    nearest = index.nearest(selection, embedding, limit + SPARE) if selection.count <= IN_MEMORY_MAX else None
    if nearest and (found := _rescored(collection, nearest, embedding, limit, where, selection.count)) is not None:
        return found
    if selection.count <= EXACT_MAX:
        return _scored(collection, index.ids(selection), embedding, limit, where)
    fetch = math.ceil(limit * MARGIN * selection.total / selection.count)
    if fetch <= FETCH_MAX:
        found = _screened(collection, index, selection, embedding, limit, fetch, where)
        if found is not None:
            return found
    return _restricted(collection, index.ids(selection), embedding, limit, where)


def _rescored(
    collection: Collection,
    nearest: list[tuple[str, float]],
    embedding: list[float],
    limit: int,
    where: MemoryFilter,
    passing: int,
) -> list[ScoredRecord] | None:
    """The index's nearest candidates read in full and scored exactly (its 8-bit vectors only chose
    them); None if too few of them still meet the filter and others might."""
    found = collection.get(ids=[i for i, _ in nearest], include=["documents", "metadatas", "embeddings"])
    if not found["ids"]:
        return None if passing > len(nearest) else []
    vectors, query = np.asarray(found["embeddings"], dtype=np.float32), np.asarray(embedding, dtype=np.float32)
    norms = np.maximum(np.linalg.norm(vectors, axis=1) * np.linalg.norm(query), np.finfo(np.float32).tiny)
    similarity = vectors @ query / norms
    rows = zip(found["ids"], found["documents"], found["metadatas"], similarity, strict=True)  # type: ignore[arg-type]
    hits = [ScoredRecord(to_record(i, doc, meta), float(score)) for i, doc, meta, score in rows]
    hits = sorted((h for h in hits if where.matches(h.record)), key=lambda h: -h.score)
    if len(hits) < limit and passing > len(nearest):
        return None
    return hits[:limit]


def _scored(
    collection: Collection, ids: list[str], embedding: list[float], limit: int, where: MemoryFilter
) -> list[ScoredRecord]:
    """Exact cosine similarity to each of `ids`."""
    found = collection.get(ids=ids, include=["embeddings"])
    if not found["ids"]:
        return []
    vectors, query = np.asarray(found["embeddings"], dtype=np.float32), np.asarray(embedding, dtype=np.float32)
    norms = np.maximum(np.linalg.norm(vectors, axis=1) * np.linalg.norm(query), np.finfo(np.float32).tiny)
    similarity = vectors @ query / norms
    order = np.argsort(-similarity, kind="stable")
    return _verified(collection, [(found["ids"][k], float(similarity[k])) for k in order], limit, where)


def _screened(
    collection: Collection,
    index: FilterIndex,
    selection: Selection,
    embedding: list[float],
    limit: int,
    fetch: int,
    where: MemoryFilter,
) -> list[ScoredRecord] | None:
    """The nearest `fetch` records, those the index lets through; None if they hold fewer than `limit`."""
    found = collection.query(query_embeddings=_one(embedding), n_results=fetch, include=["distances"])
    ids, distances = found["ids"][0], found["distances"][0]  # type: ignore[index]
    candidates = [
        (i, 1.0 - float(d)) for i, d, ok in zip(ids, distances, index.passing(selection, ids), strict=True) if ok
    ]
    hits = _verified(collection, candidates, limit, where)
    exhausted = len(ids) < fetch  # the whole collection was fetched: what passed is all there is
    return hits if len(hits) >= limit or exhausted else None


def _restricted(
    collection: Collection, ids: list[str], embedding: list[float], limit: int, where: MemoryFilter
) -> list[ScoredRecord]:
    include: Any = ["documents", "metadatas", "distances"]
    try:
        found = collection.query(query_embeddings=_one(embedding), n_results=limit, ids=ids, include=include)
    except chromadb.errors.InternalError:  # one of the ids was deleted since: Chroma filters by itself
        found = collection.query(
            query_embeddings=_one(embedding), n_results=limit, where=to_where(where), include=include
        )
    rows = zip(found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True)  # type: ignore[index]
    hits = [ScoredRecord(to_record(i, doc, meta), 1.0 - float(dist)) for i, doc, meta, dist in rows]
    return [hit for hit in hits if where.matches(hit.record)]


def _verified(
    collection: Collection, candidates: list[tuple[str, float]], limit: int, where: MemoryFilter
) -> list[ScoredRecord]:
    """The first `limit` candidates (id, score) that meet `where` once read in full, in their order."""
    hits: list[ScoredRecord] = []
    start = 0
    while len(hits) < limit and start < len(candidates):
        batch = candidates[start : start + limit - len(hits)]
        start += len(batch)
        records = _records(collection, [i for i, _ in batch])
        hits += [ScoredRecord(records[i], score) for i, score in batch if i in records and where.matches(records[i])]
    return hits


def _records(collection: Collection, ids: list[str]) -> dict[str, MemoryRecord]:
    found = collection.get(ids=ids, include=["documents", "metadatas"])
    rows = zip(found["ids"], found["documents"], found["metadatas"], strict=True)  # type: ignore[arg-type]
    return {i: to_record(i, doc, meta) for i, doc, meta in rows}


def _one(embedding: list[float]) -> list[Sequence[float] | Sequence[int]]:
    return [embedding]
