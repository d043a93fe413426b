"""The server is closed by default: a first token handed out once, browsers and other hosts refused, caps kept,
background servers that go away when nobody uses them."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp_clients import (
    EXECUTABLE,
    INITIALIZE,
    RAW_HEADERS,
    error_text,
    free_port,
    http_server,
    http_session,
    owner_status,
    server_env,
    stdio_session,
    structured,
    wait_for_http,
)

from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import MemoryInput
from mcp_memory.core.service import MemoryService
from mcp_memory.core.validation import MAX_BATCH, MAX_IDS, MAX_QUERY_CHARS
from mcp_memory.serve.http_app import http_url
from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.serve.tokens import TokenStore


def read_announcement(proc: subprocess.Popen[str], timeout: float = 120.0) -> tuple[str | None, str]:
    """The token a starting `serve` prints on its first start (None if its output ends without one),
    and all it printed about it."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    printed = ""
    while time.monotonic() < deadline and (line := proc.stdout.readline()):
        printed += line
        if line.startswith("Hosts that run"):
            break
    found = re.search(r"mcpm_[A-Za-z0-9_-]{20,}", printed)
    return (found.group(0) if found else None), printed


@contextmanager
def first_serve(data_dir: Path, host: str, port: int) -> Iterator[tuple[str, str]]:
    """`serve` started by hand on a new data directory; yields the token it printed and its MCP URL."""
    url = http_url(host, port)
    with subprocess.Popen(
        [EXECUTABLE, "serve", "--host", host, "--port", str(port)],
        env=server_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as server:
        try:
            token, printed = read_announcement(server)
            assert token, "the first serve printed no token"
            assert f"to {url}," in printed
            wait_for_http(url.removesuffix("/mcp") + "/health", server, data_dir / "owner.log")  # type: ignore[arg-type]
            yield token, url
        finally:
            server.terminate()
            server.wait(timeout=60)


def serve_briefly(data_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
    """`serve` by hand, stopping as soon as it is idle: what it prints on starting."""
    return subprocess.run(
        [EXECUTABLE, "serve", "--port", str(port), "--idle-exit", "0.5"],
        env=server_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_first_serve_hands_out_one_token_for_the_default_namespace_and_keeps_only_its_hash(
    data_dir: Path,
) -> None:
    port = free_port()
    with first_serve(data_dir, "127.0.0.1", port) as (token, url):
        async with http_session(url, "claude-code", token=token) as session:
            structured(await session.call_tool("remember", {"content": "The first token works."}))
            assert (await owner_status(session))["namespaces"] == {"default": 1}
        assert token not in (data_dir / "tokens.json").read_text()
        assert [t.name for t in TokenStore(data_dir).records()] == ["default"]
    again = serve_briefly(data_dir, port)
    assert again.returncode == 0, again.stderr
    assert "mcpm_" not in again.stdout  # a token is shown once, on the first start only
    assert len(TokenStore(data_dir).records()) == 1
    TokenStore(data_dir).revoke("default")
    closed = serve_briefly(data_dir, port)
    assert closed.returncode == 0, closed.stderr
    assert "mcpm_" not in closed.stdout and TokenStore(data_dir).records() == []  # revoking all keeps HTTP closed


async def test_a_server_on_ipv6_loopback_serves_tokens_and_says_where(data_dir: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    with first_serve(data_dir, "::1", free_port()) as (token, url):
        assert url.startswith("http://[::1]:")
        assert OwnerFiles(data_dir).read_info()["http"] == url  # type: ignore[index]
        async with http_session(url, "claude-code", token=token) as session:
            structured(await session.call_tool("remember", {"content": "IPv6 loopback works."}))


def test_serving_without_tokens_is_refused_on_anything_but_loopback(data_dir: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.1", "::"):
        refused = subprocess.run(
            [EXECUTABLE, "serve", "--no-auth", "--host", host, "--port", "0"],
            env=server_env(data_dir),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 1
        assert "--no-auth" in refused.stderr and "loopback" in refused.stderr
    assert not OwnerFiles(data_dir).is_owned()


async def test_an_open_server_on_loopback_serves_hosts_without_a_token(data_dir: Path) -> None:
    with http_server(data_dir, "--no-auth") as url:
        async with http_session(url, "trusted-agent", "alice", token=None) as session:
            structured(await session.call_tool("remember", {"content": "Open on loopback, by choice."}))
            assert (await owner_status(session))["namespaces"] == {"alice": 1}


def test_requests_naming_another_host_or_coming_from_another_origin_are_refused_on_every_route(
    data_dir: Path,
) -> None:
    with http_server(data_dir) as url:
        base = url.removesuffix("/mcp")
        port = int(base.rsplit(":", 1)[1])
        token = TokenStore(data_dir).create("browser-test", ["default"])
        authorised = {**RAW_HEADERS, "Authorization": f"Bearer {token}"}
        for path in ("/health", "/mcp", "/anything"):
            assert httpx2.get(base + path, headers={"Host": "evil.example"}, timeout=30).status_code == 421
            assert httpx2.get(base + path, headers={"Host": f"evil.example:{port}"}, timeout=30).status_code == 421
            for origin in ("http://evil.example", f"http://127.0.0.1:{port + 1}", "null", f"https://localhost:{port}"):
                refused = httpx2.get(base + path, headers={"Origin": origin}, timeout=30)
                assert refused.status_code == 403, (path, origin)
        for origin in ("http://evil.example", f"http://localhost:{port + 1}"):
            posted = httpx2.post(url, json=INITIALIZE, headers={**authorised, "Origin": origin}, timeout=30)
            assert posted.status_code == 403  # a valid token does not help a foreign page
        for own in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
            posted = httpx2.post(url, json=INITIALIZE, headers={**authorised, "Origin": own}, timeout=60)
            assert posted.status_code == 200, posted.text
        assert httpx2.get(base + "/health", timeout=30).json()["status"] == "ok"


async def test_requests_over_a_cap_get_a_clear_error_and_store_nothing(data_dir: Path) -> None:
    with http_server(data_dir) as url:
        async with http_session(url, "claude-code", "alice") as session:
            kept = structured(await session.call_tool("remember", {"content": "Alice keeps one memory."}))
            over = [
                ("remember", {"content": "word " * 14_000}, "over the limit of 65,536"),
                ("remember", {"content": "ok", "tags": [f"t{i}" for i in range(21)]}, "at most 20"),
                ("remember", {"content": "ok", "tags": ["x" * 65]}, "1-64 characters"),
                ("remember", {"content": "ok", "metadata": {f"k{i}": i for i in range(17)}}, "at most 16"),
                ("remember", {"content": "ok", "metadata": {"note": "x" * 513}}, "over 512 characters"),
                ("remember", {"content": "ok", "thread": "t" * 201}, "1-200 characters"),
                ("remember", {"content": "ok", "supersedes": ["0" * 32] * (MAX_IDS + 1)}, "at most 1,000"),
                ("recall", {"query": "q" * (MAX_QUERY_CHARS + 1)}, "over the limit of 2,000"),
                ("recall", {"query": "ok", "limit": 51}, "less than or equal to 50"),
                ("forget", {"ids": ["0" * 32] * (MAX_IDS + 1)}, "at most 1,000"),
            ]
            for tool, arguments, message in over:
                assert message in error_text(await session.call_tool(tool, arguments)), (tool, message)
            headers = {**RAW_HEADERS, "Authorization": f"Bearer {TokenStore(data_dir).create('big', ['alice'])}"}
            body = json.dumps({**INITIALIZE, "padding": "x" * (1024 * 1024)})
            assert httpx2.post(url, content=body, headers=headers, timeout=60).status_code == 413
            recalled = structured(await session.call_tool("recall", {"query": "Alice memory", "limit": 50}))
            assert [m["id"] for m in recalled["memories"]] == [kept["id"]]
            assert (await owner_status(session))["namespaces"] == {"alice": 1}


def test_a_batch_over_the_cap_is_refused_before_anything_is_embedded_or_stored(service: MemoryService) -> None:
    with pytest.raises(InvalidInput, match="at most 1,000"):
        service.remember_many("ns", [MemoryInput(content=f"Memory number {i}.") for i in range(MAX_BATCH + 1)])
    assert service.stats().namespaces == {}


async def test_a_server_started_by_a_bridge_stops_when_idle_but_one_started_by_hand_stays(tmp_path: Path) -> None:
    by_hand, by_bridge = tmp_path / "by-hand", tmp_path / "by-bridge"
    idle = {"MCP_MEMORY_IDLE_EXIT": "1"}
    port = free_port()
    hand = subprocess.Popen(
        [EXECUTABLE, "serve", "--port", str(port)],
        env=server_env(by_hand, **idle),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", hand, by_hand / "owner.log")
        async with stdio_session(by_bridge, "claude-desktop", **idle) as session:
            background = (await owner_status(session))["pid"]
        files = OwnerFiles(by_bridge)
        knocking = str((files.read_info() or {})["http"])
        with anyio.fail_after(120):  # bounded: the owner stops once no client is left for its idle time
            while files.is_owned():
                # A page knocking without a token is refused, and is no reason to stay up.
                with contextlib.suppress(httpx2.TransportError):
                    assert httpx2.get(knocking, timeout=5).status_code == 401
                await anyio.sleep(0.1)
        assert "stopping (idle for 1 s)" in files.log.read_text()
        assert f"owner {background} stopped" in files.log.read_text()
        # As long as that took, the server started by hand is still up.
        assert hand.poll() is None
        assert httpx2.get(f"http://127.0.0.1:{port}/health", timeout=30).json()["status"] == "ok"
    finally:
        hand.terminate()
        hand.wait(timeout=60)
        stop_owner(OwnerFiles(by_bridge))
