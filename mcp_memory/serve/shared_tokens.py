"""`SharedTokens`: the access tokens of every memory server sharing one Chroma server, kept in it.

Servers that share memories must agree on who may read and write them: a token made, or revoked, with
any of them is valid, or refused, on all from their next request. One record per token in the Chroma
collection `mcp-memory-tokens`, its id the token's name (Chroma keeps the first of two adds of one id,
so two servers cannot both make a name); as in the token file, only the token's SHA-256 is kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chromadb.api import ClientAPI

from mcp_memory.core.errors import InvalidInput, NotFound
from mcp_memory.serve.tokens import TokenRecord, digest, new_record
from mcp_memory.storage.chroma_coordination import PLACE, translated

TOKENS = "mcp-memory-tokens"
FIRST = "~first"  # a mark that the first token was made (no token name starts so)


class SharedTokens:
    def __init__(self, client: ClientAPI) -> None:
        with translated("open the tokens"):
            self._tokens = client.get_or_create_collection(TOKENS, embedding_function=None)

    def create(self, name: str, namespaces: Sequence[str], *, read_only: bool = False) -> str:
        token, record = new_record(name, namespaces, read_only=read_only)
        with translated("store the token"):
            self._tokens.add(ids=[name], embeddings=PLACE, metadatas=[_metadata(record)])
            kept = self._tokens.get(ids=[name], include=["metadatas"])["metadatas"] or []
        if not kept or kept[0].get("sha256") != record.sha256:
            raise InvalidInput(f"a token named {name!r} exists: revoke it first, or choose another name")
        return token

    def create_first(self, name: str, namespaces: Sequence[str]) -> str | None:
        """A token, only if no server sharing the store ever made one: revoking every token keeps HTTP closed."""
        mark = datetime.now(UTC).isoformat() + name
        with translated("store the token"):
            self._tokens.add(ids=[FIRST], embeddings=PLACE, metadatas=[{"mark": mark}])
            kept = self._tokens.get(ids=[FIRST], include=["metadatas"])["metadatas"] or []
        if not kept or kept[0].get("mark") != mark:
            return None
        return self.create(name, namespaces)

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
            self._tokens.delete(ids=[name])
        return _record(name, (found["metadatas"] or [])[0])

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
