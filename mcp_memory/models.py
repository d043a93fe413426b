"""The memory record and the results the service returns (also the MCP tools' output schemas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Kind(StrEnum):
    """What sort of thing a memory is; retention rules will differ per kind."""

    fact = "fact"
    preference = "preference"
    instruction = "instruction"
    event = "event"
    note = "note"


@dataclass(frozen=True)
class MemoryRecord:
    """One stored memory. The namespace is not a field: it is where the record lives."""

    id: str
    content: str
    kind: Kind
    tags: tuple[str, ...]
    source: str
    created_at: datetime
    content_hash: str
    occurred_at: datetime | None = None
    importance: float | None = None

    @property
    def effective_time(self) -> datetime:
        """When the remembered thing happened if known, else when it was remembered."""
        return self.occurred_at or self.created_at


@dataclass(frozen=True)
class MemoryFilter:
    """Conditions a recalled memory must meet; None means no condition."""

    tags: tuple[str, ...] = ()
    kind: Kind | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class ScoredRecord:
    record: MemoryRecord
    score: float


class SimilarMemory(BaseModel):
    id: str
    content: str
    score: float = Field(description="Cosine similarity to the new memory, 0..1.")


class RememberResult(BaseModel):
    id: str = Field(description="Id of the stored memory; pass it to forget or supersede it later.")
    status: str = Field(description="'created' for a new memory.")
    similar: list[SimilarMemory] = Field(
        description="Closest existing memories in the namespace, best first; empty when none is close."
    )


class RecalledMemory(BaseModel):
    id: str
    content: str
    score: float = Field(description="Relevance to the query, higher is better.")
    kind: Kind
    tags: list[str]
    source: str = Field(description="The host that remembered it (its MCP client name).")
    created_at: datetime
    occurred_at: datetime | None = None


class RecallResult(BaseModel):
    memories: list[RecalledMemory] = Field(description="Matching memories, best first.")


class ForgetResult(BaseModel):
    forgotten: list[str] = Field(description="Ids that were deleted.")
    missing: list[str] = Field(description="Ids that did not exist in this namespace.")


class Stats(BaseModel):
    data_dir: str
    embedding_model: str
    namespaces: dict[str, int] = Field(description="Memory count per namespace.")


class OwnerInfo(BaseModel):
    """How the running owner of a data directory is reached; written to its info file."""

    pid: int
    data_dir: str
    socket: str
    http: str | None = Field(description="Its streamable HTTP endpoint, or None when it serves the socket only.")
    started_at: datetime
    version: str


class OwnerStatus(OwnerInfo):
    ready: bool = Field(description="Whether the model and store are loaded.")
    error: str | None = Field(default=None, description="Why loading failed, if it did.")
    embedding_model: str | None = None
    namespaces: dict[str, int] | None = Field(default=None, description="Memory count per namespace, once ready.")
