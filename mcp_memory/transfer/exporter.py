"""`mcp-memory export`: a namespace written as this server's JSON Lines format, a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO

from mcp_memory.transfer.channel import Channel, Progress, no_progress
from mcp_memory.transfer.native import End, Header, memory_line

PAGE = 500  # records read per call: bounded memory whatever the namespace's size


async def export_namespace(
    channel: Channel,
    out: IO[str],
    namespace: str,
    *,
    vectors: bool = False,
    history: bool = False,
    progress: Progress = no_progress,
) -> int:
    """Write the header, every memory (live, then superseded) and the end line; the number of memories."""
    page = await channel.export_page(None, PAGE, vectors=vectors, history=history)
    header = Header(
        namespace=namespace, model=page.model, exported_at=datetime.now(UTC), vectors=vectors, history=history
    )
    out.write(header.model_dump_json() + "\n")
    count = 0
    while True:
        out.writelines(memory_line(memory) + "\n" for memory in page.memories)
        count += len(page.memories)
        progress(count)
        if page.next is None:
            break
        page = await channel.export_page(page.next, PAGE, vectors=vectors, history=history)
    out.write(End(memories=count).model_dump_json() + "\n")
    return count
