"""The resources and the prompt a host browses memory with: recent memories, one memory, the standing
preferences, and a topic's memories as a message. Real MCP clients, real servers, the real model, real Chroma."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from mcp import ClientSession, MCPError
from mcp_clients import CALL_TIMEOUT, http_server, http_session, stdio_session, structured

from mcp_memory.serve.tokens import TokenStore

ROOT = Path(__file__).resolve().parents[1]


async def remember(session: ClientSession, content: str, **arguments: Any) -> str:
    return str(structured(await session.call_tool("remember", {"content": content, **arguments}))["id"])


async def read_json(session: ClientSession, uri: str) -> Any:
    [contents] = (await session.read_resource(uri)).contents
    return json.loads(getattr(contents, "text", "null"))


async def read_text(session: ClientSession, uri: str) -> str:
    [contents] = (await session.read_resource(uri)).contents
    assert contents.mime_type == "text/markdown"
    return str(getattr(contents, "text", ""))


async def refusal(session: ClientSession, uri: str) -> str:
    """The message of a read refused as the caller's mistake (invalid params), not the server's."""
    with pytest.raises(MCPError) as refused:
        await session.read_resource(uri)
    assert refused.value.code == mcp_types.INVALID_PARAMS, refused.value
    return refused.value.message


async def test_recent_lists_the_latest_memories_newest_first_without_forgotten_or_superseded(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as session:
        porto = await remember(session, "Alice lives in Porto.")
        tea = await remember(session, "Alice drinks green tea in the morning.")
        wrong = await remember(session, "Alice's dentist is on Fridays.")
        cat = await remember(session, "Alice's cat is called Miso.", tags=["pets"])
        structured(await session.call_tool("forget", {"ids": [wrong]}))
        lisbon = await remember(session, "Alice moved to Lisbon.", supersedes=[porto])

        recent = await read_json(session, "memory://recent")
        assert [m["id"] for m in recent["memories"]] == [lisbon, cat, tea]
        assert recent["namespace"] == "default"
        newest = recent["memories"][0]
        assert (newest["source"], newest["state"], newest["supersedes"]) == ("claude-desktop", "live", [porto])
        assert [m["id"] for m in (await read_json(session, "memory://recent/2"))["memories"]] == [lisbon, cat]
        assert "use 1 to 100" in await refusal(session, "memory://recent/0")
        assert "use 1 to 100" in await refusal(session, "memory://recent/101")
        assert "not a count" in await refusal(session, "memory://recent/ten")

    async with stdio_session(data_dir, "cursor", "bob") as elsewhere:
        assert (await read_json(elsewhere, "memory://recent"))["memories"] == []


async def test_one_memory_by_id_shows_every_field_and_its_supersession_links(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as session:
        old = await remember(session, "The team deploys on Fridays.", tags=["deploys"], importance=0.7)
        new = await remember(
            session, "The team deploys on Tuesdays.", supersedes=[old], thread="planning", ttl="365 days"
        )
        structured(await session.call_tool("recall", {"query": "when does the team deploy?"}))

        shown = await read_json(session, f"memory://memories/{new}")
        assert (shown["id"], shown["state"], shown["supersedes"], shown["superseded_by"]) == (new, "live", [old], None)
        assert (shown["thread"], shown["source"], shown["parts"], shown["access_count"]) == (
            "planning",
            "claude-desktop",
            0,
            1,
        )
        assert shown["expires_at"] and shown["last_seen_at"]
        replaced = await read_json(session, f"memory://memories/{old}")
        assert (replaced["state"], replaced["superseded_by"], replaced["tags"]) == ("superseded", new, ["deploys"])
        assert replaced["importance"] == 0.7 and replaced["superseded_at"]

        structured(await session.call_tool("forget", {"ids": [new]}))
        assert "it was forgotten" in await refusal(session, f"memory://memories/{new}")
        assert "no memory" in await refusal(session, f"memory://memories/{'0' * 32}")
        assert "malformed id" in await refusal(session, "memory://memories/not-an-id")


async def test_another_namespace_s_memory_is_not_found_through_a_token_of_another_namespace(data_dir: Path) -> None:
    with http_server(data_dir, namespaces=("default",)) as url:
        tokens = TokenStore(data_dir)
        alice_token, bob_token = tokens.create("alice", ["alice"]), tokens.create("bob", ["bob"])
        reader_token = tokens.create("alice-reader", ["alice"], read_only=True)
        async with http_session(url, "claude-desktop", token=alice_token) as alice:
            secret = await remember(alice, "Alice always wants answers in French.", kind="instruction")

        async with http_session(url, "cursor", token=bob_token) as bob:
            assert "no memory" in await refusal(bob, f"memory://memories/{secret}")
            assert (await read_json(bob, "memory://recent"))["memories"] == []
            assert "French" not in await read_text(bob, "memory://standing")
            brief = await bob.get_prompt("recall_topic", {"topic": "which language Alice wants answers in"})
            assert "French" not in json.dumps(brief.model_dump(mode="json"))
        async with http_session(url, "cursor", "alice", token=bob_token) as bob_naming_alice:
            assert "does not grant namespace 'alice'" in await refusal(bob_naming_alice, f"memory://memories/{secret}")
            assert "does not grant" in await refusal(bob_naming_alice, "memory://recent")
            with pytest.raises(MCPError) as refused:
                await bob_naming_alice.get_prompt("recall_topic", {"topic": "French"})
            assert refused.value.code == mcp_types.INVALID_PARAMS

        async with http_session(url, "reader", token=reader_token) as reader:  # reads, and counts no use
            assert [m["id"] for m in (await read_json(reader, "memory://recent"))["memories"]] == [secret]
            assert "French" in await read_text(reader, "memory://standing")
            assert "French" in _text(await reader.get_prompt("recall_topic", {"topic": "the language of answers"}))
            assert (await read_json(reader, f"memory://memories/{secret}"))["access_count"] == 0


async def test_standing_lists_preferences_and_instructions_only_capped_and_important_first(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as session:
        assert "None remembered yet." in await read_text(session, "memory://standing")
        await remember(session, "Alice lives in Lisbon.")
        await remember(session, "Alice flew to Tokyo in May.", kind="event")
        old = await remember(session, "Alice prefers light themes.", kind="preference")
        await remember(session, "Alice prefers dark themes everywhere.", kind="preference", supersedes=[old])
        await remember(session, "Never deploy on Fridays.", kind="instruction", importance=1.0)
        await remember(session, "Alice prefers metric units.", kind="preference")
        used = await remember(session, "Alice prefers short answers.", kind="preference")
        for _ in range(3):
            structured(await session.call_tool("recall", {"query": "short answers", "limit": 1}))
        for n in range(40):
            await remember(session, f"Minor preference number {n}: {'blue ' * 12}", kind="preference", importance=0.1)

        text = await read_text(session, "memory://standing")
        items = [line for line in text.splitlines() if line.startswith("- ")]
        assert items[:4] == [
            "- Never deploy on Fridays. (instruction)",  # most important first
            "- Alice prefers short answers. (preference)",  # then, among equals, the most used
            "- Alice prefers metric units. (preference)",  # then the newest
            "- Alice prefers dark themes everywhere. (preference)",
        ], text
        assert len(items) <= 30 and len(text) <= 2000
        assert f"{44 - len(items)} more, less important or less used, were left out" in text
        for left_alone in ("Lisbon", "Tokyo", "light themes"):  # a fact, an event, a superseded preference
            assert left_alone not in text, text
        assert (await read_json(session, f"memory://memories/{used}"))["access_count"] == 3


async def test_the_recall_topic_prompt_brings_the_relevant_memories_with_their_date_and_source(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as desktop:
        editor = await remember(desktop, "Alice's favourite editor is Helix, with the gruvbox theme.")
        await remember(desktop, "The office wifi network is called Larch.")
    async with stdio_session(data_dir, "cursor") as cursor:
        prompt = await cursor.get_prompt("recall_topic", {"topic": "which text editor Alice uses"})
        [message] = prompt.messages
        assert message.role == "user"
        text = _text(prompt)
        assert "Alice's favourite editor is Helix" in text and f"id {editor}" in text
        assert "by claude-desktop" in text and "remembered 20" in text
        assert "Larch" not in text  # unrelated: left out of what the host inserts
        assert "holds nothing" in _text(await cursor.get_prompt("recall_topic", {"topic": "quantum chromodynamics"}))
        for name, arguments, words in [
            ("recall_topic", {}, "Missing required arguments"),
            ("recall_topic", {"topic": "   "}, "topic is empty"),
            ("no_such_prompt", {"topic": "x"}, "Unknown prompt"),
        ]:
            with pytest.raises(MCPError) as refused:
                await cursor.get_prompt(name, arguments)
            assert refused.value.code == mcp_types.INVALID_PARAMS and words in refused.value.message, refused.value
        assert (await read_json(cursor, f"memory://memories/{editor}"))["access_count"] == 1


async def test_resources_templates_and_prompts_are_listed_with_what_they_are_for(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as session:
        resources = {str(r.uri): r for r in (await session.list_resources()).resources}
        templates = {t.uri_template: t for t in (await session.list_resource_templates()).resource_templates}
        prompts = {p.name: p for p in (await session.list_prompts()).prompts}
    assert {"memory://status", "memory://recent", "memory://standing"} <= set(resources)
    assert set(templates) >= {
        "memory://history/{memory_id}",
        "memory://recent/{limit}",
        "memory://memories/{memory_id}",
    }
    assert resources["memory://standing"].mime_type == "text/markdown"
    assert "start of a conversation" in str(resources["memory://standing"].description)
    for described in [*resources.values(), *templates.values()]:
        assert len(described.description or "") > 40, described
    recall_topic = prompts["recall_topic"]
    assert "Use it when" in str(recall_topic.description)
    [topic] = recall_topic.arguments or []
    assert (topic.name, topic.required) == ("topic", True) and topic.description


def test_the_travel_demo_shows_a_memory_remembered_by_one_host_recalled_by_another(data_dir: Path) -> None:
    demo = subprocess.run(
        [sys.executable, str(ROOT / "clients" / "travel_demo.py"), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=3 * CALL_TIMEOUT,
    )
    assert demo.returncode == 0, demo.stderr
    recalled = demo.stdout.split('"cursor"', 1)[1]
    assert "Helix, with the gruvbox theme." in recalled and "source: claude-desktop" in recalled, demo.stdout
    assert "- Always answer in British English. (instruction)" in recalled, demo.stdout


def _text(prompt: mcp_types.GetPromptResult) -> str:
    return " ".join(getattr(message.content, "text", "") for message in prompt.messages)
