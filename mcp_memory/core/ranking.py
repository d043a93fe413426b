"""Ranking: the retrievers' scores fused into relevance, then adjusted for retention, one hit per memory.

Every memory's score parts are kept for `explain`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mcp_memory.core.models import MemoryRecord, ScoreParts

Fusion = Literal["zscore", "rrf", "dense", "keyword"]
RRF_K = 60  # the constant of Cormack et al.'s reciprocal rank fusion


@dataclass(frozen=True)
class Candidate:
    record: MemoryRecord  # a memory, or a part of a long one
    similarity: float  # cosine similarity to the query
    keyword: float  # BM25 score; 0 when the record shares no word with the query


@dataclass(frozen=True)
class Relevance:
    score: float  # the retrievers' scores fused
    similarity_rank: int
    keyword_rank: int | None  # None when the record shares no word with the query


def fuse(candidates: Sequence[Candidate], method: Fusion, dense_weight: float) -> list[Relevance]:
    """Each candidate's relevance, by `method`:

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
    return [
        Relevance(fused[i], similarity_rank[i], keyword_rank[i] if c.keyword > 0 else None)
        for i, c in enumerate(candidates)
    ]


def rank(
    candidates: Sequence[Candidate], relevance: Sequence[Relevance], retention: Sequence[float], limit: int
) -> list[tuple[Candidate, ScoreParts]]:
    """The `limit` best memories, best first: relevance plus retention, each memory once (its best record).

    Retention is given in units of the relevance scores' spread over the candidates, so it weighs
    the same whatever the fusion method's scale.
    """
    spread = (statistics.pstdev([r.score for r in relevance]) if len(relevance) > 1 else 0.0) or 1.0
    final = [r.score + spread * kept for r, kept in zip(relevance, retention, strict=True)]
    best: dict[str, int] = {}
    for i in sorted(range(len(candidates)), key=final.__getitem__, reverse=True):
        best.setdefault(candidates[i].record.memory_id, i)
        if len(best) == limit:
            break
    return [(candidates[i], _parts(candidates[i], relevance[i], final[i])) for i in best.values()]


def _parts(candidate: Candidate, relevance: Relevance, final: float) -> ScoreParts:
    return ScoreParts(
        similarity=round(candidate.similarity, 4),
        keyword=round(candidate.keyword, 4),
        similarity_rank=relevance.similarity_rank,
        keyword_rank=relevance.keyword_rank,
        relevance=round(relevance.score, 4),
        retention=round(final - relevance.score, 4),
        fused=round(final, 4),
    )


def _zscores(values: Sequence[float]) -> list[float]:
    if len(values) < 2:
        return [0.0] * len(values)
    mean, spread = statistics.fmean(values), statistics.pstdev(values)
    return [(v - mean) / spread if spread > 0 else 0.0 for v in values]


def _ranks(values: Sequence[float]) -> list[int]:
    """1 for the highest value."""
    ranks = [0] * len(values)
    for rank_, i in enumerate(sorted(range(len(values)), key=lambda i: values[i], reverse=True), start=1):
        ranks[i] = rank_
    return ranks
