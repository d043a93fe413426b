"""`mcp-memory reembed`: move namespaces to another embedding model. Like `reindex`, it owns the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar

from mcp_memory.cli import DataDir, app, guarded, out, settings_from
from mcp_memory.serve.owner_files import OwnerFiles

if TYPE_CHECKING:  # the library itself is imported when the command runs: other commands need not wait for it
    from mcp_memory.core.config import Settings
    from mcp_memory.core.reembedding import Progress, Reembedded


@app.command()
def reembed(
    model: Annotated[
        str, typer.Option("--model", help="The model to move to: a sentence-transformers name or a local path.")
    ],
    namespace: Annotated[
        list[str] | None, typer.Option("--namespace", "-n", help="Only this namespace; repeat. Without it, all.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Embed every memory of a namespace again with another model, so that a server on that model can use it.

    Ids, fields, threads, long memories' parts, superseded memories, history and use all stay. The
    old vectors are replaced only once the new ones are complete; an interrupted run is finished by
    running it again. Namespaces already on the model are skipped. Stop the server first: this
    command owns the store. Then serve with MCP_MEMORY_EMBEDDING_MODEL set to the model.
    """
    settings = settings_from(data_dir=data_dir)
    files = OwnerFiles(settings.data_dir)
    if files.is_owned():
        typer.echo(f"error: a server owns {files.data_dir}: stop it first with `mcp-memory stop`", err=True)
        raise typer.Exit(1)
    moved = guarded(lambda: _reembed(settings, files, model, namespace))
    if moved and _canonical(settings.embedding_model) != _canonical(model):
        out.print(f"now serve them with MCP_MEMORY_EMBEDDING_MODEL={model}", highlight=False)


def _reembed(settings: Settings, files: OwnerFiles, model: str, namespaces: list[str] | None) -> bool:
    """Each namespace moved in turn, and said; whether any was."""
    from mcp_memory.core.embedder import load_embedder
    from mcp_memory.core.reembedding import Reembedder
    from mcp_memory.serve.owner import hold_directory
    from mcp_memory.storage.chroma_store import configured_store
    from mcp_memory.storage.keyword_index import KeywordIndex

    with hold_directory(files):
        embedder = load_embedder(model, settings.embedding_backend, settings.model_cache_dir)
        store = configured_store(settings, model_name=embedder.name, dimension=embedder.dimension)
        keywords = KeywordIndex.beside(settings.data_dir)
        reembedder = Reembedder(store, embedder, keywords, settings)
        moved, names = False, namespaces or reembedder.namespaces()
        if not names:
            out.print(f"no namespaces in {settings.data_dir}", highlight=False)
        try:
            for name in names:
                with _progress(name) as progress:
                    result = reembedder.reembed(name, progress)
                out.print(_summary(result, model), highlight=False)
                moved = moved or result.status != "skipped"
        finally:  # committed, and its writers closed, before a server may take the directory
            keywords.flush()
        return moved


def _summary(result: Reembedded, model: str) -> str:
    if result.status == "skipped":
        return f"{result.namespace}: already on {model}, skipped ({result.memories} memories)"
    if result.status == "finished":
        return f"{result.namespace}: {result.memories} memories moved to {model}, finishing an interrupted run"
    resumed = f", {result.resumed} of them staged by an interrupted run" if result.resumed else ""
    return (
        f"{result.namespace}: {result.memories} memories ({result.parts} parts) re-embedded with {model}"
        f"{resumed}; {result.embedded} texts embedded"
    )


def _canonical(model: str) -> str:
    """The packaged model under the one name it is recorded with."""
    from mcp_memory.core.config import DEFAULT_MODEL
    from mcp_memory.core.embedder import DEFAULT_MODEL_ID

    return DEFAULT_MODEL_ID if model == DEFAULT_MODEL else model


@contextmanager
def _progress(namespace: str) -> Iterator[Progress]:
    """A progress bar on a terminal's standard error; nothing when it is piped."""
    errors = Console(stderr=True)
    if not errors.is_terminal:
        yield lambda done, total: None
        return
    columns = (TextColumn(f"re-embedding {namespace}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Bar(*columns, console=errors, transient=True) as bar:
        task = bar.add_task(namespace, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
