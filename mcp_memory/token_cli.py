"""`mcp-memory token`: access tokens for HTTP hosts, kept in the data directory, or on the Chroma server
the memories are kept on (see `tokens.py`).

They work on the tokens directly, so they need no running server, and a running one sees each change
at its next request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mcp_memory.cli import AsJson, ChromaUrl, DataDir, guarded, out, settings_from
from mcp_memory.serve.owner_files import OwnerFiles

if TYPE_CHECKING:
    from mcp_memory.core.config import Settings
    from mcp_memory.core.models import OwnerInfo
    from mcp_memory.serve.tokens import TokenBook

token_app = typer.Typer(help="Access tokens for HTTP hosts: create, list, revoke.", no_args_is_help=True)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="A name to list and revoke it by, e.g. the host: 'cursor'.")],
    namespace: Annotated[
        list[str], typer.Option("--namespace", "-n", help="A namespace it grants; repeat for several (first: default).")
    ],
    read_only: Annotated[
        bool, typer.Option("--read-only", help="It may recall and read, not remember or forget.")
    ] = False,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Create a token and print it once; only its hash is kept. Takes effect at once, no restart."""
    store = _tokens(data_dir, chroma_url)
    token = guarded(lambda: store.create(name, namespace, read_only=read_only))
    typer.echo(token)
    access = "read-only" if read_only else "read and write"
    typer.echo(f"token {name!r}: {access}, namespaces {', '.join(namespace)}; shown only now", err=True)


@token_app.command("list")
def token_list(data_dir: DataDir = None, as_json: AsJson = False, chroma_url: ChromaUrl = None) -> None:
    """List the tokens: name, namespaces, access, creation time (never the tokens themselves)."""
    records = guarded(lambda: _tokens(data_dir, chroma_url).records())
    if as_json:
        return typer.echo(json.dumps([r.model_dump(mode="json", exclude={"sha256"}) for r in records], indent=2))
    table = Table("name", "namespaces", "access", "created")
    for r in records:
        table.add_row(
            r.name,
            ", ".join(r.namespaces),
            "read-only" if r.read_only else "read, write",
            f"{r.created_at:%Y-%m-%d %H:%M}",
        )
    out.print(table if records else "no tokens: `mcp-memory token create --name NAME --namespace NS`")


@token_app.command("revoke")
def token_revoke(
    name: Annotated[str, typer.Argument(help="The token's name, as `token list` shows it.")],
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Revoke a token: the next request that carries it is refused, even on a running server."""
    guarded(lambda: _tokens(data_dir, chroma_url).revoke(name))
    out.print(f"revoked {name!r}")


def _tokens(data_dir: Path | None, chroma_url: str | None) -> TokenBook:
    """The tokens of the data directory, or of the Chroma server the memories are kept on."""
    from mcp_memory.serve.tokens import token_book

    settings = settings_from(data_dir=data_dir, chroma_url=chroma_url)
    OwnerFiles(settings.data_dir).ensure_private_dir()
    return token_book(settings)


def first_token(settings: Settings, about: OwnerInfo) -> None:
    """The first `serve` by hand makes a token for the default namespace, and says how to use it; never
    again, even once every token is revoked (that keeps HTTP closed)."""
    from mcp_memory.serve.http_app import http_url
    from mcp_memory.serve.tokens import token_book

    token = guarded(lambda: token_book(settings).create_first("default", [settings.namespace]))
    if token is None:
        return
    url = about.http or http_url(settings.host, settings.port)
    typer.echo(
        f"Created an access token for HTTP hosts, named 'default', for namespace {settings.namespace!r}.\n"
        f"It is shown only now:\n\n    {token}\n\n"
        f"HTTP hosts send it as the header 'Authorization: Bearer {token}' to {url}, e.g.\n"
        f'    claude mcp add --transport http memory {url} --header "Authorization: Bearer {token}"\n'
        "Hosts that run `mcp-memory stdio` need no token. More tokens: `mcp-memory token create --help`.\n"
    )
