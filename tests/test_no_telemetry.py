"""No telemetry, no cloud: the server, its model and Chroma reach no other host, as watchers inside its processes see.

Two watchers. `outbound_watch/sitecustomize.py` is an audit hook loaded into every Python process of the
server (the stdio bridge, and the owner it spawns, inherit the environment): it records, and blocks, each
name lookup and connection made through CPython. Code in Rust or C++ (Chroma's core, tokenizers) does not
go through CPython, so strace watches the owner's system calls as well. Each watcher has a positive control:
an attempt made on purpose, which it must catch.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_clients import owner_status, server_env, stdio_session, structured

from mcp_memory.serve.owner_files import OwnerFiles, stop_owner

WATCH_DIR = Path(__file__).with_name("outbound_watch")
LOG_VARIABLE = "MCP_MEMORY_TEST_OUTBOUND_LOG"
WAIT_SECONDS = 60.0  # for an owner to start, stop or try the network: bounded, never a fixed sleep
# Only the calls that reach a peer (and bind, to show the trace covers the owner); seccomp-bpf stops the
# owner at these alone, so tracing costs it almost nothing.
STRACE_ARGS = ["-f", "--seccomp-bpf", "-qq", "-e", "signal=none", "-e", "trace=connect,sendto,sendmsg,sendmmsg,bind"]
SYSCALL = re.compile(r"\d+\s+(\w+)\(")
INET_PEER = re.compile(
    r"sa_family=AF_INET6?, sin6?_port=htons\((?P<port>\d+)\).*?"
    r'(?:inet_addr\("(?P<v4>[^"]+)"\)|inet_pton\(AF_INET6, "(?P<v6>[^"]+)")'
)
# Telemetry on Chroma's side would come from these: product telemetry (PostHog) and OpenTelemetry export.
CHROMA_OFF = {"anonymized_telemetry": False, "otel_collection_endpoint": "", "otel_granularity": None}


def watched(log: Path, **extra: str) -> dict[str, str]:
    """The environment that loads the audit-hook watcher into every Python process started with it."""
    path = os.pathsep.join(p for p in (str(WATCH_DIR), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, LOG_VARIABLE: str(log), **extra}


def records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def outbound(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in found if r.get("outbound")]


async def wait_for(log: Path, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """The watcher's records, once `done` holds for them; fails after WAIT_SECONDS."""
    with anyio.fail_after(WAIT_SECONDS):
        while not done(found := records(log)):
            await anyio.sleep(0.05)
    return found


def exited(*pids: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda found: set(pids) <= {r["pid"] for r in found if r["event"] == "exit"}


async def test_the_server_reaches_no_other_host_from_model_load_to_restart(data_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "outbound.jsonl"
    # Hub offline mode inherited as off: the server must go offline by itself.
    env = watched(log, HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0")
    async with stdio_session(data_dir, "claude-desktop", "alice", **env) as session:
        first = (await owner_status(session))["pid"]
        content = "Alice keeps her dotfiles in a private git repository."
        remembered = structured(await session.call_tool("remember", {"content": content, "tags": ["setup"]}))
        recalled = structured(await session.call_tool("recall", {"query": "where are Alice's dotfiles?"}))
        assert recalled["memories"][0]["id"] == remembered["id"]
        forgotten = structured(await session.call_tool("forget", {"ids": [remembered["id"]]}))
        assert forgotten["forgotten"] == [remembered["id"]]
        assert stop_owner(OwnerFiles(data_dir)) == first
        # The next call starts a second owner, which loads the model and opens Chroma again.
        structured(await session.call_tool("remember", {"content": "Alice moved her dotfiles to a USB key."}))
        second = (await owner_status(session))["pid"]
    assert second != first
    assert stop_owner(OwnerFiles(data_dir)) == second
    found = await wait_for(log, exited(first, second))

    assert outbound(found) == []
    assert {first, second} <= {r["pid"] for r in found if r["event"] == "watch"}
    connects = [r for r in found if r["event"] == "socket.connect"]
    assert any(r["peer"] == repr(str(OwnerFiles(data_dir).socket)) for r in connects)  # the bridge, watched
    assert [r for r in found if "spawn" in r and r["pid"] in (first, second)] == []  # no unwatched helper process
    for state in (r["state"] for r in found if r["event"] == "exit" and r["pid"] in (first, second)):
        # As huggingface_hub read it at import, not just the environment; the ONNX model needs no hub at all,
        # and only the one start that makes its graph imports it.
        assert "huggingface_hub" not in state["modules"] or state["hub_offline"] is True, state
        assert state["chroma"], state
        for system in state["chroma"]:
            assert {k: system[k] for k in CHROMA_OFF} == CHROMA_OFF, system
            assert not any("OpenTelemetry" in c for c in system["components"]), system


async def test_the_watcher_catches_a_server_reaching_for_the_model_hub(data_dir: Path, tmp_path: Path) -> None:
    """Positive control: the same watcher, loaded the same way, sees the owner try to download a model."""
    log = tmp_path / "outbound.jsonl"
    hub = {"HF_ENDPOINT": "https://huggingface.co", "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0"}
    env = watched(log, MCP_MEMORY_EMBEDDING_MODEL="mcp-memory-tests/no-such-model", **hub)
    files = OwnerFiles(data_dir)
    async with stdio_session(data_dir, "claude-desktop", **env):
        info = files.read_info()
        assert info is not None
        found = await wait_for(log, lambda found: any(r["pid"] == info["pid"] for r in outbound(found)))
    # Killed, not stopped: its loading thread would go on retrying the hub for a minute after a SIGTERM.
    with contextlib.suppress(ProcessLookupError):
        os.kill(info["pid"], signal.SIGKILL)
    with anyio.fail_after(WAIT_SECONDS):
        while files.is_owned():
            await anyio.sleep(0.05)
    attempt = next(r for r in outbound(found) if r["pid"] == info["pid"])
    assert (attempt["event"], attempt["peer"]) == ("socket.getaddrinfo", "'huggingface.co'"), attempt


def test_the_watcher_catches_and_blocks_every_kind_of_outbound_attempt(tmp_path: Path) -> None:
    """Positive control: each way a telemetry client would phone home is recorded, and goes nowhere."""
    log = tmp_path / "outbound.jsonl"
    attempts = {
        "socket.getaddrinfo": "socket.getaddrinfo('us.i.posthog.com', 443)",
        "socket.gethostbyname": "socket.gethostbyname('us.i.posthog.com')",
        "socket.connect": "socket.socket().connect(('203.0.113.1', 443))",
        "socket.sendto": "udp.sendto(b'event', ('203.0.113.1', 443))",
        "socket.sendmsg": "udp6.sendmsg([b'event'], [], 0, ('2001:db8::1', 443))",
        "urllib.Request": "urllib.request.urlopen('https://us.i.posthog.com/batch/', data=b'{}', timeout=5)",
        "http.client.connect": "http.client.HTTPSConnection('us.i.posthog.com', timeout=5).connect()",
    }
    udp = "udp, udp6 = socket.socket(type=socket.SOCK_DGRAM), socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)"
    local = "socket.getaddrinfo('localhost', 80); socket.socket(socket.AF_UNIX).connect_ex('/nonexistent')"
    script = "\n".join(
        ["import http.client, socket, urllib.request", udp, local]
        + [
            f"try:\n    {call}\n    print('not blocked: {event}')\nexcept PermissionError:\n    pass"
            for event, call in attempts.items()
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, **watched(log)}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr
    found = records(log)
    assert {r["event"] for r in outbound(found)} == set(attempts)
    assert {"socket.getaddrinfo", "socket.connect"} <= {r["event"] for r in found if r.get("outbound") is False}


@pytest.fixture(scope="module")
def strace() -> str:
    """strace, installed first where the tests run as root on Debian (CI); skips where it cannot trace."""
    found = shutil.which("strace")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        install = ["apt-get", "install", "-y", "--no-install-recommends", "strace"]
        if subprocess.run(install, capture_output=True, timeout=300).returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, timeout=300)
            subprocess.run(install, capture_output=True, timeout=300)
        found = shutil.which("strace")
    if found is None:
        pytest.skip("strace is not installed")
    probe = subprocess.run([found, *STRACE_ARGS, "-o", os.devnull, "true"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here: {probe.stderr.strip()}")
    return found


def network_attempts(trace: str) -> list[str]:
    """The traced calls that reach an address off this machine, or a name server anywhere."""
    found = []
    for line in trace.splitlines():
        if SYSCALL.match(line) and SYSCALL.match(line)[1] == "bind":  # an address to listen on, not a peer
            continue
        for peer in INET_PEER.finditer(line):
            address = ipaddress.ip_address(peer["v4"] or peer["v6"])
            mapped = getattr(address, "ipv4_mapped", None)
            loopback = address.is_loopback or (mapped is not None and mapped.is_loopback)
            if not loopback or peer["port"] == "53":
                found.append(line)
    return found


async def traced_owner(strace: str, trace: Path, data_dir: Path) -> subprocess.Popen[bytes]:
    """The owner, started as a bridge starts it but under strace; returned once it serves its socket."""
    command = [sys.executable, "-m", "mcp_memory", "serve", "--data-dir", str(data_dir), "--background"]
    log_path = data_dir.parent / "traced-owner.log"
    with log_path.open("wb") as log:
        owner = subprocess.Popen(
            [strace, *STRACE_ARGS, "-o", str(trace), *command],
            env=server_env(data_dir, HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    with anyio.fail_after(WAIT_SECONDS):
        while OwnerFiles(data_dir).read_info() is None:
            assert owner.poll() is None, log_path.read_text()
            await anyio.sleep(0.05)
    return owner


async def test_the_owner_under_strace_connects_to_no_other_host(data_dir: Path, tmp_path: Path, strace: str) -> None:
    trace = tmp_path / "owner.strace"
    owner = await traced_owner(strace, trace, data_dir)
    try:
        async with stdio_session(data_dir, "claude-desktop", "alice") as session:
            content = "Alice's build server is in the basement."
            remembered = structured(await session.call_tool("remember", {"content": content}))
            recalled = structured(await session.call_tool("recall", {"query": "where is the build server?"}))
            assert recalled["memories"][0]["id"] == remembered["id"]
            structured(await session.call_tool("forget", {"ids": [remembered["id"]]}))
            assert (await owner_status(session))["namespaces"] == {"alice": 0}
        stop_owner(OwnerFiles(data_dir))
        owner.wait(timeout=WAIT_SECONDS)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait(timeout=WAIT_SECONDS)
    calls = trace.read_text()
    assert str(OwnerFiles(data_dir).socket) in calls  # the trace covers the owner: it bound its socket
    assert network_attempts(calls) == []


NATIVE_CONNECT = """
import ctypes, socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
address = socket.AF_INET.to_bytes(2, sys.byteorder) + (443).to_bytes(2, "big") + socket.inet_aton("203.0.113.1")
address += bytes(8)
ctypes.CDLL(None, use_errno=True).connect(sock.fileno(), address, len(address))
"""


def test_strace_catches_a_connection_from_native_code_that_the_audit_hook_cannot_see(
    tmp_path: Path, strace: str
) -> None:
    """Positive control: libc's connect called directly, as Rust or C++ code calls it.

    strace itself fails the call (fault injection), so the kernel never sends a packet.
    """
    log, trace = tmp_path / "outbound.jsonl", tmp_path / "native.strace"
    command = [strace, *STRACE_ARGS, "-e", "inject=connect:error=ENETUNREACH", "-o", str(trace)]
    subprocess.run(
        [*command, sys.executable, "-c", NATIVE_CONNECT], env={**os.environ, **watched(log)}, check=True, timeout=60
    )
    [attempt] = network_attempts(trace.read_text())
    assert '"203.0.113.1"' in attempt and "htons(443)" in attempt
    assert outbound(records(log)) == []
