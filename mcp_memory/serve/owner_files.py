"""The files by which the one owner of a data directory is found, locked, reached and stopped, and the names
its clients use for what it serves.

Light on imports: the stdio bridge and the CLI use this module.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_memory.core.errors import MemoryServerError

# The kernel's limit on a unix socket path (sun_path), less the terminating NUL.
MAX_SOCKET_PATH = 107
# What the owner serves (server.py, transfer_tools.py) and the CLI asks for (client.py), kept here so that a
# terminal command need not import the server to name it.
STATUS_URI = "memory://status"
HISTORY_URI = "memory://history/{memory_id}"
CLI_CLIENT = "mcp-memory-cli"  # the clientInfo name of the CLI's sessions: the transfer tools are listed to it


@dataclass(frozen=True)
class OwnerFiles:
    """The files by which the one owner of a data directory is found, locked and reached."""

    data_dir: Path

    @property
    def lock(self) -> Path:
        """Held (flock) by the owner for its whole life; the OS releases it if the owner dies."""
        return self.data_dir / "owner.lock"

    @property
    def spawn_lock(self) -> Path:
        """Held by a bridge while it starts an owner, so that racing bridges start only one."""
        return self.data_dir / "spawn.lock"

    @property
    def socket(self) -> Path:
        return self.data_dir / "mcp-memory.sock"

    @property
    def info(self) -> Path:
        """JSON written by the running owner: pid, socket, HTTP address, start time."""
        return self.data_dir / "owner.json"

    @property
    def log(self) -> Path:
        """Where an owner started in the background writes its log."""
        return self.data_dir / "owner.log"

    def read_info(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.info.read_text()))
        except (OSError, ValueError):
            return None

    def ensure_private_dir(self) -> None:
        """Create the data directory readable by its user alone; refuse one that belongs to another user."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = self.data_dir.stat()
        if found.st_uid != os.getuid():
            raise MemoryServerError(f"{self.data_dir} belongs to another user: choose another MCP_MEMORY_DATA_DIR")
        if found.st_mode & 0o077:
            self.data_dir.chmod(0o700)

    def is_owned(self) -> bool:
        """Whether a live process holds the lock; the info file alone may be left from a killed owner."""
        from filelock import FileLock, Timeout

        if not self.lock.exists():
            return False
        lock = FileLock(self.lock, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return True
        lock.release()
        return False


def stop_owner(files: OwnerFiles, timeout: float = 30.0) -> int | None:
    """SIGTERM the owner and wait until it has let go of the directory; its pid, or None if none ran.

    Raises TimeoutError if it still holds the directory after `timeout` seconds.
    """
    if not files.is_owned() or (info := files.read_info()) is None:
        return None
    pid = int(info["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    # Done when it has let go, even if a host has already started a new owner in its place.
    while files.is_owned() and (files.read_info() or {}).get("pid") == pid:
        if time.monotonic() > deadline:
            raise TimeoutError(f"pid {pid} did not stop within {timeout:g} s")
        time.sleep(0.05)
    return pid
