"""Moving a namespace to another embedding model: everything kept, vectors as the new model gives them,
and a run cut short finished by running again. Real Chroma; fake models of two names and sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromadb.api.models.Collection import Collection
from conftest import open_test_service
from fakes import HashingEmbedder
from mcp_clients import cli
from texts import FACT, QUESTION, long_note

from mcp_memory.core.config import Settings
from mcp_memory.core.errors import EmbeddingError, ModelMismatch, NotFound, StorageError
from mcp_memory.core.models import SHELVES, MemoryInput
from mcp_memory.core.reembedding import Reembedded, Reembedder
from mcp_memory.core.service import MemoryService
from mcp_memory.storage.chroma_store import ChromaStore
from mcp_memory.storage.keyword_index import KeywordIndex

CHAT = ["Shall we meet on Friday?", "Yes, twice last year.", "Then Friday at noon, the usual cafe.", "Agreed."]
NAMES = ["plain", "parking", "long", "diet", "diet2", "noon", *(f"chat{i}" for i in range(len(CHAT)))]
ID = {name: f"{n:032x}" for n, name in enumerate(NAMES, 1)}  # fixed ids, the same in every store


class NarrowEmbedder(HashingEmbedder):
    """Another model: fewer dimensions, and a narrower window, so that long memories split into more parts."""

    @property
    def window(self) -> int:
        return 24


class FailingEmbedder(NarrowEmbedder):
    """The new model, failing after `calls` calls: a run cut short mid-way."""

    def __init__(self, calls: int) -> None:
        super().__init__(name="test/new", dimension=32)
        self.calls = calls

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls -= 1
        if self.calls < 0:
            raise EmbeddingError("the model stopped")
        return super().embed(texts)


def old_model() -> HashingEmbedder:
    return HashingEmbedder(name="test/old", dimension=64)


def new_model() -> NarrowEmbedder:
    return NarrowEmbedder(name="test/new", dimension=32)


def remember_everything(service: MemoryService) -> None:
    """Plain, expiring, threaded, long and superseded memories, some of them used, with fixed ids."""
    service.remember_many(
        "ns",
        [
            MemoryInput(id=ID["plain"], content="The staging server is called XK-42.", tags=["infra"], importance=0.8),
            MemoryInput(id=ID["parking"], content="Parking permit renews next spring.", ttl="30 days"),
            MemoryInput(id=ID["long"], content=f"{long_note(words=180)}\n\n{FACT}", kind="note"),
            MemoryInput(id=ID["diet"], content="Dana eats no meat.", kind="preference", metadata={"source": "chat"}),
            *(MemoryInput(id=ID[f"chat{i}"], content=text, thread="chat") for i, text in enumerate(CHAT)),
        ],
    )
    service.remember_many(
        "ns",
        [
            MemoryInput(id=ID["diet2"], content="Dana eats fish now, but still no meat.", supersedes=[ID["diet"]]),
            MemoryInput(id=ID["noon"], content="Friday at one, not noon.", supersedes=[ID["chat2"]]),
        ],
    )
    service.recall("ns", "staging server name")


def reembedder(settings: Settings, embedder: HashingEmbedder | None = None) -> Reembedder:
    """A re-embedding to the new model, or to `embedder`, as the command opens it."""
    embedder = embedder or new_model()
    store = ChromaStore(settings.data_dir, model_name=embedder.name, dimension=embedder.dimension)
    return Reembedder(store, embedder, KeywordIndex.beside(settings.data_dir), settings)


def reembed(settings: Settings, embedder: HashingEmbedder | None = None, namespace: str = "ns") -> Reembedded:
    return reembedder(settings, embedder).reembed(namespace)


@contextmanager
def killed_in_the_swap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A run that dies in its swap: a shelf dropped, its copy not yet renamed in its place."""
    modify = Collection.modify

    def no_rename(collection: Collection, **changes: Any) -> None:
        if "name" in changes:
            raise RuntimeError("killed")
        modify(collection, **changes)

    with monkeypatch.context() as patched:
        patched.setattr(Collection, "modify", no_rename)
        with pytest.raises(StorageError, match="could not swap in"):
            yield


def vectors(data_dir: Path, embedder: HashingEmbedder) -> dict[tuple[str, str], list[float]]:
    """Every record's vector in namespace 'ns', by shelf and id, parts included."""
    store = ChromaStore(data_dir, model_name=embedder.name, dimension=embedder.dimension)
    pages = {shelf: store.page("ns", shelf, 0, 1000, embeddings=True) for shelf in SHELVES}
    return {(shelf, r.id): list(v or []) for shelf, page in pages.items() for r, v in page}


def snapshot(service: MemoryService) -> dict[str, Any]:
    """What a person sees of every memory: its fields, links, use and history (not its parts)."""
    return {
        i: (service.memory("ns", i).model_dump(exclude={"parts"}), service.history("ns", i).model_dump())
        for i in ID.values()
    }


def test_a_reembedded_namespace_keeps_every_memory_and_link_and_is_embedded_as_the_new_model_would(
    settings: Settings, tmp_path: Path
) -> None:
    before = open_test_service(settings, old_model())
    remember_everything(before)
    seen, old_parts = snapshot(before), before.memory("ns", ID["long"]).parts

    done = reembed(settings)

    assert (done.status, done.memories, done.resumed) == ("reembedded", 10, 0)
    after = open_test_service(settings, new_model())
    assert snapshot(after) == seen
    reference = open_test_service(Settings(data_dir=tmp_path / "reference"), new_model())
    remember_everything(reference)
    parts = after.memory("ns", ID["long"]).parts  # cut again to the narrower window
    assert parts == done.parts == reference.memory("ns", ID["long"]).parts > old_parts
    expected = vectors(tmp_path / "reference", new_model())
    got = vectors(settings.data_dir, new_model())
    assert sorted(got) == sorted(expected)
    for key, vector in expected.items():
        assert np.allclose(got[key], vector, atol=1e-6), key
    assert KeywordIndex.beside(settings.data_dir).count("ns") == len(got)  # the new parts indexed


def test_recall_on_the_new_model_finds_by_meaning_and_by_keyword_and_the_old_model_no_longer_lists_it(
    settings: Settings,
) -> None:
    remember_everything(open_test_service(settings, old_model()))
    reembed(settings)

    after = open_test_service(settings, new_model())
    by_meaning = after.recall("ns", QUESTION, explain=True).memories[0]
    assert by_meaning.id == ID["long"] and by_meaning.explain and by_meaning.explain.similarity > 0.3
    assert after.recall("ns", "XK-42").memories[0].id == ID["plain"]
    assert after.recall("ns", "Friday", include_superseded=True, limit=10).memories
    assert after.stats().namespaces == {"ns": 8}
    old = open_test_service(settings, old_model())
    assert old.stats().namespaces == {}
    with pytest.raises(ModelMismatch, match="`mcp-memory reembed --namespace ns --model test/old`"):
        old.recall("ns", "staging server")


def test_a_run_cut_short_leaves_the_namespace_readable_on_the_old_model_and_running_again_finishes(
    settings: Settings,
) -> None:
    before = open_test_service(settings, old_model())
    remember_everything(before)
    seen = snapshot(before)

    with pytest.raises(EmbeddingError):
        reembed(settings, FailingEmbedder(calls=3))

    old = open_test_service(settings, old_model())
    assert old.stats().namespaces == {"ns": 8}
    assert snapshot(old) == seen
    assert old.recall("ns", "XK-42", record_use=False).memories[0].id == ID["plain"]
    done = reembed(settings)
    assert done.status == "reembedded" and 0 < done.resumed < done.memories == 10
    assert snapshot(open_test_service(settings, new_model())) == seen


def test_a_namespace_changed_after_a_run_cut_short_is_copied_again_from_the_start(settings: Settings) -> None:
    remember_everything(open_test_service(settings, old_model()))
    with pytest.raises(EmbeddingError):
        reembed(settings, FailingEmbedder(calls=3))

    open_test_service(settings, old_model()).remember("ns", "Written between the two runs.")
    done = reembed(settings)

    assert (done.resumed, done.memories) == (0, 11)
    assert open_test_service(settings, new_model()).recall("ns", "between the two runs").memories


def test_a_swap_cut_short_is_finished_by_running_again(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    before = open_test_service(settings, old_model())
    remember_everything(before)
    seen = snapshot(before)
    with killed_in_the_swap(monkeypatch):
        reembed(settings)

    old = open_test_service(settings, old_model())
    assert old.stats().namespaces == {}
    with pytest.raises(ModelMismatch, match="cut short: stop the server and run the same command again"):
        old.remember("ns", "Written while the swap was cut short.")
    done = reembed(settings)
    assert (done.status, done.memories, done.embedded) == ("finished", 10, 0)
    after = open_test_service(settings, new_model())
    assert snapshot(after) == seen
    assert after.recall("ns", "XK-42").memories[0].id == ID["plain"]


def test_a_namespace_cut_short_with_its_only_shelf_dropped_is_still_listed_and_finished(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_test_service(settings, old_model()).remember("ns", "The boiler is serviced in March.")
    with killed_in_the_swap(monkeypatch):
        reembed(settings)

    assert reembedder(settings).namespaces() == ["ns"]
    assert reembedder(settings).reembed("ns").status == "finished"
    assert open_test_service(settings, new_model()).recall("ns", "boiler").memories


def test_a_namespace_already_on_the_model_is_skipped_and_an_unknown_one_is_not_found(settings: Settings) -> None:
    remember_everything(open_test_service(settings, old_model()))
    reembed(settings)

    again = reembed(settings)

    assert (again.status, again.memories, again.embedded) == ("skipped", 10, 0)
    with pytest.raises(NotFound, match="no namespace 'elsewhere'"):
        reembed(settings, namespace="elsewhere")


SEED = """
import sys
from conftest import open_test_service
from mcp_memory.core.config import Settings
service = open_test_service(Settings(data_dir=sys.argv[1]))
service.remember("dana", "Dana takes her coffee black.")
for turn in ("Did the parcel arrive?", "Yes, on Tuesday, left with the neighbour."):
    service.remember("dana", turn, thread="chat")
"""


def test_the_cli_moves_a_namespace_to_the_packaged_model_and_a_server_on_it_recalls_by_meaning(
    data_dir: Path,
) -> None:
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, str(data_dir)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr

    moved = cli(data_dir, "reembed", "--model", "all-MiniLM-L6-v2")

    assert "dana: 3 memories (0 parts) re-embedded with all-MiniLM-L6-v2" in moved.stdout
    assert "skipped" in cli(data_dir, "reembed", "--model", "all-MiniLM-L6-v2", "-n", "dana").stdout
    found = json.loads(cli(data_dir, "recall", "how does Dana drink her coffee", "-n", "dana", "--json").stdout)
    assert found["memories"][0]["content"] == "Dana takes her coffee black."
    refused = cli(data_dir, "reembed", "--model", "all-MiniLM-L6-v2", expect=1)
    assert "stop it first" in refused.stderr
