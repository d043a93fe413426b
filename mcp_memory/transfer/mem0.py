"""Mem0: the JSON its `get_all` returns, saved to a file.

Since mem0 v1.1 that is `{"results": [...]}`, with `"relations": [...]` when its graph store is on;
before, and with `api_version="v1.0"`, a bare list. Each item is a memory: `id`, `memory` (the text),
`hash`, `metadata`, `created_at`, `updated_at`, and the `user_id`, `agent_id`, `run_id`, `actor_id`
and `role` it was scoped to; the hosted platform adds `categories`. A graph relation
`{"source", "relationship", "target"}` becomes a memory too ("alice likes pizza").

Memories keep their time and their id (as metadata `mem0_id`); categories become tags.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from mcp_memory.core.models import Kind, MemoryInput
from mcp_memory.transfer.entries import BadEntry, Entry, stable_id
from mcp_memory.transfer.json_text import item_lines, read_document
from mcp_memory.transfer.shaping import clean_tags, fit_metadata, is_text, past_time

SOURCE = "mem0"
SCOPES = ("user_id", "agent_id", "run_id", "actor_id", "role")


def read_mem0(stream: IO[str], origin: str) -> Iterator[Entry | BadEntry]:
    """Memories (and graph relations) from a saved mem0 `get_all` result."""
    document = read_document(stream)
    if isinstance(document, BadEntry):
        yield document
        return
    text, data = document
    relations: list[Any] = []
    if isinstance(data, list):
        items, key = data, None
    elif isinstance(data, dict) and isinstance(data.get("results"), list):
        items, key = data["results"], "results"
        relations = data["relations"] if isinstance(data.get("relations"), list) else []
    else:
        yield BadEntry(1, 'not what mem0\'s get_all returns: expected {"results": [...]} or a list of memories')
        return
    for line, item in zip(item_lines(text, key), items, strict=True):
        yield _memory(line, item)
    for line, relation in zip(item_lines(text, "relations") if relations else [], relations, strict=True):
        yield _relation(line, relation)


def _memory(line: int, item: object) -> Entry | BadEntry:
    if not isinstance(item, dict):
        return BadEntry(line, 'not a mem0 memory: expected an object with an "id" and a "memory"')
    categories = item.get("categories")
    return mem0_entry(
        line,
        item.get("id"),
        item.get("memory"),
        item.get("created_at"),
        source=SOURCE,
        tags=[c for c in categories if isinstance(c, str)] if isinstance(categories, list) else [],
        metadata=[
            [(scope, item.get(scope)) for scope in SCOPES],
            [("updated_at", item.get("updated_at")), ("mem0_hash", item.get("hash"))],
            [("expiration_date", item.get("expiration_date"))],
            _pairs(item.get("metadata")),
        ],
    )


def mem0_entry(
    line: int,
    original_id: object,
    content: object,
    created_at: object,
    *,
    source: str,
    tags: list[str],
    metadata: list[Iterable[tuple[str, object]]],
) -> Entry | BadEntry:
    """A memory that mem0 (or OpenMemory, which shares its ids) keeps: its id, text and time checked."""
    if not isinstance(original_id, str | int) or isinstance(original_id, bool) or not str(original_id).strip():
        return BadEntry(line, 'a memory without an "id": each needs the id it has in mem0')
    name = str(original_id).strip()
    if not is_text(content):
        return BadEntry(line, f"memory {name[:40]!r} has no text")
    try:
        created = past_time(created_at, "created_at")
    except ValueError as exc:
        return BadEntry(line, f"memory {name[:40]!r}: {exc}")
    memory = MemoryInput(
        content=content.strip(),
        id=stable_id("mem0", name),
        created_at=created,
        source=source,
        kind=Kind.fact,
        tags=clean_tags(tags),
        metadata=fit_metadata([("mem0_id", name)], *metadata),
    )
    return Entry(line, memory)


def _relation(line: int, relation: object) -> Entry | BadEntry:
    if not isinstance(relation, dict):
        return BadEntry(line, 'not a mem0 relation: expected {"source", "relationship", "target"}')
    start, verb = relation.get("source"), relation.get("relationship")
    end = relation.get("target", relation.get("destination"))
    if not (is_text(start) and is_text(verb) and is_text(end)):
        return BadEntry(line, 'a mem0 relation needs a "source", a "relationship" and a "target", each a string')
    memory = MemoryInput(
        content=f"{start.strip()} {verb.replace('_', ' ').strip()} {end.strip()}",
        id=stable_id("mem0", "relation", start, verb, end),
        source=SOURCE,
        kind=Kind.fact,
        tags=clean_tags([start, end, "relation"]),
        metadata=fit_metadata([("from", start), ("relation", verb), ("to", end)]),
    )
    return Entry(line, memory)


def _pairs(metadata: Any) -> list[tuple[str, object]]:
    return list(metadata.items()) if isinstance(metadata, dict) else []
