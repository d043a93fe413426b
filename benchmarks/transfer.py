"""Export and import speed, and the memory they take, on a namespace of --memories memories.

Runs the CLI as a person would, against the owner it starts, on a temporary data directory:
1. import a file of N synthetic memories without vectors (every memory embedded, in batches);
   beside it, the raw encode speed of the same model on the same texts in this process;
2. export the namespace with vectors; 3. import that file into another namespace (vectors kept,
   nothing embedded); 4. export without vectors.
Each step reports memories a second, and the peak RSS of the CLI process (bounded: it never holds a
namespace whole); the owner's peak RSS is reported at the end. Last, the vectors file is imported
again in this process with Chroma's own writes timed apart: the floor an import with vectors meets.

    python benchmarks/transfer.py [--memories 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import synthetic_memories
from latency import encode_rate, owner_memory_mb, server_embedder
from mcp_clients import EXECUTABLE, server_env

from mcp_memory.core.models import StoredMemory
from mcp_memory.serve.owner_files import OwnerFiles, stop_owner
from mcp_memory.transfer.importer import BATCH  # memories per import call, as `mcp-memory import` sends them
from mcp_memory.transfer.native import End, Header, memory_line, read_export, read_header

START = datetime(2025, 1, 1, tzinfo=UTC)


def write_source(path: Path, count: int) -> list[str]:
    """A file in the export format without vectors: every fifth memory a turn of a thread of ten."""
    texts = synthetic_memories(count)
    header = Header(namespace="bench", model="none", exported_at=datetime.now(UTC))
    with path.open("w") as out:
        out.write(header.model_dump_json() + "\n")
        for i, text in enumerate(texts):
            thread = f"chat-{i // 50}" if i % 5 == 0 else None
            memory = StoredMemory(
                content=text, created_at=START + timedelta(minutes=i), source="bench", thread=thread, tags=["bench"]
            )
            out.write(memory_line(memory) + "\n")
        out.write(End(memories=count).model_dump_json() + "\n")
    return texts


def timed(data_dir: Path, *args: str) -> tuple[float, float, str]:
    """Seconds, the CLI's peak RSS in MB, and its output."""
    started = time.perf_counter()
    process = subprocess.Popen([EXECUTABLE, *args], env=server_env(data_dir), stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"mcp-memory {' '.join(args)} failed with {process.returncode}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, output


def store_floor(vectors_file: Path, data_dir: Path) -> dict[str, int]:
    """The vectors file imported in this process, as the owner would (a check pass, then the writes),
    timing Chroma's `add` apart: how fast the store alone takes the same records, and the import here."""
    from mcp_memory.core.config import Settings
    from mcp_memory.serve.runtime import open_service
    from mcp_memory.transfer.entries import Entry

    service = open_service(Settings(data_dir=data_dir))
    store = service._store  # the benchmark looks inside: the time of Chroma's own writes
    adding, count = 0.0, 0
    original_add = store.add

    def timed_add(*args: Any, **kwargs: Any) -> None:
        nonlocal adding
        started = time.perf_counter()
        original_add(*args, **kwargs)
        adding += time.perf_counter() - started

    store.add = timed_add  # type: ignore[method-assign]
    with vectors_file.open() as stream:
        model = read_header(stream.readline()).model
        stream.seek(0)
        memories = [e.memory for e in read_export(stream, vectors_file.name) if isinstance(e, Entry)]
    started = time.perf_counter()
    for start in range(0, len(memories), BATCH):
        batch = memories[start : start + BATCH]
        service.import_memories("floor", [m.without_vectors() for m in batch], check_only=True)
        count += len(service.import_memories("floor", batch, model=model).imported)
    total = time.perf_counter() - started
    service.flush()  # the keyword index committed before its directory is removed
    return {"in_process_import_vectors_per_s": round(count / total), "chroma_add_per_s": round(count / adding)}


def run(count: int, work: Path) -> dict[str, Any]:
    data_dir = work / "data"
    texts = write_source(work / "source.jsonl", count)
    timed(data_dir, "stats", "--json")  # start the owner and load the model before timing
    results: dict[str, Any] = {"memories": count}
    steps = [
        ("import_embedding", ("import", str(work / "source.jsonl"), "-n", "bench", "--json")),
        ("export_vectors", ("export", "-n", "bench", "--vectors", "-o", str(work / "vectors.jsonl"))),
        ("import_vectors", ("import", str(work / "vectors.jsonl"), "-n", "copy", "--json")),
        ("export_plain", ("export", "-n", "copy", "-o", str(work / "plain.jsonl"))),
    ]
    for name, args in steps:
        seconds, rss, output = timed(data_dir, *args)
        step = {"seconds": round(seconds, 1), "per_s": round(count / seconds), "cli_rss_mb": round(rss)}
        if "--json" in args:
            step["embedded"] = json.loads(output)["embedded"]
        results[name] = step
    results["vectors_file_mb"] = round((work / "vectors.jsonl").stat().st_size / 2**20, 1)
    results["owner_peak_rss_mb"] = owner_memory_mb(data_dir, "VmHWM")
    stop_owner(OwnerFiles(data_dir))
    results["raw_encode_per_s"] = round(encode_rate(server_embedder(), texts[:2000]))
    results.update(store_floor(work / "vectors.jsonl", work / "floor"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--memories", type=int, default=10000, help="memories in the namespace")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcp-memory-transfer-") as work:
        results = run(args.memories, Path(work))
    if args.json:
        print(json.dumps(results))
        return
    for key, value in results.items():
        print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
