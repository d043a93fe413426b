"""`mcp-memory import`: a file of memories, in any format read here, stored in batches, all or nothing.

The file is read twice, a batch at a time, so a file of any size needs bounded memory; each batch
is read on a worker thread while the one before it is with the owner. The first
pass checks every memory (the owner validates them as it would store them, storing nothing); if
any is malformed or invalid, nothing is imported and every problem is reported with its line, unless
`skip_bad` says to leave those out. The second pass stores, two batches at a time (`sending`). Ids
already in the namespace are left alone, so an import cut short is finished by running it again.
"""

from __future__ import annotations

import zipfile
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio.to_thread

from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import MemoryInput, StoredMemory
from mcp_memory.core.validation import MAX_BATCH
from mcp_memory.transfer.channel import Channel, Progress, no_progress
from mcp_memory.transfer.entries import BadEntry, Entry, Reader
from mcp_memory.transfer.formats import FORMATS, OWN, READERS, detect
from mcp_memory.transfer.native import read_export, read_header
from mcp_memory.transfer.openmemory import open_openmemory_backup
from mcp_memory.transfer.sending import claims, send_batches

BATCH = MAX_BATCH  # memories per call, the most one takes: bounded messages, and one embedding batch each
BATCH_BYTES = 4 * 1024 * 1024  # and about this much, however long the memories
SHOWN = 20  # problems listed before "and N more"

SNIFF = 64 * 1024  # bytes read to tell the format
Opener = Callable[[], AbstractContextManager[IO[str]]]


@dataclass
class ImportReport:
    format: str
    imported: int = 0
    present: int = 0
    embedded: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why): left out, by choice or not

    def summary(self) -> str:
        parts = [f"{self.imported} imported", f"{self.present} already here", f"{len(self.skipped)} skipped"]
        return ", ".join(parts) + f" ({self.format})"


@dataclass(frozen=True)
class Source:
    """A file to import: its format, how to open it as text, and the model its vectors were made with."""

    name: str
    format: str
    open: Opener
    reader: Reader
    model: str | None = None


def open_source(path: Path, format: str | None = None) -> Source:
    """The file at `path` as a source, in `format` or the one its start and name show."""
    if not path.is_file():
        raise InvalidInput(f"no file {path}: give the path of a file to import")
    if format is not None and format not in FORMATS:
        raise InvalidInput(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    with path.open("rb") as raw:
        start = raw.read(SNIFF).decode("utf-8", errors="replace")
    format = format or detect(start, path.name)
    if format == "openmemory" and (zipfile.is_zipfile(path) or path.name.endswith(".gz")):
        return Source(path.name, format, lambda: open_openmemory_backup(path), READERS[format])
    opener: Opener = lambda: path.open(encoding="utf-8-sig", newline="")  # noqa: E731 - opened per pass
    if format == OWN:
        with opener() as stream:
            header = read_header(stream.readline())
        return Source(path.name, format, opener, read_export, header.model)
    return Source(path.name, format, opener, READERS[format])


async def import_file(
    channel: Channel, source: Source, *, skip_bad: bool = False, progress: Progress = no_progress
) -> ImportReport:
    problems = await _check(channel, source)
    if problems and not skip_bad:
        raise InvalidInput(_refusal(source.name, problems))
    report = ImportReport(source.format, skipped=list(problems))
    leave_out = {line for line, _ in problems}

    async def store(batch: list[Entry]) -> None:
        result = await channel.import_batch([e.memory for e in batch], model=source.model, check_only=False)
        report.imported += len(result.imported)
        report.present += len(result.present)
        report.embedded += result.embedded
        report.skipped += [(batch[s.index].line, s.reason) for s in result.skipped]
        progress(report.imported + report.present + len(report.skipped))

    async with aclosing(_read_ahead(_batches(source, leave_out))) as batches:  # closes the file on a failure
        await send_batches(batches, lambda batch: claims(e.memory for e in batch), store)
    report.skipped.sort()
    return report


async def _check(channel: Channel, source: Source) -> list[tuple[int, str]]:
    """Every malformed line and invalid memory of the file, by line; nothing is stored."""
    problems: list[tuple[int, str]] = []
    with source.open() as stream:
        async with aclosing(_read_ahead(_batched(source.reader(stream, source.name), problems))) as batches:
            async for batch in batches:
                light = [e.memory.without_vectors() for e in batch]  # the check needs no vectors: spare sending
                result = await channel.import_batch(light, model=None, check_only=True)
                problems += [(batch[s.index].line, s.reason) for s in result.skipped if s.cause == "invalid"]
    return sorted(problems)


async def _read_ahead(batches: Iterator[list[Entry]]) -> AsyncGenerator[list[Entry], None]:
    """The batches, each read and parsed on a worker thread while the one before it is with the owner."""
    with ThreadPoolExecutor(1, thread_name_prefix="mcp-memory-read") as reader:
        upcoming = reader.submit(next, batches, None)
        while (batch := await anyio.to_thread.run_sync(upcoming.result)) is not None:
            upcoming = reader.submit(next, batches, None)
            yield batch


def _batches(source: Source, leave_out: set[int]) -> Iterator[list[Entry]]:
    with source.open() as stream:
        entries = (e for e in source.reader(stream, source.name) if e.line not in leave_out)
        yield from _batched(entries, [])


def _batched(entries: Iterable[Entry | BadEntry], bad: list[tuple[int, str]]) -> Iterator[list[Entry]]:
    """Entries in batches of at most `BATCH` memories and about `BATCH_BYTES`; bad ones go to `bad`."""
    batch: list[Entry] = []
    size = 0
    for entry in entries:
        if isinstance(entry, BadEntry):
            bad.append((entry.line, entry.reason))
            continue
        weight = _weight(entry.memory)
        if batch and (len(batch) == BATCH or size + weight > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += weight
    if batch:
        yield batch


def _weight(memory: MemoryInput) -> int:
    """Roughly the bytes a memory takes in a call: its words, its vectors and its events."""
    extra = 0
    if isinstance(memory, StoredMemory):
        vectors = [v for v in (memory.vector, *(memory.part_vectors or [])) if v is not None]
        extra = sum(len(v) * 4 * 4 // 3 for v in vectors) + 200 * len(memory.history or [])
    return len(memory.content.encode("utf-8")) + 500 + extra


def _refusal(name: str, problems: list[tuple[int, str]]) -> str:
    lines = [f"  line {line}: {why}" for line, why in problems[:SHOWN]]
    if len(problems) > SHOWN:
        lines.append(f"  … and {len(problems) - SHOWN} more")
    return (
        f"{name} has {len(problems)} problem(s), so nothing was imported:\n"
        + "\n".join(lines)
        + "\nFix them, or import again with --skip-bad to leave those memories out."
    )
