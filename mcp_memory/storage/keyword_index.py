"""`KeywordIndex`: BM25 keyword search over memories, in a tantivy index per namespace beside the vector store.

Chroma's local mode offers no keyword search, and keywords find what embeddings miss: names,
numbers, rare words. The index is derived data: it can always be rebuilt from the vector store.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import ClassVar

import tantivy

from mcp_memory.core.errors import StorageError
from mcp_memory.core.models import Shelf

log = logging.getLogger(__name__)

WORD = re.compile(r"[^\W_]+")
MAX_QUERY_TERMS = 64
# A namespace's writer keeps merging its segments in the background while it stays open (~9 MB each);
# the writers of the namespaces written longest ago are closed beyond this many.
WRITERS_KEPT = 4
WRITER_HEAP = 15_000_000  # tantivy's least per thread; taken as it is used
UNFINISHED = "uncommitted"  # in a namespace's directory while it holds writes not yet committed
OLD_FILE = "keywords.sqlite3"  # the SQLite FTS5 index of earlier versions, replaced by this one
STOPWORDS = frozenset(
    " ".join(
        (
            "a an the and or but if of at by for with about against between into through during before after above",
            "below to from up down in out on off over under again further then once here there when where why",
            "how all any both each few more most other some such no nor not only own same so than too very s t",
            "can will just don should now i me my myself we our ours ourselves you your yours yourself yourselves",
            "he him his himself she her hers herself it its itself they them their theirs themselves what which",
            "who whom this that these those am is are was were be been being have has had having do does did doing",
            "would could",
        )
    ).split()
)
WORDS = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.ascii_fold())  # "café" finds "cafe"
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("shelf", tokenizer_name="raw", index_option="basic")
    # Stored: moving an entry to another shelf deletes it and adds it again.
    builder.add_text_field("text", stored=True, tokenizer_name="memory_words", index_option="freq")
    return builder.build()


SCHEMA = _schema()


class KeywordIndex:
    """One tantivy index per namespace (so BM25's statistics are the namespace's own), stemmed, accents folded.

    Each entry names its shelf, so that a search of live memories is not crowded by superseded ones.
    A write returns once applied; a background thread commits it (tantivy's commit syncs its files, ~10 ms),
    and a search waits for the commit of every write made before it. A process that stops before a commit
    leaves a mark, which `unfinished` reports so that the namespace is rebuilt from the store.

    tantivy lets one writer at a time hold an index, so every KeywordIndex of one directory in a process
    shares one state.
    """

    def __init__(self, root: Path) -> None:
        self._directory = _Directory.of(root)

    @classmethod
    def beside(cls, data_dir: Path) -> KeywordIndex:
        """The keyword index of a data directory, with an earlier version's index (rebuilt on opening) removed."""
        for suffix in ("", "-wal", "-shm"):
            (data_dir / (OLD_FILE + suffix)).unlink(missing_ok=True)
        return cls(data_dir / "keywords")

    def add(self, namespace: str, entries: Iterable[tuple[str, str]], shelf: Shelf = "live") -> None:
        """Index (id, text) pairs on a shelf; an id already indexed is replaced."""
        rows = list(entries)
        if rows:
            self._directory.space(namespace).add(rows, shelf)

    def move(self, namespace: str, ids: Sequence[str], shelf: Shelf) -> None:
        """Put the entries of `ids` on another shelf."""
        if ids:
            self._directory.space(namespace).move(ids, shelf)

    def delete(self, namespace: str, ids: Sequence[str]) -> None:
        if ids:
            self._directory.space(namespace).delete(ids)

    def search(
        self, namespace: str, query: str, limit: int, shelves: Sequence[Shelf] = ("live",)
    ) -> list[tuple[str, float]]:
        """(id, BM25 score) on the shelves, best first; higher is better. Any word but function words may match."""
        words = [w.lower() for w in WORD.findall(query)]
        # Function words match nearly everything and drown the words that matter.
        kept = [w for w in words if w not in STOPWORDS] or words
        terms = list(dict.fromkeys(WORDS.analyze(" ".join(kept))))[:MAX_QUERY_TERMS]
        if not terms or limit <= 0:
            return []
        return self._directory.space(namespace).search(terms, limit, shelves)

    def count(self, namespace: str) -> int:
        return self._directory.space(namespace).count()

    def unfinished(self, namespace: str) -> bool:
        """Whether a process stopped before committing writes to the namespace's index, so that it may miss some."""
        return self._directory.space(namespace).unfinished

    def drop(self, namespace: str) -> None:
        self._directory.space(namespace).drop()

    def flush(self) -> None:
        """Commit every write now, and close the writers."""
        self._directory.flush()


class _Directory:
    """The namespaces' indexes under one directory, their writers, and the thread that commits their writes."""

    _open: ClassVar[weakref.WeakValueDictionary[Path, _Directory]] = weakref.WeakValueDictionary()
    _opening: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def of(cls, root: Path) -> _Directory:
        key = root.resolve()
        with cls._opening:
            if (found := cls._open.get(key)) is None:
                found = cls._open[key] = cls(key)
            return found

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()  # guards the two maps; taken inside a space's lock, never around one
        self._spaces: dict[str, _Space] = {}
        self._writing: OrderedDict[str, _Space] = OrderedDict()  # spaces with a writer, least recently written first
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="mcp-memory-keyword-commits")

    def space(self, namespace: str) -> _Space:
        with self._lock:
            if (found := self._spaces.get(namespace)) is None:
                found = self._spaces[namespace] = _Space(self, self.root / namespace)
            return found

    def written(self, space: _Space, first: bool) -> None:
        """Called by a space that was just written; `first` when it holds no other uncommitted write."""
        with self._lock:
            self._writing[space.path.name] = space
            self._writing.move_to_end(space.path.name)
        if first:
            try:
                self._committer.submit(self._commit, space)
            except RuntimeError:  # the interpreter is exiting, and takes no more threads' work
                space.commit()

    def _commit(self, space: _Space) -> None:
        space.commit()
        with self._lock:
            idle = list(self._writing.values())[:-WRITERS_KEPT]
        for other in idle:
            other.close_writer()

    def closed(self, space: _Space) -> None:
        """Called by a space, under its lock, once its writer is closed."""
        with self._lock:
            self._writing.pop(space.path.name, None)

    def flush(self) -> None:
        with self._lock:
            writing = list(self._writing.values())
        for space in writing:
            space.commit()
            space.close_writer()


class _Space:
    """One namespace's index. Its condition guards the writer and the count of writes made and committed."""

    def __init__(self, directory: _Directory, path: Path) -> None:
        self._directory = weakref.ref(directory)  # the directory owns its spaces
        self.path = path
        self._changed = threading.Condition()
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._written = self._committed = 0
        self._lost = False  # a commit failed: the mark stays until the namespace is filled again
        self.unfinished = (path / UNFINISHED).exists()  # marked by a process that stopped before committing
        if path.exists():
            self._index = self._open()

    def add(self, rows: list[tuple[str, str]], shelf: Shelf) -> None:
        with self._changed:
            writer = self._writable()
            with _failing("indexing keywords"):
                for id_, text in rows:
                    writer.delete_documents_by_term("id", id_)
                    writer.add_document(tantivy.Document(id=id_, shelf=shelf, text=text))
            self._wrote()

    def move(self, ids: Sequence[str], shelf: Shelf) -> None:
        with self._changed:
            if self._index is None:
                return
            self._commit()  # the entries' texts are read back from what is committed
            searcher = self._index.searcher()
            query = tantivy.Query.term_set_query(SCHEMA, "id", list(ids))
            with _failing("moving keyword entries"):
                found = [searcher.doc(a) for _, a in searcher.search(query, len(ids), count=False).hits]
                writer = self._writable()
                for doc in found:
                    writer.delete_documents_by_term("id", doc["id"][0])
                    writer.add_document(tantivy.Document(id=doc["id"][0], shelf=shelf, text=doc["text"][0]))
            self._wrote()

    def delete(self, ids: Sequence[str]) -> None:
        with self._changed:
            if self._index is None:
                return
            writer = self._writable()
            with _failing("deleting keyword entries"):
                for id_ in ids:
                    writer.delete_documents_by_term("id", id_)
            self._wrote()

    def search(self, terms: list[str], limit: int, shelves: Sequence[Shelf]) -> list[tuple[str, float]]:
        with self._changed:
            written = self._written
            self._changed.wait_for(lambda: self._committed >= written)
            if self._index is None:
                return []
            searcher = self._index.searcher()
        words = [(tantivy.Occur.Should, tantivy.Query.term_query(SCHEMA, "text", t)) for t in terms]
        on = tantivy.Query.term_set_query(SCHEMA, "shelf", list(shelves))
        # The shelf filters without scoring: a score is the BM25 of the words alone.
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, tantivy.Query.boolean_query(words)), (tantivy.Occur.Must, _unscored(on))]
        )
        with _failing("searching keywords"):
            hits = searcher.search(query, limit, count=False).hits
            return [(searcher.doc(a)["id"][0], float(score)) for score, a in hits]

    def count(self) -> int:
        with self._changed:
            if self._index is None:
                return 0
            self._commit()
            return int(self._index.searcher().num_docs)

    def drop(self) -> None:
        with self._changed:
            writer, self._writer = self._writer, None
            if writer is not None:
                with suppress(ValueError):  # the index goes whole, whatever its writer says
                    writer.rollback()
                    writer.wait_merging_threads()
            self._index = None
            self._lost = False
            shutil.rmtree(self.path, ignore_errors=True)
            self.unfinished = False
            self._committed = self._written
            self._changed.notify_all()

    def commit(self) -> None:
        with self._changed:
            self._commit()

    def close_writer(self) -> bool:
        """Close the writer, once its merges end, unless writes wait for a commit; whether it is closed."""
        with self._changed:
            if self._committed < self._written:
                return False
            writer, self._writer = self._writer, None  # spent by closing, even when closing fails
            if writer is not None:
                with _failing("closing the keyword writer"):
                    writer.wait_merging_threads()
            if directory := self._directory():
                directory.closed(self)
            return True

    def _commit(self) -> None:
        if self._committed >= self._written:
            return
        assert self._writer is not None and self._index is not None
        written = self._written
        try:
            self._writer.commit()
            self._index.reload()
            if not self._lost:
                (self.path / UNFINISHED).unlink(missing_ok=True)
        except BaseException as exc:
            # The writes are lost to the index: its mark stays, and the store fills it again at the next start.
            log.exception("committing the keyword index of %s failed", self.path.name)
            writer, self._writer, self._lost, self.unfinished = self._writer, None, True, True
            with suppress(Exception):
                writer.wait_merging_threads()  # gives up its lock on the index, for the next writer
            if isinstance(exc, ValueError):
                raise StorageError(f"committing the keyword index failed: {exc}") from exc
            raise
        finally:  # never leaves a search waiting
            self._committed = written
            self._changed.notify_all()

    def _wrote(self) -> None:
        first = self._committed == self._written
        self._written += 1
        if directory := self._directory():
            directory.written(self, first)

    def _writable(self) -> tantivy.IndexWriter:
        """The writer, after marking the namespace unfinished until its next commit."""
        if self._index is None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._index = self._open()
        if self._committed == self._written:  # before the write, so a crash after it is known
            (self.path / UNFINISHED).touch()
        if self._writer is None:
            with _failing("opening the keyword writer"):
                self._writer = self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
        return self._writer

    def _open(self) -> tantivy.Index:
        try:
            index = tantivy.Index(SCHEMA, path=str(self.path), reuse=True)
        except ValueError:
            log.exception("the keyword index of %s is unreadable; it is made anew", self.path.name)
            shutil.rmtree(self.path)
            self.path.mkdir(parents=True)
            index = tantivy.Index(SCHEMA, path=str(self.path), reuse=False)
            (self.path / UNFINISHED).touch()  # for the store to fill it again
            self.unfinished = True
        index.register_tokenizer("memory_words", WORDS)
        index.config_reader(reload_policy="Manual")
        return index


def _unscored(query: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.const_score_query(query, 0.0)


@contextmanager
def _failing(doing: str) -> Iterator[None]:
    """tantivy's errors (ValueError) as `StorageError`."""
    try:
        yield
    except ValueError as exc:
        raise StorageError(f"{doing} failed: {exc}") from exc
