"""The `VectorStore` protocol: where memories and their embeddings live, one namespace at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from mcp_memory.models import MemoryFilter, MemoryRecord, ScoredRecord


class VectorStore(Protocol):
    """Every method takes the namespace; a namespace never sees another's memories."""

    def add(self, namespace: str, records: Sequence[MemoryRecord], embeddings: Sequence[list[float]]) -> None: ...

    def query(
        self, namespace: str, embedding: list[float], limit: int, where: MemoryFilter | None = None
    ) -> list[ScoredRecord]:
        """The `limit` nearest memories meeting `where`, best first, scored by cosine similarity."""
        ...

    def get(self, namespace: str, ids: Sequence[str]) -> list[MemoryRecord]:
        """The memories among `ids` that exist; unknown ids are left out."""
        ...

    def get_with_embeddings(self, namespace: str, ids: Sequence[str]) -> list[tuple[MemoryRecord, list[float]]]:
        """The memories among `ids` that exist, each with its stored embedding."""
        ...

    def update_embeddings(self, namespace: str, embeddings: dict[str, list[float]]) -> None:
        """Replace the embeddings of existing memories (when a thread's next memory arrives)."""
        ...

    def thread(self, namespace: str, thread: str) -> list[MemoryRecord]:
        """The memories of one thread, in the order they were remembered."""
        ...

    def scan(self, namespace: str, batch: int = 1000) -> Iterator[list[MemoryRecord]]:
        """Every memory of the namespace, a batch at a time."""
        ...

    def delete(self, namespace: str, ids: Sequence[str]) -> None: ...

    def count(self, namespace: str) -> int: ...

    def namespaces(self) -> list[str]: ...
