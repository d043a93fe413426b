"""The CLI's way to the store: an MCP session with the data directory's owner, started if needed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio.to_thread
from anyio.abc import UNIXSocketStream
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import ClientSession, MCPError
from mcp_types import Implementation, TextResourceContents
from pydantic import BaseModel

from mcp_memory import __version__
from mcp_memory.core.config import Settings
from mcp_memory.core.errors import MemoryServerError
from mcp_memory.core.models import ExportPage, ImportResult, MemoryHistory, MemoryInput, OwnerStatus
from mcp_memory.serve.bridge import connect_owner
from mcp_memory.serve.owner_files import OwnerFiles
from mcp_memory.serve.server import HISTORY_URI, STATUS_URI
from mcp_memory.serve.socket_transport import message_streams
from mcp_memory.serve.transfer_tools import CLI_CLIENT

CLIENT = Implementation(name=CLI_CLIENT, version=__version__)
ResultT = TypeVar("ResultT", bound=BaseModel)
T = TypeVar("T")


@asynccontextmanager
async def owner_session(settings: Settings) -> AsyncIterator[ClientSession]:
    files = OwnerFiles(settings.data_dir)
    raw = await anyio.to_thread.run_sync(connect_owner, files, settings.namespace)
    async with (
        await UNIXSocketStream.from_socket(raw) as stream,
        message_streams(stream, BufferedByteReceiveStream(stream)) as (read, write),
        ClientSession(read, write, client_info=CLIENT) as session,
    ):
        await session.initialize()
        yield session


async def with_owner(settings: Settings, operation: Callable[[ClientSession], Awaitable[T]]) -> T:
    """Run `operation` in a session with the owner; its `MemoryServerError` is raised once the session is
    closed, as itself rather than inside the session's task group."""
    failure: MemoryServerError | None = None
    async with owner_session(settings) as session:
        try:
            return await operation(session)
        except MemoryServerError as exc:
            failure = exc
    assert failure is not None
    raise failure


async def call_tool(settings: Settings, tool: str, arguments: dict[str, Any], result: type[ResultT]) -> ResultT:
    """Call one of the owner's tools; an error result becomes a `MemoryServerError` with its text."""
    return await with_owner(settings, lambda session: _tool(session, tool, arguments, result))


async def _tool(session: ClientSession, tool: str, arguments: dict[str, Any], result: type[ResultT]) -> ResultT:
    answer = await session.call_tool(tool, arguments)
    text = " ".join(getattr(block, "text", "") for block in answer.content)
    if answer.is_error:
        raise MemoryServerError(text.removeprefix(f"Error executing tool {tool}: "))
    return result.model_validate(answer.structured_content)


class OwnerChannel:
    """Export pages and import batches over one session with the owner (a `transfer.channel.Channel`)."""

    def __init__(self, session: ClientSession) -> None:
        self._session = session

    async def export_page(self, cursor: str | None, limit: int, *, vectors: bool, history: bool) -> ExportPage:
        arguments = {"cursor": cursor, "limit": limit, "vectors": vectors, "history": history}
        return await _tool(self._session, "export_memories", arguments, ExportPage)

    async def import_batch(
        self, memories: Sequence[MemoryInput], *, model: str | None, check_only: bool
    ) -> ImportResult:
        sent = [m.model_dump(mode="json", exclude_none=True) for m in memories]
        arguments = {"memories": sent, "model": model, "check_only": check_only}
        return await _tool(self._session, "import_memories", arguments, ImportResult)


async def read_history(settings: Settings, memory_id: str) -> MemoryHistory:
    """A memory's history, from the owner's history resource; an error becomes a `MemoryServerError`."""

    async def read(session: ClientSession) -> list[Any]:
        try:
            return list((await session.read_resource(HISTORY_URI.format(memory_id=memory_id))).contents)
        except MCPError as exc:
            raise MemoryServerError(exc.message) from exc

    [first] = await with_owner(settings, read)
    assert isinstance(first, TextResourceContents)
    return MemoryHistory.model_validate_json(first.text)


async def read_status(settings: Settings) -> OwnerStatus:
    async with owner_session(settings) as session:
        contents = (await session.read_resource(STATUS_URI)).contents
    [first] = contents
    assert isinstance(first, TextResourceContents)
    return OwnerStatus.model_validate(json.loads(first.text))
