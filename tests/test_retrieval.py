"""Hybrid retrieval's behaviour: the keyword index kept with the store, threads, batches, explanations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import open_test_service

from mcp_memory.core.config import Settings
from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import SHELVES, MemoryInput
from mcp_memory.core.service import MemoryService
from mcp_memory.storage.keyword_index import KeywordIndex

LONG_NOTE = " ".join(f"Paragraph {n} says nothing of note about meetings and budgets." for n in range(40))


def ids(service: MemoryService, namespace: str, query: str, **options: object) -> list[str]:
    return [m.id for m in service.recall(namespace, query, limit=50, **options).memories]  # type: ignore[arg-type]


def test_recall_explains_each_memory_by_meaning_and_shared_words(service: MemoryService) -> None:
    service.remember("ns", "The staging database is called Quokka")
    for other in ("Lunch is at noon", "The office is in Porto", "Deploys happen on Tuesdays"):
        service.remember("ns", other)
    best = service.recall("ns", "what is the staging database called?", explain=True).memories[0]
    assert best.content == "The staging database is called Quokka"
    assert best.explain is not None
    assert best.explain.keyword > 0 and best.explain.similarity > 0
    assert (best.explain.similarity_rank, best.explain.keyword_rank) == (1, 1)
    assert service.recall("ns", "staging database").memories[0].explain is None


def test_forgotten_memories_leave_the_keyword_index_too(service: MemoryService, settings: Settings) -> None:
    gone = service.remember("ns", "The launch code word is Pelican").id
    service.forget("ns", [gone])
    assert KeywordIndex.beside(settings.data_dir).search("ns", "Pelican", 10) == []
    assert ids(service, "ns", "Pelican") == []


def test_a_keyword_index_that_disagrees_with_the_store_is_rebuilt_on_opening(settings: Settings) -> None:
    kept = open_test_service(settings).remember("ns", "The wifi password hint is Larch").id
    KeywordIndex.beside(settings.data_dir).drop("ns")
    reopened = open_test_service(settings)
    assert reopened.repair() == ["ns"]
    assert KeywordIndex.beside(settings.data_dir).search("ns", "Larch", 10)[0][0] == kept
    assert reopened.repair() == []


def test_reindex_rebuilds_every_namespace_from_the_store_and_counts_what_it_indexed(
    service: MemoryService, settings: Settings
) -> None:
    quokka = service.remember("a", "The staging database is called Quokka")
    porto = service.remember("b", "The office is in Porto")
    lisbon = service.remember("b", "The office moved to Lisbon", supersedes=[porto.id])
    vault = service.remember("b", LONG_NOTE + " The vault combination is Zephyr.", kind="note")
    assert vault.parts > 1
    keywords = KeywordIndex.beside(settings.data_dir)
    for namespace in ("a", "b"):
        keywords.drop(namespace)
    # Superseded memories are indexed and counted too; a long memory counts once, not once per part.
    assert service.reindex() == {"a": 1, "b": 3}
    for namespace, word, memory in (("a", "Quokka", quokka), ("b", "Porto", porto), ("b", "Lisbon", lisbon)):
        assert [i for i, _ in keywords.search(namespace, word, 10, SHELVES)] == [memory.id], word
    assert vault.id in {i for i, _ in keywords.search("b", "Zephyr", 10)}
    assert service.repair() == []  # every record, parts included, is in the keyword index again


def test_a_reply_in_a_thread_is_found_by_what_it_answers(settings: Settings) -> None:
    for thread_context, expected in ((True, True), (False, False)):
        settings = settings.model_copy(update={"thread_context": thread_context})
        service = open_test_service(settings.model_copy(update={"data_dir": settings.data_dir / str(thread_context)}))
        service.remember("ns", "Have you ever been to a jazz concert?", thread="chat-1")
        reply = service.remember("ns", "Yes, twice last year!", thread="chat-1").id
        parts = {m.id: m.explain for m in service.recall("ns", "jazz concert", explain=True).memories}
        assert (reply in parts and parts[reply].similarity > 0) is expected  # type: ignore[union-attr]


def test_threads_keep_their_order_across_calls(service: MemoryService) -> None:
    first = service.remember_many("ns", [MemoryInput(content=f"step {i}", thread="t") for i in range(3)])
    later = service.remember("ns", "step 3", thread="t")
    recalled = {m.id: m for m in service.recall("ns", "step", limit=10).memories}
    assert [recalled[r.id].thread for r in first] == ["t", "t", "t"]
    assert later.id in recalled


def test_remember_many_checks_every_item_before_storing_any(service: MemoryService) -> None:
    items = [MemoryInput(content="fine"), MemoryInput(content="  ")]
    with pytest.raises(InvalidInput, match="content is empty"):
        service.remember_many("ns", items)
    assert service.stats().namespaces == {}


def test_metadata_is_kept_and_checked(service: MemoryService) -> None:
    service.remember("ns", "ticket about the login bug", metadata={"ticket": "ENG-42", "priority": 2})
    assert service.recall("ns", "login bug").memories[0].metadata == {"ticket": "ENG-42", "priority": 2}
    with pytest.raises(InvalidInput, match="invalid metadata key 'Bad Key'"):
        service.remember("ns", "x", metadata={"Bad Key": 1})


def test_since_and_until_take_phrases_relative_to_now(service: MemoryService) -> None:
    service.remember("ns", "quarterly planning meeting", occurred_at="2023-03-14")
    service.remember("ns", "another planning meeting", occurred_at="2023-04-20")
    now = datetime(2023, 5, 8, tzinfo=UTC)
    march = service.recall("ns", "planning meeting", since="March 2023", until="March 2023", now=now).memories
    assert [m.content for m in march] == ["quarterly planning meeting"]
    assert [m.content for m in service.recall("ns", "planning", since="last month", now=now).memories] == [
        "another planning meeting"
    ]


def test_reindex_refuses_a_namespace_name_that_is_not_one(service: MemoryService) -> None:
    with pytest.raises(InvalidInput, match="invalid namespace"):
        service.reindex(['bad" name'])
