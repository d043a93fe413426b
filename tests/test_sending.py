"""An import's batches go to the owner two at a time (it embeds one while it stores the other), and a batch
that could contend with one under way (a conversation, an id, the same words) waits for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
import pytest
from anyio.abc import TaskGroup

from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import MemoryInput
from mcp_memory.transfer.sending import claims, send_batches


@dataclass(frozen=True)
class Batch:
    name: str
    claims: frozenset[str] = field(default_factory=frozenset)


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


def claims_of(batch: Batch) -> frozenset[str]:
    return batch.claims


async def start(group: TaskGroup, owner: Owner, batches: list[Batch]) -> None:
    group.start_soon(send_batches, each(batches), claims_of, owner.take)
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


async def test_a_batch_sharing_a_claim_with_one_under_way_waits_for_it_though_a_place_is_free() -> None:
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


async def test_no_batch_starts_after_the_first_refusal_which_is_raised_as_it_was() -> None:
    sent: list[str] = []
    a_done = anyio.Event()

    async def take(batch: Batch) -> None:
        sent.append(batch.name)
        if batch.name == "a":
            a_done.set()
        elif batch.name == "b":
            await a_done.wait()
            await anyio.wait_all_tasks_blocked()  # c has taken a's place
            raise InvalidInput("the owner refused batch b")
        else:
            await anyio.sleep_forever()

    with pytest.raises(InvalidInput, match="refused batch b"):
        await send_batches(each([Batch(n) for n in "abcd"]), claims_of, take)
    assert sent == ["a", "b", "c"]


def test_a_batch_claims_its_conversations_ids_and_the_words_of_memories_outside_a_conversation() -> None:
    batch = [
        MemoryInput(content="Deploys happen on Tuesdays", id="a" * 32),
        MemoryInput(content="Yes.", thread="standup"),
    ]
    again = [MemoryInput(content="  deploys HAPPEN on tuesdays ")]  # the same words, as a repeat is found
    other_turn = [MemoryInput(content="Yes.", thread="retro")]  # a turn is never a repeat
    assert claims(batch) & claims(again)
    assert not claims(batch) & claims(other_turn)
    assert claims([MemoryInput(content="Anything", id="a" * 32)]) & claims(batch)
    assert claims([MemoryInput(content="No.", thread="standup")]) & claims(batch)
