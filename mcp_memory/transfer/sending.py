"""Batches to the owner two at a time: it embeds the second while it stores the first.

The owner runs the model outside a namespace's write turn, so with a batch waiting it keeps its cores
busy while the store writes; one batch at a time left them idle for every write (at 100,000 memories
the store's add takes ~1 ms a memory beside the model's ~4). A batch that continues a thread of a
batch under way waits for it, so that the thread's turns are numbered in the file's order.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Set
from typing import TypeVar

import anyio

IN_FLIGHT = 2  # one embedding, one storing: more would only queue at the owner
Batch = TypeVar("Batch")


async def send_batches(
    batches: AsyncIterable[Batch],
    threads: Callable[[Batch], Set[str]],
    send: Callable[[Batch], Awaitable[None]],
) -> None:
    """`send` each batch, at most `IN_FLIGHT` at once; one naming a thread (`threads`) of a batch under way
    starts after that batch is done. The first error stops the rest and is raised as it was."""
    slots = anyio.Semaphore(IN_FLIGHT)
    under_way: list[tuple[Set[str], anyio.Event]] = []

    async def run(batch: Batch, done: anyio.Event) -> None:
        await send(batch)  # a failure keeps its place, so that no batch starts before the group stops
        done.set()
        slots.release()

    try:
        async with anyio.create_task_group() as group:
            async for batch in batches:
                named = threads(batch)
                for theirs, done in under_way:
                    if named & theirs:
                        await done.wait()
                await slots.acquire()
                under_way[:] = [(theirs, done) for theirs, done in under_way if not done.is_set()]
                under_way.append((named, anyio.Event()))
                group.start_soon(run, batch, under_way[-1][1])
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
