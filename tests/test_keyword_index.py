"""The keyword index on its own: replacing and deleting entries, shelves, searches that see every write before
them, words matched by stem and without accents, and writes a stopped process never committed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from mcp_memory.core.models import SHELVES, Shelf
from mcp_memory.storage import keyword_index
from mcp_memory.storage.keyword_index import KeywordIndex


def ids(index: KeywordIndex, query: str, limit: int = 50, shelves: Sequence[Shelf] = ("live",)) -> set[str]:
    return {i for i, _ in index.search("ns", query, limit, shelves)}


def test_replacing_and_deleting_entries_touches_only_their_own(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "keywords")
    index.add("ns", [(f"{n:032x}", f"note number {n} about topic{n % 7}") for n in range(500)])
    index.add("ns", [(f"{n:032x}", f"replaced {n}") for n in range(0, 500, 2)])
    index.delete("ns", [f"{n:032x}" for n in range(1, 500, 4)])
    assert index.count("ns") == 500 - 125
    assert ids(index, "replaced", 500) == {f"{n:032x}" for n in range(0, 500, 2)}
    kept = [n for n in range(500) if n % 2 and n % 4 != 1]
    assert ids(index, "topic3", 500) == {f"{n:032x}" for n in kept if n % 7 == 3}


def test_every_index_of_a_directory_sees_each_write_at_once(tmp_path: Path) -> None:
    writing, reading = KeywordIndex(tmp_path / "keywords"), KeywordIndex(tmp_path / "keywords")
    for n in range(20):
        writing.add("ns", [(f"id{n}", f"the harbour log, entry {n} wordnumber{n}")])
        assert ids(reading, f"wordnumber{n}") == {f"id{n}"}
        writing.move("ns", [f"id{n}"], "superseded")  # moved before its own commit
        assert ids(reading, f"wordnumber{n}") == set()
        assert ids(reading, f"wordnumber{n}", shelves=("superseded",)) == {f"id{n}"}
        writing.delete("ns", [f"id{n}"])
        assert ids(reading, f"wordnumber{n}", shelves=SHELVES) == set()
    assert reading.count("ns") == 0


def test_words_match_by_stem_and_without_accents_and_function_words_alone_still_count(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "keywords")
    index.add("ns", [("cafe", "We met at the Café Nicola"), ("runs", "She runs every morning"), ("the", "The The")])
    assert ids(index, "cafe") == {"cafe"} and ids(index, "CAFÉ") == {"cafe"}
    assert ids(index, "who was running?") == {"runs"}
    assert ids(index, "the") == {"the", "cafe"}  # only function words: they are what is asked for
    assert index.search("ns", "?!", 10) == [] and index.search("ns", "cafe", 0) == []
    assert index.search("other", "cafe", 10) == [] and index.count("other") == 0


def test_the_shelf_filters_without_changing_a_score(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "keywords")
    index.add("ns", [(f"old{n}", f"the codeword was zebra {n} zebra zebra") for n in range(60)], "superseded")
    index.add("ns", [("now", "the codeword is zebra, changed at last")])
    live = index.search("ns", "zebra codeword", 50)
    both = dict(index.search("ns", "zebra codeword", 100, SHELVES))
    assert [i for i, _ in live] == ["now"] and len(both) == 61
    assert live[0][1] == both["now"] > 0


def test_namespaces_beyond_the_writers_kept_open_are_written_and_searched_alike(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "keywords")
    names = [f"ns{n}" for n in range(keyword_index.WRITERS_KEPT + 3)]
    for round_ in range(3):
        for name in names:
            index.add(name, [(f"{name}-{round_}", f"{name} round{round_} heron")])
    index.flush()
    for name in names:
        assert {i for i, _ in index.search(name, "heron", 10)} == {f"{name}-{r}" for r in range(3)}
        assert index.count(name) == 3 and not index.unfinished(name)
    index.drop(names[0])
    assert index.count(names[0]) == 0 and index.search(names[0], "heron", 10) == []


def test_writes_a_stopped_process_never_committed_leave_the_namespace_unfinished(tmp_path: Path) -> None:
    root = tmp_path / "keywords"
    script = f"""
        import os
        from pathlib import Path
        from mcp_memory.storage import keyword_index
        index = keyword_index.KeywordIndex(Path({str(root)!r}))
        index.add("ns", [("kept", "committed before the end")])
        index.flush()
        keyword_index._Directory._commit = lambda self, space: None  # the process ends before its commit
        index.add("ns", [("lost", "never committed")])
        os._exit(0)
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True)
    index = KeywordIndex(root)
    assert index.unfinished("ns") and not index.unfinished("other")
    assert index.count("ns") == 1 and ids(index, "committed") == {"kept"} and ids(index, "never") == set()
    index.drop("ns")  # as a rebuild from the store begins
    index.add("ns", [("kept", "committed before the end"), ("lost", "never committed")])
    assert not index.unfinished("ns") and index.count("ns") == 2


class FailingWriter:
    """A writer whose commit fails, as a full disk would make it."""

    def __init__(self, writer: object) -> None:
        self._writer = writer

    def __getattr__(self, name: str) -> object:
        return getattr(self._writer, name)

    def commit(self) -> None:
        raise ValueError("No space left on device")


def test_a_failed_commit_wakes_its_searches_and_leaves_the_namespace_marked_for_a_rebuild(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "keywords")
    index.add("ns", [("alpha", "the alpha entry")])
    index.flush()
    space = index._directory.space("ns")
    with space._changed:  # holding the namespace, so that the writer is swapped before anything commits
        space._writer = FailingWriter(space._writable())  # type: ignore[assignment]
        index.add("ns", [("delta", "the delta entry")])
    assert ids(index, "delta") == set()  # waits for the failed commit, then searches what is there
    assert ids(index, "alpha") == {"alpha"}
    assert index.unfinished("ns") and (tmp_path / "keywords" / "ns" / keyword_index.UNFINISHED).exists()
    index.add("ns", [("echo", "the echo entry")])  # a new writer, whose commit succeeds
    assert ids(index, "echo") == {"echo"}
    assert (tmp_path / "keywords" / "ns" / keyword_index.UNFINISHED).exists()  # delta is still missing
