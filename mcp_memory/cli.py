"""The `mcp-memory` command: run the MCP server, or use the memory from a terminal."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from mcp_memory.config import Settings
from mcp_memory.errors import MemoryServerError
from mcp_memory.models import Kind
from mcp_memory.service import MemoryService

app = typer.Typer(
    help="A local-first memory server for AI assistants, spoken over MCP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()

Namespace = Annotated[
    str | None,
    typer.Option("--namespace", "-n", help="Namespace to use [env MCP_MEMORY_NAMESPACE; default 'default']."),
]
DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where memories are stored [env MCP_MEMORY_DATA_DIR].")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Tags = Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeat for several.")]


def _settings(**overrides: Any) -> Settings:
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    logging.basicConfig(
        stream=sys.stderr, level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    return settings


def _service(settings: Settings) -> MemoryService:
    from mcp_memory.runtime import open_service

    return open_service(settings)


@app.command()
def stdio(namespace: Namespace = None, data_dir: DataDir = None) -> None:
    """Serve MCP over stdin/stdout: the command an MCP host's config runs."""
    from mcp_memory.transports import run_stdio

    anyio.run(run_stdio, _settings(namespace=namespace, data_dir=data_dir))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [default 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [default 8765].")] = None,
    namespace: Namespace = None,
    data_dir: DataDir = None,
) -> None:
    """Serve MCP over streamable HTTP at http://HOST:PORT/mcp.

    A client picks its namespace with the header 'Mcp-Memory-Namespace' or '?namespace=' in the URL;
    without either it gets --namespace.
    """
    from mcp_memory.transports import run_http

    anyio.run(run_http, _settings(host=host, port=port, namespace=namespace, data_dir=data_dir))


@app.command()
def remember(
    content: Annotated[str, typer.Argument(help="The fact to remember, as one self-contained sentence.")],
    tag: Tags = None,
    kind: Annotated[Kind, typer.Option(help="What sort of memory this is.")] = Kind.fact,
    importance: Annotated[float | None, typer.Option(help="0.0 trivial .. 1.0 critical.")] = None,
    occurred_at: Annotated[str | None, typer.Option(help="When it happened (ISO 8601).")] = None,
    namespace: Namespace = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Remember a memory, as an MCP host would."""
    settings = _settings(namespace=namespace, data_dir=data_dir)
    result = _run(
        lambda s: s.remember(
            settings.namespace,
            content,
            tags=tag or [],
            kind=kind,
            importance=importance,
            occurred_at=occurred_at,
            source="cli",
        ),
        settings,
    )
    if as_json:
        return _print_json(result)
    out.print(f"{result.status} [bold]{result.id}[/bold]")
    for similar in result.similar:
        out.print(f"  similar ({similar.score:.2f}) {similar.id}: {similar.content}")


@app.command()
def recall(
    query: Annotated[str, typer.Argument(help="What to look for, in natural language.")],
    limit: Annotated[int, typer.Option(help="How many memories, 1 to 50.")] = 5,
    tag: Tags = None,
    kind: Annotated[Kind | None, typer.Option(help="Only this kind.")] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO 8601 date on.")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this ISO 8601 date.")] = None,
    namespace: Namespace = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Recall the memories that best match QUERY, best first."""
    settings = _settings(namespace=namespace, data_dir=data_dir)
    result = _run(
        lambda s: s.recall(settings.namespace, query, limit=limit, tags=tag, kind=kind, since=since, until=until),
        settings,
    )
    if as_json:
        return _print_json(result)
    table = Table("score", "kind", "content", "source", "created")
    table.add_column("id", no_wrap=True)
    for m in result.memories:
        table.add_row(f"{m.score:.3f}", m.kind.value, m.content, m.source, m.created_at.strftime("%Y-%m-%d"), m.id)
    out.print(table)


@app.command()
def forget(
    ids: Annotated[list[str], typer.Argument(help="Ids of the memories to delete.")],
    namespace: Namespace = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Delete memories by id."""
    settings = _settings(namespace=namespace, data_dir=data_dir)
    result = _run(lambda s: s.forget(settings.namespace, ids), settings)
    if as_json:
        return _print_json(result)
    out.print(f"forgotten: {len(result.forgotten)}; missing: {', '.join(result.missing) or 'none'}")


@app.command()
def stats(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Show the store's location, model and memory count per namespace."""
    settings = _settings(data_dir=data_dir)
    result = _run(lambda s: s.stats(), settings)
    if as_json:
        return _print_json(result)
    out.print(f"data dir: {result.data_dir}\nmodel:    {result.embedding_model}")
    table = Table("namespace", "memories")
    for name, count in result.namespaces.items():
        table.add_row(name, str(count))
    out.print(table)


def _run(operation: Any, settings: Settings) -> Any:
    """Call the service; the project's errors become a one-line message and exit code 2."""
    try:
        return operation(_service(settings))
    except MemoryServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _print_json(result: BaseModel) -> None:
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False))


def main() -> None:
    app()
