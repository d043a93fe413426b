"""One owner per data directory: hosts bridged to it over a private socket, started on demand, stopped cleanly."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
from pathlib import Path

import anyio
from mcp_clients import EXECUTABLE, http_server, owner_status, server_env, stdio_session, structured

from mcp_memory.serve.owner_files import OwnerFiles, stop_owner


def start_serve(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [EXECUTABLE, "serve", "--port", "0", *args],
        env=server_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_a_second_server_on_the_same_data_directory_exits_naming_the_first(data_dir: Path) -> None:
    with http_server(data_dir):
        first = OwnerFiles(data_dir).read_info()
        assert first is not None
        second = start_serve(data_dir)
        _, stderr = second.communicate(timeout=60)
    assert second.returncode == 1
    assert f"another mcp-memory (pid {first['pid']}) already owns {data_dir.resolve()}" in stderr


async def test_hosts_started_apart_share_one_server_on_a_private_socket(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as desktop:
        started = await owner_status(desktop)
    async with stdio_session(data_dir, "cursor") as cursor:
        assert (await owner_status(cursor))["pid"] == started["pid"]
    files = OwnerFiles(data_dir)
    assert stat.S_IMODE(files.socket.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert started["socket"] == str(files.socket)


async def test_eight_bridges_starting_at_once_start_exactly_one_server(data_dir: Path) -> None:
    pids: list[int] = []

    async def host(number: int) -> None:
        async with stdio_session(data_dir, f"host-{number}") as session:
            structured(await session.call_tool("recall", {"query": "anything"}))
            pids.append((await owner_status(session))["pid"])

    async with anyio.create_task_group() as hosts:
        for number in range(8):
            hosts.start_soon(host, number)
    assert len(pids) == 8 and len(set(pids)) == 1
    log = OwnerFiles(data_dir).log.read_text()
    assert log.count("serving") == 1 and "already owns" not in log


async def test_the_bridge_imports_neither_torch_nor_chromadb_nor_the_sdk(data_dir: Path, tmp_path: Path) -> None:
    imports = tmp_path / "bridge-imports.txt"
    with imports.open("w") as errlog:
        async with stdio_session(data_dir, "claude-desktop", errlog=errlog, PYTHONPROFILEIMPORTTIME="1") as session:
            await session.list_tools()
    imported = {line.split("|")[-1].strip().split(".")[0] for line in imports.read_text().splitlines() if "|" in line}
    assert "json" in imported
    assert not imported & {"torch", "chromadb", "sentence_transformers", "mcp", "pydantic", "typer"}


async def test_sigterm_stops_the_server_cleanly_and_frees_the_directory(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as session:
        structured(await session.call_tool("remember", {"content": "Written before the server stops."}))
        pid = (await owner_status(session))["pid"]
    files = OwnerFiles(data_dir)
    os.kill(pid, signal.SIGTERM)
    with anyio.fail_after(30):
        while files.is_owned():
            await anyio.sleep(0.05)
    assert not files.socket.exists() and files.read_info() is None
    async with stdio_session(data_dir, "claude-desktop") as session:
        assert (await owner_status(session))["namespaces"] == {"default": 1}


async def test_an_idle_server_stops_by_itself(data_dir: Path) -> None:
    server = start_serve(data_dir, "--idle-exit", "1")
    _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    assert "stopping (idle for 1 s)" in stderr
    assert not OwnerFiles(data_dir).is_owned()


def test_stop_and_status_from_the_terminal(data_dir: Path) -> None:
    def cli(*args: str) -> str:
        done = subprocess.run(
            [EXECUTABLE, *args], env=server_env(data_dir), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "no server owns" in cli("status")
    with http_server(data_dir):
        pid = OwnerFiles(data_dir).read_info()["pid"]  # type: ignore[index]
        assert f"pid {pid}" in cli("status")
        assert f"stopped pid {pid}" in cli("stop")
        assert "no server owns" in cli("status")


def raw_client(data_dir: Path, *lines: bytes) -> None:
    """A client on the owner's socket that sends `lines` and leaves without waiting for answers."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(str(OwnerFiles(data_dir).socket))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the server may hang up first
            for line in lines:
                client.sendall(line)


def request(method: str, params: dict[str, object], request_id: int | None = None) -> bytes:
    message: dict[str, object] = {"jsonrpc": "2.0", "method": method, "params": params}
    if request_id is not None:
        message["id"] = request_id
    return json.dumps(message).encode() + b"\n"


async def test_clients_that_misbehave_or_leave_mid_call_do_not_bring_the_server_down(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as session:
        pid = (await owner_status(session))["pid"]
        initialize = request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "rude", "version": "0"}},
            1,
        )
        raw_client(
            data_dir,
            b'{"namespace": "x"}\n',
            initialize,
            request("notifications/initialized", {}),
            request("tools/call", {"name": "recall", "arguments": {"query": "anything"}}, 2),
        )
        raw_client(data_dir, b"[" * 4000 + b"\n")
        raw_client(data_dir, b"not json at all\n")
        raw_client(data_dir, b'{"namespace": "x"}\n', b"x" * (17 * 1024 * 1024))
        raw_client(data_dir, b'{"namespace": "x"}\n', b"{broken json\n", initialize)
        structured(await session.call_tool("remember", {"content": "The server survived rude clients."}))
        assert (await owner_status(session))["pid"] == pid


async def test_stop_while_a_host_is_connected_and_its_next_call_restarts_the_server(data_dir: Path) -> None:
    async with stdio_session(data_dir, "claude-desktop") as session:
        first = (await owner_status(session))["pid"]
        assert stop_owner(OwnerFiles(data_dir)) == first
        assert not OwnerFiles(data_dir).is_owned()
        recalled = structured(await session.call_tool("recall", {"query": "anything"}))
        assert recalled == {"memories": []}
        assert (await owner_status(session))["pid"] != first


def test_the_http_socket_says_it_is_tcp_so_that_responses_are_not_held_back_by_nagle() -> None:
    """asyncio turns Nagle's algorithm off only on sockets whose protocol is IPPROTO_TCP; left at 0, every
    response after the first on a kept-alive connection waited for the client's delayed ACK (~40 ms)."""
    import socket

    from mcp_memory.serve.owner import _bind_tcp

    bound = _bind_tcp("127.0.0.1", 0, required=True)
    assert bound is not None
    with bound:
        assert bound.proto == socket.IPPROTO_TCP
