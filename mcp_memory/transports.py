"""Running the MCP server over stdio or streamable HTTP, with the service loading behind it."""

from __future__ import annotations

import logging

import uvicorn

from mcp_memory.config import Settings
from mcp_memory.runtime import ServiceLoader
from mcp_memory.server import build_server


async def run_stdio(settings: Settings) -> None:
    """Answer MCP on stdin/stdout until the host closes the pipe."""
    loader = ServiceLoader(settings).start()
    await build_server(loader, settings.namespace).run_stdio_async()


async def run_http(settings: Settings) -> None:
    """Serve streamable HTTP at http://HOST:PORT/mcp until SIGINT or SIGTERM."""
    loader = ServiceLoader(settings).start()
    app = build_server(loader, settings.namespace).streamable_http_app(host=settings.host)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(), lifespan="on"
    )
    logging.getLogger(__name__).warning(
        "mcp-memory serving http://%s:%d/mcp (data in %s)", settings.host, settings.port, settings.data_dir
    )
    await uvicorn.Server(config).serve()
