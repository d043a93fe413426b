"""JSON with the line each record starts on: JSON Lines a line at a time, and the items of a document's list.

Python's parser reports where a syntax error is but not where a value starts; to name the line of a
bad record inside one JSON document, the document's list is walked item by item with `raw_decode`,
which says where each item ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from mcp_memory.transfer.entries import BadEntry

_SPACE = re.compile(r"[ \t\n\r]*")
_BOM = "\ufeff"


def json_lines(lines: Iterable[str]) -> Iterator[tuple[int, Any] | BadEntry]:
    """Each non-blank line parsed, with its 1-based number; a line that is not JSON as a BadEntry."""
    for number, line in enumerate(lines, 1):
        text = line.lstrip(_BOM).strip() if number == 1 else line.strip()
        if not text:
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as exc:
            yield BadEntry(number, f"not a line of JSON: {exc.msg} at column {exc.colno}")
        except RecursionError:
            yield BadEntry(number, "not a line of JSON a reader can take: nested too deeply")


def read_document(stream: IO[str]) -> tuple[str, Any] | BadEntry:
    """The whole stream as one JSON document: its text and its value, or a BadEntry where it breaks."""
    text = stream.read()
    if text.startswith(_BOM):
        text = " " + text[1:]  # keeps every position, so lines stay right
    try:
        return text, json.loads(text)
    except json.JSONDecodeError as exc:
        return BadEntry(exc.lineno, f"the file is not valid JSON: {exc.msg} at column {exc.colno}; nothing was read")
    except RecursionError:
        return BadEntry(1, "the file is JSON nested too deeply to read; nothing was read")


def item_lines(text: str, key: str | None = None) -> list[int]:
    """The line each item of a document's list starts on (1-based).

    The list is the document itself, or the value of its top-level member `key`. `text` must be valid
    JSON (as `read_document` returns it); the answer is empty when there is no such list.
    """
    decoder = json.JSONDecoder()
    start = _skip_space(text, 0)
    if key is not None and text.startswith("{", start):
        start = _member_start(text, start, key, decoder)
    if not text.startswith("[", start):
        return []
    lines, line, counted = [], 1, 0
    for position in _item_starts(text, start, decoder):
        line += text.count("\n", counted, position)
        counted = position
        lines.append(line)
    return lines


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position


def _member_start(text: str, position: int, key: str, decoder: json.JSONDecoder) -> int:
    """Where the value of the object's last member named `key` starts (the parser keeps the last too).

    Where the object ends when it has no such member.
    """
    found = None
    position = _skip_space(text, position + 1)
    while text[position] != "}":
        name, position = decoder.raw_decode(text, position)
        position = _skip_space(text, _skip_space(text, position) + 1)  # past the ':'
        if name == key:
            found = position
        position = _past_value(text, position, decoder)
    return position if found is None else found


def _item_starts(text: str, position: int, decoder: json.JSONDecoder) -> Iterator[int]:
    position = _skip_space(text, position + 1)
    while text[position] != "]":
        yield position
        position = _past_value(text, position, decoder)


def _past_value(text: str, position: int, decoder: json.JSONDecoder) -> int:
    """Past the value at `position` and the ',' after it, if any, to the next token."""
    _, position = decoder.raw_decode(text, position)
    position = _skip_space(text, position)
    return _skip_space(text, position + 1) if text.startswith(",", position) else position
