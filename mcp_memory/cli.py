"""The `mcp-memory` command: run the server, or use the memory from a terminal.

Every command that touches memories goes through the data directory's owner, as hosts do, and
starts it when none runs: exactly one process may open the store.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mcp_memory.core.errors import MemoryServerError
from mcp_memory.core.models import ForgetResult, Kind, RecallResult, RememberResult
from mcp_memory.serve.owner_files import OwnerFiles, stop_owner

# A command imports what it alone needs in its body (the server, the store, the model, an event loop), so
# that a recall answers in well under a second; tests/test_cli_imports.py keeps this module light.
if TYPE_CHECKING:
    from pydantic import BaseModel

    from mcp_memory.core.config import Settings

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
ChromaUrl = Annotated[
    str | None,
    typer.Option(
        "--chroma-url",
        help="Keep memories on this Chroma server (http://host:port, https for TLS) rather than in the data "
        "directory [MCP_MEMORY_CHROMA_URL; MCP_MEMORY_CHROMA_TOKEN, MCP_MEMORY_CHROMA_CA_FILE].",
    ),
]
Tags = Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeat for several.")]


def settings_from(**overrides: Any) -> Settings:
    from mcp_memory.core.config import Settings

    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    logging.basicConfig(
        stream=sys.stderr, level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return settings


@app.command()
def stdio(namespace: Namespace = None, data_dir: DataDir = None) -> None:
    """Serve MCP over stdin/stdout: the command an MCP host's config runs.

    A light bridge to the data directory's owner (`serve`), which it starts in the background when
    none runs. Every host may run its own; they all share one store.
    """
    from mcp_memory.serve.bridge import main as bridge

    args = [*(["--namespace", namespace] if namespace else []), *(["--data-dir", str(data_dir)] if data_dir else [])]
    raise typer.Exit(bridge(args))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [default 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [default 8765].")] = None,
    namespace: Namespace = None,
    data_dir: DataDir = None,
    idle_exit: Annotated[
        float | None, typer.Option(help="Stop after this many seconds with no client [default: never].")
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth", help="Serve HTTP without tokens, every namespace open: for a trusted setup, loopback only."
        ),
    ] = False,
    chroma_url: ChromaUrl = None,
    background: Annotated[
        bool,
        typer.Option(
            hidden=True,
            help="Started by a bridge: serve the socket alone if the port is taken; stop when idle "
            "[MCP_MEMORY_IDLE_EXIT].",
        ),
    ] = False,
) -> None:
    """Own the data directory and serve MCP: streamable HTTP at http://HOST:PORT/mcp, and a unix socket.

    HTTP hosts send a token: 'Authorization: Bearer TOKEN' (see `mcp-memory token create`); the
    first `serve` makes one for the default namespace and prints it. A token with several namespaces
    picks one with the header 'Mcp-Memory-Namespace'. Hosts that run `mcp-memory stdio` need no
    token: they reach the server over its private unix socket. Only one process may own a data
    directory; a second `serve` exits naming the first.
    """
    import anyio

    from mcp_memory.serve.owner import run_owner

    settings = settings_from(
        host=host,
        port=port,
        namespace=namespace,
        data_dir=data_dir,
        auth=False if no_auth else None,
        chroma_url=chroma_url,
    )
    if background and idle_exit is None:
        idle_exit = settings.idle_exit
    # A first serve by hand hands out a token; one a bridge started in the background has nobody to tell.
    announce = (lambda about: first_token(settings, about)) if settings.auth and not background else None
    try:
        anyio.run(lambda: run_owner(settings, idle_exit=idle_exit, http_required=not background, on_owned=announce))
    except MemoryServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def remember(
    content: Annotated[str, typer.Argument(help="The fact to remember, as one self-contained sentence.")],
    tag: Tags = None,
    kind: Annotated[Kind, typer.Option(help="What sort of memory this is.")] = Kind.fact,
    importance: Annotated[float | None, typer.Option(help="0.0 trivial .. 1.0 critical.")] = None,
    occurred_at: Annotated[str | None, typer.Option(help="When it happened (ISO 8601 or a phrase).")] = None,
    thread: Annotated[str | None, typer.Option(help="The conversation or thread it belongs to.")] = None,
    supersedes: Annotated[
        list[str] | None, typer.Option("--supersedes", help="Id of a memory this one replaces; repeat for several.")
    ] = None,
    ttl: Annotated[str | None, typer.Option(help="Forget it after this long: '7 days', '12 hours'.")] = None,
    expires_at: Annotated[str | None, typer.Option(help="Forget it at this time (ISO 8601 or a phrase).")] = None,
    namespace: Namespace = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Remember a memory, as an MCP host would."""
    arguments = {"content": content, "tags": tag or [], "kind": kind, "importance": importance}
    arguments |= {"occurred_at": occurred_at, "thread": thread, "supersedes": supersedes}
    arguments |= {"ttl": ttl, "expires_at": expires_at}
    result = _call("remember", arguments, RememberResult, namespace, data_dir)
    if as_json:
        return _print_json(result)
    out.print(f"{result.status} [bold]{result.id}[/bold]")
    if result.superseded:
        out.print(f"  superseded: {', '.join(result.superseded)}")
    for similar in result.similar:
        out.print(f"  similar ({similar.score:.2f}) {similar.id}: {similar.content}")


@app.command()
def recall(
    query: Annotated[str, typer.Argument(help="What to look for, in natural language.")],
    limit: Annotated[int, typer.Option(help="How many memories, 1 to 50.")] = 5,
    tag: Tags = None,
    kind: Annotated[Kind | None, typer.Option(help="Only this kind.")] = None,
    since: Annotated[str | None, typer.Option(help="From then on: ISO 8601, or a phrase like 'last week'.")] = None,
    until: Annotated[str | None, typer.Option(help="Up to then: ISO 8601, or a phrase.")] = None,
    include_superseded: Annotated[bool, typer.Option(help="Also search memories replaced by newer ones.")] = False,
    explain: Annotated[bool, typer.Option(help="Show each memory's score parts.")] = False,
    namespace: Namespace = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Recall the memories that best match QUERY, best first."""
    arguments = {"query": query, "limit": limit, "tags": tag, "kind": kind, "since": since, "until": until}
    arguments |= {"include_superseded": include_superseded, "explain": explain}
    result = _call("recall", arguments, RecallResult, namespace, data_dir)
    if as_json:
        return _print_json(result)
    if not result.memories:
        out.print("nothing recalled")
    for m in result.memories:
        out.print(
            f"[bold]{m.similarity:4.0%}[/bold] {m.id} [dim]{m.closeness}; {m.kind.value}, from {m.source}, "
            f"{m.created_at:%Y-%m-%d}[/dim]"
        )
        out.print(f"      {m.content}", markup=False, highlight=False)
        if m.superseded_by:
            out.print(f"      [dim]superseded by {m.superseded_by}[/dim]")
        if m.matched_part:
            out.print(f"      [dim]matched: {m.matched_part}[/dim]", markup=True, highlight=False)
        if m.explain:
            out.print(f"      [dim]{m.explain.model_dump_json()}[/dim]")


@app.command()
def forget(
    ids: Annotated[list[str] | None, typer.Argument(help="Ids of the memories to delete.")] = None,
    tag: Tags = None,
    kind: Annotated[Kind | None, typer.Option(help="Instead of ids: every memory of this kind.")] = None,
    source: Annotated[str | None, typer.Option(help="Instead of ids: every memory written by this app.")] = None,
    before: Annotated[str | None, typer.Option(help="With a filter: only memories from before then.")] = None,
    after: Annotated[str | None, typer.Option(help="With a filter: only memories from then on.")] = None,
    everything: Annotated[bool, typer.Option(help="Every memory of the namespace; needs --confirm.")] = False,
    confirm: Annotated[str | None, typer.Option(help="With --everything: the namespace's name.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Only list what would be forgotten.")] = False,
    namespace: Namespace = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Erase memories from every index: by ids, by a filter (--tag, --kind, --source, --before, --after),
    or --everything in the namespace."""
    arguments: dict[str, Any] = {"ids": ids or None, "tags": tag, "kind": kind, "source": source}
    arguments |= {"before": before, "after": after}
    arguments |= {"everything": everything, "confirm": confirm, "dry_run": dry_run}
    result = _call("forget", arguments, ForgetResult, namespace, data_dir)
    if as_json:
        return _print_json(result)
    for memory in result.memories:
        out.print(f"{memory.id} {memory.content}", markup=False, highlight=False)
    verb = "would forget" if result.dry_run else "forgotten"
    out.print(f"{verb}: {len(result.forgotten)}; missing: {', '.join(result.missing) or 'none'}")


@app.command()
def history(
    memory_id: Annotated[str, typer.Argument(help="The memory's id.")],
    namespace: Namespace = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Show what happened to a memory: created, reinforced, updated, superseded, forgotten."""
    from mcp_memory.serve.client import read_history

    settings = settings_from(namespace=namespace, data_dir=data_dir)
    result = guarded(lambda: read_history(settings, memory_id))
    if as_json:
        return _print_json(result)
    out.print(f"[bold]{result.id}[/bold] {result.state}")
    if result.content is not None:
        out.print(f"  {result.content}", markup=False, highlight=False)
    for event in result.events:
        detail = ", ".join(f"{k}: {v}" for k, v in event.detail.items())
        out.print(f"  {event.at:%Y-%m-%d %H:%M:%S} {event.event} [dim]{detail}[/dim]")


@app.command()
def dashboard(
    no_open: Annotated[bool, typer.Option("--no-open", help="Only print the link; open no browser.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Open the server's web pages in a browser, signed in by a one-time link (it works once, within 2 minutes).

    The link comes from the server over its private socket, so it signs in this machine's user, with every
    namespace; starts the server if none runs.
    """
    from mcp_memory.core.models import DashboardLink

    link = _call("dashboard_link", {}, DashboardLink, None, data_dir)
    typer.echo(link.url)
    if not no_open:
        import webbrowser

        if not webbrowser.open(link.url):
            typer.echo(f"no browser could be opened here: open the link above within {link.expires_in} s", err=True)


@app.command()
def stats(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Show the store's location, model and memory count per namespace (starting the server if needed)."""
    from mcp_memory.serve.client import read_status

    settings = settings_from(data_dir=data_dir)
    status = guarded(lambda: read_status(settings))
    if as_json:
        return _print_json(status)
    out.print(f"data dir: {status.data_dir}\nmodel:    {status.embedding_model}")
    _print_counts(status.namespaces or {})


@app.command()
def status(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Show whether a server owns the data directory: pid, socket, HTTP address, model and memory counts."""
    from mcp_memory.serve.client import read_status

    settings = settings_from(data_dir=data_dir)
    if not OwnerFiles(settings.data_dir).is_owned():
        if as_json:
            return typer.echo(json.dumps({"running": False, "data_dir": str(settings.data_dir)}))
        return out.print(f"no server owns {settings.data_dir}")
    result = guarded(lambda: read_status(settings))
    if as_json:
        return typer.echo(json.dumps({"running": True, **result.model_dump(mode="json")}))
    out.print(f"running:  pid {result.pid} since {result.started_at:%Y-%m-%d %H:%M:%S} UTC (v{result.version})")
    out.print(f"socket:   {result.socket}\nhttp:     {result.http or 'none'}\ndata dir: {result.data_dir}")
    out.print(f"model:    {result.embedding_model or result.error}")
    _print_counts(result.namespaces or {})


@app.command()
def stop(
    data_dir: DataDir = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for it to finish.")] = 30.0,
) -> None:
    """Stop the server that owns the data directory, letting calls under way finish."""
    files = OwnerFiles(settings_from(data_dir=data_dir).data_dir)
    try:
        pid = stop_owner(files, timeout)
    except TimeoutError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    out.print(f"stopped pid {pid}" if pid else f"no server owns {files.data_dir}")


@app.command()
def reindex(
    namespace: Annotated[
        list[str] | None, typer.Option("--namespace", "-n", help="Only this namespace; repeat.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Rebuild the keyword index from the vector store. Stop the server first: this command owns the store."""
    from mcp_memory.serve.owner import hold_directory
    from mcp_memory.serve.runtime import open_service

    settings = settings_from(data_dir=data_dir)
    files = OwnerFiles(settings.data_dir)
    if files.is_owned():
        typer.echo(f"error: a server owns {files.data_dir}: stop it first with `mcp-memory stop`", err=True)
        raise typer.Exit(1)
    with hold_directory(files):
        counts = open_service(settings).reindex(namespace)
    for name, count in counts.items():
        out.print(f"{name}: {count} memories indexed")


def guarded(operation: Any) -> Any:
    """A local operation or a call to the server; the project's errors become a one-line message and exit
    code 2."""
    try:
        return operation()
    except MemoryServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _call(
    tool: str, arguments: dict[str, Any], result: type[BaseModel], namespace: str | None, data_dir: Path | None
) -> Any:
    from mcp_memory.serve.client import call_tool

    settings = settings_from(namespace=namespace, data_dir=data_dir)
    present = {k: v for k, v in arguments.items() if v is not None}
    return guarded(lambda: call_tool(settings, tool, present, result))


def _run(operation: Any) -> Any:
    """Run an async operation, such as an export; the project's errors become a one-line message and exit code 2."""
    import anyio

    try:
        return anyio.run(operation)
    except MemoryServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _print_counts(namespaces: dict[str, int]) -> None:
    table = Table("namespace", "memories")
    for name, count in namespaces.items():
        table.add_row(name, str(count))
    out.print(table)


def _print_json(result: BaseModel) -> None:
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False))


def main() -> None:
    app()


from mcp_memory.token_cli import first_token, token_app  # noqa: E402 - it builds on the options above

app.add_typer(token_app, name="token")
# They register `install`, `uninstall`, `export`, `import`, `namespaces` and `reembed` on the app above.
from mcp_memory import install_cli, maintenance_cli, transfer_cli  # noqa: E402, F401
