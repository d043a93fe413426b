"""What the fuzzing tests send: hypothesis strategies for careless and hostile clients, and the seeds."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import mcp_types
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from mcp_memory.core.config import Settings
from mcp_memory.core.models import Kind
from mcp_memory.serve.server import HISTORY_URI, STATUS_URI
from mcp_memory.serve.socket_transport import MAX_HELLO_BYTES


class Seeded(Protocol):
    """The fuzzed server as the strategies see it: the ids of what was seeded."""

    @property
    def known_ids(self) -> list[str]: ...

    bob_ids: list[str]


FUZZED, KEPT = "bob", "alice"
# The model has loaded before any fuzzing starts: no single answer should take this long.
CALL_LIMIT = 30.0
MAX_BODY = Settings.model_fields["max_body_bytes"].default
MAX_CONTENT = Settings.model_fields["max_content_bytes"].default
PROTOCOL = "2025-06-18"  # a protocol version with HTTP sessions
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# JSON-RPC's own codes and those MCP defines for a server to send; not the client's CONNECTION_CLOSED
# or REQUEST_TIMEOUT, which mean that no answer came.
ERROR_CODES = {
    *(mcp_types.PARSE_ERROR, mcp_types.INVALID_REQUEST, mcp_types.METHOD_NOT_FOUND, mcp_types.INVALID_PARAMS),
    *(mcp_types.INTERNAL_ERROR, mcp_types.HEADER_MISMATCH, mcp_types.MISSING_REQUIRED_CLIENT_CAPABILITY),
    mcp_types.UNSUPPORTED_PROTOCOL_VERSION,
}
# What the SDK says when a tool or resource raised something unexpected: nothing a person can act on.
CRASH_MESSAGE = re.compile(r"Error executing tool [^:]*|Error creating resource from template .*", re.DOTALL)
# Python's own account of a crash, which an error message must never carry.
CRASH_TEXT = re.compile(r"Traceback|File \"|<class '|object at 0x|\b(?:[A-Z][a-z]+)*(?:[A-Z][a-z]+Error|Exception)\b")
SERVER_LOG_TROUBLE = re.compile(r"Traceback| ERROR | CRITICAL |Exception in ASGI")

ALICE_SEEDS: list[dict[str, Any]] = [
    {"content": "Alice prefers tabs over spaces in Python projects.", "kind": "preference", "tags": ["code"]},
    {"content": "Alice lives in Porto.", "tags": ["home"]},
    {"content": "Alice moved to Lisbon in March 2024.", "tags": ["home"], "supersedes": [1]},
    {"content": "Alice's cat is called Miso.", "metadata": {"pet": "cat"}, "importance": 0.8},
    {"content": "Alice flew to Tokyo for a conference.", "kind": "event", "occurred_at": "2024-05-01"},
    {"content": "Do you ski, Alice?", "thread": "chat-1", "kind": "note"},
    {"content": "Yes, twice last year.", "thread": "chat-1", "kind": "note", "ttl": "3650 days"},
]
BOB_SEEDS: list[dict[str, Any]] = [
    {"content": "Bob drinks his coffee black.", "tags": ["coffee", "home"]},
    {"content": "Bob's team ships on Thursdays.", "kind": "instruction", "tags": ["work"]},
    {"content": "Bob used to live in Oslo.", "tags": ["home"]},
    {"content": "Bob moved to Bergen.", "tags": ["home"], "supersedes": [2]},
]
# What a memory says and what happened to it; not how often it was recalled, which looking changes.
STABLE_FIELDS = (
    *("content", "kind", "tags", "source", "created_at", "occurred_at", "thread", "metadata", "importance"),
    *("expires_at", "supersedes", "superseded_by"),
)
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "fuzzer", "version": "0"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
SENTINEL = {"jsonrpc": "2.0", "id": "sentinel", "method": "ping"}
RECALL = {
    "jsonrpc": "2.0",
    "id": "recall",
    "method": "tools/call",
    "params": {"name": "recall", "arguments": {"query": "where does Alice live?", "limit": 50}},
}
RESERVED_IDS = ("init", "sentinel", "recall")


# What a careless or hostile client sends.

ODD_STRINGS = [
    *["", " ", "\t\n", "\x00", "\u202eecila", "\U0001f642" * 3, "null", "NaN", "[]", "{}", "%00", "\ufeff", "a\u0301"],
    *[
        "../../etc/passwd",
        "'; DROP TABLE memories; --",
        "memory://status",
        "\uff46\uff41\uff43\uff54",
    ],  # fullwidth "fact"
]


def texts(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any unicode, control characters, and strings at the edges of the content cap (in bytes)."""
    return st.one_of(
        st.text(max_size=max_size),
        st.sampled_from(ODD_STRINGS),
        st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=8),
        st.sampled_from([MAX_CONTENT, MAX_CONTENT + 1]).map(lambda size: "x" * size),
        st.sampled_from([MAX_CONTENT // 2, MAX_CONTENT // 2 + 1]).map(lambda size: "é" * size),
    )


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30]), st.floats(), texts()
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def anything_or(right: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly what the argument takes, sometimes any JSON at all."""
    return st.one_of(right, right, right, JSON)


UNKNOWN_ARGUMENTS = st.dictionaries(
    st.one_of(st.sampled_from(["namespace", "Namespace", "_meta", "id", "source"]), st.text(max_size=10)),
    st.one_of(st.just(KEPT), JSON),
    max_size=2,
)


def arguments(
    valid: dict[str, st.SearchStrategy[Any]], wild: dict[str, st.SearchStrategy[Any]], required: str | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """A tool's arguments: valid but for one at most, where a half-done write would hide; or each one anything.

    Unknown arguments ride along, a namespace naming alice among them.
    """

    def one_wrong(given: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        wrong = st.sampled_from(sorted(wild)).flatmap(lambda name: wild[name].map(lambda value: {**given, name: value}))
        return st.one_of(st.just(given), wrong)

    needed = {required: valid[required]} if required else {}
    optional = {name: values for name, values in valid.items() if name != required}
    nearly_valid = st.fixed_dictionaries(needed, optional=optional).flatmap(one_wrong)
    anything = st.fixed_dictionaries({}, optional=wild)
    given = st.one_of(nearly_valid, nearly_valid, anything)
    return st.builds(lambda extra, named: {**extra, **named}, UNKNOWN_ARGUMENTS, given)


GOOD_DATES = ["2024-05-01", "2024-05-01T14:30:00Z", "2024-05-01T14:30:00+02:00", "yesterday", "last week", "March 2023"]
BAD_DATES = [
    *["2024-02-30", "2024-13-01", "0000-00-00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"],
    *["10000-01-01", "-0001-01-01", "1e10", "never", "sometime-ish", "24:00", "2024-05-01T25:61:61Z", "P7D", "1 1 1 1"],
]
GOOD_DURATIONS = ["2 hours", "7 days", "P7D", "PT1H"]
BAD_DURATIONS = [
    *["PT0S", "0 days", "-1 days", "1 second", "P99999999Y", "99999999999 days", "1e309 days", "nan days"],
    *["forever", "P", "PT", "P1D1D", "7", "days"],
]
KIND_NAMES = [kind.value for kind in Kind]
TAG_NAMES = ["work", "home", "coffee", "code"]
KINDS = st.one_of(st.sampled_from(KIND_NAMES), st.sampled_from(["FACT", " fact", "opinion"]), texts())
TAGS = st.lists(st.one_of(st.sampled_from(TAG_NAMES), texts(20)), max_size=22)
FLAGS = st.one_of(st.booleans(), st.sampled_from(["true", "false", "yes", 1, 0, "perhaps"]), JSON)
NUMBERS = st.one_of(st.floats(), st.integers(-3, 3), st.integers(), st.sampled_from([0.5, -0.0, 1.0000000001, 5e-324]))
ISO_ISH = r"\d{1,6}-\d{1,3}-\d{1,3}(T\d{1,2}:\d{1,2}(:\d{1,2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?"


def dates() -> st.SearchStrategy[Any]:
    return anything_or(
        st.one_of(
            st.sampled_from(GOOD_DATES + BAD_DATES),
            st.dates().map(str),
            st.datetimes().map(datetime.isoformat),
            st.from_regex(ISO_ISH, fullmatch=True),
            texts(),
        )
    )


def ids(server: Seeded) -> st.SearchStrategy[str]:
    """Alice's and bob's real ids, as given and mangled, and ids that were never real."""
    real = st.sampled_from(server.known_ids)
    return st.one_of(
        real,
        real,
        real.map(str.upper),
        real.map(lambda memory_id: f" {memory_id}\n"),
        real.map(lambda memory_id: memory_id[:-1]),
        st.sampled_from(["0" * 32, "F" * 32, "g" * 32, "0" * 31, "0" * 33, "", " ", "../status", "%30" * 32]),
        st.from_regex("[0-9a-f]{32}", fullmatch=True),
        texts(),
    )


def id_lists(server: Seeded) -> st.SearchStrategy[Any]:
    around_cap = st.sampled_from([1000, 1001]).map(lambda count: ["0" * 32] * count)
    return anything_or(st.one_of(st.lists(ids(server), max_size=5), around_cap))


def remember_arguments(server: Seeded) -> st.SearchStrategy[dict[str, Any]]:
    contents = st.one_of(
        st.sampled_from([seed["content"] for seed in ALICE_SEEDS + BOB_SEEDS]), st.text(min_size=1, max_size=300)
    )
    values = st.one_of(st.text(max_size=20), st.integers(-(2**63), 2**63 - 1), st.booleans(), st.floats(-1e9, 1e9))
    metadata = st.dictionaries(st.sampled_from(["ticket", "topic", "a_b"]), values, max_size=3)
    odd_metadata = st.dictionaries(st.one_of(st.sampled_from(["ticket", "Topic"]), texts(20)), JSON, max_size=18)
    valid = {
        "content": contents,
        "tags": st.lists(st.sampled_from(TAG_NAMES), max_size=3),
        "kind": st.sampled_from(KIND_NAMES),
        "importance": st.floats(0, 1),
        "occurred_at": st.sampled_from(GOOD_DATES),
        "thread": st.sampled_from(["chat-1", "chat-2"]),
        "metadata": metadata,
        "supersedes": st.lists(st.sampled_from(server.bob_ids), max_size=2),
        "ttl": st.sampled_from(GOOD_DURATIONS),
        "expires_at": st.sampled_from(["tomorrow", "2030-01-01"]),
    }
    wild = {
        "content": anything_or(st.one_of(contents, texts())),
        "tags": anything_or(TAGS),
        "kind": anything_or(KINDS),
        "importance": anything_or(NUMBERS),
        "occurred_at": dates(),
        "thread": anything_or(texts()),
        "metadata": anything_or(st.one_of(metadata, odd_metadata)),
        "supersedes": id_lists(server),
        "ttl": anything_or(st.one_of(st.sampled_from(GOOD_DURATIONS + BAD_DURATIONS), texts())),
        "expires_at": dates(),
    }
    return arguments(valid, wild, required="content")


def recall_arguments(server: Seeded) -> st.SearchStrategy[dict[str, Any]]:
    queries = st.one_of(
        st.sampled_from(["Alice", "where does Alice live?", "coffee"]), st.text(min_size=1, max_size=100)
    )
    too_long = st.sampled_from([2000, 2001]).map(lambda size: "q" * size)
    limits = st.one_of(st.integers(-2, 60), st.integers(), st.sampled_from([1.0, 5.5, "5", "ten"]))
    valid = {
        "query": queries,
        "limit": st.integers(1, 50),
        "tags": st.lists(st.sampled_from(TAG_NAMES), max_size=2),
        "kind": st.sampled_from(KIND_NAMES),
        "since": st.sampled_from(GOOD_DATES),
        "until": st.sampled_from(GOOD_DATES),
        "include_superseded": st.booleans(),
        "explain": st.booleans(),
    }
    wild = {
        "query": anything_or(st.one_of(queries, texts(), too_long)),
        "limit": anything_or(limits),
        "tags": anything_or(TAGS),
        "kind": anything_or(KINDS),
        "since": dates(),
        "until": dates(),
        "include_superseded": FLAGS,
        "explain": FLAGS,
    }
    return arguments(valid, wild, required="query")


def forget_arguments(server: Seeded) -> st.SearchStrategy[dict[str, Any]]:
    sources = st.sampled_from(["watcher", "seeder", "fuzzer", "mcp-memory-cli"])
    confirms = st.one_of(st.sampled_from([FUZZED, KEPT, "", "BOB", " bob", "default"]), texts())
    valid = {
        "ids": st.lists(st.sampled_from(server.known_ids), min_size=1, max_size=3),
        "tags": st.lists(st.sampled_from(TAG_NAMES), min_size=1, max_size=2),
        "kind": st.sampled_from(KIND_NAMES),
        "source": sources,
        "before": st.sampled_from(GOOD_DATES),
        "after": st.sampled_from(GOOD_DATES),
        "everything": st.booleans(),
        "confirm": st.just(FUZZED),
        "dry_run": st.booleans(),
    }
    wild = {
        "ids": id_lists(server),
        "tags": anything_or(TAGS),
        "kind": anything_or(KINDS),
        "source": anything_or(st.one_of(sources, texts())),
        "before": dates(),
        "after": dates(),
        "everything": FLAGS,
        "confirm": anything_or(confirms),
        "dry_run": FLAGS,
    }
    return arguments(valid, wild)


def export_arguments(server: Seeded) -> st.SearchStrategy[dict[str, Any]]:
    cursors = st.one_of(
        st.sampled_from(
            ["live:0", "live:2", "superseded:0", "superseded:99", "live:-1", "dead:0", "live:", "live:1e3"]
        ),
        st.sampled_from(["live:" + "9" * 13, "live:0\n", " live:0"]),
        texts(),
    )
    valid = {"cursor": cursors, "limit": st.integers(1, 1000), "vectors": st.booleans(), "history": st.booleans()}
    wild = {
        "cursor": anything_or(cursors),
        "limit": anything_or(st.one_of(st.integers(), st.sampled_from([0, 1001, 1.5, "100"]))),
        "vectors": FLAGS,
        "history": FLAGS,
    }
    return arguments(valid, wild)


def import_arguments(server: Seeded) -> st.SearchStrategy[dict[str, Any]]:
    """Memories as an export writes them, with any field wrong. Their ids are never alice's (an import into
    bob's namespace under her ids would be bob's own memories, but look like a leak to the checks)."""
    fresh_ids = st.from_regex("[0-9a-f]{32}", fullmatch=True).filter(lambda i: i not in server.known_ids)
    vectors = st.one_of(
        st.lists(st.floats(-1, 1), max_size=4), st.sampled_from(["", "AAAA", "not base64!", "zczMPQ=="]), JSON
    )
    memory = st.fixed_dictionaries(
        {"content": st.one_of(st.text(min_size=1, max_size=80), texts())},
        optional={
            "id": st.one_of(fresh_ids, texts()),
            "created_at": dates(),
            "source": anything_or(texts()),
            "kind": anything_or(KINDS),
            "tags": anything_or(TAGS),
            "thread": anything_or(st.sampled_from(["chat-1", "chat-9"])),
            "thread_seq": anything_or(st.integers(-2, 5)),
            "superseded_by": st.one_of(fresh_ids, texts()),
            "superseded_at": dates(),
            "access_count": anything_or(st.integers(-2, 10)),
            "last_seen_at": dates(),
            "expires_at": dates(),
            "history": JSON,
            "vector": vectors,
            "part_vectors": st.lists(vectors, max_size=2),
        },
    )
    memories = st.lists(memory, min_size=1, max_size=4)
    models = st.one_of(st.sampled_from(["sentence-transformers/all-MiniLM-L6-v2", "other/model"]), texts())
    valid = {"memories": memories, "model": models, "check_only": st.booleans()}
    wild = {
        "memories": anything_or(st.one_of(memories, st.lists(JSON, max_size=3))),
        "model": JSON,
        "check_only": FLAGS,
    }
    return arguments(valid, wild, required="memories")


TOOL_ARGUMENTS = {
    "remember": remember_arguments,
    "recall": recall_arguments,
    "forget": forget_arguments,
    "export_memories": export_arguments,
    "import_memories": import_arguments,
}
ODD_URIS = [
    *["memory://status/", "memory://status?x=1", "memory://STATUS", "memory://status#top", "MEMORY://status"],
    *["memory:/status", "memory://history/", "memory://history", "memory://", "", "file:///etc/passwd"],
    *["http://127.0.0.1/health", "memory://history/../status", "memory://history/%2e%2e%2fstatus"],
]


def resource_uris(server: Seeded) -> st.SearchStrategy[str]:
    def history(memory_id: str) -> str:
        return HISTORY_URI.format(memory_id=memory_id)

    return st.one_of(
        st.just(STATUS_URI),
        st.sampled_from(ODD_URIS),
        ids(server).map(history),
        ids(server).map(lambda memory_id: history(quote(memory_id, safe=""))),
        st.text(max_size=60).map(lambda rest: "memory://" + rest),
        st.text(max_size=60),
    )


METHODS = [
    *["initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/read"],
    *["resources/templates/list", "resources/subscribe", "prompts/list", "prompts/get", "logging/setLevel"],
    *["completion/complete", "notifications/initialized", "notifications/progress", "sampling/createMessage"],
    *["roots/list", "", "tools/call/", "TOOLS/CALL"],
]


def jsonrpc_messages(server: Seeded) -> st.SearchStrategy[dict[str, Any]]:
    """JSON-RPC messages, well formed or not: wrong types, ids and methods; tool calls with any arguments."""
    tool_calls = st.fixed_dictionaries(
        {"name": anything_or(st.sampled_from(list(TOOL_ARGUMENTS)))},
        optional={"arguments": st.one_of(*(make(server) for make in TOOL_ARGUMENTS.values()), JSON), "_meta": JSON},
    )
    params = st.one_of(
        JSON, tool_calls, st.fixed_dictionaries({"uri": resource_uris(server)}), st.just(INITIALIZE["params"])
    )
    request_ids = st.one_of(st.integers(), st.text(max_size=8), st.none(), st.floats(), st.booleans(), JSON)
    methods = st.one_of(st.sampled_from(METHODS), texts())
    anything = {
        "jsonrpc": anything_or(st.just("2.0")),
        "id": request_ids,
        "method": anything_or(methods),
        "params": params,
        "result": JSON,
        "error": st.one_of(JSON, st.fixed_dictionaries({"code": st.integers(), "message": texts()})),
    }
    return st.one_of(
        st.fixed_dictionaries(
            {"jsonrpc": st.just("2.0"), "method": methods}, optional={"id": request_ids, "params": params}
        ),
        st.fixed_dictionaries({}, optional=anything),
    ).filter(lambda message: message.get("id") not in RESERVED_IDS)


def encoded(value: Any) -> bytes:
    return json.dumps(value).encode()  # NaN and Infinity included, as Python writes them


def bodies(server: Seeded) -> st.SearchStrategy[bytes]:
    messages = jsonrpc_messages(server)
    ping = encoded({"jsonrpc": "2.0", "id": 7, "method": "ping"})
    return st.one_of(
        messages.map(encoded),
        messages.map(encoded),
        messages.map(encoded).flatmap(lambda body: st.integers(0, len(body)).map(lambda cut: body[:cut])),
        st.lists(messages, max_size=4).map(encoded),  # a batch
        st.binary(max_size=300),
        JSON.map(encoded),
        st.tuples(st.sampled_from([b"[", b'{"a":']), st.integers(1, 200_000)).map(lambda deep: deep[0] * deep[1]),
        st.sampled_from([MAX_BODY, MAX_BODY + 1]).map(lambda size: ping.ljust(size)),  # at the cap, and over it
    )


def socket_lines(server: Seeded) -> st.SearchStrategy[bytes]:
    """One line as a client might write it to the socket, without its newline."""
    return st.one_of(
        jsonrpc_messages(server).map(encoded),
        jsonrpc_messages(server).map(encoded),
        st.binary(max_size=200),
        st.text(max_size=100).map(str.encode),
        JSON.map(encoded),
        st.sampled_from([b"", b"   ", b"\xff\xfe\xfd", b"\xc3\x28", b"{", b"[" * 5000, b"\x00" * 10]),
        st.integers(1000, 100_000).map(lambda size: b"x" * size),
    ).map(lambda line: line.replace(b"\n", b" "))


def names_alice(line: bytes) -> bool:
    with contextlib.suppress(ValueError, RecursionError):
        hello = json.loads(line)
        return isinstance(hello, dict) and hello.get("namespace") == KEPT
    return False


def hello_lines() -> st.SearchStrategy[bytes]:
    """The socket's first line, which names the namespace: anything but alice."""
    namespaces = st.one_of(
        st.sampled_from([FUZZED, "default", "", "Bob", "not valid", "a" * 64, "../alice", " alice", "ALICE"]),
        texts(20),
        JSON,
    )
    hellos = st.fixed_dictionaries({}, optional={"namespace": namespaces, "token": JSON})
    around_cap = st.sampled_from([MAX_HELLO_BYTES - 1, MAX_HELLO_BYTES, MAX_HELLO_BYTES + 1]).map(
        lambda size: b'{"namespace": "bob"' + b" " * (size - 20) + b"}"
    )
    return (
        st.one_of(
            hellos.map(encoded),
            hellos.map(encoded),
            JSON.map(encoded),
            st.binary(max_size=200),
            around_cap,
            st.integers(1, 5000).map(lambda depth: b"[" * depth),
        )
        .map(lambda line: line.replace(b"\n", b" "))
        .filter(lambda line: not names_alice(line))
    )
