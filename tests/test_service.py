"""The service's behaviour on real Chroma, with a fake embedder for speed."""

from __future__ import annotations

import pytest
from conftest import open_test_service
from fakes import HashingEmbedder

from mcp_memory.core.config import Settings
from mcp_memory.core.errors import InvalidInput, ModelMismatch, NotFound
from mcp_memory.core.models import Kind
from mcp_memory.core.service import MemoryService


def contents(service: MemoryService, namespace: str, query: str, **filters: object) -> list[str]:
    return [m.content for m in service.recall(namespace, query, limit=50, **filters).memories]  # type: ignore[arg-type]


def test_a_remembered_memory_is_recalled_with_what_was_said_about_it(service: MemoryService) -> None:
    created = service.remember(
        "alice",
        "  Alice prefers tabs over spaces  ",
        tags=["Code", "code"],
        kind="preference",
        importance=0.8,
        occurred_at="2024-05-01",
        source="claude-desktop",
    )
    assert created.status == "created"
    [hit] = service.recall("alice", "tabs or spaces").memories
    assert (hit.id, hit.content, hit.kind, hit.tags, hit.source) == (
        created.id,
        "Alice prefers tabs over spaces",
        Kind.preference,
        ["code"],
        "claude-desktop",
    )
    assert hit.occurred_at is not None and hit.occurred_at.isoformat() == "2024-05-01T00:00:00+00:00"


def test_namespaces_never_see_each_other(service: MemoryService) -> None:
    service.remember("alice", "Alice lives in Lisbon")
    assert contents(service, "bob", "where does Alice live") == []
    assert contents(service, "alice", "where does Alice live") == ["Alice lives in Lisbon"]


def test_recall_ranks_the_closest_memory_first(service: MemoryService) -> None:
    service.remember("ns", "the build uses make and pytest")
    service.remember("ns", "Alice's cat is called Miso")
    assert contents(service, "ns", "what is the cat called")[0] == "Alice's cat is called Miso"


def test_remember_lists_close_existing_memories_as_similar(service: MemoryService) -> None:
    first = service.remember("ns", "the deploy script lives in ops/deploy.sh")
    unrelated = service.remember("ns", "lunch is at noon")
    second = service.remember("ns", "the deploy script lives in ops/deploy.sh now")
    assert unrelated.similar == []
    assert [s.id for s in second.similar] == [first.id]
    assert second.similar[0].score > 0.6


def test_recall_filters_by_tags_kind_and_time(service: MemoryService) -> None:
    service.remember("ns", "meeting about the api", tags=["work", "api"], kind="event", occurred_at="2024-03-10")
    service.remember("ns", "meeting about the garden", tags=["home"], kind="event", occurred_at="2024-04-02")
    service.remember("ns", "meeting notes template", tags=["work"], kind="note")
    assert contents(service, "ns", "meeting", tags=["work", "api"]) == ["meeting about the api"]
    assert sorted(contents(service, "ns", "meeting", kind="event")) == [
        "meeting about the api",
        "meeting about the garden",
    ]
    assert contents(service, "ns", "meeting", since="2024-03-01", until="2024-03-31") == ["meeting about the api"]


def test_an_until_date_includes_the_whole_day(service: MemoryService) -> None:
    service.remember("ns", "late evening call", occurred_at="2024-03-10T23:30:00+00:00")
    assert contents(service, "ns", "call", until="2024-03-10") == ["late evening call"]
    assert contents(service, "ns", "call", until="2024-03-09") == []


def test_forget_deletes_what_exists_and_reports_the_rest_missing(service: MemoryService) -> None:
    kept = service.remember("ns", "keep this one").id
    gone = service.remember("ns", "forget this one").id
    absent = "0" * 32
    result = service.forget("ns", [gone, absent])
    assert (result.forgotten, result.missing) == ([gone], [absent])
    assert [m.id for m in service.recall("ns", "this one", limit=50).memories] == [kept]


def test_forgetting_only_unknown_ids_is_an_error_that_deletes_nothing(service: MemoryService) -> None:
    service.remember("ns", "still here")
    with pytest.raises(NotFound, match="recall first"):
        service.forget("ns", ["f" * 32])
    assert contents(service, "ns", "still here") == ["still here"]


BAD_REMEMBER = [
    ({"content": ""}, "content is empty"),
    ({"content": " \n\t "}, "content is empty"),
    ({"content": "x" * (64 * 1024 + 1)}, "over the limit of 65,536"),
    ({"content": "ok", "kind": "opinion"}, "unknown kind 'opinion'"),
    ({"content": "ok", "namespace": "Not A Namespace!"}, "invalid namespace"),
    ({"content": "ok", "occurred_at": "sometime-ish"}, "is not a date"),
    ({"content": "ok", "importance": 3.0}, "importance 3.0 is out of range"),
    ({"content": "ok", "tags": [""]}, "invalid tag"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_REMEMBER)
def test_bad_input_to_remember_is_rejected_and_stores_nothing(
    service: MemoryService, arguments: dict[str, object], message: str
) -> None:
    namespace = str(arguments.pop("namespace", "ns"))
    with pytest.raises(InvalidInput, match=message):
        service.remember(namespace, **arguments)  # type: ignore[arg-type]
    assert service.stats().namespaces == {}


BAD_RECALL = [
    ({"query": " "}, "query is empty"),
    ({"query": "q", "limit": 0}, "limit 0 is out of range"),
    ({"query": "q", "limit": 51}, "limit 51 is out of range"),
    ({"query": "q", "since": "2024-13-01"}, "since: '2024-13-01' is not a date"),
    ({"query": "q", "since": "2024-05-02", "until": "2024-05-01"}, "since is later than until"),
    ({"query": "q", "kind": "opinion"}, "unknown kind"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_RECALL)
def test_bad_input_to_recall_is_rejected(service: MemoryService, arguments: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        service.recall("ns", **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ids", "message"),
    [([], "no ids given"), (["abc", "EXISTING"], "malformed id"), (["EXISTING", "0" * 31 + "Z"], "malformed id")],
)
def test_bad_ids_to_forget_are_rejected_and_delete_nothing(
    service: MemoryService, ids: list[str], message: str
) -> None:
    existing = service.remember("ns", "survivor").id
    with pytest.raises(InvalidInput, match=message):
        service.forget("ns", [existing if i == "EXISTING" else i for i in ids])
    assert service.stats().namespaces == {"ns": 1}


def test_memories_survive_reopening_the_store(settings: Settings) -> None:
    first = open_test_service(settings)
    created = first.remember("ns", "written before the restart")
    del first
    reopened = open_test_service(settings)
    assert [m.id for m in reopened.recall("ns", "restart").memories] == [created.id]


def test_a_namespace_embedded_with_another_model_is_a_clear_error(settings: Settings) -> None:
    open_test_service(settings).remember("ns", "embedded with the first model")
    other = open_test_service(settings, HashingEmbedder(name="test/other", dimension=32))
    with pytest.raises(ModelMismatch, match="MCP_MEMORY_EMBEDDING_MODEL=test/hashing"):
        other.recall("ns", "anything")
    with pytest.raises(ModelMismatch):
        other.remember("ns", "must not be stored")
    assert open_test_service(settings).stats().namespaces == {"ns": 1}


def test_stats_counts_memories_per_namespace(service: MemoryService) -> None:
    service.remember("a", "one")
    service.remember("a", "two")
    service.remember("b", "three")
    stats = service.stats()
    assert stats.namespaces == {"a": 2, "b": 1}
    assert stats.embedding_model == "test/hashing"


@pytest.mark.parametrize(
    ("value", "message"),
    [(float("nan"), "finite number"), (float("inf"), "finite number"), (2**64, "too large an integer")],
)
def test_metadata_the_store_would_change_is_refused_rather_than_stored_otherwise(
    service: MemoryService, value: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        service.remember("ns", "A memory with odd metadata.", metadata={"odd": value})  # type: ignore[dict-item]
    assert service.stats().namespaces == {}
