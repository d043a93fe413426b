"""Signing in to the owner's web pages: a token becomes a session cookie, checked again on every request.

A person signs in with an access token (the same tokens as MCP's), or follows a one-time link that
`mcp-memory dashboard` asks the owner for over its private socket (this machine's user). The cookie
names a session kept in this process's memory, never the token; the session keeps the token, so that
each request asks the token book again and a revoked token signs its sessions out at once. Cookies
are HttpOnly and SameSite=Strict; every form that changes something carries the session's CSRF
token, compared in constant time. With `serve --no-auth` the pages are open, as MCP is.
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
LINK_LASTS = 120.0  # seconds a one-time sign-in link stays valid
# A link's session holds every namespace and no token to revoke, and a cookie of 127.0.0.1 reaches every
# port of it: such a session lasts an hour.
LINKED_LASTS = 3600.0
PER_SIGNER = 20  # sessions one token (or the machine's user) keeps; its oldest is signed out beyond
MAX_SESSIONS = 10_000


@dataclass
class WebSession:
    token: str | None  # checked again on every request; None for a session without one:
    principal: Principal | None = None  # the open server's visitor, or a one-time link's (this machine's user)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    started: float = field(default_factory=time.monotonic)
    lasts: float = LASTS

    open: bool = False  # an open server's visitor: anyone, so no cap of its own

    @property
    def signer(self) -> str | None:
        """Whose session it is, for the cap on sessions each keeps: the token, or the principal's name."""
        if self.open:
            return None
        return self.token or (self.principal.name if self.principal else None)


class WebSessions:
    def __init__(self, identity: Identity) -> None:
        self._identity = identity
        self._sessions: dict[str, WebSession] = {}
        self._links: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        """Whether the server takes no tokens (`--no-auth`): every visitor is the open principal."""
        return self._identity.tokens is None

    def sign_in(self, token: str | None) -> tuple[str, WebSession] | None:
        """A new session for a valid token (any visitor, on an open server); None for an invalid one."""
        if self.open:
            return self._start(WebSession(None, self._identity.open_principal(), open=True))
        if token is None or self._principal(token) is None:
            return None
        return self._start(WebSession(token))

    def link(self, principal: Principal) -> str:
        """A code that signs in once, within `LINK_LASTS` seconds, as `principal` (for `mcp-memory dashboard`)."""
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._links = {c: found for c, found in self._links.items() if now - found[1] <= LINK_LASTS}
            self._links[code] = (principal, now)
        return code

    def redeem(self, code: str) -> tuple[str, WebSession] | None:
        """A session for a sign-in link's code, which then works no more; None for a spent or stale code."""
        with self._lock:
            found = self._links.pop(code, None)
        if found is None or time.monotonic() - found[1] > LINK_LASTS:
            return None
        return self._start(WebSession(None, found[0], lasts=LINKED_LASTS))

    def _start(self, session: WebSession) -> tuple[str, WebSession]:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            # The signer's own oldest goes first: one token's many sign-ins never sign another person out.
            own = [k for k, other in self._sessions.items() if session.signer and other.signer == session.signer]
            for key in own[: max(0, len(own) - PER_SIGNER + 1)]:
                del self._sessions[key]
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
        if session is None or time.monotonic() - session.started > session.lasts:
            return None
        if session.token is None:
            assert session.principal is not None
            return session, session.principal
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
