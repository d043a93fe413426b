"""A real `chroma run` on a free loopback port, for the tests of the store on a Chroma server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mcp_clients import free_port

from mcp_memory.storage.chroma_store import ChromaServer

CHROMA = Path(sys.executable).with_name("chroma")
STARTING = 120.0  # seconds a Chroma server may take to answer, on a loaded machine


@contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """`chroma run` keeping its data under `path`; yields its URL once it answers, stops it after."""
    path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with (path / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTING
        while True:
            assert server.poll() is None, (path / "server.log").read_text()
            try:
                ChromaServer(url).client().heartbeat()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
