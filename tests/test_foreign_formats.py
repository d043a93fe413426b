"""Other tools' memory files are read into memories the importer would accept, and their broken records reported."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mcp_memory.core.config import Settings
from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import Kind, MemoryInput
from mcp_memory.core.timeparse import parse_optional
from mcp_memory.core.validation import (
    check_content,
    check_created_at,
    check_ids,
    check_importance,
    check_kind,
    check_metadata,
    check_source,
    check_tags,
    check_thread,
)
from mcp_memory.transfer.entries import BadEntry, Entry, stable_id
from mcp_memory.transfer.formats import FORMATS, READERS, detect
from mcp_memory.transfer.mem0 import read_mem0
from mcp_memory.transfer.memory_service import read_memory_service
from mcp_memory.transfer.openmemory import open_openmemory_backup, read_openmemory
from mcp_memory.transfer.plain_text import read_markdown, read_text
from mcp_memory.transfer.reference_graph import read_reference_graph

FIXTURES = Path(__file__).parent / "fixtures" / "foreign"
FIXTURE_FORMATS = {
    "reference-memory.jsonl": "mcp-reference-memory",
    "mem0-get-all.json": "mem0",
    "mem0-platform-get-all.json": "mem0",
    "openmemory-memories.jsonl": "openmemory",
    "openmemory-memories.json": "openmemory",
    "mcp-memory-service-export.json": "mcp-memory-service",
    "memory-page.md": "markdown",
    "saved-memories.txt": "text",
}
MAX_CONTENT_BYTES = Settings.model_fields["max_content_bytes"].default


def read(name: str) -> list[Entry | BadEntry]:
    reader = READERS[FIXTURE_FORMATS[name]]
    with (FIXTURES / name).open(encoding="utf-8") as stream:
        return list(reader(stream, name))


def memories(entries: list[Entry | BadEntry]) -> list[MemoryInput]:
    return [e.memory for e in entries if isinstance(e, Entry)]


def bad_lines(entries: list[Entry | BadEntry]) -> list[int]:
    return [e.line for e in entries if isinstance(e, BadEntry)]


def by_content(entries: list[Entry | BadEntry]) -> dict[str, MemoryInput]:
    return {m.content: m for m in memories(entries)}


def assert_importable(memory: MemoryInput) -> None:
    """Every check the importer makes on a memory passes, and nothing would be changed by it."""
    now = datetime.now(UTC)
    assert check_content(memory.content, MAX_CONTENT_BYTES) == memory.content
    assert memory.id is not None and check_ids([memory.id]) == [memory.id]
    check_kind(memory.kind)
    assert list(check_tags(memory.tags)) == memory.tags
    assert memory.source is not None and check_source(memory.source) == memory.source
    if memory.created_at is not None:
        check_created_at(memory.created_at, now)
    assert check_metadata(memory.metadata) == memory.metadata
    check_importance(memory.importance)
    check_thread(memory.thread)
    parse_optional(memory.expires_at, "expires_at", now=now, future=True)
    assert memory.ttl is None and memory.supersedes == []


# The reference memory server's knowledge graph


def test_the_reference_servers_observations_become_memories_that_name_their_entity() -> None:
    found = by_content(read("reference-memory.jsonl"))
    memory = found["Maya_Okafor: Prefers Python type hints on every public function"]
    assert memory.tags == ["maya_okafor", "person"]
    assert memory.source == "mcp-reference-memory"
    assert memory.kind == Kind.fact
    assert memory.created_at is None  # the graph keeps no times: the import dates it
    assert memory.metadata == {"entity": "Maya_Okafor", "entity_type": "person"}
    assert memory.id == stable_id(
        "mcp-reference-memory", "Maya_Okafor", "Prefers Python type hints on every public function"
    )
    assert found["Tomás_Reyes: Reviews architecture docs on Fridays"].tags == ["tomás_reyes", "person"]


def test_the_reference_servers_relations_become_memories_tagged_with_both_entities() -> None:
    found = by_content(read("reference-memory.jsonl"))
    relation = found["Maya_Okafor works at Northwind_Analytics"]
    assert relation.tags == ["maya_okafor", "northwind_analytics", "relation"]
    assert relation.metadata == {"from": "Maya_Okafor", "relation": "works_at", "to": "Northwind_Analytics"}
    assert relation.source == "mcp-reference-memory"
    relations = [m for m in found.values() if "relation" in m.tags]
    assert len(relations) == 9


def test_an_entity_name_longer_than_a_tag_is_cut_to_the_tag_limit_but_kept_whole_in_metadata() -> None:
    long_name = "Kubernetes_Cluster_Production_EU_West_1_Primary_Reporting_Workloads_2025"
    memory = by_content(read("reference-memory.jsonl"))[f"{long_name}: Runs the Dagster daemon and the webserver"]
    assert memory.tags == [long_name.lower()[:64], "infrastructure"]
    assert memory.metadata["entity"] == long_name


def test_broken_lines_of_a_reference_graph_are_reported_by_line_and_the_rest_is_read() -> None:
    entries = read("reference-memory.jsonl")
    assert bad_lines(entries) == [6, 8, 9, 19, 23]
    assert len(memories(entries)) == 26
    reasons = {e.line: e.reason for e in entries if isinstance(e, BadEntry)}
    assert "not a line of JSON" in reasons[6]
    assert "entityType" in reasons[8]
    assert "observation 2 of entity 'Weekly_Sync'" in reasons[9]
    assert '"to"' in reasons[19]
    assert "entity or a relation" in reasons[23]
    # the good observations of line 9 are read around the bad one
    assert [e.memory.content for e in entries if isinstance(e, Entry) and e.line == 9] == [
        "Weekly_Sync: Happens every Tuesday at 14:00 Lisbon time",
        "Weekly_Sync: Notes are kept in the team wiki",
    ]


def test_reading_a_graph_again_gives_the_same_ids() -> None:
    first, again = memories(read("reference-memory.jsonl")), memories(read("reference-memory.jsonl"))
    assert [m.id for m in first] == [m.id for m in again]
    assert len({m.id for m in first}) == len(first)


def test_files_saved_with_a_byte_order_mark_and_windows_line_ends_are_read_alike() -> None:
    for name, reader in [
        ("reference-memory.jsonl", read_reference_graph),
        ("openmemory-memories.jsonl", read_openmemory),
    ]:
        text = "\ufeff" + (FIXTURES / name).read_text().replace("\n", "\r\n")
        assert list(reader(io.StringIO(text, newline=""), name)) == read(name)


class GeneratedGraph(io.TextIOBase):
    """A memory.jsonl of `lines` lines, made as it is read, counting the lines handed out."""

    def __init__(self, lines: int) -> None:
        self.lines, self.served = lines, 0

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        if self.served == self.lines:
            return ""
        self.served += 1
        n = self.served
        if n % 2:
            record = {"type": "entity", "name": f"Entity_{n}", "entityType": "thing", "observations": [f"Fact {n}"]}
        else:
            record = {"type": "relation", "from": f"Entity_{n - 1}", "to": "Entity_1", "relationType": "knows"}
        return json.dumps(record, separators=(",", ":")) + "\n"


def test_a_100000_line_reference_graph_is_read_a_line_at_a_time() -> None:
    with GeneratedGraph(100_000) as stream:
        entries = read_reference_graph(stream, "memory.jsonl")
        first = next(entries)
        assert isinstance(first, Entry) and first.memory.content == "Entity_1: Fact 1"
        assert stream.served == 1
        rest = sum(1 for _ in entries)
        assert rest == 99_999 and stream.served == 100_000


# mem0


def test_mem0_memories_keep_their_time_their_id_and_what_they_were_scoped_to() -> None:
    found = by_content(read("mem0-get-all.json"))
    memory = found["Project Atlas should be finished by the end of Q3 2025"]
    assert memory.source == "mem0"
    assert memory.created_at == datetime(2025, 2, 3, 19, 27, 36, 919003, tzinfo=UTC)  # from US/Pacific
    assert memory.id == stable_id("mem0", "0fd630f1-f29d-4da9-953f-48f1a09f76b5")
    assert memory.metadata == {
        "mem0_id": "0fd630f1-f29d-4da9-953f-48f1a09f76b5",
        "user_id": "maya",
        "agent_id": "code-reviewer",
        "updated_at": "2025-04-01T09:00:10.003300-07:00",
        "mem0_hash": "a489ae44e2eb0d13cb2b7ff169484bcf",
    }
    travel = found["Plans a trip to Kyoto in April 2025"]
    assert travel.metadata["category"] == "travel" and travel.metadata["tags"] == "japan, spring"
    assert "nested" not in found["Daughter Ada turns 6 on 12 June"].metadata


def test_mem0_graph_relations_become_memories() -> None:
    relation = by_content(read("mem0-get-all.json"))["maya works at northwind_analytics"]
    assert relation.tags == ["maya", "northwind_analytics", "relation"]
    assert relation.source == "mem0"


def test_broken_mem0_records_are_reported_on_the_line_they_start_and_the_rest_is_read() -> None:
    entries = read("mem0-get-all.json")
    assert bad_lines(entries) == [50, 113, 157, 195, 241]
    assert len(memories(entries)) == 18 + 5
    reasons = [e.reason for e in entries if isinstance(e, BadEntry)]
    assert "has no text" in reasons[0]
    assert 'without an "id"' in reasons[1]
    assert "'last Tuesday' is not an ISO 8601 time" in reasons[2]


def test_categories_from_mem0s_hosted_platform_become_tags() -> None:
    found = by_content(read("mem0-platform-get-all.json"))
    assert found["Is planning a kitchen renovation this summer"].tags == ["personal_details", "home"]
    assert found["Goes climbing on Saturday mornings"].tags == ["sports", "hobbies", "weekend plans"]
    renovation = found["Is planning a kitchen renovation this summer"]
    assert renovation.metadata["expiration_date"] == "2025-09-30" and renovation.metadata["source"] == "chat"
    assert renovation.created_at == datetime(2025, 5, 3, 20, 1, 7, 991201, tzinfo=UTC)


def test_a_mem0_file_that_is_not_json_is_reported_where_it_breaks() -> None:
    text = '{\n  "results": [\n    {"id": "a", "memory": "x"},\n    {"id": "b" "memory": "y"}\n  ]\n}\n'
    assert list(read_mem0(io.StringIO(text), "broken.json")) == [
        BadEntry(4, "the file is not valid JSON: Expecting ',' delimiter at column 16; nothing was read")
    ]


def test_metadata_and_tags_beyond_the_limits_are_trimmed_instead_of_refusing_the_memory() -> None:
    item = {
        "id": "m-1",
        "memory": "Has many labels",
        "created_at": "2025-01-01T00:00:00Z",
        "categories": [f"Category number {n} " + "x" * 80 for n in range(30)],
        "metadata": {
            "Long Text": "y" * 2000,
            "huge": 2**70,
            "not_finite": float("nan"),
            "nested": {"a": 1},
            **{f"key{n}": n for n in range(30)},
        },
    }
    [entry] = read_mem0(io.StringIO(json.dumps([item])), "many.json")
    assert isinstance(entry, Entry)
    memory = entry.memory
    assert len(memory.tags) == 20 and all(len(t) <= 64 for t in memory.tags)
    assert len(memory.metadata) == 16
    assert memory.metadata["long_text"] == "y" * 512
    assert memory.metadata["huge"] == str(2**70)
    assert "not_finite" not in memory.metadata and "nested" not in memory.metadata
    assert_importable(memory)


def test_a_mem0_memory_dated_in_the_future_is_reported_not_read() -> None:
    item = {"id": "m-2", "memory": "Will have happened", "created_at": "2999-01-01T00:00:00Z"}
    [entry] = read_mem0(io.StringIO(json.dumps({"results": [item]})), "future.json")
    assert isinstance(entry, BadEntry) and "in the future" in entry.reason


# OpenMemory


def test_openmemory_backup_lines_keep_their_app_as_source_and_their_categories_as_tags() -> None:
    found = by_content(read("openmemory-memories.jsonl"))
    memory = found["Prefers Python type hints on every public function"]
    assert memory.source == "cursor"
    assert memory.tags == ["preferences", "technology"]
    assert memory.created_at == datetime(2025, 5, 2, 9, 40, 3, 3912, tzinfo=UTC)
    assert memory.id == stable_id("mem0", "320094ea-d7a9-4ded-9749-1e2370c6a5b8")  # OpenMemory's ids are mem0's
    assert memory.metadata["mem0_id"] == "320094ea-d7a9-4ded-9749-1e2370c6a5b8"
    assert memory.metadata["mcp_client"] == "cursor"
    assert found["Runs 5 km three times a week"].source == "openmemory"  # no app recorded
    assert found["Project Atlas deadline is the end of Q3 2025"].metadata["state"] == "paused"


def test_openmemory_broken_lines_are_reported_and_the_rest_is_read_but_deleted_memories() -> None:
    entries = read("openmemory-memories.jsonl")
    assert bad_lines(entries) == [7, 13]
    reasons = [e.reason for e in entries if isinstance(e, BadEntry)]
    assert "has no text" in reasons[0] and "not a line of JSON" in reasons[1]
    assert len(memories(entries)) == 17
    assert "Used to work at Contoso Retail" not in by_content(entries)  # deleted in OpenMemory, on line 16


def test_openmemory_database_rows_give_the_same_memories_as_its_lines() -> None:
    rows, lines = read("openmemory-memories.json"), read("openmemory-memories.jsonl")
    assert bad_lines(rows) == [178]
    compared = ("content", "id", "source", "tags", "created_at")
    assert [m.model_dump(include=set(compared)) for m in memories(rows)] == [
        m.model_dump(include=set(compared)) for m in memories(lines)
    ]


@pytest.fixture
def backup_zip(tmp_path: Path) -> Path:
    """A backup zip as OpenMemory's export writes it: memories.json and memories.jsonl.gz."""
    path = tmp_path / "memories_export_maya.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("memories.json", (FIXTURES / "openmemory-memories.json").read_text())
        archive.writestr("memories.jsonl.gz", gzip.compress((FIXTURES / "openmemory-memories.jsonl").read_bytes()))
    return path


def read_backup(path: Path) -> list[Entry | BadEntry]:
    with open_openmemory_backup(path) as stream:
        return list(read_openmemory(stream, path.name))


def test_an_openmemory_backup_zip_is_read_from_its_memories_lines(backup_zip: Path) -> None:
    assert read_backup(backup_zip) == read("openmemory-memories.jsonl")


def test_a_backup_zip_without_memory_lines_is_read_from_its_database_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows-only.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export/memories.json", (FIXTURES / "openmemory-memories.json").read_text())
    assert read_backup(path) == read("openmemory-memories.json")


def test_a_bare_memories_jsonl_gz_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "memories.jsonl.gz"
    path.write_bytes(gzip.compress((FIXTURES / "openmemory-memories.jsonl").read_bytes()))
    assert read_backup(path) == read("openmemory-memories.jsonl")


def test_a_zip_without_openmemorys_files_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("holiday.txt", "not memories")
    with pytest.raises(InvalidInput, match=r"holds no memories\.jsonl\.gz or memories\.json"):
        read_backup(path)


# mcp-memory-service


def test_memory_service_memories_keep_their_time_tags_and_content_hash() -> None:
    found = by_content(read("mcp-memory-service-export.json"))
    memory = found["PostgreSQL 16 connection pool is capped at 40 connections in production"]
    exported = json.loads((FIXTURES / "mcp-memory-service-export.json").read_text())["memories"][5]
    assert exported["content"] == memory.content
    assert memory.created_at == datetime.fromtimestamp(exported["created_at"], UTC)
    assert memory.tags == ["postgres", "production", "limits", "fact"]
    assert memory.source == "mcp-memory-service"
    assert memory.id == stable_id("mcp-memory-service", exported["content_hash"])
    assert memory.metadata == {
        "content_hash": exported["content_hash"],
        "memory_type": "fact",
        "updated_at": datetime.fromtimestamp(exported["updated_at"], UTC).isoformat(),
        "machine": "maya-laptop",
        "source": "runbook",
    }


@pytest.mark.parametrize(
    ("content", "kind", "type_tag"),
    [
        ("Maya prefers Python type hints on every public function", Kind.preference, "preference"),
        ("Use `uv` instead of pip for new Python projects", Kind.instruction, "instruction"),
        ("Weekly team sync on Tuesdays at 14:00 Lisbon time", Kind.event, "session"),
        ("Renew the TLS certificate for reports.northwind.example before 1 August", Kind.note, "todo"),
        ("Always run `make lint` before pushing", Kind.instruction, "rule"),
        ("Dagster sensors must be idempotent; retries re-run the whole tick", Kind.fact, "learning"),
        ("Code review checklist: naming, tests, error messages, docs", Kind.fact, None),
    ],
)
def test_memory_service_types_become_kinds_where_they_fit_and_stay_as_tags(
    content: str, kind: Kind, type_tag: str | None
) -> None:
    memory = by_content(read("mcp-memory-service-export.json"))[content]
    assert memory.kind == kind
    assert (memory.tags[-1] == type_tag) if type_tag else ("memory_type" not in memory.metadata)


def test_memory_service_metadata_keys_are_renamed_to_fit_and_nested_values_dropped() -> None:
    found = by_content(read("mcp-memory-service-export.json"))
    renamed = found["Kubernetes namespace for reporting is `reports-prod`"].metadata
    assert renamed["source_file"] == "k8s/README.md" and renamed["x_2fa"] is True
    assert (
        "import_info"
        not in found["Rejected Prefect for Atlas: its agent model did not fit our Kubernetes setup"].metadata
    )
    assert found["The nightly ETL failed on 2025-03-04 because the S3 bucket policy changed"].metadata["ticket"] == 4521


def test_broken_memory_service_records_are_reported_on_the_line_they_start_and_the_rest_is_read() -> None:
    entries = read("mcp-memory-service-export.json")
    assert bad_lines(entries) == [57, 139, 212]
    assert len(memories(entries)) == 16
    assert "'next Thursday' is not an ISO 8601 time" in next(
        e.reason for e in entries if isinstance(e, BadEntry) and e.line == 139
    )


def test_the_memory_service_backup_scripts_rows_are_read_too() -> None:
    backup = {
        "timestamp": "2025-01-02T10:00:00",
        "total_memories": 1,
        "memories": [
            {
                "id": "chroma-1",
                "document": "Staging database is refreshed every Sunday night",
                "metadata": {
                    "content_hash": "abc123",
                    "tags_str": "staging,database",
                    "type": "note",
                    "timestamp": 1735725600.0,
                    "owner": "data-team",
                },
                "embedding": None,
            }
        ],
    }
    [entry] = read_memory_service(io.StringIO(json.dumps(backup, indent=2)), "memory_backup.json")
    assert isinstance(entry, Entry) and entry.line == 5
    memory = entry.memory
    assert memory.content == "Staging database is refreshed every Sunday night"
    assert memory.tags == ["staging", "database", "note"] and memory.kind == Kind.note
    assert memory.created_at == datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    assert memory.metadata["owner"] == "data-team" and memory.metadata["chroma_id"] == "chroma-1"
    assert memory.id == stable_id("mcp-memory-service", "abc123")


# Plain text and Markdown


def test_each_bullet_or_line_of_a_markdown_memory_page_is_a_memory() -> None:
    entries = read("memory-page.md")
    assert [(e.line, m.content) for e in entries if isinstance(e, Entry) for m in [e.memory]] == [
        (3, "Here is everything saved in memory, grouped by topic."),
        (7, "Works as a backend engineer at Northwind Analytics."),
        (
            8,
            "Leads Project Atlas, which moves the reporting stack from Airflow to Dagster; "
            "the target is the end of Q3 2025.",
        ),
        (10, "Prefers Python type hints on every public function."),
        (11, "Wants pull request descriptions to start with the user-facing change."),
        (15, "Team sync is on Tuesdays at 14:00 Lisbon time."),
        (16, "Avoid scheduling anything before 10:00."),
        (17, "Fridays are kept free for deep work."),
        (23, "Lives in Lisbon, Portugal."),
        (24, "Is vegetarian and allergic to peanuts."),
        (26, "Daughter Ada turns 6 on 12 June."),
        (31, "Prefers replies in British English."),
        (32, "Likes answers with code first, explanation after."),
        (37, "Drinks black coffee, no sugar."),
        (38, 'Is learning Rust from "Rust for Rustaceans".'),
    ]


def test_markdown_headings_tag_the_memories_under_them() -> None:
    found = by_content(read("memory-page.md"))
    top = "what-i-remember-about-you"
    assert found["Team sync is on Tuesdays at 14:00 Lisbon time."].tags == [top, "work", "meetings"]
    assert found["Lives in Lisbon, Portugal."].tags == [top, "personal"]  # '## Personal' closes '### Meetings'
    assert found["Prefers replies in British English."].tags == [top, "preferences-style"]
    memory = found["Lives in Lisbon, Portugal."]
    assert memory.source == "text:memory-page.md" and memory.kind == Kind.fact and memory.created_at is None


def test_plain_text_takes_every_line_as_written() -> None:
    entries = read("saved-memories.txt")
    assert [m.content for m in memories(entries)] == [
        "Is a backend engineer at Northwind Analytics",
        "Lives in Lisbon, Portugal",
        "Prefers Python type hints on every public function",
        "Is vegetarian and allergic to peanuts",
        "Daughter Ada turns 6 on 12 June",
        "Prefers replies in British English",
        "Likes answers with code first, explanation after",
        "Drinks black coffee, no sugar",
        "Runs 5 km three times a week",
        'Is learning Rust from "Rust for Rustaceans"',
    ]
    assert {m.source for m in memories(entries)} == {"text:saved-memories.txt"}
    assert all(m.tags == [] for m in memories(entries))


def test_plain_text_leaves_markdown_alone_and_markdown_reads_it() -> None:
    text = "# Home\n- Has a cat named Miso\n"
    [as_text_heading, as_text_bullet] = memories(list(read_text(io.StringIO(text), "notes.txt")))
    assert as_text_heading.content == "# Home" and as_text_bullet.content == "Has a cat named Miso"
    [as_markdown] = memories(list(read_markdown(io.StringIO(text), "notes.md")))
    assert as_markdown.content == "Has a cat named Miso" and as_markdown.tags == ["home"]


def test_the_same_words_in_another_case_or_spacing_get_the_same_id() -> None:
    text = "- Likes  green tea\n\nlikes green TEA\n"
    first, second = memories(list(read_markdown(io.StringIO(text), "a/b/notes.md")))
    assert first.id == second.id == stable_id("text", "likes green tea")
    assert first.source == "text:notes.md"


# Detection


@pytest.mark.parametrize("name", sorted(FIXTURE_FORMATS))
def test_detection_names_the_format_of_each_tools_file(name: str) -> None:
    assert detect((FIXTURES / name).read_text()[:4096], name) == FIXTURE_FORMATS[name]


@pytest.mark.parametrize(
    ("chunk", "filename", "expected"),
    [
        (
            '{"type": "header", "format": "mcp-memory", "version": 1}\n{"type": "memory"}\n',
            "backup.jsonl",
            "mcp-memory",
        ),
        ("PK\x03\x04\x14\x00", "memories_export_maya.zip", "openmemory"),
        ("", "memories.jsonl.gz", "openmemory"),
        ('{"results": []}', "saved.json", "mem0"),
        ("Likes green tea\nHas a cat\n", "notes", "text"),
        ("## Pets\n- Has a cat\n", "notes", "markdown"),
        ("## Pets\n- Has a cat\n", "notes.txt", "text"),
    ],
)
def test_detection_recognises_this_servers_export_archives_and_files_without_a_suffix(
    chunk: str, filename: str, expected: str
) -> None:
    assert detect(chunk, filename) == expected


@pytest.mark.parametrize(
    ("chunk", "filename", "message"),
    [
        ('{"name": "some settings", "theme": "dark"}', "settings.json", "is JSON, but not in a format"),
        ("", "empty.txt", "is empty"),
        ("\x00\x01binary\x00", "image.png", "is not UTF-8 text"),
        ("id,content\n1,Likes tea\n", "memories.csv", "give it a .txt or .md name"),
    ],
)
def test_detection_refuses_a_file_it_does_not_know_and_says_what_it_reads(
    chunk: str, filename: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        detect(chunk, filename)
    assert "mem0" in str(refused.value) or "empty" in str(refused.value)


def test_every_format_but_this_servers_own_has_a_reader() -> None:
    assert set(FORMATS) == {"mcp-memory", *READERS}
    assert "mcp-memory" not in READERS


# Everything read would be accepted


def fixture_entries() -> Iterator[tuple[str, Entry]]:
    for name in FIXTURE_FORMATS:
        for entry in read(name):
            if isinstance(entry, Entry):
                yield name, entry


def test_every_memory_read_from_the_fixtures_would_be_accepted_by_the_importer() -> None:
    checked = 0
    for _, entry in fixture_entries():
        assert entry.line >= 1
        assert_importable(entry.memory)
        checked += 1
    assert checked == 128  # all the good records of all the fixtures
