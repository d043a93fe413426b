"""The filter indexes of a Chroma store's collections: read once from Chroma's SQLite file, then kept current.

Why Chroma's file is read directly: through Chroma's API, reading the metadata of 100,000 records
takes about 15 s; a read-only query of the four columns a filter uses takes under a second. The
file is opened read-only, in short reads, and only the tables of records and their metadata are
read. Should a Chroma version lay them out otherwise, the read fails or disagrees with the
collection's count, and recall falls back to Chroma's own filter: slower, never wrong.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from chromadb.api.models.Collection import Collection

from mcp_memory.core.models import MemoryRecord
from mcp_memory.storage.filter_index import Entry, FilterIndex

VECTOR_PAGE = 5_000  # vectors read through Chroma at a time
CHUNK = 20_000  # records per read, so that Chroma's writes never wait long behind one
ATTEMPTS = 3  # reads of a collection's index that may fail (a write in between) before it is given up
log = logging.getLogger(__name__)


class FilterIndexes:
    """One `FilterIndex` per collection, by collection id; shared by a store and its views."""

    def __init__(self, sqlite_file: Path | None) -> None:
        """`sqlite_file`: Chroma's own file, read once per collection; None where there is none to read (a
        Chroma server), and Chroma filters."""
        self._file = sqlite_file
        self._lock = threading.Lock()  # held while an index is read, so that no write slips between
        self._indexes: dict[Any, FilterIndex] = {}
        self._failed: dict[Any, int] = {}  # reads that failed, by collection: after a few, Chroma's filter it is
        self._vectors_read: dict[Any, threading.Event] = {}  # set once an index has read its vectors

    def of(self, collection: Collection) -> FilterIndex | None:
        """The collection's index, read from the file at first use; its vectors follow in the background."""
        if self._file is None:
            return None
        with self._lock:
            if collection.id not in self._indexes and self._failed.get(collection.id, 0) < ATTEMPTS:
                if (index := self._read(collection)) is None:
                    self._failed[collection.id] = self._failed.get(collection.id, 0) + 1
                else:
                    self._indexes[collection.id] = index
                    done = self._vectors_read[collection.id] = threading.Event()
                    if len(index) == 0:  # a new collection: its writes give the index every vector
                        done.set()
                    else:
                        reading = threading.Thread(
                            target=_read_vectors, args=(collection, index, done), name="mcp-memory-vectors", daemon=True
                        )
                        reading.start()
            return self._indexes.get(collection.id)

    def put(
        self, collection: Collection, records: Sequence[MemoryRecord], vectors: Sequence[Sequence[float]] | None = None
    ) -> None:
        with self._lock:
            index = self._indexes.get(collection.id)
        if index is not None:
            index.put([entry(r) for r in records], vectors)

    def ready(self, collection: Collection) -> None:
        """Wait until the collection's index is read, its vectors included."""
        if self.of(collection) is not None:
            with self._lock:
                done = self._vectors_read.get(collection.id)
            if done is not None:
                done.wait()

    def set_vectors(self, collection: Collection, vectors: Mapping[str, Any]) -> None:
        with self._lock:
            index = self._indexes.get(collection.id)
        if index is not None:
            index.set_vectors(vectors)

    def remove(self, collection: Collection, ids: Sequence[str]) -> None:
        with self._lock:
            index = self._indexes.get(collection.id)
        if index is not None:
            index.remove(ids)

    def forget(self, collection: Collection) -> None:
        with self._lock:
            self._indexes.pop(collection.id, None)
            self._vectors_read.pop(collection.id, None)
            self._failed.pop(collection.id, None)

    def _read(self, collection: Collection) -> FilterIndex | None:
        try:
            index = FilterIndex(self._entries(str(collection.id)))
            count = collection.count()
        except (sqlite3.Error, KeyError, ValueError, TypeError) as exc:
            log.warning("filtered recall uses Chroma's own filter: could not read %s (%s)", self._file, exc)
            return None
        if len(index) != count:  # a write in between, or records laid out otherwise
            log.warning(
                "filtered recall uses Chroma's own filter: %s lists %d records of %d", self._file, len(index), count
            )
            return None
        return index

    def _entries(self, collection_id: str) -> Iterator[Entry]:
        assert self._file is not None
        with closing(sqlite3.connect(f"{self._file.as_uri()}?mode=ro", uri=True, isolation_level=None)) as db:
            segment = db.execute(
                "SELECT id FROM segments WHERE collection = ? AND scope = 'METADATA'", (collection_id,)
            ).fetchone()
            if segment is None:
                return
            first, last = db.execute(
                "SELECT min(id), max(id) FROM embeddings WHERE segment_id = ?", (segment[0],)
            ).fetchone()
            for start in range(first or 0, (last or -1) + 1, CHUNK):
                yield from _chunk(db, segment[0], start, start + CHUNK)


def _chunk(db: sqlite3.Connection, segment: str, start: int, stop: int) -> Iterator[Entry]:
    span = "e.segment_id = ? AND e.id >= ? AND e.id < ?"
    fields: dict[str, dict[str, Any]] = defaultdict(dict)
    tags: dict[str, list[str]] = defaultdict(list)
    db.execute("BEGIN")  # one read: the columns and the tags of the same records
    try:
        for id_, key, text, number in db.execute(
            "SELECT e.embedding_id, m.key, m.string_value, coalesce(m.float_value, m.int_value) FROM embeddings e "
            f"JOIN embedding_metadata m ON m.id = e.id WHERE {span} AND m.key IN ('kind', 'source', 'time_ts')",
            (segment, start, stop),
        ):
            fields[id_][key] = number if key == "time_ts" else text
        for id_, tag in db.execute(
            "SELECT e.embedding_id, a.string_value FROM embeddings e "
            f"JOIN embedding_metadata_array a ON a.id = e.id WHERE {span} AND a.key = 'tags'",
            (segment, start, stop),
        ):
            tags[id_].append(tag)
    finally:
        db.rollback()
    for id_, found in fields.items():
        yield id_, tags.get(id_, ()), str(found["kind"]), str(found["source"]), float(found["time_ts"])


def _read_vectors(collection: Collection, index: FilterIndex, done: threading.Event) -> None:
    """Give the index every record's vector, read through Chroma a page at a time (its file keeps them in
    its own binary index): ~10 s at 100,000 records, so apart from searches and writes, and only where a
    write has not given one since. Until then, searches take the routes that need none."""
    try:
        for offset in range(0, len(index), VECTOR_PAGE):
            found = collection.get(include=["embeddings"], limit=VECTOR_PAGE, offset=offset)
            if found["embeddings"] is not None and len(found["ids"]):
                index.set_vectors(dict(zip(found["ids"], found["embeddings"], strict=True)), only_missing=True)
    except Exception:  # the index is still right without them, only slower for some filters
        log.exception("could not read the vectors of %s for filtered search", collection.name)
    finally:
        done.set()


def entry(record: MemoryRecord) -> Entry:
    """A record's fields in the index: what `to_metadata` gives Chroma's filter."""
    return record.id, record.tags, record.kind.value, record.source, record.effective_time.timestamp()
