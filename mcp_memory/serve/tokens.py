"""Access tokens for HTTP hosts: created and revoked from the terminal, only their hashes kept.

A token is 256 random bits, so a plain SHA-256 of it is enough to store (no password hashing is
needed against guessing). The file lives in the data directory, readable by its user alone; the
server rereads it whenever it changes, so a revoked token stops working at once, without a restart.
Servers that share a Chroma server keep their tokens there instead (`shared_tokens.py`): `token_book`
picks the place.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from filelock import FileLock
from pydantic import BaseModel, Field, ValidationError

from mcp_memory.core.errors import InvalidInput, MemoryServerError, NotFound
from mcp_memory.core.principal import Principal
from mcp_memory.core.validation import check_namespace

if TYPE_CHECKING:
    from mcp_memory.core.config import Settings

PREFIX = "mcpm_"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_TOKEN_CHARS = 256


class TokenRecord(BaseModel):
    """What is kept of a token: never the token itself."""

    name: str
    sha256: str
    namespaces: list[str] = Field(min_length=1)
    read_only: bool = False
    created_at: datetime

    def principal(self) -> Principal:
        return Principal.granted(self.name, self.namespaces, read_only=self.read_only)

    @property
    def key(self) -> str:
        """Tells this token from an earlier one of the same name (an HTTP session is bound to it)."""
        return f"{self.name}#{self.sha256[:16]}"


class TokenBook(Protocol):
    """Where tokens are kept: a file in the data directory (`TokenStore`), or the shared Chroma server's."""

    def create(self, name: str, namespaces: Sequence[str], *, read_only: bool = False) -> str: ...

    def create_first(self, name: str, namespaces: Sequence[str]) -> str | None: ...

    def records(self) -> list[TokenRecord]: ...

    def revoke(self, name: str) -> TokenRecord: ...

    def authenticate(self, token: str) -> TokenRecord | None: ...


class _TokenFile(BaseModel):
    version: int = 1
    tokens: list[TokenRecord] = Field(default_factory=list)


class TokenStore:
    """`tokens.json` in the data directory; several processes may create and revoke at once."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "tokens.json"
        self._lock = FileLock(data_dir / "tokens.lock")
        self._seen: bytes | None = None  # the file as last parsed
        self._by_digest: dict[str, TokenRecord] = {}
        self._read_lock = threading.Lock()

    def create(self, name: str, namespaces: Sequence[str], *, read_only: bool = False) -> str:
        """A new token for `namespaces` (the first is its default); returned once, stored as a hash."""
        token, record = new_record(name, namespaces, read_only=read_only)
        with self._lock:
            stored = self._load()
            if any(t.name == name for t in stored.tokens):
                raise InvalidInput(f"a token named {name!r} exists: revoke it first, or choose another name")
            stored.tokens.append(record)
            self._save(stored)
        return token

    def locked(self) -> FileLock:
        """The lock every change to the file is made under (for moving the file elsewhere)."""
        return self._lock

    def create_first(self, name: str, namespaces: Sequence[str]) -> str | None:
        """A token, only if none was ever made here: revoking every token later keeps HTTP closed."""
        with self._lock:
            if self.path.exists():
                return None
            return self.create(name, namespaces)

    def records(self) -> list[TokenRecord]:
        """Every token's record, oldest first."""
        return self._load().tokens

    def revoke(self, name: str) -> TokenRecord:
        """Remove a token; a server that reads this file refuses it from its next request on."""
        with self._lock:
            stored = self._load()
            found = [t for t in stored.tokens if t.name == name]
            if not found:
                raise NotFound(f"no token named {name!r}: `mcp-memory token list` shows the names")
            stored.tokens = [t for t in stored.tokens if t.name != name]
            self._save(stored)
        return found[0]

    def authenticate(self, token: str) -> TokenRecord | None:
        """The record of a valid token, or None.

        The file is read on every call (it is small) and parsed again only when its bytes changed:
        no timestamp can hide a revocation.
        """
        if (hashed := digest(token)) is None:
            return None
        with self._read_lock:
            raw = self._read()
            if raw != self._seen:
                self._by_digest = {t.sha256: t for t in self._parse(raw).tokens}
                self._seen = raw
            return self._by_digest.get(hashed)

    def _load(self) -> _TokenFile:
        return self._parse(self._read())

    def _read(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise MemoryServerError(f"cannot read {self.path} ({exc.strerror}): fix or delete it") from exc

    def _parse(self, raw: bytes) -> _TokenFile:
        if not raw:
            return _TokenFile()
        try:
            return _TokenFile.model_validate_json(raw)
        except ValidationError as exc:
            raise MemoryServerError(f"{self.path} is damaged ({exc.error_count()} errors): fix or delete it") from exc

    def _save(self, stored: _TokenFile) -> None:
        # Written whole and renamed into place, so a reader never sees half a file; mkstemp makes it 0600.
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(stored.model_dump_json(indent=2))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        # The rename itself is durable only once the directory is: a revocation must survive a power cut.
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def new_record(name: str, namespaces: Sequence[str], *, read_only: bool = False) -> tuple[str, TokenRecord]:
    """A new token and what is kept of it, the name and namespaces checked."""
    if not NAME_RE.fullmatch(name):
        raise InvalidInput(f"invalid token name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    if not namespaces:
        raise InvalidInput("a token needs at least one namespace: pass --namespace NS")
    granted = list(dict.fromkeys(check_namespace(ns) for ns in namespaces))
    token = PREFIX + secrets.token_urlsafe(32)
    record = TokenRecord(
        name=name, sha256=_digest(token), namespaces=granted, read_only=read_only, created_at=datetime.now(UTC)
    )
    return token, record


def digest(token: str) -> str | None:
    """What is kept of a token, to look it up by; None for what cannot be one of ours."""
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_CHARS:
        return None
    return _digest(token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_book(settings: Settings) -> TokenBook:
    """Where the tokens are: with the memories on a Chroma server, so that every server sharing them
    agrees; else the data directory's file."""
    if settings.chroma_url:
        from mcp_memory.serve.shared_tokens import SharedTokens
        from mcp_memory.storage.chroma_store import ChromaServer

        server = ChromaServer(settings.chroma_url, settings.chroma_token, settings.chroma_ca_file)
        shared = SharedTokens(server.client())
        if (own := TokenStore(settings.data_dir)).path.exists():
            with own.locked():
                if own.path.exists():
                    shared.adopt(own)
        return shared
    return TokenStore(settings.data_dir)
