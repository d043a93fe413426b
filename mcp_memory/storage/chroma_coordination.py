"""`SharedStore`: several memory servers on one Chroma server, taking turns and hearing of each other's writes.

Two collections of the Chroma server hold what the servers share besides the memories:

- `mcp-memory-turns`: one record per namespace being written, the *turn*. Chroma keeps the first of two
  adds of one id and ignores the second, so a server that adds the record and reads back its own holder
  mark holds the turn; it deletes the record (only if still its own) when done. A turn is a lease,
  renewed while held: a server that died holding one is taken over once the lease ran out, and the
  taker publishes a rebuild, since the dead server may have written without saying so.
- `mcp-memory-journal`: one record per write turn, numbered 1, 2, 3… per namespace. Only the turn's
  holder numbers, after reading every record before its own, so the numbers are gapless and in order.
  A record names the memories whose keyword entries changed and the history events logged: ids,
  names and times, never content. Each server keeps how far it has read (in its history file) and
  replays what others published into its own keyword index and history, before each write turn and
  at most once a second before a read. Records older than `KEEP` are deleted; a server that was away
  longer rebuilds the namespace's keyword index from the store.

The servers' clocks are trusted to agree within seconds (leases and the journal's age use them).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from chromadb.api import ClientAPI

from mcp_memory.core.errors import InvalidInput, NotFound, StorageError
from mcp_memory.storage.chroma_errors import translated
from mcp_memory.storage.coordination import Change, Follower
from mcp_memory.storage.history import Event

log = logging.getLogger(__name__)

TURNS = "mcp-memory-turns"
JOURNAL = "mcp-memory-journal"
LEASE = 30.0  # seconds a turn stays held without renewal
RENEW_EVERY = 10.0
WAIT = 120.0  # seconds a write waits for its turn before failing
FOLLOW_EVERY = 1.0  # a read catches up with the journal at most this often per namespace
SEARCH_EVERY = 60.0
KEEP = 7 * 24 * 3600.0  # seconds a journal record is kept
PRUNE_EVERY = 3600.0
CHUNK = 1000  # ids, and events, per journal record
PLACE: Any = [[0.0]]  # Chroma wants a vector with every record; these collections are never searched


class Cursors(Protocol):
    """Where a server keeps how far it has read each namespace's journal: the history file."""

    def followed(self, namespace: str) -> int: ...

    def set_followed(self, namespace: str, number: int) -> None: ...


class SharedStore:
    """The `Coordination` of a memory server on a Chroma server shared with others."""

    def __init__(self, client: ClientAPI, cursors: Cursors, server: str | None = None) -> None:
        self._client = client
        self._cursors = cursors
        self.server = server or uuid.uuid4().hex
        self._follower: Follower | None = None
        # A namespace's writers in this process wait here before asking for the turn; what others changed is
        # applied under it too, so that no write of this process runs meanwhile.
        self._local: dict[str, threading.RLock] = {}
        self._following: dict[str, threading.RLock] = {}
        self._caught_up: dict[str, float] = {}  # when each namespace last caught up
        self._searched: dict[str, float] = {}  # when each namespace's journal was last searched in full
        self._pruned: dict[str, float] = {}
        self._guard = threading.Lock()
        self._open = threading.local()  # the change of the turn this thread holds
        with translated("open the journal"):
            self._turns = client.get_or_create_collection(TURNS, embedding_function=None)
            self._journal = client.get_or_create_collection(JOURNAL, embedding_function=None)

    def follow(self, follower: Follower) -> None:
        self._follower = follower

    @contextmanager
    def writing(self, namespace: str, *, publish: bool = True) -> Iterator[None]:
        with self._lock_of(self._local, namespace), self._turn(namespace) as taken_over:
            self._catch_up(namespace)
            if taken_over and self._follower is not None:  # what the server that died wrote is not known here either
                self._follower(Change(namespace, rebuild=True))
            change = Change(namespace, rebuild=taken_over, server=self.server)
            self._open.change = change if publish else None
            try:
                yield
            except (InvalidInput, NotFound):  # refused before anything was written
                raise
            except BaseException:
                change.rebuild = True  # cut short: what it wrote is not all noted
                raise
            finally:
                self._open.change = None
                if not change.empty:
                    self._publish(change)

    def catch_up(self, namespace: str) -> None:
        started = time.monotonic()
        if started - self._caught_up.get(namespace, -FOLLOW_EVERY) < FOLLOW_EVERY:
            return
        # The next record's id is looked up (cheap); the journal is searched in full now and then, for a server
        # that was away while the record it would read next was pruned.
        if self._behind(namespace) or started - self._searched.get(namespace, -SEARCH_EVERY) >= SEARCH_EVERY:
            with self._lock_of(self._local, namespace):
                self._catch_up(namespace)
        self._caught_up[namespace] = started

    def note_keywords(self, namespace: str, ids: Sequence[str] | None) -> None:
        if (change := self._change(namespace)) is not None:
            if ids is None:
                change.rebuild = True
            else:
                change.ids.update(ids)

    def note_events(self, namespace: str, events: Sequence[Event]) -> None:
        if (change := self._change(namespace)) is not None:
            change.events.extend(events)

    def _change(self, namespace: str) -> Change | None:
        change: Change | None = getattr(self._open, "change", None)
        return change if change is not None and change.namespace == namespace else None

    # -- the turn ------------------------------------------------------------------------------------------

    @contextmanager
    def _turn(self, namespace: str) -> Iterator[bool]:
        """Hold the namespace's turn; yields whether it was taken over from a server that let its lease run out."""
        holder = f"{self.server}/{uuid.uuid4().hex}"
        taken_over = self._acquire(namespace, holder)
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(namespace, holder, stop), name="mcp-memory-lease", daemon=True
        )
        renewer.start()
        try:
            yield taken_over
        finally:
            stop.set()
            renewer.join()
            with translated("end the write turn"):
                self._turns.delete(ids=[namespace], where={"holder": holder})

    def _acquire(self, namespace: str, holder: str) -> bool:
        deadline = time.monotonic() + WAIT
        pause = 0.005
        taken_over = False
        while True:
            with translated("take the write turn"):
                self._turns.add(ids=[namespace], embeddings=PLACE, metadatas=[_lease(holder)])
                found = self._turns.get(ids=[namespace], include=["metadatas"])
            current: Any = found["metadatas"][0] if found["metadatas"] else None
            if current is not None and current.get("holder") == holder:
                return taken_over
            if current is not None and float(current.get("until", 0)) < time.time():
                log.warning("taking over the write turn of %s from %s, whose lease ran out", namespace, current)
                with translated("take over the write turn"):
                    self._turns.delete(ids=[namespace], where={"holder": current["holder"]})
                taken_over = True
                continue
            if time.monotonic() > deadline:
                raise StorageError(
                    f"namespace {namespace!r} is being written by another memory server for over {WAIT:.0f} s: "
                    "call again later"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _renew(self, namespace: str, holder: str, stop: threading.Event) -> None:
        while not stop.wait(RENEW_EVERY):
            try:
                found = self._turns.get(ids=[namespace], include=["metadatas"])["metadatas"]
                if not found or found[0].get("holder") != holder:
                    log.error("the write turn of %s was taken over while held", namespace)
                    return
                self._turns.update(ids=[namespace], metadatas=[_lease(holder)])
            except Exception:  # the next renewal tries again; the lease is three renewals long
                log.exception("renewing the write turn of %s failed", namespace)

    # -- the journal ---------------------------------------------------------------------------------------

    def _behind(self, namespace: str) -> bool:
        """Whether the journal holds records of the namespace not yet read here (one small read)."""
        with translated("read the journal"):
            found = self._journal.get(ids=[f"{namespace}/{self._cursors.followed(namespace) + 1}"], include=[])
        return bool(found["ids"])

    def _catch_up(self, namespace: str) -> None:
        with self._lock_of(self._following, namespace):
            self._searched[namespace] = time.monotonic()
            seen = self._cursors.followed(namespace)
            after: Any = {"$and": [{"namespace": namespace}, {"number": {"$gt": seen}}]}
            with translated("read the journal"):
                found = self._journal.get(where=after, include=["metadatas"])
            entries: list[Any] = sorted(found["metadatas"] or [], key=lambda m: int(m["number"]))
            if entries:
                others = [e for e in entries if e["server"] != self.server]
                # Numbers missing before the first: records pruned while this server was away.
                gap = int(entries[0]["number"]) != seen + 1
                if others or gap:
                    merged = _merged(namespace, others)
                    merged.rebuild |= gap
                    if self._follower is not None:
                        self._follower(merged)
                self._cursors.set_followed(namespace, int(entries[-1]["number"]))

    def _publish(self, change: Change) -> None:
        """Append the turn's change to the journal, numbered after every record there (the turn is held)."""
        number = self._cursors.followed(change.namespace)
        ids, events = sorted(change.ids), change.events
        pieces = max(1, -(-len(ids) // CHUNK), -(-len(events) // CHUNK))
        now = time.time()
        for piece in range(pieces):
            number += 1
            body = {
                "ids": ids[piece * CHUNK : (piece + 1) * CHUNK],
                "events": [_event_json(e) for e in events[piece * CHUNK : (piece + 1) * CHUNK]],
                "rebuild": change.rebuild and piece == 0,
            }
            metadata: Any = {"namespace": change.namespace, "number": number, "server": self.server, "at": now}
            with translated("write the journal"):
                self._journal.add(
                    ids=[f"{change.namespace}/{number}"],
                    embeddings=PLACE,
                    metadatas=[metadata | {"change": json.dumps(body, separators=(",", ":"))}],
                )
        self._cursors.set_followed(change.namespace, number)
        self._prune(change.namespace, now)

    def _prune(self, namespace: str, now: float) -> None:
        if now - self._pruned.get(namespace, 0.0) < PRUNE_EVERY:
            return
        self._pruned[namespace] = now
        with translated("prune the journal"):
            old: Any = {"$and": [{"namespace": namespace}, {"at": {"$lt": now - KEEP}}]}
            self._journal.delete(where=old)

    def _lock_of(self, locks: dict[str, threading.RLock], namespace: str) -> threading.RLock:
        with self._guard:
            return locks.setdefault(namespace, threading.RLock())


def _lease(holder: str) -> dict[str, Any]:
    return {"holder": holder, "until": time.time() + LEASE}


def _event_json(event: Event) -> dict[str, Any]:
    return {"id": event.memory_id, "at": event.at.isoformat(), "event": event.event, "detail": event.detail}


def _merged(namespace: str, entries: Sequence[Any]) -> Change:
    """Several journal records as one change: replaying re-reads the store, so the ids' union will do."""
    merged = Change(namespace)
    for entry in entries:
        body = json.loads(entry["change"])
        merged.ids.update(body["ids"])
        merged.events += [
            Event(e["id"], datetime.fromisoformat(e["at"]), e["event"], e["detail"]) for e in body["events"]
        ]
        merged.rebuild |= bool(body["rebuild"])
        merged.server = entry["server"]
    return merged
