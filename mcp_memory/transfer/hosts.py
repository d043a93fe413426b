"""The MCP hosts `mcp-memory install` knows: where each keeps its config, and the entry it wants.

Each host's location and entry follow its own documentation (the URL beside it), on Linux, macOS
and Windows, with the environment variables the host itself honours (CODEX_HOME, APPDATA,
XDG_CONFIG_HOME, ...). User scope is the host's own config, for every project; project scope is
the file in the current directory, for hosts that read one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs

from mcp_memory.core.errors import InvalidInput
from mcp_memory.transfer.config_edit import Format


class Scope(StrEnum):
    """Whose config: the user's (every project) or the current directory's project."""

    user = "user"
    project = "project"


@dataclass(frozen=True)
class Host:
    """One MCP host: its config file for each scope, its format, and the shape of a stdio entry."""

    name: str  # as typed after `mcp-memory install`
    title: str
    format: Format
    servers_key: str  # the table holding the servers
    user_config: Callable[[], Path]
    project_config: str | None  # relative to the current directory; None: the host reads none
    doc: str  # where the location and the entry's shape are documented
    after: str  # what to do once the file changed
    stdio_type: bool = False  # the entry says "type": "stdio"
    empty_env: bool = False  # the entry carries "env": {} (as `claude mcp add` writes it)

    def config_path(self, scope: Scope, cwd: Path) -> Path:
        if scope is Scope.user:
            return self.user_config()
        if self.project_config is None:
            raise InvalidInput(
                f"{self.title} has no project config: it reads only {self.user_config()}; "
                "install it with --scope user (the default)"
            )
        return cwd / self.project_config

    def entry(self, command: Path, args: list[str]) -> dict[str, Any]:
        """The server entry this host reads: what to run, and how."""
        kind = {"type": "stdio"} if self.stdio_type else {}
        return {**kind, "command": str(command), "args": args, **({"env": {}} if self.empty_env else {})}


def app_config_dir(app: str) -> Path:
    """Where a desktop app keeps its settings: %APPDATA%\\APP, ~/Library/Application Support/APP,
    or $XDG_CONFIG_HOME/APP (~/.config/APP)."""
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / app
    return Path(platformdirs.user_config_dir(app, appauthor=False, roaming=True))


def _home_or(variable: str) -> Path:
    return Path(os.environ[variable]).expanduser() if os.environ.get(variable) else Path.home()


def _claude_desktop() -> Path:
    return app_config_dir("Claude") / "claude_desktop_config.json"


def _claude_code() -> Path:
    # CLAUDE_CONFIG_DIR moves Claude Code's settings, .claude.json included.
    return _home_or("CLAUDE_CONFIG_DIR") / ".claude.json"


def _codex() -> Path:
    home = os.environ.get("CODEX_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".codex") / "config.toml"


def _vscode() -> Path:
    # VS Code's own order: a portable install, then VSCODE_APPDATA, then the platform's app data.
    if os.environ.get("VSCODE_PORTABLE"):
        return Path(os.environ["VSCODE_PORTABLE"]) / "user-data" / "User" / "mcp.json"
    if os.environ.get("VSCODE_APPDATA"):
        return Path(os.environ["VSCODE_APPDATA"]) / "Code" / "User" / "mcp.json"
    return app_config_dir("Code") / "User" / "mcp.json"


HOSTS: dict[str, Host] = {
    host.name: host
    for host in (
        # https://modelcontextprotocol.io/quickstart/user ("mcpServers" in claude_desktop_config.json;
        # macOS and Windows builds, and the same place under ~/.config on Linux builds)
        Host(
            "claude-desktop",
            "Claude Desktop",
            "json",
            "mcpServers",
            _claude_desktop,
            None,
            "https://modelcontextprotocol.io/quickstart/user",
            "Quit and restart Claude Desktop to load it.",
        ),
        # https://code.claude.com/docs/en/mcp (scopes: user in ~/.claude.json, project in .mcp.json;
        # `claude mcp add --scope user` writes type, command, args and env);
        # https://code.claude.com/docs/en/settings (CLAUDE_CONFIG_DIR)
        Host(
            "claude-code",
            "Claude Code",
            "json",
            "mcpServers",
            _claude_code,
            ".mcp.json",
            "https://code.claude.com/docs/en/mcp",
            "Start a new Claude Code session; `/mcp` lists it (a project's .mcp.json asks for approval once).",
            stdio_type=True,
            empty_env=True,
        ),
        # https://cursor.com/docs/context/mcp (~/.cursor/mcp.json, or .cursor/mcp.json in a project)
        Host(
            "cursor",
            "Cursor",
            "json",
            "mcpServers",
            lambda: Path.home() / ".cursor" / "mcp.json",
            ".cursor/mcp.json",
            "https://cursor.com/docs/context/mcp",
            "Cursor picks it up in Settings > MCP; enable it there if it is off.",
        ),
        # https://code.visualstudio.com/docs/copilot/reference/mcp-configuration ("servers", "type":
        # "stdio"; .vscode/mcp.json or the user profile's mcp.json, JSON with comments)
        Host(
            "vscode",
            "VS Code",
            "jsonc",
            "servers",
            _vscode,
            ".vscode/mcp.json",
            "https://code.visualstudio.com/docs/copilot/reference/mcp-configuration",
            "Start it from the MCP: List Servers command, or from the Start button VS Code shows in mcp.json.",
            stdio_type=True,
        ),
        # https://docs.windsurf.com/windsurf/cascade/mcp (~/.codeium/windsurf/mcp_config.json, the
        # schema of Claude Desktop's file; no project file)
        Host(
            "windsurf",
            "Windsurf",
            "json",
            "mcpServers",
            lambda: Path.home() / ".codeium" / "windsurf" / "mcp_config.json",
            None,
            "https://docs.windsurf.com/windsurf/cascade/mcp",
            "Press the refresh button in Windsurf's MCP panel.",
        ),
        # https://developers.openai.com/codex/mcp ([mcp_servers.NAME] with command and args in
        # $CODEX_HOME/config.toml, ~/.codex by default); https://developers.openai.com/codex/config-basic
        # (.codex/config.toml in a project, read only once the project is trusted)
        Host(
            "codex",
            "Codex",
            "toml",
            "mcp_servers",
            _codex,
            ".codex/config.toml",
            "https://developers.openai.com/codex/mcp",
            "Start a new Codex session; `/mcp` lists it (a project's file counts once the project is trusted).",
        ),
        # https://geminicli.com/docs/tools/mcp-server ("mcpServers" with command and args);
        # https://geminicli.com/docs/reference/configuration (~/.gemini/settings.json, .gemini/settings.json
        # in a project, GEMINI_CLI_HOME; comments allowed)
        Host(
            "gemini-cli",
            "Gemini CLI",
            "jsonc",
            "mcpServers",
            lambda: _home_or("GEMINI_CLI_HOME") / ".gemini" / "settings.json",
            ".gemini/settings.json",
            "https://geminicli.com/docs/tools/mcp-server",
            "Start a new Gemini CLI session; `/mcp` lists it.",
        ),
    )
}


def host_named(name: str) -> Host:
    try:
        return HOSTS[name]
    except KeyError:
        raise InvalidInput(f"unknown host {name!r}: use one of {', '.join(HOSTS)}") from None
