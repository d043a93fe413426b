"""OpenMemory (mem0's local memory app): the zip its backup export writes.

`POST /api/v1/backup/export` answers with a zip holding two files. `memories.jsonl.gz` has one
memory per line: `id`, `content`, `metadata`, `created_at`, `updated_at`, `state`
(active, paused, archived or deleted), `app` (the name of the client that wrote it) and
`categories` (names). `memories.json` is the database's rows: `memories` with `app_id` and
`category_ids`, resolved through its `apps` and `categories`. Either is read; the JSON Lines one
a line at a time. `open_openmemory_backup` opens the zip and gives the better one as text.

A memory's app becomes its source, its categories its tags; OpenMemory's ids are mem0's, so its
memories get the same ids as the same memories read from mem0. Memories deleted in OpenMemory (it
keeps their rows) are left out; paused and archived ones are read, their state kept as metadata.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from mcp_memory.core.errors import InvalidInput
from mcp_memory.transfer.entries import BadEntry, Entry
from mcp_memory.transfer.json_text import item_lines, json_lines, read_document
from mcp_memory.transfer.mem0 import mem0_entry
from mcp_memory.transfer.shaping import source_name

SOURCE = "openmemory"
MEMBERS = ("memories.jsonl.gz", "memories.json")  # in order of preference
_GZIP_MAGIC = b"\x1f\x8b"


def read_openmemory(stream: IO[str], origin: str) -> Iterator[Entry | BadEntry]:
    """Memories from an OpenMemory backup's memories.jsonl (a line at a time) or memories.json."""
    head: list[str] = []
    for line in stream:
        head.append(line)
        if line.strip():
            break
    if _is_json_lines(head[-1].lstrip("\ufeff") if head else ""):
        for item in json_lines(itertools.chain(head, stream)):
            found = item if isinstance(item, BadEntry) else _memory(*item)
            if found is not None:
                yield found
    else:
        yield from _read_rows(io.StringIO("".join(head) + stream.read()))


@contextmanager
def open_openmemory_backup(path: Path) -> Iterator[IO[str]]:
    """The memories in an OpenMemory backup, as text for `read_openmemory`.

    `path` is the export's zip (its memories.jsonl.gz is preferred, as it names apps and categories
    and streams; else its memories.json), or a memories.jsonl.gz on its own.
    """
    with ExitStack() as stack:
        raw, gzipped = _open_binary(path, stack)
        data = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")) if gzipped else raw
        yield stack.enter_context(io.TextIOWrapper(data, encoding="utf-8"))


def _open_binary(path: Path, stack: ExitStack) -> tuple[IO[bytes], bool]:
    """The zip's best member, or the file itself when it is gzip; and whether it is gzip."""
    if zipfile.is_zipfile(path):
        archive = stack.enter_context(zipfile.ZipFile(path))
        member = _member(archive, path)
        return stack.enter_context(archive.open(member)), member.endswith(".gz")
    raw = stack.enter_context(path.open("rb"))
    if raw.read(2) != _GZIP_MAGIC:
        raise InvalidInput(f"{path.name} is neither an OpenMemory backup zip nor a memories.jsonl.gz")
    raw.seek(0)
    return raw, True


def _member(archive: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in archive.namelist() if not n.endswith("/")]
    for wanted in MEMBERS:
        for name in names:
            if name.rsplit("/", 1)[-1] == wanted:
                return name
    raise InvalidInput(
        f"{path.name} holds no memories.jsonl.gz or memories.json: give the zip that OpenMemory's backup export wrote"
    )


def _is_json_lines(first_line: str) -> bool:
    try:
        value = json.loads(first_line)
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(value, dict) and "memories" not in value


def _read_rows(stream: IO[str]) -> Iterator[Entry | BadEntry]:
    """memories.json: the rows, with apps and categories named through their own lists."""
    document = read_document(stream)
    if isinstance(document, BadEntry):
        yield document
        return
    text, data = document
    if not isinstance(data, dict) or not isinstance(data.get("memories"), list):
        yield BadEntry(1, 'not an OpenMemory backup: expected JSON lines of memories, or {"memories": [...]}')
        return
    apps, categories = _names(data.get("apps")), _names(data.get("categories"))
    for line, row in zip(item_lines(text, "memories"), data["memories"], strict=True):
        if isinstance(row, dict):
            ids = row.get("category_ids")
            row = row | {
                "app": apps.get(str(row.get("app_id"))),
                "categories": [categories[i] for i in ids if i in categories] if isinstance(ids, list) else [],
            }
        found = _memory(line, row)
        if found is not None:
            yield found


def _names(rows: Any) -> dict[str, str]:
    if not isinstance(rows, list):
        return {}
    return {str(r.get("id")): r["name"] for r in rows if isinstance(r, dict) and isinstance(r.get("name"), str)}


def _memory(line: int, record: Any) -> Entry | BadEntry | None:
    """The memory a record holds; None for one deleted in OpenMemory, which keeps it only as a row."""
    if not isinstance(record, dict):
        return BadEntry(line, 'not an OpenMemory memory: expected an object with an "id" and "content"')
    state = record.get("state")
    if state == "deleted":
        return None
    app, categories, metadata = record.get("app"), record.get("categories"), record.get("metadata")
    return mem0_entry(
        line,
        record.get("id"),
        record.get("content"),
        record.get("created_at"),
        source=(source_name(app) if isinstance(app, str) else None) or SOURCE,
        tags=[c for c in categories if isinstance(c, str)] if isinstance(categories, list) else [],
        metadata=[
            [("state", state if state != "active" else None)],
            [("updated_at", record.get("updated_at")), ("archived_at", record.get("archived_at"))],
            list(metadata.items()) if isinstance(metadata, dict) else [],
        ],
    )
