"""The MCP face of the service: tools, the session's namespace and the host's name as `source`."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp_types import ToolAnnotations

from mcp_memory import __version__
from mcp_memory import tool_args as args
from mcp_memory.errors import MemoryServerError, NotFound
from mcp_memory.models import ForgetResult, Kind, OwnerInfo, OwnerStatus, RecallResult, RememberResult
from mcp_memory.runtime import CallTracker, ServiceLoader
from mcp_memory.service import MemoryService

NAMESPACE_HEADER = "mcp-memory-namespace"
STATUS_URI = "memory://status"
HISTORY_URI = "memory://history/{memory_id}"
T = TypeVar("T")

# The namespace a socket connection named in its hello line, bound for every request on it.
bound_namespace: ContextVar[str | None] = ContextVar("bound_namespace", default=None)

INSTRUCTIONS = """\
Long-term memory shared by every app this user connects to it. Call `recall` at the start of a \
task and whenever earlier context may matter; call `remember` when the user states a durable fact, \
preference, decision or instruction; call `forget` when the user asks or a memory is wrong."""


def build_server(loader: ServiceLoader, default_namespace: str, about: OwnerInfo, calls: CallTracker) -> MCPServer:
    """An MCP server over the service that `loader` opens; the transports are the owner's business."""
    mcp: MCPServer = MCPServer("mcp-memory", version=__version__, instructions=INSTRUCTIONS)

    async def call(operation: Callable[[MemoryService], T]) -> T:
        """Run a service call off the event loop; the project's errors become MCP error results here."""
        try:
            async with calls.track():
                service = await loader.get()
                return await anyio.to_thread.run_sync(operation, service)
        except MemoryServerError as exc:
            raise ToolError(str(exc)) from exc

    @mcp.tool(annotations=ToolAnnotations(title="Remember", destructive_hint=False, idempotent_hint=False))
    async def remember(
        content: args.Content,
        ctx: Context,
        tags: args.Tags = [],  # noqa: B006 - pydantic copies defaults
        kind: args.MemoryKind = Kind.fact,
        importance: args.Importance = None,
        occurred_at: args.OccurredAt = None,
        thread: args.Thread = None,
        metadata: args.Metadata = None,
        supersedes: args.Supersedes = None,
        ttl: args.Ttl = None,
        expires_at: args.ExpiresAt = None,
    ) -> RememberResult:
        """Store a durable memory so that later conversations, in this app or any other, can recall it.

        Call this when the user shares something worth keeping beyond this conversation: a preference,
        a decision, a convention of their project, a personal detail, an instruction for how to work,
        or when they ask you to remember something. Store separate facts with separate calls. Do not
        store secrets (passwords, keys) or details that only matter for the task at hand.

        The same words remembered again store nothing new: the answer is `status: "duplicate"` with
        the existing memory's id, which gains any new tags or metadata. (In a thread, or about another
        `occurred_at`, a repeat is a memory of its own.) The answer lists `similar`: existing memories
        close to the new one. When the new fact replaces one of them (a changed preference, a new
        address, a revised decision), pass `supersedes` with the old id, so the old one stops being
        recalled; `status: "similar"` says how to tidy a near-identical pair. Long notes are fine:
        they are indexed in parts, and recall finds any passage of them.
        """
        namespace, source = _namespace(ctx, default_namespace), _source(ctx)
        return await call(
            lambda service: service.remember(
                namespace,
                content,
                tags=tags,
                kind=kind,
                importance=importance,
                occurred_at=occurred_at,
                thread=thread,
                metadata=metadata,
                supersedes=supersedes or (),
                ttl=ttl,
                expires_at=expires_at,
                source=source,
            ),
        )

    @mcp.tool(annotations=ToolAnnotations(title="Recall", read_only_hint=True))
    async def recall(
        query: args.Query,
        ctx: Context,
        limit: args.Limit = 5,
        tags: args.RecallTags = None,
        kind: args.RecallKind = None,
        since: args.Since = None,
        until: args.Until = None,
        include_superseded: args.IncludeSuperseded = False,
        explain: args.Explain = False,
    ) -> RecallResult:
        """Search long-term memory for what is known about the user, their work and their preferences.

        Call this at the start of a task or conversation, whenever the user refers to something from
        before ('as I said', 'my usual setup', 'the project'), and before acting on a choice the user
        may have a preference about. Results come best first. A memory's `similarity` under about
        0.3 means a weak match; an empty list means nothing relevant is remembered. Retrieval
        combines meaning with shared words, so names and rare terms in the query help; among equally
        relevant memories, recent, important and often-used ones come first. A long memory comes back
        whole, with `matched_part` the passage that matched.
        """
        namespace = _namespace(ctx, default_namespace)
        return await call(
            lambda service: service.recall(
                namespace,
                query,
                limit=limit,
                tags=tags,
                kind=kind,
                since=since,
                until=until,
                include_superseded=include_superseded,
                explain=explain,
            ),
        )

    @mcp.tool(annotations=ToolAnnotations(title="Forget", destructive_hint=True, idempotent_hint=True))
    async def forget(
        ctx: Context,
        ids: args.Ids = None,
        tags: args.ForgetTags = None,
        kind: args.ForgetKind = None,
        source: args.Source = None,
        before: args.Before = None,
        after: args.After = None,
        everything: args.Everything = False,
        confirm: args.Confirm = None,
        dry_run: args.DryRun = False,
    ) -> ForgetResult:
        """Erase memories permanently, from every index: by ids, by a filter, or all of the namespace.

        Call this when the user asks you to forget something, or when a memory is wrong. (When a fact
        changed, prefer remember with `supersedes`: the old one then stays in history.) Recall first to
        find the ids, and pass only those that should go. To forget by a filter (tags, kind, source,
        before, after), call with dry_run=true first and show the user what would go. Forgetting
        everything needs everything=true and confirm set to the namespace's name.
        """
        namespace = _namespace(ctx, default_namespace)
        return await call(
            lambda service: service.forget(
                namespace,
                ids,
                tags=tags,
                kind=kind,
                source=source,
                before=before,
                after=after,
                everything=everything,
                confirm=confirm,
                dry_run=dry_run,
            )
        )

    @mcp.resource(HISTORY_URI, name="history", mime_type="application/json")
    async def history(memory_id: str, ctx: Context) -> str:
        """What happened to one memory, oldest first: created, reinforced, updated, superseded, forgotten."""
        namespace = _namespace(ctx, default_namespace)
        try:
            found = await call(lambda service: service.history(namespace, memory_id))
        except ToolError as exc:
            missing = isinstance(exc.__cause__, NotFound)
            raise (ResourceNotFoundError if missing else ResourceError)(str(exc)) from exc
        return found.model_dump_json()

    @mcp.resource(STATUS_URI, name="status", mime_type="application/json")
    async def status() -> str:
        """This server: its process, endpoints, data directory, model, and memories per namespace."""
        return (await owner_status(loader, about)).model_dump_json()

    @mcp.custom_route("/health", methods=["GET"])
    async def health(request: Any) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse({"status": "ok", "ready": loader.ready, "pid": os.getpid()})

    return mcp


async def owner_status(loader: ServiceLoader, about: OwnerInfo) -> OwnerStatus:
    """What `mcp-memory status` shows; waits for the model and store to load."""
    try:
        service = await loader.get()
        stats = await anyio.to_thread.run_sync(service.stats)
    except MemoryServerError as exc:
        return OwnerStatus(**about.model_dump(), ready=False, error=str(exc))
    return OwnerStatus(
        **about.model_dump(), ready=True, embedding_model=stats.embedding_model, namespaces=stats.namespaces
    )


def _namespace(ctx: Context, default: str) -> str:
    """The namespace of this request: bound to its socket connection, or named by an HTTP client."""
    if (bound := bound_namespace.get()) is not None:
        return bound
    request = ctx.request_context.request
    if request is not None:
        chosen = request.headers.get(NAMESPACE_HEADER) or request.query_params.get("namespace")
        if chosen:
            return str(chosen)
    return default


def _source(ctx: Context) -> str:
    """The host's name from its MCP `clientInfo`, recorded with each memory it writes."""
    params = ctx.session.client_params
    return params.client_info.name if params is not None else "unknown"
