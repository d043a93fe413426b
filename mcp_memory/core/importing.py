"""Storing memories that arrive whole from elsewhere: an export of this server, or another tool's memories.

An imported memory keeps its identity: id, timestamps, source, supersession, thread position, use
counts and, when carried, its history and vectors. An id already present is left alone, so
importing a file twice changes nothing; the same words as a current memory are not stored twice.
Vectors are stored as they come when they were made by this server's model; otherwise the batch is
embedded together, and a thread's members with their neighbours, as `remember` would have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from mcp_memory.core.embedder import Embedder
from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import (
    SHELVES,
    ImportResult,
    MemoryInput,
    MemoryRecord,
    SkippedMemory,
    StoredMemory,
    Usage,
)
from mcp_memory.core.parts import Splitter
from mcp_memory.core.remembering import Writer, same_memory
from mcp_memory.core.threads import Embed, ThreadPlacer
from mcp_memory.core.timeparse import parse_optional, zoned
from mcp_memory.core.validation import check_ids
from mcp_memory.storage.history import Event, History
from mcp_memory.storage.keyword_index import KeywordIndex
from mcp_memory.storage.store import VectorStore

DEFAULT_SOURCE = "import"
Embedding = list[float] | np.ndarray  # as the model made it, or as a file carried it


class Expired(Exception):
    """A memory whose time to live ended before it arrived: skipped, not an error."""


@dataclass
class Arrival:
    """One memory of the batch, checked, with what it brought."""

    index: int
    record: MemoryRecord
    vector: Embedding | None = None
    part_vectors: list[Embedding] | None = None
    usage: Usage | None = None
    history: list[Event] | None = None
    parts: list[MemoryRecord] = field(default_factory=list)

    @property
    def shelf(self) -> str:
        return "superseded" if self.record.superseded_by else "live"


class Ahead:
    """Vectors made before a write, by text. `embed` gives them, and asks the model only for other texts
    (a thread's stored members, re-linked to the new ones)."""

    def __init__(self, embedder: Embedder, texts: Sequence[str] = ()) -> None:
        self._embedder = embedder
        unique = list(dict.fromkeys(texts))
        self._vectors = dict(zip(unique, embedder.embed(unique), strict=True)) if unique else {}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed(missing), strict=True))
        return [self._vectors[text] for text in texts]


class Importer:
    """Everything an import does to the store: `prepare` before the namespace's write turn, `write` within it."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        keywords: KeywordIndex,
        history: History,
        threads: ThreadPlacer,
        splitter: Splitter,
        writer: Writer,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._keywords = keywords
        self._history = history
        self._threads = threads
        self._splitter = splitter
        self._writer = writer

    def check(self, items: Sequence[MemoryInput], now: datetime) -> tuple[list[Arrival], list[SkippedMemory]]:
        """Every item validated as `remember` would, with its extra fields; what fails, and why."""
        arrivals, skipped, seen = [], [], set()
        for index, item in enumerate(items):
            try:
                arrival = self._arrival(index, item, now)
            except InvalidInput as exc:
                skipped.append(SkippedMemory(index=index, id=item.id, cause="invalid", reason=str(exc)))
                continue
            except Expired as exc:
                skipped.append(SkippedMemory(index=index, id=item.id, cause="expired", reason=str(exc)))
                continue
            if arrival.record.id in seen:
                reason = "the same id came earlier in the batch"
                skipped.append(SkippedMemory(index=index, id=item.id, cause="duplicate", reason=reason))
                continue
            seen.add(arrival.record.id)
            arrivals.append(arrival)
        return arrivals, skipped

    def prepare(self, namespace: str, arrivals: list[Arrival], now: datetime) -> Ahead:
        """The vectors `write` will want, made before the namespace's turn: the model runs while another
        batch holds the turn (an import's next batch is embedded while this one is stored), and the turn
        lasts only as long as the store's writes. What is already here is left out, read without the turn;
        `write` looks again within it."""
        new = self._new(namespace, arrivals, now, ImportResult())
        texts = [a.record.content for a in new if a.vector is None]
        texts += [part.content for a in new if a.part_vectors is None for part in a.parts]
        if self._threads.context:  # a thread continued here re-links its stored tail, mixing in its predecessor
            names = {a.record.thread for a in new if a.record.thread and a.shelf == "live" and a.vector is None}
            stored = self._store.threads(namespace, list(names)).values()
            texts += [m.content for members in stored for m in members[-2:]]
        return Ahead(self._embedder, texts)

    def write(self, namespace: str, arrivals: list[Arrival], now: datetime, ahead: Ahead) -> ImportResult:
        """Store the checked memories that are new to the namespace; vectors carried are trusted, and those
        `ahead` made are used."""
        result = ImportResult()
        arrivals = self._new(namespace, arrivals, now, result)
        if not arrivals:
            return result
        self._threads.forget(namespace)  # thread tails change
        result.embedded = self._embed_missing(arrivals, ahead.embed)
        result.embedded += self._place_in_threads(namespace, arrivals, ahead.embed)
        for shelf in SHELVES:
            here = [a for a in arrivals if a.shelf == shelf]
            records = [r for a in here for r in (a.record, *a.parts)]
            vectors = [v for a in here for v in (a.vector, *(a.part_vectors or []))]
            self._store.add(namespace, records, vectors, shelf)  # type: ignore[arg-type]
            entries = [(a.record.id, a.record.content) for a in here if a.record.thread is None or shelf != "live"]
            self._keywords.add(namespace, [*entries, *((p.id, p.content) for a in here for p in a.parts)], shelf)
        self._history.log(namespace, [e for a in arrivals for e in a.history or [_imported(a.record, now)]])
        self._history.set_usage(namespace, {a.record.id: a.usage for a in arrivals if a.usage})
        result.imported = [a.record.id for a in arrivals]
        return result

    def _new(self, namespace: str, arrivals: list[Arrival], now: datetime, result: ImportResult) -> list[Arrival]:
        """The arrivals neither present by id nor the same words as a current memory; `result` says which were."""
        ids = [a.record.id for a in arrivals]
        present = {r.memory_id for shelf in SHELVES for r in self._store.get(namespace, ids, shelf)}
        result.present = [i for i in ids if i in present]
        return self._distinct(namespace, [a for a in arrivals if a.record.id not in present], now, result)

    def _arrival(self, index: int, item: MemoryInput, now: datetime) -> Arrival:
        if item.expires_at and (expiry := parse_optional(item.expires_at, "expires_at", now=now)) and expiry <= now:
            raise Expired(f"it expired at {expiry.isoformat()}")
        record = self._writer.record(item, DEFAULT_SOURCE, now)
        arrival = Arrival(index, record)
        if isinstance(item, StoredMemory):
            arrival = self._restored(arrival, item, now)
        parts = self._splitter.parts(arrival.record)
        arrival.record = replace(arrival.record, parts=len(parts))
        whole = arrival.record
        arrival.parts = [
            replace(p, superseded_by=whole.superseded_by, superseded_at=whole.superseded_at) for p in parts
        ]
        if arrival.part_vectors is not None and len(arrival.part_vectors) != len(parts):
            arrival.part_vectors = None  # split otherwise here (another model's window): embed them again
        return arrival

    def _restored(self, arrival: Arrival, item: StoredMemory, now: datetime) -> Arrival:
        """The fields only an export carries: supersession, thread position, usage, history, vectors."""
        record = arrival.record
        superseded_by = check_ids([item.superseded_by])[0] if item.superseded_by else None
        if item.thread_seq is not None and (item.thread is None or item.thread_seq < 1):
            raise InvalidInput("thread_seq is set without a thread, or below 1")
        arrival.record = replace(
            record,
            updated_at=_utc(item.updated_at),
            thread_seq=item.thread_seq,
            superseded_by=superseded_by,
            superseded_at=(_utc(item.superseded_at) or now) if superseded_by else None,
        )
        if item.access_count < 0:
            raise InvalidInput("access_count is negative")
        if item.last_seen_at is not None:
            arrival.usage = Usage(item.access_count, _utc(item.last_seen_at))
        if item.history is not None:
            arrival.history = [Event(record.id, _utc(e.at) or now, e.event, e.detail) for e in item.history]
        arrival.vector = self._checked_vector(item.vector)
        if item.part_vectors is not None:
            arrival.part_vectors = [v for v in map(self._checked_vector, item.part_vectors) if v is not None]
        return arrival

    def _checked_vector(self, vector: np.ndarray | None) -> np.ndarray | None:
        if vector is not None and len(vector) != self._embedder.dimension:
            raise InvalidInput(
                f"a vector has {len(vector)} numbers where model {self._embedder.name} makes "
                f"{self._embedder.dimension}: import without vectors to embed again"
            )
        return vector

    def _distinct(self, namespace: str, arrivals: list[Arrival], now: datetime, result: ImportResult) -> list[Arrival]:
        """Leave out a current memory with the same words as one already here, or earlier in the batch."""
        single = {a.record.id: a for a in arrivals if a.shelf == "live" and a.record.thread is None}
        found = self._store.find_hashes(namespace, [a.record.content_hash for a in single.values()])
        known = {same_memory(r): r.id for r in found if r.thread is None and not r.expired(now)}
        kept = []
        for arrival in arrivals:
            record = arrival.record
            if record.id in single and (twin := known.setdefault(same_memory(record), record.id)) != record.id:
                reason = f"the same words as memory {twin}, already here"
                skip = SkippedMemory(index=arrival.index, id=arrival.record.id, cause="duplicate", reason=reason)
                result.skipped.append(skip)
            else:
                kept.append(arrival)
        return kept

    def _embed_missing(self, arrivals: list[Arrival], embed: Embed) -> int:
        """One batch for every text without a vector: memories outside threads, and parts."""
        wanted: list[tuple[Arrival, int | None]] = []  # (arrival, part index or None for the memory itself)
        for a in arrivals:
            if a.vector is None and (a.record.thread is None or a.shelf != "live"):
                wanted.append((a, None))
            if a.part_vectors is None:
                wanted += [(a, n) for n in range(len(a.parts))]
        texts = [a.record.content if n is None else a.parts[n].content for a, n in wanted]
        vectors = embed(texts) if texts else []
        for a in arrivals:
            if a.part_vectors is None:
                a.part_vectors = [[] for _ in a.parts]
        for (a, n), vector in zip(wanted, vectors, strict=True):
            if n is None:
                a.vector = vector
            else:
                assert a.part_vectors is not None
                a.part_vectors[n] = vector
        return len(texts)

    def _place_in_threads(self, namespace: str, arrivals: list[Arrival], embed: Embed) -> int:
        """Number the new members of each live thread after those there, embed them with their neighbours
        (unless every one brought its vector), and re-link the old members they now border."""
        embedded = 0
        threaded = [a for a in arrivals if a.record.thread is not None and a.shelf == "live"]
        names = list(dict.fromkeys(a.record.thread for a in threaded if a.record.thread is not None))
        members = self._store.threads(namespace, names)
        # One embedding and one write for every thread: each of Chroma's updates costs ~20 ms at 100,000
        # records, however few, and the model is quicker over one long batch than over many short ones.
        relinked: dict[str, list[float]] = {}
        entries: list[tuple[str, str]] = []
        plans = []
        for thread in names:
            joining = [a for a in threaded if a.record.thread == thread]
            before = members.get(thread, [])
            last = max((r.thread_seq or 0 for r in before), default=0)
            for a in joining:
                if a.record.thread_seq is None:
                    last += 1
                    a.record = replace(a.record, thread_seq=last)
            after = sorted([*before, *(a.record for a in joining)], key=lambda r: (r.thread_seq or 0, r.created_at))
            carried = all(a.vector is not None for a in joining)
            plans.append((joining, before, after, carried))
        wanted = [(before, after, not carried) for _, before, after, carried in plans]
        placements = self._threads.rethread_many(wanted, embed_with=embed)
        for (joining, before, _, carried), placement in zip(plans, placements, strict=True):
            embedded += placement.embedded
            for a in joining:
                a.vector = a.vector if carried else placement.updated[a.record.id]
            old = {r.id for r in before}
            relinked |= {i: v for i, v in placement.updated.items() if i in old}
            entries += zip([r.id for r in placement.records], placement.keyword_texts, strict=True)
        self._store.update_embeddings(namespace, relinked)
        self._keywords.add(namespace, entries)
        return embedded


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else zoned(moment)


def _imported(record: MemoryRecord, now: datetime) -> Event:
    return Event(record.id, now, "imported", {"source": record.source, "kind": record.kind.value})
