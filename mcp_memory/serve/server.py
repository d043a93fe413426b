"""The MCP face of the runtime: tools and resources, each call made as the request's caller (`identity.py`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    EmptyResult,
    GetPromptResult,
    InputRequiredResult,
    SetLevelRequestParams,
    ToolAnnotations,
)
from pydantic import AnyHttpUrl, Field, ValidationError

from mcp_memory import __version__
from mcp_memory.core.errors import AccessDenied, InvalidInput, MemoryServerError, NotFound
from mcp_memory.core.models import ForgetResult, Kind, MemoryInput, RecallResult, RememberManyResult, RememberResult
from mcp_memory.core.principal import Caller
from mcp_memory.serve import tool_args as args
from mcp_memory.serve.identity import READ, Identity
from mcp_memory.serve.owner_files import HISTORY_URI, STATUS_URI
from mcp_memory.serve.runtime import MemoryRuntime
from mcp_memory.serve.transfer_tools import add_transfer_tools, hide_transfer_tools

RECENT_URI = "memory://recent"
RECENT_LIMIT_URI = "memory://recent/{limit}"
MEMORY_URI = "memory://memories/{memory_id}"
STANDING_URI = "memory://standing"
BRIEF_LIMIT = 10
# A memory or a topic the caller got wrong is its mistake (-32602), not the server's (-32603).
ASKED_WRONG = (NotFound, InvalidInput, AccessDenied)
T = TypeVar("T")
log = logging.getLogger(__name__)
_reading: ContextVar[Context | None] = ContextVar("reading", default=None)


class _MemoryServer(MCPServer):
    """The SDK's server; a resource without URI variables gets no Context, so the read's is kept here."""

    async def read_resource(
        self, uri: Any, context: Context | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        token = _reading.set(context)
        try:
            return await super().read_resource(uri, context)
        finally:
            _reading.reset(token)

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context | None = None
    ) -> GetPromptResult | InputRequiredResult:
        """The SDK's, but an unknown prompt or a missing argument is the caller's mistake (-32602), with its words."""
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as exc:
            # The SDK wraps what went wrong twice over: a crash of the prompt itself lies two causes down.
            crash = exc.__cause__.__cause__ if exc.__cause__ is not None else None
            if crash is None:
                raise MCPError(INVALID_PARAMS, str(exc)) from exc
            if isinstance(crash, ValidationError):
                # Argument names only: the values are the caller's data.
                named = sorted({".".join(map(str, error["loc"])) for error in crash.errors()})
                raise MCPError(INVALID_PARAMS, f"prompt {name!r} does not take the arguments {named}") from exc
            log.error("prompt %r failed", name, exc_info=crash)
            raise MCPError(INTERNAL_ERROR, f"the prompt {name!r} failed: {crash}") from exc


INSTRUCTIONS = """\
Long-term memory shared by every app this user connects to it. Call `recall` at the start of a \
task and whenever earlier context may matter; call `remember` when the user states a durable fact, \
preference, decision or instruction; call `forget` when the user asks or a memory is wrong."""


def build_server(runtime: MemoryRuntime, identity: Identity, public_url: str) -> MCPServer:
    """An MCP server over the runtime; `identity` says who calls. The transports are the owner's business.

    With tokens, the SDK's bearer middleware guards the HTTP endpoint: a request without a valid
    token gets 401 with `WWW-Authenticate: Bearer`. This server issues its own tokens, so it is
    named as their issuer; it publishes no OAuth metadata, as there is no OAuth flow to discover.
    """
    verifier = identity.verifier
    auth = (
        AuthSettings(issuer_url=AnyHttpUrl(public_url), resource_server_url=None, required_scopes=[READ])
        if verifier
        else None
    )
    mcp: MCPServer = _MemoryServer(
        "mcp-memory",
        version=__version__,
        instructions=INSTRUCTIONS,
        token_verifier=verifier,
        auth=auth,
        middleware=[hide_transfer_tools],
    )

    async def set_logging_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
        """Accepted so hosts that set a level are answered; the server sends no log messages over MCP."""
        return EmptyResult()

    mcp._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, set_logging_level)

    def caller(ctx: Context) -> Caller:
        return identity.caller(ctx.request_context.request, _source(ctx))

    async def call(ctx: Context, operation: Callable[[Caller], Awaitable[T]]) -> T:
        """A runtime call as this request's caller; the project's errors become MCP error results here."""
        try:
            return await operation(caller(ctx))
        except MemoryServerError as exc:
            raise ToolError(str(exc)) from exc

    add_transfer_tools(mcp, runtime, call)

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
        or when they ask you to remember something. Store separate facts as separate memories (many at
        once with `remember_many`). Do not
        store secrets (passwords, keys) or details that only matter for the task at hand.

        The same words remembered again store nothing new: the answer is `status: "duplicate"` with
        the existing memory's id, which gains any new tags or metadata. (In a thread, or about another
        `occurred_at`, a repeat is a memory of its own.) The answer lists `similar`: existing memories
        close to the new one. When the new fact replaces one of them (a changed preference, a new
        address, a revised decision), pass `supersedes` with the old id, so the old one stops being
        recalled; `status: "similar"` says how to tidy a near-identical pair. Long notes are fine:
        they are indexed in parts, and recall finds any passage of them.
        """
        return await call(
            ctx,
            lambda caller: runtime.remember(
                caller,
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
            ),
        )

    @mcp.tool(annotations=ToolAnnotations(title="Remember many", destructive_hint=False, idempotent_hint=False))
    async def remember_many(memories: args.NewMemories, ctx: Context) -> RememberManyResult:
        """Store several memories in one call, embedded together: faster than one `remember` each.

        Call this when you have many things to keep at once: the facts a user listed, what you learned
        over a long session, the turns of a conversation (give them one `thread`, in the order said),
        notes moved in from elsewhere. Each memory takes what `remember` takes and is treated as
        `remember` treats it (duplicates, superseding, long notes). All are checked first: if any is
        invalid, none is stored and the error names it. The answer lists each memory's outcome in order.
        """
        items = [MemoryInput(**m.model_dump(exclude_none=True)) for m in memories]
        result: RememberManyResult = await call(ctx, lambda caller: runtime.remember_many(caller, items))
        return result

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
        return await call(
            ctx,
            lambda caller: runtime.recall(
                caller,
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
        return await call(
            ctx,
            lambda caller: runtime.forget(
                caller,
                ids,
                tags=tags,
                kind=kind,
                source=source,
                before=before,
                after=after,
                everything=everything,
                confirm=confirm,
                dry_run=dry_run,
            ),
        )

    @mcp.resource(HISTORY_URI, name="history", mime_type="application/json")
    async def history(memory_id: str, ctx: Context) -> str:
        """What happened to one memory, oldest first: created, reinforced, updated, superseded, forgotten."""
        try:
            found = await call(ctx, lambda caller: runtime.history(caller, memory_id))
        except ToolError as exc:
            # An unknown, malformed or foreign id is the caller's mistake (-32602), not the server's (-32603).
            asked_wrong = isinstance(exc.__cause__, NotFound | InvalidInput | AccessDenied)
            raise (ResourceNotFoundError if asked_wrong else ResourceError)(str(exc)) from exc
        return found.model_dump_json()

    @mcp.resource(STATUS_URI, name="status", mime_type="application/json")
    async def status() -> str:
        """This server: its process, endpoints, data directory, model, and memories per namespace you hold."""
        ctx = _reading.get()
        if ctx is None:
            raise ResourceError("the status was read outside a request")
        try:
            return (await call(ctx, runtime.status)).model_dump_json()
        except ToolError as exc:
            raise ResourceError(str(exc)) from exc

    async def read(ctx: Context | None, operation: Callable[[Caller], Awaitable[T]]) -> T:
        """A runtime call for a resource, its errors translated as the history resource translates them."""
        if ctx is None:
            raise ResourceError("the resource was read outside a request")
        try:
            return await call(ctx, operation)
        except ToolError as exc:
            raise (ResourceNotFoundError if isinstance(exc.__cause__, ASKED_WRONG) else ResourceError)(
                str(exc)
            ) from exc

    @mcp.resource(RECENT_URI, name="recent", title="Recent memories", mime_type="application/json")
    async def recent() -> str:
        """The 20 memories remembered last in this namespace, newest first, with every field; forgotten,
        superseded and expired ones are left out. Read it to see what was noted lately, by any app, e.g. to
        review or tidy it. memory://recent/{limit} takes another count."""
        return (await read(_reading.get(), runtime.recent)).model_dump_json()

    @mcp.resource(RECENT_LIMIT_URI, name="recent_limit", title="Recent memories", mime_type="application/json")
    async def recent_limit(limit: str, ctx: Context) -> str:
        """The `limit` memories (1 to 100) remembered last in this namespace, newest first, with every field;
        forgotten, superseded and expired ones are left out."""
        if not (limit.isascii() and limit.isdigit() and len(limit) <= 6):
            raise ResourceNotFoundError(f"limit {limit[:20]!r} is not a count: use 1 to 100, as in memory://recent/50")
        return (await read(ctx, lambda caller: runtime.recent(caller, limit=int(limit)))).model_dump_json()

    @mcp.resource(MEMORY_URI, name="memory", title="One memory", mime_type="application/json")
    async def memory(memory_id: str, ctx: Context) -> str:
        """One memory by its id, live or superseded, with every field: content, kind, tags, the app that
        remembered it, its dates, importance, thread, parts, expiry, how often it was used, and what it
        supersedes or was superseded by. Ids come from recall, remember and memory://recent."""
        return (await read(ctx, lambda caller: runtime.memory(caller, memory_id))).model_dump_json()

    @mcp.resource(STANDING_URI, name="standing", title="Standing preferences", mime_type="text/markdown")
    async def standing() -> str:
        """The user's standing preferences and instructions, as one short markdown text: most important and
        most used first, at most 30 and about 2,000 characters, with a count of those left out. Load it at the
        start of a conversation, so that every app follows what the user asked of any of them."""
        return (await read(_reading.get(), runtime.standing)).text

    @mcp.prompt(name="recall_topic", title="Recall a topic")
    async def recall_topic(
        topic: Annotated[
            str, Field(description="What to recall, in a few words or a question: 'the billing service', 'my diet'.")
        ],
        ctx: Context,
    ) -> str:
        """Bring what long-term memory holds about a topic into the conversation: up to 10 memories, best match
        first, each with when and by which app it was remembered. Use it when starting on a subject the user
        has dealt with before, in this app or another, or when they ask what is remembered about something."""
        try:
            found = await call(ctx, lambda caller: runtime.brief(caller, topic, limit=BRIEF_LIMIT))
        except ToolError as exc:
            code = INVALID_PARAMS if isinstance(exc.__cause__, ASKED_WRONG) else INTERNAL_ERROR
            raise MCPError(code, str(exc)) from exc
        return found.text

    @mcp.custom_route("/health", methods=["GET"])
    async def health(request: Any) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse({"status": "ok", "ready": runtime.loader.ready, "pid": os.getpid()})

    return mcp


def _source(ctx: Context) -> str:
    """The host's name from its MCP `clientInfo`, recorded with each memory it writes."""
    params = ctx.session.client_params
    return params.client_info.name if params is not None else "unknown"
