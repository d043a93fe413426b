from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import HashingEmbedder

from mcp_memory.core.config import Settings
from mcp_memory.core.service import MemoryService
from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.storage.chroma_store import configured_store
from mcp_memory.storage.history import History
from mcp_memory.storage.keyword_index import KeywordIndex


@pytest.fixture(autouse=True)
def _no_chroma_server_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's MCP_MEMORY_CHROMA_* must never send the suite's writes and drops to a real store."""
    for name in ("MCP_MEMORY_CHROMA_URL", "MCP_MEMORY_CHROMA_TOKEN", "MCP_MEMORY_CHROMA_CA_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A fresh data directory; a server that the test's bridges started there is stopped after it."""
    path = tmp_path / "data"
    yield path
    stop_owner(OwnerFiles(path))


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


def open_test_service(settings: Settings, embedder: HashingEmbedder | None = None) -> MemoryService:
    """The real service on real Chroma (embedded, or the server the settings name), with the fake embedder."""
    embedder = embedder or HashingEmbedder()
    store = configured_store(settings, model_name=embedder.name, dimension=embedder.dimension)
    keywords = KeywordIndex.beside(settings.data_dir)
    history = History(settings.data_dir / "history.sqlite3")
    return MemoryService(store, embedder, keywords, history, settings, store.coordination(history))


@pytest.fixture
def service(settings: Settings) -> MemoryService:
    return open_test_service(settings)
