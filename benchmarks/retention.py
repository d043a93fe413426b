"""Selective retention, measured through the service on the real model and a real store.

Reports:
- long notes: for --notes notes of ~3,000 words, each with a fact in its last paragraph, the rank
  of the note when asked about that fact (among a few short distractors), whether the matched part
  holds the fact, the parts it was indexed as, and the median time to remember it and to recall;
- duplicates: the median time of remembering the same fact again (--repeats times) against a new
  one, and how many memories the namespace holds after (1 is right);
- forget by filter: the time to forget --memories memories by tag, and what recall finds after.

    python benchmarks/retention.py [--json] [--notes 5] [--repeats 50] [--memories 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from texts import QUESTION, long_note

from mcp_memory.core.config import Settings
from mcp_memory.core.models import MemoryInput
from mcp_memory.core.service import MemoryService
from mcp_memory.serve.runtime import open_service

DISTRACTORS = ("The Oslo office opened in 2019.", "Backups run nightly at 02:00.", "Power cuts are rare.")


def long_notes(service: MemoryService, notes: int) -> dict[str, Any]:
    ranks, matched, parts, remember_s, recall_ms = [], 0, [], [], []
    for seed in range(notes):
        namespace, note = f"note-{seed}", long_note(seed)
        started = time.perf_counter()
        stored = service.remember(namespace, note, kind="note")
        remember_s.append(time.perf_counter() - started)
        for other in DISTRACTORS:
            service.remember(namespace, other)
        started = time.perf_counter()
        found = service.recall(namespace, QUESTION, limit=10).memories
        recall_ms.append((time.perf_counter() - started) * 1000)
        ids = [m.id for m in found]
        ranks.append(ids.index(stored.id) + 1 if stored.id in ids else None)
        matched += bool(found and found[0].id == stored.id and "Nordlys" in (found[0].matched_part or ""))
        parts.append(stored.parts)
    return {
        "notes": notes,
        "ranks": ranks,
        "matched_part_holds_the_fact": matched,
        "parts_median": statistics.median(parts),
        "remember_seconds_median": round(statistics.median(remember_s), 2),
        "recall_ms_median": round(statistics.median(recall_ms), 1),
    }


def duplicates(service: MemoryService, repeats: int) -> dict[str, Any]:
    fact = "The team's stand-up is at 9:30 every weekday."
    again, new = [], []
    for n in range(repeats):
        started = time.perf_counter()
        service.remember("dups", fact.upper() if n % 2 else fact, source=f"host-{n % 2}")
        (again if n else new).append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        service.remember("fresh", f"{fact} Variant {n}.")
        new.append((time.perf_counter() - started) * 1000)
    return {
        "repeats": repeats,
        "duplicate_ms_median": round(statistics.median(again), 1),
        "new_ms_median": round(statistics.median(new), 1),
        "memories_after": service.stats().namespaces["dups"],
    }


def forget_by_filter(service: MemoryService, memories: int) -> dict[str, Any]:
    items = [
        MemoryInput(content=f"Project Kestrel note {n}: task {n} is assigned.", tags=["kestrel"])
        for n in range(memories)
    ]
    service.remember_many("forget", items)
    service.remember("forget", "The coffee machine is on the second floor.")
    started = time.perf_counter()
    forgotten = service.forget("forget", tags=["kestrel"]).forgotten
    seconds = time.perf_counter() - started
    left = [m.content for m in service.recall("forget", "Kestrel task assigned", limit=50).memories]
    return {"memories": memories, "forgotten": len(forgotten), "seconds": round(seconds, 2), "recalled_after": left}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--notes", type=int, default=5, help="long notes to remember and question")
    parser.add_argument("--repeats", type=int, default=50, help="times to remember the same fact")
    parser.add_argument("--memories", type=int, default=200, help="memories to forget by filter")
    args = parser.parse_args()
    service = open_service(Settings(data_dir=Path(tempfile.mkdtemp(prefix="mcp-memory-retention-"))))
    result = {
        "long_notes": long_notes(service, args.notes),
        "duplicates": duplicates(service, args.repeats),
        "forget_by_filter": forget_by_filter(service, args.memories),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
