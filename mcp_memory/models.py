"""The memory record and the results the service returns (also the MCP tools' output schemas)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

Scalar = str | int | float | bool


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
    thread: str | None = None
    thread_seq: int | None = None
    metadata: dict[str, Scalar] = field(default_factory=dict)

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

    def matches(self, record: MemoryRecord) -> bool:
        when = record.effective_time
        return (
            set(self.tags) <= set(record.tags)
            and (self.kind is None or record.kind == self.kind)
            and (self.since is None or when >= self.since)
            and (self.until is None or when <= self.until)
        )


class MemoryInput(BaseModel):
    """One memory to remember, before validation; what `remember` and `remember_many` take."""

    content: str
    tags: list[str] = Field(default_factory=list)
    kind: Kind | str = Kind.fact
    importance: float | None = None
    occurred_at: str | None = None
    thread: str | None = None
    metadata: dict[str, Scalar] = Field(default_factory=dict)


@dataclass(frozen=True)
class ScoredRecord:
    record: MemoryRecord
    score: float


class ScoreParts(BaseModel):
    """Why a memory ranked where it did: each retriever's score and rank among the candidates."""

    similarity: float = Field(description="Cosine similarity of meaning, 0..1.")
    keyword: float = Field(description="BM25 score of shared words; 0 when no word is shared.")
    similarity_rank: int
    keyword_rank: int | None = Field(description="Rank among keyword matches; None when no word is shared.")
    fused: float = Field(description="The combined score the ranking uses.")


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
    score: float = Field(description="Relevance to the query, higher is better; the ranking's own scale.")
    similarity: float = Field(description="Cosine similarity of meaning to the query, 0..1; under ~0.3 is weak.")
    kind: Kind
    tags: list[str]
    source: str = Field(description="The host that remembered it (its MCP client name).")
    created_at: datetime
    occurred_at: datetime | None = None
    thread: str | None = None
    metadata: dict[str, Scalar] = Field(default_factory=dict)
    explain: ScoreParts | None = None


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
