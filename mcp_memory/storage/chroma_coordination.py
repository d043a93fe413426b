"""`SharedStore`: several memory servers on one Chroma server, taking turns and hearing of each other's writes.

Two collections of the Chroma server hold what the servers share besides the memories:

- `mcp-memory-turns`: one record per namespace being written, the *turn*. Chroma keeps the first of two
  adds of one id and ignores the second, so a server that adds the record and reads back its own holder
  mark holds the turn; it deletes the record (only if still its own) when done. A turn is a lease,
  renewed while held: a server that died holding one is taken over once the lease ran out, and the
  taker publishes a rebuild, since the dead server may have written without saying so. A server that
  waits for a turn leaves a mark there; one that held the turn a moment ago pauses for it before
  taking the turn again, so that a busy server cannot keep a namespace to itself. A turn whose journal
  record the Chroma server refused is not ended but left to its lease, so that its taker has every
  server rebuild: the write stays acknowledged, and no server is left without it.
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
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from mcp_memory.core.errors import StorageError
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
PAUSE = 0.3  # seconds a server that just wrote a namespace waits, when another waits, before writing it again
WAITING = "~waiting~"  # in the id of a server's mark that it waits for a namespace's turn
ATTEMPTS = 3  # tries at ending a turn, and at writing its record, before leaving it for later


class Cursors(Protocol):
    """What a server keeps of its own in its history file: its id, and how far it read each journal."""

    def server_id(self) -> str: ...

    def followed(self, key: str) -> int: ...

    def set_followed(self, key: str, number: int) -> None: ...


@dataclass
class _Turn:
    holder: str
    taken_over: bool  # from a server that let its lease run out
    kept: bool = False  # left to its lease at the end, not released


class SharedStore:
    """The `Coordination` of a memory server on a Chroma server shared with others."""

    def __init__(self, client: ClientAPI, cursors: Cursors) -> None:
        self._cursors = cursors
        self.server = cursors.server_id()  # kept across restarts: its own records are never replayed to it
        self._follower: Follower | None = None
        # A namespace's writers in this process wait here before asking for the turn; a rebuild that another
        # server's record calls for is made under it too, so that no write of this process runs meanwhile.
        self._local: dict[str, threading.RLock] = {}
        self._following: dict[str, threading.RLock] = {}
        self._caught_up: dict[str, float] = {}  # when each namespace last caught up
        self._searched: dict[str, float] = {}  # when each namespace's journal was last searched in full
        self._pruned: dict[str, float] = {}
        self._released: dict[str, float] = {}  # when this server last ended each namespace's turn
        self._guard = threading.Lock()
        self._open = threading.local()  # the change of the turn this thread holds
        with translated("open the journal"):
            self._turns = record_collection(client, TURNS)
            self._journal = record_collection(client, JOURNAL)
        # How far this server read is kept per journal: one made anew, or another Chroma server's, is read
        # from its start.
        self._scope = str(self._journal.id)

    def follow(self, follower: Follower) -> None:
        self._follower = follower

    @contextmanager
    def writing(self, namespace: str, *, publish: bool = True) -> Iterator[None]:
        with self._lock_of(self._local, namespace):
            if not publish:  # this server's own indexes alone: other servers' writes need not wait
                yield
                return
            with self._turn(namespace) as turn:
                self._catch_up(namespace, rebuilding=True)
                if turn.taken_over and self._follower is not None:
                    # What the server that died wrote may be unknown here too.
                    self._follower(Change(namespace, rebuild=True))
                change = Change(namespace, rebuild=turn.taken_over)
                self._open.change = change
                try:
                    yield
                finally:
                    self._open.change = None
                    # A record the Chroma server refused: the write stays acknowledged, and the turn is left to
                    # its lease, whose taker has every server rebuild.
                    turn.kept = not change.empty and not self._publish(change, turn)

    def catch_up(self, namespace: str) -> None:
        started = time.monotonic()
        if started - self._caught_up.get(namespace, -FOLLOW_EVERY) < FOLLOW_EVERY:
            return
        # The next record's id is looked up (cheap); the journal is searched in full now and then, for a server
        # that was away while the record it would read next was pruned.
        due = self._behind(namespace) or started - self._searched.get(namespace, -SEARCH_EVERY) >= SEARCH_EVERY
        if due and not self._catch_up(namespace, rebuilding=False):
            with self._lock_of(self._local, namespace):  # waits for this process's writes, then rebuilds
                self._catch_up(namespace, rebuilding=True)
        self._caught_up[namespace] = started

    def note_ids(self, namespace: str, ids: Sequence[str] | None) -> None:
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
    def _turn(self, namespace: str) -> Iterator[_Turn]:
        """Hold the namespace's turn, renewing its lease meanwhile."""
        turn = self._acquire(namespace, f"{self.server}/{uuid.uuid4().hex}")
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(namespace, turn, stop), name="mcp-memory-lease", daemon=True
        )
        renewer.start()
        try:
            yield turn
        finally:
            stop.set()
            renewer.join()
            if not turn.kept:
                self._release(namespace, turn)

    def _acquire(self, namespace: str, holder: str) -> _Turn:
        self._let_others_in(namespace)
        deadline = time.monotonic() + WAIT
        pause = 0.005
        owed = False  # this server ended a lease that ran out, but another took the turn first
        waiting = f"{namespace}{WAITING}{self.server}"  # this server's mark that it waits, once it does
        while True:
            with translated("take the write turn"):
                kept = first_added(self._turns, namespace, _lease(holder))
            if kept.get("holder") == holder:
                if pause > 0.005:
                    with translated("take the write turn"):
                        self._turns.delete(ids=[waiting])
                return _Turn(holder, taken_over=owed or bool(kept.get("taken_over")))
            # (An empty read: its holder ended the turn between the add and the read; wait a moment, and again.)
            if kept and float(kept["until"]) < time.time():
                # Its holder died, or stalled: the turn is taken over, and the taker has every server rebuild.
                log.warning("taking over the write turn of %s from %s, whose lease ran out", namespace, kept)
                with translated("take over the write turn"):
                    self._turns.delete(ids=[namespace], where={"holder": kept["holder"]})
                    kept = first_added(self._turns, namespace, _lease(holder) | {"taken_over": True})
                owed = kept.get("holder") != holder
                continue
            with translated("take the write turn"):
                self._turns.upsert(
                    ids=[waiting], embeddings=place(), metadatas=[{"waiting_for": namespace, "until": time.time() + 5}]
                )
            if time.monotonic() > deadline:
                raise StorageError(
                    f"namespace {namespace!r} is being written by another memory server for over {WAIT:.0f} s: "
                    "call again later"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _let_others_in(self, namespace: str) -> None:
        """A server that held the namespace's turn a moment ago pauses before taking it again if another
        waits for it: the waiter asks again within `PAUSE`, so a busy server cannot keep it to itself."""
        if time.monotonic() - self._released.get(namespace, -PAUSE) >= PAUSE:
            return
        others: Any = {"$and": [{"waiting_for": namespace}, {"until": {"$gt": time.time()}}]}
        with translated("take the write turn"):
            waiting = self._turns.get(where=others, include=[])["ids"]
        if any(not w.endswith(f"{WAITING}{self.server}") for w in waiting):
            time.sleep(PAUSE)

    def _renew(self, namespace: str, turn: _Turn, stop: threading.Event) -> None:
        while not stop.wait(RENEW_EVERY):
            try:
                found: Any = self._turns.get(ids=[namespace], include=["metadatas"])["metadatas"]
                if not found or found[0].get("holder") != turn.holder:
                    log.error("the write turn of %s was taken over while held", namespace)
                    return
                self._turns.update(ids=[namespace], metadatas=[_lease(turn.holder)])
            except Exception:  # the next renewal tries again; the lease is three renewals long
                log.exception("renewing the write turn of %s failed", namespace)

    def _release(self, namespace: str, turn: _Turn) -> None:
        for attempt in range(ATTEMPTS):
            try:
                self._turns.delete(ids=[namespace], where={"holder": turn.holder})
                self._released[namespace] = time.monotonic()
                return
            except Exception:
                log.exception("ending the write turn of %s failed (attempt %d)", namespace, attempt + 1)
                time.sleep(0.1 * 2**attempt)
        # Left to its lease: the next writer waits it out, takes it over and has every server rebuild.

    # -- the journal ---------------------------------------------------------------------------------------

    def _cursor(self, namespace: str) -> str:
        return f"{self._scope}/{namespace}"

    def _behind(self, namespace: str) -> bool:
        """Whether the journal holds records of the namespace not yet read here (one small read)."""
        with translated("read the journal"):
            found = self._journal.get(ids=[_record_id(namespace, self._followed(namespace) + 1)], include=[])
        return bool(found["ids"])

    def _followed(self, namespace: str) -> int:
        return self._cursors.followed(self._cursor(namespace))

    def _catch_up(self, namespace: str, *, rebuilding: bool) -> bool:
        """Apply what others published since this server last read; False, having applied nothing, if that
        calls for a rebuild and `rebuilding` is not allowed (the caller must hold the local lock for it)."""
        with self._lock_of(self._following, namespace):
            self._searched[namespace] = time.monotonic()
            seen = self._followed(namespace)
            after: Any = {"$and": [{"namespace": namespace}, {"number": {"$gt": seen}}]}
            with translated("read the journal"):
                found = self._journal.get(where=after, include=["metadatas"])
            entries: list[Any] = sorted(found["metadatas"] or [], key=lambda m: int(m["number"]))
            if not entries:
                return True
            last = int(entries[-1]["number"])
            merged = _merged(namespace, [e for e in entries if e["server"] != self.server])
            merged.rebuild |= int(entries[0]["number"]) != seen + 1  # records pruned while this server was away
            merged.followed = (self._cursor(namespace), last)
            if merged.rebuild and not rebuilding:
                return False
            if not merged.empty and self._follower is not None:
                self._follower(merged)
            self._cursors.set_followed(self._cursor(namespace), last)
            return True

    def _publish(self, change: Change, turn: _Turn) -> bool:
        """Append the turn's change to the journal, in records of at most `CHUNK` ids and events; False if the
        Chroma server refused, after `ATTEMPTS` tries. A try resumes after the records already written."""
        ids, events = sorted(change.ids), change.events
        pieces = max(1, -(-len(ids) // CHUNK), -(-len(events) // CHUNK))
        bodies = [
            {
                "ids": ids[piece * CHUNK : (piece + 1) * CHUNK],
                "events": [_event_json(e) for e in events[piece * CHUNK : (piece + 1) * CHUNK]],
                "rebuild": change.rebuild,
            }
            for piece in range(pieces)
        ]
        for attempt in range(ATTEMPTS):
            try:
                while bodies:
                    self._append(change.namespace, bodies, turn)
                    bodies.pop(0)
                self._prune(change.namespace, time.time())
                return True
            except Exception:
                log.exception("writing the journal of %s failed (attempt %d)", change.namespace, attempt + 1)
                time.sleep(0.1 * 2**attempt)
        return False

    def _append(self, namespace: str, bodies: list[dict[str, Any]], turn: _Turn) -> None:
        """Write the first of `bodies` as one record, numbered after the last; a record whose reply was lost
        is found written."""
        body = bodies[0]
        while True:
            number = self._followed(namespace) + 1
            metadata = {"namespace": namespace, "number": number, "server": self.server, "at": time.time()}
            metadata |= {"turn": turn.holder, "change": json.dumps(body, separators=(",", ":"))}
            with translated("write the journal"):
                kept = first_added(self._journal, _record_id(namespace, number), metadata)
            if kept.get("turn") == turn.holder:
                self._cursors.set_followed(self._cursor(namespace), number)
                return
            # Another server took the turn over (this one stalled past its lease) and numbered first: its writes
            # and these ran side by side, so every server rebuilds; this record goes after its.
            log.error("the write turn of %s was taken over while held", namespace)
            self._catch_up(namespace, rebuilding=True)
            for later in bodies:
                later["rebuild"] = True

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


def record_collection(client: ClientAPI, name: str) -> Collection:
    """A collection that holds records rather than memories: read by id or field, never searched by vector.

    Chroma re-reads a collection's writes that its vector index has not yet taken in, up to its sync
    threshold (1,000), at every write: with journal records of up to 180 KB, an add took 36 ms at 250 of
    them; with a threshold of 10 it stays at 7 ms."""
    return client.get_or_create_collection(
        name, embedding_function=None, configuration={"hnsw": {"sync_threshold": 10, "batch_size": 10}}
    )


def first_added(collection: Collection, id_: str, metadata: dict[str, Any]) -> Any:
    """Add a record unless one of its id exists (Chroma keeps the first of two adds of an id and ignores the
    second); the metadata kept, the caller's if it came first. A record that vanished meanwhile reads as {}."""
    collection.add(ids=[id_], embeddings=place(), metadatas=[metadata])
    found = collection.get(ids=[id_], include=["metadatas"])["metadatas"]
    return found[0] if found else {}


def _record_id(namespace: str, number: int) -> str:
    return f"{namespace}/{number}"


def place() -> Any:
    """A vector for a record of a collection that is never searched (Chroma wants one with each record);
    random, as an HNSW graph of equal vectors has no order to insert by."""
    return [[random.random()]]


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
    return merged
