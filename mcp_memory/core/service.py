"""`MemoryService`: remember, recall and forget. Every front end (MCP, CLI, benchmarks) calls this."""

from __future__ import annotations

import copy
import logging
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from mcp_memory.core import browsing
from mcp_memory.core.config import Settings
from mcp_memory.core.embedder import Embedder
from mcp_memory.core.errors import InvalidInput, NotFound
from mcp_memory.core.exporting import export_page
from mcp_memory.core.following import Follower
from mcp_memory.core.forgetting import Eraser
from mcp_memory.core.importing import Importer
from mcp_memory.core.models import (
    SHELVES,
    ExportPage,
    ForgetResult,
    ForgottenMemory,
    ImportResult,
    Kind,
    MemoryDetail,
    MemoryFilter,
    MemoryHistory,
    MemoryInput,
    MemoryPage,
    MemoryRecord,
    NamespaceOverview,
    RecallResult,
    RecentMemories,
    RememberResult,
    Scalar,
    StandingMemories,
    Stats,
    TopicBrief,
)
from mcp_memory.core.parts import Splitter
from mcp_memory.core.recalling import Retriever
from mcp_memory.core.remembering import Writer
from mcp_memory.core.threads import ThreadPlacer, shelf_entries
from mcp_memory.core.timeparse import parse_optional
from mcp_memory.core.validation import (
    MAX_RECALL,
    check_batch,
    check_ids,
    check_kind,
    check_limit,
    check_namespace,
    check_query,
    check_tags,
)
from mcp_memory.storage.coordination import Coordination, SoleServer
from mcp_memory.storage.history import History
from mcp_memory.storage.keyword_index import KeywordIndex
from mcp_memory.storage.store import VectorStore

log = logging.getLogger(__name__)


class MemoryService:
    """The memory library. The namespace is an argument of every call, chosen by the caller's edge."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        keywords: KeywordIndex,
        history: History,
        settings: Settings,
        coordination: Coordination | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._keywords = keywords
        self._history = history
        self._settings = settings
        # Writes to a namespace take turns, across every server sharing the store, so that later checks
        # (duplicates, thread order, superseding) see a stable store; what one server's turn changed is
        # replayed into the others' keyword indexes and history logs.
        self._turns = coordination or SoleServer()
        self._threads = ThreadPlacer(store, embedder.embed, context=settings.thread_context)
        history.watch(self._turns.note_events)
        self._turns.follow(
            Follower(store, keywords, history, self._threads, self._index, thread_context=settings.thread_context)
        )
        self._eraser = Eraser(store, keywords, history, self._threads)
        splitter = Splitter(embedder.count_tokens, embedder.window, settings.part_tokens)
        self._writer = Writer(store, embedder, keywords, history, self._threads, splitter, settings)
        self._retriever = Retriever(store, embedder, keywords, history, settings)
        self._importer = Importer(store, embedder, keywords, history, self._threads, splitter, self._writer)

    def tuned(self, history: History | None = None, **changes: object) -> MemoryService:
        """The same store and model under other ranking settings (fusion, weights), for comparisons;
        with its own `history`, its recalls reinforce nothing the others see."""
        tuned = copy.copy(self)  # the same store, turns and writer: only recall is tuned
        tuned._settings = self._settings.model_copy(update=changes)
        tuned._retriever = Retriever(
            self._store, self._embedder, self._keywords, history or self._history, tuned._settings
        )
        return tuned

    def remember(
        self,
        namespace: str,
        content: str,
        *,
        tags: Sequence[str] = (),
        kind: Kind | str = Kind.fact,
        importance: float | None = None,
        occurred_at: str | None = None,
        thread: str | None = None,
        metadata: dict[str, Scalar] | None = None,
        supersedes: Sequence[str] = (),
        ttl: str | None = None,
        expires_at: str | None = None,
        source: str = "unknown",
        now: datetime | None = None,
    ) -> RememberResult:
        item = MemoryInput(
            content=content,
            tags=list(tags),
            kind=kind,
            importance=importance,
            occurred_at=occurred_at,
            thread=thread,
            metadata=metadata or {},
            supersedes=list(supersedes),
            ttl=ttl,
            expires_at=expires_at,
        )
        return self.remember_many(namespace, [item], source=source, now=now)[0]

    def remember_many(
        self, namespace: str, items: Sequence[MemoryInput], *, source: str = "unknown", now: datetime | None = None
    ) -> list[RememberResult]:
        """Remember several memories with one batched embedding; all are checked before any is stored.

        The same words remembered again (case and white space aside) store nothing new: the existing
        memory is reinforced and its id returned with status 'duplicate'.
        """
        check_namespace(namespace)
        check_batch(items)
        now = now or datetime.now(UTC)
        records = [self._writer.record(item, source, now) for item in items]
        with self._turns.writing(namespace):
            try:
                return self._writer.write(namespace, records, source, now)
            except BaseException:
                self._threads.forget(namespace)
                raise

    def recall(
        self,
        namespace: str,
        query: str,
        *,
        limit: int = 5,
        tags: Sequence[str] | None = None,
        kind: Kind | str | None = None,
        since: str | None = None,
        until: str | None = None,
        include_superseded: bool = False,
        now: datetime | None = None,
        explain: bool = False,
        record_use: bool = True,
        source: str | None = None,
    ) -> RecallResult:
        """The memories best matching `query`: dense and keyword retrieval fused, then recency and importance.

        `since`/`until` take ISO 8601 or phrases such as 'last week', relative to `now`; `source` keeps the
        memories one host remembered. With
        `record_use`, each memory returned counts a use (reinforcement); without, recall writes nothing.
        """
        check_namespace(namespace)
        query = check_query(query)
        check_limit(limit, MAX_RECALL)
        now = now or datetime.now(UTC)
        where = self._conditions(tags=tags, kind=kind, source=source, since=since, until=until, now=now)
        shelves = SHELVES if include_superseded else SHELVES[:1]
        self._turns.catch_up(namespace)
        return self._retriever.recall(
            namespace, query, where, limit, shelves, now, explain=explain, record_use=record_use
        )

    def forget(
        self,
        namespace: str,
        ids: Sequence[str] | None = None,
        *,
        tags: Sequence[str] | None = None,
        kind: Kind | str | None = None,
        source: str | None = None,
        before: str | None = None,
        after: str | None = None,
        everything: bool = False,
        confirm: str | None = None,
        dry_run: bool = False,
        now: datetime | None = None,
    ) -> ForgetResult:
        """Erase memories, superseded ones included, from every index: by ids, by a filter, or all of a namespace.

        With `dry_run`, nothing changes: the answer lists what would be forgotten.
        """
        check_namespace(namespace)
        now = now or datetime.now(UTC)
        before_start = parse_optional(before, "before", now=now)  # before a day means before it starts
        where = self._filter(
            tags=tags,
            kind=kind,
            since=parse_optional(after, "after", now=now),
            until=before_start - timedelta(microseconds=1) if before_start else None,
            names=("after", "before"),
            source=source,
        )
        if ids is not None and not ids and (everything or not where.empty):
            ids = None  # hosts send empty lists for arguments they do not mean
        modes = [ids is not None, not where.empty, everything]
        if sum(modes) != 1:
            raise InvalidInput(
                "say what to forget in one way: ids; or a filter (tags, kind, source, before, after); "
                "or everything=true with confirm set to the namespace's name"
            )
        if everything and confirm != namespace:
            raise InvalidInput(
                f"forgetting every memory of namespace {namespace!r} cannot be undone: "
                f"pass confirm={namespace!r} to do it"
            )
        with self._turns.writing(namespace):
            memories, missing = self._selected(namespace, ids, where, everything)
            if dry_run:
                return ForgetResult(
                    forgotten=[m.id for m in memories], missing=missing, dry_run=True, memories=_previews(memories)
                )
            if everything:
                self._eraser.erase_namespace(namespace, memories, now)
            elif memories:
                self._eraser.erase(namespace, memories, "by id" if ids is not None else "by filter", now)
        return ForgetResult(forgotten=[m.id for m in memories], missing=missing)

    def history(self, namespace: str, memory_id: str) -> MemoryHistory:
        """What happened to a memory, oldest first: created, reinforced, updated, superseded, forgotten."""
        check_namespace(namespace)
        [memory_id] = check_ids([memory_id])
        self._turns.catch_up(namespace)
        events = self._history.events(namespace, memory_id)
        for shelf in SHELVES:
            if found := self._store.get(namespace, [memory_id], shelf):
                return MemoryHistory(id=memory_id, state=shelf, content=found[0].content, events=events)
        if not events:
            raise NotFound(f"no memory {memory_id} exists or existed in namespace {namespace!r}")
        gone = events[-1].event == "forgotten"
        return MemoryHistory(id=memory_id, state="forgotten" if gone else "unknown", content=None, events=events)

    def recent(
        self, namespace: str, limit: int = browsing.DEFAULT_RECENT, now: datetime | None = None
    ) -> RecentMemories:
        """The live memories remembered last, newest first; read from the history log, not by scanning the store."""
        check_namespace(namespace)
        check_limit(limit, browsing.MAX_RECENT)
        self._turns.catch_up(namespace)
        return browsing.recent(self._store, self._history, namespace, limit, now or datetime.now(UTC))

    def browse(
        self,
        namespace: str,
        *,
        tags: Sequence[str] | None = None,
        kind: Kind | str | None = None,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        offset: int = 0,
        limit: int = browsing.DEFAULT_RECENT,
        now: datetime | None = None,
    ) -> MemoryPage:
        """The live memories meeting a filter (tags, kind, source, time), latest first, a page at a time."""
        check_namespace(namespace)
        check_limit(limit, browsing.MAX_RECENT)
        if offset < 0:
            raise InvalidInput(f"offset {offset} is negative: pages start at 0")
        now = now or datetime.now(UTC)
        where = self._conditions(tags=tags, kind=kind, source=source, since=since, until=until, now=now)
        self._turns.catch_up(namespace)
        return browsing.browse(self._store, self._history, namespace, where, offset, limit, now)

    def memory(self, namespace: str, memory_id: str) -> MemoryDetail:
        """One memory, live or superseded, with every field: its links, thread, parts, expiry and use."""
        check_namespace(namespace)
        [memory_id] = check_ids([memory_id])
        self._turns.catch_up(namespace)
        return browsing.memory(self._store, self._history, namespace, memory_id)

    def overview(self, namespace: str, *, months: int = 12, now: datetime | None = None) -> NamespaceOverview:
        """Memories per month by kind and by host (the last `months` with any), and those expiring within 7 days."""
        check_namespace(namespace)
        check_limit(months, 120, "months")
        self._turns.catch_up(namespace)
        now = now or datetime.now(UTC)
        return browsing.overview(self._store, self._history, namespace, now, months=months, soon=timedelta(days=7))

    def neighbours(self, namespace: str, memory_id: str) -> list[MemoryDetail]:
        """A live thread member's neighbours: the memory before it and the one after, when there are."""
        check_namespace(namespace)
        [memory_id] = check_ids([memory_id])
        self._turns.catch_up(namespace)
        return browsing.neighbours(self._store, self._history, namespace, memory_id)

    def standing(self, namespace: str, now: datetime | None = None) -> StandingMemories:
        """The live preferences and instructions, most important and most used first, as one short text."""
        check_namespace(namespace)
        self._turns.catch_up(namespace)
        return browsing.standing(self._store, self._history, namespace, now or datetime.now(UTC))

    def brief(
        self,
        namespace: str,
        topic: str,
        *,
        limit: int = 10,
        record_use: bool = True,
        now: datetime | None = None,
    ) -> TopicBrief:
        """The memories `recall` finds for a topic, as a message a host can insert, each with its date and source.

        Those plainly unrelated to the topic are left out; with `record_use`, each one given counts a use.
        """
        if not topic.strip():
            raise InvalidInput("topic is empty: name what to recall, e.g. 'the billing service' or 'my diet'")
        now = now or datetime.now(UTC)
        recalled = self.recall(namespace, topic, limit=limit, record_use=False, now=now, explain=True)
        found = browsing.brief(topic.strip(), recalled)
        if record_use:
            self._history.touch(namespace, [m.id for m in found.memories], now)
        return found

    def export_page(
        self,
        namespace: str,
        cursor: str | None = None,
        *,
        limit: int = 500,
        vectors: bool = False,
        history: bool = False,
    ) -> ExportPage:
        """A page of the namespace's memories, live then superseded, each with every field; pass the page's
        `next` as `cursor` for the following one. Vectors and each memory's history on request."""
        check_namespace(namespace)
        self._turns.catch_up(namespace)
        pages = self._store, self._history
        page = export_page(*pages, namespace, cursor, limit, vectors=vectors, with_history=history)
        return page.model_copy(update={"model": self._embedder.name})

    def import_memories(
        self,
        namespace: str,
        items: Sequence[MemoryInput],
        *,
        model: str | None = None,
        check_only: bool = False,
        now: datetime | None = None,
    ) -> ImportResult:
        """Store memories from elsewhere with their ids, timestamps and sources (and, for `StoredMemory`, all
        else an export carries). Ids already here are left alone, so importing twice changes nothing.

        Vectors are kept only when `model` is this server's model; otherwise they are embedded again.
        What is invalid, expired, or the same words as a current memory is skipped, and said. With
        `check_only`, nothing is stored: the answer lists only what would be skipped as invalid.
        """
        check_namespace(namespace)
        check_batch(items)
        now = now or datetime.now(UTC)
        if model != self._embedder.name:
            items = [item.without_vectors() for item in items]
        arrivals, skipped = self._importer.check(items, now)
        if check_only:
            return ImportResult(skipped=skipped)
        ahead = self._importer.prepare(namespace, arrivals, now)  # the model runs outside the turn
        with self._turns.writing(namespace):
            try:
                result = self._importer.write(namespace, arrivals, now, ahead)
            finally:
                self._threads.forget(namespace)
        result.skipped = sorted([*skipped, *result.skipped], key=lambda s: s.index)
        return result

    def purge_expired(self, now: datetime | None = None) -> dict[str, int]:
        """Erase every memory whose time to live is over; the count per namespace that had any."""
        now = now or datetime.now(UTC)
        purged = {}
        for namespace in self._store.namespaces():
            if not any(self._store.expired(namespace, now, shelf) for shelf in SHELVES):
                continue  # looked at first, so that a namespace with nothing expired takes no turn
            with self._turns.writing(namespace):
                expired = [m for shelf in SHELVES for m in self._store.expired(namespace, now, shelf)]
                if expired:
                    self._eraser.erase(namespace, expired, "expired", now)
                    purged[namespace] = len(expired)
        return purged

    def flush(self) -> None:
        """Commit what the keyword index holds uncommitted, and close its writers: before the store is let go."""
        self._keywords.flush()

    def warm(self) -> None:
        """Prepare every namespace's searches, so that the first filtered recall of each is as fast as the rest."""
        for namespace in self._store.namespaces():
            self._store.warm(namespace)

    def stats(self, only: Collection[str] | None = None) -> Stats:
        """Memories per namespace: every namespace this model can open, or those of `only`."""
        names = [ns for ns in self._store.namespaces() if only is None or ns in only]
        counts = {ns: self._store.count(ns) for ns in names}
        return Stats(data_dir=str(self._settings.data_dir), embedding_model=self._embedder.name, namespaces=counts)

    def reindex(self, namespaces: Sequence[str] | None = None) -> dict[str, int]:
        """Rebuild the keyword index from the vector store; the memories indexed per namespace.

        Live and superseded memories both count; a long memory counts once, its parts indexed with it.
        """
        indexed = {}
        for namespace in [check_namespace(ns) for ns in namespaces or self._store.namespaces()]:
            with self._turns.writing(namespace, publish=False):  # this server's index alone: nothing to tell
                indexed[namespace] = self._index(namespace)
        return indexed

    def _index(self, namespace: str) -> int:
        """Rebuild the namespace's keyword index (the caller holds its turn, or applies another server's
        change); the memories indexed."""
        self._keywords.drop(namespace)
        memories: set[str] = set()  # a memory a crash left on both shelves is indexed, and counted, once
        for shelf in SHELVES:
            records = [r for batch in self._store.scan(namespace, shelf) for r in batch]
            entries = shelf_entries(records, shelf, thread_context=self._settings.thread_context)
            self._keywords.add(namespace, entries, shelf)
            memories.update(r.id for r in records if not r.part_of)
        return len(memories)

    def repair(self) -> list[str]:
        """Finish what a crash interrupted: moves to the superseded shelf, and keyword indexing.

        Reindexes the namespaces whose keyword index disagrees with the store; returns them.
        """
        names = self._store.namespaces()
        for namespace in names:  # first what other servers sharing the store did meanwhile
            self._turns.catch_up(namespace)
        # A move cut short leaves a memory on both shelves, so its namespace disagrees too.
        stale = [
            ns for ns in names if self._keywords.unfinished(ns) or self._keywords.count(ns) != self._store.size(ns)
        ]
        if stale:
            log.warning("rebuilding the keyword index of %s", ", ".join(stale))
        for namespace in stale:
            with self._turns.writing(namespace):  # a write to the store: other servers hear of it
                moved = [r.id for batch in self._store.scan(namespace, "superseded") for r in batch]
                if twice := [r.id for r in self._store.get(namespace, moved, "live")]:
                    log.warning("finishing the superseding of %d memories in %s", len(twice), namespace)
                    self._store.delete(namespace, twice, "live")
            with self._turns.writing(namespace, publish=False):
                self._index(namespace)
        return stale

    def _conditions(
        self,
        *,
        tags: Sequence[str] | None,
        kind: Kind | str | None,
        source: str | None,
        since: str | None,
        until: str | None,
        now: datetime,
    ) -> MemoryFilter:
        """What a recall or a listing keeps: `since`/`until` are ISO 8601 or phrases, relative to `now`."""
        return self._filter(
            tags=tags,
            kind=kind,
            since=parse_optional(since, "since", now=now),
            until=parse_optional(until, "until", end_of_period=True, now=now),
            names=("since", "until"),
            source=source,
        )

    @staticmethod
    def _filter(
        *,
        tags: Sequence[str] | None,
        kind: Kind | str | None,
        since: datetime | None,
        until: datetime | None,
        names: tuple[str, str],
        source: str | None = None,
    ) -> MemoryFilter:
        """The conditions of a recall or a forget; `names` are the caller's words for the time bounds."""
        if since and until and since > until:
            raise InvalidInput(f"{names[0]} is later than {names[1]}: swap them or widen the range")
        return MemoryFilter(
            tags=check_tags(tuple(tags or ())),
            kind=check_kind(kind) if kind is not None else None,
            since=since,
            until=until,
            source=source or None,
        )

    def _selected(
        self, namespace: str, ids: Sequence[str] | None, where: MemoryFilter, everything: bool
    ) -> tuple[list[MemoryRecord], list[str]]:
        """The memories a forget names, on either shelf, and the ids it named that do not exist."""
        if ids is not None:
            wanted = check_ids(list(ids))
            found = {r.id: r for shelf in SHELVES for r in self._store.get(namespace, wanted, shelf) if not r.part_of}
            if not found:
                raise NotFound(
                    f"none of the ids {', '.join(wanted[:5])} exist in namespace {namespace!r}: "
                    "recall first to find the ids of what to forget"
                )
            return [found[i] for i in wanted if i in found], [i for i in wanted if i not in found]
        if everything:
            every = [r for shelf in SHELVES for batch in self._store.scan(namespace, shelf) for r in batch]
            return [r for r in every if not r.part_of], []
        return [r for shelf in SHELVES for r in self._store.find(namespace, where, shelf)], []


def _previews(memories: Sequence[MemoryRecord]) -> list[ForgottenMemory]:
    return [ForgottenMemory(id=m.id, content=m.content, kind=m.kind, created_at=m.created_at) for m in memories]
