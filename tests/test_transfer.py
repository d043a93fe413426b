"""Export and import through the CLI, as a person moving their memory to another machine: the real model,
real Chroma, the owner reached over its socket."""

from __future__ import annotations

import base64
import gzip
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mcp_clients import cli, http_server, http_session, stdio_session, structured
from texts import QUESTION, long_note

from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.serve.tokens import TokenStore
from mcp_memory.serve.transfer_tools import CLI_TOOLS

TURNS = ["Did the deploy go out?", "Yes, twice last year.", "Which region was it?", "Frankfurt, on a Tuesday."]


async def fill(data_dir: Path) -> dict[str, str]:
    """A namespace as a host leaves it: a changed preference, a conversation, a long note, a reminder, some use."""
    ids = {}
    async with stdio_session(data_dir, "claude-desktop", "alice") as session:

        async def remember(content: str, **options: Any) -> str:
            return str(structured(await session.call_tool("remember", {"content": content, **options}))["id"])

        ids["old"] = await remember("Alice writes code in vim.", kind="preference")
        ids["new"] = await remember("Alice moved from vim to helix.", kind="preference", supersedes=[ids["old"]])
        for n, turn in enumerate(TURNS):
            ids[f"turn{n}"] = await remember(turn, thread="standup-2026-03-03", occurred_at="2026-03-03")
        ids["long"] = await remember(long_note(), tags=["handbook"], importance=0.9)
        ids["reminder"] = await remember("The staging certificate needs renewing.", ttl="30 days")
        await session.call_tool("recall", {"query": "which editor does Alice use?"})
    return ids


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Two data directories, as on two machines; the servers the test started in them are stopped after it."""
    here, there = tmp_path / "laptop", tmp_path / "desktop"
    yield here, there
    for data_dir in (here, there):
        stop_owner(OwnerFiles(data_dir))


def lines(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, Any]]:
    """An export's header, its memories by id, and its end line."""
    header, *memories, end = [json.loads(line) for line in path.read_text().splitlines()]
    return header, {m["id"]: m for m in memories}, end


def without_vectors(memory: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in memory.items() if k not in {"vector", "part_vectors"}}


async def test_a_namespace_moved_to_another_machine_keeps_every_field_of_every_memory(
    tmp_path: Path, machines: tuple[Path, Path]
) -> None:
    here, there = machines
    ids = await fill(here)
    exported = tmp_path / "alice.jsonl"
    cli(here, "export", "-n", "alice", "--history", "--vectors", "-o", str(exported))
    header, before, end = lines(exported)
    assert (header["format"], header["version"], header["namespace"], end["memories"]) == (
        "mcp-memory",
        1,
        "alice",
        len(ids),
    )
    assert set(before) == set(ids.values())

    report = json.loads(cli(there, "import", str(exported), "-n", "alice", "--json").stdout)
    assert (report["imported"], report["embedded"], report["skipped"]) == (len(ids), 0, [])
    cli(there, "export", "-n", "alice", "--history", "--vectors", "-o", str(tmp_path / "again.jsonl"))
    _, after, _ = lines(tmp_path / "again.jsonl")
    for memory_id, memory in before.items():
        assert without_vectors(after[memory_id]) == without_vectors(memory)
    assert before[ids["old"]]["superseded_by"] == ids["new"]
    assert [before[ids[f"turn{n}"]]["thread_seq"] for n in range(4)] == [1, 2, 3, 4]
    assert before[ids["new"]]["access_count"] == 1 and "expires_at" in before[ids["reminder"]]
    assert [e["event"] for e in before[ids["old"]]["history"]] == ["created", "superseded"]

    again = json.loads(cli(there, "import", str(exported), "-n", "alice", "--json").stdout)
    assert (again["imported"], again["present"]) == (0, len(ids))


async def test_an_import_without_vectors_embeds_again_and_recalls_as_the_original_did(
    tmp_path: Path, machines: tuple[Path, Path]
) -> None:
    here, there = machines
    ids = await fill(here)
    cli(here, "export", "-n", "alice", "--vectors", "-o", str(tmp_path / "with.jsonl"))
    cli(here, "export", "-n", "alice", "-o", str(tmp_path / "without.jsonl"))
    report = json.loads(cli(there, "import", str(tmp_path / "without.jsonl"), "-n", "alice", "--json").stdout)
    assert report["imported"] == len(ids) and report["embedded"] > len(ids)  # the note's parts, the thread's views
    cli(there, "export", "-n", "alice", "--vectors", "-o", str(tmp_path / "rebuilt.jsonl"))
    _, original, _ = lines(tmp_path / "with.jsonl")
    _, rebuilt, _ = lines(tmp_path / "rebuilt.jsonl")
    for memory_id in original:  # the same model on the same words: the same vectors, up to float rounding
        a, b = (np.frombuffer(base64.b64decode(m[memory_id]["vector"]), "<f4") for m in (original, rebuilt))
        assert float(a @ b) > 0.9999, original[memory_id]["content"]

    queries = ["Which region did the deploy go to?", QUESTION, "Alice's code editor", "certificate renewal"]
    answers = {}
    for machine in (here, there):
        async with stdio_session(machine, "cursor", "alice") as session:
            answers[machine] = [
                [m["id"] for m in structured(await session.call_tool("recall", {"query": q}))["memories"]]
                for q in queries
            ]
    assert answers[there] == answers[here]
    assert ids["turn3"] in answers[there][0] and answers[there][1][0] == ids["long"]
    assert ids["new"] in answers[there][2] and ids["old"] not in answers[there][2]


def test_a_broken_file_imports_nothing_and_names_each_bad_line_unless_told_to_skip_them(
    data_dir: Path, tmp_path: Path
) -> None:
    cli(data_dir, "remember", "Ravi prefers morning meetings.", "-n", "ravi")
    cli(data_dir, "remember", "Ravi's team ships on Thursdays.", "-n", "ravi")
    cli(data_dir, "remember", "Ravi is allergic to peanuts.", "-n", "ravi")
    good = tmp_path / "ravi.jsonl"
    cli(data_dir, "export", "-n", "ravi", "-o", str(good))
    header, first, second, third, end = good.read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    empty = json.dumps({**json.loads(third), "content": "  "})
    broken.write_text("\n".join([header, first, "{not json", empty, end]) + "\n")

    refused = cli(data_dir, "import", str(broken), "-n", "copy", expect=2)
    assert "nothing was imported" in refused.stderr
    assert "line 3: not JSON" in refused.stderr and "line 4: content is empty" in refused.stderr
    assert "copy" not in json.loads(cli(data_dir, "stats", "--json").stdout)["namespaces"]

    skipped = json.loads(cli(data_dir, "import", str(broken), "-n", "copy", "--skip-bad", "--json").stdout)
    assert (skipped["imported"], [line for line, _ in skipped["skipped"]]) == (1, [3, 4])

    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join([header, first, second]) + "\n")
    refused = cli(data_dir, "import", str(cut), "-n", "other", expect=2)
    assert "cut short after 2 memories" in refused.stderr


async def test_hosts_do_not_see_the_transfer_tools_and_tokens_transfer_only_what_they_may(data_dir: Path) -> None:
    tokens = TokenStore(data_dir)
    reader = tokens.create("reader", ["alice"], read_only=True)
    bob = tokens.create("bob", ["bob"])
    with http_server(data_dir) as url:
        async with http_session(url, "claude-desktop", "alice") as session:
            listed = {tool.name for tool in (await session.list_tools()).tools}
            assert listed == {"remember", "remember_many", "recall", "forget"} and not listed & CLI_TOOLS
            await session.call_tool("remember", {"content": "Alice's locker code is on the team wiki."})
        async with http_session(url, "script", token=reader) as session:
            page = structured(await session.call_tool("export_memories", {}))
            assert [m["content"] for m in page["memories"]] == ["Alice's locker code is on the team wiki."]
            refused = await session.call_tool("import_memories", {"memories": [{"content": "Injected."}]})
            assert refused.is_error and "read-only" in refused.content[0].text  # type: ignore[union-attr]
        async with http_session(url, "script", "alice", token=bob) as session:
            refused = await session.call_tool("export_memories", {})
            assert refused.is_error and "alice" in refused.content[0].text  # type: ignore[union-attr]
        async with http_session(url, "script", token=bob) as session:
            assert structured(await session.call_tool("export_memories", {}))["memories"] == []


FOREIGN = Path(__file__).parent / "fixtures" / "foreign"
# file, namespace, a question, what the best answer says, its source, and the broken records' lines (README there)
FROM_OTHER_TOOLS = [
    ("reference-memory.jsonl", "graph", "Which city is Maya based in?", "Lisbon", "mcp-reference-memory", 5),
    ("mem0-get-all.json", "mem0", "Where does Maya live?", "Lisbon", "mem0", 5),
    ("openmemory-backup.zip", "openmem", "Where does Maya live?", "Lisbon", "claude", 0),  # remembered 2025-05-03
    ("mcp-memory-service-export.json", "service", "Which Python installer?", "uv", "mcp-memory-service", None),
    ("memory-page.md", "page", "Is she allergic to anything?", "peanuts", "text:memory-page.md", 0),
    ("saved-memories.txt", "saved", "How often does she run?", "5 km", "text:saved-memories.txt", 0),
]


def test_memories_from_other_tools_are_imported_and_recalled_with_their_source_and_time(
    data_dir: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(tmp_path / "openmemory-backup.zip", "w") as backup:  # as OpenMemory's export packs them
        with backup.open("memories.jsonl.gz", "w") as member:
            member.write(gzip.compress((FOREIGN / "openmemory-memories.jsonl").read_bytes()))
        backup.write(FOREIGN / "openmemory-memories.json", "memories.json")
    for name, namespace, question, answer, source, broken in FROM_OTHER_TOOLS:
        path = tmp_path / name if name.endswith(".zip") else FOREIGN / name
        if broken:
            refused = cli(data_dir, "import", str(path), "-n", namespace, expect=2)
            assert f"has {broken} problem(s), so nothing was imported" in refused.stderr, name
        report = json.loads(cli(data_dir, "import", str(path), "-n", namespace, "--skip-bad", "--json").stdout)
        assert report["imported"] > 3 and (broken is None or len(report["skipped"]) >= broken), (name, report)
        found = json.loads(cli(data_dir, "recall", question, "-n", namespace, "--json").stdout)["memories"]
        assert answer.lower() in found[0]["content"].lower() and found[0]["source"] == source, (name, found[0])
        if name.endswith(".zip"):
            assert found[0]["created_at"].startswith("2025-05-03T10:00:00")
        again = json.loads(cli(data_dir, "import", str(path), "-n", namespace, "--skip-bad", "--json").stdout)
        assert (again["imported"], again["present"]) == (0, report["imported"]), name


def test_namespaces_are_listed_copied_merged_and_renamed_keeping_every_memorys_id(data_dir: Path) -> None:
    for fact in ["Team standup is at 09:30.", "The release train leaves on Fridays.", "Staging runs on k3s."]:
        cli(data_dir, "remember", fact, "-n", "team-a")
    cli(data_dir, "remember", "Staging runs on k3s.", "-n", "team-b")
    cli(data_dir, "remember", "Team B reviews on Mondays.", "-n", "team-b")
    ids = {m["content"]: m["id"] for m in exported_memories(data_dir, "team-a")}

    copied = cli(data_dir, "namespaces", "copy", "team-a", "archive").stdout
    assert "3 copied" in copied and {m["id"] for m in exported_memories(data_dir, "archive")} == set(ids.values())
    merged = cli(data_dir, "namespaces", "merge", "team-a", "team-b").stdout
    assert "2 moved" in merged and "1 already there" in merged  # the same words were there already
    cli(data_dir, "namespaces", "rename", "archive", "team-a-2025")
    assert json.loads(cli(data_dir, "namespaces", "--json").stdout) == {"team-a-2025": 3, "team-b": 4}
    refused = cli(data_dir, "namespaces", "rename", "team-b", "team-a-2025", expect=2)
    assert "use `namespaces merge`" in refused.stderr
    assert cli(data_dir, "namespaces", "copy", "nobody", "x", expect=2).stderr.startswith("error: there is no")


def exported_memories(data_dir: Path, namespace: str) -> list[dict[str, Any]]:
    lines = cli(data_dir, "export", "-n", namespace).stdout.splitlines()
    return [json.loads(line) for line in lines[1:-1]]


def test_a_file_of_several_calls_is_stored_in_the_files_order_where_two_calls_could_contend(
    data_dir: Path, tmp_path: Path
) -> None:
    """2,050 memories go in three calls, two with the owner at once. The second continues a conversation of
    the first and repeats one of its memories, so it waits for the first; the third goes beside it."""
    header = {"type": "header", "format": "mcp-memory", "version": 1, "namespace": "bulk"}
    header |= {"model": "sentence-transformers/all-MiniLM-L6-v2", "exported_at": "2026-06-01T12:00:00Z"}
    memories = [
        {"type": "memory", "content": f"Entry {n}: the review of part {n} moved to week {n % 52}.", "thread": thread}
        for n in range(2050)
        for thread in ["standup" if 990 <= n < 1010 else None]
    ]
    memories[1500]["content"] = memories[10]["content"].upper()  # the same words, in the second call
    path = tmp_path / "bulk.jsonl"
    rows = [header, *memories, {"type": "end", "memories": len(memories)}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))

    report = json.loads(cli(data_dir, "import", str(path), "-n", "bulk", "--json").stdout)
    assert report["imported"] == 2049
    assert [line for line, _ in report["skipped"]] == [1502]  # the header is line 1: memory n is line n + 2
    cli(data_dir, "export", "-n", "bulk", "-o", str(tmp_path / "out.jsonl"))
    _, stored, _ = lines(tmp_path / "out.jsonl")
    turns = sorted((m for m in stored.values() if m.get("thread") == "standup"), key=lambda m: m["thread_seq"])
    assert [m["thread_seq"] for m in turns] == list(range(1, 21))
    assert [m["content"] for m in turns] == [memories[n]["content"] for n in range(990, 1010)]
    assert memories[10]["content"] in {m["content"] for m in stored.values()}
