"""Latency, throughput and memory of mcp-memory at several store sizes, measured through real MCP clients.

For each size N of --sizes, a namespace of its own data directory is filled with N realistic memories
(facts, preferences, decisions, instructions, notes of 3 to 8 sentences, and one in five a turn of a
ten-turn conversation thread; deterministic), through the fastest path a user has: the CLI's
`import_memories` tool, 1,000 at a time, two calls at once as `mcp-memory import` makes them. Then, with
the MCP SDK's ClientSession:

- recall_p50/p95/p99_ms: --queries distinct questions recalled through the stdio bridge (after a few
  warm-up recalls); filtered_recall_p95_ms: as many more, alternately with a tag and a time filter;
  recall_http_p50_ms: the same questions over streamable HTTP straight to the server;
- remember_p50_ms: --remembers single `remember` calls, after the recalls;
- dashboard_page_p50_ms: a web page of the namespace's memories (20, latest first) over HTTP, signed in
  with a token: 30 pages from the first to the last, and a kind filter's, after a round that warms them;
- concurrent_recalls_per_s and concurrent_recall_p95_ms: --clients stdio sessions at once, each making
  --calls-per-client calls, every tenth a remember; any error fails the benchmark;
- rss_mb: the server's resident memory after all of the above;
- ingest_per_s: memories a second of the fill, beside encode_per_s: the same model encoding the same
  texts in this process, in batches of 1,000 (all of them up to 10,000, the first 10,000 beyond);
- overlap_at_10: with the server stopped, the share of the exact top 10 (brute force over every vector of
  the namespace) that Chroma's HNSW index returns for the recall questions.

Once, on the smallest size: initialize_ms, from starting `mcp-memory stdio` to `initialize` answered with
the server already running (median of --warm-runs), and first_recall_s, from starting it with no server
running to the first recall answered (median of --runs).

With --chroma-url URL, every server keeps its memories on that Chroma server (`chroma run`) instead of
in its data directory; each size still has a namespace of its own there.

    python benchmarks/latency.py [--sizes 1000,10000,100000] [--queries 200] [--clients 8] [--chroma-url URL]
        [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import numpy as np

# The benchmark drives the server with the same real MCP clients as the end-to-end tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from mcp import ClientSession
from mcp_clients import http_session, stdio_session

from mcp_memory.core.config import Settings
from mcp_memory.core.embedder import Embedder, load_embedder
from mcp_memory.core.models import StoredMemory
from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.serve.tokens import token_book
from mcp_memory.storage.chroma_store import ChromaStore, configured_store
from mcp_memory.transfer.importer import BATCH  # memories per import call, as `mcp-memory import` sends them
from mcp_memory.transfer.sending import claims, send_batches

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import distinct_records, recall_filters, stamped, synthetic_queries

CLI_CLIENT = "mcp-memory-cli"  # the client name the hidden import tool is listed to
WARMUP = 5  # recalls before timing
ENCODE_SAMPLE = 10_000


@dataclass(frozen=True)
class Workload:
    """What a store of one size is filled with, and asked."""

    records: list[dict[str, Any]]
    spare: list[str]  # texts not in the store, to remember
    warmup: list[str]
    queries: list[str]
    filtered: list[str]  # other queries, recalled with `recall_filters`

    @classmethod
    def of(cls, size: int, queries: int, remembers: int) -> Workload:
        stream = distinct_records()
        records = stamped(list(itertools.islice(stream, size)))
        spare = [record["content"] for record in itertools.islice(stream, remembers)]
        asked = synthetic_queries(WARMUP + 2 * queries)
        return cls(records, spare, asked[:WARMUP], asked[WARMUP : WARMUP + queries], asked[WARMUP + queries :])


# ----------------------------------------------------------------------------------------------------------
# Measuring through MCP.


async def answer(session: ClientSession, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The tool's structured answer; an error fails the benchmark."""
    result = await session.call_tool(tool, arguments)
    if result.is_error or result.structured_content is None:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise RuntimeError(f"{tool} failed: {text}")
    return dict(result.structured_content)


async def timed(session: ClientSession, tool: str, arguments: dict[str, Any]) -> float:
    started = time.perf_counter()
    await answer(session, tool, arguments)
    return (time.perf_counter() - started) * 1000


async def fill(data_dir: Path, namespace: str, records: list[dict[str, Any]]) -> float:
    """Import the records as `mcp-memory import` does (two calls at once); memories a second, the model already
    loaded."""
    async with stdio_session(data_dir, CLI_CLIENT, namespace) as session:
        await answer(session, "recall", {"query": "warm up"})  # starts the server and loads the model

        async def batches() -> AsyncIterator[list[dict[str, Any]]]:
            for start in range(0, len(records), BATCH):
                yield records[start : start + BATCH]

        async def store(batch: list[dict[str, Any]]) -> None:
            result = await answer(session, "import_memories", {"memories": batch, "model": None})
            if len(result["imported"]) != len(batch):
                raise RuntimeError(f"import stored {len(result['imported'])} of {len(batch)}: {result['skipped']}")

        started = time.perf_counter()
        await send_batches(batches(), lambda batch: claims(map(StoredMemory.model_validate, batch)), store)
        return len(records) / (time.perf_counter() - started)


async def recall_timings(
    session: ClientSession, queries: list[str], filters: Sequence[dict[str, Any]] = ()
) -> list[float]:
    """Milliseconds per recall of each query (with the filter of the same position, when given)."""
    chosen = list(filters) or [{}] * len(queries)
    return [
        await timed(session, "recall", {"query": q, "limit": 10, **f}) for q, f in zip(queries, chosen, strict=True)
    ]


async def http_recall_timings(data_dir: Path, namespace: str, queries: list[str]) -> list[float]:
    """The same recalls over streamable HTTP, straight to the server, with a token of the namespace."""
    url = str((OwnerFiles(data_dir).read_info() or {})["http"])
    token = token_book(Settings(data_dir=data_dir)).create(f"benchmark-{os.getpid()}-{namespace}", [namespace])
    async with http_session(url, "benchmark-http", namespace, token=token) as session:
        return await recall_timings(session, queries)


def page_timings(data_dir: Path, namespace: str, pages: int = 30) -> list[float]:
    """Milliseconds per web page of the namespace's memories (20 a page, latest first), signed in with a token:
    pages spread from the first to the last, and a kind filter's."""
    base = str((OwnerFiles(data_dir).read_info() or {})["http"]).removesuffix("/mcp")
    token = token_book(Settings(data_dir=data_dir)).create(f"benchmark-pages-{os.getpid()}-{namespace}", [namespace])
    timings = []
    with httpx2.Client(base_url=base, headers={"Origin": base}, follow_redirects=False, timeout=60) as browser:
        if browser.post("/signin", data={"token": token}).status_code != 303:
            raise RuntimeError("the benchmark's token did not sign in to the web pages")
        first = browser.get(f"/n/{namespace}")  # it says how many there are
        total = int(re.search(r"(\d+) memor(?:y|ies)", first.text).group(1))  # type: ignore[union-attr]
        last = max(1, math.ceil(total / 20))
        asked = [{"page": str(1 + n * (last - 1) // (pages - 1))} for n in range(pages)] + [{"kind": "preference"}]
        for params in asked * 2:
            started = time.perf_counter()
            if browser.get(f"/n/{namespace}", params=params).status_code != 200:
                raise RuntimeError(f"page {params} failed")
            timings.append(1000 * (time.perf_counter() - started))
    return timings[len(asked) :]  # the second round: the first warmed what a page reads


async def remember_timings(session: ClientSession, texts: list[str]) -> list[float]:
    return [await timed(session, "remember", {"content": text, "tags": ["benchmark"]}) for text in texts]


async def concurrent_load(
    data_dir: Path, namespace: str, queries: list[str], texts: list[str], clients: int, calls: int
) -> dict[str, float]:
    """`clients` sessions at once, each making `calls` calls, every tenth a remember; timed once all are open."""
    recall_ms: list[float] = []

    async def client(n: int, session: ClientSession) -> None:
        for i in range(calls):
            if i % 10 == 9:
                await answer(session, "remember", {"content": texts[n * calls + i], "tags": ["benchmark"]})
            else:
                query = queries[(n * calls + i) % len(queries)]
                recall_ms.append(await timed(session, "recall", {"query": query, "limit": 10}))

    async with AsyncExitStack() as stack:
        sessions = [
            await stack.enter_async_context(stdio_session(data_dir, f"benchmark-{n}", namespace))
            for n in range(clients)
        ]
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for n, session in enumerate(sessions):
                group.start_soon(client, n, session)
        wall = time.perf_counter() - started
    return {
        "concurrent_recalls_per_s": round(len(recall_ms) / wall, 1),
        "concurrent_recall_p95_ms": round(percentile(recall_ms, 95), 1),
    }


async def measure_served(args: argparse.Namespace, data_dir: Path, namespace: str, work: Workload) -> dict[str, Any]:
    """Everything measured through the server, for one size; the server is left running."""
    results: dict[str, Any] = {"ingest_per_s": round(await fill(data_dir, namespace, work.records), 1)}
    async with stdio_session(data_dir, "benchmark", namespace) as session:
        await recall_timings(session, work.warmup)
        recalls = await recall_timings(session, work.queries)
        filtered = await recall_timings(session, work.filtered, recall_filters(len(work.filtered)))
        http_recalls = await http_recall_timings(data_dir, namespace, work.queries)
        remembers = await remember_timings(session, work.spare[: args.remembers])
    results |= {f"recall_p{p}_ms": round(percentile(recalls, p), 1) for p in (50, 95, 99)}
    results["filtered_recall_p95_ms"] = round(percentile(filtered, 95), 1)
    results["recall_http_p50_ms"] = round(percentile(http_recalls, 50), 1)
    results["remember_p50_ms"] = round(percentile(remembers, 50), 1)
    results["dashboard_page_p50_ms"] = round(percentile(page_timings(data_dir, namespace), 50), 1)
    texts = work.spare[args.remembers :]
    results |= await concurrent_load(data_dir, namespace, work.queries, texts, args.clients, args.calls_per_client)
    results["rss_mb"] = round(owner_memory_mb(data_dir), 1)
    return results


async def measure_startup(args: argparse.Namespace, data_dir: Path, namespace: str) -> dict[str, float]:
    """First recall after a cold start (median of --runs), then initialize with the server warm (--warm-runs)."""
    cold = []
    for _ in range(args.runs):
        stop_owner(OwnerFiles(data_dir))
        started = time.perf_counter()
        async with stdio_session(data_dir, "benchmark", namespace) as session:
            await answer(session, "recall", {"query": "where does Alice live?"})
            cold.append(time.perf_counter() - started)
    warm = []
    for _ in range(args.warm_runs):
        started = time.perf_counter()
        async with stdio_session(data_dir, "benchmark", namespace):
            warm.append((time.perf_counter() - started) * 1000)
    return {"initialize_ms": round(statistics.median(warm), 1), "first_recall_s": round(statistics.median(cold), 2)}


def owner_memory_mb(data_dir: Path, field: str = "VmRSS") -> float:
    """The running server's resident memory (`VmRSS`), or its peak (`VmHWM`), in MB."""
    info = OwnerFiles(data_dir).read_info()
    if info is None:
        raise RuntimeError("no server is running to measure")
    for line in Path(f"/proc/{info['pid']}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"the server's status has no {field}")


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: the smallest value with p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ----------------------------------------------------------------------------------------------------------
# Measuring in this process, with the server stopped.


def server_embedder() -> Embedder:
    """The model as the server runs it, with the same settings."""
    settings = Settings()
    return load_embedder(settings.embedding_model, settings.embedding_backend, settings.model_cache_dir)


def encode_rate(embedder: Embedder, texts: list[str]) -> float:
    """Texts a second the model encodes in batches as large as an import call's, warmed up first."""
    sample = texts[:ENCODE_SAMPLE]
    embedder.embed(sample[:64])
    started = time.perf_counter()
    for start in range(0, len(sample), BATCH):
        embedder.embed(sample[start : start + BATCH])
    return len(sample) / (time.perf_counter() - started)


def overlap_at_10(embedder: Embedder, data_dir: Path, namespace: str, queries: list[str]) -> float:
    """Mean share of the exact top 10 (by brute force over every stored vector) that HNSW returns."""
    store = configured_store(Settings(data_dir=data_dir), model_name=embedder.name, dimension=embedder.dimension)
    ids, matrix = stored_vectors(store, namespace)
    k = min(10, len(ids))
    shares = []
    for vector in embedder.embed(queries):
        approximate = {found.record.id for found in store.query(namespace, vector, k)}
        scores = matrix @ np.asarray(vector, dtype=np.float32)  # cosine: the vectors have unit length
        exact = {ids[i] for i in np.argpartition(-scores, k - 1)[:k]}
        shares.append(len(exact & approximate) / k)
    return statistics.fmean(shares)


def stored_vectors(store: ChromaStore, namespace: str, page: int = 5000) -> tuple[list[str], np.ndarray]:
    """Every record of the live shelf (memories and their parts) with its vector, a page at a time."""
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    while rows := store.page(namespace, "live", len(ids), page, embeddings=True):
        ids += [record.id for record, _ in rows]
        vectors.append(np.asarray([vector for _, vector in rows], dtype=np.float32))
    return ids, np.concatenate(vectors)


def measure_in_process(embedder: Embedder, data_dir: Path, namespace: str, work: Workload) -> dict[str, float]:
    texts = [record["content"] for record in work.records]
    return {
        "encode_per_s": round(encode_rate(embedder, texts), 1),
        "overlap_at_10": round(overlap_at_10(embedder, data_dir, namespace, work.queries), 3),
    }


# ----------------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    """Each size in a data directory of its own under `directory`; every server started is stopped."""
    results: dict[str, Any] = {"initialize_ms": None, "first_recall_s": None, "sizes": {}}
    sizes = sorted(args.sizes)
    embedder: Embedder | None = None
    for size in sizes:
        data_dir, namespace = directory / f"size-{size}", f"bench-{size}"
        work = Workload.of(size, args.queries, args.remembers + args.clients * args.calls_per_client)
        try:
            served = await measure_served(args, data_dir, namespace, work)
            if size == sizes[0]:
                results |= await measure_startup(args, data_dir, namespace)
        finally:
            stop_owner(OwnerFiles(data_dir))
        embedder = embedder or server_embedder()  # loaded once no server is busy
        results["sizes"][str(size)] = served | measure_in_process(embedder, data_dir, namespace, work)
        if not args.json:
            print(f"{size:,} memories measured", file=sys.stderr)
    return results


def print_table(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    sizes = results["sizes"]
    table = Table(title="mcp-memory latency (recalls through the stdio bridge unless named)")
    table.add_column("measure")
    for size in sizes:
        table.add_column(f"{int(size):,} memories", justify="right")
    for key in next(iter(sizes.values())):
        table.add_row(key, *(f"{sizes[size][key]:,}" for size in sizes))
    console = Console()
    console.print(table)
    console.print(f"initialize (server warm): {results['initialize_ms']} ms")
    console.print(f"first recall after a cold start: {results['first_recall_s']} s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10000, 100000], help="store sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=200, help="distinct recalls to time, and as many filtered")
    parser.add_argument("--remembers", type=int, default=50, help="remember calls to time")
    parser.add_argument("--clients", type=int, default=8, help="sessions calling at once")
    parser.add_argument("--calls-per-client", type=int, default=50, help="calls each concurrent session makes")
    parser.add_argument("--runs", type=int, default=3, help="cold starts to take the median of")
    parser.add_argument("--warm-runs", type=int, default=10, help="bridge starts to take the median of")
    parser.add_argument("--chroma-url", help="keep the memories on this Chroma server (http://host:port)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    return parser.parse_args()


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    args = parse_args()
    if args.chroma_url:  # the servers the bridges start inherit it, as does the store this process opens
        os.environ["MCP_MEMORY_CHROMA_URL"] = args.chroma_url
    with tempfile.TemporaryDirectory(prefix="mcp-memory-latency-") as work:
        results = anyio.run(run, args, Path(work))
    if args.json:
        print(json.dumps(results))
    else:
        print_table(results)


if __name__ == "__main__":
    main()
