"""The `VectorStore` protocol: where memories and their embeddings live, one namespace at a time.

A namespace has two shelves: `live` memories, which recall searches, and `superseded` ones, kept
for history and searched only on request. Separate shelves keep the default search unfiltered,
which is what keeps it fast on a large store. A long memory's parts live beside it on its shelf,
as records whose `part_of` names it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from mcp_memory.models import MemoryFilter, MemoryRecord, ScoredRecord, Shelf


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

    def get(self, namespace: str, ids: Sequence[str], shelf: Shelf = "live") -> list[MemoryRecord]:
        """The records among `ids` that exist on the shelf; unknown ids are left out."""
        ...

    def get_with_embeddings(
        self, namespace: str, ids: Sequence[str], shelf: Shelf = "live"
    ) -> list[tuple[MemoryRecord, list[float]]]:
        """The records among `ids` that exist on the shelf, each with its stored embedding."""
        ...

    def find(self, namespace: str, where: MemoryFilter, shelf: Shelf = "live") -> list[MemoryRecord]:
        """Every memory (not part) on the shelf meeting `where`."""
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

    def scan(self, namespace: str, shelf: Shelf = "live", batch: int = 1000) -> Iterator[list[MemoryRecord]]:
        """Every record of the shelf, memories and parts, a batch at a time."""
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

    def namespaces(self) -> list[str]:
        """The namespaces embedded with this store's model; another model's are left out (using one directly
        is a `ModelMismatch` that names the model), so that none of them stops the work on the others."""
        ...
