"""Recall quality on LoCoMo-format conversations, measured through the product's own service.

Each conversation goes into a namespace of its own; each turn is remembered as a memory
('Speaker: text', with a shared image's caption), in a thread per session, dated by its session,
with its turn id in metadata. Every question with evidence is then asked through the same
`recall` the MCP tool uses. The metric is LoCoMo's: per question, the fraction of its evidence
turns among the top k; averaged over questions.

    python benchmarks/locomo.py --data FILE [--json] [--ablations | --retention]

Recall reinforces what it returns, as in the product; each configuration compared starts
from a fresh usage history, so none profits from another's recalls.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import dateparser

from mcp_memory.core.config import Settings
from mcp_memory.core.models import MemoryInput
from mcp_memory.core.service import MemoryService
from mcp_memory.serve.runtime import open_service
from mcp_memory.storage.history import History

KS = (1, 5, 10, 20, 50)
EVIDENCE = re.compile(r"D:?(\d+):0*(\d+)")
SESSION = re.compile(r"^session_(\d+)$")


def turns_of(conversation: dict[str, Any]) -> list[tuple[int, dict[str, Any], str | None]]:
    """(session number, turn, session date as ISO 8601) in conversation order."""
    sessions = sorted(int(m.group(1)) for key in conversation if (m := SESSION.match(key)))
    out = []
    for n in sessions:
        when = dateparser.parse(str(conversation.get(f"session_{n}_date_time", "")), languages=["en"])
        out += [(n, turn, when.isoformat() if when else None) for turn in conversation[f"session_{n}"]]
    return out


def ingest(service: MemoryService, sample: dict[str, Any]) -> str:
    namespace = re.sub(r"[^a-z0-9_-]+", "-", str(sample["sample_id"]).lower()).strip("-") or "conversation"
    by_session: dict[int, list[MemoryInput]] = defaultdict(list)
    for session, turn, when in turns_of(sample["conversation"]):
        text = f"{turn['speaker']}: {turn['text']}"
        if turn.get("blip_caption"):
            text += f" [shares an image: {turn['blip_caption']}]"
        by_session[session].append(
            MemoryInput(content=text, occurred_at=when, thread=f"session-{session}", metadata={"turn": turn["dia_id"]})
        )
    for items in by_session.values():
        service.remember_many(namespace, items, source="locomo")
    return namespace


def evidence_of(question: dict[str, Any], turn_ids: set[str]) -> set[str]:
    """The question's evidence turns; malformed ids are repaired, unknown ones dropped."""
    found = set()
    for item in question.get("evidence", []):
        for part in re.split(r"[;\s]+", str(item)):
            if m := EVIDENCE.fullmatch(part.strip()):
                turn = f"D{int(m.group(1))}:{int(m.group(2))}"
                if turn in turn_ids:
                    found.add(turn)
    return found


def evaluate(service: MemoryService, questions: list[tuple[str, dict[str, Any], set[str]]]) -> dict[str, Any]:
    hits: dict[int, list[float]] = {k: [] for k in KS}
    by_category: dict[str, dict[int, list[float]]] = defaultdict(lambda: {k: [] for k in KS})
    by_conversation: dict[str, dict[int, list[float]]] = defaultdict(lambda: {k: [] for k in KS})
    latencies = []
    for namespace, question, evidence in questions:
        started = time.perf_counter()
        recalled = service.recall(namespace, str(question["question"]), limit=max(KS)).memories
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = [m.metadata.get("turn") for m in recalled]
        for k in KS:
            score = len(evidence & set(ranked[:k])) / len(evidence)
            hits[k].append(score)
            by_category[str(question.get("category"))][k].append(score)
            by_conversation[namespace][k].append(score)
    return {
        **{f"recall@{k}": round(statistics.fmean(hits[k]), 4) for k in KS},
        "questions": len(questions),
        "by_category": {
            category: {
                "questions": len(values[10]),
                **{f"recall@{k}": round(statistics.fmean(values[k]), 4) for k in (5, 10)},
            }
            for category, values in sorted(by_category.items())
        },
        "by_conversation": {
            name: {
                "questions": len(values[10]),
                **{f"recall@{k}": round(statistics.fmean(values[k]), 4) for k in (5, 10)},
            }
            for name, values in sorted(by_conversation.items())
        },
        "recall_p50_ms": round(statistics.median(latencies), 1),
    }


def run(data: Path, thread_context: bool, fusions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    samples = json.loads(data.read_text())
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="mcp-memory-locomo-")), thread_context=thread_context)
    service = open_service(settings)
    started = time.perf_counter()
    questions = []
    for sample in samples:
        namespace = ingest(service, sample)
        turn_ids = {str(turn["dia_id"]) for _, turn, _ in turns_of(sample["conversation"])}
        questions += [(namespace, q, ev) for q in sample.get("qa", []) if (ev := evidence_of(q, turn_ids))]
    ingest_seconds = round(time.perf_counter() - started, 1)
    results = []
    for n, fusion in enumerate(fusions):
        fresh = History(settings.data_dir / f"history-{n}.sqlite3")
        result = evaluate(service.tuned(history=fresh, **fusion), questions)
        results.append(
            {"config": {"thread_context": thread_context, **fusion}, **result, "ingest_seconds": ingest_seconds}
        )
    return results


ABLATIONS = [
    {"fusion": "dense"},
    {"fusion": "keyword"},
    {"fusion": "rrf", "dense_weight": 0.5},
    {"fusion": "zscore", "dense_weight": 0.3},
    {"fusion": "zscore", "dense_weight": 0.4},
    {"fusion": "zscore", "dense_weight": 0.5},
    {"fusion": "zscore", "dense_weight": 0.6},
]
RETENTION_OFF = {"recency_weight": 0.0, "importance_weight": 0.0, "reinforcement_weight": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a LoCoMo-format JSON file")
    parser.add_argument("--json", action="store_true", help="print one JSON object (a list with --ablations)")
    parser.add_argument("--ablations", action="store_true", help="also compare fusions and thread context")
    parser.add_argument("--retention", action="store_true", help="compare ranking with and without retention")
    args = parser.parse_args()
    if args.retention:
        results = run(args.data, True, [{}, RETENTION_OFF])
    elif not args.ablations:
        [result] = run(args.data, Settings().thread_context, [{}])
        result.pop("config")
        print(json.dumps(result) if args.json else json.dumps(result, indent=2))
        return
    else:
        results = run(args.data, True, [*ABLATIONS, RETENTION_OFF])
        results += run(args.data, False, [{"fusion": "dense"}, {"fusion": "zscore"}])
    if args.json:
        print(json.dumps(results))
        return
    for r in results:
        print(f"{json.dumps(r['config']):<60} " + " ".join(f"@{k} {r[f'recall@{k}']:.3f}" for k in KS), file=sys.stdout)


if __name__ == "__main__":
    main()
