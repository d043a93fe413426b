"""The owner's HTTP face: every route behind Host and Origin checks, the MCP endpoint behind tokens.

A web page the user visits can send requests to 127.0.0.1, and DNS rebinding can make its own
name resolve there; so a request whose Host or Origin is not this server's own address is refused
(421 / 403) before anything else looks at it, for `/mcp` and every other route alike.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_memory.core.config import Settings

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def http_url(host: str, port: int) -> str:
    """The MCP endpoint's URL for a bind address; a wildcard bind is reached on this machine by loopback."""
    bare = host.strip("[]")
    if _is_unspecified(bare):
        bare = "::1" if ":" in bare else "127.0.0.1"
    return f"http://[{bare}]:{port}/mcp" if ":" in bare else f"http://{bare}:{port}/mcp"


def transport_security(settings: Settings, port: int) -> TransportSecuritySettings:
    """This server's own addresses, on its port, plus those the settings add."""
    names = list(LOOPBACK_NAMES)
    host = settings.host.strip("[]")
    # A wildcard bind (0.0.0.0, ::) has no name of its own: the settings must say how clients reach it.
    if not is_loopback(host) and not _is_unspecified(host):
        names.append(f"[{host}]" if ":" in host else host)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:{port}" for name in names] + settings.allowed_hosts,
        allowed_origins=[f"http://{name}:{port}" for name in names] + settings.allowed_origins,
    )


def build_http_app(mcp: MCPServer, settings: Settings, port: int, pages: Sequence[BaseRoute] = ()) -> ASGIApp:
    """`/mcp`, and the web `pages` beside it, behind the Host and Origin guard."""
    # The guard checks Host and Origin once, for every route; the MCP transport need not check them again.
    checked = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = mcp.streamable_http_app(
        host=settings.host, transport_security=checked, max_request_body_size=settings.max_body_bytes
    )
    app.router.routes.extend(pages)
    return HostOriginGuard(app, transport_security(settings, port))


class HostOriginGuard:
    """Refuses, on every route, a request that names another host or comes from another origin."""

    def __init__(self, app: ASGIApp, security: TransportSecuritySettings) -> None:
        self._app = app
        self._check = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = await self._check.validate_request(Request(scope), is_post=False)
            if refused is not None:
                return await refused(scope, receive, send)
        await self._app(scope, receive, send)


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False
