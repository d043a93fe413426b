"""Selective retention in the service: duplicates, superseding, ranking by time, long memories, expiry,
forgetting fully, history. Real Chroma, fake embedder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from mcp_memory.core.config import Settings
from mcp_memory.core.errors import InvalidInput, NotFound
from mcp_memory.core.models import SHELVES, MemoryInput
from mcp_memory.core.service import MemoryService
from mcp_memory.storage.keyword_index import KeywordIndex

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def recalled(service: MemoryService, query: str, **options: object) -> list[str]:
    return [m.content for m in service.recall("ns", query, limit=50, **options).memories]  # type: ignore[arg-type]


def events(service: MemoryService, memory_id: str) -> list[str]:
    return [e.event for e in service.history("ns", memory_id).events]


def test_the_same_words_remembered_again_are_one_memory_reinforced(service: MemoryService) -> None:
    first = service.remember("ns", "Alice prefers tabs over spaces", tags=["code"], source="desktop")
    again = service.remember("ns", "  alice PREFERS tabs   over spaces ", tags=["style"], importance=0.9, source="ide")
    assert (again.status, again.id) == ("duplicate", first.id)
    assert service.stats().namespaces == {"ns": 1}
    [memory] = service.recall("ns", "tabs or spaces").memories
    assert (memory.content, memory.tags, memory.importance) == (
        "Alice prefers tabs over spaces",
        ["code", "style"],
        0.9,
    )
    assert events(service, first.id) == ["created", "reinforced", "updated"]
    assert service.history("ns", first.id).events[1].detail == {"source": "ide"}


def test_duplicates_within_one_batch_are_stored_once(service: MemoryService) -> None:
    results = service.remember_many("ns", [MemoryInput(content="Deploys are on Tuesdays")] * 3)
    assert [r.status for r in results] == ["created", "duplicate", "duplicate"]
    assert len({r.id for r in results}) == 1
    assert service.stats().namespaces == {"ns": 1}


def test_a_near_paraphrase_with_another_meaning_is_kept_apart(service: MemoryService) -> None:
    tabs = service.remember("ns", "Alice prefers tabs for indentation in Python")
    negated = service.remember("ns", "Alice no longer prefers tabs for indentation in Python")
    assert negated.id != tabs.id and negated.status in ("created", "similar")
    assert [s.id for s in negated.similar] == [tabs.id]
    assert sorted(recalled(service, "tabs indentation")) == sorted(
        ["Alice prefers tabs for indentation in Python", "Alice no longer prefers tabs for indentation in Python"]
    )


def test_a_nearly_identical_memory_is_created_but_flagged_similar(service: MemoryService) -> None:
    first = service.remember("ns", "the staging server is called quokka and runs postgres sixteen")
    near = service.remember("ns", "the staging server is called quokka and runs postgres sixteen!")
    assert near.id != first.id  # punctuation differs: the host model decides, the server never merges
    assert (near.status, near.similar[0].id) == ("similar", first.id)


def test_a_superseded_memory_leaves_recall_but_stays_reachable(service: MemoryService) -> None:
    old = service.remember("ns", "Alice's editor is Vim", kind="preference")
    new = service.remember("ns", "Alice's editor is Helix", kind="preference", supersedes=[old.id])
    assert new.superseded == [old.id]
    assert recalled(service, "which editor does Alice use") == ["Alice's editor is Helix"]
    everything = service.recall("ns", "which editor does Alice use", include_superseded=True).memories
    by_id = {m.id: m for m in everything}
    assert by_id[old.id].superseded_by == new.id and by_id[new.id].supersedes == [old.id]
    assert events(service, old.id) == ["created", "superseded"]
    assert service.history("ns", old.id).state == "superseded"
    assert service.stats().namespaces == {"ns": 1}


def test_superseding_an_unknown_or_already_superseded_memory_is_rejected(service: MemoryService) -> None:
    old = service.remember("ns", "the office is in Porto")
    service.remember("ns", "the office is in Lisbon", supersedes=[old.id])
    with pytest.raises(InvalidInput, match="superseded by"):
        service.remember("ns", "the office is in Braga", supersedes=[old.id])
    with pytest.raises(InvalidInput, match="no such memory"):
        service.remember("ns", "the office is in Faro", supersedes=["0" * 32])
    assert recalled(service, "office") == ["the office is in Lisbon"]


def test_a_fresh_event_outranks_a_stale_one_of_equal_relevance(service: MemoryService) -> None:
    service.remember("ns", "team offsite in the mountains", kind="event", now=NOW - timedelta(days=120))
    service.remember("ns", "team offsite by the sea", kind="event", now=NOW - timedelta(days=1))
    assert recalled(service, "team offsite", now=NOW)[0] == "team offsite by the sea"


def test_preferences_do_not_fade(service: MemoryService) -> None:
    old = service.remember("ns", "likes green tea", kind="preference", now=NOW - timedelta(days=900))
    [memory] = service.recall("ns", "green tea", now=NOW, explain=True).memories
    assert memory.id == old.id and memory.explain is not None and memory.explain.retention == 0.0


def test_importance_lifts_a_memory_among_equals(service: MemoryService) -> None:
    service.remember("ns", "the wifi password is on the fridge", importance=0.1)
    service.remember("ns", "the alarm code is on the fridge", importance=1.0)
    assert recalled(service, "on the fridge")[0] == "the alarm code is on the fridge"


def test_recalling_a_memory_reinforces_it(service: MemoryService) -> None:
    memory = service.remember("ns", "the cat is called Miso")
    first = service.recall("ns", "cat name", explain=True).memories[0].explain
    for _ in range(5):
        service.recall("ns", "cat name")
    later = service.recall("ns", "cat name", explain=True).memories[0].explain
    assert first is not None and later is not None and later.retention > first.retention
    assert service.recall("ns", "cat name").memories[0].access_count == 7
    assert service.history("ns", memory.id).events[-1].event == "created"  # recalls are not history events


LONG_NOTE = " ".join(f"Paragraph {n} says nothing of note about meetings and budgets." for n in range(40))


def test_a_long_memory_is_found_by_its_last_paragraph_and_returned_whole_once(service: MemoryService) -> None:
    content = LONG_NOTE + "\n\nFinally: the spare key is hidden under the blue flowerpot."
    result = service.remember("ns", content, kind="note")
    assert result.parts > 1
    memories = service.recall("ns", "where is the spare key hidden", limit=10).memories
    assert [m.id for m in memories].count(result.id) == 1
    best = memories[0]
    assert best.id == result.id and best.content == content
    assert best.matched_part is not None and "blue flowerpot" in best.matched_part
    assert service.stats().namespaces == {"ns": 1}


def test_forgetting_a_long_memory_erases_its_parts(service: MemoryService, settings: Settings) -> None:
    result = service.remember("ns", LONG_NOTE + " The vault combination is Zephyr.")
    service.forget("ns", [result.id])
    assert KeywordIndex.beside(settings.data_dir).count("ns") == 0
    assert recalled(service, "vault combination Zephyr") == []


def test_an_expired_memory_is_never_returned_and_is_purged(service: MemoryService) -> None:
    brief = service.remember("ns", "the door code today is 4512", ttl="1 hour", now=NOW)
    service.remember("ns", "the door code is on the whiteboard", now=NOW)
    assert len(recalled(service, "door code", now=NOW)) == 2
    later = NOW + timedelta(hours=2)
    assert recalled(service, "door code", now=later) == ["the door code is on the whiteboard"]
    assert service.purge_expired(later) == {"ns": 1}
    assert service.history("ns", brief.id).state == "forgotten"
    assert service.history("ns", brief.id).events[-1].detail == {"reason": "expired"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"ttl": "banana"}, "is not a duration"),
        ({"ttl": "-2 days"}, "not a positive duration"),
        ({"expires_at": "2001-01-01"}, "not in the future"),
        ({"ttl": "1 day", "expires_at": "2030-01-01"}, "not both"),
        ({"supersedes": ["nope"]}, "malformed id"),
        ({"ttl": "99999999999999 days"}, "not a duration"),
        ({"ttl": "P9999999D"}, "far too long"),
    ],
)
def test_bad_retention_arguments_are_rejected_and_store_nothing(
    service: MemoryService, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        service.remember("ns", "anything", **arguments)  # type: ignore[arg-type]
    assert service.stats().namespaces == {}


def test_forget_by_filter_with_a_dry_run_first(service: MemoryService, settings: Settings) -> None:
    service.remember("ns", "Project Kestrel uses Rust", tags=["kestrel"], source="ide")
    service.remember("ns", "Project Kestrel ships in May", tags=["kestrel"], kind="event", source="desktop")
    kept = service.remember("ns", "Alice likes Kestrel birds", tags=["birds"], source="ide")
    preview = service.forget("ns", tags=["kestrel"], dry_run=True)
    assert preview.dry_run and len(preview.forgotten) == 2
    assert sorted(m.content for m in preview.memories) == ["Project Kestrel ships in May", "Project Kestrel uses Rust"]
    assert len(recalled(service, "Kestrel")) == 3  # a dry run changes nothing
    assert len(service.forget("ns", tags=["kestrel"]).forgotten) == 2
    assert [m.id for m in service.recall("ns", "Kestrel", limit=10).memories] == [kept.id]
    assert [i for i, _ in KeywordIndex.beside(settings.data_dir).search("ns", "Rust May", 10)] == []


def test_forget_by_source_kind_and_time(service: MemoryService) -> None:
    service.remember("ns", "note from the ide", source="ide", occurred_at="2024-01-10")
    service.remember("ns", "event from the ide", source="ide", kind="event", occurred_at="2024-03-10")
    service.remember("ns", "note from the desktop", source="desktop", occurred_at="2024-01-10")
    assert len(service.forget("ns", source="ide", before="2024-02-01").forgotten) == 1
    assert len(service.forget("ns", kind="event", after="2024-03").forgotten) == 1
    assert recalled(service, "note event from") == ["note from the desktop"]


def test_forget_covers_superseded_memories_too(service: MemoryService) -> None:
    old = service.remember("ns", "the build tool is make", tags=["build"])
    service.remember("ns", "the build tool is just", tags=["build"], supersedes=[old.id])
    assert len(service.forget("ns", tags=["build"]).forgotten) == 2
    assert recalled(service, "build tool", include_superseded=True) == []


def test_forgetting_a_whole_namespace_needs_its_name_as_confirmation(service: MemoryService) -> None:
    service.remember("ns", "one")
    service.remember("other", "two")
    with pytest.raises(InvalidInput, match="pass confirm='ns'"):
        service.forget("ns", everything=True, confirm="yes")
    assert service.forget("ns", everything=True, confirm="ns", dry_run=True).dry_run
    assert len(service.forget("ns", everything=True, confirm="ns").forgotten) == 1
    assert service.stats().namespaces == {"other": 1}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "say what to forget in one way"),
        ({"ids": ["0" * 32], "tags": ["x"]}, "say what to forget in one way"),
        ({"before": "not a date at all 99"}, "before: .* is not a date"),
        ({"after": "2024-05-02", "before": "2024-05-01"}, "after is later than before"),
    ],
)
def test_bad_forget_arguments_are_rejected_and_delete_nothing(
    service: MemoryService, arguments: dict[str, object], message: str
) -> None:
    service.remember("ns", "survivor")
    with pytest.raises(InvalidInput, match=message):
        service.forget("ns", **arguments)  # type: ignore[arg-type]
    assert service.stats().namespaces == {"ns": 1}


def stored_vectors(service: MemoryService, namespace: str, ids: list[str]) -> np.ndarray:
    """The embeddings the store holds for `ids`, in their order."""
    found = {record.id: vector for record, vector in service._store.get_with_embeddings(namespace, ids)}
    return np.asarray([found[i] for i in ids])


def chat(turns: list[str]) -> list[MemoryInput]:
    return [MemoryInput(content=turn, thread="chat") for turn in turns]


def test_forgetting_within_a_thread_leaves_nothing_of_it_in_its_neighbours(
    service: MemoryService, settings: Settings
) -> None:
    turns = ["We met at the harbour.", "The password was Albatross.", "Then we had lunch."]
    stored = service.remember_many("ns", chat(turns))
    survivors = [stored[0].id, stored[2].id]
    # What the survivors must become: the same chat, in which the middle turn was never said.
    unsaid = [r.id for r in service.remember_many("unsaid", chat(turns[::2]))]
    keywords = KeywordIndex.beside(settings.data_dir)
    assert {i for i, _ in keywords.search("ns", "Albatross", 10)} == {stored[1].id, stored[2].id}
    shaped, plain = stored_vectors(service, "ns", survivors), stored_vectors(service, "unsaid", unsaid)
    assert not any(np.allclose(a, b, atol=1e-3) for a, b in zip(shaped, plain, strict=True))  # both hold its words
    service.forget("ns", [stored[1].id])
    np.testing.assert_allclose(stored_vectors(service, "ns", survivors), plain, atol=1e-6)
    assert keywords.search("ns", "Albatross password", 10, SHELVES) == []
    # The survivors are now neighbours: the last is found by the first's words.
    assert {i for i, _ in keywords.search("ns", "harbour", 10)} == set(survivors)


def test_history_of_an_unknown_memory_is_not_found(service: MemoryService) -> None:
    with pytest.raises(NotFound):
        service.history("ns", "0" * 32)


def test_a_forgotten_memory_keeps_a_history_without_content(service: MemoryService) -> None:
    memory = service.remember("ns", "my bank PIN hint is the dog's birthday", source="desktop")
    service.forget("ns", [memory.id])
    history = service.history("ns", memory.id)
    assert (history.state, history.content) == ("forgotten", None)
    assert [e.event for e in history.events] == ["created", "forgotten"]
    assert "dog" not in history.model_dump_json()


def test_remembering_again_without_a_ttl_makes_a_memory_permanent(service: MemoryService) -> None:
    brief = service.remember("ns", "the guest wifi password is Larch", ttl="1 day", now=NOW)
    again = service.remember("ns", "the guest wifi password is Larch", now=NOW)
    assert (again.status, again.id) == ("duplicate", brief.id)
    assert service.purge_expired(NOW + timedelta(days=2)) == {}
    assert recalled(service, "guest wifi password", now=NOW + timedelta(days=2)) == ["the guest wifi password is Larch"]


def test_repeated_words_in_a_thread_or_about_another_day_are_memories_of_their_own(service: MemoryService) -> None:
    turns = service.remember_many("ns", [MemoryInput(content="Yes.", thread="chat")] * 2)
    assert [r.status for r in turns] == ["created", "created"] and turns[0].id != turns[1].id
    gym = [
        service.remember("ns", "went to the gym", kind="event", occurred_at=day) for day in ("2024-05-01", "2024-05-02")
    ]
    assert gym[0].id != gym[1].id
    assert service.remember("ns", "went to the gym", kind="event", occurred_at="2024-05-02").status == "duplicate"


def test_an_expiry_phrase_means_the_next_such_day(service: MemoryService) -> None:
    memory = service.remember("ns", "the parking permit is valid", expires_at="friday", now=NOW)
    [found] = service.recall("ns", "parking permit", now=NOW).memories
    assert found.id == memory.id and found.expires_at is not None and found.expires_at > NOW


def test_a_superseded_turn_leaves_no_trace_in_its_thread_once_forgotten(
    service: MemoryService, settings: Settings
) -> None:
    turns = ["We met at the harbour.", "The password was Albatross.", "Then we had lunch."]
    stored = service.remember_many("ns", [MemoryInput(content=t, thread="chat") for t in turns])
    fixed = service.remember("ns", "The password was changed.", supersedes=[stored[1].id])
    keywords = KeywordIndex.beside(settings.data_dir)
    assert keywords.search("ns", "Albatross", 10) == []  # the live shelf: its successor no longer holds it
    assert {i for i, _ in keywords.search("ns", "Albatross", 10, SHELVES)} == {stored[1].id}
    assert fixed.superseded == [stored[1].id]
    service.forget("ns", [stored[1].id])
    assert keywords.search("ns", "Albatross", 10) == []


def test_a_superseding_cut_short_by_a_crash_is_finished_on_opening(settings: Settings) -> None:
    from conftest import open_test_service

    first = open_test_service(settings)
    memory = first.remember("ns", "the office is in Porto")
    store = first._store
    [(record, vector)] = store.get_with_embeddings("ns", [memory.id])
    store.add("ns", [record], [vector], "superseded")  # moved, but the crash came before the delete
    reopened = open_test_service(settings)
    reopened.repair()
    assert recalled(reopened, "office") == []
    assert reopened.history("ns", memory.id).state == "superseded"


def test_a_recall_that_races_a_forget_leaves_no_usage_behind(settings: Settings) -> None:
    from mcp_memory.storage.history import History

    history = History(settings.data_dir / "history.sqlite3")
    history.forgotten("ns", ["0" * 32], NOW, "by id")
    history.touch("ns", ["0" * 32, "1" * 32], NOW)  # the recall ranked it before the forget landed
    assert list(history.usage("ns", ["0" * 32, "1" * 32])) == ["1" * 32]


def test_forget_before_a_day_spares_that_day(service: MemoryService) -> None:
    service.remember("ns", "an older note", occurred_at="2024-01-31")
    service.remember("ns", "a note of the first", occurred_at="2024-02-01")
    assert len(service.forget("ns", before="2024-02-01").forgotten) == 1
    assert recalled(service, "note") == ["a note of the first"]


def test_empty_ids_beside_a_filter_mean_no_ids(service: MemoryService) -> None:
    service.remember("ns", "Project Kestrel uses Rust", tags=["kestrel"])
    assert len(service.forget("ns", [], tags=["kestrel"]).forgotten) == 1


def test_merging_repeats_keeps_within_the_limits(service: MemoryService) -> None:
    service.remember("ns", "a well tagged fact", tags=[f"t{n}" for n in range(15)])
    with pytest.raises(InvalidInput, match="at most 20"):
        service.remember("ns", "a well tagged fact", tags=[f"u{n}" for n in range(10)])
    [memory] = service.recall("ns", "well tagged fact").memories
    assert len(memory.tags) == 15


def test_remembering_a_memory_again_as_superseding_itself_changes_nothing(service: MemoryService) -> None:
    memory = service.remember("ns", "the office is in Porto")
    again = service.remember("ns", "the office is in Porto", supersedes=[memory.id])
    assert (again.status, again.superseded) == ("duplicate", [])
    assert service.recall("ns", "office").memories[0].supersedes == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"ttl": "30"}, "has no unit"), ({"occurred_at": "9999-12-31T23:00-05:00"}, "out of the range")],
)
def test_ambiguous_or_impossible_times_are_rejected(
    service: MemoryService, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        service.remember("ns", "anything", **arguments)  # type: ignore[arg-type]


def test_superseded_entries_never_crowd_live_ones_out_of_a_keyword_search(settings: Settings) -> None:
    keywords = KeywordIndex.beside(settings.data_dir)
    keywords.add("ns", [(f"old{n}", f"the codeword was zebra {n} zebra zebra") for n in range(60)], "superseded")
    keywords.add("ns", [("now", "the codeword is zebra, changed at last")])
    assert [i for i, _ in keywords.search("ns", "zebra codeword", 50)] == ["now"]
    assert len(keywords.search("ns", "zebra codeword", 100, SHELVES)) == 61


def test_the_sqlite_keyword_index_of_an_earlier_version_is_replaced_and_rebuilt_on_opening(settings: Settings) -> None:
    import sqlite3
    from contextlib import closing

    from conftest import open_test_service

    memory = open_test_service(settings).remember("ns", "The launch code word is Pelican")
    KeywordIndex.beside(settings.data_dir).drop("ns")
    with closing(sqlite3.connect(settings.data_dir / "keywords.sqlite3")) as db, db:  # as an earlier version left it
        db.execute('CREATE VIRTUAL TABLE "keywords_ns" USING fts5(id UNINDEXED, shelf UNINDEXED, text)')
        db.execute('INSERT INTO "keywords_ns" VALUES (?, ?, ?)', (memory.id, "live", "The launch code word is Pelican"))
    reopened = open_test_service(settings)
    assert not (settings.data_dir / "keywords.sqlite3").exists()
    assert reopened.repair() == ["ns"]
    assert [m.id for m in reopened.recall("ns", "Pelican").memories] == [memory.id]
