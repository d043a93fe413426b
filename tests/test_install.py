"""`mcp-memory install HOST`: each host's config file set up, read back as the host reads it, and undone."""

from __future__ import annotations

import difflib
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_clients import CALL_TIMEOUT, EXECUTABLE, server_env
from typer.testing import CliRunner

from mcp_memory.cli import app
from mcp_memory.transfer.hosts import HOSTS

# Each host's config as a person might have it: other servers, other settings, and comments where
# the format allows them (VS Code and Gemini CLI read JSON with comments; TOML has its own).
SEEDS = {
    "claude-desktop": """{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "files": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/dana/notes"]
    }
  }
}
""",
    "claude-code": '{"numStartups": 12, "projects": {"/home/dana/app": {"mcpServers": {}, "allowedTools": []}}, '
    '"mcpServers": {"files": {"type": "stdio", "command": "npx", "args": ["-y", "files-mcp"], "env": {}}}, '
    '"autoUpdates": false}',
    "cursor": """{
  "mcpServers": {
    "files": {"command": "npx", "args": ["-y", "files-mcp"]},
    "docs": {"url": "https://docs.example/mcp"}
  }
}
""",
    "vscode": """// My MCP servers
{
\t"servers": {
\t\t"github": {
\t\t\t"type": "http",
\t\t\t"url": "https://api.githubcopilot.com/mcp/", // remote, signs in with OAuth
\t\t},
\t\t/* a local one */
\t\t"files": {"type": "stdio", "command": "npx", "args": ["-y", "files-mcp"]},
\t},
\t"inputs": [],
}
""",
    "windsurf": """{
    "mcpServers": {
        "files": {
            "command": "npx",
            "args": ["-y", "files-mcp"],
            "disabled": false
        }
    }
}
""",
    "codex": """# Codex settings
model = "gpt-5" # the default model
approval_policy = "on-request"

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-mcp"] # keep me

[profiles.fast]
model = "gpt-5-mini"
""",
    "gemini-cli": """{
  // Gemini CLI settings
  "ui": {"theme": "Dracula"},
  "mcpServers": {
    "files": {"command": "npx", "args": ["-y", "files-mcp"]} // a server
  }
}
""",
}
COMMENTS = {
    "vscode": ["// My MCP servers", "// remote, signs in with OAuth", "/* a local one */"],
    "codex": ["# Codex settings", "# the default model", "# keep me"],
    "gemini-cli": ["// Gemini CLI settings", "// a server"],
}
BROKEN = {  # each wrong on the line named
    "json": ('{\n  "mcpServers": {\n    "files": {"command": "npx",}\n  }\n}\n', "line 3"),
    "jsonc": ('{\n  // servers\n  "mcpServers": {\n    "files": {"command" "npx"}\n  }\n}\n', "line 4"),
    "toml": ('model = "gpt-5"\n[mcp_servers.docs\ncommand = "npx"\n', "line 2"),
}
ALL = list(HOSTS)
WITH_PROJECT = [name for name, host in HOSTS.items() if host.project_config]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own, with the variables hosts read pointing into it, and a project to stand in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("CODEX_HOME", str(home / ".codex"))
    for variable in ("CLAUDE_CONFIG_DIR", "VSCODE_APPDATA", "VSCODE_PORTABLE", "GEMINI_CLI_HOME"):
        monkeypatch.delenv(variable, raising=False)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    return home


def run(*args: str, expect: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == expect, result.output
    return result


def user_config(host: str, seed: bool = True) -> Path:
    path = HOSTS[host].user_config()
    if seed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SEEDS[host])
    return path


def read_as_host(host: str, text: str) -> dict[str, Any]:
    """The file as the host reads it: JSON, JSON with comments and trailing commas, or TOML."""
    kind = HOSTS[host].format
    if kind == "toml":
        return tomllib.loads(text)
    if kind == "jsonc":  # as strip-json-comments, then a parser that allows trailing commas
        string = r'("(?:\\.|[^"\\])*")'
        text = re.sub(string + r"|//[^\n]*|/\*.*?\*/", lambda m: m.group(1) or "", text, flags=re.S)
        text = re.sub(string + r"|,(\s*[}\]])", lambda m: m.group(1) or m.group(2), text)
    return dict(json.loads(text))


def servers(host: str, path: Path) -> dict[str, Any]:
    return dict(read_as_host(host, path.read_text())[HOSTS[host].servers_key])


def ours(host: str, *args: str) -> dict[str, Any]:
    """The entry each host's documentation asks for."""
    entry = {"command": EXECUTABLE, "args": ["stdio", *args]}
    if host == "claude-code":  # as `claude mcp add --scope user` writes it
        return {"type": "stdio", **entry, "env": {}}
    return {"type": "stdio", **entry} if host == "vscode" else entry


@pytest.mark.parametrize("host", ALL)
def test_installing_adds_an_entry_that_runs_this_mcp_memory_and_keeps_everything_else(host: str) -> None:
    path = user_config(host)
    said = run("install", host, "--namespace", "alice").output
    document, before = read_as_host(host, path.read_text()), read_as_host(host, SEEDS[host])
    key = HOSTS[host].servers_key
    assert document[key] == {**before[key], "memory": ours(host, "--namespace", "alice")}
    assert {k: v for k, v in document.items() if k != key} == {k: v for k, v in before.items() if k != key}
    assert all(comment in path.read_text() for comment in COMMENTS.get(host, []))
    backup = path.with_name(path.name + ".bak")
    assert backup.read_text() == SEEDS[host]
    assert str(backup) in said and str(path) in said


def test_installing_into_vscode_keeps_its_comments_trailing_commas_and_tabs() -> None:
    path = user_config("vscode")
    run("install", "vscode")
    changes = difflib.ndiff(SEEDS["vscode"].splitlines(), path.read_text().splitlines())
    assert [line[2:] for line in changes if line[0] in "+-"] == [
        '\t\t"memory": {',
        '\t\t\t"type": "stdio",',
        f'\t\t\t"command": "{EXECUTABLE}",',
        '\t\t\t"args": ["stdio"]',
        "\t\t},",
    ]


@pytest.mark.parametrize("host", ALL)
def test_a_second_identical_install_says_it_is_set_up_and_writes_nothing(host: str) -> None:
    path = user_config(host, seed=False)
    run("install", host, "-n", "alice")
    first = path.read_text()
    said = run("install", host, "-n", "alice").output
    assert "already set up" in said
    assert path.read_text() == first
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # a new file: no backup, then or now


@pytest.mark.parametrize("host", ALL)
def test_a_different_memory_entry_is_replaced_and_the_output_says_so(host: str) -> None:
    path = user_config(host)
    run("install", host, "-n", "alice")
    said = run("install", host, "-n", "bob").output
    assert "Replaced a different 'memory' entry" in said
    assert servers(host, path)["memory"] == ours(host, "--namespace", "bob")
    assert path.with_name(path.name + ".bak.1").exists()


@pytest.mark.parametrize("host", ALL)
def test_a_dry_run_prints_a_diff_and_changes_nothing(host: str) -> None:
    path = user_config(host)
    said = run("install", host, "--dry-run").output
    assert f"+++ {path}" in said and EXECUTABLE in said and "not changed" in said
    assert path.read_text() == SEEDS[host]
    assert [p.name for p in path.parent.iterdir()] == [path.name]


@pytest.mark.parametrize("host", ALL)
def test_a_dry_run_for_a_missing_config_creates_nothing(host: str) -> None:
    said = run("install", host, "--dry-run").output
    assert "--- /dev/null" in said
    assert not user_config(host, seed=False).exists()


@pytest.mark.parametrize("host", ALL)
def test_uninstalling_removes_only_our_entry_and_gives_back_the_file_as_it_was(host: str) -> None:
    path = user_config(host)
    run("install", host, "-n", "alice")
    said = run("uninstall", host).output
    assert "Removed 'memory'" in said
    assert path.read_text() == SEEDS[host]


@pytest.mark.parametrize("host", ALL)
def test_uninstalling_where_there_is_no_entry_says_so_and_writes_nothing(host: str) -> None:
    path = user_config(host)
    assert "nothing to remove" in run("uninstall", host).output
    assert [p.name for p in path.parent.iterdir()] == [path.name]


@pytest.mark.parametrize("host", WITH_PROJECT)
def test_uninstalling_from_a_project_without_the_file_says_so_and_creates_nothing(host: str) -> None:
    assert "(no such file)" in run("uninstall", host, "--scope", "project").output
    assert list(Path.cwd().iterdir()) == []


@pytest.mark.parametrize("host", ALL)
def test_a_config_that_cannot_be_parsed_is_refused_naming_its_line_and_left_untouched(host: str) -> None:
    path = user_config(host)
    broken, line = BROKEN[HOSTS[host].format]
    path.write_text(broken)
    for command in ("install", "uninstall"):
        said = run(command, host, expect=2).stderr
        assert str(path) in said and line in said and "left as it was" in said
    assert path.read_text() == broken
    assert [p.name for p in path.parent.iterdir()] == [path.name]


@pytest.mark.parametrize("host", ALL)
def test_installing_into_a_missing_config_creates_it_and_its_folders(host: str) -> None:
    path = user_config(host, seed=False)
    said = run("install", host).output
    assert servers(host, path) == {"memory": ours(host)}
    assert "(a new file)" in said


@pytest.mark.parametrize("host", WITH_PROJECT)
def test_project_scope_writes_the_file_the_host_reads_in_the_current_directory(host: str) -> None:
    run("install", host, "--scope", "project", "-n", "team")
    path = Path.cwd() / str(HOSTS[host].project_config)
    assert servers(host, path) == {"memory": ours(host, "--namespace", "team")}
    assert not user_config(host, seed=False).exists()


@pytest.mark.parametrize("host", sorted(set(ALL) - set(WITH_PROJECT)))
def test_hosts_without_a_project_config_refuse_project_scope_clearly(host: str) -> None:
    said = run("install", host, "--scope", "project", expect=2).stderr
    assert "has no project config" in said and "--scope user" in said
    assert list(Path.cwd().iterdir()) == []


def test_the_namespace_and_data_dir_become_arguments_of_mcp_memory_stdio_with_an_absolute_path() -> None:
    run("install", "cursor", "--namespace", "alice", "--data-dir", "memories")
    expected = ["--namespace", "alice", "--data-dir", str(Path.cwd() / "memories")]
    assert servers("cursor", user_config("cursor", seed=False))["memory"] == ours("cursor", *expected)


def test_a_bad_namespace_or_host_is_refused_before_anything_is_written(home: Path) -> None:
    assert "invalid namespace" in run("install", "cursor", "-n", "Alice!", expect=2).stderr
    assert "unknown host 'atom'" in run("install", "atom", expect=2).stderr
    assert "name a host" in run("install", expect=2).stderr
    assert not any(home.rglob("*.json"))


def test_the_list_reports_each_hosts_config_whether_it_exists_and_whether_it_is_set_up() -> None:
    user_config("windsurf")
    run("install", "cursor")
    run("install", "vscode", "--scope", "project")
    user_config("gemini-cli").write_text(BROKEN["jsonc"][0])
    user_config("codex").write_text('[mcp_servers.memory]\ncommand = "/opt/other/mcp-memory"\n')
    rows = {(r["host"], r["scope"]): r for r in json.loads(run("install", "--list", "--json").stdout)}
    assert len(rows) == len(ALL) + len(WITH_PROJECT)
    state = {key: (r["found"], r["set_up"]) for key, r in rows.items()}
    assert state[("cursor", "user")] == (True, "yes")
    assert state[("vscode", "project")] == (True, "yes")
    assert state[("vscode", "user")] == (False, "no")
    assert state[("windsurf", "user")] == (True, "no")
    assert state[("gemini-cli", "user")] == (True, "unreadable")
    assert state[("codex", "user")] == (True, "other")
    assert rows[("vscode", "project")]["config"] == str(Path.cwd() / ".vscode" / "mcp.json")
    table = run("install", "--list").stdout
    assert all(host in table for host in ALL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux locations")
def test_each_user_config_is_where_its_host_documents_it_and_follows_the_hosts_variables(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = {name: host.user_config() for name, host in HOSTS.items()}
    assert found == {
        "claude-desktop": home / ".config" / "Claude" / "claude_desktop_config.json",
        "claude-code": home / ".claude.json",
        "cursor": home / ".cursor" / "mcp.json",
        "vscode": home / ".config" / "Code" / "User" / "mcp.json",
        "windsurf": home / ".codeium" / "windsurf" / "mcp_config.json",
        "codex": home / ".codex" / "config.toml",
        "gemini-cli": home / ".gemini" / "settings.json",
    }
    elsewhere = home / "elsewhere"
    for variable in ("XDG_CONFIG_HOME", "CODEX_HOME", "CLAUDE_CONFIG_DIR", "GEMINI_CLI_HOME"):
        monkeypatch.setenv(variable, str(elsewhere / variable))
    assert (
        HOSTS["claude-desktop"].user_config() == elsewhere / "XDG_CONFIG_HOME" / "Claude" / "claude_desktop_config.json"
    )
    assert HOSTS["codex"].user_config() == elsewhere / "CODEX_HOME" / "config.toml"
    assert HOSTS["claude-code"].user_config() == elsewhere / "CLAUDE_CONFIG_DIR" / ".claude.json"
    assert HOSTS["gemini-cli"].user_config() == elsewhere / "GEMINI_CLI_HOME" / ".gemini" / "settings.json"
    monkeypatch.setenv("VSCODE_APPDATA", str(elsewhere))
    assert HOSTS["vscode"].user_config() == elsewhere / "Code" / "User" / "mcp.json"


def test_on_windows_claude_desktop_and_vscode_keep_their_config_under_appdata(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    roaming = home / "AppData" / "Roaming"
    assert HOSTS["claude-desktop"].user_config() == roaming / "Claude" / "claude_desktop_config.json"
    assert HOSTS["vscode"].user_config() == roaming / "Code" / "User" / "mcp.json"


def test_a_symlinked_config_stays_a_link_to_the_file_it_points_to(home: Path) -> None:
    dotfiles = home / "dotfiles" / "mcp.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text(SEEDS["cursor"])
    link = user_config("cursor", seed=False)
    link.parent.mkdir(parents=True)
    link.symlink_to(dotfiles)
    run("install", "cursor")
    assert link.is_symlink() and servers("cursor", dotfiles)["memory"] == ours("cursor")


def test_a_config_with_windows_line_endings_keeps_them() -> None:
    path = user_config("cursor")
    path.write_bytes(SEEDS["cursor"].replace("\n", "\r\n").encode())
    run("install", "cursor")
    assert b"\n" not in path.read_bytes().replace(b"\r\n", b"")


async def test_a_host_running_the_installed_entry_completes_the_handshake_and_lists_the_tools(data_dir: Path) -> None:
    run("install", "cursor", "--data-dir", str(data_dir))
    entry = servers("cursor", user_config("cursor", seed=False))["memory"]
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=server_env(data_dir))
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT) as session,
    ):
        await session.initialize()
        tools = {tool.name for tool in (await session.list_tools()).tools}
    assert {"remember", "recall", "forget"} <= tools
