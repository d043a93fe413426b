"""The terminal CLI, run as a person would run it, on the real model and store."""

from __future__ import annotations

import json
from pathlib import Path

from mcp_clients import cli


def test_the_cli_remembers_recalls_counts_and_forgets(data_dir: Path) -> None:
    created = json.loads(
        cli(data_dir, "remember", "Dana takes her coffee black.", "-t", "food", "-n", "dana", "--json").stdout
    )
    found = json.loads(cli(data_dir, "recall", "how does Dana drink coffee?", "-n", "dana", "--json").stdout)
    assert [(m["id"], m["source"], m["tags"]) for m in found["memories"]] == [
        (created["id"], "mcp-memory-cli", ["food"])
    ]
    assert json.loads(cli(data_dir, "stats", "--json").stdout)["namespaces"] == {"dana": 1}
    # A lone match's ranking score is 0: the terminal shows how close it is in meaning instead.
    printed = cli(data_dir, "recall", "how does Dana drink coffee?", "-n", "dana").stdout
    assert "0.000" not in printed and "% " in printed and "in meaning" in printed
    cli(data_dir, "forget", created["id"], "-n", "dana")
    assert json.loads(cli(data_dir, "stats", "--json").stdout)["namespaces"] == {"dana": 0}


def test_the_cli_explains_bad_input_and_exits_with_2(data_dir: Path) -> None:
    failed = cli(data_dir, "recall", "coffee", "--since", "sometime-ish", expect=2)
    assert "since: 'sometime-ish' is not a date" in failed.stderr
