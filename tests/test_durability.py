"""Many hosts writing at once, and a server killed mid-stream: no acknowledged memory is ever lost."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import anyio
import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from mcp import ClientSession
from mcp.shared.exceptions import MCPError
from mcp_clients import owner_status, stdio_session, structured

from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.storage.chroma_store import PREFIXES

WORDS = [
    "amber",
    "basil",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "iris",
    "juniper",
    "kelp",
    "lotus",
    "maple",
    "nectar",
    "onyx",
    "pecan",
]


def stored_embeddings(data_dir: Path, namespace: str, ids: list[str]) -> dict[str, int]:
    """Dimension of each stored embedding, read from Chroma directly once the server has stopped."""
    stop_owner(OwnerFiles(data_dir))
    client = chromadb.PersistentClient(str(data_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    found = client.get_collection(PREFIXES["live"] + namespace).get(ids=ids, include=["embeddings"])
    return {i: len(vector) for i, vector in zip(found["ids"], found["embeddings"], strict=True)}  # type: ignore[arg-type]


@pytest.mark.timeout(1800)  # 1,600 remembers and 1,920 recalls: minutes on two cores, more on a busy machine
async def test_eight_hosts_remembering_at_once_lose_nothing(data_dir: Path) -> None:
    remembered: dict[str, str] = {}

    async def host(number: int) -> None:
        rng = random.Random(number)
        async with stdio_session(data_dir, f"host-{number}", "shared") as session:
            for i in range(200):
                content = f"Host {number} note {i}: " + " ".join(rng.sample(WORDS, 6))
                remembered[structured(await session.call_tool("remember", {"content": content}))["id"]] = content
                if i % 5 == 0:
                    structured(await session.call_tool("recall", {"query": content, "limit": 3}))

    async with anyio.create_task_group() as hosts:
        for number in range(8):
            hosts.start_soon(host, number)
    assert len(remembered) == 1600

    async def check(items: list[tuple[str, str]]) -> None:
        async with stdio_session(data_dir, "checker", "shared") as session:
            assert (await owner_status(session))["namespaces"] == {"shared": 1600}
            for memory_id, content in items:
                best = structured(await session.call_tool("recall", {"query": content, "limit": 1}))["memories"][0]
                assert best["id"] == memory_id, content

    everything = list(remembered.items())
    async with anyio.create_task_group() as checkers:
        for part in range(4):
            checkers.start_soon(check, everything[part::4])
    assert stored_embeddings(data_dir, "shared", list(remembered)) == dict.fromkeys(remembered, 384)


async def test_a_server_killed_mid_stream_keeps_every_acknowledged_memory(data_dir: Path) -> None:
    acknowledged: list[str] = []
    cut_off: list[str] = []

    async def writer(session: ClientSession) -> None:
        for i in range(60):
            try:
                result = await session.call_tool("remember", {"content": f"Stream note {i}: " + WORDS[i % 16]})
            except MCPError as exc:
                cut_off.append(str(exc))
                continue
            acknowledged.append(structured(result)["id"])

    async with stdio_session(data_dir, "claude-code") as session:
        first = (await owner_status(session))["pid"]
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(writer, session)
            with anyio.fail_after(120):
                while len(acknowledged) < 20:
                    await anyio.sleep(0.01)
            os.kill(first, signal.SIGKILL)
        second = await owner_status(session)
    assert second["pid"] != first
    assert len(cut_off) <= 1 and all("whether it took effect is unknown" in text for text in cut_off)
    assert len(acknowledged) + len(cut_off) == 60
    assert stored_embeddings(data_dir, "default", acknowledged) == dict.fromkeys(acknowledged, 384)
