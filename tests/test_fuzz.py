"""Fuzzing: whatever a client sends gets an answer or a clear error, the server stays up, the store holds.

Tool arguments and resource URIs go through real MCP sessions, over HTTP and over the owner's socket;
raw bodies are posted to `/mcp`, with a token and without; raw lines and hello lines are written to the
socket. One real server (the real model) serves the whole module. The fuzzing happens in bob, with
alice's real ids among the inputs, and alice's memories must never change. Hypothesis runs
derandomized, so every run tries the same examples.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import string
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import anyio
import httpx2
import mcp_types
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from anyio.streams.buffered import BufferedByteReceiveStream
from fuzz_strategies import (
    ALICE_SEEDS,
    BOB_SEEDS,
    CALL_LIMIT,
    CRASH_MESSAGE,
    CRASH_TEXT,
    ERROR_CODES,
    FUZZ,
    FUZZED,
    INITIALIZE,
    INITIALIZED,
    KEPT,
    MAX_BODY,
    PROTOCOL,
    RECALL,
    RESERVED_IDS,
    SENTINEL,
    SERVER_LOG_TROUBLE,
    STABLE_FIELDS,
    TOOL_ARGUMENTS,
    bodies,
    encoded,
    hello_lines,
    ids,
    resource_uris,
    socket_lines,
    texts,
)
from hypothesis import event, given
from hypothesis import strategies as st
from mcp import ClientSession, MCPError
from mcp_clients import TEST_NAMESPACES, error_text, http_server, http_session, structured
from mcp_types import Implementation

from mcp_memory.serve.owner_files import OwnerFiles
from mcp_memory.serve.server import HISTORY_URI, MEMORY_URI, RECENT_LIMIT_URI, RECENT_URI, STANDING_URI
from mcp_memory.serve.socket_transport import MAX_LINE_BYTES, message_streams
from mcp_memory.serve.tokens import TokenStore

T = TypeVar("T")
# A failing example may hold a 64 KB string; Hypothesis warns as it prints it, which must not hide the failure.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning")


class Server:
    """The module's server, a portal to run async clients from sync tests, and alice's memories as seeded."""

    def __init__(self, url: str, data_dir: Path, token: str, portal: BlockingPortal, watcher: ClientSession) -> None:
        self.url, self.data_dir, self.portal = url, data_dir, portal
        self.token = token  # for raw requests: it grants what the test token grants, alice included
        self.watcher = watcher  # alice's session, only to look at her memories
        self.log = data_dir.parent / f"serve-{urlsplit(url).port}.log"
        self.pid = httpx2.get(self.health_url).json()["pid"]
        self.alice_ids: list[str] = []
        self.bob_ids: list[str] = []
        self.alice: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Server({self.url})"

    @property
    def known_ids(self) -> list[str]:
        return [*self.alice_ids, *self.bob_ids]

    @property
    def health_url(self) -> str:
        return self.url.removesuffix("/mcp") + "/health"

    def run(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """Await `call` on the portal; no answer within CALL_LIMIT fails the test."""

        async def bounded() -> T:
            with anyio.fail_after(CALL_LIMIT):
                return await call()

        try:
            return self.portal.call(bounded)
        except TimeoutError:
            pytest.fail(f"no answer within {CALL_LIMIT:g} s to {what}")

    def assert_alice_unchanged(self) -> None:
        now = self.run(lambda: alice_state(self.watcher, self.alice_ids), "looking at alice's memories")
        assert now == self.alice, "alice's memories changed"

    def assert_unharmed(self) -> None:
        """The same server still serves both doors, and alice is as seeded."""
        assert httpx2.get(self.health_url, timeout=CALL_LIMIT).json()["pid"] == self.pid

        async def recall_over_the_socket() -> None:
            async with socket_session(self.data_dir, FUZZED) as session:
                structured(await session.call_tool("recall", {"query": "coffee"}))

        self.run(recall_over_the_socket, "a new session on the socket")
        self.assert_alice_unchanged()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    data_dir.mkdir(mode=0o700)
    token = TokenStore(data_dir).create("fuzzer", TEST_NAMESPACES)
    with pytest.MonkeyPatch.context() as env:
        # A purge of expired memories between two looks at bob would pass for a change made between them.
        env.setenv("MCP_MEMORY_PURGE_INTERVAL", str(24 * 3600))
        with (
            http_server(data_dir) as url,
            start_blocking_portal() as portal,
            portal.wrap_async_context_manager(http_session(url, "watcher", KEPT)) as watcher,
        ):
            server = Server(url, data_dir, token, portal, watcher)
            server.alice_ids = portal.call(seed, watcher, ALICE_SEEDS)
            with portal.wrap_async_context_manager(http_session(url, "seeder", FUZZED)) as bob:
                server.bob_ids = portal.call(seed, bob, BOB_SEEDS)
            server.alice = portal.call(alice_state, watcher, server.alice_ids)
            assert len(server.alice["memories"]) == len(ALICE_SEEDS), server.alice
            assert portal.call(alice_state, watcher, server.alice_ids) == server.alice, (
                "looking changed alice's memories"
            )
            yield server


@pytest.fixture(autouse=True)
def server_unharmed(server: Server) -> Iterator[None]:
    """Whatever a test sent, the server logged no traceback and no error while it ran, is the same process,
    still serves a new session on its socket, and alice is as seeded."""
    start = server.log.stat().st_size
    yield
    logged = server.log.read_bytes()[start:].decode(errors="replace")
    assert not SERVER_LOG_TROUBLE.search(logged), logged
    server.assert_unharmed()


async def seed(session: ClientSession, seeds: list[dict[str, Any]]) -> list[str]:
    """Remember `seeds` in order; a seed's `supersedes` names earlier seeds by position."""
    ids: list[str] = []
    with anyio.fail_after(120):  # the first call waits for the model to load
        for arguments in seeds:
            superseded = [ids[index] for index in arguments.get("supersedes", [])]
            remembered = structured(await session.call_tool("remember", {**arguments, "supersedes": superseded}))
            assert remembered["status"] == "created", remembered
            ids.append(remembered["id"])
    return ids


async def fresh_bob(session: ClientSession) -> list[str]:
    """Bob with nothing but his seeds, whatever the fuzzing before left him."""
    structured(await session.call_tool("forget", {"everything": True, "confirm": FUZZED}))
    return await seed(session, BOB_SEEDS)


async def gathered(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """The results of `calls`, made concurrently on the sessions they use."""
    results: list[Any] = [None] * len(calls)

    async def make(index: int, call: Callable[[], Awaitable[Any]]) -> None:
        results[index] = await call()

    async with anyio.create_task_group() as calls_under_way:
        for index, call in enumerate(calls):
            calls_under_way.start_soon(make, index, call)
    return results


async def every_memory(session: ClientSession, namespace: str) -> list[dict[str, Any]]:
    """Every memory of the session's namespace, on both shelves, expired or not: what forgetting all would take."""
    arguments = {"everything": True, "confirm": namespace, "dry_run": True}
    return sorted(structured(await session.call_tool("forget", arguments))["memories"], key=lambda m: m["id"])


async def history(session: ClientSession, memory_id: str) -> Any:
    try:
        [contents] = (await session.read_resource(HISTORY_URI.format(memory_id=memory_id))).contents
    except MCPError as exc:
        return exc.message
    return json.loads(getattr(contents, "text", "null"))


async def alice_state(watcher: ClientSession, ids: list[str]) -> dict[str, Any]:
    """Alice's memories as they stand: each one, what it says and carries, and its history."""

    async def recalled() -> dict[str, Any]:
        found = structured(
            await watcher.call_tool("recall", {"query": "Alice", "limit": 50, "include_superseded": True})
        )
        return {m["id"]: {name: m[name] for name in STABLE_FIELDS} for m in found["memories"]}

    listed, memories, *histories = await gathered(
        lambda: every_memory(watcher, KEPT), recalled, *(partial(history, watcher, memory_id) for memory_id in ids)
    )
    return {"every": listed, "memories": memories, "histories": dict(zip(ids, histories, strict=True))}


async def bob_state(session: ClientSession, ids: list[str]) -> dict[str, Any]:
    """Bob's memories, and the history of those the fuzzing names (not recall's view, which expiry changes)."""
    listed, *histories = await gathered(
        lambda: every_memory(session, FUZZED), *(partial(history, session, memory_id) for memory_id in ids)
    )
    return {"every": listed, "histories": dict(zip(ids, histories, strict=True))}


@asynccontextmanager
async def socket_session(data_dir: Path, namespace: str) -> AsyncIterator[ClientSession]:
    """An MCP session on the owner's socket, as a bridge opens one; unlike a bridge, it never starts an owner."""
    async with await anyio.connect_unix(OwnerFiles(data_dir).socket) as stream:
        await stream.send(json.dumps({"namespace": namespace}).encode() + b"\n")
        async with (
            message_streams(stream, BufferedByteReceiveStream(stream)) as (read, write),
            ClientSession(read, write, client_info=Implementation(name="fuzzer", version="0")) as session,
        ):
            await session.initialize()
            yield session


# What every answer must be.


def assert_clear(text: str) -> None:
    """An error message a person can act on: not empty, not the SDK's word for a crash, no Python innards."""
    text = text.strip()
    assert text, "an empty error message"
    assert not CRASH_MESSAGE.fullmatch(text), f"the server crashed: {text!r}"
    assert not CRASH_TEXT.search(text), f"the error shows Python's innards: {text!r}"


def assert_protocol_error(code: int, message: str) -> None:
    assert code in ERROR_CODES, f"JSON-RPC error code {code} ({message!r})"
    assert_clear(message)


def assert_no_alice_memory(server: Server, answer: Any) -> None:
    """An answer in bob never names one of alice's memories as found, stored, forgotten or superseded."""
    if not isinstance(answer, dict):
        return
    named = {answer.get("id")} | set(answer.get("forgotten") or []) | set(answer.get("superseded") or [])
    for key in ("memories", "similar"):
        named |= {memory.get("id") for memory in answer.get(key) or [] if isinstance(memory, dict)}
    assert not named & set(server.alice_ids), f"bob was answered with alice's memories: {answer}"


def check_message(server: Server, message: Any) -> None:
    """One JSON-RPC message from the server: a result, or an error with a standard code and a clear message."""
    parsed = mcp_types.jsonrpc_message_adapter.validate_python(message, by_name=False)
    if isinstance(parsed, mcp_types.JSONRPCError):
        assert_protocol_error(parsed.error.code, parsed.error.message)
    elif isinstance(parsed, mcp_types.JSONRPCResponse) and isinstance(parsed.result, dict):
        result = parsed.result
        if result.get("isError"):
            assert_clear(" ".join(str(block.get("text", "")) for block in result.get("content", [])))
        assert_no_alice_memory(server, result.get("structuredContent"))
        for contents in result.get("contents") or []:
            with contextlib.suppress(ValueError, TypeError):
                assert_no_alice_memory(server, json.loads(contents.get("text")))


# Tool arguments and resource URIs, through real MCP sessions.


def open_session(server: Server, transport: str) -> AbstractAsyncContextManager[ClientSession]:
    if transport == "http":
        return http_session(server.url, "fuzzer", FUZZED)
    return socket_session(server.data_dir, FUZZED)


@pytest.fixture(params=["http", "socket"])
def bob(request: pytest.FixtureRequest, server: Server) -> Iterator[ClientSession]:
    """A session in bob over each transport in turn, open for all of a test's examples; bob holds only his seeds."""
    with server.portal.wrap_async_context_manager(open_session(server, request.param)) as session:
        server.bob_ids = server.run(lambda: fresh_bob(session), "seeding bob afresh")
        yield session


@pytest.mark.parametrize("tool", list(TOOL_ARGUMENTS))
@FUZZ
@given(data=st.data())
def test_a_tool_called_with_any_arguments_answers_with_a_result_or_a_clear_error(
    server: Server, bob: ClientSession, tool: str, data: st.DataObject
) -> None:
    arguments = data.draw(TOOL_ARGUMENTS[tool](server), label="arguments")
    before = server.run(lambda: bob_state(bob, server.bob_ids), "looking at bob's memories")
    try:
        result = server.run(lambda: bob.call_tool(tool, arguments), f"{tool}({arguments!r:.300})")
    except MCPError as exc:
        assert_protocol_error(exc.code, exc.message)
        failed = True
        event("JSON-RPC error")
    else:
        failed = result.is_error
        event("error result" if failed else "success")  # shown by --hypothesis-show-statistics
        if failed:
            assert_clear(error_text(result))
        else:
            assert_no_alice_memory(server, result.structured_content)
    if failed:
        after = server.run(lambda: bob_state(bob, server.bob_ids), "looking at bob's memories")
        assert after == before, "a call that failed changed bob's memories"
    server.assert_alice_unchanged()


@FUZZ
@given(data=st.data())
def test_reading_any_resource_uri_answers_with_contents_or_a_clear_error(
    server: Server, bob: ClientSession, data: st.DataObject
) -> None:
    uri = data.draw(resource_uris(server), label="uri")
    try:
        result = server.run(lambda: bob.read_resource(uri), f"reading {uri!r:.300}")
    except MCPError as exc:
        assert_protocol_error(exc.code, exc.message)
    else:
        for contents in result.contents:
            assert_no_alice_memory(server, json.loads(getattr(contents, "text", "null")))
    server.assert_alice_unchanged()


def browsing_uris(server: Server) -> st.SearchStrategy[str]:
    """The recent, one-memory and standing resources, with any count and any id, as given and mangled."""
    limits = st.one_of(
        st.integers(-5, 200).map(str),
        st.sampled_from(["", "1.5", "1e2", "+5", "-0", "\u0663", "0x10", "00020", "9" * 30, " 5"]),
        texts(20),
    )
    odd = ["memory://recent/", "memory://memories/", "memory://memories", "memory://recent/5/6"]
    odd += ["memory://memories/../standing", "memory://standing/", "memory://standing?x=1", "memory://RECENT"]
    return st.one_of(
        st.sampled_from([RECENT_URI, STANDING_URI, *odd]),
        limits.map(lambda limit: RECENT_LIMIT_URI.format(limit=limit)),
        limits.map(lambda limit: RECENT_LIMIT_URI.format(limit=quote(limit, safe=""))),
        ids(server).map(lambda memory_id: MEMORY_URI.format(memory_id=memory_id)),
        ids(server).map(lambda memory_id: MEMORY_URI.format(memory_id=quote(memory_id, safe=""))),
    )


@FUZZ
@given(data=st.data())
def test_reading_any_recent_memory_or_standing_uri_answers_with_contents_or_a_clear_error(
    server: Server, bob: ClientSession, data: st.DataObject
) -> None:
    uri = data.draw(browsing_uris(server), label="uri")
    try:
        result = server.run(lambda: bob.read_resource(uri), f"reading {uri!r:.300}")
    except MCPError as exc:
        assert_protocol_error(exc.code, exc.message)
    else:
        for contents in result.contents:
            text = getattr(contents, "text", "")
            if contents.mime_type == "application/json":
                assert_no_alice_memory(server, json.loads(text))
            assert "Alice" not in text, f"bob was shown alice's memories: {text:.500}"
    server.assert_alice_unchanged()


@FUZZ
@given(data=st.data())
def test_the_recall_topic_prompt_asked_with_any_arguments_answers_with_a_message_or_a_clear_error(
    server: Server, bob: ClientSession, data: st.DataObject
) -> None:
    topics = st.one_of(st.sampled_from(["Alice", "where does Alice live?", "coffee", "Bob's team"]), texts())
    arguments = data.draw(
        st.one_of(
            st.fixed_dictionaries({"topic": topics}),
            st.dictionaries(st.one_of(st.just("topic"), texts(10)), st.text(max_size=20), max_size=3),
        ),
        label="arguments",
    )
    try:
        result = server.run(lambda: bob.get_prompt("recall_topic", arguments), f"recall_topic({arguments!r:.300})")
    except MCPError as exc:
        assert_protocol_error(exc.code, exc.message)
        event("JSON-RPC error")
    else:
        event("a message")
        text = " ".join(getattr(message.content, "text", "") for message in result.messages)
        assert text and not set(server.alice_ids) & set(re.findall(r"[0-9a-f]{32}", text)), text[:500]
    server.assert_alice_unchanged()


# Raw bodies posted to /mcp.


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=CALL_LIMIT) as client:
        yield client


def mcp_headers(server: Server, **extra: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {server.token}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Mcp-Memory-Namespace": FUZZED,
        **extra,
    }


@pytest.fixture(params=["in a session", "without a session"])
def raw_headers(request: pytest.FixtureRequest, server: Server, http: httpx2.Client) -> dict[str, str]:
    """The headers of raw requests: with the id of a session initialized by hand, or with none."""
    if request.param == "without a session":
        return mcp_headers(server)
    answer = http.post(server.url, headers=mcp_headers(server), json=INITIALIZE)
    assert answer.status_code == 200, answer.text
    headers = mcp_headers(
        server, **{"Mcp-Session-Id": answer.headers["mcp-session-id"], "Mcp-Protocol-Version": PROTOCOL}
    )
    assert http.post(server.url, headers=headers, json=INITIALIZED).status_code == 202
    return headers


HEADER_VARIATIONS = st.fixed_dictionaries(
    {},
    optional={
        "Mcp-Memory-Namespace": st.sampled_from([FUZZED, "default", "", "Not Valid", "ALICE", "alice!", "team"]),
        "Content-Type": st.sampled_from(["text/plain", "application/json; charset=utf-8", "", "application/xml"]),
        "Accept": st.sampled_from(["*/*", "application/json", "text/event-stream", ""]),
        "Mcp-Protocol-Version": st.sampled_from(["2024-11-05", "1999-01-01", "", "garbage"]),
        "Mcp-Session-Id": st.sampled_from(["", "0" * 32, "not-a-session"]),
    },
)


def post(http: httpx2.Client, url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> httpx2.Response:
    try:
        return http.request(method, url, content=body, headers=headers)
    except httpx2.TimeoutException:
        pytest.fail(f"no answer within {CALL_LIMIT:g} s to {body[:300]!r}")
    except httpx2.TransportError as exc:
        pytest.fail(f"the connection dropped ({exc!r}) on {body[:300]!r}")


def answer_messages(response: httpx2.Response) -> list[Any]:
    kind = response.headers.get("content-type", "")
    if kind.startswith("text/event-stream"):
        lines = re.split(r"\r\n|\r|\n", response.text)  # SSE's line ends, not all of str.splitlines' (U+0085...)
        events = [line.removeprefix("data:") for line in lines if line.startswith("data:")]
        return [json.loads(event) for event in events if event.strip()]
    if kind.startswith("application/json") and response.content:
        answer = response.json()
        return answer if isinstance(answer, list) else [answer]
    return []


@FUZZ
@given(data=st.data())
def test_any_body_posted_to_mcp_gets_a_4xx_or_a_json_rpc_answer(
    server: Server, http: httpx2.Client, raw_headers: dict[str, str], data: st.DataObject
) -> None:
    body = data.draw(bodies(server), label="body")
    headers = {**raw_headers, **data.draw(HEADER_VARIATIONS, label="headers")}
    response = post(http, server.url, body, headers)
    event(f"HTTP {response.status_code}")
    assert response.status_code < 500, f"{response.status_code} {response.text[:500]}"
    messages = answer_messages(response)
    if response.is_success:
        assert response.status_code == 202 or messages, f"{response.status_code} with no JSON-RPC answer"
        for message in messages:
            check_message(server, message)
    else:
        for message in messages:
            if isinstance(message, dict) and "jsonrpc" in message:
                check_message(server, message)
    assert http.get(server.health_url).status_code == 200
    server.assert_alice_unchanged()


@FUZZ
@given(data=st.data())
def test_a_request_without_a_valid_token_gets_401_with_a_bearer_challenge(
    server: Server, http: httpx2.Client, data: st.DataObject
) -> None:
    token = server.token
    mangled = st.one_of(
        st.integers(0, len(token) - 1).map(
            lambda at: token[:at] + ("x" if token[at] != "x" else "y") + token[at + 1 :]
        ),
        st.integers(0, len(token) - 1).map(lambda at: token[:at]),
        st.just(token + "x"),
        st.just(token.lower()),
        st.text(st.sampled_from(string.printable.strip()), max_size=60),
    )
    authorization = data.draw(
        st.one_of(
            st.none(),
            st.sampled_from(["", "Bearer", "Basic dXNlcjpwYXNz", f"Token {token}"]),
            mangled.filter(lambda wrong: wrong != token).map(lambda wrong: f"Bearer {wrong}".strip()),
        ),
        label="authorization",
    )
    headers = {**mcp_headers(server, **{"Mcp-Memory-Namespace": KEPT}), "Authorization": authorization or ""}
    if authorization is None:
        del headers["Authorization"]
    method = data.draw(st.sampled_from(["POST", "GET", "DELETE"]), label="method")
    response = post(http, server.url, data.draw(bodies(server), label="body"), headers, method)
    assert response.status_code == 401, f"{response.status_code} {response.text[:500]}"
    assert response.headers["www-authenticate"].startswith("Bearer")
    server.assert_alice_unchanged()


def test_a_body_at_the_size_cap_is_read_and_one_past_it_or_far_past_it_gets_413(
    server: Server, http: httpx2.Client, raw_headers: dict[str, str]
) -> None:
    ping = encoded({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    at_cap = post(http, server.url, ping.ljust(MAX_BODY), raw_headers)
    assert at_cap.status_code in (200, 400) and answer_messages(at_cap), at_cap.text  # 400: no session to ping in
    assert post(http, server.url, ping.ljust(MAX_BODY + 1), raw_headers).status_code == 413
    assert post(http, server.url, ping.ljust(16 * MAX_BODY), raw_headers).status_code == 413


# Raw lines on the owner's socket.


class RawSocket:
    """A client on the owner's socket that writes raw bytes and reads whatever comes back, a line at a time."""

    def __init__(self, server: Server) -> None:
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.settimeout(CALL_LIMIT)
        self._socket.connect(str(OwnerFiles(server.data_dir).socket))
        self._buffer = b""
        self.closed = False

    def __enter__(self) -> RawSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._socket.close()

    def send(self, *lines: bytes) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the server may hang up first
            for line in lines:
                self._socket.sendall(line)

    def answers_until(self, wanted: set[Any]) -> list[Any]:
        """The messages read until every id in `wanted` is answered, or the server closes the connection."""
        deadline, waiting, messages = time.monotonic() + CALL_LIMIT, set(wanted), []
        while waiting:
            line = self._line(deadline, waiting)
            if line is None:
                self.closed = True
                break
            messages.append(json.loads(line))
            waiting.discard(messages[-1].get("id"))
        return messages

    def _line(self, deadline: float, waiting: set[Any]) -> bytes | None:
        while b"\n" not in self._buffer:
            self._socket.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                chunk = self._socket.recv(1 << 16)
            except TimeoutError:
                pytest.fail(f"no answer on the socket within {CALL_LIMIT:g} s to {sorted(map(repr, waiting))}")
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line


def framed(message: dict[str, Any]) -> bytes:
    return encoded(message) + b"\n"


def request_id(raw: bytes) -> Any:
    """The id the server owes an answer to, if `raw` is a well-formed JSON-RPC request."""
    with contextlib.suppress(ValueError):
        parsed = mcp_types.jsonrpc_message_adapter.validate_json(raw, by_name=False)
        if isinstance(parsed, mcp_types.JSONRPCRequest):
            return parsed.id
    return None


@FUZZ
@given(data=st.data())
def test_any_lines_on_the_socket_get_answers_or_a_closed_connection_and_never_stop_the_server(
    server: Server, data: st.DataObject
) -> None:
    initialized = data.draw(st.booleans(), label="initialized first")
    lines = data.draw(st.lists(socket_lines(server), max_size=6), label="lines")
    owed = {request_id(raw) for raw in lines} - {None}
    with RawSocket(server) as raw:
        handshake = [framed(INITIALIZE), framed(INITIALIZED)] if initialized else []
        raw.send(framed({"namespace": FUZZED}), *handshake, *(each + b"\n" for each in lines), framed(SENTINEL))
        messages = raw.answers_until({"sentinel", *owed, *(["init"] if initialized else [])})
    for message in messages:
        check_message(server, message)
    with RawSocket(server) as fresh:
        fresh.send(framed({"namespace": FUZZED}), framed(SENTINEL))
        assert fresh.answers_until({"sentinel"}) == [{"jsonrpc": "2.0", "id": "sentinel", "result": {}}]
    server.assert_alice_unchanged()


def not_json_rpc(raw: bytes) -> bool:
    try:
        mcp_types.jsonrpc_message_adapter.validate_json(raw, by_name=False)
    except ValueError:
        return bool(raw.strip())
    return False


@FUZZ
@given(data=st.data())
def test_a_line_that_is_not_json_rpc_gets_a_json_rpc_error_or_a_closed_connection(
    server: Server, data: st.DataObject
) -> None:
    """JSON-RPC 2.0 answers a parse error or an invalid request with an error (id null when unreadable);
    a client that sent a request the server could not read would otherwise wait for its answer forever."""
    bad = data.draw(socket_lines(server).filter(not_json_rpc), label="line")
    with RawSocket(server) as raw:
        raw.send(framed({"namespace": FUZZED}), framed(INITIALIZE), framed(INITIALIZED), bad + b"\n", framed(SENTINEL))
        messages = raw.answers_until({"init", "sentinel"})
    errors = [message for message in messages if "error" in message and message.get("id") not in RESERVED_IDS]
    assert raw.closed or errors, f"{bad[:300]!r} got no answer, and the connection stayed open"
    for message in messages:
        check_message(server, message)


@FUZZ
@given(hello=hello_lines())
def test_any_hello_line_either_opens_a_session_or_closes_the_connection(server: Server, hello: bytes) -> None:
    with RawSocket(server) as raw:
        raw.send(hello + b"\n", framed(INITIALIZE), framed(INITIALIZED), framed(RECALL), framed(SENTINEL))
        messages = raw.answers_until({"init", "recall", "sentinel"})
    for message in messages:
        check_message(server, message)
    assert raw.closed or {message.get("id") for message in messages} >= {"init", "recall", "sentinel"}
    server.assert_alice_unchanged()


def test_a_line_longer_than_the_socket_takes_closes_only_that_connection(server: Server) -> None:
    with RawSocket(server) as raw:
        # Over the cap by more than one read: the socket reads in chunks, and stops at the first past the cap.
        raw.send(framed({"namespace": FUZZED}), b"x" * (MAX_LINE_BYTES + (1 << 20)), b"\n", framed(SENTINEL))
        raw.answers_until({"sentinel"})
        assert raw.closed
    server.assert_unharmed()
