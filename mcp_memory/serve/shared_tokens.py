"""`SharedTokens`: the access tokens of every memory server sharing one Chroma server, kept in it.

Servers that share memories must agree on who may read and write them: a token made, or revoked, with
any of them is valid, or refused, on all from their next request. One record per token in the Chroma
collection `mcp-memory-tokens`, its id the token's name (Chroma keeps the first of two adds of one id,
so two servers cannot both make a name); as in the token file, only the token's SHA-256 is kept. The
tokens of a server's file are moved here the first time it is pointed at the Chroma server.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chromadb.api import ClientAPI

from mcp_memory.core.errors import InvalidInput, NotFound
from mcp_memory.serve.tokens import TokenRecord, TokenStore, digest, new_record
from mcp_memory.storage.chroma_coordination import first_added, record_collection
from mcp_memory.storage.chroma_errors import translated

TOKENS = "mcp-memory-tokens"
FIRST = "~first"  # a mark that a token was made (no token name starts so)
MOVED = "tokens.json.moved-to-chroma"
log = logging.getLogger(__name__)


class SharedTokens:
    def __init__(self, client: ClientAPI) -> None:
        with translated("open the tokens"):
            self._tokens = record_collection(client, TOKENS)

    def create(self, name: str, namespaces: Sequence[str], *, read_only: bool = False) -> str:
        token = self._made(name, namespaces, read_only)
        with translated("store the token"):
            first_added(self._tokens, FIRST, {"mark": "made"})  # any token made counts as the first
        return token

    def create_first(self, name: str, namespaces: Sequence[str]) -> str | None:
        """A token, only if no server sharing the store ever made one: revoking every token keeps HTTP closed."""
        mark = secrets.token_hex(16)
        with translated("store the token"):
            if first_added(self._tokens, FIRST, {"mark": mark}).get("mark") != mark:
                return None
        return self._made(name, namespaces, False)

    def adopt(self, tokens: TokenStore) -> None:
        """Move the tokens of a data directory's file here, once: the server now shares its tokens. A name
        already here keeps the token it has; the file is renamed, so that nothing revoked here returns."""
        records = tokens.records()
        with translated("store the token"):  # a file, even an empty one, means the first token was made
            first_added(self._tokens, FIRST, {"mark": "made"})
        for record in records:
            try:
                self._keep(record)
            except InvalidInput:
                log.warning(
                    "token %r of %s is not moved: the shared store has one of that name", record.name, tokens.path
                )
        tokens.path.rename(tokens.path.with_name(MOVED))
        log.warning(
            "moved %d tokens from %s to the Chroma server (the file is now %s)", len(records), tokens.path, MOVED
        )

    def _made(self, name: str, namespaces: Sequence[str], read_only: bool) -> str:
        token, record = new_record(name, namespaces, read_only=read_only)
        self._keep(record)
        return token

    def _keep(self, record: TokenRecord) -> None:
        with translated("store the token"):
            kept = first_added(self._tokens, record.name, _metadata(record))
        if kept.get("sha256") != record.sha256:
            raise InvalidInput(f"a token named {record.name!r} exists: revoke it first, or choose another name")

    def records(self) -> list[TokenRecord]:
        with translated("read the tokens"):
            found = self._tokens.get(include=["metadatas"])
        records = [_record(i, m) for i, m in zip(found["ids"], found["metadatas"] or [], strict=True) if i != FIRST]
        return sorted(records, key=lambda r: r.created_at)

    def revoke(self, name: str) -> TokenRecord:
        with translated("revoke the token"):
            found = self._tokens.get(ids=[name], include=["metadatas"])
            if name == FIRST or not found["ids"]:
                raise NotFound(f"no token named {name!r}: `mcp-memory token list` shows the names")
            record = _record(name, (found["metadatas"] or [])[0])
            # That token only: one made anew under the name meanwhile stays.
            self._tokens.delete(ids=[name], where={"sha256": record.sha256})
        return record

    def authenticate(self, token: str) -> TokenRecord | None:
        """Read from the store on every call: a token revoked through another server is refused at once."""
        if (hashed := digest(token)) is None:
            return None
        with translated("read the tokens"):
            found = self._tokens.get(where={"sha256": hashed}, include=["metadatas"])
        rows = zip(found["ids"], found["metadatas"] or [], strict=True)
        return next((_record(i, m) for i, m in rows if i != FIRST), None)


def _metadata(record: TokenRecord) -> dict[str, Any]:
    return {
        "sha256": record.sha256,
        "namespaces": json.dumps(record.namespaces),
        "read_only": record.read_only,
        "created_at": record.created_at.isoformat(),
    }


def _record(name: str, metadata: Any) -> TokenRecord:
    return TokenRecord(
        name=name,
        sha256=metadata["sha256"],
        namespaces=json.loads(metadata["namespaces"]),
        read_only=bool(metadata["read_only"]),
        created_at=datetime.fromisoformat(metadata["created_at"]),
    )
