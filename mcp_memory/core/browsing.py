"""Reading a namespace without a query: the latest memories, one memory whole, the standing preferences
and instructions, and a topic's memories as a message for a host to insert.

None of them scans the store. The latest memories come from the history log's `created` events,
newest first, fetched from the store by id; the standing ones from the store's kind filter; a page of
memories meeting a filter from the store's filter index, which orders and counts without reading them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from mcp_memory.core.errors import NotFound
from mcp_memory.core.models import (
    SHELVES,
    Kind,
    MemoryDetail,
    MemoryFilter,
    MemoryPage,
    MemoryRecord,
    NamespaceOverview,
    RecalledMemory,
    RecallResult,
    RecentMemories,
    Series,
    Shelf,
    StandingMemories,
    TopicBrief,
    Usage,
)
from mcp_memory.core.retention import NEUTRAL_IMPORTANCE
from mcp_memory.storage.history import History
from mcp_memory.storage.store import VectorStore

DEFAULT_RECENT = 20
MAX_RECENT = 100
STANDING_KINDS = (Kind.instruction, Kind.preference)
MAX_STANDING_ITEMS = 30
MAX_STANDING_CHARS = 2000
MAX_ITEM_CHARS = 280  # of one standing memory: a long one is cut, so that one cannot fill the page
MAX_BRIEF_CHARS = 1500  # of one memory in a topic brief
MAX_EXPIRING = 50  # memories an overview lists as expiring soon
USAGE_BATCH = 500  # ids per usage look-up, well under SQLite's limit on parameters
STANDING_TITLE = "# Standing preferences and instructions"
WEAK_SIMILARITY = 0.3  # under it a match is weak, as the recall tool tells hosts
UNRELATED_SIMILARITY = 0.2  # under it, and sharing no word with the topic, a memory is left out of a brief


def recent(store: VectorStore, history: History, namespace: str, limit: int, now: datetime) -> RecentMemories:
    """The `limit` memories remembered last that are live and unexpired, newest first.

    The history log names the memories created and not since forgotten or superseded; the store is
    asked only for those, a page at a time, so the cost follows `limit`, not the namespace's size.
    """
    found: list[MemoryRecord] = []
    seen: set[str] = set()
    before: int | None = None
    while len(found) < limit:
        page = history.latest_created(namespace, limit - len(found), before)
        if not page:
            break
        before = page[-1][0]
        ids = [memory_id for _, memory_id in page if memory_id not in seen]
        seen.update(ids)
        live = {r.id: r for r in store.get(namespace, ids) if r.part_of is None}
        found += [live[i] for i in ids if i in live and not live[i].expired(now)]
    return RecentMemories(namespace=namespace, memories=_details(history, namespace, found[:limit], "live"))


def browse(
    store: VectorStore, history: History, namespace: str, where: MemoryFilter, offset: int, limit: int, now: datetime
) -> MemoryPage:
    """A page of the live memories meeting `where`, latest first, with their use."""
    records, total = store.browse(namespace, where, offset, limit)
    shown = [r for r in records if not r.expired(now)]  # expired, and not purged yet: as good as gone
    return MemoryPage(
        namespace=namespace, memories=_details(history, namespace, shown, "live"), offset=offset, total=total
    )


def overview(
    store: VectorStore, history: History, namespace: str, now: datetime, *, months: int, soon: timedelta
) -> NamespaceOverview:
    """Counts per month (the last `months` that hold memories) by kind and by source, and the memories that
    expire within `soon`, from the store's tally: no memory is read but those expiring."""
    tally = store.tally(namespace)
    shown = sorted({month for month, *_ in tally})[-months:]
    place = {month: n for n, month in enumerate(shown)}

    def series(pick: int) -> list[Series]:
        counts: dict[str, list[int]] = {}
        for row in tally:
            if row[0] in place:
                counts.setdefault(str(row[pick]), [0] * len(shown))[place[row[0]]] += int(row[3])
        return [Series(name=name, counts=c) for name, c in sorted(counts.items(), key=lambda kv: -sum(kv[1]))]

    ending = sorted(
        (r for r in store.expired(namespace, now + soon) if r.expires_at is not None and r.expires_at > now),
        key=lambda r: r.expires_at or now,
    )
    return NamespaceOverview(
        namespace=namespace,
        total=sum(int(row[3]) for row in tally),
        months=shown,
        by_kind=series(1),
        by_source=series(2),
        expiring=_details(history, namespace, ending[:MAX_EXPIRING], "live"),
    )


def memory(store: VectorStore, history: History, namespace: str, memory_id: str) -> MemoryDetail:
    """One memory, live or superseded, with every field and its use; NotFound if the namespace has none by that id."""
    for shelf in SHELVES:
        if found := [r for r in store.get(namespace, [memory_id], shelf) if r.part_of is None]:
            return _details(history, namespace, found, shelf)[0]
    events = history.events(namespace, memory_id)
    why = "it was forgotten" if events and events[-1].event == "forgotten" else "recall to find the ids"
    raise NotFound(f"no memory {memory_id} in namespace {namespace!r}: {why}")


def neighbours(store: VectorStore, history: History, namespace: str, memory_id: str) -> list[MemoryDetail]:
    """The live memories just before and just after a memory in its thread (none outside a thread)."""
    found = memory(store, history, namespace, memory_id)
    if found.thread is None or found.state != "live":
        return []
    members = store.thread(namespace, found.thread)
    place = next((n for n, m in enumerate(members) if m.id == memory_id), None)
    if place is None:
        return []
    around = [m for m in (members[place - 1] if place else None, *members[place + 1 : place + 2]) if m is not None]
    return _details(history, namespace, around, "live")


def standing(store: VectorStore, history: History, namespace: str, now: datetime) -> StandingMemories:
    """The live, unexpired preferences and instructions, most important and most used first, as one
    short markdown text a host can load at the start of a conversation; what did not fit is counted."""
    records = [
        r for kind in STANDING_KINDS for r in store.find(namespace, MemoryFilter(kind=kind)) if not r.expired(now)
    ]
    usage = _usage(history, namespace, [r.id for r in records])
    records.sort(key=lambda r: _standing_rank(r, usage.get(r.id, Usage())), reverse=True)
    lines = [f"- {_clipped(r.content, MAX_ITEM_CHARS)} ({r.kind.value})" for r in records[:MAX_STANDING_ITEMS]]
    while lines and len(_standing_text(lines, len(records))) > MAX_STANDING_CHARS:
        lines.pop()  # the least important goes first; the closing line then counts it
    shown = records[: len(lines)]
    return StandingMemories(
        namespace=namespace,
        text=_standing_text(lines, len(records)),
        memories=_details(history, namespace, shown, "live", usage),
        left_out=len(records) - len(shown),
    )


def brief(topic: str, recalled: RecallResult) -> TopicBrief:
    """A recall's memories as a user message: each with its date, its source and its id.

    The recall must be made with `explain`: memories far in meaning that share no word with the topic
    are left out, as a host inserts the message whole.
    """
    memories = [m for m in recalled.memories if not _unrelated(m)]
    if not memories:
        text = f'Long-term memory holds nothing about "{topic}".'
        return TopicBrief(topic=topic, text=text, memories=[])
    lines = [
        f'What long-term memory holds about "{topic}", best match first. Memories come from the apps this '
        "user connects; where two disagree, the newer one is more likely to hold.",
        "",
    ]
    for n, m in enumerate(memories, 1):
        shown = m.content if len(m.content) <= MAX_BRIEF_CHARS else (m.matched_part or m.content)
        about = f", about {m.occurred_at.date().isoformat()}" if m.occurred_at else ""
        tags = f", tags: {', '.join(m.tags)}" if m.tags else ""
        weak = ", a weak match" if m.similarity < WEAK_SIMILARITY else ""
        lines.append(f"{n}. {_clipped(shown, MAX_BRIEF_CHARS)}")
        lines.append(
            f"   ({m.kind.value}, remembered {m.created_at.date().isoformat()} by {m.source}{about}{tags}{weak}; "
            f"id {m.id})"
        )
    return TopicBrief(topic=topic, text="\n".join(lines), memories=memories)


def _unrelated(memory: RecalledMemory) -> bool:
    shares_a_word = memory.explain is not None and memory.explain.keyword > 0
    return memory.similarity < UNRELATED_SIMILARITY and not shares_a_word


def _details(
    history: History,
    namespace: str,
    records: Sequence[MemoryRecord],
    shelf: Shelf,
    usage: dict[str, Usage] | None = None,
) -> list[MemoryDetail]:
    usage = usage if usage is not None else _usage(history, namespace, [r.id for r in records])
    return [_detail(r, shelf, usage.get(r.id, Usage())) for r in records]


def _detail(record: MemoryRecord, shelf: Shelf, usage: Usage) -> MemoryDetail:
    return MemoryDetail(
        **record.fields(),
        state=shelf,
        parts=record.parts,
        access_count=usage.access_count,
        last_seen_at=usage.last_seen_at,
    )


def _usage(history: History, namespace: str, ids: Sequence[str]) -> dict[str, Usage]:
    found: dict[str, Usage] = {}
    for start in range(0, len(ids), USAGE_BATCH):
        found |= history.usage(namespace, ids[start : start + USAGE_BATCH])
    return found


def _standing_rank(record: MemoryRecord, usage: Usage) -> tuple[float, int, datetime]:
    importance = NEUTRAL_IMPORTANCE if record.importance is None else record.importance
    return (importance, usage.access_count, record.updated_at or record.created_at)


def _standing_text(lines: Iterable[str], total: int) -> str:
    shown = list(lines)
    if not total:
        return f"{STANDING_TITLE}\n\nNone remembered yet."
    intro = "Remembered from the user's apps; follow them unless the user now says otherwise."
    text = "\n".join([STANDING_TITLE, "", intro, "", *shown])
    if left_out := total - len(shown):
        text += (
            f"\n\n{left_out} more, less important or less used, were left out: "
            'recall with kind "preference" or "instruction" to find them.'
        )
    return text


def _clipped(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
