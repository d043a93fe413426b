"""Batches to the owner two at a time: it embeds the second while it stores the first.

The owner runs the model before it takes a namespace's write turn, so with a batch waiting it keeps
its cores busy while the store writes; one batch at a time left them idle for every write (at
100,000 memories the store's add takes ~1 ms a memory beside the model's ~4). Two batches with the
owner at once may be stored in either order, so a batch that could contend with one under way (it
continues a conversation of it, carries an id of it, or repeats its words) waits for it: the file's
order decides, as it did one batch at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Set
from typing import TypeVar

import anyio

from mcp_memory.core.models import MemoryInput
from mcp_memory.core.validation import content_hash

IN_FLIGHT = 2  # one embedding, one storing: more would only queue at the owner
Batch = TypeVar("Batch")


def claims(memories: Iterable[MemoryInput]) -> set[str]:
    """What a batch of memories could contend over with another: the conversations it continues, the ids
    it carries, and the words of its memories outside a conversation (the same words are stored once)."""
    found = set()
    for memory in memories:
        if memory.id is not None:
            found.add(f"id {memory.id}")
        if memory.thread is not None:
            found.add(f"thread {memory.thread}")
        else:
            found.add(f"words {content_hash(memory.content)}")
    return found


async def send_batches(
    batches: AsyncIterable[Batch],
    claims_of: Callable[[Batch], Set[str]],
    send: Callable[[Batch], Awaitable[None]],
) -> None:
    """`send` each batch, at most `IN_FLIGHT` at once; a batch sharing a claim (`claims_of`) with one under
    way starts after that one is done. No batch starts after the first error, which is raised as it was
    (a batch already with the owner may still be stored: an import run again finishes it)."""
    slots = anyio.Semaphore(IN_FLIGHT)
    under_way: list[tuple[Set[str], anyio.Event]] = []

    async def run(batch: Batch, done: anyio.Event) -> None:
        await send(batch)  # a failure keeps its place, so that no batch starts before the group stops
        done.set()
        slots.release()

    try:
        async with anyio.create_task_group() as group:
            async for batch in batches:
                claimed = claims_of(batch)
                for theirs, done in under_way:
                    if claimed & theirs:
                        await done.wait()
                await slots.acquire()
                under_way[:] = [(theirs, done) for theirs, done in under_way if not done.is_set()]
                under_way.append((claimed, anyio.Event()))
                group.start_soon(run, batch, under_way[-1][1])
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
