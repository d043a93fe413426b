"""Plain text or Markdown: what a person copies out of an assistant's memory page.

One memory per bullet (`-`, `*`, `+`, `•`, `1.`, `1)`) or per other non-empty line. Lines indented
under a bullet, up to the next blank line or bullet, continue it; a nested bullet is a memory of its
own. Horizontal rules are skipped. In Markdown, headings are not memories but tag the memories under
them (slugified: '## Work projects' tags 'work-projects'; a deeper heading adds its tag to its
parents'), and code fences' markers are skipped while the lines between them are read.

The source is 'text:' and the file's name ('text:notes.md'), so memories from different files can
be told apart and recalled by file. The id comes from the words, with case and spacing ignored, so
importing the same file again adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO

from mcp_memory.core.models import Kind, MemoryInput
from mcp_memory.transfer.entries import BadEntry, Entry, stable_id
from mcp_memory.transfer.shaping import clean_tags, slug, source_name

BULLET = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,9}[.)])[ \t]+(?P<text>.*)$")
RULE = re.compile(r"^ {0,3}([-*_=])(?:[ \t]*\1){2,}[ \t]*$")
HEADING = re.compile(r"^ {0,3}(?P<level>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_BARE_MARKERS = {"-", "*", "+", "•"}  # a bullet with nothing after it


def read_markdown(stream: IO[str], origin: str) -> Iterator[Entry | BadEntry]:
    """Memories from a Markdown file: bullets and lines, tagged with the headings they are under."""
    return _read(stream, origin, markdown=True)


def read_text(stream: IO[str], origin: str) -> Iterator[Entry | BadEntry]:
    """Memories from a plain text file: one per bullet or non-empty line; no markup is interpreted."""
    return _read(stream, origin, markdown=False)


def text_source(origin: str) -> str:
    """The source of memories read from a text file: 'text:' and its name."""
    return source_name(f"text:{PurePath(origin).name}") or "text"


@dataclass
class _Memory:
    line: int
    bullet: bool
    parts: list[str]
    tags: list[str] = field(default_factory=list)

    def entry(self, source: str) -> Entry:
        content = " ".join(self.parts)
        key = " ".join(content.split()).casefold()
        memory = MemoryInput(
            content=content, id=stable_id("text", key), source=source, kind=Kind.fact, tags=clean_tags(self.tags)
        )
        return Entry(self.line, memory)


def _read(stream: IO[str], origin: str, *, markdown: bool) -> Iterator[Entry]:
    source = text_source(origin)
    headings: list[tuple[int, str]] = []  # (level, tag) of the headings the current line is under
    open_memory: _Memory | None = None
    for number, raw in enumerate(stream, 1):
        line = raw.rstrip("\r\n").lstrip("\ufeff") if number == 1 else raw.rstrip("\r\n")
        if open_memory and _continues(open_memory, line, markdown):
            open_memory.parts.append(line.strip())
            continue
        if open_memory:
            yield open_memory.entry(source)
            open_memory = None
        if not line.strip() or RULE.match(line) or (markdown and FENCE.match(line)):
            continue
        heading = HEADING.match(line) if markdown else None
        if heading:
            level = len(heading["level"])
            headings = [h for h in headings if h[0] < level]
            if tag := slug(heading["text"] or ""):
                headings.append((level, tag))
            continue
        bullet = BULLET.match(line)
        text = bullet["text"].strip() if bullet else line.strip()
        if text and text not in _BARE_MARKERS:
            open_memory = _Memory(number, bullet is not None, [text], [tag for _, tag in headings])
    if open_memory:
        yield open_memory.entry(source)


def _continues(memory: _Memory, line: str, markdown: bool) -> bool:
    """Whether a line goes on with the bullet before it: indented, not blank, not a bullet or a fence."""
    return (
        memory.bullet
        and line[:1] in (" ", "\t")
        and bool(line.strip())
        and not BULLET.match(line)
        and not (markdown and FENCE.match(line))
    )
