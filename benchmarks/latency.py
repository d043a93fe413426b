"""Start-up and recall latency of mcp-memory, measured through a real MCP client.

Reports:
- cold: with no server running, time from starting `mcp-memory stdio` to `initialize` answered and
  to the first `recall` answered (the server starts and loads the model in between), median of --runs;
- warm: with the server running, time from starting `mcp-memory stdio` to `initialize` answered,
  median of --warm-runs;
- on a store of --memories memories, median and p95 of --queries recalls through the stdio bridge
  and over streamable HTTP straight to the server.

    python benchmarks/latency.py [--json] [--runs 5] [--memories 1000] [--queries 100]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

# The benchmark drives the server with the same real MCP clients as the end-to-end tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from mcp_clients import http_session, stdio_session, structured

from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.serve.tokens import TokenStore

PEOPLE = ["Alice", "Bob", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jun"]
TOPICS = [
    ("prefers", ["tabs over spaces", "dark mode", "vim keybindings", "green tea", "window seats", "rust for CLIs"]),
    ("works on", ["the billing service", "the mobile app", "the data pipeline", "the search index", "the docs site"]),
    ("lives in", ["Lisbon", "Nairobi", "Osaka", "Toronto", "Krakow", "Lima"]),
    ("is learning", ["Portuguese", "the cello", "woodworking", "type theory", "bouldering"]),
    ("decided to use", ["PostgreSQL", "SQLite", "Kafka", "gRPC", "htmx", "Terraform"]),
    ("met", ["the design team", "a recruiter", "the new CTO", "an old classmate"]),
]
WHEN = ["on Monday", "last spring", "in 2023", "every morning", "since March", "for the launch"]


def synthetic_memories(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    memories = []
    for i in range(count):
        verb, objects = rng.choice(TOPICS)
        memories.append(f"{rng.choice(PEOPLE)} {verb} {rng.choice(objects)} {rng.choice(WHEN)} (note {i}).")
    return memories


def synthetic_queries(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [f"what does {rng.choice(PEOPLE)} {rng.choice(TOPICS)[0]}?" for _ in range(count)]


async def cold_start(data_dir: Path) -> tuple[float, float]:
    stop_owner(OwnerFiles(data_dir))
    started = time.perf_counter()
    async with stdio_session(data_dir, "benchmark") as session:
        initialized = time.perf_counter() - started
        structured(await session.call_tool("recall", {"query": "what does Alice prefer?"}))
        first_recall = time.perf_counter() - started
    return initialized, first_recall


async def warm_start(data_dir: Path) -> float:
    started = time.perf_counter()
    async with stdio_session(data_dir, "benchmark"):
        return time.perf_counter() - started


async def timed_recalls(session: Any, queries: list[str]) -> list[float]:
    timings = []
    for query in queries:
        started = time.perf_counter()
        structured(await session.call_tool("recall", {"query": query, "limit": 10}))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="mcp-memory-bench-")) / "data"
    results: dict[str, Any] = {"memories": args.memories, "queries": args.queries, "runs": args.runs}
    try:
        starts = [await cold_start(data_dir) for _ in range(args.runs)]
        results["cold_initialize_seconds"] = round(statistics.median(s[0] for s in starts), 2)
        results["cold_first_recall_seconds"] = round(statistics.median(s[1] for s in starts), 2)

        async with stdio_session(data_dir, "benchmark") as session:
            started = time.perf_counter()
            remember_ms = []
            for content in synthetic_memories(args.memories):
                t = time.perf_counter()
                structured(await session.call_tool("remember", {"content": content}))
                remember_ms.append((time.perf_counter() - t) * 1000)
            results["ingest_seconds"] = round(time.perf_counter() - started, 1)
            results["remember_ms"] = summary(remember_ms)
            results["recall_bridge_ms"] = summary(await timed_recalls(session, synthetic_queries(args.queries)))

        warm = [await warm_start(data_dir) for _ in range(args.warm_runs)]
        results["warm_initialize_ms"] = round(statistics.median(warm) * 1000, 1)

        http_url = str((OwnerFiles(data_dir).read_info() or {})["http"])
        token = TokenStore(data_dir).create(f"benchmark-{os.getpid()}", ["default"])
        async with http_session(http_url, "benchmark", token=token) as session:
            results["recall_http_ms"] = summary(await timed_recalls(session, synthetic_queries(args.queries)))
    finally:
        stop_owner(OwnerFiles(data_dir))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=5, help="cold starts to take the median of")
    parser.add_argument("--warm-runs", type=int, default=10, help="bridge starts to take the median of")
    parser.add_argument("--memories", type=int, default=1000, help="memories in the store")
    parser.add_argument("--queries", type=int, default=100, help="recalls to time")
    args = parser.parse_args()
    results = anyio.run(run, args)
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
