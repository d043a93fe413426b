"""The store on a Chroma server: a real `chroma run` on 127.0.0.1, started here, keeps the memories, and
memory servers with data directories of their own share them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from chroma_server import chroma_server
from conftest import open_test_service
from fakes import HashingEmbedder
from mcp import ClientSession, MCPError
from mcp_clients import cli, free_port, http_server, http_session, owner_status, stdio_session, structured

from mcp_memory.core.config import Settings
from mcp_memory.core.errors import InvalidInput, StorageError
from mcp_memory.core.models import Kind, MemoryRecord, RememberResult
from mcp_memory.core.service import MemoryService
from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.serve.shared_tokens import SharedTokens
from mcp_memory.serve.tokens import TokenStore
from mcp_memory.storage.chroma_coordination import TURNS, SharedStore, place
from mcp_memory.storage.chroma_store import ChromaServer, configured_store
from mcp_memory.storage.coordination import Change
from mcp_memory.storage.history import History


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Chroma server of the module's own, on a free loopback port."""
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


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


# -- several servers writing one namespace ----------------------------------------------------------------


def eventually(check: Callable[[], bool], *, within: float = 60.0) -> None:
    """Until `check` holds: another server applies what it reads from the journal at most once a second."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "another server's write was not seen in time"
        time.sleep(0.2)


def by_words(service: MemoryService, namespace: str, words: str) -> set[str]:
    """The memories recalled that share a word with `words` (keyword matches, not mere neighbours in meaning)."""
    found = service.recall(namespace, words, limit=10, explain=True, record_use=False).memories
    return {m.id for m in found if m.explain is not None and m.explain.keyword_rank is not None}


def test_keyword_search_and_history_on_one_server_follow_what_another_wrote(chroma_url: str, tmp_path: Path) -> None:
    first = open_test_service(on_server(chroma_url, tmp_path / "first"))
    second = open_test_service(on_server(chroma_url, tmp_path / "second"))
    second.remember("follow", "The coffee machine is on the third floor")  # the second's index of it exists
    said = first.remember("follow", "The cluster's codename is Zanzibar").id
    eventually(lambda: by_words(second, "follow", "Zanzibar") == {said})
    assert [e.event for e in second.history("follow", said).events] == ["created"]
    assert said in {m.id for m in second.recent("follow").memories}

    newer = first.remember("follow", "The cluster's codename is Zanzibar-2 now", supersedes=[said]).id
    eventually(lambda: by_words(second, "follow", "Zanzibar") == {newer})
    assert [e.event for e in second.history("follow", said).events] == ["created", "superseded"]

    first.forget("follow", [newer])
    eventually(lambda: second.history("follow", newer).state == "forgotten")
    assert not by_words(second, "follow", "Zanzibar")
    assert second.stats(only=["follow"]).namespaces == {"follow": 1}


def test_two_servers_remembering_the_same_words_at_once_store_them_once(chroma_url: str, tmp_path: Path) -> None:
    servers = [open_test_service(on_server(chroma_url, tmp_path / name)) for name in ("first", "second")]
    texts = [f"Fact number {n}: the build agent {n} runs on port {8000 + n}" for n in range(8)]
    start = threading.Barrier(2)

    def write(service: MemoryService) -> list[RememberResult]:
        start.wait()
        return [service.remember("same", text) for text in texts]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(write, servers))
    for n in range(len(texts)):
        statuses = [r[n].status for r in results]  # "similar" is new too: its words are close to another fact's
        assert statuses.count("duplicate") == 1, (n, statuses)
        assert results[0][n].id == results[1][n].id
    assert servers[0].stats(only=["same"]).namespaces == {"same": len(texts)}


def test_two_servers_appending_to_one_thread_at_once_keep_its_turns_in_one_order(
    chroma_url: str, tmp_path: Path
) -> None:
    servers = [open_test_service(on_server(chroma_url, tmp_path / name)) for name in ("first", "second")]
    start = threading.Barrier(2)

    def write(pair: tuple[int, MemoryService]) -> list[str]:
        n, service = pair
        start.wait()
        return [service.remember("turns", f"Server {n} says turn {k}", thread="standup").id for k in range(6)]

    with ThreadPoolExecutor(2) as pool:
        written = list(pool.map(write, enumerate(servers)))
    store = configured_store(on_server(chroma_url, tmp_path / "reader"), model_name="test/hashing", dimension=64)
    thread = store.thread("turns", "standup")
    assert [m.thread_seq for m in thread] == list(range(1, 13))
    for ids in written:  # each server's own turns keep the order it wrote them in
        assert [m.id for m in thread if m.id in ids] == ids


def test_a_turn_left_by_a_server_that_died_is_taken_over_and_every_server_rebuilds(
    chroma_url: str, tmp_path: Path
) -> None:
    first = open_test_service(on_server(chroma_url, tmp_path / "first"))
    second = open_test_service(on_server(chroma_url, tmp_path / "second"))
    kept = first.remember("orphan", "The backup runs at midnight").id
    turns = ChromaServer(chroma_url).client().get_collection(TURNS, embedding_function=None)
    # A server died holding the turn, after writing to the store but before telling anyone.
    turns.add(ids=["orphan"], embeddings=place(), metadatas=[{"holder": "dead/server", "until": time.time() - 1}])
    store = configured_store(on_server(chroma_url, tmp_path / "dead"), model_name="test/hashing", dimension=64)
    unheard = MemoryRecord(
        id="unheard-1",
        content="The restore drill is on Fridays",
        kind=Kind.fact,
        tags=(),
        source="dead",
        created_at=datetime.now(UTC),
        content_hash="unheard",
    )
    store.add("orphan", [unheard], HashingEmbedder().embed([unheard.content]))
    assert "unheard-1" not in by_words(first, "orphan", "restore drill Fridays")

    second.remember("orphan", "The standup is at nine")  # waits out nothing: the lease is over
    assert not turns.get(ids=["orphan"])["ids"]
    eventually(lambda: "unheard-1" in by_words(first, "orphan", "restore drill Fridays"))
    assert "unheard-1" in by_words(second, "orphan", "restore drill Fridays")
    assert kept in by_words(first, "orphan", "backup midnight")


def test_a_token_made_with_one_server_admits_on_another_until_revoked_with_either(
    chroma_url: str, tmp_path: Path
) -> None:
    """Tokens live on the Chroma server beside the memories: every server sharing them agrees on who may call."""
    laptop, desktop = tmp_path / "laptop", tmp_path / "desktop"
    laptop.mkdir(mode=0o700)
    TokenStore(laptop).create("made-before", ["crew"])  # before the laptop's server shared its store
    shared = {"MCP_MEMORY_CHROMA_URL": chroma_url}
    token = cli(laptop, "token", "create", "--name", "cursor", "--namespace", "crew", **shared).stdout.strip()
    listed = cli(desktop, "token", "list", **shared).stdout
    assert "cursor" in listed and "made-before" in listed  # the file's tokens moved to the Chroma server
    assert not (laptop / "tokens.json").exists()
    assert SharedTokens(ChromaServer(chroma_url).client()).create_first("default", ["crew"]) is None

    async def scenario(url: str) -> None:
        async with http_session(url, "cursor", token=token) as session:
            assert structured(await session.call_tool("recall", {"query": "anything"}))["memories"] == []
            cli(laptop, "token", "revoke", "cursor", **shared)
            with pytest.raises(MCPError, match="error response"), anyio.fail_after(60):
                await session.call_tool("recall", {"query": "anything"})

    with http_server(desktop, **shared) as url:
        anyio.run(scenario, url)


def coordination(url: str, home: Path) -> tuple[SharedStore, list[Change]]:
    """A server's coordination alone, with a follower that keeps what it is given."""
    shared = SharedStore(ChromaServer(url).client(), History(home / "history.sqlite3"))
    given: list[Change] = []
    shared.follow(given.append)
    return shared, given


def test_a_server_that_stalled_past_its_lease_numbers_its_record_after_the_taker_s_and_all_rebuild(
    chroma_url: str, tmp_path: Path
) -> None:
    slow, _ = coordination(chroma_url, tmp_path / "slow")
    quick, _ = coordination(chroma_url, tmp_path / "quick")
    reader, given = coordination(chroma_url, tmp_path / "reader")
    turns = ChromaServer(chroma_url).client().get_collection(TURNS, embedding_function=None)
    with slow.writing("stall"):
        slow.note_ids("stall", ["written-by-slow"])
        turns.update(ids=["stall"], metadatas=[{"until": time.time() - 1}])  # as if it stalled for 30 s
        with quick.writing("stall"):
            quick.note_ids("stall", ["written-by-quick"])
    reader.catch_up("stall")
    [replayed] = given
    assert replayed.ids == {"written-by-slow", "written-by-quick"}
    assert replayed.rebuild  # the two wrote side by side: every server rebuilds the namespace
    assert replayed.followed is not None and replayed.followed[1] == 2


def test_a_turn_whose_record_the_chroma_server_refused_is_left_to_its_lease_and_its_taker_has_all_rebuild(
    chroma_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, _ = coordination(chroma_url, tmp_path / "writer")
    other, _ = coordination(chroma_url, tmp_path / "other")
    reader, given = coordination(chroma_url, tmp_path / "reader")
    journal = writer._journal

    def refused(*args: Any, **kwargs: Any) -> None:
        raise OSError("connection reset")

    with monkeypatch.context() as patched:
        patched.setattr(journal, "add", refused)
        with writer.writing("late"):  # the write is done and stays acknowledged: no error for it
            writer.note_ids("late", ["first"])
    turns = ChromaServer(chroma_url).client().get_collection(TURNS, embedding_function=None)
    assert turns.get(ids=["late"])["ids"] == ["late"]  # not ended: left to its lease
    turns.update(ids=["late"], metadatas=[{"until": time.time() - 1}])  # as if its 30 s were over
    with other.writing("late"):
        other.note_ids("late", ["second"])
    reader.catch_up("late")
    [replayed] = given
    assert replayed.rebuild and replayed.ids == {"second"}


def test_a_server_keeps_its_name_across_restarts_so_its_own_records_are_not_replayed_to_it(tmp_path: Path) -> None:
    assert History(tmp_path / "h.sqlite3").server_id() == History(tmp_path / "h.sqlite3").server_id()
    assert History(tmp_path / "h.sqlite3").server_id() != History(tmp_path / "other.sqlite3").server_id()


def test_a_server_writing_without_pause_lets_a_waiting_server_have_its_turn(chroma_url: str, tmp_path: Path) -> None:
    """Liveness: the waiter gets a turn while the busy server goes on writing (it pauses for the waiter's mark)."""
    busy, _ = coordination(chroma_url, tmp_path / "busy")
    other, _ = coordination(chroma_url, tmp_path / "other")
    got_in, started = threading.Event(), threading.Event()

    def write_on() -> bool:
        """Turn after turn until the other server got one; False if it never did in a minute."""
        deadline = time.monotonic() + 60  # far longer than a fair wait
        while time.monotonic() < deadline:
            with busy.writing("busy"):
                started.set()
            if got_in.is_set():
                return True
        return False

    with ThreadPoolExecutor(1) as pool:
        writing = pool.submit(write_on)
        started.wait()
        with other.writing("busy"):
            got_in.set()
        assert writing.result(), "the busy server kept the turn to itself"


def test_two_servers_superseding_one_memory_at_once_supersede_it_once(chroma_url: str, tmp_path: Path) -> None:
    servers = [open_test_service(on_server(chroma_url, tmp_path / name)) for name in ("first", "second")]
    old = servers[0].remember("renamed", "The project is called Falcon").id
    start = threading.Barrier(2)

    def supersede(pair: tuple[int, MemoryService]) -> str:
        n, service = pair
        start.wait()
        try:
            return service.remember("renamed", f"The project is called Heron-{n}", supersedes=[old]).id
        except InvalidInput as refused:  # the other came first: the old memory is superseded already
            assert "superseded by" in str(refused)
            return ""

    with ThreadPoolExecutor(2) as pool:
        newer = [i for i in pool.map(supersede, enumerate(servers)) if i]
    assert len(newer) == 1
    history = servers[0].history("renamed", old)
    assert [e.event for e in history.events] == ["created", "superseded"] and history.state == "superseded"


def test_hosts_on_two_memory_servers_writing_one_namespace_at_once_lose_and_double_nothing(
    chroma_url: str, tmp_path: Path
) -> None:
    """Two owners with data directories of their own, over MCP, remembering into one namespace at the same time."""
    homes = [tmp_path / "laptop", tmp_path / "desktop"]
    said: dict[int, list[str]] = {}

    async def host(n: int) -> None:
        async with stdio_session(homes[n], f"host-{n}", "busy", MCP_MEMORY_CHROMA_URL=chroma_url) as session:
            ids = []
            for k in range(12):
                content = f"Host {n} note {k}: the {WORDS[(n * 12 + k) % len(WORDS)]} ticket is closed"
                ids.append(structured(await session.call_tool("remember", {"content": content}))["id"])
            shared = "Both hosts note that the quarterly review moved to Thursday"
            ids.append(structured(await session.call_tool("remember", {"content": shared}))["id"])
            said[n] = ids

    async def scenario() -> None:
        async with anyio.create_task_group() as hosts:
            for n in range(2):
                hosts.start_soon(host, n)
        assert said[0][-1] == said[1][-1]  # the same words from both: one memory
        for n in range(2):  # each finds the other's by a word of it alone
            async with stdio_session(homes[n], "checker", "busy", MCP_MEMORY_CHROMA_URL=chroma_url) as session:
                other = 1 - n
                word = WORDS[(other * 12 + 5) % len(WORDS)]

                async def found(session: ClientSession = session, word: str = word) -> set[str]:
                    answer = await session.call_tool("recall", {"query": word, "limit": 5, "explain": True})
                    return {m["id"] for m in structured(answer)["memories"] if m["explain"]["keyword_rank"] is not None}

                with anyio.fail_after(60):
                    while said[other][5] not in await found():
                        await anyio.sleep(0.2)
                assert (await owner_status(session))["namespaces"]["busy"] == 25

    try:
        anyio.run(scenario)
    finally:
        for home in homes:
            stop_owner(OwnerFiles(home))


WORDS = [
    "amber",
    "birch",
    "cobalt",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lagoon",
    "marble",
    "nectar",
    "obsidian",
    "pepper",
    "quartz",
    "raven",
    "saffron",
    "tundra",
    "umber",
    "velvet",
    "walnut",
    "xenon",
    "yarrow",
    "zephyr",
]


def test_browsing_a_namespace_on_the_chroma_server_pages_latest_first(chroma_url: str, tmp_path: Path) -> None:
    service = open_test_service(on_server(chroma_url, tmp_path / "a"))
    for day in range(1, 8):
        service.remember("pages", f"Day {day} of the trip", tags=["trip"], occurred_at=f"2026-03-0{day}T09:00:00Z")
    page = service.browse("pages", tags=["trip"], offset=2, limit=3)
    assert page.total == 7 and [m.content for m in page.memories] == [
        "Day 5 of the trip",
        "Day 4 of the trip",
        "Day 3 of the trip",
    ]


def test_the_overview_of_a_namespace_on_the_chroma_server_counts_by_month_kind_and_host(
    chroma_url: str, tmp_path: Path
) -> None:
    service = open_test_service(on_server(chroma_url, tmp_path / "a"))
    service.remember("glance", "A fact in March", occurred_at="2026-03-02T09:00:00Z", source="cursor")
    service.remember("glance", "A preference in April", kind="preference", occurred_at="2026-04-02T09:00:00Z")
    seen = service.overview("glance")
    assert seen.total == 2 and seen.months == ["2026-03", "2026-04"]
    assert {s.name: s.counts for s in seen.by_kind} == {"fact": [1, 0], "preference": [0, 1]}
