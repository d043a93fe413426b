"""The `VectorStore` protocol: where memories and their embeddings live, one namespace at a time.

A namespace has two shelves: `live` memories, which recall searches, and `superseded` ones, kept
for history and searched only on request. Separate shelves keep the default search unfiltered,
which is what keeps it fast on a large store. A long memory's parts live beside it on its shelf,
as records whose `part_of` names it.

A namespace moving to another embedding model (`core/reembedding.py`) also has, for a while, a
staging copy of each shelf embedded with the new model, which replaces the shelf once complete.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mcp_memory.core.models import MemoryFilter, MemoryRecord, ScoredRecord, Shelf


@dataclass(frozen=True)
class CollectionInfo:
    """One of the store's collections as `collections` lists it, whatever model embedded it."""

    namespace: str
    shelf: Shelf
    model: str
    dimension: int
    staging: bool = False  # a re-embedding's copy of the shelf, beside it until it replaces it
    mark: str | None = None  # the re-embedding's note on it: the state of the namespace it copies


class VectorStore(Protocol):
    """Every method takes the namespace; a namespace never sees another's memories."""

    def add(
        self, namespace: str, records: Sequence[MemoryRecord], embeddings: Sequence[list[float]], shelf: Shelf = "live"
    ) -> None: ...

    def query(
        self,
        namespace: str,
        embedding: list[float],
        limit: int,
        where: MemoryFilter | None = None,
        shelf: Shelf = "live",
    ) -> list[ScoredRecord]:
        """The `limit` nearest records (memories or parts) meeting `where`, best first, by cosine similarity."""
        ...

    def query_many(
        self, namespace: str, embeddings: Sequence[list[float]], limit: int, shelf: Shelf = "live"
    ) -> list[list[ScoredRecord]]:
        """`query` for each embedding, in one call to the store."""
        ...

    def get(self, namespace: str, ids: Sequence[str], shelf: Shelf = "live") -> list[MemoryRecord]:
        """The records among `ids` that exist on the shelf; unknown ids are left out."""
        ...

    def get_with_embeddings(
        self, namespace: str, ids: Sequence[str], shelf: Shelf = "live", where: MemoryFilter | None = None
    ) -> list[tuple[MemoryRecord, list[float]]]:
        """The records among `ids` that exist on the shelf, each with its stored embedding; with `where`,
        records known not to meet it may be left out (those returned still need checking)."""
        ...

    def find(self, namespace: str, where: MemoryFilter, shelf: Shelf = "live") -> list[MemoryRecord]:
        """Every memory (not part) on the shelf meeting `where`."""
        ...

    def browse(self, namespace: str, where: MemoryFilter, offset: int, limit: int) -> tuple[list[MemoryRecord], int]:
        """Live memories (not parts) meeting `where`, latest in time (occurred, else remembered) first:
        the `limit` from position `offset`, and how many meet it."""
        ...

    def tally(self, namespace: str) -> list[tuple[str, str, str, int]]:
        """Live memories (not parts) per month of their time, kind and source: (YYYY-MM, kind, source, count)."""
        ...

    def find_hashes(self, namespace: str, hashes: Sequence[str]) -> list[MemoryRecord]:
        """The live memories whose content hash is among `hashes`."""
        ...

    def expired(self, namespace: str, now: datetime, shelf: Shelf = "live") -> list[MemoryRecord]:
        """The memories (not parts) on the shelf that expired by `now`."""
        ...

    def update(self, namespace: str, records: Sequence[MemoryRecord], shelf: Shelf = "live") -> None:
        """Store new field values of existing records; their content and embeddings stay."""
        ...

    def update_embeddings(self, namespace: str, embeddings: dict[str, list[float]]) -> None:
        """Replace the embeddings of existing live records (when a thread's neighbours change)."""
        ...

    def move(
        self,
        namespace: str,
        records: Sequence[MemoryRecord],
        to: Shelf,
        embeddings: dict[str, list[float]] | None = None,
    ) -> None:
        """Move records from the other shelf to `to`, storing their new field values; they keep their
        embeddings but for those given in `embeddings`."""
        ...

    def thread(self, namespace: str, thread: str) -> list[MemoryRecord]:
        """The live memories of one thread, in the order they were remembered."""
        ...

    def threads(self, namespace: str, threads: Sequence[str]) -> dict[str, list[MemoryRecord]]:
        """`thread` for several threads in one read (a thread without memories is left out)."""
        ...

    def scan(self, namespace: str, shelf: Shelf = "live", batch: int = 1000) -> Iterator[list[MemoryRecord]]:
        """Every record of the shelf, memories and parts, a batch at a time."""
        ...

    def page(
        self, namespace: str, shelf: Shelf, offset: int, limit: int, *, embeddings: bool = False
    ) -> list[tuple[MemoryRecord, list[float] | None]]:
        """Up to `limit` records of the shelf (memories and parts) from position `offset` in the store's own
        order, each with its embedding if asked: how an export pages through a namespace."""
        ...

    def delete(self, namespace: str, ids: Sequence[str], shelf: Shelf = "live") -> None: ...

    def count(self, namespace: str, shelf: Shelf = "live") -> int:
        """Memories on the shelf, not counting parts."""
        ...

    def size(self, namespace: str) -> int:
        """Records on both shelves, parts included: what the keyword index must hold too."""
        ...

    def drop(self, namespace: str) -> None:
        """Delete the namespace, both shelves."""
        ...

    def warm(self, namespace: str) -> None:
        """Read now what searches of the namespace would read at their first use (so that none waits for it)."""
        ...

    def namespaces(self) -> list[str]:
        """The namespaces embedded with this store's model; another model's are left out (using one directly
        is a `ModelMismatch` that names the model), so that none of them stops the work on the others."""
        ...

    def collections(self, namespace: str | None = None) -> list[CollectionInfo]:
        """The collections of `namespace` (without it, of every namespace), shelves and staging copies alike,
        each with the model that embedded it: this store's or another."""
        ...

    def on_model(self, model: str, dimension: int) -> VectorStore:
        """The same store, opening the namespaces embedded with another model (and no longer its own): how a
        namespace that needs re-embedding is read."""
        ...

    def staging(self, namespace: str, model: str, dimension: int, mark: str) -> VectorStore:
        """A staging copy of the namespace for another model: one collection per shelf it has, noted with
        `mark`, read and written through the store returned as if they were the namespace itself. A copy
        already there for the same model and mark is kept, to resume; one for another is discarded."""
        ...

    def mark(self, namespace: str, mark: str | None, *, staging: bool = False) -> None:
        """Note `mark` on the namespace's shelves (with `staging`, on its staging copies), or take it off (None)."""
        ...

    def swap_in(self, namespace: str) -> None:
        """Replace each shelf of the namespace that has a staging copy by that copy, mark and all. Each shelf is
        dropped, then its copy renamed: after a crash in between, calling again finishes."""
        ...
