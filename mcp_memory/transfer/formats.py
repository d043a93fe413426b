"""Which format a file is in, from its first few kilobytes and its name, and the reader for each.

`mcp-memory` is this server's own export, read elsewhere; the others are other tools' files and
copied text, read by `READERS`. An OpenMemory backup is a zip: open it with
`open_openmemory_backup` and read the text that gives.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath

from mcp_memory.core.errors import InvalidInput
from mcp_memory.transfer.entries import Reader
from mcp_memory.transfer.mem0 import read_mem0
from mcp_memory.transfer.memory_service import read_memory_service
from mcp_memory.transfer.openmemory import read_openmemory
from mcp_memory.transfer.plain_text import FENCE, HEADING, read_markdown, read_text
from mcp_memory.transfer.reference_graph import read_reference_graph

OWN = "mcp-memory"
READERS: dict[str, Reader] = {
    "mcp-reference-memory": read_reference_graph,
    "mem0": read_mem0,
    "openmemory": read_openmemory,
    "mcp-memory-service": read_memory_service,
    "markdown": read_markdown,
    "text": read_text,
}
FORMATS = (OWN, *READERS)

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
TEXT_SUFFIXES = (".txt", ".text")
ARCHIVE_SUFFIXES = (".zip", ".jsonl.gz")
_KEY = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:')
_OWN_HEADER = re.compile(r'"format"\s*:\s*"mcp-memory"')


def detect(first_chunk: str, filename: str) -> str:
    """The format of a file, one of `FORMATS`, from the start of its text and its name.

    Raises InvalidInput, saying what is known, when the file is empty, binary, JSON of a shape no
    reader knows, or text under a name that says it is something else.
    """
    name = PurePath(filename).name
    lowered = name.lower()
    if lowered.endswith(ARCHIVE_SUFFIXES) or first_chunk.startswith("PK\x03\x04"):
        return "openmemory"
    text = first_chunk.lstrip("\ufeff \t\r\n")
    if not text:
        raise InvalidInput(f"{name} is empty: there is nothing to import")
    if "\x00" in text or text.count("\ufffd") > 3:
        raise InvalidInput(f"{name} is not UTF-8 text: {_KNOWN}")
    if text[0] in "[{":
        found = _json_format(text)
        if found is None:
            raise InvalidInput(f"{name} is JSON, but not in a format this server can read: {_KNOWN}")
        return found
    if lowered.endswith(MARKDOWN_SUFFIXES):
        return "markdown"
    if lowered.endswith(TEXT_SUFFIXES) or "." not in name.strip("."):
        return "markdown" if _has_markup(text) and not lowered.endswith(TEXT_SUFFIXES) else "text"
    raise InvalidInput(
        f"{name} is not in a format this server can read: {_KNOWN}. "
        "If it is plain text with one memory per line, give it a .txt or .md name"
    )


_KNOWN = (
    "give this server's export (mcp-memory), the reference memory server's memory.jsonl, "
    "a saved mem0 get_all result, an OpenMemory backup zip, an mcp-memory-service export, "
    "or a Markdown or text file"
)


def _json_format(text: str) -> str | None:
    first = _first_line(text)
    if isinstance(first, dict):
        if first.get("type") == "header" and first.get("format") == OWN:
            return OWN
        if first.get("type") in ("entity", "relation"):
            return "mcp-reference-memory"
        if "content" in first and "memories" not in first and first.keys() & {"state", "app", "categories"}:
            return "openmemory"  # its backup's memories.jsonl
    return _json_format_by_keys(text, set(_KEY.findall(text)))


def _json_format_by_keys(text: str, keys: set[str]) -> str | None:
    """The format of a JSON document (or a first line too long for the chunk) from the keys it shows."""
    if _OWN_HEADER.search(text) and '"header"' in text:
        return OWN
    if keys & {"entityType", "relationType"}:
        return "mcp-reference-memory"
    if "export_metadata" in keys or {"content", "content_hash"} <= keys or {"document", "total_memories"} <= keys:
        return "mcp-memory-service"
    if keys & {"category_ids", "memory_categories", "export_meta"} or {"user", "apps"} <= keys:
        return "openmemory"  # its backup's memories.json
    if "results" in keys or ("memory" in keys and keys & {"hash", "user_id", "agent_id", "run_id"}):
        return "mem0"
    return None


def _first_line(text: str) -> object:
    try:
        return json.loads(text.split("\n", 1)[0])
    except (json.JSONDecodeError, RecursionError):
        return None


def _has_markup(text: str) -> bool:
    return any(HEADING.match(line) or FENCE.match(line) for line in text.splitlines())
