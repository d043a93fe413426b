"""Chroma's errors as the project's own, with the action that failed named."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import chromadb

from mcp_memory.core.errors import MemoryServerError, StorageError

log = logging.getLogger(__name__)


@contextmanager
def translated(action: str) -> Iterator[None]:
    try:
        yield
    except MemoryServerError:
        raise
    except chromadb.errors.NotFoundError as exc:  # the namespace was deleted by a concurrent forget
        raise StorageError(f"could not {action}: the namespace was just deleted; call again") from exc
    except Exception as exc:
        log.exception("chroma failed to %s", action)
        raise StorageError(f"could not {action}: {exc}") from exc
