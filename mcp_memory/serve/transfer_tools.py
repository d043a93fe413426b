"""The two tools behind `mcp-memory export` and `import`: pages out, batches in.

They are listed only to the mcp-memory CLI, so a host's model never reads them among its tools;
listing is not permission: any caller may call them, within its rights (an import writes, so a
read-only token cannot import). They go through the runtime like every other tool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ListToolsResult, ToolAnnotations
from pydantic import Field

from mcp_memory.core.exporting import MAX_PAGE
from mcp_memory.core.models import ExportPage, ImportResult, StoredMemory
from mcp_memory.core.principal import Caller
from mcp_memory.serve.owner_files import CLI_CLIENT
from mcp_memory.serve.runtime import MemoryRuntime

# Listed to the CLI alone: the transfer tools, and the dashboard's sign-in link (`web_pages.py`).
CLI_TOOLS = frozenset({"export_memories", "import_memories", "dashboard_link"})
T = TypeVar("T")
Call = Callable[[Context, Callable[[Caller], Awaitable[Any]]], Awaitable[Any]]


def add_transfer_tools(mcp: MCPServer, runtime: MemoryRuntime, call: Call) -> None:
    @mcp.tool(annotations=ToolAnnotations(title="Export memories", read_only_hint=True))
    async def export_memories(
        ctx: Context,
        cursor: Annotated[str | None, Field(description="The previous page's `next`; none for the first.")] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description="Records to read.")] = 100,
        vectors: Annotated[bool, Field(description="Include each memory's embedding.")] = False,
        history: Annotated[bool, Field(description="Include each memory's events.")] = False,
    ) -> ExportPage:
        """A page of this namespace's memories with every field, live then superseded (`mcp-memory export`)."""
        options = {"limit": limit, "vectors": vectors, "history": history}
        page: ExportPage = await call(ctx, lambda caller: runtime.export_page(caller, cursor, **options))
        return page

    @mcp.tool(annotations=ToolAnnotations(title="Import memories", destructive_hint=False, idempotent_hint=True))
    async def import_memories(
        memories: Annotated[list[StoredMemory], Field(description="Memories as an export writes them.")],
        ctx: Context,
        model: Annotated[str | None, Field(description="The model that made their vectors, if any.")] = None,
        check_only: Annotated[bool, Field(description="Only say what is invalid; store nothing.")] = False,
    ) -> ImportResult:
        """Store memories with their ids, timestamps and sources; ids already here stay as they are (`import`)."""
        result: ImportResult = await call(
            ctx, lambda caller: runtime.import_memories(caller, memories, model=model, check_only=check_only)
        )
        return result


async def hide_transfer_tools(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: leave the CLI's own tools out of every tool list but the CLI's."""
    result = await call_next(ctx)
    if ctx.method != "tools/list" or _client(ctx) == CLI_CLIENT:
        return result
    if isinstance(result, dict):  # the wire form, as the SDK hands it back
        return {**result, "tools": [t for t in result.get("tools", []) if t.get("name") not in CLI_TOOLS]}
    if isinstance(result, ListToolsResult):
        return result.model_copy(update={"tools": [t for t in result.tools if t.name not in CLI_TOOLS]})
    return result


def _client(ctx: ServerRequestContext[Any, Any]) -> str | None:
    params = ctx.session.client_params
    return params.client_info.name if params is not None else None
