"""`mcp-memory export` and `import`: memories out of a namespace into a file, and back, through the owner."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar

from mcp_memory.cli import (
    AsJson,
    DataDir,
    Namespace,
    _print_counts,
    _print_json,
    _run,
    app,
    guarded,
    out,
    settings_from,
)
from mcp_memory.transfer.channel import Progress
from mcp_memory.transfer.namespaces import CopyReport

FORMATS_HELP = "mcp-memory, mcp-reference-memory, mem0, openmemory, mcp-memory-service, markdown or text"


class ImportSummary(BaseModel):
    format: str
    imported: int
    present: int
    embedded: int
    skipped: list[tuple[int, str]]


@app.command("export")
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; without it, standard output.")
    ] = None,
    vectors: Annotated[
        bool, typer.Option("--vectors", help="Include embeddings (an import skips re-embedding).")
    ] = False,
    history: Annotated[bool, typer.Option("--history", help="Include each memory's history of events.")] = False,
    namespace: Namespace = None,
    data_dir: DataDir = None,
) -> None:
    """Write every memory of a namespace, superseded ones included, as JSON Lines (see the README's format).

    Each memory keeps its id, timestamps, source, supersession and use counts, so importing the
    file elsewhere restores it as it was. The namespace is read a page at a time.
    """
    from mcp_memory.serve.client import OwnerChannel, with_owner
    from mcp_memory.transfer.exporter import export_namespace

    settings = settings_from(namespace=namespace, data_dir=data_dir)

    async def run() -> int:
        with _target(output) as stream, _progress("exporting") as progress:
            return await with_owner(
                settings,
                lambda session: export_namespace(
                    OwnerChannel(session),
                    stream,
                    settings.namespace,
                    vectors=vectors,
                    history=history,
                    progress=progress,
                ),
            )

    count = _run(run)
    if output is not None:
        out.print(f"exported {count} memories of {settings.namespace!r} to {output}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The file to import.", show_default=False)],
    format: Annotated[
        str | None, typer.Option("--format", help=f"Its format, if not the one detected: {FORMATS_HELP}.")
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good memories and list those left out.")
    ] = False,
    namespace: Namespace = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Import memories: this server's export, or another tool's (the MCP reference server's memory.jsonl,
    mem0, an OpenMemory backup, mcp-memory-service), or a text or Markdown file with one memory per line.

    All or nothing: if any memory in the file is malformed, nothing is imported and each problem is
    listed by line (or pass --skip-bad). Ids already here are left as they are, so importing a file
    twice adds nothing, and an interrupted import is finished by running it again.
    """
    from mcp_memory.serve.client import OwnerChannel, with_owner
    from mcp_memory.transfer.importer import import_file, open_source

    settings = settings_from(namespace=namespace, data_dir=data_dir)

    async def run() -> ImportSummary:
        source = open_source(file.expanduser(), format)
        with _progress("importing") as progress:
            report = await with_owner(
                settings,
                lambda session: import_file(OwnerChannel(session), source, skip_bad=skip_bad, progress=progress),
            )
        return ImportSummary(**vars(report))

    summary = _run(run)
    if as_json:
        return _print_json(summary)
    out.print(
        f"{summary.imported} imported into {settings.namespace!r}, {summary.present} already there, "
        f"{len(summary.skipped)} left out ({summary.format}; {summary.embedded} texts embedded)"
    )
    for line, reason in summary.skipped[:20]:
        out.print(f"  line {line}: {reason}", highlight=False)


namespaces_app = typer.Typer(
    help="List the namespaces with their memory counts; copy, merge or rename one.", invoke_without_command=True
)
app.add_typer(namespaces_app, name="namespaces")
Name = Annotated[str, typer.Argument(help="A namespace.", show_default=False)]


@namespaces_app.callback()
def namespaces(ctx: typer.Context, data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """List the namespaces with their memory counts; or copy, merge or rename one (see their --help)."""
    if ctx.invoked_subcommand is not None:
        return
    from mcp_memory.serve.client import read_status

    status = guarded(lambda: read_status(settings_from(data_dir=data_dir)))
    counts = status.namespaces or {}
    if as_json:
        typer.echo(json.dumps(counts))
        return
    _print_counts(counts)


@namespaces_app.command("copy")
def namespaces_copy(source: Name, target: Name, data_dir: DataDir = None) -> None:
    """Copy every memory of SOURCE into TARGET, which may already exist; SOURCE stays as it is.

    Memories keep their ids, history and vectors; those TARGET already has are left as they are.
    """
    report = _copy(source, target, data_dir)
    out.print(f"{report.copied} copied from {source!r} to {target!r}, {report.present + report.skipped} already there")


@namespaces_app.command("merge")
def namespaces_merge(source: Name, target: Name, data_dir: DataDir = None) -> None:
    """Move every memory of SOURCE into TARGET, then empty SOURCE (its history keeps that they left)."""
    report = _copy(source, target, data_dir, then_forget=True)
    out.print(f"{report.copied} moved from {source!r} into {target!r}, {report.present + report.skipped} already there")


@namespaces_app.command("rename")
def namespaces_rename(source: Name, target: Name, data_dir: DataDir = None) -> None:
    """Rename SOURCE to TARGET, which must not hold memories yet (else use merge)."""
    report = _copy(source, target, data_dir, then_forget=True, into_empty=True)
    out.print(f"{source!r} renamed to {target!r}: {report.copied} memories")


def _copy(
    source: str, target: str, data_dir: Path | None, *, then_forget: bool = False, into_empty: bool = False
) -> CopyReport:
    from mcp_memory.core.models import ForgetResult
    from mcp_memory.serve.client import OwnerChannel, call_tool, read_status, with_owner
    from mcp_memory.transfer.namespaces import copy_namespace

    if source == target:
        typer.echo("error: SOURCE and TARGET are the same namespace", err=True)
        raise typer.Exit(2)
    known = guarded(lambda: read_status(settings_from(data_dir=data_dir))).namespaces or {}
    if source not in known:
        typer.echo(f"error: there is no namespace {source!r}: `mcp-memory namespaces` lists them", err=True)
        raise typer.Exit(2)
    if into_empty and (held := known.get(target, 0)):
        typer.echo(f"error: {target!r} already holds {held} memories: use `namespaces merge` to join them", err=True)
        raise typer.Exit(2)
    reading, writing = (
        settings_from(namespace=source, data_dir=data_dir),
        settings_from(namespace=target, data_dir=data_dir),
    )

    async def run() -> CopyReport:
        with _progress("copying") as progress:
            return await with_owner(
                reading,
                lambda src: with_owner(
                    writing, lambda dst: copy_namespace(OwnerChannel(src), OwnerChannel(dst), progress)
                ),
            )

    report: CopyReport = _run(run)
    if then_forget and report.total:
        forget = {"everything": True, "confirm": source}
        guarded(lambda: call_tool(reading, "forget", forget, ForgetResult))
    return report


@contextmanager
def _target(output: Path | None) -> Iterator[IO[str]]:
    """Standard output, or a file that appears only once it is complete."""
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    output = output.expanduser()
    fd, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            yield stream
        os.replace(partial, output)
    finally:
        Path(partial).unlink(missing_ok=True)


@contextmanager
def _progress(verb: str) -> Iterator[Progress]:
    """A progress bar on a terminal's standard error; nothing when it is piped."""
    errors = Console(stderr=True)
    if not errors.is_terminal:
        yield lambda done: None
        return
    columns = (TextColumn(f"{verb}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Bar(*columns, console=errors, transient=True) as bar:
        task = bar.add_task(verb, total=None)
        yield lambda done: bar.update(task, completed=done)
