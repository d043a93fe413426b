"""The CLI's way to the store: an MCP session with the data directory's owner, started if needed.

Light on imports, so that a terminal command answers at once: it speaks the few MCP messages the CLI
needs (initialize, tools/call, resources/read) itself, one JSON-RPC message a line on the owner's
socket as `socket_transport.py` frames them. Not the SDK's client: importing any of the `mcp`
package imports the SDK's server too (starlette, uvicorn), which took longer than a whole recall.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from mcp_memory import __version__
from mcp_memory.core.errors import MemoryServerError, OwnerUnavailable
from mcp_memory.core.models import ExportPage, ImportResult, MemoryHistory, MemoryInput, OwnerStatus
from mcp_memory.serve.bridge import connect_owner
from mcp_memory.serve.owner_files import CLI_CLIENT, HISTORY_URI, STATUS_URI, OwnerFiles

if TYPE_CHECKING:
    from mcp_memory.core.config import Settings

# The MCP revision this client speaks: one the SDK's server takes in an initialize handshake.
PROTOCOL_VERSION = "2025-11-25"
METHOD_NOT_FOUND = -32601
ResultT = TypeVar("ResultT", bound=BaseModel)
T = TypeVar("T")


class OwnerSession:
    """One MCP session with the owner, in the namespace the connection's hello line named. Its calls block, and
    several threads may make them at once."""

    def __init__(self, owner: socket.socket, files: OwnerFiles) -> None:
        self._owner = owner
        self._lines = owner.makefile("rb")
        self._files = files
        self._last_id = 0
        # Several threads may each wait for an answer (an import keeps two calls with the owner): one at a
        # time reads the connection for all and hands each answer to the thread that asked.
        self._sending = threading.Lock()
        self._answering = threading.Condition()
        self._answers: dict[int, dict[str, Any]] = {}
        self._reading = False
        self._lost_with: OwnerUnavailable | None = None

    def __enter__(self) -> OwnerSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._lines.close()
        self._owner.close()

    def initialize(self) -> None:
        client_info = {"name": CLI_CLIENT, "version": __version__}
        params = {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": client_info}
        answer = self.request("initialize", params)
        if answer.get("protocolVersion") != PROTOCOL_VERSION:
            raise OwnerUnavailable(
                f"the server speaks MCP {answer.get('protocolVersion')}, this command {PROTOCOL_VERSION}: "
                "an older server may still run; restart it with `mcp-memory stop`"
            )
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def call_tool(self, tool: str, arguments: dict[str, Any], result: type[ResultT]) -> ResultT:
        """Call one of the owner's tools; an error result becomes a `MemoryServerError` with its text."""
        answer = self.request("tools/call", {"name": tool, "arguments": arguments})
        text = " ".join(block.get("text", "") for block in answer.get("content", []))
        if answer.get("isError"):
            raise MemoryServerError(text.removeprefix(f"Error executing tool {tool}: "))
        return result.model_validate(answer.get("structuredContent"))

    def read_resource(self, uri: str) -> str:
        """The text of a resource the owner serves as one text block."""
        [contents] = self.request("resources/read", {"uri": uri})["contents"]
        return str(contents["text"])

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a request and wait for its answer; an error answer becomes a `MemoryServerError`."""
        with self._answering:
            self._last_id += 1
            number = self._last_id
        self._send({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        message = self._answer_to(number)
        if "error" in message:
            raise MemoryServerError(str(message["error"].get("message")))
        return dict(message["result"])

    def _answer_to(self, number: int) -> dict[str, Any]:
        with self._answering:
            while number not in self._answers:
                if self._lost_with is not None:  # every waiting thread fails, each with an error of its own
                    raise OwnerUnavailable(str(self._lost_with)) from self._lost_with
                if self._reading:  # another thread reads: it hands this one its answer
                    self._answering.wait()
                    continue
                self._reading = True
                try:
                    self._answering.release()
                    try:
                        message = self._receive()
                    finally:
                        self._answering.acquire()
                except Exception as exc:  # a lost or garbled connection: no answer can be trusted to come
                    unreadable = OwnerUnavailable(
                        f"an answer of the server could not be read ({exc}); see {self._files.log}"
                    )
                    self._lost_with = exc if isinstance(exc, OwnerUnavailable) else unreadable
                    raise
                finally:
                    self._reading = False
                    self._answering.notify_all()
                if "method" not in message:
                    if isinstance(message.get("id"), int):
                        self._answers[message["id"]] = message
                elif "id" in message:  # the owner's request, answered; its notifications are dropped
                    self._answering.release()  # another thread may be sending a long request meanwhile
                    try:
                        self._send(_answer(message))
                    finally:
                        self._answering.acquire()
            return self._answers.pop(number)

    def _send(self, message: dict[str, Any]) -> None:
        try:
            with self._sending:
                self._owner.sendall(json.dumps(message).encode() + b"\n")
        except OSError as exc:
            raise self._lost(exc) from exc

    def _receive(self) -> dict[str, Any]:
        try:
            line = self._lines.readline()
        except OSError as exc:
            raise self._lost(exc) from exc
        if not line.endswith(b"\n"):
            raise self._lost(None)
        message = json.loads(line)
        return message if isinstance(message, dict) else {}

    def _lost(self, cause: OSError | None) -> OwnerUnavailable:
        how = f" ({cause})" if cause else ""
        return OwnerUnavailable(f"the server closed the connection{how}; see {self._files.log}")


def open_session(settings: Settings) -> OwnerSession:
    """An initialised session with the owner of `settings.data_dir`, in `settings.namespace`."""
    files = OwnerFiles(settings.data_dir)
    session = OwnerSession(connect_owner(files, settings.namespace), files)
    try:
        session.initialize()
    except BaseException:
        session.close()
        raise
    return session


def call_tool(settings: Settings, tool: str, arguments: dict[str, Any], result: type[ResultT]) -> ResultT:
    """Call one of the owner's tools in a session of its own."""
    with open_session(settings) as session:
        return session.call_tool(tool, arguments, result)


def read_history(settings: Settings, memory_id: str) -> MemoryHistory:
    """A memory's history, from the owner's history resource."""
    with open_session(settings) as session:
        return MemoryHistory.model_validate_json(session.read_resource(HISTORY_URI.format(memory_id=memory_id)))


def read_status(settings: Settings) -> OwnerStatus:
    with open_session(settings) as session:
        return OwnerStatus.model_validate(json.loads(session.read_resource(STATUS_URI)))


async def with_owner(settings: Settings, operation: Callable[[OwnerSession], Awaitable[T]]) -> T:
    """Run `operation` in a session with the owner; for the transfer commands, which run on an event loop."""
    session = await _in_thread(lambda: open_session(settings))
    with session:
        return await operation(session)


class OwnerChannel:
    """Export pages and import batches over one session with the owner (a `transfer.channel.Channel`)."""

    def __init__(self, session: OwnerSession) -> None:
        self._session = session

    async def export_page(self, cursor: str | None, limit: int, *, vectors: bool, history: bool) -> ExportPage:
        arguments = {"cursor": cursor, "limit": limit, "vectors": vectors, "history": history}
        return await _in_thread(lambda: self._session.call_tool("export_memories", arguments, ExportPage))

    async def import_batch(
        self, memories: Sequence[MemoryInput], *, model: str | None, check_only: bool
    ) -> ImportResult:
        sent = [m.model_dump(mode="json", exclude_none=True) for m in memories]
        arguments = {"memories": sent, "model": model, "check_only": check_only}
        return await _in_thread(lambda: self._session.call_tool("import_memories", arguments, ImportResult))


async def _in_thread(call: Callable[[], T]) -> T:
    """A blocking call on a worker thread, so that an import reads ahead meanwhile."""
    import anyio.to_thread  # here: the commands that make one call need no event loop

    return await anyio.to_thread.run_sync(call)


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    """The answer to the owner's request: a ping's, else a refusal (this client offers no capabilities)."""
    if request["method"] == "ping":
        return {"jsonrpc": "2.0", "id": request["id"], "result": {}}
    error = {"code": METHOD_NOT_FOUND, "message": f"the mcp-memory CLI does not take {request['method']}"}
    return {"jsonrpc": "2.0", "id": request["id"], "error": error}
