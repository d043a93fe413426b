"""The keyword index on its own: entries found by id without reading the whole table, and indexes written
before that was so still work."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mcp_memory.storage import keyword_index
from mcp_memory.storage.keyword_index import KeywordIndex


def test_an_index_written_before_entries_were_numbered_is_numbered_once_and_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "keywords.sqlite3"
    with sqlite3.connect(path) as db:  # as an earlier version wrote it
        columns = "id UNINDEXED, shelf UNINDEXED, text, tokenize='porter unicode61'"
        db.execute(f'CREATE VIRTUAL TABLE "keywords_ns" USING fts5({columns})')
        db.executemany(
            'INSERT INTO "keywords_ns"(id, shelf, text) VALUES (?, ?, ?)',
            [("a" * 32, "live", "Lisbon trams are yellow"), ("b" * 32, "live", "Oslo has a fjord")],
        )
    index = KeywordIndex(path)
    index.add("ns", [("a" * 32, "Porto trams are yellow too")])
    index.move("ns", ["b" * 32], "superseded")
    assert [i for i, _ in index.search("ns", "trams", 5)] == ["a" * 32]
    assert index.search("ns", "Lisbon", 5) == [] and index.search("ns", "fjord", 5) == []
    assert [i for i, _ in index.search("ns", "fjord", 5, ("superseded",))] == ["b" * 32]
    index.delete("ns", ["b" * 32])
    assert index.count("ns") == 1


def test_replacing_and_deleting_entries_touches_only_their_own(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "keywords.sqlite3")
    index.add("ns", [(f"{n:032x}", f"note number {n} about topic{n % 7}") for n in range(500)])
    index.add("ns", [(f"{n:032x}", f"replaced {n}") for n in range(0, 500, 2)])
    index.delete("ns", [f"{n:032x}" for n in range(1, 500, 4)])
    assert index.count("ns") == 500 - 125
    assert {i for i, _ in index.search("ns", "replaced", 500)} == {f"{n:032x}" for n in range(0, 500, 2)}
    kept = [n for n in range(500) if n % 2 and n % 4 != 1]
    assert {i for i, _ in index.search("ns", "topic3", 500)} == {f"{n:032x}" for n in kept if n % 7 == 3}


def _crowd(index: KeywordIndex, count: int) -> None:
    """`count` entries that say "team"; two of the same length about Chen, one of them in a team."""
    index.add("ns", [(f"{n:032x}", f"the team met on day {n}") for n in range(count)])
    index.add(
        "ns",
        [
            ("a" * 32, "Chen joined the platform team today"),
            ("b" * 32, "Chen will join the platform group"),
            ("c" * 32, "the team team team team"),
        ],
    )


def test_a_word_most_entries_hold_is_left_out_of_a_search_that_has_rarer_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyword_index, "PRUNE_FROM", 2000)  # as in a namespace ten times the size
    index = KeywordIndex(tmp_path / "keywords.sqlite3")
    _crowd(index, 3000)

    found = [i for i, _ in index.search("ns", "Which team did Chen join on the platform?", 10)]

    # Scored by "chen", "join" and "platform" alone: the two entries that hold them tie, and the one
    # that says "team" many times is not found.
    assert sorted(found) == ["a" * 32, "b" * 32]
    scores = dict(index.search("ns", "Which team did Chen join on the platform?", 10))
    assert scores["a" * 32] == scores["b" * 32]


def test_a_common_word_still_counts_with_too_few_rarer_words_or_in_a_small_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyword_index, "PRUNE_FROM", 2000)
    big = KeywordIndex(tmp_path / "big.sqlite3")
    _crowd(big, 3000)
    small = KeywordIndex(tmp_path / "small.sqlite3")
    _crowd(small, 300)

    assert big.search("ns", "team Chen", 1)[0][0] == "a" * 32  # one rarer word: "team" ranks the Chens
    common_met = dict(big.search("ns", "the team met Chen", 10))  # two common words, one rarer: all count
    assert common_met["a" * 32] > common_met["b" * 32]
    assert len(big.search("ns", "team Chen", 5000)) == 3003
    scores = dict(small.search("ns", "Which team did Chen join on the platform?", 10))
    assert scores["a" * 32] > scores["b" * 32]  # everything counts where scoring everything is cheap
