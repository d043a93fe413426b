"""mcp-memory-service (doobidoo): the JSON its sync exporter writes, and its older backup script's.

The exporter (`MemoryExporter.export_to_json`, behind `memory sync export`) writes
`{"export_metadata": {"source_machine", ...}, "memories": [...]}`, each memory with `content`,
`content_hash`, `tags`, `created_at` and `updated_at` (seconds since 1970), `memory_type`,
`metadata` and `export_source`. The backup script (`scripts/backup/backup_memories.py`) wrote
ChromaDB rows instead: `{"memories": [{"id", "document", "metadata": {...}}]}`, with the tags as a
comma-separated `tags_str` and the type as `type` inside the row's metadata; both are read.

A memory type that is one of ours (or close: 'session' is an event, 'todo' a note) becomes the
kind; any other makes a fact, and every type is kept as a tag. The content hash, which the service
deduplicates by, gives the id.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import IO, Any

from mcp_memory.core.models import Kind, MemoryInput
from mcp_memory.transfer.entries import BadEntry, Entry, stable_id
from mcp_memory.transfer.json_text import item_lines, read_document
from mcp_memory.transfer.shaping import clean_tags, fit_metadata, is_text, parse_time, past_time

SOURCE = "mcp-memory-service"
KINDS: dict[str, Kind] = {
    **{kind.value: kind for kind in Kind},
    "session": Kind.event,
    "meeting": Kind.event,
    "milestone": Kind.event,
    "rule": Kind.instruction,
    "guideline": Kind.instruction,
    "procedure": Kind.instruction,
    "todo": Kind.note,
    "reminder": Kind.note,
}
# Keys of a backup row's metadata that the service fills itself; the rest is the caller's metadata.
_ROW_FIELDS = {"content_hash", "tags", "tags_str", "type", "memory_type"} | {
    f"{field}{suffix}" for field in ("created_at", "updated_at") for suffix in ("", "_iso")
}
_LEGACY_TIMES = ("timestamp", "timestamp_float", "timestamp_str")


def read_memory_service(stream: IO[str], origin: str) -> Iterator[Entry | BadEntry]:
    """Memories from an mcp-memory-service export (or backup) JSON file."""
    document = read_document(stream)
    if isinstance(document, BadEntry):
        yield document
        return
    text, data = document
    if isinstance(data, dict) and isinstance(data.get("memories"), list):
        items, key = data["memories"], "memories"
        about = data.get("export_metadata")
        machine = about.get("source_machine") if isinstance(about, dict) else None
    elif isinstance(data, list):
        items, key, machine = data, None, None
    else:
        yield BadEntry(1, 'not an mcp-memory-service export: expected {"export_metadata": ..., "memories": [...]}')
        return
    for line, item in zip(item_lines(text, key), items, strict=True):
        yield _memory(line, item, machine)


def _memory(line: int, item: object, machine: object) -> Entry | BadEntry:
    if not isinstance(item, dict):
        return BadEntry(line, 'not an mcp-memory-service memory: expected an object with "content"')
    if "content" not in item and "document" in item:
        item = _from_backup_row(item)
    content, content_hash = item.get("content"), item.get("content_hash")
    if not is_text(content):
        return BadEntry(line, 'a memory without "content" text')
    try:
        created = past_time(_first(item, "created_at", "created_at_iso", *_LEGACY_TIMES), "created_at")
    except ValueError as exc:
        return BadEntry(line, f"memory {content.strip()[:40]!r}: {exc}")
    memory_type = item.get("memory_type")
    kind = KINDS.get(memory_type.strip().lower(), Kind.fact) if isinstance(memory_type, str) else Kind.fact
    metadata = item.get("metadata")
    memory = MemoryInput(
        content=content.strip(),
        id=stable_id(SOURCE, content_hash if is_text(content_hash) else content),
        created_at=created,
        source=SOURCE,
        kind=kind,
        tags=clean_tags([*_tags(item.get("tags")), *([memory_type] if is_text(memory_type) else [])]),
        metadata=fit_metadata(
            [("content_hash", content_hash), ("memory_type", memory_type)],
            [("updated_at", _iso(_first(item, "updated_at", "updated_at_iso")))],
            [("machine", item.get("export_source") or machine), ("chroma_id", item.get("chroma_id"))],
            metadata.items() if isinstance(metadata, dict) else [],
        ),
    )
    return Entry(line, memory)


def _from_backup_row(row: dict[str, Any]) -> dict[str, Any]:
    """A ChromaDB row of the backup script as an exported memory: the service's fields are in its metadata."""
    fields = row.get("metadata")
    if not isinstance(fields, dict):
        fields = {}
    return {
        **{k: v for k, v in fields.items() if k in _ROW_FIELDS or k in _LEGACY_TIMES},
        "content": row.get("document"),
        "tags": fields.get("tags_str", fields.get("tags")),
        "memory_type": fields.get("type", fields.get("memory_type")),
        "chroma_id": row.get("id"),
        "metadata": {k: v for k, v in fields.items() if k not in _ROW_FIELDS and k not in _LEGACY_TIMES},
    }


def _tags(value: object) -> list[str]:
    """Tags as a list, a comma-separated string, or (in old rows) a JSON list in a string."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if isinstance(value, str):
        value = value.split(",")
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _first(item: dict[str, Any], *keys: str) -> object:
    return next((item[k] for k in keys if item.get(k) not in (None, "")), None)


def _iso(value: object) -> str | None:
    try:
        when = parse_time(value)
    except ValueError:
        return str(value)
    return when.isoformat() if when else None
