"""The one way into the service for every front end of the owner (MCP tools, web pages).

`MemoryRuntime` enforces each caller's principal, runs the service off the event loop and counts the
calls under way for a graceful stop; `ServiceLoader` opens the heavy resources once per process, in
the background, so the MCP handshake never waits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from mcp_memory.core.config import Settings
from mcp_memory.core.errors import MemoryServerError, ShuttingDown
from mcp_memory.core.models import (
    ExportPage,
    ForgetResult,
    ImportResult,
    MemoryDetail,
    MemoryHistory,
    MemoryInput,
    MemoryPage,
    NamespaceOverview,
    OwnerInfo,
    OwnerStatus,
    RecallResult,
    RecentMemories,
    RememberManyResult,
    RememberResult,
    StandingMemories,
    TopicBrief,
)
from mcp_memory.core.principal import Caller
from mcp_memory.core.service import MemoryService

log = logging.getLogger(__name__)
T = TypeVar("T")


def open_service(settings: Settings) -> MemoryService:
    """The service on its configured model and store: seconds of imports and model loading."""
    import threadpoolctl

    from mcp_memory.core.embedder import load_embedder
    from mcp_memory.storage.chroma_store import configured_store
    from mcp_memory.storage.history import History
    from mcp_memory.storage.keyword_index import KeywordIndex

    # Numpy's BLAS on one thread: its threads spin after each product (the filter index scores thousands of
    # vectors at once) and took the cores from the model's next query, which ran 6 ms slower; filtered
    # recall's median at 100,000 memories went from 30 to 22 ms.
    threadpoolctl.threadpool_limits(1, user_api="blas")
    embedder = load_embedder(settings.embedding_model, settings.embedding_backend, settings.model_cache_dir)
    store = configured_store(settings, model_name=embedder.name, dimension=embedder.dimension)
    keywords = KeywordIndex.beside(settings.data_dir)
    history = History(settings.data_dir / "history.sqlite3")
    service = MemoryService(store, embedder, keywords, history, settings, store.coordination(history))
    service.repair()
    try:
        service.purge_expired()
    except MemoryServerError:  # the owner's timer tries again; loading must not fail for it
        log.exception("purging expired memories at start failed")
    return service


class ServiceLoader:
    """Starts `open_service` on a daemon thread; callers await the service when they need it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._future: Future[MemoryService] = Future()

    def start(self) -> ServiceLoader:
        # A daemon thread, so a host that closes stdio during loading does not wait for the model.
        threading.Thread(target=self._load, name="mcp-memory-loader", daemon=True).start()
        return self

    def _load(self) -> None:
        try:
            service = open_service(self._settings)
        except BaseException as exc:
            self._future.set_exception(exc)
            return
        self._future.set_result(service)  # ready: what follows only spares later calls a wait
        try:
            service.warm()
        except MemoryServerError:
            log.exception("preparing searches at start failed; they are prepared at first use instead")

    @property
    def ready(self) -> bool:
        return self._future.done() and self._future.exception() is None

    async def get(self) -> MemoryService:
        if self._future.done():
            return self._future.result()
        # Abandoning the wait on cancellation is safe: the thread only waits on the future.
        return await anyio.to_thread.run_sync(self._future.result, abandon_on_cancel=True)


class CallTracker:
    """Counts service calls under way, so a shutdown can let them finish before it cancels anything."""

    def __init__(self) -> None:
        self._active = 0
        self._idle = anyio.Event()
        self._idle.set()
        self._closed = False

    def close(self) -> None:
        """Refuse calls from now on: the server is stopping."""
        self._closed = True

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        if self._closed:
            raise ShuttingDown("the mcp-memory server is stopping: call again in a moment")
        if self._active == 0:
            self._idle = anyio.Event()
        self._active += 1
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def drained(self, timeout: float) -> bool:
        """Wait, at most `timeout` seconds, until no call is under way; True if none is."""
        with anyio.move_on_after(timeout):
            await self._idle.wait()
        return self._active == 0


class MemoryRuntime:
    """What a caller may do with the memory, checked here and nowhere else; the service stays unaware of callers."""

    def __init__(self, loader: ServiceLoader, calls: CallTracker, about: OwnerInfo) -> None:
        self.loader = loader
        self.calls = calls
        self._about = about

    async def remember(self, caller: Caller, content: str, **options: Any) -> RememberResult:
        return await self._run(
            caller, "remember", lambda s, ns: s.remember(ns, content, source=caller.source, **options), write=True
        )

    async def remember_many(self, caller: Caller, items: Sequence[MemoryInput]) -> RememberManyResult:
        def remember(service: MemoryService, namespace: str) -> RememberManyResult:
            return RememberManyResult(memories=service.remember_many(namespace, items, source=caller.source))

        return await self._run(caller, "remember", remember, write=True)

    async def recall(self, caller: Caller, query: str, *, record_use: bool = True, **options: Any) -> RecallResult:
        # A read-only caller's recalls leave no trace: use counts are a write.
        counted = record_use and caller.principal.can_write
        return await self._run(caller, "recall", lambda s, ns: s.recall(ns, query, record_use=counted, **options))

    async def forget(self, caller: Caller, ids: Sequence[str] | None, **options: Any) -> ForgetResult:
        return await self._run(caller, "forget", lambda s, ns: s.forget(ns, ids, **options), write=True)

    async def history(self, caller: Caller, memory_id: str) -> MemoryHistory:
        return await self._run(caller, "read history", lambda s, ns: s.history(ns, memory_id))

    async def recent(self, caller: Caller, **options: Any) -> RecentMemories:
        return await self._run(caller, "read recent memories", lambda s, ns: s.recent(ns, **options))

    async def browse(self, caller: Caller, **options: Any) -> MemoryPage:
        return await self._run(caller, "read memories", lambda s, ns: s.browse(ns, **options))

    async def memory(self, caller: Caller, memory_id: str) -> MemoryDetail:
        return await self._run(caller, "read a memory", lambda s, ns: s.memory(ns, memory_id))

    async def overview(self, caller: Caller, **options: Any) -> NamespaceOverview:
        return await self._run(caller, "read memories", lambda s, ns: s.overview(ns, **options))

    async def neighbours(self, caller: Caller, memory_id: str) -> list[MemoryDetail]:
        return await self._run(caller, "read a memory", lambda s, ns: s.neighbours(ns, memory_id))

    async def standing(self, caller: Caller) -> StandingMemories:
        return await self._run(caller, "read standing memories", lambda s, ns: s.standing(ns))

    async def brief(self, caller: Caller, topic: str, **options: Any) -> TopicBrief:
        # As recall: a read-only caller's brief leaves no trace in the use counts.
        record_use = caller.principal.can_write
        return await self._run(caller, "recall", lambda s, ns: s.brief(ns, topic, record_use=record_use, **options))

    async def export_page(self, caller: Caller, cursor: str | None, **options: Any) -> ExportPage:
        return await self._run(caller, "export", lambda s, ns: s.export_page(ns, cursor, **options))

    async def import_memories(
        self, caller: Caller, memories: Sequence[MemoryInput], *, check_only: bool = False, **options: Any
    ) -> ImportResult:
        return await self._run(
            caller,
            "import",
            lambda s, ns: s.import_memories(ns, memories, check_only=check_only, **options),
            write=not check_only,
        )

    async def status(self, caller: Caller) -> OwnerStatus:
        """The owner and its memories per namespace, of the namespaces the caller holds only; where the
        data lives is shown to local callers alone."""
        held = caller.principal.namespaces
        about = self._about.model_dump() | ({} if held is None else {"data_dir": None, "socket": None})
        try:
            async with self.calls.track():
                service = await self.loader.get()
                stats = await anyio.to_thread.run_sync(service.stats, held)
        except MemoryServerError as exc:
            return OwnerStatus(**about, ready=False, error=str(exc))
        return OwnerStatus(**about, ready=True, embedding_model=stats.embedding_model, namespaces=stats.namespaces)

    async def _run(
        self, caller: Caller, action: str, operation: Callable[[MemoryService, str], T], *, write: bool = False
    ) -> T:
        namespace = caller.namespace()  # refuses a namespace the caller does not hold
        if write:
            caller.principal.require_write(action)
        async with self.calls.track():
            service = await self.loader.get()
            return await anyio.to_thread.run_sync(operation, service, namespace)
