"""`KeywordIndex`: BM25 keyword search over memories, in SQLite FTS5 beside the vector store.

Chroma's local mode offers no keyword search, and keywords find what embeddings miss: names,
numbers, rare words. The index is derived data: it can always be rebuilt from the vector store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from mcp_memory.core.models import Shelf
from mcp_memory.storage.sqlite_db import SqliteFile

WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 64
# In a namespace of PRUNE_FROM entries or more, a query word found in more than COMMON_SHARE of them is left out
# of the search when RARE_LEFT rarer words remain. BM25 gives such a word little weight, yet FTS5 scores every
# entry that holds it (~1.3 µs each): at 100,000 memories, a word in one in six took a search from 7 to 30 ms.
# Below PRUNE_FROM, scoring such a word costs less than counting the words would. Left out so, recall's top 10
# at 100,000 memories stayed the same for 192 of 200 questions (overlap 0.996); on LoCoMo, whose namespaces
# are far smaller, doing it anyway from 0 entries cost 0.004 of recall@10 (0.010 with one rarer word left,
# 0.034 at a share of 5%).
PRUNE_FROM = 20_000
COMMON_SHARE = 0.15
RARE_LEFT = 2
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


class KeywordIndex:
    """One FTS5 table per namespace (so BM25's statistics are the namespace's own), porter-stemmed.

    Each entry names its shelf, so that a search of live memories is not crowded by superseded ones.
    """

    def __init__(self, path: Path) -> None:
        self._file = SqliteFile(path, "keyword index")
        self._db, self._lock = self._file.db, self._file.lock

    def add(self, namespace: str, entries: Iterable[tuple[str, str]], shelf: Shelf = "live") -> None:
        """Index (id, text) pairs on a shelf; an id already indexed is replaced."""
        rows = list(entries)
        with self._file.transaction():
            tables = self._tables(namespace, create=True)
            assert tables is not None
            table, rows_of = tables
            ids = [(i,) for i, _ in rows]
            self._db.executemany(f"DELETE FROM {table} WHERE rowid = (SELECT rowid FROM {rows_of} WHERE id = ?)", ids)
            self._db.executemany(f"INSERT OR IGNORE INTO {rows_of}(id) VALUES (?)", ids)
            self._db.executemany(
                f"INSERT INTO {table}(rowid, id, shelf, text) SELECT rowid, id, ?, ? FROM {rows_of} WHERE id = ?",
                [(shelf, text, i) for i, text in rows],
            )

    def move(self, namespace: str, ids: Sequence[str], shelf: Shelf) -> None:
        """Put the entries of `ids` on another shelf."""
        with self._file.transaction():
            if tables := self._tables(namespace):
                table, rows_of = tables
                self._db.executemany(
                    f"UPDATE {table} SET shelf = ? WHERE rowid = (SELECT rowid FROM {rows_of} WHERE id = ?)",
                    [(shelf, i) for i in ids],
                )

    def delete(self, namespace: str, ids: Sequence[str]) -> None:
        with self._file.transaction():
            if tables := self._tables(namespace):
                table, rows_of = tables
                pairs = [(i,) for i in ids]
                self._db.executemany(
                    f"DELETE FROM {table} WHERE rowid = (SELECT rowid FROM {rows_of} WHERE id = ?)", pairs
                )
                self._db.executemany(f"DELETE FROM {rows_of} WHERE id = ?", pairs)

    def search(
        self, namespace: str, query: str, limit: int, shelves: Sequence[Shelf] = ("live",)
    ) -> list[tuple[str, float]]:
        """(id, BM25 score) on the shelves, best first; higher is better. Any word but function words may match."""
        words = [w.lower() for w in WORD.findall(query)]
        # Function words match nearly everything and drown the words that matter.
        terms = list(dict.fromkeys([w for w in words if w not in STOPWORDS] or words))[:MAX_QUERY_TERMS]
        if not terms:
            return []
        with self._lock:
            if not (table := self._table(namespace)):
                return []
            expression = " OR ".join(_phrase(t) for t in self._telling(table, terms))
            marks = ",".join("?" * len(shelves))
            # FTS5's own `rank` (bm25 unless configured otherwise) sorts in half the time of ordering by a
            # bm25() call: 7 ms against 14 at the median over 100,000 memories.
            rows = self._db.execute(
                f"SELECT id, rank FROM {table} WHERE {table} MATCH ? AND shelf IN ({marks}) ORDER BY rank LIMIT ?",
                (expression, *shelves, limit),
            ).fetchall()
        # bm25 is negative, lower being better.
        return [(i, -float(rank)) for i, rank in rows]

    def _telling(self, table: str, terms: list[str]) -> list[str]:
        """The terms without those so common in the namespace that the rest tell its entries apart better."""
        if len(terms) <= RARE_LEFT:
            return terms
        # Row numbers are not reused but for the last: the largest is about the number of entries, and free.
        last = self._db.execute(f"SELECT rowid FROM {table} ORDER BY rowid DESC LIMIT 1").fetchone()
        entries = last[0] if last else 0
        if entries < PRUNE_FROM:
            return terms
        common = int(COMMON_SHARE * entries)
        counted = f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT ?)"  # stops past `common`
        rare = [t for t in terms if self._db.execute(counted, (_phrase(t), common + 1)).fetchone()[0] <= common]
        return rare if len(rare) >= RARE_LEFT else terms

    def count(self, namespace: str) -> int:
        with self._lock:
            if not (table := self._table(namespace)):
                return 0
            return int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def drop(self, namespace: str) -> None:
        with self._lock:
            self._db.execute(f"DROP TABLE IF EXISTS {_name(namespace)}")
            self._db.execute(f"DROP TABLE IF EXISTS {_rows_name(namespace)}")
            self._db.execute(f'DROP TABLE IF EXISTS "kw_{namespace}"')  # before shelves: rebuilt when found empty

    def _table(self, namespace: str) -> str | None:
        name = _name(namespace)
        found = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name.strip('"'),)).fetchone()
        return name if found else None

    def _tables(self, namespace: str, *, create: bool = False) -> tuple[str, str] | None:
        """The namespace's FTS table and the table that gives each id its row there.

        FTS5 cannot index a column it searches by equality, so finding an entry by its id would read
        the whole table: the id's row number is kept in an ordinary table with a unique index.
        """
        name, rows_of = _name(namespace), _rows_name(namespace)
        if create:
            self._db.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} "
                "USING fts5(id UNINDEXED, shelf UNINDEXED, text, tokenize='porter unicode61')"
            )
        elif self._table(namespace) is None:
            return None
        exists = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (rows_of.strip('"'),)).fetchone()
        if not exists:  # an index written before the table existed: number its rows once
            self._db.execute(f"CREATE TABLE {rows_of} (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE)")
            self._db.execute(f"INSERT INTO {rows_of}(rowid, id) SELECT rowid, id FROM {name}")
        return name, rows_of


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _name(namespace: str) -> str:
    # Namespaces are validated to [a-z0-9_-]; quoting makes '-' legal in an identifier.
    return f'"keywords_{namespace}"'


def _rows_name(namespace: str) -> str:
    return f'"keyword_rows_{namespace}"'
