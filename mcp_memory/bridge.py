"""`mcp-memory stdio`: relay a host's MCP messages to the data directory's owner, starting it if needed.

Every host starts one of these per window or session, so it must be light: it imports neither
torch nor chromadb nor the MCP SDK, and starts in well under a second. It relays lines between
stdin/stdout and the owner's unix socket; it reads only each message's `id` and `method`, to answer
calls cut off by a dying owner with an error and to replay the host's handshake to a new owner.
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

from mcp_memory.errors import OwnerUnavailable
from mcp_memory.owner_files import OwnerFiles, env_data_dir

START_TIMEOUT = float(os.environ.get("MCP_MEMORY_START_TIMEOUT", "60"))
REPLAY_ID = "mcp-memory-bridge-replay"
CUT_OFF = (
    "the mcp-memory server stopped while this call was under way, so whether it took effect is unknown; "
    "the server has been restarted: recall to check, then call again"
)


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
    except OwnerUnavailable as exc:
        print(f"mcp-memory: {exc}", file=sys.stderr)
        return 1


class Bridge:
    def __init__(self, files: OwnerFiles, namespace: str) -> None:
        self._files = files
        self._namespace = namespace
        self._selector = selectors.DefaultSelector()
        self._owner: socket.socket | None = None
        self._pending: dict[str, bytes] = {}  # requests sent to the owner and not yet answered, by id
        self._handshake: list[bytes] = []  # the host's initialize request and initialized notification
        self._from_host = b""
        self._from_owner = b""

    def run(self) -> int:
        self._attach(connect_owner(self._files, self._namespace))
        stdin = sys.stdin.buffer.fileno()
        self._selector.register(stdin, selectors.EVENT_READ, "host")
        while True:
            for key, _ in self._selector.select():
                if key.data == "host":
                    data = os.read(stdin, 1 << 16)
                    if not data:
                        self._detach()
                        return 0
                    self._host_data(data)
                else:
                    self._owner_data()

    def _host_data(self, data: bytes) -> None:
        self._from_host += data
        *lines, self._from_host = self._from_host.split(b"\n")
        for line in lines:
            if line.strip():
                self._to_owner(line + b"\n")

    def _to_owner(self, line: bytes) -> None:
        message = _parse(line)
        if message.get("method") == "initialize" or message.get("method") == "notifications/initialized":
            self._handshake.append(line)
        if "id" in message and "method" in message:
            self._pending[_key(message["id"])] = line
        if self._owner is None and not self._reattach():
            return
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
        self._from_owner += data
        *lines, self._from_owner = self._from_owner.split(b"\n")
        for line in lines:
            message = _parse(line)
            if "id" in message and "method" not in message:
                self._pending.pop(_key(message["id"]), None)
            _write(line + b"\n")

    def _owner_lost(self) -> None:
        """Answer what was cut off, then start a new owner and replay the host's handshake to it."""
        self._detach()
        for request_id in list(self._pending):
            _write(_error_line(json.loads(request_id), CUT_OFF))
        self._pending.clear()
        self._reattach()

    def _reattach(self) -> bool:
        try:
            owner = connect_owner(self._files, self._namespace)
            _replay(owner, self._handshake)
        except (OwnerUnavailable, OSError) as exc:
            for request_id in list(self._pending):
                _write(_error_line(json.loads(request_id), f"the mcp-memory server is unavailable: {exc}"))
            self._pending.clear()
            return False
        self._attach(owner)
        return True

    def _attach(self, owner: socket.socket) -> None:
        self._owner, self._from_owner = owner, b""
        self._selector.register(owner, selectors.EVENT_READ, "owner")

    def _detach(self) -> None:
        if self._owner is not None:
            self._selector.unregister(self._owner)
            self._owner.close()
            self._owner = None


def connect_owner(files: OwnerFiles, namespace: str | None, timeout: float = START_TIMEOUT) -> socket.socket:
    """A connection to the owner of `files.data_dir` in `namespace`, starting the owner if none runs."""
    owner = _try_connect(files) or _start_owner(files, timeout)
    # The hello line: the namespace is bound to the connection, for every request on it.
    owner.sendall(json.dumps({"namespace": namespace}).encode() + b"\n")
    return owner


def _start_owner(files: OwnerFiles, timeout: float) -> socket.socket:
    from filelock import FileLock, Timeout  # only on this slow path

    files.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # Bridges that start together queue here; the first starts the owner, the rest find it.
        with FileLock(files.spawn_lock, timeout=timeout):
            if owner := _try_connect(files):
                return owner
            return _spawn_and_wait(files, timeout)
    except Timeout:
        raise OwnerUnavailable(f"timed out waiting for another process to start the server; see {files.log}") from None


def _spawn_and_wait(files: OwnerFiles, timeout: float) -> socket.socket:
    command = [sys.executable, "-m", "mcp_memory", "serve", "--data-dir", str(files.data_dir), "--background"]
    with files.log.open("ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if owner := _try_connect(files):
            return owner
        if process.poll() is not None and not _try_connect(files):
            raise OwnerUnavailable(f"the server exited with status {process.returncode}; see {files.log}")
        time.sleep(0.05)
    raise OwnerUnavailable(f"the server did not answer within {timeout:g} s; see {files.log}")


def _try_connect(files: OwnerFiles) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(files.socket))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    return sock


def _replay(owner: socket.socket, handshake: list[bytes]) -> None:
    """Re-initialise a new owner as the host did the old one, and wait for its answer."""
    for line in handshake:
        message = _parse(line)
        if message.get("method") == "initialize":
            owner.sendall(json.dumps({**message, "id": REPLAY_ID}).encode() + b"\n")
            _await_reply(owner)
        else:
            owner.sendall(line)


def _await_reply(owner: socket.socket) -> None:
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


def _parse(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def _key(request_id: Any) -> str:
    return json.dumps(request_id)


def _error_line(request_id: Any, text: str) -> bytes:
    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32603, "message": text}}
    return json.dumps(error).encode() + b"\n"


def _write(line: bytes) -> None:
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
