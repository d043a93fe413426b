"""`mcp-memory serve`: the one process that owns a data directory, on its unix socket and over HTTP.

Chroma's local client is not process-safe: two processes writing one directory corrupt it. So one
process holds an OS lock on the directory for its whole life, and every host reaches the store
through it: stdio bridges and the CLI over a unix socket (mode 0600), HTTP hosts over TCP.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
import uvicorn
from anyio.abc import SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream
from filelock import FileLock, Timeout
from mcp.server.mcpserver import MCPServer
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_memory import __version__
from mcp_memory.core.config import Settings
from mcp_memory.core.errors import AlreadyRunning, MemoryServerError, ShuttingDown
from mcp_memory.core.models import OwnerInfo
from mcp_memory.core.service import MemoryService
from mcp_memory.serve.http_app import build_http_app, http_url, is_loopback
from mcp_memory.serve.identity import Identity, socket_principal
from mcp_memory.serve.owner_files import MAX_SOCKET_PATH, OwnerFiles
from mcp_memory.serve.runtime import CallTracker, MemoryRuntime, ServiceLoader
from mcp_memory.serve.server import build_server
from mcp_memory.serve.socket_transport import message_streams, read_hello
from mcp_memory.serve.tokens import token_book
from mcp_memory.serve.web_pages import add_dashboard_tool, web_routes
from mcp_memory.serve.web_session import WebSessions

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10.0
REFUSALS = frozenset({401, 403, 421})  # no token, a foreign origin, a foreign host
# A status probe holds the lock for a moment; a starting owner waits this long rather than give up.
LOCK_WAIT_SECONDS = 3.0


MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas() -> None:
    """At most MALLOC_ARENAS malloc arenas in this process, where glibc allows eight per core.

    glibc gives a thread that allocates while another does its own arena, and an arena keeps what
    was freed in it. The server's threads (requests, the model, Chroma, the keyword index's commits
    and searches) each held their peak: RSS after the latency benchmark's 1,000 memories was 576 MB,
    369 MB with two arenas, at the same recall speed. Elsewhere than glibc, nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a C library without mallopt (musl)
        return
    mallopt(M_ARENA_MAX, MALLOC_ARENAS)


async def run_owner(
    settings: Settings,
    *,
    idle_exit: float | None = None,
    http_required: bool = True,
    on_owned: Callable[[OwnerInfo], None] | None = None,
) -> None:
    """Own `settings.data_dir` until SIGTERM, SIGINT or `idle_exit` seconds without a client.

    `on_owned` runs once the directory is held and the port bound, before anything is served.
    """
    limit_malloc_arenas()
    files = OwnerFiles(settings.data_dir)
    if not settings.auth and not is_loopback(settings.host):
        raise MemoryServerError(
            f"--no-auth serves every namespace to whoever can connect, so it binds only a loopback address, "
            f"not {settings.host}: use tokens (`mcp-memory token create`) to serve the network"
        )
    if len(str(files.socket)) > MAX_SOCKET_PATH:
        raise MemoryServerError(
            f"the data directory's path is too long for a unix socket ({files.socket}): "
            "choose a shorter MCP_MEMORY_DATA_DIR"
        )
    # Signals are received from the start, so that none kills the owner halfway through a write.
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        files.ensure_private_dir()
        with hold_directory(files):
            tcp = _bind_tcp(settings.host, settings.port, required=http_required)
            about = OwnerInfo(
                pid=os.getpid(),
                data_dir=str(settings.data_dir),
                socket=str(files.socket),
                http=http_url(settings.host, tcp.getsockname()[1]) if tcp else None,
                started_at=datetime.now(UTC),
                version=__version__,
            )
            port = tcp.getsockname()[1] if tcp else settings.port
            # The tokens before the loader's thread starts: on a Chroma server they import Chroma, and two threads
            # importing it at once can meet its modules half made.
            identity = Identity(settings.namespace, token_book(settings) if settings.auth else None)
            loader, calls = ServiceLoader(settings).start(), CallTracker()
            runtime = MemoryRuntime(loader, calls, about)
            mcp = build_server(runtime, identity, public_url=http_url(settings.host, port).removesuffix("/mcp"))
            sessions = WebSessions(identity)
            add_dashboard_tool(mcp, sessions, about.http.removesuffix("/mcp") if about.http else None)
            if on_owned is not None:
                on_owned(about)
            owner = _Owner(mcp, runtime, identity, settings, port, web_routes(runtime, sessions))
            try:
                await owner.serve(files, about, tcp, signals, idle_exit)
            finally:
                for leftover in (files.info, files.socket):
                    with suppress(FileNotFoundError):
                        leftover.unlink()
                log.warning("mcp-memory owner %d stopped", os.getpid())


class _Owner:
    def __init__(
        self,
        mcp: MCPServer,
        runtime: MemoryRuntime,
        identity: Identity,
        settings: Settings,
        port: int,
        pages: Sequence[BaseRoute],
    ) -> None:
        self._mcp = mcp
        self._port = port
        self._pages = pages
        self._loader = runtime.loader
        self._calls = runtime.calls
        self._identity = identity
        self._settings = settings
        self._clients = 0
        self._last_seen = time.monotonic()

    async def serve(
        self,
        files: OwnerFiles,
        about: OwnerInfo,
        tcp: socket.socket | None,
        signals: AsyncIterator[int],
        idle_exit: float | None,
    ) -> None:
        http = _HttpServer(
            uvicorn.Config(
                self._counted(build_http_app(self._mcp, self._settings, self._port, self._pages)),
                log_level=self._settings.log_level.lower(),
                timeout_graceful_shutdown=int(DRAIN_SECONDS),
                lifespan="on",
            )
        )
        listener = await anyio.create_unix_listener(files.socket, mode=0o600)
        files.info.write_text(about.model_dump_json())
        log.warning("mcp-memory owner %d serving %s and %s", about.pid, about.socket, about.http or "no HTTP")
        async with anyio.create_task_group() as tasks:
            connections = await tasks.start(self._accept, listener)
            if tcp is not None:
                tasks.start_soon(http.serve, [tcp])
            purging = await tasks.start(self._purge_expired)
            reason = await self._until_stopped(signals, idle_exit)
            log.warning("stopping (%s): no new clients or calls; finishing calls under way", reason)
            self._calls.close()
            await listener.aclose()
            http.should_exit = True
            await self._calls.drained(DRAIN_SECONDS)
            connections.cancel()
            purging.cancel()
        if self._loader.ready:  # the keyword index's last writes committed before the directory is let go
            service = await self._loader.get()
            await anyio.to_thread.run_sync(service.flush)

    async def _purge_expired(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Erase memories whose time to live is over, every `purge_interval` seconds (recall never shows them)."""
        with anyio.CancelScope() as scope:
            task_status.started(scope)
            try:
                service = await self._loader.get()
            except Exception:
                return  # the store failed to open: every call reports why
            await self._purge_loop(service)

    async def _purge_loop(self, service: MemoryService) -> None:
        while True:
            await anyio.sleep(self._settings.purge_interval)
            try:
                async with self._calls.track():
                    purged = await anyio.to_thread.run_sync(service.purge_expired)
            except ShuttingDown:
                return
            except Exception:  # the purge must never take the server down
                log.exception("purging expired memories failed; retrying later")
                continue
            if purged:
                log.warning("purged expired memories: %s", purged)

    async def _accept(self, listener: Any, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as connections:
            task_status.started(connections.cancel_scope)
            with suppress(anyio.ClosedResourceError):
                await listener.serve(self._serve_connection, task_group=connections)

    async def _serve_connection(self, stream: SocketStream) -> None:
        """One client on the socket. Whatever it does, only its own connection may fail."""
        with self._client():
            try:
                async with stream:
                    await self._session(stream)
            except* (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                log.debug("a client left mid-session")
            except* Exception:
                log.exception("a socket session failed")

    async def _session(self, stream: SocketStream) -> None:
        """A hello line naming the connection's namespace, then an MCP session; the socket is trusted (0600)."""
        buffered = BufferedByteReceiveStream(stream)
        try:
            socket_principal.set(self._identity.socket(await read_hello(buffered)))
        except (ValueError, anyio.EndOfStream, anyio.IncompleteRead, anyio.DelimiterNotFound):
            return
        lowlevel = self._mcp._lowlevel_server  # the SDK offers no public way to serve other streams
        async with message_streams(stream, buffered) as (read, write):
            await lowlevel.run(read, write, lowlevel.create_initialization_options())

    async def _until_stopped(self, signals: AsyncIterator[int], idle_exit: float | None) -> str:
        while True:
            with anyio.move_on_after(1.0):
                async for received in signals:
                    return signal.Signals(received).name
            idle = time.monotonic() - self._last_seen
            if idle_exit is not None and self._clients == 0 and idle >= idle_exit:
                return f"idle for {idle_exit:g} s"

    @contextmanager
    def _client(self) -> Iterator[list[bool]]:
        """A client while it is connected (no idle stop meanwhile); when it leaves, the idle time starts
        again, unless the caller set the flag it is given to False (a refused request is no use)."""
        used = [True]
        self._clients += 1
        try:
            yield used
        finally:
            self._clients -= 1
            if used[0]:
                self._last_seen = time.monotonic()

    def _counted(self, app: ASGIApp) -> ASGIApp:
        """The HTTP app, with each request counted as a client for the idle timer, unless it was refused:
        a page polling the port without a token must not keep a background server alive."""

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return await app(scope, receive, send)
            answered = 0

            async def watched(message: Message) -> None:
                nonlocal answered
                if message["type"] == "http.response.start":
                    answered = message["status"]
                await send(message)

            with self._client() as used:
                await app(scope, receive, watched)
                used[0] = answered not in REFUSALS

        return counted


class _HttpServer(uvicorn.Server):
    """uvicorn, minus its own signal handling: the owner stops both of its sockets together."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextmanager
def hold_directory(files: OwnerFiles) -> Iterator[None]:
    """The data directory's lock, for the life of the owner; the OS releases it if the owner dies."""
    lock = FileLock(files.lock, timeout=LOCK_WAIT_SECONDS)
    try:
        lock.acquire()
    except Timeout:
        info = files.read_info() or {}
        raise AlreadyRunning(
            f"another mcp-memory (pid {info.get('pid', '?')}) already owns {files.data_dir}, "
            f"serving {info.get('http') or info.get('socket', files.socket)}: "
            "use it, or stop it with `mcp-memory stop`"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _bind_tcp(host: str, port: int, *, required: bool) -> socket.socket | None:
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off only on sockets that say so. With it on,
    # each response after the first on a kept-alive connection waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno != errno.EADDRINUSE or required:
            raise MemoryServerError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        log.warning("port %d is in use: serving the unix socket only", port)
        return None
    sock.listen(2048)
    sock.setblocking(False)
    return sock
