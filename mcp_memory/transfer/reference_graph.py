"""The MCP reference memory server's knowledge graph (`@modelcontextprotocol/server-memory`, memory.jsonl).

Each line is an entity, `{"type": "entity", "name", "entityType", "observations": [...]}`, or a
relation, `{"type": "relation", "from", "to", "relationType"}`. Each observation becomes a memory that
names its entity ("Alice_Smith: Prefers morning meetings"), tagged with the entity's name and type;
each relation becomes a memory ("Alice_Smith works at Acme_Corp"), tagged with both entities' names
and 'relation'. The file keeps no times, so the memories are dated when they are imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from mcp_memory.core.models import Kind, MemoryInput
from mcp_memory.transfer.entries import BadEntry, Entry, stable_id
from mcp_memory.transfer.json_text import json_lines
from mcp_memory.transfer.shaping import clean_tags, fit_metadata, is_text

SOURCE = "mcp-reference-memory"


def read_reference_graph(stream: IO[str], origin: str) -> Iterator[Entry | BadEntry]:
    """Memories from a reference memory server's memory.jsonl, one line at a time."""
    for item in json_lines(stream):
        if isinstance(item, BadEntry):
            yield item
            continue
        line, record = item
        kind = record.get("type") if isinstance(record, dict) else None
        if kind == "entity":
            yield from _entity(line, record)
        elif kind == "relation":
            yield _relation(line, record)
        else:
            yield BadEntry(line, 'not an entity or a relation: a line needs "type": "entity" or "relation"')


def _entity(line: int, record: dict[str, Any]) -> Iterator[Entry | BadEntry]:
    name, entity_type, observations = record.get("name"), record.get("entityType"), record.get("observations")
    if not is_text(name) or not isinstance(entity_type, str) or not isinstance(observations, list):
        yield BadEntry(line, 'an entity needs a "name", an "entityType" and a list of "observations"')
        return
    tags = clean_tags([name, entity_type])
    metadata = fit_metadata([("entity", name), ("entity_type", entity_type)])
    for n, observation in enumerate(observations, 1):
        if not is_text(observation):
            yield BadEntry(line, f"observation {n} of entity {name[:60]!r} is not a non-empty string")
            continue
        memory = MemoryInput(
            content=f"{name}: {observation.strip()}",
            id=stable_id(SOURCE, name, observation),
            source=SOURCE,
            kind=Kind.fact,
            tags=tags,
            metadata=metadata,
        )
        yield Entry(line, memory)


def _relation(line: int, record: dict[str, Any]) -> Entry | BadEntry:
    start, end, relation = record.get("from"), record.get("to"), record.get("relationType")
    if not (is_text(start) and is_text(end) and is_text(relation)):
        return BadEntry(line, 'a relation needs a "from", a "to" and a "relationType", each a non-empty string')
    memory = MemoryInput(
        content=f"{start} {relation.replace('_', ' ').strip()} {end}",
        id=stable_id(SOURCE, "relation", start, relation, end),
        source=SOURCE,
        kind=Kind.fact,
        tags=clean_tags([start, end, "relation"]),
        metadata=fit_metadata([("from", start), ("relation", relation), ("to", end)]),
    )
    return Entry(line, memory)
