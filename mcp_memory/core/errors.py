"""The project's errors: one base class, raised from library code, translated at the edges."""

from __future__ import annotations


class MemoryServerError(Exception):
    """Base of every error mcp-memory raises on purpose; its message is meant for a person."""


class InvalidInput(MemoryServerError):
    """The caller's arguments cannot be accepted; the message says what to change."""


class NotFound(MemoryServerError):
    """None of the requested memories exist in the namespace."""


class ModelMismatch(MemoryServerError):
    """A namespace was embedded with a different model than the one this server runs."""


class StorageError(MemoryServerError):
    """The vector store failed; nothing was changed by the failing call."""


class EmbeddingError(MemoryServerError):
    """The embedding model could not be loaded or could not embed."""


class AlreadyRunning(MemoryServerError):
    """Another process already owns the data directory."""


class OwnerUnavailable(MemoryServerError):
    """No owner answers on the data directory's socket, and none could be started."""


class ShuttingDown(MemoryServerError):
    """The server is stopping and takes no new calls."""


class AccessDenied(MemoryServerError):
    """The caller's token does not grant what it asked for: another namespace, or a write when read-only."""
