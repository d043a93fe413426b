"""Replaying another server's writes into this server's own keyword index and history log.

A change names records, never their words: each is read again from the shared store, so that what is
indexed here is what the store holds now, whatever order the changes arrive in and however many are
merged into one.
"""

from __future__ import annotations

from collections.abc import Callable

from mcp_memory.core.threads import ThreadPlacer, shelf_entries
from mcp_memory.storage.coordination import Change
from mcp_memory.storage.history import History
from mcp_memory.storage.keyword_index import KeywordIndex
from mcp_memory.storage.store import VectorStore

READ_AT_ONCE = 1000  # records read from the store in one call


class Follower:
    def __init__(
        self,
        store: VectorStore,
        keywords: KeywordIndex,
        history: History,
        threads: ThreadPlacer,
        rebuild: Callable[[str], object],
        *,
        thread_context: bool,
    ) -> None:
        self._store = store
        self._keywords = keywords
        self._history = history
        self._threads = threads
        self._rebuild = rebuild
        self._context = thread_context

    def __call__(self, change: Change) -> None:
        namespace = change.namespace
        self._threads.forget(namespace)  # a thread's tail may have moved on elsewhere
        if change.rebuild:
            self._rebuild(namespace)
        else:
            ids = sorted(change.ids)
            for start in range(0, len(ids), READ_AT_ONCE):
                self._refresh(namespace, ids[start : start + READ_AT_ONCE])
        if change.events or change.followed:
            self._history.replay(namespace, change.events, followed=change.followed)

    def _refresh(self, namespace: str, ids: list[str]) -> None:
        """Index the records of `ids` as the store holds them, and drop those it no longer holds."""
        live = self._store.get(namespace, ids, "live")
        superseded = self._store.get(namespace, ids, "superseded")
        # A live thread member's entry holds its predecessor's words: its thread is read whole.
        threads = sorted({r.thread for r in live if r.thread is not None})
        members = [m for thread in self._store.threads(namespace, threads).values() for m in thread]
        wanted = {r.id for r in live}
        alone = [r for r in live if r.thread is None]
        entries = shelf_entries([*members, *alone], "live", thread_context=self._context)
        self._keywords.add(namespace, [(i, text) for i, text in entries if i in wanted], "live")
        self._keywords.add(
            namespace, shelf_entries(superseded, "superseded", thread_context=self._context), "superseded"
        )
        kept = wanted | {r.id for r in superseded}
        self._keywords.delete(namespace, [i for i in ids if i not in kept])
