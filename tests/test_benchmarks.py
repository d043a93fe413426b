"""The benchmarks run on any file of their format and print the numbers they promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CONVERSATION = {
    "sample_id": "Tiny Talk 1",
    "conversation": {
        "speaker_a": "Ana",
        "speaker_b": "Ben",
        "session_1_date_time": "9:00 am on 3 March, 2024",
        "session_1": [
            {"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a greyhound called Biscuit last week."},
            {"speaker": "Ben", "dia_id": "D1:2", "text": "Lovely! Is Biscuit settling in?"},
            {"speaker": "Ana", "dia_id": "D1:3", "text": "Yes, she sleeps all day on the sofa."},
        ],
        "session_2_date_time": "6:30 pm on 10 April, 2024",
        "session_2": [
            {"speaker": "Ben", "dia_id": "D2:1", "text": "I finally ran the Lisbon half marathon."},
            {"speaker": "Ana", "dia_id": "D2:2", "text": "What was your time?", "blip_caption": "a finish line"},
            {"speaker": "Ben", "dia_id": "D2:3", "text": "One hour fifty-two minutes."},
        ],
    },
    "qa": [
        {"question": "What is the name of Ana's dog?", "answer": "Biscuit", "evidence": ["D1:1"], "category": 4},
        {"question": "Which race did Ben run?", "answer": "Lisbon half marathon", "evidence": ["D2:1"], "category": 4},
        {"question": "How long did Ben's race take?", "answer": "1:52", "evidence": ["D2:3; D2:1"], "category": 1},
        {"question": "Unanswerable", "answer": "", "evidence": ["D9:99", "D"], "category": 5},
    ],
}


def run_benchmark(script: str, *args: str) -> dict[str, Any]:
    """Run a benchmark as a person would, and read the JSON it prints."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_the_locomo_benchmark_reports_recall_at_k_for_any_file_of_its_format(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    data.write_text(json.dumps([CONVERSATION]))
    result = run_benchmark("locomo.py", "--data", str(data))
    assert result["questions"] == 3  # the one with no valid evidence is left out
    assert result["recall@50"] == 1.0 and 0 < result["recall@1"] <= result["recall@5"] <= 1.0
    assert set(result["by_category"]) == {"1", "4"}
    assert set(result) >= {"recall@10", "recall@20", "by_conversation", "ingest_seconds", "recall_p50_ms"}


def test_the_retention_benchmark_reports_what_it_promises() -> None:
    result = run_benchmark("retention.py", "--notes", "1", "--repeats", "3", "--memories", "5")
    assert result["long_notes"]["ranks"] == [1] and result["long_notes"]["matched_part_holds_the_fact"] == 1
    assert result["duplicates"]["memories_after"] == 1
    assert result["forget_by_filter"]["forgotten"] == 5 and len(result["forget_by_filter"]["recalled_after"]) == 1


def test_the_transfer_benchmark_moves_every_memory_and_reports_its_speeds() -> None:
    result = run_benchmark("transfer.py", "--memories", "40")
    assert result["memories"] == 40 and result["import_vectors"]["embedded"] == 0
    assert result["import_embedding"]["embedded"] >= 40
    assert all(result[step]["per_s"] > 0 for step in ("import_embedding", "export_vectors", "export_plain"))
    assert result["owner_peak_rss_mb"] > 0 and result["raw_encode_per_s"] > 0
    assert result["chroma_add_per_s"] > 0 and result["in_process_import_vectors_per_s"] > 0


def test_the_latency_benchmark_reports_every_measure_for_each_size() -> None:
    result = run_benchmark(
        "latency.py", "--sizes", "60", "--queries", "20", "--runs", "1", "--warm-runs", "2", "--clients", "2",
        "--calls-per-client", "10", "--remembers", "5",
    )  # fmt: skip
    assert result["initialize_ms"] > 0 and result["first_recall_s"] > 0
    size = result["sizes"]["60"]
    assert 0 < size["recall_p50_ms"] <= size["recall_p95_ms"] <= size["recall_p99_ms"]
    assert size["filtered_recall_p95_ms"] > 0 and size["recall_http_p50_ms"] > 0 and size["remember_p50_ms"] > 0
    assert size["dashboard_page_p50_ms"] > 0
    assert 0 <= size["overlap_at_10"] <= 1
    assert size["ingest_per_s"] > 0 and size["encode_per_s"] > 0 and size["rss_mb"] > 0
    assert size["concurrent_recalls_per_s"] > 0 and size["concurrent_recall_p95_ms"] > 0
