"""Moving a namespace to another embedding model, with nothing lost on the way and nothing to redo.

One model's vectors mean nothing to another, so a server cannot search a namespace another model
embedded (`ModelMismatch`). `Reembedder` embeds every record of the namespace again with the new
model, as `remember` would have: a memory in a thread with its neighbours, a long memory's parts
cut again to the new model's window (their number may change), a superseded memory alone. The
records go to staging copies of the shelves (`VectorStore.staging`), a batch at a time; the
namespace's own shelves are replaced by them only once every memory and part is there, counted.
Then the keyword index is rebuilt from the store, since the parts may differ. History and use are
kept by memory id, so they need nothing.

A run cut short (killed, or failing) while copying leaves the namespace as it was, on its old
model. Running again resumes: the copies are marked with a fingerprint of the namespace's records,
and memories already staged are skipped, unless the namespace changed in between (a server on the
old model may have written to it): then the copies are discarded and the work starts over. Once
the copies are complete, the shelves take their mark too, which closes them to every server; then
each shelf is dropped and its copy renamed in its place, the live shelf last. A run cut short from
there on leaves the namespace closed, and the next run finishes the swap before anything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from mcp_memory.core.config import Settings
from mcp_memory.core.embedder import Embedder
from mcp_memory.core.errors import NotFound, StorageError
from mcp_memory.core.models import MemoryRecord, Shelf
from mcp_memory.core.parts import Splitter
from mcp_memory.core.threads import ThreadPlacer, shelf_entries
from mcp_memory.core.validation import check_namespace
from mcp_memory.storage.keyword_index import KeywordIndex
from mcp_memory.storage.store import CollectionInfo, VectorStore

BATCH = 256  # texts per call of the model, and memories read from the store at a time
Progress = Callable[[int, int], None]  # (memories done, memories in the namespace)


@dataclass
class Reembedded:
    """What became of one namespace: re-embedded, finished (a run cut short in its swap), or skipped (already
    on the model)."""

    namespace: str
    status: Literal["reembedded", "finished", "skipped"]
    memories: int = 0  # live and superseded
    parts: int = 0
    embedded: int = 0  # texts the model read
    resumed: int = 0  # memories an earlier run had staged


class Reembedder:
    """Moves namespaces of a store to the model `embedder` runs; `store` is opened on that model."""

    def __init__(
        self, store: VectorStore, embedder: Embedder, keywords: KeywordIndex, settings: Settings, batch: int = BATCH
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._keywords = keywords
        self._settings = settings
        self._batch = batch

    def namespaces(self) -> list[str]:
        """Every namespace of the store, whatever model embedded it (one in the middle of a swap too)."""
        return sorted({c.namespace for c in self._store.collections() if not c.staging or _is_complete(c.mark)})

    def reembed(self, namespace: str, progress: Progress | None = None) -> Reembedded:
        """Embed the namespace's memories with this model and swap them in; skipped if it is already on it."""
        check_namespace(namespace)
        finishing = _swapping(*self._collections(namespace))
        if finishing:  # an earlier run was cut short in its swap, or before the keyword index was rebuilt
            self._swap_in(namespace)
        shelves, copies = self._collections(namespace)
        if not shelves:
            raise NotFound(f"no namespace {namespace!r} in this data directory")
        if all((c.model, c.dimension) == (self._embedder.name, self._embedder.dimension) for c in shelves):
            memories = sum(self._store.count(namespace, c.shelf) for c in shelves)
            return Reembedded(namespace, "finished" if finishing else "skipped", memories)
        done = self._copy(namespace, shelves, copies, progress or _quiet)
        self._swap_in(namespace)
        return done

    def _copy(
        self, namespace: str, shelves: list[CollectionInfo], copies: list[CollectionInfo], progress: Progress
    ) -> Reembedded:
        """The namespace copied to staging with this model's vectors and verified, unless a run cut short
        just before its swap had done so (and the namespace is as it was then)."""
        sources = {c.shelf: self._store.on_model(c.model, c.dimension) for c in shelves}
        mark = _fingerprint(namespace, sources)
        complete = (self._embedder.name, self._embedder.dimension, _complete(mark))
        if copies and all((c.model, c.dimension, c.mark) == complete for c in copies):
            return Reembedded(namespace, "finished", sum(s.count(namespace, shelf) for shelf, s in sources.items()))
        done = _Copy(self._store, self._embedder, self._settings, self._batch, namespace, sources, mark).run(progress)
        self._store.mark(namespace, _complete(mark), staging=True)
        return done

    def _collections(self, namespace: str) -> tuple[list[CollectionInfo], list[CollectionInfo]]:
        """The namespace's shelves and its staging copies."""
        found = self._store.collections(namespace)
        return [c for c in found if not c.staging], [c for c in found if c.staging]

    def _swap_in(self, namespace: str) -> None:
        """The staging copies in place of the shelves, then the keyword index rebuilt from them, as
        `MemoryService.reindex` does (the copies of an earlier run may be of another model than this one)."""
        if copies := self._collections(namespace)[1]:  # first, the shelves closed to every server
            self._store.mark(namespace, copies[0].mark)
        self._store.swap_in(namespace)
        self._keywords.drop(namespace)
        for shelf in self._collections(namespace)[0]:
            store = self._store.on_model(shelf.model, shelf.dimension)
            records = [r for batch in store.scan(namespace, shelf.shelf) for r in batch]
            entries = shelf_entries(records, shelf.shelf, thread_context=self._settings.thread_context)
            self._keywords.add(namespace, entries, shelf.shelf)
        self._store.mark(namespace, None)  # last: until then, the next run finishes what is left


class _Copy:
    """One namespace copied to its staging shelves with the new model's vectors, then verified."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        settings: Settings,
        batch: int,
        namespace: str,
        sources: dict[Shelf, VectorStore],
        mark: str,
    ) -> None:
        self._embedder, self._batch, self._namespace, self._sources = embedder, batch, namespace, sources
        self._total = sum(source.count(namespace, shelf) for shelf, source in sources.items())
        self._staging = store.staging(namespace, embedder.name, embedder.dimension, mark)
        self._splitter = Splitter(embedder.count_tokens, embedder.window, settings.part_tokens)
        self._threads = ThreadPlacer(self._staging, self._embed, context=settings.thread_context)
        self._progress: Progress = _quiet
        self.done = Reembedded(namespace, "reembedded")

    def run(self, progress: Progress) -> Reembedded:
        """Every memory staged, live threads last on their shelf; said to `progress` as it goes."""
        self._progress = progress
        for shelf, source in self._sources.items():
            threads: set[str] = set()
            for batch in source.scan(self._namespace, shelf, self._batch):
                memories = [r for r in batch if r.part_of is None]  # parts are cut again from their memory
                if shelf == "live":
                    threads.update(r.thread for r in memories if r.thread is not None)
                    memories = [r for r in memories if r.thread is None]
                self._alone(shelf, memories)
            for thread in sorted(threads):
                self._thread(source.thread(self._namespace, thread))
        self._verify()
        return self.done

    def _alone(self, shelf: Shelf, memories: list[MemoryRecord]) -> None:
        if todo := self._pending(shelf, memories):
            if shelf == "live":  # as `remember` places a memory outside any thread
                vectors = self._threads.place(self._namespace, todo).vectors
            else:  # a superseded memory keeps its own meaning, not its old neighbours'
                vectors = self._embed([r.content for r in todo])
            self._put(shelf, todo, vectors)
        self._progress(self.done.memories, self._total)

    def _thread(self, members: list[MemoryRecord]) -> None:
        """A live thread, in order, a window at a time: each member embedded with its neighbours, which are
        read with the window (and embedded with it, their own vectors left to their windows)."""
        size = max(1, self._batch // 3)  # a member in a thread is read three times: alone, after, before
        for start in range(0, len(members), size):
            if todo := self._pending("live", members[start : start + size]):
                around = members[max(0, start - 1) : start + size + 1]
                vectors = self._threads.rethread([], around).updated
                self._put("live", todo, [vectors[r.id] for r in todo])
            self._progress(self.done.memories, self._total)

    def _pending(self, shelf: Shelf, memories: list[MemoryRecord]) -> list[MemoryRecord]:
        """The memories not staged yet; those that are (by a run cut short) are counted as done."""
        staged = self._staging.get(self._namespace, [r.id for r in memories], shelf)
        self.done.resumed += len(staged)
        self.done.memories += len(staged)
        self.done.parts += sum(r.parts for r in staged)
        ids = {r.id for r in staged}
        return [r for r in memories if r.id not in ids]

    def _put(self, shelf: Shelf, memories: list[MemoryRecord], vectors: Sequence[list[float]]) -> None:
        parts = {r.id: self._splitter.parts(replace(r, parts=0)) for r in memories}
        every = [p for r in memories for p in parts[r.id]]
        # Parts first: a memory staged has all its parts staged, so a resumed run may skip it.
        for start in range(0, len(every), self._batch):
            chunk = every[start : start + self._batch]
            self._staging.add(self._namespace, chunk, self._embed([p.content for p in chunk]), shelf)
        wholes = [replace(r, parts=len(parts[r.id])) for r in memories]
        self._staging.add(self._namespace, wholes, vectors, shelf)
        self.done.memories += len(wholes)
        self.done.parts += len(every)

    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch):
            vectors += self._embedder.embed(texts[start : start + self._batch])
        self.done.embedded += len(texts)
        return vectors

    def _verify(self) -> None:
        """Every memory of each shelf staged, with all its parts: else nothing is replaced."""
        for shelf, source in self._sources.items():
            staged, wanted = self._staging.count(self._namespace, shelf), source.count(self._namespace, shelf)
            if staged != wanted:
                raise StorageError(
                    f"re-embedding {self._namespace!r} staged {staged} of its {wanted} {shelf} memories; "
                    "nothing was replaced: run the command again"
                )
        records = self._staging.size(self._namespace)
        if records != self.done.memories + self.done.parts:
            raise StorageError(
                f"re-embedding {self._namespace!r} staged {records} records for {self.done.memories} memories "
                f"of {self.done.parts} parts; nothing was replaced: run the command again"
            )


def _swapping(shelves: list[CollectionInfo], copies: list[CollectionInfo]) -> bool:
    """Whether a swap began: a shelf carries a copy's mark, or a complete copy's shelf was dropped."""
    present = {c.shelf for c in shelves}
    return any(c.mark for c in shelves) or any(_is_complete(c.mark) and c.shelf not in present for c in copies)


def _complete(mark: str) -> str:
    """The mark of a copy verified complete: its swap may begin."""
    return f"{mark} complete"


def _is_complete(mark: str | None) -> bool:
    return mark is not None and mark.endswith(" complete")


def _quiet(done: int, total: int) -> None:
    """No progress shown."""


def _fingerprint(namespace: str, shelves: dict[Shelf, VectorStore]) -> str:
    """A digest of the namespace's records (not their vectors), in whatever order the store gives them: a
    staging copy is resumed only if the namespace is as it was when the copy began."""
    total = 0
    for shelf, store in shelves.items():
        for batch in store.scan(namespace, shelf, BATCH):
            for record in batch:
                text = repr((shelf, replace(record, metadata=dict(sorted(record.metadata.items())))))
                total += int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")
    return f"{total % 2**128:032x}"
