"""Copying one namespace into another, a page at a time: what `namespaces copy`, `merge` and `rename` do.

A page exported from the source is imported into the target as it is, vectors and history included,
so nothing is embedded again and every memory keeps its id. Memories the target already has (the
same id, or the same words) are left as they are there.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_memory.core.errors import MemoryServerError
from mcp_memory.transfer.channel import Channel, Progress, no_progress

PAGE = 100


@dataclass
class CopyReport:
    copied: int = 0
    present: int = 0
    skipped: int = 0  # the same words as a memory the target has, or expired on the way

    @property
    def total(self) -> int:
        return self.copied + self.present + self.skipped


async def copy_namespace(source: Channel, target: Channel, progress: Progress = no_progress) -> CopyReport:
    report = CopyReport()
    cursor: str | None = None
    model: str | None = None
    while True:
        page = await source.export_page(cursor, PAGE, vectors=True, history=True)
        model = model or page.model
        if page.memories:
            result = await target.import_batch(page.memories, model=model, check_only=False)
            invalid = [s for s in result.skipped if s.cause == "invalid"]
            if invalid:  # cannot happen between two namespaces of one server, but never drop a memory silently
                raise MemoryServerError(f"memory {invalid[0].id} could not be copied: {invalid[0].reason}")
            report.copied += len(result.imported)
            report.present += len(result.present)
            report.skipped += len(result.skipped)
            progress(report.total)
        if (cursor := page.next) is None:
            return report
