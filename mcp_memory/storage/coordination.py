"""`Coordination`: how the memory servers sharing a store take turns writing a namespace, and hear of each
other's writes.

A server's keyword index and history log are its own (files in its data directory), derived from what
was written. Alone on its store (Chroma in its data directory), a server writes everything itself, and
a lock of its own is all it needs: `SoleServer`. Several servers on one Chroma server (`SharedStore`,
in `chroma_coordination.py`) take turns per namespace through a lease kept in the store, and each write
turn leaves a `Change` in a journal there, which the others replay into their own indexes.

The store and the history log tell the coordination what a write turn changes (`note_ids` before each
write to the store, which every change of a keyword entry goes with; `note_events`). A turn's change is
published when the turn ends, whether or not the write finished: another server re-reads each record
named from the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from mcp_memory.storage.history import Event


@dataclass
class Change:
    """What one write turn did to a namespace, as another server needs to hear it: never any content."""

    namespace: str
    ids: set[str] = field(default_factory=set)  # records whose keyword entries changed (added, moved, deleted)
    events: list[Event] = field(default_factory=list)  # the history events logged, in order
    rebuild: bool = False  # the namespace's derived indexes are to be rebuilt from the store
    followed: tuple[str, int] | None = None  # replayed: the reader's cursor, and the last record it read

    @property
    def empty(self) -> bool:
        return not (self.ids or self.events or self.rebuild)


Follower = Callable[[Change], None]  # applies another server's change to this server's indexes


class Coordination(Protocol):
    def writing(self, namespace: str, *, publish: bool = True) -> AbstractContextManager[None]:
        """The namespace's write turn: no other writer, in this process or another server, holds it meanwhile.
        On entry, every change other servers published is applied first; on exit, what the turn changed is
        published for them. Without `publish` (a rebuild of this server's own indexes), only this process's
        writers are kept out, and nothing is published."""
        ...

    def catch_up(self, namespace: str) -> None:
        """Apply the changes other servers published to the namespace (a read calls it; cheap when none)."""
        ...

    def follow(self, follower: Follower) -> None:
        """Register what applies another server's change here."""
        ...

    def note_ids(self, namespace: str, ids: Sequence[str] | None) -> None:
        """The store is about to write the records of `ids` (None: to drop the namespace)."""
        ...

    def note_events(self, namespace: str, events: Sequence[Event]) -> None:
        """History events were logged."""
        ...


class SoleServer:
    """The only server on its store: one lock per process, and nobody to tell."""

    def __init__(self) -> None:
        # One for every namespace: writes are short, and some (purging, reindexing) span namespaces.
        self._lock = threading.RLock()

    @contextmanager
    def writing(self, namespace: str, *, publish: bool = True) -> Iterator[None]:
        with self._lock:
            yield

    def catch_up(self, namespace: str) -> None:
        pass

    def follow(self, follower: Follower) -> None:
        pass

    def note_ids(self, namespace: str, ids: Sequence[str] | None) -> None:
        pass

    def note_events(self, namespace: str, events: Sequence[Event]) -> None:
        pass
