"""How an export or an import reaches the memory service: a page or a batch at a time, never all at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from mcp_memory.core.models import ExportPage, ImportResult, MemoryInput

Progress = Callable[[int], None]  # told how many memories are done so far


class Channel(Protocol):
    """The owner's transfer calls, made in the namespace the channel was opened for."""

    async def export_page(self, cursor: str | None, limit: int, *, vectors: bool, history: bool) -> ExportPage: ...

    async def import_batch(
        self, memories: Sequence[MemoryInput], *, model: str | None, check_only: bool
    ) -> ImportResult: ...


def no_progress(done: int) -> None:
    """For a caller that shows none."""
