"""The `VectorStore` protocol: where memories and their embeddings live, one namespace at a time."""

from __future__ import annotations

from collections.abc import Sequence
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

    def delete(self, namespace: str, ids: Sequence[str]) -> None: ...

    def count(self, namespace: str) -> int: ...

    def namespaces(self) -> list[str]: ...
