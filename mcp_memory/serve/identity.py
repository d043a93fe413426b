"""The one place where a connection becomes a principal.

- The owner's unix socket (mode 0600, the same OS user) is trusted: every namespace, may write;
  its hello line names the namespace.
- Over HTTP, a bearer token (`tokens.py`) is checked by the SDK's bearer middleware on every
  request, through `TokenVerifier`; the token's principal travels with the request.
- `serve --no-auth` (loopback only) serves HTTP as an open principal, as the socket is.

Tools, resources and web pages ask `Identity.caller`; none decides access on its own.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

import anyio.to_thread
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from pydantic import ConfigDict
from starlette.requests import Request

from mcp_memory.core.errors import AccessDenied, MemoryServerError
from mcp_memory.core.principal import Caller, Principal
from mcp_memory.serve.tokens import TokenBook

log = logging.getLogger(__name__)
NAMESPACE_HEADER = "mcp-memory-namespace"
READ, WRITE = "memory:read", "memory:write"

# The principal of a socket connection, bound by the owner for every request on that connection.
socket_principal: ContextVar[Principal | None] = ContextVar("socket_principal", default=None)


class MemoryAccess(AccessToken):
    """The SDK's access token, carrying the principal its token grants."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    principal: Principal


class TokenVerifier:
    """The SDK's `TokenVerifier` over our token file: consulted on every HTTP request."""

    def __init__(self, tokens: TokenBook) -> None:
        self._tokens = tokens

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            # Off the event loop: on a shared Chroma server the tokens are a request away.
            record = await anyio.to_thread.run_sync(self._tokens.authenticate, token)
        except MemoryServerError:  # a damaged token file admits nobody; the log says why
            log.exception("cannot read the tokens")
            return None
        if record is None:
            return None
        scopes = [READ] if record.read_only else [READ, WRITE]
        # The SDK binds each HTTP session to client_id: another token, even of the same name, cannot use it.
        return MemoryAccess(token="", client_id=record.key, scopes=scopes, principal=record.principal())


class Identity:
    """Resolves who is calling, for the MCP tools and any HTTP route of the owner."""

    def __init__(self, default_namespace: str, tokens: TokenBook | None) -> None:
        self._default = default_namespace
        self.tokens = tokens  # None: HTTP is open (`--no-auth`)

    @property
    def verifier(self) -> TokenVerifier | None:
        return TokenVerifier(self.tokens) if self.tokens is not None else None

    def socket(self, hello: dict[str, Any]) -> Principal:
        """The principal of a socket connection, from its hello line; ValueError if it names no namespace."""
        named = hello.get("namespace")
        if named is not None and not isinstance(named, str):
            raise ValueError("the hello line's namespace must be a string")
        return Principal(name="local", default_namespace=named or self._default)

    def caller(self, request: Request | None, source: str = "unknown") -> Caller:
        """Who makes this request: the socket's principal, or the HTTP request's token."""
        if (bound := socket_principal.get()) is not None:
            return Caller(bound, None, source)
        if request is None:
            raise AccessDenied("this request came with no connection to authorise it")
        return Caller(self._http_principal(request), _requested_namespace(request), source)

    def open_principal(self) -> Principal:
        """Who an HTTP caller is on a server without tokens (`--no-auth`, loopback only): as the socket."""
        return Principal(name="open", default_namespace=self._default)

    def _http_principal(self, request: Request) -> Principal:
        user = request.scope.get("user")
        if isinstance(user, AuthenticatedUser) and isinstance(user.access_token, MemoryAccess):
            return user.access_token.principal
        if self.tokens is None:
            return self.open_principal()
        # The bearer middleware refuses such requests before they reach a tool; never fall through to open.
        raise AccessDenied("this request carries no valid token: send 'Authorization: Bearer <token>'")


def _requested_namespace(request: Request) -> str | None:
    """The namespace an HTTP request names, by header or `?namespace=`; two different names are refused."""
    header, query = request.headers.getlist(NAMESPACE_HEADER), request.query_params.getlist("namespace")
    named = set(header + query)
    if len(named) > 1:
        raise AccessDenied(
            f"this request names several namespaces ({', '.join(sorted(named))}): name one, "
            "in the Mcp-Memory-Namespace header or in ?namespace="
        )
    return named.pop() if named else None
