"""An import's batches go to the owner two at a time, and a batch continuing a thread of one under way waits
for it (the owner embeds one batch while it stores the other)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
import pytest
from anyio.abc import TaskGroup

from mcp_memory.core.errors import InvalidInput
from mcp_memory.transfer.sending import send_batches


@dataclass(frozen=True)
class Batch:
    name: str
    threads: frozenset[str] = field(default_factory=frozenset)


class Owner:
    """Takes each batch and holds it until the test lets it go."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self._gates: dict[str, anyio.Event] = {}

    async def take(self, batch: Batch) -> None:
        self.started.append(batch.name)
        self._gates[batch.name] = anyio.Event()
        await self._gates[batch.name].wait()
        self.finished.append(batch.name)

    async def let_go(self, name: str) -> None:
        self._gates[name].set()
        await anyio.wait_all_tasks_blocked()


async def each(batches: list[Batch]) -> AsyncIterator[Batch]:
    for batch in batches:
        await anyio.lowlevel.checkpoint()
        yield batch


def threads(batch: Batch) -> frozenset[str]:
    return batch.threads


async def start(group: TaskGroup, owner: Owner, batches: list[Batch]) -> None:
    group.start_soon(send_batches, each(batches), threads, owner.take)
    await anyio.wait_all_tasks_blocked()


async def test_two_batches_are_with_the_owner_at_once_and_a_third_waits_for_a_place() -> None:
    owner = Owner()
    async with anyio.create_task_group() as group:
        await start(group, owner, [Batch("a"), Batch("b"), Batch("c"), Batch("d")])
        assert owner.started == ["a", "b"]
        await owner.let_go("b")
        assert owner.started == ["a", "b", "c"]
        for name in ("a", "c"):
            await owner.let_go(name)
        assert owner.started == ["a", "b", "c", "d"]
        await owner.let_go("d")
    assert owner.finished == ["b", "a", "c", "d"]


async def test_a_batch_continuing_a_thread_of_one_under_way_waits_for_it_though_a_place_is_free() -> None:
    owner = Owner()
    chat = frozenset({"standup"})
    async with anyio.create_task_group() as group:
        await start(group, owner, [Batch("a", chat), Batch("b"), Batch("c", chat | {"other"}), Batch("d")])
        assert owner.started == ["a", "b"]
        await owner.let_go("b")
        assert owner.started == ["a", "b"]  # c continues a's conversation: its turns must follow a's
        await owner.let_go("a")
        assert owner.started == ["a", "b", "c", "d"]  # and d, with no thread, goes beside it
        for name in ("c", "d"):
            await owner.let_go(name)
    assert owner.finished == ["b", "a", "c", "d"]


async def test_the_first_refusal_stops_the_batches_after_it_and_is_raised_as_it_was() -> None:
    sent: list[str] = []

    async def take(batch: Batch) -> None:
        sent.append(batch.name)
        if batch.name == "b":
            raise InvalidInput("the owner refused batch b")
        await anyio.sleep_forever()

    with pytest.raises(InvalidInput, match="refused batch b"):
        await send_batches(each([Batch("a"), Batch("b"), Batch("c")]), threads, take)
    assert sent == ["a", "b"]
