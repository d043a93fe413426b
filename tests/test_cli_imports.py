"""A terminal command loads what it needs and not the server, so that it answers at once.

The CLI reaches the owner over its socket; importing the MCP SDK (which brings its server: starlette,
uvicorn), Chroma or the model took longer than a whole recall.
"""

from __future__ import annotations

import subprocess
import sys

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from mcp_memory.serve import client

# numpy is not here: the library's models hold vectors (core/models.py), and every command reads them.
HEAVY = frozenset(
    {
        "mcp",
        "mcp_types",
        "starlette",
        "sse_starlette",
        "uvicorn",
        "httpx",
        "chromadb",
        "torch",
        "sentence_transformers",
        "transformers",
        "huggingface_hub",
        "dateparser",
        "semchunk",
    }
)


def _loaded(modules: list[str], among: frozenset[str]) -> list[str]:
    """The packages of `among` that a fresh interpreter holds once it has imported `modules`."""
    program = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(among)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_importing_the_cli_loads_neither_the_mcp_sdk_nor_the_store_nor_the_model() -> None:
    assert _loaded(["mcp_memory.cli"], HEAVY) == []


def test_a_command_that_makes_one_call_to_the_server_loads_neither_the_sdk_nor_an_event_loop() -> None:
    # What remember, recall, forget, history, stats and status import when they run.
    modules = ["mcp_memory.cli", "mcp_memory.core.config", "mcp_memory.serve.client"]
    assert _loaded(modules, HEAVY | {"anyio"}) == []


def test_the_cli_speaks_a_protocol_version_the_sdk_accepts() -> None:
    assert client.PROTOCOL_VERSION in HANDSHAKE_PROTOCOL_VERSIONS
