"""This server's export format: JSON Lines, versioned, one memory per line.

    {"type": "header", "format": "mcp-memory", "version": 1, "namespace": "alice",
     "model": "sentence-transformers/all-MiniLM-L6-v2", "exported_at": "…", "vectors": false, "history": false}
    {"type": "memory", "id": "…", "content": "…", "kind": "fact", "tags": […], "source": "claude-code",
     "created_at": "…", "superseded_by": null, "thread": null, "thread_seq": null, "access_count": 2, …}
    …
    {"type": "end", "memories": 1234}

A memory line holds every field of `StoredMemory`: id, content, kind, tags, source, created_at,
updated_at, occurred_at, importance, thread and thread_seq, metadata, supersedes, superseded_by and
superseded_at, expires_at, access_count and last_seen_at; with `--history` its events, with
`--vectors` its embedding (`vector`) and its parts' (`part_vectors`), each the base64 of little-endian
float32s. Live memories come first, then superseded ones. The end line says how many memories the
file holds, so that a file cut short is known as such. A reader of version 1 refuses a later version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Literal

from pydantic import BaseModel, ValidationError

from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import StoredMemory
from mcp_memory.transfer.entries import BadEntry, Entry

FORMAT: Literal["mcp-memory"] = "mcp-memory"
VERSION = 1
COMPACT = (",", ":")


class Header(BaseModel):
    type: Literal["header"] = "header"
    format: Literal["mcp-memory"] = FORMAT
    version: int = VERSION
    namespace: str
    model: str
    exported_at: datetime
    vectors: bool = False
    history: bool = False


class End(BaseModel):
    type: Literal["end"] = "end"
    memories: int


def memory_line(memory: StoredMemory) -> str:
    fields = memory.model_dump(mode="json", exclude_none=True)
    return json.dumps(
        {"type": "memory", "id": fields.pop("id", None), **fields}, ensure_ascii=False, separators=COMPACT
    )


def read_header(first_line: str) -> Header:
    """The header of an export, or why this is not one this version can read."""
    try:
        header = Header.model_validate_json(first_line)
    except ValidationError as exc:
        raise InvalidInput(f"line 1 is not an mcp-memory export header: {_problem(exc)}") from exc
    if header.version > VERSION:
        raise InvalidInput(
            f"this export is format version {header.version}, newer than this mcp-memory reads ({VERSION}): "
            "upgrade mcp-memory to import it"
        )
    return header


def read_export(stream: IO[str], origin: str) -> Iterator[Entry | BadEntry]:
    """The memories of an export, one entry per line; a missing or wrong end line is reported too."""
    try:
        read_header(stream.readline())
    except InvalidInput as exc:
        yield BadEntry(1, str(exc))
        return
    count, number, end = 0, 1, None
    for number, line in enumerate(stream, start=2):
        if not line.strip():
            continue
        if end is not None:
            yield BadEntry(number, "a line after the end line")
            continue
        try:
            fields = json.loads(line)
        except ValueError as exc:
            fields = f"not JSON: {exc}"
        if isinstance(fields, dict) and fields.get("type") == "end":
            try:
                end = End.model_validate(fields)
            except ValidationError as exc:
                yield BadEntry(number, f"a broken end line: {_problem(exc)}")
            continue
        count += 1
        yield _memory(number, fields)
    if end is None:
        yield BadEntry(number + 1, f"the file ends without its end line: it was cut short after {count} memories")
    elif end.memories != count:
        yield BadEntry(number, f"the end line counts {end.memories} memories, but the file holds {count}")


def _memory(number: int, fields: object) -> Entry | BadEntry:
    if isinstance(fields, str):
        return BadEntry(number, fields)
    if not isinstance(fields, dict) or fields.pop("type", None) != "memory":
        return BadEntry(number, 'not a memory line: a JSON object with "type": "memory" was expected')
    try:
        return Entry(number, StoredMemory.model_validate(fields))
    except ValidationError as exc:
        return BadEntry(number, _problem(exc))


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where or 'line'}: {first['msg']}{more}"
