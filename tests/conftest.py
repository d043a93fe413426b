from __future__ import annotations

from pathlib import Path

import pytest
from fakes import HashingEmbedder

from mcp_memory.chroma_store import ChromaStore
from mcp_memory.config import Settings
from mcp_memory.service import MemoryService


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


def open_test_service(settings: Settings, embedder: HashingEmbedder | None = None) -> MemoryService:
    """The real service on real Chroma, with the fake embedder."""
    embedder = embedder or HashingEmbedder()
    store = ChromaStore(settings.data_dir, model_name=embedder.name, dimension=embedder.dimension)
    return MemoryService(store, embedder, settings)


@pytest.fixture
def service(settings: Settings) -> MemoryService:
    return open_test_service(settings)
