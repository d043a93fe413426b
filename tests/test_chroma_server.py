"""The store on a Chroma server: a real `chroma run` on 127.0.0.1, started here, keeps the memories, and
memory servers with data directories of their own share them."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import anyio
import pytest
from conftest import open_test_service
from mcp_clients import free_port, stdio_session, structured

from mcp_memory.core.config import Settings
from mcp_memory.core.errors import StorageError
from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.storage.chroma_store import ChromaServer, configured_store

CHROMA = Path(sys.executable).with_name("chroma")
STARTING = 120.0  # seconds a Chroma server may take to answer, on a loaded machine


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Chroma server of the module's own, on a free loopback port."""
    path, port = tmp_path_factory.mktemp("chroma-server"), free_port()
    with (path / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTING
        while True:
            assert server.poll() is None, (path / "server.log").read_text()
            try:
                ChromaServer(url).client().heartbeat()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def on_server(url: str, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, chroma_url=url)


def test_memories_are_kept_on_the_server_and_found_by_meaning_words_and_filters(
    chroma_url: str, tmp_path: Path
) -> None:
    service = open_test_service(on_server(chroma_url, tmp_path / "a"))
    kept = service.remember("kept", "The staging database is called Quokka", tags=["infra"]).id
    lunch = service.remember("kept", "Lunch is at noon on Fridays", tags=["office"]).id
    assert service.recall("kept", "what is the staging database called?").memories[0].id == kept
    assert [m.id for m in service.recall("kept", "Quokka", tags=["infra"]).memories] == [kept]
    assert [m.id for m in service.recall("kept", "Quokka", tags=["office"]).memories] == [lunch]
    assert service.stats(only=["kept"]).namespaces == {"kept": 2}
    assert not (tmp_path / "a" / "chroma").exists()  # nothing of Chroma's in the data directory
    names = {c.name for c in ChromaServer(chroma_url).client().list_collections()}
    assert "mem-kept" in names


def test_a_second_memory_server_recalls_what_the_first_remembered_and_not_what_it_forgot(
    chroma_url: str, tmp_path: Path
) -> None:
    first = open_test_service(on_server(chroma_url, tmp_path / "first"))
    second = open_test_service(on_server(chroma_url, tmp_path / "second"))
    gone = first.remember("shared", "The wifi password hint is the name of the office plant").id
    kept = first.remember("shared", "Deploys happen on Tuesdays after the standup").id
    assert second.recall("shared", "when do deploys happen?").memories[0].id == kept
    first.forget("shared", [gone])
    assert gone not in {m.id for m in second.recall("shared", "wifi password hint office plant", limit=10).memories}


def test_a_namespace_another_server_erased_and_began_again_is_opened_anew(chroma_url: str, tmp_path: Path) -> None:
    first = open_test_service(on_server(chroma_url, tmp_path / "first"))
    second = open_test_service(on_server(chroma_url, tmp_path / "second"))
    first.remember("again", "The old office was in Porto")
    assert second.recall("again", "where was the office?").memories  # the second holds the collection now
    first.forget("again", everything=True, confirm="again")
    fresh = first.remember("again", "The new office is in Lisbon").id
    with suppress(StorageError):  # a call may find its collection gone: "call again"
        second.recall("again", "where is the office?")
    assert [m.id for m in second.recall("again", "where is the office?").memories] == [fresh]


def test_a_url_that_names_no_chroma_server_is_a_clear_error(tmp_path: Path) -> None:
    for url in ("ftp://127.0.0.1:8000", "http://127.0.0.1:8000/some/path", "127.0.0.1:8000"):
        with pytest.raises(StorageError, match="must be http"):
            configured_store(on_server(url, tmp_path), model_name="test/hashing", dimension=64)
    with pytest.raises(StorageError, match="could not open the store"):
        configured_store(on_server(f"http://127.0.0.1:{free_port()}", tmp_path), model_name="m", dimension=64)


def test_hosts_on_two_memory_servers_share_memories_through_the_chroma_server(chroma_url: str, tmp_path: Path) -> None:
    """Two owners, each with its own data directory, as two machines would run them; MCP over stdio."""
    homes = [tmp_path / "laptop", tmp_path / "desktop"]

    async def scenario() -> None:
        async with stdio_session(homes[0], "laptop", "team", MCP_MEMORY_CHROMA_URL=chroma_url) as laptop:
            said = structured(await laptop.call_tool("remember", {"content": "The release train leaves on Thursdays"}))
        async with stdio_session(homes[1], "desktop", "team", MCP_MEMORY_CHROMA_URL=chroma_url) as desktop:
            found = structured(await desktop.call_tool("recall", {"query": "when does the release train leave?"}))
            assert found["memories"][0]["id"] == said["id"]
            assert found["memories"][0]["source"] == "laptop"

    try:
        anyio.run(scenario)
    finally:
        for home in homes:
            stop_owner(OwnerFiles(home))
    assert not any((home / "chroma").exists() for home in homes)
