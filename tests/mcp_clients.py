"""Real MCP clients for the tests: the SDK's ClientSession over stdio and streamable HTTP subprocesses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import httpx2
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import CallToolResult, Implementation

from mcp_memory.core.config import Settings
from mcp_memory.serve.tokens import token_book

EXECUTABLE = str(Path(sys.executable).with_name("mcp-memory"))
# The first call of a process waits for the model to load; nothing else should take this long.
CALL_TIMEOUT = 120.0
# What the token of a test server grants, unless a test asks for others.
TEST_NAMESPACES = ("default", "alice", "bob", "team", "wifi", "ns", "shared")
# An MCP handshake and the headers it needs, for tests that speak plain HTTP to the server.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "curl", "version": "0"}},
}
RAW_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
_server_tokens: dict[str, str] = {}  # host:port of a running test server -> the token it was started with
_SERVER_TOKEN = object()


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    # Port 0: a server that a bridge starts must not take the user's port 8765, nor collide with another test's.
    env = {"MCP_MEMORY_DATA_DIR": str(data_dir), "MCP_MEMORY_PORT": "0", "PYTHONWARNINGS": "ignore", **extra}
    return {**os.environ, **env}


def cli(
    data_dir: Path, *args: str, expect: int = 0, timeout: float = 180, **env: str
) -> subprocess.CompletedProcess[str]:
    """`mcp-memory ARGS` run as a person would, on the data directory; it must exit with `expect`."""
    done = subprocess.run(
        [EXECUTABLE, *args],
        env=server_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == expect, done.stderr
    return done


@asynccontextmanager
async def stdio_session(
    data_dir: Path, host: str, namespace: str = "default", *, errlog: TextIO = sys.stderr, **env: str
) -> AsyncIterator[ClientSession]:
    """A session with `mcp-memory stdio`, started as the host named `host` would start it."""
    params = StdioServerParameters(
        command=EXECUTABLE, args=["stdio", "--namespace", namespace], env=server_env(data_dir, **env)
    )
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT, client_info=_client(host)) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def http_session(
    url: str, host: str, namespace: str | None = None, *, token: Any = _SERVER_TOKEN
) -> AsyncIterator[ClientSession]:
    """A session with a running `mcp-memory serve`, naming its namespace by header when given.

    It carries the token `http_server` made for that server, unless given another (None: no token).
    """
    if token is _SERVER_TOKEN:
        token = _server_tokens.get(urlsplit(url).netloc)
    headers = {"Mcp-Memory-Namespace": namespace} if namespace else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT, client_info=_client(host)) as session,
    ):
        await session.initialize()
        yield session


@contextmanager
def http_server(data_dir: Path, *args: str, namespaces: tuple[str, ...] = TEST_NAMESPACES, **env: str) -> Iterator[str]:
    """`mcp-memory serve` on a free loopback port, with `env` beside the test's; yields its MCP URL, stops it
    with SIGTERM.

    Unless started `--no-auth`, it has a token for `namespaces`, which `http_session` sends.
    """
    port = free_port()
    if "--no-auth" not in args:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        book = token_book(Settings(data_dir=data_dir, chroma_url=env.get("MCP_MEMORY_CHROMA_URL")))
        _server_tokens[f"127.0.0.1:{port}"] = book.create(f"tests-{port}", namespaces)
    log_path = data_dir.parent / f"serve-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [EXECUTABLE, "serve", "--port", str(port), *args],
            env=server_env(data_dir, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", proc, log_path)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        _server_tokens.pop(f"127.0.0.1:{port}", None)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def server_token(url: str) -> str:
    """The token `http_server` made for the server at `url`."""
    return _server_tokens[urlsplit(url).netloc]


def wait_for_http(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log_path.read_text()}")
        try:
            if httpx2.get(url, timeout=1.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


async def owner_status(session: ClientSession) -> dict[str, Any]:
    """The server's own account of itself: pid, endpoints, model, memories per namespace."""
    [contents] = (await session.read_resource("memory://status")).contents
    return dict(json.loads(getattr(contents, "text", "{}")))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def structured(result: CallToolResult) -> dict[str, Any]:
    """The tool's structured output; fails the test with the error text if the call failed."""
    assert not result.is_error, _text(result)
    assert result.structured_content is not None
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, f"expected an error, got {json.dumps(result.structured_content)}"
    return _text(result)


def _text(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def _client(name: str) -> Implementation:
    return Implementation(name=name, version="1.0")
