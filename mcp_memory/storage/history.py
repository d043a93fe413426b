"""`History`: every memory's event log and its usage counters, in SQLite beside the vector store.

Events say who did what and when, never what a memory said: a forgotten memory's history keeps
that it existed and was forgotten, and nothing of its content. Usage (how often a memory was
recalled or remembered again, and when last) feeds reinforcement in ranking; it is kept here, not
in Chroma, so that a recall never writes to the vector store.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mcp_memory.core.models import EventName, HistoryEvent, Scalar, Usage
from mcp_memory.storage.sqlite_db import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    namespace TEXT NOT NULL, memory_id TEXT NOT NULL, at TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_memory ON events (namespace, memory_id);
CREATE INDEX IF NOT EXISTS events_by_name ON events (namespace, event);
CREATE TABLE IF NOT EXISTS followed (key TEXT PRIMARY KEY, number INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS about (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS usage (
    namespace TEXT NOT NULL, memory_id TEXT NOT NULL, access_count INTEGER NOT NULL, last_seen_at TEXT NOT NULL,
    PRIMARY KEY (namespace, memory_id)
);
"""


@dataclass(frozen=True)
class Event:
    memory_id: str
    at: datetime
    event: EventName
    detail: dict[str, Scalar | list[str]] = field(default_factory=dict)


class History:
    def __init__(self, path: Path) -> None:
        self._file = SqliteFile(path, "history log")
        self._db, self._lock = self._file.db, self._file.lock
        self._file.setup(SCHEMA)
        self._watcher: Callable[[str, Sequence[Event]], None] | None = None

    def watch(self, watcher: Callable[[str, Sequence[Event]], None]) -> None:
        """Have `watcher` told of the events each `log` and `forgotten` writes (not those `replay` writes)."""
        self._watcher = watcher

    def log(self, namespace: str, events: Iterable[Event]) -> None:
        logged = list(events)
        self.replay(namespace, logged)
        if self._watcher is not None:
            self._watcher(namespace, logged)

    def replay(self, namespace: str, events: Sequence[Event], *, followed: tuple[str, int] | None = None) -> None:
        """Log events another server logged first; a memory forgotten there has its usage dropped here too.
        With `followed`, the journal cursor moves in the same transaction, so that none is logged twice."""
        rows = [(namespace, e.memory_id, e.at.isoformat(), e.event, json.dumps(e.detail)) for e in events]
        gone = [(namespace, e.memory_id) for e in events if e.event == "forgotten"]
        with self._file.transaction():
            self._db.executemany("DELETE FROM usage WHERE namespace = ? AND memory_id = ?", gone)
            self._db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
            if followed is not None:
                self._db.execute("INSERT OR REPLACE INTO followed VALUES (?, ?)", followed)

    def events(self, namespace: str, memory_id: str) -> list[HistoryEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT at, event, detail FROM events WHERE namespace = ? AND memory_id = ? ORDER BY rowid",
                (namespace, memory_id),
            ).fetchall()
        return [HistoryEvent(at=datetime.fromisoformat(at), event=ev, detail=json.loads(d)) for at, ev, d in rows]

    def touch(self, namespace: str, ids: Sequence[str], at: datetime) -> None:
        """Count one more use of each memory: recalled, or remembered again (unless forgotten meanwhile;
        a memory imported again after it was forgotten counts again)."""
        rows = [{"ns": namespace, "id": i, "at": at.isoformat()} for i in ids]
        with self._file.transaction():
            self._db.executemany(
                "INSERT INTO usage SELECT :ns, :id, 1, :at WHERE NOT EXISTS (SELECT 1 FROM events g "
                "WHERE g.namespace = :ns AND g.memory_id = :id AND g.event = 'forgotten' AND NOT EXISTS "
                "(SELECT 1 FROM events h WHERE h.namespace = :ns AND h.memory_id = :id "
                "AND h.event IN ('created', 'imported') AND h.rowid > g.rowid)) "
                "ON CONFLICT (namespace, memory_id) "
                "DO UPDATE SET access_count = access_count + 1, last_seen_at = excluded.last_seen_at",
                rows,
            )

    def usage(self, namespace: str, ids: Sequence[str]) -> dict[str, Usage]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                "SELECT memory_id, access_count, last_seen_at FROM usage "
                f"WHERE namespace = ? AND memory_id IN ({marks})",
                (namespace, *ids),
            ).fetchall()
        return {i: Usage(count, datetime.fromisoformat(seen)) for i, count, seen in rows}

    def set_usage(self, namespace: str, usage: dict[str, Usage]) -> None:
        """Store usage as it was elsewhere (an import): counts and last use replace what is here."""
        rows = [(namespace, i, u.access_count, u.last_seen_at.isoformat()) for i, u in usage.items() if u.last_seen_at]
        with self._file.transaction():
            self._db.executemany("INSERT OR REPLACE INTO usage VALUES (?, ?, ?, ?)", rows)

    def forgotten(self, namespace: str, ids: Sequence[str], at: datetime, reason: str) -> None:
        """Log the memories as forgotten and drop their usage; earlier events keep no content to erase."""
        self.log(namespace, [Event(i, at, "forgotten", {"reason": reason}) for i in ids])

    def server_id(self) -> str:
        """This server's name among those sharing a Chroma server: made once, kept here."""
        with self._file.transaction():
            self._db.execute("INSERT OR IGNORE INTO about VALUES ('server_id', ?)", (uuid.uuid4().hex,))
            return str(self._db.execute("SELECT value FROM about WHERE key = 'server_id'").fetchone()[0])

    def followed(self, key: str) -> int:
        """The number of the last record of a shared journal (one namespace's, on one Chroma server) replayed
        here (0: none)."""
        with self._lock:
            row = self._db.execute("SELECT number FROM followed WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def set_followed(self, key: str, number: int) -> None:
        with self._file.transaction():
            self._db.execute("INSERT OR REPLACE INTO followed VALUES (?, ?)", (key, number))

    def latest_created(self, namespace: str, limit: int, before: int | None = None) -> list[tuple[int, str]]:
        """The memories created last and neither forgotten nor superseded since, newest first: each one's
        place in the log and its id. Pass the last place as `before` for the next page.

        The index on (namespace, event) holds each event's rowid in order, so SQLite walks it backwards
        and stops after `limit` rows: the cost does not grow with the log.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT e.rowid, e.memory_id FROM events e "
                "WHERE e.namespace = ? AND e.event = 'created' AND e.rowid < ? "
                "AND NOT EXISTS (SELECT 1 FROM events g WHERE g.namespace = e.namespace "
                "AND g.memory_id = e.memory_id AND g.event IN ('forgotten', 'superseded') AND g.rowid > e.rowid) "
                "ORDER BY e.rowid DESC LIMIT ?",
                (namespace, 2**63 - 1 if before is None else before, limit),
            ).fetchall()
        return [(int(place), str(memory_id)) for place, memory_id in rows]
