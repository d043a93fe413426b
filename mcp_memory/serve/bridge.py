"""`mcp-memory stdio`: relay a host's MCP messages to the data directory's owner, starting it if needed.

Every host starts one of these per window or session, so it must be light: it imports neither
torch nor chromadb nor the MCP SDK. It relays lines between stdin/stdout and the owner's unix
socket, reading only each message's `id` and `method`: to answer calls cut off by a dying owner
with an error, and to replay the host's handshake to the owner it starts in its place.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mcp_memory.core.errors import MemoryServerError, OwnerUnavailable
from mcp_memory.core.paths import env_data_dir
from mcp_memory.serve.owner_files import OwnerFiles

START_TIMEOUT = float(os.environ.get("MCP_MEMORY_START_TIMEOUT", "60"))
RETRY_AFTER = 5.0  # after a failed start, requests fail fast for this long instead of waiting again
REPLAY_ID = "mcp-memory-bridge-replay"
CUT_OFF = (
    "the mcp-memory server stopped while this call was under way, so whether it took effect is unknown: "
    "recall to check, then call again (the server is restarted on the next call)"
)
_spawned: list[subprocess.Popen[bytes]] = []  # owners this process started, reaped when they exit


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="mcp-memory stdio", description="Serve MCP over stdin/stdout: the command an MCP host's config runs."
    )
    parser.add_argument("--namespace", "-n", default=os.environ.get("MCP_MEMORY_NAMESPACE") or "default")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    files = OwnerFiles((args.data_dir or env_data_dir()).expanduser().resolve())
    try:
        return Bridge(files, args.namespace).run()
    except MemoryServerError as exc:
        print(f"mcp-memory: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the host closed our stdout: it is gone
        return 0


class Bridge:
    def __init__(self, files: OwnerFiles, namespace: str) -> None:
        self._files = files
        self._namespace = namespace
        self._selector = selectors.DefaultSelector()
        self._owner: socket.socket | None = None
        self._pending: set[str] = set()  # ids of host requests the owner has not answered
        self._handshake: list[bytes] = []  # the host's initialize request and initialized notification
        self._from_host = b""
        self._from_owner = b""
        self._failed_at = 0.0
        self._failure = ""

    def run(self) -> int:
        self._attach(connect_owner(self._files, self._namespace))
        stdin = sys.stdin.buffer.fileno()
        self._selector.register(stdin, selectors.EVENT_READ)
        while True:
            for key, _ in self._selector.select(timeout=5.0):
                if key.fileobj == stdin:
                    data = os.read(stdin, 1 << 16)
                    if not data:
                        self._detach()
                        return 0
                    self._host_data(data)
                elif key.fileobj is self._owner:  # not a socket that an earlier event replaced
                    self._owner_data()
            _reap()

    def _host_data(self, data: bytes) -> None:
        *lines, self._from_host = (self._from_host + data).split(b"\n")
        for line in lines:
            if line.strip():
                self._to_owner(line + b"\n")

    def _to_owner(self, line: bytes) -> None:
        message = _parse(line)
        is_request = "id" in message and "method" in message
        if self._owner is None and not self._reattach():
            if is_request:
                _write(_error_line(message["id"], f"the mcp-memory server is unavailable: {self._failure}"))
            return
        if message.get("method") in ("initialize", "notifications/initialized"):
            self._handshake.append(line)
        if is_request:
            self._pending.add(_key(message["id"]))
        try:
            assert self._owner is not None
            self._owner.sendall(line)
        except OSError:
            self._owner_lost()

    def _owner_data(self) -> None:
        assert self._owner is not None
        try:
            data = self._owner.recv(1 << 16)
        except OSError:
            data = b""
        if not data:
            self._owner_lost()
            return
        *lines, self._from_owner = (self._from_owner + data).split(b"\n")
        for line in lines:
            message = _parse(line)
            if "id" in message and "method" not in message:
                self._pending.discard(_key(message["id"]))
            _write(line + b"\n")

    def _owner_lost(self) -> None:
        """Answer the calls that were cut off; the next message from the host starts a new owner."""
        self._detach()
        initialize = next((_parse(line) for line in self._handshake[:1]), {})
        if _key(initialize.get("id")) in self._pending:
            self._handshake.clear()  # the host saw its initialize fail; it must not be replayed
        for request_id in sorted(self._pending):
            _write(_error_line(json.loads(request_id), CUT_OFF))
        self._pending.clear()

    def _reattach(self) -> bool:
        if time.monotonic() - self._failed_at < RETRY_AFTER:
            return False
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                owner = connect_owner(self._files, self._namespace)
            except (MemoryServerError, OSError) as exc:
                self._failed_at, self._failure = time.monotonic(), str(exc)
                return False
            try:
                leftover = _replay(owner, self._handshake)
            except OSError as exc:
                owner.close()
                # A killed owner's socket can take a connection while the kernel closes it, then reset
                # it: the next attempt finds it refused, and starts a new owner.
                resets = isinstance(exc, ConnectionResetError | BrokenPipeError)
                if not resets or time.monotonic() > deadline:
                    self._failed_at, self._failure = time.monotonic(), str(exc)
                    return False
                time.sleep(0.05)
                continue
            self._attach(owner, leftover)
            return True

    def _attach(self, owner: socket.socket, received: bytes = b"") -> None:
        self._owner, self._from_owner = owner, received
        self._selector.register(owner, selectors.EVENT_READ)

    def _detach(self) -> None:
        if self._owner is not None:
            self._selector.unregister(self._owner)
            self._owner.close()
            self._owner = None


def connect_owner(files: OwnerFiles, namespace: str | None, timeout: float = START_TIMEOUT) -> socket.socket:
    """A connection to the owner of `files.data_dir` in `namespace`, starting the owner if none runs."""
    deadline = time.monotonic() + timeout
    owner = _try_connect(files) or _start_owner(files, deadline)
    try:
        # The hello line: the namespace is bound to the connection, for every request on it.
        owner.sendall(json.dumps({"namespace": namespace}).encode() + b"\n")
    except OSError as exc:
        owner.close()
        raise OwnerUnavailable(f"the server closed the connection at once ({exc}); see {files.log}") from exc
    return owner


def _start_owner(files: OwnerFiles, deadline: float) -> socket.socket:
    from filelock import FileLock, Timeout  # only on this slow path

    files.ensure_private_dir()
    try:
        # Bridges that start together queue here; the first starts the owner, the rest find it.
        with FileLock(files.spawn_lock, timeout=max(0.0, deadline - time.monotonic())):
            return _try_connect(files) or _spawn_and_wait(files, deadline)
    except Timeout:
        raise OwnerUnavailable(f"timed out waiting for another process to start the server; see {files.log}") from None


def _spawn_and_wait(files: OwnerFiles, deadline: float) -> socket.socket:
    command = [sys.executable, "-m", "mcp_memory", "serve", "--data-dir", str(files.data_dir), "--background"]
    with files.log.open("ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )
    _spawned.append(process)
    while time.monotonic() < deadline:
        if owner := _try_connect(files):
            return owner
        # An owner that exited may have lost the lock to one that is still starting: wait for that one.
        if process.poll() is not None and not files.is_owned():
            raise OwnerUnavailable(f"the server exited with status {process.returncode}; see {files.log}")
        time.sleep(0.05)
    raise OwnerUnavailable(f"the server did not answer within {START_TIMEOUT:g} s; see {files.log}")


def _try_connect(files: OwnerFiles) -> socket.socket | None:
    try:
        if files.socket.stat().st_uid != os.getuid():
            raise OwnerUnavailable(f"{files.socket} belongs to another user: refusing to connect")
    except FileNotFoundError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(files.socket))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    return sock


def _replay(owner: socket.socket, handshake: list[bytes]) -> bytes:
    """Initialise a new owner as the host did the old one; returns what arrived after its answer."""
    received = b""
    for line in handshake:
        message = _parse(line)
        if message.get("method") != "initialize":
            owner.sendall(line)
            continue
        owner.sendall(json.dumps({**message, "id": REPLAY_ID}).encode() + b"\n")
        reply, _, received = _receive_line(owner).partition(b"\n")
        answer = _parse(reply)
        if answer.get("id") != REPLAY_ID or "result" not in answer:
            raise OSError(f"the server refused the replayed handshake: {reply[:200]!r}")
    return received


def _receive_line(owner: socket.socket) -> bytes:
    owner.settimeout(START_TIMEOUT)
    received = b""
    try:
        while b"\n" not in received:
            chunk = owner.recv(1 << 16)
            if not chunk:
                raise OSError("the server closed the connection during the handshake")
            received += chunk
    finally:
        owner.settimeout(None)
    return received


def _reap() -> None:
    _spawned[:] = [process for process in _spawned if process.poll() is None]


def _parse(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return {}
    return message if isinstance(message, dict) else {}


def _key(request_id: Any) -> str:
    # JSON-RPC ids are strings or integers; a float id such as 1.0 may come back as 1.
    if isinstance(request_id, float) and request_id.is_integer():
        request_id = int(request_id)
    return json.dumps(request_id)


def _error_line(request_id: Any, text: str) -> bytes:
    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32603, "message": text}}
    return json.dumps(error).encode() + b"\n"


def _write(line: bytes) -> None:
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
