"""MCP over the owner's unix socket: one hello line naming the namespace, then one JSON-RPC message a line.

The framing is the stdio transport's, so the stdio bridge can relay bytes without parsing MCP. The
hello line is written by `bridge.connect_owner`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
import mcp_types
from anyio.abc import ByteStream
from anyio.streams.buffered import BufferedByteReceiveStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

# A memory may be 64 KB and recall answers up to 50 of them; JSON escaping can double that.
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_HELLO_BYTES = 4096

Streams = tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]


async def read_hello(buffered: BufferedByteReceiveStream) -> dict[str, Any]:
    """The connection's first line; raises ValueError if it is not a JSON object."""
    line = await buffered.receive_until(b"\n", MAX_HELLO_BYTES)
    try:
        hello = json.loads(line)
    except RecursionError as exc:
        raise ValueError("the hello line is nested too deeply") from exc
    if not isinstance(hello, dict):
        raise ValueError("the hello line must be a JSON object")
    return hello


def malformed_answer(line: bytes) -> mcp_types.JSONRPCError:
    """The JSON-RPC error answering a line that is no valid message: -32700 when it is not JSON, else -32600
    (with the line's id when it has a usable one)."""
    try:
        parsed = json.loads(line)
    except (ValueError, RecursionError):
        code, text, found = mcp_types.PARSE_ERROR, "Parse error: the line is not JSON", None
    else:
        found = parsed if isinstance(parsed, dict) else {}
        code, text = mcp_types.INVALID_REQUEST, "Invalid request: not a JSON-RPC 2.0 message this server takes"
    request_id = (found or {}).get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        request_id = None
    return mcp_types.JSONRPCError(jsonrpc="2.0", id=request_id, error=mcp_types.ErrorData(code=code, message=text))


@asynccontextmanager
async def message_streams(stream: ByteStream, buffered: BufferedByteReceiveStream) -> AsyncIterator[Streams]:
    """The SDK's session streams over a socket; leaving the block stops both directions."""
    incoming_send, incoming = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    outgoing, outgoing_receive = anyio.create_memory_object_stream[SessionMessage](0)

    async def read_lines() -> None:
        async with incoming_send:
            while True:
                try:
                    line = await buffered.receive_until(b"\n", MAX_LINE_BYTES)
                except (
                    anyio.EndOfStream,
                    anyio.IncompleteRead,
                    anyio.DelimiterNotFound,  # a line too long to be a message
                    anyio.BrokenResourceError,
                    anyio.ClosedResourceError,
                ):
                    return
                try:
                    message = mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                except Exception as exc:
                    # The SDK drops what it cannot parse; a caller waiting for an answer would wait forever.
                    with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                        await outgoing.send(SessionMessage(malformed_answer(line)))
                    await incoming_send.send(exc)
                    continue
                await incoming_send.send(SessionMessage(message))

    async def write_lines() -> None:
        async with outgoing_receive:
            async for session_message in outgoing_receive:
                data = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                await stream.send(data.encode() + b"\n")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(read_lines)
        tasks.start_soon(write_lines)
        try:
            yield incoming, outgoing
        finally:
            tasks.cancel_scope.cancel()
