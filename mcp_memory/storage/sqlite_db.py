"""The SQLite side file (the history): one connection, shared by threads under a lock."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mcp_memory.core.errors import StorageError


class SqliteFile:
    """A connection in WAL mode, with autocommit off only inside `transaction`."""

    def __init__(self, path: Path, what: str) -> None:
        self._what = what
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: safe from crashes, fewer fsyncs
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the {what} at {path}: {exc}") from exc
        self.lock = threading.Lock()

    def setup(self, script: str) -> None:
        try:
            self.db.executescript(script)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot set up the {self._what}: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing, holding the lock; SQLite's errors become `StorageError`."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except sqlite3.Error as exc:
                self.db.execute("ROLLBACK")
                raise StorageError(f"the {self._what} failed: {exc}") from exc
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
