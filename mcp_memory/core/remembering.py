"""Writing memories: validation, duplicates, threads, long-memory parts, superseding, and their history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from mcp_memory.core.config import Settings
from mcp_memory.core.embedder import Embedder
from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.forgetting import relink, thread_members
from mcp_memory.core.models import MemoryInput, MemoryRecord, RememberResult, ScoredRecord, SimilarMemory
from mcp_memory.core.parts import Splitter
from mcp_memory.core.threads import ThreadPlacer
from mcp_memory.core.timeparse import parse_optional, parse_ttl
from mcp_memory.core.validation import (
    check_content,
    check_created_at,
    check_ids,
    check_importance,
    check_kind,
    check_metadata,
    check_source,
    check_tags,
    check_thread,
    content_hash,
)
from mcp_memory.storage.history import Event, History
from mcp_memory.storage.keyword_index import KeywordIndex
from mcp_memory.storage.store import VectorStore

SIMILAR_SHOWN = 3
Status = Literal["created", "similar", "duplicate"]


@dataclass
class Outcome:
    """What became of one remembered record."""

    record: MemoryRecord  # as stored: the new memory, or the existing one it duplicates
    status: Status = "created"
    similar: list[SimilarMemory] = field(default_factory=list)


class Writer:
    """Everything `remember` does to the store, under the service's write lock."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        keywords: KeywordIndex,
        history: History,
        threads: ThreadPlacer,
        splitter: Splitter,
        settings: Settings,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._keywords = keywords
        self._history = history
        self._threads = threads
        self._splitter = splitter
        self._settings = settings

    def record(self, item: MemoryInput, source: str, now: datetime) -> MemoryRecord:
        """A new memory from what a caller sent, every field checked."""
        text = check_content(item.content, self._settings.max_content_bytes)
        return MemoryRecord(
            id=check_ids([item.id])[0] if item.id is not None else uuid.uuid4().hex,
            content=text,
            kind=check_kind(item.kind),
            tags=check_tags(item.tags),
            source=check_source(item.source) if item.source is not None else source,
            created_at=check_created_at(item.created_at, now) if item.created_at is not None else now,
            content_hash=content_hash(text),
            occurred_at=parse_optional(item.occurred_at, "occurred_at", now=now),
            importance=check_importance(item.importance),
            thread=check_thread(item.thread),
            metadata=check_metadata(item.metadata),
            expires_at=_expiry(item, now),
            supersedes=tuple(check_ids(item.supersedes)) if item.supersedes else (),
        )

    def write(
        self, namespace: str, records: Sequence[MemoryRecord], source: str, now: datetime
    ) -> list[RememberResult]:
        self._check_supersedes(namespace, records)
        hashes = [r.content_hash for r in records if r.thread is None]
        existing = {
            same_memory(r): r
            for r in self._store.find_hashes(namespace, hashes)
            if r.thread is None and not r.expired(now)
        }
        outcomes: list[Outcome] = []
        fresh: dict[object, Outcome] = {}  # by what makes a repeat the same memory
        reinforced: dict[str, tuple[MemoryRecord, MemoryRecord]] = {}  # id: (as found, as merged)
        for record in records:
            key = same_memory(record)
            if (hit := existing.get(key)) is not None:
                found, merged = reinforced.get(hit.id, (hit, hit))
                reinforced[hit.id] = (found, _merged(merged, record, now))
                outcomes.append(Outcome(hit, "duplicate"))
            elif (first := fresh.get(key)) is not None:
                first.record = _merged(first.record, record, now)
                outcomes.append(Outcome(first.record, "duplicate"))
            else:
                fresh[key] = Outcome(record)
                outcomes.append(fresh[key])
        stored = self._store_new(namespace, list(fresh.values()), now)
        self._reinforce(namespace, list(reinforced.values()), source, now)
        superseded = self._supersede(namespace, [*stored.values(), *(merged for _, merged in reinforced.values())], now)
        return [self._result(o, stored, reinforced, superseded) for o in outcomes]

    def _store_new(self, namespace: str, outcomes: list[Outcome], now: datetime) -> dict[str, MemoryRecord]:
        """Embed and store the new memories, with their parts; each outcome gets its similar memories."""
        if not outcomes:
            return {}
        placed = self._threads.place(namespace, [o.record for o in outcomes])
        parts = {r.id: self._splitter.parts(r) for r in placed.records}
        records = [replace(r, parts=len(parts[r.id])) for r in placed.records]
        every_part = [p for r in records for p in parts[r.id]]
        part_vectors = self._embedder.embed([p.content for p in every_part]) if every_part else []
        neighbours = self._store.query_many(namespace, placed.vectors, SIMILAR_SHOWN * 2)
        for outcome, hits in zip(outcomes, neighbours, strict=True):
            outcome.similar = self._similar(hits, now)
        self._store.add(namespace, [*records, *every_part], [*placed.vectors, *part_vectors])
        self._store.update_embeddings(namespace, placed.updated)
        entries = [*zip([r.id for r in records], placed.keyword_texts, strict=True)]
        self._keywords.add(namespace, [*entries, *((p.id, p.content) for p in every_part)])
        self._history.log(
            namespace,
            [Event(r.id, r.created_at, "created", _created_detail(r)) for r in records],
        )
        return {r.id: r for r in records}

    def _similar(self, hits: Sequence[ScoredRecord], now: datetime) -> list[SimilarMemory]:
        shown: dict[str, SimilarMemory] = {}
        for hit in hits:
            close = hit.score >= self._settings.similar_threshold and not hit.record.expired(now)
            if close and hit.record.memory_id not in shown:
                content = hit.record.content if hit.record.part_of is None else f"… {hit.record.content} …"
                shown[hit.record.memory_id] = SimilarMemory(
                    id=hit.record.memory_id, content=content, score=round(hit.score, 4)
                )
        return list(shown.values())[:SIMILAR_SHOWN]

    def _reinforce(
        self, namespace: str, pairs: list[tuple[MemoryRecord, MemoryRecord]], source: str, now: datetime
    ) -> None:
        """Duplicates: the existing memories count one more use, and take on new tags or importance."""
        if not pairs:
            return
        changed = [(found, merged) for found, merged in pairs if found != merged]
        parts = self._store.get(namespace, [p for _, merged in changed for p in merged.part_ids()])
        wholes = {merged.id: merged for _, merged in changed}
        self._store.update(namespace, [*wholes.values(), *(_as_part(wholes[p.memory_id], p) for p in parts)])
        self._history.touch(namespace, [found.id for found, _ in pairs], now)
        events = [Event(found.id, now, "reinforced", {"source": source}) for found, _ in pairs]
        events += [Event(f.id, now, "updated", {"fields": _changed_fields(f, m)}) for f, m in changed]
        self._history.log(namespace, events)

    def _supersede(self, namespace: str, records: Sequence[MemoryRecord], now: datetime) -> dict[str, list[str]]:
        """Move what each record supersedes to the superseded shelf, pointing to it; ids superseded per record."""
        by = {old: r.id for r in records for old in r.supersedes if old != r.id}
        if not by:
            return {}
        olds = [r for r in self._store.get(namespace, list(by)) if r.part_of is None]
        parts = self._store.get(namespace, [p for old in olds for p in old.part_ids()])
        # A superseded memory leaves its thread: it keeps its own words and meaning, not its neighbours'.
        # Neighbours first: a crash halfway leaves it live, never its words in them once gone.
        self._threads.forget(namespace)  # a superseded memory may have been a thread's cached tail
        members = thread_members(self._store, namespace, olds)
        relink(self._store, self._keywords, self._threads, namespace, members, set(by))
        threaded = [old for old in olds if old.thread is not None]
        alone = dict(zip([o.id for o in threaded], self._embedder.embed([o.content for o in threaded]), strict=True))
        self._store.move(
            namespace,
            [replace(r, superseded_by=by[r.memory_id], superseded_at=now) for r in [*olds, *parts]],
            to="superseded",
            embeddings=alone,
        )
        self._keywords.add(namespace, [(o.id, o.content) for o in threaded], "superseded")
        self._keywords.move(namespace, [r.id for r in [*olds, *parts]], "superseded")
        self._history.log(namespace, [Event(old.id, now, "superseded", {"by": by[old.id]}) for old in olds])
        superseded: dict[str, list[str]] = {}
        for old in olds:
            superseded.setdefault(by[old.id], []).append(old.id)
        return superseded

    def _check_supersedes(self, namespace: str, records: Sequence[MemoryRecord]) -> None:
        named = list(dict.fromkeys(i for r in records for i in r.supersedes))
        live = {r.id for r in self._store.get(namespace, named) if r.part_of is None}
        if unknown := [i for i in named if i not in live]:
            old = {r.id: r.superseded_by for r in self._store.get(namespace, unknown, "superseded")}
            reasons = [f"{i} (superseded by {old[i]})" if i in old else f"{i} (no such memory)" for i in unknown]
            raise InvalidInput(
                f"supersedes names memories that are not current in namespace {namespace!r}: "
                f"{', '.join(reasons[:5])}. Pass ids of current memories, from remember's similar list or recall"
            )

    def _result(
        self,
        outcome: Outcome,
        stored: dict[str, MemoryRecord],
        reinforced: dict[str, tuple[MemoryRecord, MemoryRecord]],
        superseded: dict[str, list[str]],
    ) -> RememberResult:
        record = stored.get(outcome.record.id) or reinforced.get(outcome.record.id, (outcome.record,) * 2)[1]
        others = [s for s in outcome.similar if s.id not in record.supersedes]
        status = outcome.status
        if status == "created" and others and others[0].score >= self._settings.near_duplicate_threshold:
            status = "similar"
        return RememberResult(
            id=record.id,
            status=status,
            similar=others,
            superseded=superseded.get(record.id, []),
            parts=record.parts,
        )


def _expiry(item: MemoryInput, now: datetime) -> datetime | None:
    if item.ttl and item.expires_at:
        raise InvalidInput("give ttl or expires_at, not both")
    if item.ttl:
        return parse_ttl(item.ttl, now)
    expires = parse_optional(item.expires_at, "expires_at", end_of_period=True, now=now, future=True)
    if expires is not None and expires <= now:
        raise InvalidInput(f"expires_at {item.expires_at!r} is not in the future: give a later date, or a ttl")
    return expires


def same_memory(record: MemoryRecord) -> tuple[str, datetime | None]:
    """What makes a repeat the same memory: the same words about the same moment. (A memory in a
    thread is a turn of a conversation, never a repeat: two 'Yes.' in a chat are two turns.)"""
    return (record.content_hash if record.thread is None else record.id, record.occurred_at)


def _merged(kept: MemoryRecord, again: MemoryRecord, now: datetime) -> MemoryRecord:
    """A memory remembered again: it keeps the union of tags, metadata and supersedes, the higher
    importance, and the later expiry (none if either has none)."""
    importances = [i for i in (kept.importance, again.importance) if i is not None]
    supersedes = [i for i in dict.fromkeys([*kept.supersedes, *again.supersedes]) if i != kept.id]
    expiry = None if kept.expires_at is None or again.expires_at is None else max(kept.expires_at, again.expires_at)
    merged = replace(
        kept,
        tags=check_tags([*kept.tags, *again.tags]),
        importance=max(importances) if importances else None,
        expires_at=expiry,
        supersedes=tuple(supersedes),
        metadata=check_metadata({**kept.metadata, **again.metadata}),
    )
    return merged if merged == kept else replace(merged, updated_at=now)


def _as_part(whole: MemoryRecord, part: MemoryRecord) -> MemoryRecord:
    """A part carries its whole's fields, so that filters and expiry treat both alike."""
    return replace(
        part, tags=whole.tags, importance=whole.importance, expires_at=whole.expires_at, metadata=whole.metadata
    )


def _changed_fields(before: MemoryRecord, after: MemoryRecord) -> list[str]:
    fields = ("tags", "importance", "expires_at", "supersedes", "metadata")
    return [name for name in fields if getattr(before, name) != getattr(after, name)]


def _created_detail(record: MemoryRecord) -> dict[str, str | int | float | bool | list[str]]:
    detail: dict[str, str | int | float | bool | list[str]] = {"source": record.source, "kind": record.kind.value}
    if record.supersedes:
        detail["supersedes"] = list(record.supersedes)
    if record.parts:
        detail["parts"] = record.parts
    if record.expires_at:
        detail["expires_at"] = record.expires_at.isoformat()
    return detail
