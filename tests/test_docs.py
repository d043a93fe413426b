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
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_text(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    click_command = get_command(app).commands[command]  # type: ignore[attr-defined]
    assert click_command.help and len(click_command.help) > 20
    for param in click_command.params:
        assert getattr(param, "help", None), f"{command} {param.name} has no help"


def test_the_readme_opens_with_the_two_set_up_commands() -> None:
    top = (ROOT / "README.md").read_text().split("\n## ")[0]
    assert "make run" in top and "make test" in top


def test_every_client_config_runs_the_stdio_command() -> None:
    configs = list((ROOT / "clients").glob("*.json"))
    assert configs
    for config in configs:
        assert '"stdio"' in config.read_text(), config.name
