"""Who is calling: the namespaces a caller may use, and whether it may write.

A front end resolves its connection into a `Principal` once (`identity.py`) and hands a `Caller`
to the runtime, which enforces it once (`runtime.MemoryRuntime`). Nothing here knows MCP or HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mcp_memory.core.errors import AccessDenied
from mcp_memory.core.validation import check_namespace


@dataclass(frozen=True)
class Principal:
    """A token, the owner's socket, or an open server: what it may use and do."""

    name: str
    default_namespace: str
    namespaces: frozenset[str] | None = None  # None: every namespace
    can_write: bool = True

    @classmethod
    def granted(cls, name: str, namespaces: Iterable[str], *, read_only: bool = False) -> Principal:
        """A token's principal; its first namespace is the one used when a request names none."""
        ordered = list(namespaces)
        return cls(name=name, default_namespace=ordered[0], namespaces=frozenset(ordered), can_write=not read_only)

    def namespace(self, requested: str | None) -> str:
        """The namespace a request works in; naming one this principal does not hold is refused, never replaced."""
        chosen = check_namespace(requested or self.default_namespace)
        if not self.sees(chosen):
            held = ", ".join(sorted(self.namespaces or ()))
            raise AccessDenied(
                f"the token {self.name!r} does not grant namespace {chosen!r}; it grants: {held}. "
                "Name one of those in the Mcp-Memory-Namespace header, or use a token for that namespace"
            )
        return chosen

    def sees(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces

    def require_write(self, action: str) -> None:
        if not self.can_write:
            raise AccessDenied(
                f"the token {self.name!r} is read-only: it may recall and read, not {action}. "
                "Ask the user to remember or forget this with a token that may write"
            )


@dataclass(frozen=True)
class Caller:
    """One request: who makes it, the namespace it names (if any), and the host that sends it."""

    principal: Principal
    requested_namespace: str | None = None
    source: str = "unknown"

    def namespace(self) -> str:
        """The namespace this request works in; AccessDenied if the principal does not hold it."""
        return self.principal.namespace(self.requested_namespace)
