"""`mcp-memory install HOST` and `uninstall HOST`: set an MCP host up to run this mcp-memory, in one command.

They edit the host's own config file (see `transfer/hosts.py` for where each one is), keep every
other setting and comment, back the old file up beside it, and say what they did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mcp_memory.cli import AsJson, app, guarded, out
from mcp_memory.transfer.hosts import HOSTS, Scope, host_named
from mcp_memory.transfer.installer import (
    Plan,
    apply,
    installed_command,
    plan_install,
    plan_uninstall,
    statuses,
    stdio_args,
)

HostName = Annotated[
    str | None,
    typer.Argument(help=f"The host: {', '.join(HOSTS)}.", show_default=False),
]
ScopeOption = Annotated[
    Scope,
    typer.Option(
        "--scope", help="user: the host's own config, for every project; project: the file in the current directory."
    ),
]
ServerName = Annotated[str, typer.Option("--name", help="The server's name in the host's config.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the change as a diff; write nothing.")]


@app.command()
def install(
    host: HostName = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="The namespace this host remembers in (without it: 'default')."),
    ] = None,
    scope: ScopeOption = Scope.user,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where memories are stored, if not the default data directory.")
    ] = None,
    name: ServerName = "memory",
    dry_run: DryRun = False,
    list_hosts: Annotated[
        bool, typer.Option("--list", help="List the hosts: config file, whether it exists, whether set up.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Set up an MCP host (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Codex, Gemini CLI)
    to run this mcp-memory.

    Adds a server entry that runs `mcp-memory stdio` by its absolute path, so it works outside this
    virtualenv, to the host's config file, creating the file if needed. Every other setting and
    comment stays; the old file is kept as FILE.bak. Running it again changes nothing; a different
    entry of the same name is replaced. `--list` shows every host.
    """
    if list_hosts:
        return _list(name, as_json)
    if host is None:
        typer.echo(f"error: name a host ({', '.join(HOSTS)}), or use --list", err=True)
        raise typer.Exit(2)
    chosen = guarded(lambda: host_named(host))
    entry = guarded(lambda: chosen.entry(installed_command(), stdio_args(namespace, data_dir)))
    plan = guarded(lambda: plan_install(chosen, scope, Path.cwd(), name, entry))
    if plan.outcome == "unchanged":
        return typer.echo(f"{chosen.title} is already set up: {name!r} in {plan.path} runs {entry['command']}.")
    _carry_out(plan, dry_run)


@app.command()
def uninstall(
    host: Annotated[str, typer.Argument(help=f"The host: {', '.join(HOSTS)}.", show_default=False)],
    scope: ScopeOption = Scope.user,
    name: ServerName = "memory",
    dry_run: DryRun = False,
) -> None:
    """Remove the mcp-memory entry from an MCP host's config file, and nothing else.

    The old file is kept as FILE.bak. Says so, and changes nothing, when there is no such entry.
    """
    chosen = guarded(lambda: host_named(host))
    plan = guarded(lambda: plan_uninstall(chosen, scope, Path.cwd(), name))
    if plan.outcome == "absent":
        where = plan.path if plan.before is not None else f"{plan.path} (no such file)"
        return typer.echo(f"{chosen.title} has no {name!r} entry in {where}; nothing to remove.")
    _carry_out(plan, dry_run)


def _carry_out(plan: Plan, dry_run: bool) -> None:
    if dry_run:
        typer.echo(plan.diff(), nl=False)
        return typer.echo(f"dry run: {plan.path} was not changed.")
    backup = guarded(lambda: apply(plan))
    done = {
        "added": f"Added {plan.name!r} to {plan.path}",
        "replaced": f"Replaced a different {plan.name!r} entry in {plan.path}",
        "removed": f"Removed {plan.name!r} from {plan.path}",
    }[plan.outcome]
    kept = f"; the old file is {backup}" if backup else " (a new file)" if plan.before is None else ""
    typer.echo(f"{plan.host.title}: {done}{kept}.")
    if plan.outcome != "removed":
        typer.echo(plan.host.after)


def _list(name: str, as_json: bool) -> None:
    command = guarded(installed_command)
    found = guarded(lambda: statuses(Path.cwd(), name, command))
    if as_json:
        return typer.echo(json.dumps([status.as_json() for status in found], indent=2))
    table = Table("host", "scope", "config", "found", "set up")
    table.columns[2].overflow = "fold"  # a path is worth its whole length
    for s in found:
        table.add_row(s.host, s.scope.value, escape(str(s.config)), "yes" if s.found else "no", s.set_up)
    out.print(table)
    out.print(f"set up: yes = {name!r} runs {command}; other = {name!r} runs something else.", markup=False)
