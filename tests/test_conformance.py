"""The official MCP conformance suite (@modelcontextprotocol/conformance) against a real `mcp-memory serve`.

The suite's server scenarios are its own MCP client; most of them call tools, resources and prompts that
only the suite's fixture server has. The ones that apply to any server run here, one test each; the
rest are left out with their reason, and a test keeps the two lists equal to what the suite knows.
The suite needs Node 22, which `node_tools` installs with it into the user's cache on first use.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_clients import http_server, http_session, owner_status
from node_tools import NodeTool, install_node_tool

SUITE_PACKAGE = "@modelcontextprotocol/conformance"
SUITE_VERSION = "0.1.16"
# The suite's client cannot send extra HTTP headers (no Authorization), so the server runs without auth.
SERVE_ARGS = ["--no-auth"]
# A scenario is a handful of requests; this bounds a hung one, not a slow machine.
SCENARIO_TIMEOUT = 120.0

APPLIED = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "prompts-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
    "logging-set-level",
]

# Applied scenarios that the server fails today; strict, so a fix fails the test until its entry goes.
KNOWN_FAILURES: dict[str, str] = {}

# Scenarios that do not apply to this server, each with why.
LEFT_OUT = {
    "completion-complete": "completes an argument of the suite's fixture prompt test_prompt_with_arguments",
    "tools-call-simple-text": "needs the suite's fixture tool test_simple_text (passes vacuously on 'Unknown tool')",
    "tools-call-image": "needs the suite's fixture tool test_image_content",
    "tools-call-audio": "needs the suite's fixture tool test_audio_content",
    "tools-call-embedded-resource": "needs the suite's fixture tool test_embedded_resource",
    "tools-call-mixed-content": "needs the suite's fixture tool test_multiple_content_types",
    "tools-call-with-logging": "needs the suite's fixture tool test_tool_with_logging",
    "tools-call-error": "needs the suite's fixture tool test_error_handling (passes vacuously on 'Unknown tool')",
    "tools-call-with-progress": "needs the suite's fixture tool test_tool_with_progress",
    "tools-call-sampling": "needs the suite's fixture tool test_sampling",
    "tools-call-elicitation": "needs the suite's fixture tool test_elicitation",
    "json-schema-2020-12": "needs the suite's fixture tool json_schema_2020_12_tool",
    "elicitation-sep1034-defaults": "needs the suite's fixture tool test_elicitation_sep1034_defaults",
    "elicitation-sep1330-enums": "needs the suite's fixture tool test_elicitation_sep1330_enums",
    "server-sse-polling": "needs the suite's fixture tool test_reconnection, which closes its stream mid-call",
    "resources-read-text": "needs the suite's fixture resource test://static-text",
    "resources-read-binary": "needs the suite's fixture resource test://static-binary",
    "resources-templates-read": "needs the suite's fixture resource template test://template/{id}/data",
    "resources-subscribe": "subscribes to the suite's fixture resource test://watched-resource",
    "resources-unsubscribe": "unsubscribes from the suite's fixture resource test://watched-resource",
    "prompts-get-simple": "needs the suite's fixture prompt test_simple_prompt",
    "prompts-get-with-args": "needs the suite's fixture prompt test_prompt_with_arguments",
    "prompts-get-embedded-resource": "needs the suite's fixture prompt test_prompt_with_embedded_resource",
    "prompts-get-with-image": "needs the suite's fixture prompt test_prompt_with_image",
}


@pytest.fixture(scope="module")
def suite() -> NodeTool:
    return install_node_tool(SUITE_PACKAGE, SUITE_VERSION, "conformance")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module, its model loaded, so no scenario runs beside the load."""
    with http_server(tmp_path_factory.mktemp("conformance") / "data", *SERVE_ARGS) as url:
        asyncio.run(_wait_until_ready(url))
        yield url


async def _wait_until_ready(url: str) -> None:
    async with http_session(url, "conformance-setup") as session:
        status = await owner_status(session)
    assert status["ready"], status


def test_every_scenario_of_the_suite_is_either_applied_or_left_out_with_a_reason(suite: NodeTool) -> None:
    listed = subprocess.run(suite.argv("list", "--server"), capture_output=True, text=True, timeout=60, check=True)
    known = re.findall(r"^\s+- (\S+)", listed.stdout, flags=re.MULTILINE)
    assert known, listed.stdout
    assert not set(APPLIED) & set(LEFT_OUT)
    assert set(KNOWN_FAILURES) <= set(APPLIED)
    assert sorted(known) == sorted([*APPLIED, *LEFT_OUT])


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_FAILURES[name], strict=True))
        if name in KNOWN_FAILURES
        else name
        for name in APPLIED
    ],
)
def test_the_server_passes_the_conformance_scenario(
    scenario: str, suite: NodeTool, server_url: str, tmp_path: Path
) -> None:
    argv = suite.argv("server", "--url", server_url, "--scenario", scenario, "--output-dir", str(tmp_path))
    run = subprocess.run(argv, capture_output=True, text=True, timeout=SCENARIO_TIMEOUT, cwd=tmp_path)
    checks = [check for path in tmp_path.glob("*/checks.json") for check in json.loads(path.read_text())]
    failed = [check for check in checks if check["status"] == "FAILURE"]
    passed = [check for check in checks if check["status"] == "SUCCESS"]
    # The suite exits 1 on any failed check; a scenario that checked nothing has not passed either.
    assert run.returncode == 0 and passed and not failed, _report(run, failed)


def _report(run: subprocess.CompletedProcess[str], failed: list[dict[str, Any]]) -> str:
    lines = [f"{check['id']}: {check.get('errorMessage')} {json.dumps(check.get('details'))}" for check in failed]
    text = "\n".join([f"the suite exited with {run.returncode}", *lines, run.stdout, run.stderr])
    return re.sub(r"\x1b\[[0-9;]*m", "", text)  # the suite bolds its scenario descriptions, even into a pipe
