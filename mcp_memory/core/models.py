"""The memory record and the results the service returns (also the MCP tools' output schemas)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, Field, PlainSerializer, PlainValidator, WithJsonSchema

Scalar = str | int | float | bool
Shelf = Literal["live", "superseded"]
SHELVES: tuple[Shelf, ...] = ("live", "superseded")
EventName = Literal["created", "reinforced", "updated", "superseded", "forgotten", "imported"]


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
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    supersedes: tuple[str, ...] = ()
    superseded_by: str | None = None
    superseded_at: datetime | None = None
    parts: int = 0  # how many parts a long memory was decomposed into
    part_of: str | None = None  # set on a part: the id of the whole memory
    part: int | None = None  # set on a part: its position in the whole, from 0

    @property
    def effective_time(self) -> datetime:
        """When the remembered thing happened if known, else when it was remembered."""
        return self.occurred_at or self.created_at

    @property
    def memory_id(self) -> str:
        """The id of the memory this record is, or is a part of."""
        return self.part_of or self.id

    def part_ids(self) -> list[str]:
        return [part_id(self.id, n) for n in range(self.parts)]

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def fields(self) -> dict[str, Any]:
        """What every view of a stored memory shows of it (each view's model ignores what it does not hold)."""
        return {
            "id": self.id,
            "content": self.content,
            "kind": self.kind,
            "tags": list(self.tags),
            "source": self.source,
            "created_at": self.created_at,
            "occurred_at": self.occurred_at,
            "updated_at": self.updated_at,
            "importance": self.importance,
            "thread": self.thread,
            "thread_seq": self.thread_seq,
            "metadata": dict(self.metadata),
            "expires_at": self.expires_at,
            "supersedes": list(self.supersedes),
            "superseded_by": self.superseded_by,
            "superseded_at": self.superseded_at,
        }


def part_id(memory_id: str, n: int) -> str:
    """Parts are never addressed by callers: their ids are not valid memory ids."""
    return f"{memory_id}.{n}"


@dataclass(frozen=True)
class MemoryFilter:
    """Conditions a recalled memory must meet; None means no condition."""

    tags: tuple[str, ...] = ()
    kind: Kind | None = None
    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None

    def matches(self, record: MemoryRecord) -> bool:
        when = record.effective_time
        return (
            set(self.tags) <= set(record.tags)
            and (self.kind is None or record.kind == self.kind)
            and (self.since is None or when >= self.since)
            and (self.until is None or when <= self.until)
            and (self.source is None or record.source == self.source)
        )

    @property
    def empty(self) -> bool:
        return self == MemoryFilter()


class MemoryInput(BaseModel):
    """One memory to remember, before validation: what `remember`, `remember_many` and every import take.

    A memory arriving from elsewhere (an export, another tool) keeps its identity: its `id`, when it
    was remembered (`created_at`) and which host wrote it (`source`). Left out, they are a new id,
    now, and the caller's host. The MCP tools never set them: a host cannot forge a source.
    """

    content: str
    id: str | None = None
    created_at: datetime | None = None
    source: str | None = None

    def without_vectors(self) -> MemoryInput:
        """This memory with no embeddings to trust: it has none; a `StoredMemory` drops those it carries."""
        return self

    tags: list[str] = Field(default_factory=list)
    kind: Kind | str = Kind.fact
    importance: float | None = None
    occurred_at: str | None = None
    thread: str | None = None
    metadata: dict[str, Scalar] = Field(default_factory=dict)
    supersedes: list[str] = Field(default_factory=list)
    ttl: str | None = None
    expires_at: str | None = None


@dataclass(frozen=True)
class Usage:
    """How often a memory was recalled or remembered again, and when last: what reinforcement reads."""

    access_count: int = 0
    last_seen_at: datetime | None = None


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
    relevance: float = Field(default=0.0, description="The two retrievers' scores fused.")
    retention: float = Field(
        default=0.0, description="What recency, importance and reinforcement added to the relevance (may be negative)."
    )
    fused: float = Field(description="The score the ranking uses: relevance plus retention.")


class SimilarMemory(BaseModel):
    id: str
    content: str
    score: float = Field(description="Cosine similarity to the new memory, 0..1.")


class RememberResult(BaseModel):
    id: str = Field(description="Id of the memory; pass it to forget, or to supersedes when it changes later.")
    status: Literal["created", "similar", "duplicate"] = Field(
        description="'created': a new memory. 'similar': a new memory, but a nearly identical one exists (first in "
        "`similar`): if both say the same, forget the new id; if the new one replaces the old, remember it "
        "again with supersedes=[old id]. 'duplicate': the same words were already remembered; nothing new was "
        "stored, and `id` is the existing memory, now reinforced and given any new tags or metadata."
    )
    similar: list[SimilarMemory] = Field(
        description="Closest existing memories in the namespace, best first; empty when none is close."
    )
    superseded: list[str] = Field(default_factory=list, description="Ids this memory superseded.")
    parts: int = Field(default=0, description="How many parts a long memory was indexed as; 0 when short.")


class RememberManyResult(BaseModel):
    memories: list[RememberResult] = Field(description="What became of each memory, in the order given.")


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
    importance: float | None = None
    expires_at: datetime | None = None
    access_count: int = Field(default=0, description="Times it was recalled or remembered again before this recall.")
    last_seen_at: datetime | None = Field(default=None, description="When it was last recalled or remembered again.")
    supersedes: list[str] = Field(default_factory=list, description="Older memories this one replaced.")
    superseded_by: str | None = Field(
        default=None, description="Set only with include_superseded: the memory that replaced this one."
    )
    matched_part: str | None = Field(
        default=None, description="For a long memory: the passage that matched the query. `content` is the whole."
    )
    explain: ScoreParts | None = None

    @property
    def closeness(self) -> str:
        """Its similarity of meaning to the query, as a person reads it (the score is the ranking's own scale:
        a lone match scores 0)."""
        if self.similarity >= 0.6:
            return "close in meaning"
        if self.similarity >= 0.4:
            return "related in meaning"
        return "loosely related" if self.similarity >= 0.25 else "distant in meaning"


class RecallResult(BaseModel):
    memories: list[RecalledMemory] = Field(description="Matching memories, best first.")


class ForgottenMemory(BaseModel):
    id: str
    content: str
    kind: Kind
    created_at: datetime


class ForgetResult(BaseModel):
    forgotten: list[str] = Field(description="Ids that were deleted (with dry_run: that would be).")
    missing: list[str] = Field(default_factory=list, description="Ids that did not exist in this namespace.")
    dry_run: bool = False
    memories: list[ForgottenMemory] = Field(
        default_factory=list, description="With dry_run: what would be forgotten, for you to check."
    )


class HistoryEvent(BaseModel):
    at: datetime
    event: EventName
    detail: dict[str, Scalar | list[str]] = Field(
        default_factory=dict, description="Who and what, never the content: source, kind, the other memory's id."
    )


class MemoryHistory(BaseModel):
    id: str
    state: Literal["live", "superseded", "forgotten", "unknown"]
    content: str | None = Field(description="The memory's content while it exists; None once forgotten.")
    events: list[HistoryEvent] = Field(description="Oldest first.")


def _vector_in(value: object) -> np.ndarray:
    """A vector from base64 of little-endian float32s, or from a list of numbers; finite numbers only."""
    try:
        if isinstance(value, str):
            vector = np.frombuffer(base64.b64decode(value, validate=True), dtype="<f4")
        elif isinstance(value, np.ndarray | list | tuple) and all(not isinstance(x, bool | str) for x in value):
            vector = np.asarray(value, dtype="<f4")
        else:
            raise ValueError("a vector is a base64 string of float32s or a list of numbers")
    except (TypeError, binascii.Error) as exc:
        raise ValueError(f"not a vector: {exc}") from exc
    if vector.ndim != 1 or not np.isfinite(vector).all():
        raise ValueError("a vector is one row of finite numbers")
    return vector


def _vector_out(value: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(value, dtype="<f4").tobytes()).decode("ascii")


# An embedding as Chroma keeps it (float32), written as base64 of its little-endian bytes: exact, a quarter
# of the size of decimal numbers, and read without making a Python number of each of its floats.
Vector = Annotated[
    np.ndarray,
    PlainValidator(_vector_in),
    PlainSerializer(_vector_out, return_type=str),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "contentEncoding": "base64"}, {"type": "array", "items": {"type": "number"}}]}
    ),
]


class StoredMemory(MemoryInput):
    """A memory with everything the server knows of it: one line of an export, and what an import restores.

    Without `history`, an import logs one 'imported' event; without vectors (or with another
    model's), it embeds again. Parts of a long memory are not carried: they follow from its content.
    """

    updated_at: datetime | None = None
    thread_seq: int | None = None
    superseded_by: str | None = None
    superseded_at: datetime | None = None
    access_count: int = 0
    last_seen_at: datetime | None = None
    history: list[HistoryEvent] | None = None
    vector: Vector | None = None
    part_vectors: list[Vector] | None = None

    def without_vectors(self) -> StoredMemory:
        if self.vector is None and self.part_vectors is None:
            return self
        return self.model_copy(update={"vector": None, "part_vectors": None})


class ExportPage(BaseModel):
    """Some memories of a namespace, and where the next page starts (None after the last)."""

    memories: list[StoredMemory]
    next: str | None = None
    model: str = Field(default="", description="The embedding model the vectors were made with.")


class SkippedMemory(BaseModel):
    index: int = Field(description="Its position in the batch sent, from 0.")
    id: str | None = None
    cause: Literal["invalid", "expired", "duplicate"] = Field(
        description="'invalid': it cannot be stored as it is; 'expired': its time to live is over; "
        "'duplicate': its words are already remembered, or its id came earlier in the batch."
    )
    reason: str


class ImportResult(BaseModel):
    imported: list[str] = Field(default_factory=list, description="Ids stored by this batch.")
    present: list[str] = Field(default_factory=list, description="Ids already in the namespace: left as they are.")
    skipped: list[SkippedMemory] = Field(
        default_factory=list, description="Memories not stored: duplicates of existing ones, expired, or invalid."
    )
    embedded: int = Field(default=0, description="Texts embedded by this batch (0 when every vector was carried).")


class Stats(BaseModel):
    data_dir: str
    embedding_model: str
    namespaces: dict[str, int] = Field(description="Memory count per namespace.")


class _Owner(BaseModel):
    pid: int
    http: str | None = Field(description="Its streamable HTTP endpoint, or None when it serves the socket only.")
    started_at: datetime
    version: str


class OwnerInfo(_Owner):
    """How the running owner of a data directory is reached; written to its info file."""

    data_dir: str
    socket: str


class DashboardLink(BaseModel):
    """A one-time sign-in link to the owner's web pages (`mcp-memory dashboard`)."""

    url: str
    expires_in: int = Field(description="Seconds it stays valid; it works once.")


class OwnerStatus(_Owner):
    """What `memory://status` says: where the data lives is shown to local callers only."""

    data_dir: str | None = Field(default=None, description="Where the data lives.")
    socket: str | None = Field(default=None, description="The owner's unix socket.")
    ready: bool = Field(description="Whether the model and store are loaded.")
    error: str | None = Field(default=None, description="Why loading failed, if it did.")
    embedding_model: str | None = None
    namespaces: dict[str, int] | None = Field(default=None, description="Memory count per namespace, once ready.")


class MemoryDetail(BaseModel):
    """One memory with every field and its use: what `memory://memories/{id}` and `memory://recent` show."""

    id: str
    state: Shelf = Field(description="'live': recalled as usual; 'superseded': replaced by `superseded_by`.")
    content: str
    kind: Kind
    tags: list[str]
    source: str = Field(description="The host that remembered it (its MCP client name).")
    created_at: datetime = Field(description="When it was remembered.")
    occurred_at: datetime | None = Field(default=None, description="When the remembered thing happened, if given.")
    updated_at: datetime | None = Field(default=None, description="When it last took on new tags or metadata.")
    importance: float | None = None
    thread: str | None = None
    thread_seq: int | None = Field(default=None, description="Its place in its thread, from 1.")
    metadata: dict[str, Scalar] = Field(default_factory=dict)
    expires_at: datetime | None = None
    supersedes: list[str] = Field(default_factory=list, description="Older memories this one replaced.")
    superseded_by: str | None = Field(default=None, description="The memory that replaced this one, if any.")
    superseded_at: datetime | None = None
    parts: int = Field(default=0, description="How many parts a long memory is indexed as; 0 when short.")
    access_count: int = Field(default=0, description="Times it was recalled or remembered again.")
    last_seen_at: datetime | None = Field(default=None, description="When it was last recalled or remembered again.")


class RecentMemories(BaseModel):
    """What `memory://recent` shows: the memories remembered last in a namespace."""

    namespace: str
    memories: list[MemoryDetail] = Field(description="Live memories, the most recently remembered first.")


class MemoryPage(BaseModel):
    """A page of a namespace's memories meeting a filter, latest first."""

    namespace: str
    memories: list[MemoryDetail]
    offset: int = Field(description="The position of the first, from 0.")
    total: int = Field(description="How many memories meet the filter.")


class Series(BaseModel):
    name: str
    counts: list[int] = Field(description="Memories per month, in the order of `months`.")


class NamespaceOverview(BaseModel):
    """A namespace at a glance: its memories over time by kind and by host, and what expires soon."""

    namespace: str
    total: int
    months: list[str] = Field(description="YYYY-MM, oldest first: the last months that hold memories.")
    by_kind: list[Series]
    by_source: list[Series]
    expiring: list[MemoryDetail] = Field(description="Live memories whose time to live ends soon, soonest first.")


class StandingMemories(BaseModel):
    """The standing preferences and instructions of a namespace, as `memory://standing` shows them."""

    namespace: str
    text: str = Field(description="Markdown for a host to load at the start of a conversation.")
    memories: list[MemoryDetail] = Field(description="Those in the text, most important and most used first.")
    left_out: int = Field(description="How many more there are that did not fit.")


class TopicBrief(BaseModel):
    """A topic's memories as a message for a host to insert: what the `recall_topic` prompt returns."""

    topic: str
    text: str
    memories: list[RecalledMemory]
