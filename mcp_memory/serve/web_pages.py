"""The owner's web pages: see and tend your memory in a browser, at the same address as `/mcp`.

Server-rendered (Jinja2 templates and one stylesheet, shipped in the package: nothing is fetched from
elsewhere), usable without JavaScript. Every page reaches the memory through `MemoryRuntime`, as the MCP
tools do, with the signed-in principal as the caller: a namespace the token does not grant is refused
there, and a read-only token's forms are neither shown nor accepted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import anyio.to_thread
import jinja2
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from mcp_memory.core.errors import AccessDenied, MemoryServerError, NotFound
from mcp_memory.core.models import DashboardLink, Kind, Series
from mcp_memory.core.principal import Caller, Principal
from mcp_memory.core.validation import MAX_RECALL
from mcp_memory.serve.identity import socket_principal
from mcp_memory.serve.runtime import MemoryRuntime
from mcp_memory.serve.web_session import LINK_LASTS, WebSession, WebSessions, csrf_ok, set_cookie
from mcp_memory.serve.web_transfer import MAX_UPLOAD, export_response, import_upload

SOURCE = "dashboard"  # the host name of what the pages write
SHOWN = 20  # memories a list shows
MAX_FORM = 256 * 1024  # bytes of a form's body, but an import's
FILTERS = ("kind", "tag", "source", "since", "until")  # what a list can be narrowed by
CHART_WIDTH, CHART_HEIGHT = 600, 160
# Colour-blind-safe (Okabe and Ito), and readable on light and dark backgrounds alike.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
_FILES = resources.files("mcp_memory.serve")
TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(str(_FILES / "templates")), autoescape=True)
)

Handler = Callable[[Request, "Visit"], Awaitable[Response]]


class Visit:
    """One signed-in request: its session, who it is, and the runtime to ask."""

    def __init__(self, request: Request, session: WebSession, principal: Principal, runtime: MemoryRuntime) -> None:
        self.request, self.session, self.principal, self.runtime = request, session, principal, runtime

    def caller(self, namespace: str | None = None) -> Caller:
        return Caller(self.principal, namespace, SOURCE)

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        context |= {"principal": self.principal, "csrf": self.session.csrf, "can_write": self.principal.can_write}
        return guarded(TEMPLATES.TemplateResponse(self.request, template, context, status_code=status))


def web_routes(runtime: MemoryRuntime, sessions: WebSessions) -> list[BaseRoute]:
    """The pages' routes, to add beside `/mcp`."""

    def signed_in(
        handler: Handler, *, writes: bool = False, largest: int = MAX_FORM
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if writes and (refused := _oversized(request, largest)) is not None:
                return refused
            found = await anyio.to_thread.run_sync(sessions.of, request)
            if found is None:
                return RedirectResponse("/", status_code=303)
            visit = Visit(request, *found, runtime)
            try:
                if writes:
                    form = await request.form()
                    if not csrf_ok(visit.session, form.get("csrf")):
                        message = "This form expired: reload the page and try again."
                        return visit.page("error.html", 403, message=message)
                return await handler(request, visit)
            except AccessDenied as exc:
                return visit.page("error.html", 403, message=str(exc))
            except NotFound as exc:
                return visit.page("error.html", 404, message=str(exc))
            except MemoryServerError as exc:
                return visit.page("error.html", 400, message=str(exc))
            finally:
                await request.close()  # an uploaded file's spool

        return endpoint

    async def home(request: Request) -> Response:
        found = await anyio.to_thread.run_sync(sessions.of, request)
        if found is None:
            if sessions.open:  # nothing to sign in with: every visitor is the open principal
                return _signed_in_response(sessions.sign_in(None))
            return _sign_in_page(request)
        visit = Visit(request, *found, runtime)
        status = await runtime.status(visit.caller())
        counts = dict.fromkeys(visit.principal.namespaces or (), 0) | (status.namespaces or {})
        return visit.page("namespaces.html", namespaces=sorted(counts.items()), owner=status)

    async def sign_in(request: Request) -> Response:
        if (refused := _oversized(request, MAX_FORM)) is not None:
            return refused
        form = await request.form()
        token = form.get("token")
        made = await anyio.to_thread.run_sync(sessions.sign_in, token.strip() if isinstance(token, str) else None)
        if made is None:
            error = "That token is not valid here."
            return _sign_in_page(request, error)
        return _signed_in_response(made)

    async def follow_link(request: Request) -> Response:
        made = sessions.redeem(request.path_params["code"])
        if made is None:
            error = (
                f"That sign-in link was used already, or is over {LINK_LASTS:.0f} seconds old: "
                "run `mcp-memory dashboard` again."
            )
            return _sign_in_page(request, error)
        return _signed_in_response(made)

    async def sign_out(request: Request, visit: Visit) -> Response:
        sessions.sign_out(request)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie("mcp_memory_session", path="/")
        return response

    async def memories(request: Request, visit: Visit) -> Response:
        namespace, asked = request.path_params["namespace"], request.query_params
        query = asked.get("q", "").strip()
        chosen = {name: value for name in FILTERS if (value := asked.get(name, "").strip())}
        filters: dict[str, Any] = {
            "kind": chosen.get("kind"),
            "tags": [chosen["tag"]] if "tag" in chosen else None,
            "since": chosen.get("since"),
            "until": chosen.get("until"),
        }
        context = {"namespace": namespace, "query": query, "chosen": chosen, "kinds": [k.value for k in Kind]}
        if query:  # search by meaning and words, within the same filters
            # A person looking is not a use: the pages' searches reinforce nothing.
            found = await runtime.recall(
                visit.caller(namespace),
                query,
                limit=min(SHOWN, MAX_RECALL),
                explain=True,
                record_use=False,
                source=chosen.get("source"),
                **filters,
            )
            return visit.page("memories.html", **context, recalled=found.memories, page=None)
        wanted = asked.get("page", "")
        number = max(1, int(wanted)) if wanted.isascii() and wanted.isdigit() else 1
        listed = await runtime.browse(
            visit.caller(namespace), offset=(number - 1) * SHOWN, limit=SHOWN, source=chosen.get("source"), **filters
        )
        pages = max(1, -(-listed.total // SHOWN))
        if number > pages:  # past the end (memories were forgotten meanwhile): the last page
            return RedirectResponse(f"?{_with(asked, page=str(pages))}", status_code=303)
        links = {n: _with(asked, page=str(n)) for n in (number - 1, number + 1) if 1 <= n <= pages}
        return visit.page(
            "memories.html", **context, recalled=None, page=listed, number=number, pages=pages, links=links
        )

    async def memory(request: Request, visit: Visit) -> Response:
        namespace, memory_id = request.path_params["namespace"], request.path_params["memory_id"]
        caller = visit.caller(namespace)
        history = await runtime.history(caller, memory_id)
        detail = await runtime.memory(caller, memory_id) if history.state in ("live", "superseded") else None
        around = await runtime.neighbours(caller, memory_id) if detail is not None and detail.thread else []
        return visit.page(
            "memory.html", namespace=namespace, history=history, memory=detail, around=around, kinds=list(Kind)
        )

    async def edit(request: Request, visit: Visit) -> Response:
        """A changed memory is remembered anew, superseding the old one: its history keeps both."""
        namespace, memory_id = request.path_params["namespace"], request.path_params["memory_id"]
        caller, form = visit.caller(namespace), await request.form()
        old = await runtime.memory(caller, memory_id)
        content = str(form.get("content", ""))
        if content.strip() == old.content.strip():
            message = "The words are the same as before: a new version needs new words (tags and kind go with them)."
            return visit.page("error.html", 400, message=message)
        tags = [t.strip() for t in str(form.get("tags", "")).split(",") if t.strip()]
        # What the form does not show goes on: importance, when it happened, metadata, and its time to live.
        options = {
            "kind": str(form.get("kind", old.kind.value)),
            "tags": tags,
            "supersedes": [memory_id],
            "importance": old.importance,
            "occurred_at": old.occurred_at.isoformat() if old.occurred_at else None,
            "metadata": old.metadata,
            # An expired memory (not yet purged) given new words lives on, without a time limit.
            "expires_at": old.expires_at.isoformat() if old.expires_at and old.expires_at > datetime.now(UTC) else None,
        }
        newer = await runtime.remember(caller, content, **options)
        return RedirectResponse(f"/n/{quote(namespace)}/m/{newer.id}", status_code=303)

    async def forget(request: Request, visit: Visit) -> Response:
        namespace = request.path_params["namespace"]
        form = await request.form()
        ids = [str(i) for i in form.getlist("id")]
        if not ids:
            return visit.page("error.html", 400, message="Choose at least one memory to forget.")
        caller = visit.caller(namespace)
        if form.get("confirm") != "yes":  # first what would go, for the person to check
            planned = await runtime.forget(caller, ids, dry_run=True)
            return visit.page("forget.html", namespace=namespace, planned=planned)
        done = await runtime.forget(caller, ids)
        return RedirectResponse(f"/n/{quote(namespace)}?forgot={len(done.forgotten)}", status_code=303)

    async def overview(request: Request, visit: Visit) -> Response:
        namespace = request.path_params["namespace"]
        seen = await runtime.overview(visit.caller(namespace))
        charts = [
            ("By kind", _chart(seen.months, seen.by_kind)),
            ("By the host that remembered them", _chart(seen.months, seen.by_source)),
        ]
        return visit.page("overview.html", namespace=namespace, seen=seen, charts=charts)

    async def export(request: Request, visit: Visit) -> Response:
        namespace = request.path_params["namespace"]
        return await export_response(runtime, visit.caller(namespace), namespace)

    async def import_(request: Request, visit: Visit) -> Response:
        namespace = request.path_params["namespace"]
        form = await request.form()
        report = await import_upload(
            runtime, visit.caller(namespace), form.get("file"), skip_bad=form.get("skip_bad") == "yes"
        )
        return visit.page("imported.html", namespace=namespace, report=report)

    return [
        Route("/", home, methods=["GET"]),
        Route("/signin", sign_in, methods=["POST"]),
        Route("/signin/{code}", follow_link, methods=["GET"]),
        Route("/signout", signed_in(sign_out, writes=True), methods=["POST"]),
        Route("/n/{namespace}", signed_in(memories), methods=["GET"]),
        Route("/n/{namespace}/m/{memory_id}", signed_in(memory), methods=["GET"]),
        Route("/n/{namespace}/m/{memory_id}/edit", signed_in(edit, writes=True), methods=["POST"]),
        Route("/n/{namespace}/forget", signed_in(forget, writes=True), methods=["POST"]),
        Route("/n/{namespace}/overview", signed_in(overview), methods=["GET"]),
        Route("/n/{namespace}/export", signed_in(export), methods=["GET"]),
        Route("/n/{namespace}/import", signed_in(import_, writes=True, largest=MAX_UPLOAD), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(_FILES / "static")), name="static"),
    ]


def add_dashboard_tool(mcp: MCPServer, sessions: WebSessions, url: str | None) -> None:
    """`dashboard_link`, which `mcp-memory dashboard` calls over the owner's socket (listed to the CLI only)."""

    @mcp.tool(annotations=ToolAnnotations(title="Dashboard link", read_only_hint=True))
    async def dashboard_link() -> DashboardLink:
        """A one-time link that signs this machine's user in to the server's web pages (`mcp-memory dashboard`)."""
        principal = socket_principal.get()
        if principal is None:  # an HTTP caller signs in with its own token instead
            raise ToolError("sign-in links are for this machine's terminal: sign in on the page with a token")
        if url is None:
            raise ToolError("this server serves no HTTP, so no web pages: start it with `mcp-memory serve`")
        return DashboardLink(url=f"{url}/signin/{sessions.link(principal)}", expires_in=int(LINK_LASTS))


def _chart(months: list[str], series: list[Series]) -> dict[str, Any]:
    """Stacked bars, one a month, as SVG geometry: each series a colour (the eighth and later share one)."""
    named = series[: len(COLOURS) - 1]
    if len(series) > len(named):
        rest = [sum(s.counts[n] for s in series[len(named) :]) for n in range(len(months))]
        named = [*named, Series(name="others", counts=rest)]
    tallest = max([sum(s.counts[n] for s in named) for n in range(len(months))] or [0]) or 1
    width = CHART_WIDTH / max(len(months), 1)
    bars = []
    for n, month in enumerate(months):
        top, pieces = float(CHART_HEIGHT), []
        for colour, one in zip(COLOURS, named, strict=False):
            height = CHART_HEIGHT * one.counts[n] / tallest
            if one.counts[n]:
                top -= height
                pieces.append({"y": top, "height": height, "colour": colour, "label": f"{one.name}: {one.counts[n]}"})
        bars.append({"x": n * width + 2, "width": max(width - 4, 1), "month": month, "pieces": pieces})
    legend = [
        {"name": one.name, "colour": colour, "total": sum(one.counts)}
        for colour, one in zip(COLOURS, named, strict=False)
    ]
    return {"bars": bars, "legend": legend, "width": CHART_WIDTH, "height": CHART_HEIGHT}


def _sign_in_page(request: Request, error: str | None = None) -> Response:
    """The sign-in form; with `error`, why the last attempt failed (401)."""
    response = TEMPLATES.TemplateResponse(request, "signin.html", {"error": error}, status_code=401 if error else 200)
    return guarded(response)


def guarded(response: Response) -> Response:
    """A page no other site may frame (a click on "Forget them" under a decoy), nor any cache keep."""
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'; default-src 'self'"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"  # "no-referrer" makes a form's Origin "null"
    return response


def _oversized(request: Request, largest: int) -> Response | None:
    """A refusal for a request body over `largest` bytes, or without its length, before any of it is read."""
    length = request.headers.get("content-length", "")
    if not (length.isascii() and length.isdigit()):
        return PlainTextResponse("a form must say its length", status_code=411)
    if int(length) > largest:
        return PlainTextResponse(f"this form is over {largest:,} bytes", status_code=413)
    return None


def _with(asked: Any, **changed: str) -> str:
    """This page's query string with some parameters changed."""
    return urlencode({**dict(asked), **changed})


def _signed_in_response(made: tuple[str, WebSession] | None) -> Response:
    assert made is not None
    response = RedirectResponse("/", status_code=303)
    set_cookie(response, made[0])
    return response
