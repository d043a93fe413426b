"""Memory travelling between hosts: what one app remembers, another recalls.

Two MCP sessions with `mcp-memory stdio`, as two hosts would open them: first as "claude-desktop",
which remembers a few things, then as "cursor", which recalls them (each with the host that
remembered it as its `source`) and reads `memory://standing`, the preferences and instructions a
host loads at the start of a conversation. It prints a transcript of both.

    python clients/travel_demo.py                      # a temporary data directory, removed after
    python clients/travel_demo.py --data-dir ~/memdir  # a data directory of yours; the memories stay

The first call waits for the embedding model to load, a few seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import CallToolResult, Implementation

# Loading the model is the slow part of a first call; nothing should take longer.
CALL_TIMEOUT = 120.0
NAMESPACE = "travel-demo"
REMEMBERED: list[dict[str, Any]] = [
    {"content": "The user's favourite editor is Helix, with the gruvbox theme.", "kind": "preference"},
    {"content": "Always answer in British English.", "kind": "instruction", "importance": 0.9},
    {"content": "The atlas project deploys on Tuesdays, never on Fridays.", "tags": ["atlas"]},
]
QUESTIONS = ["which editor does the user like?", "when does the atlas project deploy?"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="Data directory to use (default: a temporary one).")
    parser.add_argument("--namespace", default=NAMESPACE, help=f"Namespace to use (default: {NAMESPACE}).")
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="mcp-memory-demo-", ignore_cleanup_errors=True) as scratch,
        (Path(scratch) / "server.log").open("w+") as log,
    ):
        data_dir = options.data_dir or Path(scratch) / "data"
        try:
            anyio.run(demo, data_dir, options.namespace, log)
        except Exception as exc:
            log.seek(0)
            print(f"\nThe demo failed: {exc}\n\nThe server said:\n{log.read()}", file=sys.stderr)
            return 1
        finally:
            if options.data_dir is None:  # the server the bridge started for the temporary directory
                stop_server(data_dir)
    if options.data_dir is not None:
        print(f"\nThe memories stay in namespace {options.namespace!r} of {options.data_dir}.")
    return 0


async def demo(data_dir: Path, namespace: str, log: TextIO) -> None:
    print(f"Data directory: {data_dir}\nNamespace: {namespace}\n")
    print('== Session 1: the host "claude-desktop" remembers ==')
    async with session(data_dir, namespace, "claude-desktop", log) as desktop:
        for memory in REMEMBERED:
            result = structured(await desktop.call_tool("remember", memory))
            print(f"remember ({memory.get('kind', 'fact')}): {memory['content']}")
            print(f"  -> {result['status']}, id {result['id']}")

    print('\n== Session 2: the host "cursor", a separate session, recalls ==')
    async with session(data_dir, namespace, "cursor", log) as cursor:
        for question in QUESTIONS:
            found = structured(await cursor.call_tool("recall", {"query": question, "limit": 1}))["memories"]
            print(f"recall: {question}")
            for memory in found:
                print(f"  -> {memory['content']}")
                print(f"     source: {memory['source']}, remembered {memory['created_at'][:19]}")
            if not found:
                print("  -> nothing remembered")
        print("\nread memory://standing:")
        [standing] = (await cursor.read_resource("memory://standing")).contents
        print(textwrap.indent(getattr(standing, "text", ""), "  | ", lambda line: True))


@asynccontextmanager
async def session(data_dir: Path, namespace: str, host: str, log: TextIO) -> AsyncIterator[ClientSession]:
    """An MCP session with this installation's `mcp-memory stdio`, started as the host `host` would start it."""
    # Port 0: a server this demo starts must not take the port of a server you run yourself.
    env = {**os.environ, "MCP_MEMORY_DATA_DIR": str(data_dir), "MCP_MEMORY_PORT": "0", "PYTHONWARNINGS": "ignore"}
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_memory", "stdio", "--namespace", namespace], env=env
    )
    async with (
        stdio_client(server, errlog=log) as (read, write),
        ClientSession(
            read, write, read_timeout_seconds=CALL_TIMEOUT, client_info=Implementation(name=host, version="1.0")
        ) as opened,
    ):
        await opened.initialize()
        yield opened


def structured(result: CallToolResult) -> dict[str, Any]:
    """The tool's structured answer; an error result stops the demo with its message."""
    if result.is_error or result.structured_content is None:
        raise RuntimeError(" ".join(getattr(block, "text", "") for block in result.content))
    return dict(result.structured_content)


def stop_server(data_dir: Path) -> None:
    """Stop the server that the first session's bridge started, and see it gone before its directory is."""
    command = [sys.executable, "-m", "mcp_memory", "stop", "--data-dir", str(data_dir)]
    stopped = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False).stdout
    if match := re.search(r"stopped pid (\d+)", stopped):
        pid, deadline = int(match[1]), time.monotonic() + 30
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)  # it has let go of the directory; it is closing its files


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:  # gone, or a process of someone else's that took its number
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
