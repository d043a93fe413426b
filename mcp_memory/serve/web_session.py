"""Signing in to the owner's web pages: a token becomes a session cookie, checked again on every request.

A person signs in with an access token (the same tokens as MCP's). The cookie names a session kept in
this process's memory, never the token; the session keeps the token, so that each request asks the
token book again and a revoked token signs its sessions out at once. Cookies are HttpOnly and
SameSite=Strict; every form that changes something carries the session's CSRF token, compared in
constant time. With `serve --no-auth` the pages are open, as MCP is.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from mcp_memory.core.principal import Principal
from mcp_memory.serve.identity import Identity

COOKIE = "mcp_memory_session"
LASTS = 12 * 3600.0  # seconds a session stays signed in
MAX_SESSIONS = 1000  # the oldest are signed out beyond this many


@dataclass
class WebSession:
    token: str | None  # None on an open server
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    started: float = field(default_factory=time.monotonic)


class WebSessions:
    def __init__(self, identity: Identity) -> None:
        self._identity = identity
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        """Whether the server takes no tokens (`--no-auth`): every visitor is the open principal."""
        return self._identity.tokens is None

    def sign_in(self, token: str | None) -> tuple[str, WebSession] | None:
        """A new session for a valid token (any visitor, on an open server); None for an invalid one."""
        if not self.open and (token is None or self._principal(token) is None):
            return None
        sid, session = secrets.token_urlsafe(32), WebSession(None if self.open else token)
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                del self._sessions[next(iter(self._sessions))]
            self._sessions[sid] = session
        return sid, session

    def sign_out(self, request: Request) -> None:
        with self._lock:
            self._sessions.pop(request.cookies.get(COOKIE, ""), None)

    def of(self, request: Request) -> tuple[WebSession, Principal] | None:
        """The request's session and who it is now, or None: no cookie, an ended session, a revoked token."""
        with self._lock:
            session = self._sessions.get(request.cookies.get(COOKIE, ""))
        if session is None or time.monotonic() - session.started > LASTS:
            return None
        if session.token is None:
            return session, self._identity.open_principal()
        principal = self._principal(session.token)
        return (session, principal) if principal is not None else None

    def _principal(self, token: str) -> Principal | None:
        assert self._identity.tokens is not None
        record = self._identity.tokens.authenticate(token)
        return record.principal() if record is not None else None


def set_cookie(response: Response, sid: str) -> None:
    response.set_cookie(COOKIE, sid, max_age=int(LASTS), httponly=True, samesite="strict", path="/")


def csrf_ok(session: WebSession, sent: object) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), session.csrf.encode())
