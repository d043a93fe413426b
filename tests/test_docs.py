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
        "forget",
        "history",
        "recall",
        "reindex",
        "remember",
        "serve",
        "stats",
        "status",
        "stdio",
        "stop",
        "token",
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
