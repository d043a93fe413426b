"""Nobody reads a namespace that is not theirs: tokens bind HTTP hosts to their namespaces, every way in.

One real server (real model, real Chroma) with tokens for alice and bob; bob tries alice's data by
every tool, resource and argument (over a hundred attempts across the module, each test asserting
its own share). Each attempt must be refused or come back empty, and alice's memories, histories
and use counts must be exactly as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import ClientSession, MCPError
from mcp_clients import (
    EXECUTABLE,
    INITIALIZE,
    RAW_HEADERS,
    error_text,
    http_server,
    http_session,
    server_env,
    stdio_session,
    structured,
)

from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.serve.tokens import TokenStore

ALICE_FACTS = [
    ("Alice's bank PIN hint is the name of her first cat, Whiskers.", ["private", "bank"]),
    ("Alice is planning a surprise party for Bob on the 14th.", ["private", "party"]),
    ("Alice prefers tabs over spaces in Python.", ["code"]),
]
BOB_FACTS = [("Bob's favourite editor is Emacs.", ["code"]), ("Bob runs the billing service.", ["work"])]


@dataclass
class Server:
    url: str
    data_dir: Path
    tokens: dict[str, str]
    alice_ids: list[str] = field(default_factory=list)
    superseded_id: str = ""
    bob_ids: list[str] = field(default_factory=list)

    def session(self, who: str, namespace: str | None = None, url: str | None = None) -> Any:
        return http_session(url or self.url, f"host-of-{who}", namespace, token=self.tokens[who])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("isolation") / "data"
    with http_server(data_dir, namespaces=("default",)) as url:
        store = TokenStore(data_dir)
        tokens = {
            "alice": store.create("alice", ["alice"]),
            "bob": store.create("bob", ["bob"]),
            "reader": store.create("alice-reader", ["alice"], read_only=True),
            "team": store.create("team", ["team", "bob"]),
        }
        running = Server(url, data_dir, tokens)
        anyio.run(_seed, running)
        yield running
    stop_owner(OwnerFiles(data_dir))


async def _seed(server: Server) -> None:
    async with server.session("alice") as alice:
        for content, tags in ALICE_FACTS:
            remembered = await alice.call_tool("remember", {"content": content, "tags": tags})
            server.alice_ids.append(structured(remembered)["id"])
        old = structured(await alice.call_tool("remember", {"content": "Alice lives in Porto."}))
        new = await alice.call_tool("remember", {"content": "Alice lives in Lisbon.", "supersedes": [old["id"]]})
        server.superseded_id = old["id"]
        server.alice_ids.append(structured(new)["id"])
    async with server.session("bob") as bob:
        for content, tags in BOB_FACTS:
            server.bob_ids.append(structured(await bob.call_tool("remember", {"content": content, "tags": tags}))["id"])


async def alice_snapshot(server: Server) -> dict[str, Any]:
    """Everything alice holds, read with her read-only token, which changes nothing (not even use counts)."""
    async with server.session("reader") as reader:
        recalled = structured(
            await reader.call_tool("recall", {"query": "Alice", "limit": 50, "include_superseded": True})
        )
        histories = {}
        for memory_id in [*server.alice_ids, server.superseded_id]:
            [contents] = (await reader.read_resource(f"memory://history/{memory_id}")).contents
            histories[memory_id] = json.loads(getattr(contents, "text", "{}"))
    memories = {m["id"]: (m["content"], m["tags"], m["access_count"], m["superseded_by"]) for m in recalled["memories"]}
    return {"memories": memories, "histories": histories}


class Attempts:
    """Counts cross-namespace attempts; each must be refused or come back empty of alice's data."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.count = 0

    def refused(self, result: Any, *words: str) -> None:
        self.count += 1
        text = error_text(result)
        assert all(word in text for word in words), text

    def empty_of_alice(self, payload: Any) -> None:
        self.count += 1
        dumped = json.dumps(payload)
        for memory_id in [*self.server.alice_ids, self.server.superseded_id]:
            assert memory_id not in dumped
        assert "Alice" not in dumped and "Whiskers" not in dumped

    async def unauthorized(self, token: str | None, namespace: str | None = "alice") -> None:
        """A token that opens nothing: an MCP client cannot start a session, and HTTP says 401 with a challenge."""
        self.count += 1
        with pytest.raises(Exception) as failure:  # the SDK reports it in more than one shape
            async with http_session(self.server.url, "intruder", namespace, token=token) as session:
                await session.list_tools()
        assert "error response" in _all_messages(failure.value) or "401" in _all_messages(failure.value)
        headers = {"Accept": "application/json, text/event-stream", "Mcp-Memory-Namespace": namespace or ""}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        answer = httpx2.post(self.server.url, json=INITIALIZE, headers=headers, timeout=60)
        assert answer.status_code == 401, answer.text
        assert answer.headers["WWW-Authenticate"].startswith("Bearer ")


def _all_messages(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return " ".join(_all_messages(e) for e in error.exceptions)
    return f"{type(error).__name__}: {error}"


async def _tool_attempts(session: ClientSession, attempts: Attempts, ids: list[str], refusal: tuple[str, ...]) -> None:
    """Every tool, each way of naming alice's memories, through one session that must be refused."""
    calls: list[tuple[str, dict[str, Any]]] = [
        ("recall", {"query": "Alice's bank PIN"}),
        ("recall", {"query": "surprise party", "include_superseded": True}),
        ("recall", {"query": "Whiskers", "tags": ["private"]}),
        ("remember", {"content": "Bob was here."}),
        ("remember", {"content": "Alice now lives in Faro.", "supersedes": ids[-1:]}),
        ("remember_many", {"memories": [{"content": "Bob too."}, {"content": "Faro.", "supersedes": ids[-1:]}]}),
        ("forget", {"ids": ids}),
        ("forget", {"tags": ["private"], "dry_run": True}),
        ("forget", {"everything": True, "confirm": "alice"}),
    ]
    for tool, arguments in calls:
        attempts.refused(await session.call_tool(tool, arguments), *refusal)
    for memory_id in ids:
        attempts.count += 1
        with pytest.raises(MCPError) as refused:
            await session.read_resource(f"memory://history/{memory_id}")
        assert any(word in refused.value.error.message for word in (*refusal, "no memory")), refused.value


async def test_a_token_naming_another_namespace_is_refused_by_every_tool_and_resource(server: Server) -> None:
    before = await alice_snapshot(server)
    attempts = Attempts(server)
    ids = [*server.alice_ids, server.superseded_id]
    refusal = ("does not grant namespace 'alice'",)
    for named in ({"namespace": "alice"}, {"url": server.url + "?namespace=alice"}):
        async with server.session("bob", **named) as bob:
            await _tool_attempts(bob, attempts, ids, refusal)
            [status] = (await bob.read_resource("memory://status")).contents
            attempts.empty_of_alice(json.loads(getattr(status, "text", "{}"))["namespaces"])
    async with server.session("team", namespace="alice") as team:  # several namespaces, none of them alice's
        await _tool_attempts(team, attempts, ids, refusal)
    for spelling in ("ALICE", "alice,bob", "../alice", "alice.", "alice%00", "alice bob"):
        async with server.session("bob", namespace=spelling) as bob:
            attempts.refused(await bob.call_tool("recall", {"query": "Alice"}), "namespace")
            attempts.refused(await bob.call_tool("forget", {"ids": ids}), "namespace")
    assert attempts.count >= 50
    assert await alice_snapshot(server) == before


async def test_alice_s_ids_and_words_reach_nothing_from_bob_s_own_namespace(server: Server) -> None:
    before = await alice_snapshot(server)
    attempts = Attempts(server)
    ids = [*server.alice_ids, server.superseded_id]
    async with server.session("bob") as bob:
        for memory_id in ids:
            attempts.refused(await bob.call_tool("forget", {"ids": [memory_id]}), "exist in namespace 'bob'")
            attempts.refused(await bob.call_tool("forget", {"ids": [memory_id], "dry_run": True}), "'bob'")
            attempts.refused(
                await bob.call_tool("remember", {"content": f"Replaces {memory_id}.", "supersedes": [memory_id]}),
                "not current in namespace 'bob'",
            )
            with pytest.raises(MCPError):
                await bob.read_resource(f"memory://history/{memory_id}")
            attempts.count += 1
        for content, tags in ALICE_FACTS:
            for arguments in (
                {"query": content, "limit": 50, "include_superseded": True},
                {"query": content, "tags": tags},
                {"query": content, "namespace": "alice"},  # an argument no tool has: it names nothing
                {"query": content, "kind": "fact", "since": "2000-01-01", "explain": True},
            ):
                result = await bob.call_tool("recall", arguments)
                if result.is_error:
                    attempts.refused(result)
                else:
                    attempts.empty_of_alice(structured(result))
            forgot = structured(
                await bob.call_tool("forget", {"tags": tags, "source": "host-of-alice", "dry_run": True})
            )
            attempts.empty_of_alice(forgot)
        attempts.refused(await bob.call_tool("forget", {"everything": True, "confirm": "alice"}), "confirm='bob'")
        [status] = (await bob.read_resource("memory://status")).contents
        namespaces = json.loads(getattr(status, "text", "{}"))["namespaces"]
        assert namespaces == {"bob": len(server.bob_ids)}
        attempts.empty_of_alice(namespaces)
    assert attempts.count >= 35
    assert await alice_snapshot(server) == before


async def test_requests_without_a_valid_token_get_401_with_a_bearer_challenge(server: Server) -> None:
    before = await alice_snapshot(server)
    attempts = Attempts(server)
    alice = server.tokens["alice"]
    for token in (None, "mcpm_", alice[:-1], alice + "x", alice.upper(), "Basic " + alice, "not-a-token"):
        await attempts.unauthorized(token)
    for authorization in ({"Authorization": f"Token {alice}"}, {"Authorization": alice}, {"X-Api-Key": alice}):
        headers = {"Accept": "application/json, text/event-stream", **authorization}
        answer = httpx2.post(server.url, json=INITIALIZE, headers=headers, timeout=60)
        attempts.count += 1
        assert answer.status_code == 401
    assert attempts.count >= 10
    assert await alice_snapshot(server) == before


def open_raw_session(server: Server, token: str) -> str:
    """An MCP session opened over plain HTTP with `token`; its id."""
    opened = httpx2.post(
        server.url, json=INITIALIZE, headers={**RAW_HEADERS, "Authorization": f"Bearer {token}"}, timeout=60
    )
    assert opened.status_code == 200, opened.text
    return str(opened.headers["mcp-session-id"])


def recall_in_session(server: Server, token: str, session_id: str, query: str) -> httpx2.Response:
    recall = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "recall", "arguments": {"query": query}},
    }
    headers = {**RAW_HEADERS, "Authorization": f"Bearer {token}", "Mcp-Session-Id": session_id}
    return httpx2.post(server.url, json=recall, headers=headers, timeout=60)


async def test_a_session_opened_by_one_token_cannot_be_used_with_another(server: Server) -> None:
    before = await alice_snapshot(server)
    session_id = open_raw_session(server, server.tokens["alice"])
    hijack = recall_in_session(server, server.tokens["bob"], session_id, "PIN")
    assert hijack.status_code == 404
    assert "Whiskers" not in hijack.text
    assert await alice_snapshot(server) == before


async def test_a_read_only_token_recalls_but_cannot_write_forget_or_count_a_use(server: Server) -> None:
    async with server.session("alice") as alice:
        [first] = structured(await alice.call_tool("recall", {"query": "tabs or spaces", "limit": 1}))["memories"]
    before = await alice_snapshot(server)
    async with server.session("reader") as reader:
        for _ in range(5):
            [seen] = structured(await reader.call_tool("recall", {"query": "tabs or spaces", "limit": 1}))["memories"]
            assert seen["id"] == first["id"]
        refusal = ("read-only", "not remember")
        reader_attempts = Attempts(server)
        reader_attempts.refused(await reader.call_tool("remember", {"content": "Alice likes jazz."}), *refusal)
        jazz = {"memories": [{"content": "Alice likes jazz."}, {"content": "Alice plays bass."}]}
        reader_attempts.refused(await reader.call_tool("remember_many", jazz), *refusal)
        reader_attempts.refused(
            await reader.call_tool(
                "remember", {"content": "Alice lives in Faro.", "supersedes": server.alice_ids[-1:]}
            ),
            "read-only",
        )
        for arguments in ({"ids": server.alice_ids}, {"tags": ["private"]}, {"tags": ["code"], "dry_run": True}):
            reader_attempts.refused(await reader.call_tool("forget", arguments), "read-only", "not forget")
        reader_attempts.refused(await reader.call_tool("forget", {"everything": True, "confirm": "alice"}), "read-only")
        [history] = (await reader.read_resource(f"memory://history/{first['id']}")).contents
        assert json.loads(getattr(history, "text", "{}"))["state"] == "live"
    assert await alice_snapshot(server) == before
    async with server.session("alice") as alice:
        [again] = structured(await alice.call_tool("recall", {"query": "tabs or spaces", "limit": 1}))["memories"]
    assert again["access_count"] == first["access_count"] + 1  # alice's own earlier recall; none of the reader's


async def test_a_token_with_several_namespaces_uses_its_first_unless_the_header_picks_another(server: Server) -> None:
    async with server.session("team") as team:
        structured(await team.call_tool("remember", {"content": "The team deploys on Tuesdays."}))
    async with server.session("team", namespace="bob") as team_in_bob:
        recalled = structured(await team_in_bob.call_tool("recall", {"query": "billing service"}))
        assert recalled["memories"][0]["id"] == server.bob_ids[1]
        assert "Tuesdays" not in json.dumps(recalled)
    async with server.session("team", namespace="team") as team:
        [status] = (await team.read_resource("memory://status")).contents
        assert json.loads(getattr(status, "text", "{}"))["namespaces"] == {"team": 1, "bob": len(server.bob_ids)}


async def test_a_revoked_token_stops_working_at_once_even_mid_session(server: Server) -> None:
    token = TokenStore(server.data_dir).create("short-lived", ["bob"])
    async with http_session(server.url, "laptop", token=token) as session:
        structured(await session.call_tool("recall", {"query": "editor"}))
        revoked = subprocess.run(
            [EXECUTABLE, "token", "revoke", "short-lived"],
            env=server_env(server.data_dir),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(MCPError, match="error response"), anyio.fail_after(60):
            await session.call_tool("recall", {"query": "editor"})
    await Attempts(server).unauthorized(token, namespace=None)


async def test_the_owner_s_socket_is_trusted_and_serves_any_namespace_it_names(server: Server) -> None:
    async with stdio_session(server.data_dir, "claude-desktop", "alice") as local:
        recalled = structured(await local.call_tool("recall", {"query": "surprise party"}))
        assert recalled["memories"][0]["id"] == server.alice_ids[1]
        [status] = (await local.read_resource("memory://status")).contents
        assert {"alice", "bob"} <= set(json.loads(getattr(status, "text", "{}"))["namespaces"])


def test_the_token_commands_create_list_and_revoke_and_keep_only_a_hash(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [EXECUTABLE, "token", *args], env=server_env(data_dir), capture_output=True, text=True, timeout=60
        )

    created = cli("create", "--name", "cursor", "--namespace", "alice", "--namespace", "work", "--read-only")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("mcpm_") and len(token) > 40
    stored = (data_dir / "tokens.json").read_text()
    assert token not in stored and "cursor" in stored
    assert (data_dir / "tokens.json").stat().st_mode & 0o077 == 0
    listed = json.loads(cli("list", "--json").stdout)
    assert listed == [
        {"name": "cursor", "namespaces": ["alice", "work"], "read_only": True, "created_at": listed[0]["created_at"]}
    ]
    again = cli("create", "--name", "cursor", "--namespace", "alice")
    assert again.returncode == 2 and "exists" in again.stderr
    bad = cli("create", "--name", "x", "--namespace", "Not Valid!")
    assert bad.returncode == 2 and "invalid namespace" in bad.stderr
    assert cli("revoke", "cursor").returncode == 0
    assert json.loads(cli("list", "--json").stdout) == []
    missing = cli("revoke", "cursor")
    assert missing.returncode == 2 and "no token named 'cursor'" in missing.stderr
    assert TokenStore(data_dir).authenticate(token) is None


async def test_a_request_naming_two_namespaces_is_refused_rather_than_one_picked(server: Server) -> None:
    async with server.session("team", namespace="team", url=server.url + "?namespace=bob") as team:
        for tool, arguments in (("recall", {"query": "billing"}), ("remember", {"content": "Which one?"})):
            assert "several namespaces (bob, team)" in error_text(await team.call_tool(tool, arguments))
    async with server.session("team", namespace="bob", url=server.url + "?namespace=bob") as agreeing:
        structured(await agreeing.call_tool("recall", {"query": "billing"}))


async def test_a_session_is_bound_to_its_token_not_to_a_name_a_new_token_may_take(server: Server) -> None:
    store = TokenStore(server.data_dir)
    session_id = open_raw_session(server, store.create("rotating", ["bob"]))
    store.revoke("rotating")
    assert recall_in_session(server, store.create("rotating", ["bob"]), session_id, "editor").status_code == 404
    store.revoke("rotating")


SEED_ANOTHER_MODEL = """
import sys
from conftest import open_test_service
from mcp_memory.core.config import Settings
open_test_service(Settings(data_dir=sys.argv[1])).remember("secretproject", "Project Nightingale ships in May.")
"""


async def test_a_namespace_of_another_model_neither_stops_the_others_nor_shows_its_name(data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700, parents=True)
    tests = Path(__file__).parent
    seeded = subprocess.run(
        [sys.executable, "-c", SEED_ANOTHER_MODEL, str(data_dir)],
        env={**os.environ, "PYTHONPATH": str(tests)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr
    with http_server(data_dir, namespaces=("alice",)) as url:
        async with http_session(url, "cursor", "alice") as alice:
            kept = structured(await alice.call_tool("remember", {"content": "Alice's desk is by the window."}))
            recalled = structured(await alice.call_tool("recall", {"query": "where is Alice's desk"}))
            assert recalled["memories"][0]["id"] == kept["id"]
            [status] = (await alice.read_resource("memory://status")).contents
            shown = json.loads(getattr(status, "text", "{}"))
            assert shown["namespaces"] == {"alice": 1} and shown["ready"] is True
            assert shown["data_dir"] is None and shown["socket"] is None  # where the data lives is local business
            assert "secretproject" not in json.dumps(shown)
        async with stdio_session(data_dir, "claude-desktop", "secretproject") as local:
            assert "was embedded with test/hashing" in error_text(
                await local.call_tool("recall", {"query": "Nightingale"})
            )
