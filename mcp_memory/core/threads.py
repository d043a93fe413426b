"""Memories of one thread (a conversation, a session) embedded with their neighbourhood.

A reply such as "yes, twice last year" means nothing alone. So a memory remembered into a thread
is embedded as its own words' vector plus a quarter of each neighbour's (its predecessor's, and
its successor's once one arrives, when its vector is updated). Every text is embedded once, alone:
a thread costs the model no more than as many separate memories. Its keyword entry holds its
predecessor's words too. On LoCoMo this lifted recall@10 from 0.682 (each memory alone) to 0.767;
embedding each turn also after its predecessor, as one more text, reached 0.766 for twice the
model's work (see benchmarks/locomo.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np

from mcp_memory.core.models import MemoryRecord, Shelf
from mcp_memory.storage.store import VectorStore

Embed = Callable[[Sequence[str]], list[list[float]]]
NEIGHBOUR = 0.25  # the weight of each neighbour's vector beside a member's own


@dataclass
class Tail:
    """The last memory of a thread, with what its vector is rebuilt from when a successor arrives."""

    record: MemoryRecord
    alone: np.ndarray  # its own words' vector
    with_previous: np.ndarray  # and a share of its predecessor's: its vector until a successor comes


@dataclass
class Placement:
    """What a batch of records becomes: numbered, embedded, keyword texts, and updated predecessors."""

    records: list[MemoryRecord]
    vectors: list[list[float]]
    keyword_texts: list[str]
    updated: dict[str, list[float]] = field(default_factory=dict)
    embedded: int = 0  # texts embedded for it (by the model, or ahead of the write: `importing.Ahead`)


class ThreadPlacer:
    def __init__(self, store: VectorStore, embed: Embed, *, context: bool) -> None:
        self._store = store
        self._embed = embed
        self._context = context
        self._tails: dict[tuple[str, str], Tail] = {}

    @property
    def context(self) -> bool:
        """Whether a member's vector holds its neighbours' too (else its own words alone)."""
        return self._context

    def forget(self, namespace: str) -> None:
        """Drop what is cached of the namespace's threads (after a forget or a failed write)."""
        self._tails = {key: tail for key, tail in self._tails.items() if key[0] != namespace}

    def place(self, namespace: str, records: Sequence[MemoryRecord]) -> Placement:
        previous: list[MemoryRecord | Tail | None] = []
        latest: dict[str, MemoryRecord | Tail | None] = {}
        numbered = []
        for record in records:
            before = None
            if (thread := record.thread) is not None:
                if thread not in latest:
                    latest[thread] = self._tail(namespace, thread)
                before = latest[thread]
                record = replace(record, thread_seq=(_record(before).thread_seq or 0) + 1 if before else 1)
                latest[thread] = record
            numbered.append(record)
            previous.append(before if self._context else None)
        return self._embedded(namespace, numbered, previous)

    def _embedded(
        self, namespace: str, records: list[MemoryRecord], previous: list[MemoryRecord | Tail | None]
    ) -> Placement:
        placement = Placement(list(records), [], [], embedded=len(records))
        if not records:
            return placement
        alone = np.asarray(self._embed([r.content for r in records]), dtype=np.float32)
        tails: dict[str, Tail] = {}  # by id, for successors within this batch
        position = {record.id: i for i, record in enumerate(records)}
        for i, (record, before) in enumerate(zip(records, previous, strict=True)):
            with_previous = alone[i] + NEIGHBOUR * _alone(before, tails) if before is not None else alone[i]
            placement.vectors.append(_unit(with_previous))
            placement.keyword_texts.append(f"{_record(before).content}\n{record.content}" if before else record.content)
            if before is not None:  # the predecessor's vector, now that its successor is known
                tail = before if isinstance(before, Tail) else tails[before.id]
                vector = _unit(tail.with_previous + NEIGHBOUR * alone[i])
                if isinstance(before, Tail):
                    placement.updated[tail.record.id] = vector
                else:
                    placement.vectors[position[before.id]] = vector
            if record.thread is not None:
                tails[record.id] = self._tails[(namespace, record.thread)] = Tail(record, alone[i], with_previous)
        return placement

    def relink(self, members: Sequence[MemoryRecord], removed: set[str]) -> Placement:
        """New vectors and keyword texts for the members whose neighbours change when `removed` go.

        So that nothing of a forgotten memory lingers in its neighbours' vectors or keyword entries.
        """
        return self.rethread(members, [m for m in members if m.id not in removed])

    def rethread(
        self, before: Sequence[MemoryRecord], after: Sequence[MemoryRecord], *, embed: bool = True
    ) -> Placement:
        """New vectors and keyword texts for the members of `after` (a thread, in order) whose neighbours
        differ from those they had in `before`; a member new to the thread counts as changed. Without
        `embed`, only the keyword texts (the caller has the vectors)."""
        return self.rethread_many([(before, after, embed)])[0]

    def rethread_many(
        self,
        threads: Sequence[tuple[Sequence[MemoryRecord], Sequence[MemoryRecord], bool]],
        embed_with: Embed | None = None,
    ) -> list[Placement]:
        """`rethread` for each (before, after, embed) of several threads, with one embedding of all their
        texts: the model is quicker over one long batch, sorted by length, than over many short ones.
        `embed_with` stands in for the model (an import's, with the vectors it made ahead)."""
        plans = []
        for before, after, embed in threads:
            old, new = _neighbours(before), _neighbours(after)
            changed = [m for m in after if m.id not in old or _ids(old[m.id]) != _ids(new[m.id])]
            placement = Placement(changed, [], [self._keyword_text(new[m.id][0], m) for m in changed])
            needed: dict[str, MemoryRecord] = {}
            if embed and changed and not self._context:  # a member's vector is its own words: only new ones
                needed = {m.id: m for m in changed if m.id not in old}
            elif embed and changed:  # each changed member's words and its neighbours', each embedded once
                needed = {m.id: m for m in changed} | {n.id: n for m in changed for n in new[m.id] if n is not None}
            plans.append((placement, new, needed, embed and bool(changed)))
        texts = {i: m.content for _, _, needed, _ in plans for i, m in needed.items()}
        made = dict(zip(texts, (embed_with or self._embed)(list(texts.values())), strict=True)) if texts else {}
        alone = {i: np.asarray(v, dtype=np.float32) for i, v in made.items()}
        for placement, new, needed, embedding in plans:
            placement.embedded = len(needed)
            if not embedding:
                continue
            if not self._context:
                placement.updated = {i: _unit(np.asarray(made[i])) for i in needed}  # as the model gave it
                continue
            for m in placement.records:
                neighbours = [alone[n.id] for n in new[m.id] if n is not None]
                placement.updated[m.id] = _unit(alone[m.id] + NEIGHBOUR * sum(neighbours, np.zeros_like(alone[m.id])))
        return [placement for placement, *_ in plans]

    def _keyword_text(self, previous: MemoryRecord | None, record: MemoryRecord) -> str:
        return f"{previous.content}\n{record.content}" if self._context and previous else record.content

    def _tail(self, namespace: str, thread: str) -> Tail | None:
        key = (namespace, thread)
        if key not in self._tails:
            members = self._store.thread(namespace, thread)
            if not members:
                return None
            last = members[-1]
            if not self._context:  # only its number is needed: no views to embed
                self._tails[key] = Tail(last, np.zeros(0), np.zeros(0))
                return self._tails[key]
            texts = [last.content] + ([members[-2].content] if len(members) > 1 else [])
            views = np.asarray(self._embed(texts), dtype=np.float32)
            with_previous = views[0] + NEIGHBOUR * views[1] if len(views) > 1 else views[0]
            self._tails[key] = Tail(last, views[0], with_previous)
        return self._tails[key]


def keyword_entries(records: Sequence[MemoryRecord], *, context: bool) -> list[tuple[str, str]]:
    """(id, keyword text) of stored memories, as `place` indexed them: a thread's after its predecessor's."""
    by_thread: dict[str, list[MemoryRecord]] = {}
    for record in records:
        if record.thread is not None:
            by_thread.setdefault(record.thread, []).append(record)
    before: dict[str, MemoryRecord] = {}
    for members in by_thread.values():
        members.sort(key=lambda r: r.thread_seq or 0)
        before.update({later.id: earlier for earlier, later in pairwise(members)})
    return [
        (r.id, f"{before[r.id].content}\n{r.content}" if context and r.id in before else r.content) for r in records
    ]


def shelf_entries(records: Sequence[MemoryRecord], shelf: Shelf, *, thread_context: bool) -> list[tuple[str, str]]:
    """A shelf's keyword entries as they were indexed: a live thread's turns after their predecessor's
    words; a superseded memory alone, as it was indexed when it left its thread."""
    return keyword_entries(records, context=thread_context and shelf == "live")


def _neighbours(
    members: Sequence[MemoryRecord],
) -> dict[str, tuple[MemoryRecord | None, MemoryRecord | None]]:
    padded = [None, *members, None]
    return {m.id: (padded[i], padded[i + 2]) for i, m in enumerate(members)}


def _ids(pair: tuple[MemoryRecord | None, MemoryRecord | None]) -> tuple[str | None, ...]:
    return tuple(m.id if m else None for m in pair)


def _alone(item: MemoryRecord | Tail, tails: dict[str, Tail]) -> np.ndarray:
    """A predecessor's own vector: a cached tail's, or that of one placed earlier in the batch."""
    return item.alone if isinstance(item, Tail) else tails[item.id].alone


def _record(item: MemoryRecord | Tail) -> MemoryRecord:
    return item.record if isinstance(item, Tail) else item


def _unit(vector: np.ndarray) -> list[float]:
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 0 else vector).tolist()
