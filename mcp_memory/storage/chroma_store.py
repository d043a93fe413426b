"""`VectorStore` on Chroma: two collections per namespace (live, superseded), cosine space, our own embeddings."""

from __future__ import annotations

import copy
import functools
import logging
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from mcp_memory.core.config import Settings
from mcp_memory.core.errors import ModelMismatch, StorageError
from mcp_memory.core.models import MemoryFilter, MemoryRecord, ScoredRecord, Shelf
from mcp_memory.storage.chroma_coordination import Cursors, SharedStore
from mcp_memory.storage.chroma_errors import translated as _translated
from mcp_memory.storage.chroma_filters import FilterIndexes
from mcp_memory.storage.chroma_metadata import CONTENT, to_metadata, to_record, to_where
from mcp_memory.storage.chroma_search import filtered_query
from mcp_memory.storage.coordination import Coordination, SoleServer
from mcp_memory.storage.store import CollectionInfo

PREFIXES: dict[Shelf, str] = {"live": "mem-", "superseded": "old-"}
# A re-embedding's staging copies; no namespace's own collection name starts so.
STAGING: dict[Shelf, str] = {"live": "stage-mem-", "superseded": "stage-old-"}
MARK = "reembedding"  # the collection metadata key of a re-embedding's mark
IS_PART: Any = {"part": {"$gte": 0}}  # only parts carry a part number
THREADS_AT_ONCE = 5_000  # threads read in one query
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChromaServer:
    """A Chroma server (`chroma run`, or Chroma's distributed deployment) to keep memories in, instead of
    Chroma embedded in the data directory: several memory servers can share it."""

    url: str  # http://host:port, or https:// for TLS
    token: str | None = None  # sent as "Authorization: Bearer ..." (to the proxy that guards the server)
    ca_file: Path | None = None  # CA certificates to check an https server against; else the system's

    def client(self) -> ClientAPI:
        address = urlsplit(self.url)
        if address.scheme not in ("http", "https") or not address.hostname or address.path not in ("", "/"):
            raise StorageError(f"the Chroma server's URL must be http(s)://host[:port], not {self.url!r}")
        secure = address.scheme == "https"
        settings = _offline_settings()
        if secure and self.ca_file is not None:
            # httpx takes a context (a path is deprecated); the settings field is typed for the path only.
            settings.chroma_server_ssl_verify = _tls_context(self.ca_file)  # type: ignore[assignment]
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        return chromadb.HttpClient(
            host=address.hostname,
            port=address.port or (443 if secure else 8000),
            ssl=secure,
            headers=headers,
            settings=settings,
        )


@functools.cache
def _tls_context(ca_file: Path) -> ssl.SSLContext:
    """One context per CA file: Chroma shares a client among equal settings, and refuses unequal ones."""
    return ssl.create_default_context(cafile=str(ca_file))


def configured_store(settings: Settings, *, model_name: str, dimension: int) -> ChromaStore:
    """The store the settings name: a Chroma server's, when given a URL, else Chroma in the data directory."""
    server = None
    if settings.chroma_url:
        server = ChromaServer(settings.chroma_url, settings.chroma_token, settings.chroma_ca_file)
    return ChromaStore(
        settings.data_dir, model_name=model_name, dimension=dimension, search_ef=settings.hnsw_search_ef, server=server
    )


class ChromaStore:
    """Chroma embedded on local disk, or a Chroma server; one instance per memory server process."""

    def __init__(
        self, path: Path, *, model_name: str, dimension: int, search_ef: int = 100, server: ChromaServer | None = None
    ) -> None:
        self._model_name = model_name
        self._dimension = dimension
        self._search_ef = search_ef
        self._collections: dict[tuple[str, Shelf], Collection] = {}
        self._cache_lock = threading.Lock()
        self._foreign: set[str] = set()  # namespaces of another model, already reported
        # Other in the views that `on_model` and `staging` make.
        self._prefixes: dict[Shelf, str] = PREFIXES
        self._mark: str | None = None
        self._reembedding = False  # whether it reads what a re-embedding marked
        with self._translated("open the store"):
            if server is None:
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path / "chroma"), settings=_offline_settings())
            else:
                self._client = server.client()
        # Shared with the views: a write through any of them keeps the filter indexes current. A server's
        # collections are written by other memory servers too, which these indexes would not see.
        self._filters = FilterIndexes(path / "chroma" / "chroma.sqlite3" if server is None else None)
        self._shared = server is not None
        self._watcher: Callable[[str, Sequence[str] | None], None] | None = None

    def coordination(self, cursors: Cursors) -> Coordination:
        """How writes to this store take turns: alone in the data directory, or with every memory server
        sharing the Chroma server (each keeping how far it followed the others in `cursors`). It is told of
        the ids of every record written, before each write."""
        coordination: Coordination = SharedStore(self._client, cursors) if self._shared else SoleServer()
        self._watcher = coordination.note_ids
        return coordination

    def add(
        self, namespace: str, records: Sequence[MemoryRecord], embeddings: Sequence[list[float]], shelf: Shelf = "live"
    ) -> None:
        if not records:
            return
        collection = self._collection(namespace, shelf, create=True)
        assert collection is not None
        self._writing(namespace, [r.id for r in records])
        with self._translated("store the memory"):
            collection.add(**_columns(records, embeddings))
        self._filters.put(collection, records, embeddings)

    def query(
        self,
        namespace: str,
        embedding: list[float],
        limit: int,
        where: MemoryFilter | None = None,
        shelf: Shelf = "live",
    ) -> list[ScoredRecord]:
        if where is None or where.empty:
            return self._query(namespace, [embedding], limit, None, shelf)[0]
        collection = self._collection(namespace, shelf)
        if collection is None:
            return []
        with self._translated("search the store"):
            if (index := self._filters.of(collection)) is not None:
                return filtered_query(collection, index, embedding, limit, where)
        return self._query(namespace, [embedding], limit, where, shelf)[0]

    def query_many(
        self, namespace: str, embeddings: Sequence[list[float]], limit: int, shelf: Shelf = "live"
    ) -> list[list[ScoredRecord]]:
        return self._query(namespace, embeddings, limit, None, shelf) if embeddings else []

    def _query(
        self,
        namespace: str,
        embeddings: Sequence[list[float]],
        limit: int,
        where: MemoryFilter | None,
        shelf: Shelf,
    ) -> list[list[ScoredRecord]]:
        collection = self._collection(namespace, shelf)
        if collection is None:
            return [[] for _ in embeddings]
        with self._translated("search the store"):
            found = collection.query(
                query_embeddings=_vectors(embeddings),
                n_results=limit,
                where=to_where(where) if where else None,
                include=["documents", "metadatas", "distances"],
            )
        columns = zip(found["ids"], found["documents"], found["metadatas"], found["distances"], strict=True)  # type: ignore[arg-type]
        return [
            [ScoredRecord(to_record(i, doc, meta), 1.0 - float(dist)) for i, doc, meta, dist in zip(*c, strict=True)]
            for c in columns
        ]

    def get(self, namespace: str, ids: Sequence[str], shelf: Shelf = "live") -> list[MemoryRecord]:
        return [record for record, _ in self._get(namespace, shelf, ids=list(ids))] if ids else []

    def get_with_embeddings(
        self, namespace: str, ids: Sequence[str], shelf: Shelf = "live", where: MemoryFilter | None = None
    ) -> list[tuple[MemoryRecord, list[float]]]:
        if ids and where is not None and not where.empty:  # read in full only what may meet the filter
            collection = self._collection(namespace, shelf)
            if collection is not None and (index := self._filters.of(collection)) is not None:
                ids = [i for i, admitted in zip(ids, index.admits(where, ids), strict=True) if admitted]
        if not ids:
            return []
        return [(r, v) for r, v in self._get(namespace, shelf, ids=list(ids), embeddings=True) if v is not None]

    def find(self, namespace: str, where: MemoryFilter, shelf: Shelf = "live") -> list[MemoryRecord]:
        return _memories(self._get(namespace, shelf, where=to_where(where)))

    def browse(self, namespace: str, where: MemoryFilter, offset: int, limit: int) -> tuple[list[MemoryRecord], int]:
        collection = self._collection(namespace, "live")
        if collection is None:
            return [], 0
        with self._translated("read the filter index"):
            index = self._filters.of(collection)
        if index is None:  # on a Chroma server: Chroma filters, and every memory that passes is read
            found = sorted(self.find(namespace, where, "live"), key=lambda r: r.effective_time, reverse=True)
            return found[offset : offset + limit], len(found)
        # The index orders and pages without reading a record; only the page is read from Chroma.
        ids, total = index.newest(index.select(where), offset, limit)
        records = {r.id: r for r, _ in self._get(namespace, "live", ids=ids)} if ids else {}
        return [records[i] for i in ids if i in records and where.matches(records[i])], total

    def tally(self, namespace: str) -> list[tuple[str, str, str, int]]:
        collection = self._collection(namespace, "live")
        if collection is None:
            return []
        with self._translated("read the filter index"):
            index = self._filters.of(collection)
        if index is not None:
            return index.tally()
        counted = Counter(  # on a Chroma server: every memory's fields are read
            (f"{r.effective_time:%Y-%m}", r.kind.value, r.source) for r in self.find(namespace, MemoryFilter())
        )
        return sorted((*key, count) for key, count in counted.items())

    def find_hashes(self, namespace: str, hashes: Sequence[str]) -> list[MemoryRecord]:
        if not hashes:
            return []
        return _memories(self._get(namespace, "live", where={"content_hash": {"$in": list(hashes)}}))

    def expired(self, namespace: str, now: datetime, shelf: Shelf = "live") -> list[MemoryRecord]:
        return _memories(self._get(namespace, shelf, where={"expires_ts": {"$lte": now.timestamp()}}))

    def update(self, namespace: str, records: Sequence[MemoryRecord], shelf: Shelf = "live") -> None:
        collection = self._collection(namespace, shelf)
        if collection is not None and records:
            self._writing(namespace, [r.id for r in records])
            # Chroma merges metadata on update: a field cleared must be sent as None to go.
            with self._translated("update the memory"):
                collection.update(
                    ids=[r.id for r in records], metadatas=[to_metadata(r, cleared=True) for r in records]
                )
            self._filters.put(collection, records)

    def update_embeddings(self, namespace: str, embeddings: dict[str, list[float]]) -> None:
        collection = self._collection(namespace, "live")
        if collection is not None and embeddings:
            self._writing(namespace, list(embeddings))
            with self._translated("update embeddings"):
                collection.update(ids=list(embeddings), embeddings=_vectors(list(embeddings.values())))
            self._filters.set_vectors(collection, embeddings)

    def move(
        self,
        namespace: str,
        records: Sequence[MemoryRecord],
        to: Shelf,
        embeddings: dict[str, list[float]] | None = None,
    ) -> None:
        source: Shelf = "superseded" if to == "live" else "live"
        vectors = {r.id: v for r, v in self.get_with_embeddings(namespace, [r.id for r in records], source)}
        vectors |= {i: v for i, v in (embeddings or {}).items() if i in vectors}
        present = [r for r in records if r.id in vectors]
        if not present:
            return
        target = self._collection(namespace, to, create=True)
        assert target is not None
        # Written to the target first: a crash in between leaves a copy on both shelves, never none.
        self._writing(namespace, [r.id for r in present])
        with self._translated("move memories"):
            target.upsert(**_columns(present, [vectors[r.id] for r in present]))
        self._filters.put(target, present, [vectors[r.id] for r in present])
        self.delete(namespace, [r.id for r in present], source)

    def thread(self, namespace: str, thread: str) -> list[MemoryRecord]:
        return self.threads(namespace, [thread]).get(thread, [])

    def threads(self, namespace: str, threads: Sequence[str]) -> dict[str, list[MemoryRecord]]:
        if not threads:
            return {}
        # One read for many: each read scans the metadata (~20 ms at 100,000 records), whatever it finds. In
        # pieces, as SQLite takes at most 32,766 values in one statement.
        records: list[MemoryRecord] = []
        for start in range(0, len(threads), THREADS_AT_ONCE):
            names = list(threads[start : start + THREADS_AT_ONCE])
            where = {"thread": names[0]} if len(names) == 1 else {"thread": {"$in": names}}
            records += _memories(self._get(namespace, "live", where=where))
        found: dict[str, list[MemoryRecord]] = {}
        for record in sorted(records, key=lambda r: r.thread_seq or 0):
            found.setdefault(record.thread or "", []).append(record)
        return found

    def scan(self, namespace: str, shelf: Shelf = "live", batch: int = 1000) -> Iterator[list[MemoryRecord]]:
        offset = 0
        while rows := self.page(namespace, shelf, offset, batch):
            yield [record for record, _ in rows]
            offset += len(rows)

    def page(
        self, namespace: str, shelf: Shelf, offset: int, limit: int, *, embeddings: bool = False
    ) -> list[tuple[MemoryRecord, list[float] | None]]:
        return self._get(namespace, shelf, limit=limit, offset=offset, embeddings=embeddings)

    def delete(self, namespace: str, ids: Sequence[str], shelf: Shelf = "live") -> None:
        collection = self._collection(namespace, shelf)
        if collection is not None and ids:
            self._writing(namespace, ids)
            # Out of the filter index first, and again after: a search meanwhile never asks Chroma for a gone id.
            self._filters.remove(collection, ids)
            with self._translated("delete from the store"):
                collection.delete(ids=list(ids))
            self._filters.remove(collection, ids)

    def count(self, namespace: str, shelf: Shelf = "live") -> int:
        collection = self._collection(namespace, shelf)
        if collection is None:
            return 0
        with self._translated("count the store"):
            return collection.count() - len(collection.get(where=IS_PART, include=[])["ids"])

    def size(self, namespace: str) -> int:
        total = 0
        for shelf in PREFIXES:
            if (collection := self._collection(namespace, shelf)) is not None:
                with self._translated("count the store"):
                    total += collection.count()
        return total

    def warm(self, namespace: str) -> None:
        for shelf in self._prefixes:
            if (collection := self._collection(namespace, shelf)) is not None:
                with self._translated("read the filter index"):
                    self._filters.ready(collection)

    def drop(self, namespace: str) -> None:
        self._writing(namespace, None)
        with self._cache_lock:  # so that no concurrent call caches a collection being deleted
            for shelf, prefix in self._prefixes.items():
                if (dropped := self._collections.pop((namespace, shelf), None)) is not None:
                    self._filters.forget(dropped)
                with _translated("delete the namespace"), suppress(chromadb.errors.NotFoundError, ValueError):
                    self._client.delete_collection(prefix + namespace)

    def namespaces(self) -> list[str]:
        with self._translated("list namespaces"):
            collections = [(c.name, c.metadata or {}) for c in self._client.list_collections()]
        found: dict[str, bool] = {}
        for name, metadata in collections:
            for prefix in PREFIXES.values():
                if name.startswith(prefix):
                    namespace = name.removeprefix(prefix)
                    found[namespace] = found.get(namespace, True) and self._same_model(metadata)
        for namespace in sorted(ns for ns, usable in found.items() if not usable and ns not in self._foreign):
            self._foreign.add(namespace)  # said once: each purge lists the namespaces again
            log.warning("namespace %s was embedded with another model: left alone until served by it", namespace)
        return sorted(ns for ns, usable in found.items() if usable)

    def collections(self, namespace: str | None = None) -> list[CollectionInfo]:
        with self._translated("list namespaces"):
            listed = [(c.name, c.metadata or {}) for c in self._client.list_collections()]
        found = [
            _info(name.removeprefix(prefix), shelf, staging, metadata)
            for name, metadata in listed
            for staging, prefixes in ((False, PREFIXES), (True, STAGING))
            for shelf, prefix in prefixes.items()
            if name.startswith(prefix) and namespace in (None, name.removeprefix(prefix))
        ]
        return sorted(found, key=lambda c: (c.namespace, c.staging, c.shelf))

    def on_model(self, model: str, dimension: int) -> ChromaStore:
        return self._view(model, dimension, PREFIXES, None)

    def staging(self, namespace: str, model: str, dimension: int, mark: str) -> ChromaStore:
        view = self._view(model, dimension, STAGING, mark)
        found = self.collections(namespace)
        if any(c.staging and (c.model, c.dimension, c.mark) != (model, dimension, mark) for c in found):
            view.drop(namespace)
        for shelf in {c.shelf for c in found if not c.staging}:
            view._collection(namespace, shelf, create=True)
        return view

    def swap_in(self, namespace: str) -> None:
        with self._cache_lock:
            # The live shelf last: until its copy is in, its own (marked) shelf keeps every server out.
            for shelf in ("superseded", "live"):
                prefix = PREFIXES[shelf]
                if (replaced := self._collections.pop((namespace, shelf), None)) is not None:
                    self._filters.forget(replaced)
                with _translated("swap in the re-embedded namespace"):
                    try:
                        staged = self._client.get_collection(STAGING[shelf] + namespace, embedding_function=None)
                    except (chromadb.errors.NotFoundError, ValueError):
                        continue
                    with suppress(chromadb.errors.NotFoundError, ValueError):
                        self._client.delete_collection(prefix + namespace)
                    staged.modify(name=prefix + namespace)

    def mark(self, namespace: str, mark: str | None, *, staging: bool = False) -> None:
        for prefix in (STAGING if staging else PREFIXES).values():
            with self._translated("mark the re-embedding"), suppress(chromadb.errors.NotFoundError, ValueError):
                collection = self._client.get_collection(prefix + namespace, embedding_function=None)
                metadata = dict(collection.metadata or {})
                if metadata.pop(MARK, None) != mark:
                    collection.modify(metadata=metadata | ({MARK: mark} if mark else {}))

    def _view(self, model: str, dimension: int, prefixes: dict[Shelf, str], mark: str | None) -> ChromaStore:
        """This store's client seen as another model's, on its shelves or on staging copies."""
        view = copy.copy(self)
        view._model_name, view._dimension, view._prefixes, view._mark = model, dimension, prefixes, mark
        view._reembedding = True
        view._collections, view._cache_lock, view._foreign = {}, threading.Lock(), set()
        return view

    def _writing(self, namespace: str, ids: Sequence[str] | None) -> None:
        """Tell the coordination which records a write is about to change (None: the whole namespace)."""
        if self._watcher is not None:
            self._watcher(namespace, ids)

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """Chroma's errors as the project's own; a collection found gone (another server dropped its
        namespace, or made it anew) is forgotten, so that the next call opens it again by name. Not for
        use under the cache lock, which it takes."""
        try:
            with _translated(action):
                yield
        except StorageError as exc:
            if isinstance(exc.__cause__, chromadb.errors.NotFoundError):
                with self._cache_lock:
                    self._collections.clear()
            raise

    def _get(
        self,
        namespace: str,
        shelf: Shelf,
        *,
        ids: list[str] | None = None,
        where: dict[str, Any] | None = None,
        embeddings: bool = False,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[tuple[MemoryRecord, list[float] | None]]:
        collection = self._collection(namespace, shelf)
        if collection is None:
            return []
        include: list[Any] = ["documents", "metadatas", *(["embeddings"] if embeddings else [])]
        with self._translated("read the store"):
            found = collection.get(ids=ids, where=where, include=include, limit=limit, offset=offset)
        vectors = found["embeddings"] if embeddings else [None] * len(found["ids"])
        rows = zip(found["ids"], found["documents"], found["metadatas"], vectors, strict=True)  # type: ignore[arg-type]
        return [(to_record(i, doc, meta), None if v is None else list(v)) for i, doc, meta, v in rows]

    def _collection(self, namespace: str, shelf: Shelf, *, create: bool = False) -> Collection | None:
        with self._cache_lock:
            opened = (namespace, shelf) not in self._collections
            collection = self._open(namespace, shelf, create)
        if create and opened and collection is not None:
            with self._translated("open the namespace"):
                if collection.count() == 0:
                    # An index read now is empty and instant, and every write keeps it whole from the first: a
                    # new namespace's filtered recalls never wait for a read of its records or their vectors.
                    # (Read outside the cache lock: another collection's index may be being read.)
                    self._filters.of(collection)
        return collection

    def _open(self, namespace: str, shelf: Shelf, create: bool) -> Collection | None:
        if (namespace, shelf) in self._collections:
            return self._collections[(namespace, shelf)]
        name = self._prefixes[shelf] + namespace
        with _translated("open the namespace"):
            if create:
                collection = self._client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": self._search_ef}},
                    metadata={
                        "embedding_model": self._model_name,
                        "embedding_dim": self._dimension,
                        **({MARK: self._mark} if self._mark else {}),
                    },
                )
            else:
                try:
                    collection = self._client.get_collection(name, embedding_function=None)
                except (chromadb.errors.NotFoundError, ValueError):
                    return None
        self._check_model(namespace, collection.metadata or {})
        self._collections[(namespace, shelf)] = collection
        return collection

    def _same_model(self, metadata: Mapping[str, Any]) -> bool:
        model = (metadata.get("embedding_model"), metadata.get("embedding_dim"))
        # A shelf that a re-embedding is replacing carries its mark: no server may use it, only the re-embedding.
        return model == (self._model_name, self._dimension) and (self._reembedding or MARK not in metadata)

    def _check_model(self, namespace: str, metadata: dict[str, Any]) -> None:
        if MARK in metadata and not self._reembedding:
            raise ModelMismatch(
                f"namespace {namespace!r} is being moved to another model by `mcp-memory reembed`, which was cut "
                "short: stop the server and run the same command again to finish"
            )
        if not self._same_model(metadata):
            model, dim = metadata.get("embedding_model"), metadata.get("embedding_dim")
            raise ModelMismatch(
                f"namespace {namespace!r} was embedded with {model} ({dim} dimensions), but this server runs "
                f"{self._model_name} ({self._dimension} dimensions): start it with "
                f"MCP_MEMORY_EMBEDDING_MODEL={model}, or stop it and move the namespace to its model with "
                f"`mcp-memory reembed --namespace {namespace} --model {self._model_name}`"
            )


def _info(namespace: str, shelf: Shelf, staging: bool, metadata: Mapping[str, Any]) -> CollectionInfo:
    model, dimension = metadata.get("embedding_model"), metadata.get("embedding_dim")
    return CollectionInfo(namespace, shelf, str(model), int(dimension or 0), staging, metadata.get(MARK))


def _vectors(embeddings: Sequence[Sequence[float]]) -> list[Sequence[float] | Sequence[int]]:
    return [*embeddings]


def _columns(records: Sequence[MemoryRecord], embeddings: Sequence[list[float]]) -> dict[str, Any]:
    """Records and their embeddings as the columns Chroma writes.

    The content goes in the metadata, not in Chroma's documents: Chroma indexes documents for its own
    full-text search, which this store never uses (it keeps a BM25 index of its own), and which took a
    third of the time of an add (1.25 against 0.78 ms a record at 100,000) and 30% of the file."""
    return {
        "ids": [r.id for r in records],
        "embeddings": _vectors(embeddings),
        "metadatas": [to_metadata(r) | {CONTENT: r.content} for r in records],
    }


def _memories(rows: list[tuple[MemoryRecord, list[float] | None]]) -> list[MemoryRecord]:
    return [record for record, _ in rows if record.part_of is None]


def _offline_settings() -> ChromaSettings:
    """Chroma with nothing sent anywhere: no product telemetry, no OpenTelemetry exporter, whatever the
    environment or a `.env` file in the working directory (Chroma reads one) says."""
    return ChromaSettings(
        _env_file=None,  # type: ignore[call-arg]
        anonymized_telemetry=False,
        chroma_otel_collection_endpoint="",
        chroma_otel_granularity=None,
    )
