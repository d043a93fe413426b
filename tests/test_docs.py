"""The docs stay honest: every command has help, and the README starts with the two set-up commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from mcp_memory.cli import app

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_every_command_is_listed() -> None:
    assert COMMANDS == [
        "dashboard",
        "export",
        "forget",
        "history",
        "import",
        "install",
        "namespaces",
        "recall",
        "reembed",
        "reindex",
        "remember",
        "serve",
        "stats",
        "status",
        "stdio",
        "stop",
        "token",
        "uninstall",
    ]


SUBCOMMANDS = [(c,) for c in COMMANDS if c != "token"] + [("token", "create"), ("token", "list"), ("token", "revoke")]


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=" ".join)
def test_every_command_has_help_text(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    click_command = get_command(app)
    for name in command:
        click_command = click_command.commands[name]  # type: ignore[attr-defined]
    assert click_command.help and len(click_command.help) > 20
    for param in click_command.params:
        assert getattr(param, "help", None), f"{command} {param.name} has no help"


def test_the_readme_opens_with_the_two_set_up_commands() -> None:
    top = (ROOT / "README.md").read_text().split("\n## ")[0]
    assert "make run" in top and "make test" in top


def test_every_client_config_runs_the_stdio_bridge_or_sends_a_token() -> None:
    configs = [*(ROOT / "clients").glob("*.json"), *(ROOT / "clients").glob("*.toml")]
    assert len(configs) >= 6
    for config in configs:
        text = config.read_text()
        if "_http" in config.stem:
            assert "/mcp" in text and ("Bearer" in text or "bearer_token" in text), config.name
        else:
            assert '"stdio"' in text, config.name


def test_the_readmes_export_example_is_a_file_an_import_reads() -> None:
    import io

    from mcp_memory.transfer.entries import Entry
    from mcp_memory.transfer.native import read_export

    section = (ROOT / "README.md").read_text().split("**The format**")[1]
    example = section.split("```json\n")[1].split("```")[0]
    entries = list(read_export(io.StringIO(example), "README.md"))
    assert [type(e) for e in entries] == [Entry]


def test_every_command_the_readme_shows_exists() -> None:
    import re

    blocks = "".join(re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL))
    shown = set(re.findall(r"^mcp-memory ([a-z]+)", blocks, flags=re.MULTILINE))
    assert shown and shown <= set(COMMANDS)
