"""Fusing the retrievers' scores into one ranking, with each memory's score parts kept for `explain`."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mcp_memory.models import MemoryRecord, ScoreParts

Fusion = Literal["zscore", "rrf", "dense", "keyword"]
RRF_K = 60  # the constant of Cormack et al.'s reciprocal rank fusion


@dataclass(frozen=True)
class Candidate:
    record: MemoryRecord
    similarity: float  # cosine similarity to the query
    keyword: float  # BM25 score; 0 when the memory shares no word with the query


def fuse(
    candidates: Sequence[Candidate], method: Fusion, dense_weight: float, limit: int
) -> list[tuple[Candidate, ScoreParts]]:
    """The `limit` best candidates, best first, by `method`:

    - zscore: each retriever's scores standardised over the candidates, then weighted and summed;
      unlike rank fusion it keeps how far ahead a clear winner is.
    - rrf: reciprocal rank fusion, which ignores score scales altogether.
    - dense / keyword: one retriever alone (for comparison).
    """
    similarity_rank = _ranks([c.similarity for c in candidates])
    keyword_rank = _ranks([c.keyword for c in candidates])
    if method == "zscore":
        fused = [
            dense_weight * zs + (1 - dense_weight) * zk
            for zs, zk in zip(
                _zscores([c.similarity for c in candidates]), _zscores([c.keyword for c in candidates]), strict=True
            )
        ]
    elif method == "rrf":
        fused = [
            dense_weight / (RRF_K + rs) + ((1 - dense_weight) / (RRF_K + rk) if c.keyword > 0 else 0.0)
            for c, rs, rk in zip(candidates, similarity_rank, keyword_rank, strict=True)
        ]
    elif method == "dense":
        fused = [c.similarity for c in candidates]
    else:
        fused = [c.keyword + 1e-3 * c.similarity for c in candidates]
    order = sorted(range(len(candidates)), key=lambda i: fused[i], reverse=True)[:limit]
    return [
        (
            candidates[i],
            ScoreParts(
                similarity=round(candidates[i].similarity, 4),
                keyword=round(candidates[i].keyword, 4),
                similarity_rank=similarity_rank[i],
                keyword_rank=keyword_rank[i] if candidates[i].keyword > 0 else None,
                fused=round(fused[i], 4),
            ),
        )
        for i in order
    ]


def _zscores(values: Sequence[float]) -> list[float]:
    if len(values) < 2:
        return [0.0] * len(values)
    mean, spread = statistics.fmean(values), statistics.pstdev(values)
    return [(v - mean) / spread if spread > 0 else 0.0 for v in values]


def _ranks(values: Sequence[float]) -> list[int]:
    """1 for the highest value."""
    ranks = [0] * len(values)
    for rank, i in enumerate(sorted(range(len(values)), key=lambda i: values[i], reverse=True), start=1):
        ranks[i] = rank
    return ranks
