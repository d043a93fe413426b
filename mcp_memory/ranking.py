"""Ranking: the retrievers' scores fused into relevance, then adjusted for retention, one hit per memory.

Every memory's score parts are kept for `explain`.
"""

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
    record: MemoryRecord  # a memory, or a part of a long one
    similarity: float  # cosine similarity to the query
    keyword: float  # BM25 score; 0 when the record shares no word with the query


def fuse(candidates: Sequence[Candidate], method: Fusion, dense_weight: float) -> list[ScoreParts]:
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
        ScoreParts(
            similarity=round(c.similarity, 4),
            keyword=round(c.keyword, 4),
            similarity_rank=similarity_rank[i],
            keyword_rank=keyword_rank[i] if c.keyword > 0 else None,
            relevance=round(fused[i], 4),
            fused=fused[i],
        )
        for i, c in enumerate(candidates)
    ]


def rank(
    candidates: Sequence[Candidate], parts: Sequence[ScoreParts], retention: Sequence[float], limit: int
) -> list[tuple[Candidate, ScoreParts]]:
    """The `limit` best memories, best first: relevance plus retention, each memory once (its best record).

    Retention is given in units of the relevance scores' spread over the candidates, so it weighs
    the same whatever the fusion method's scale.
    """
    spread = statistics.pstdev([p.fused for p in parts]) if len(parts) > 1 else 0.0
    spread = spread or 1.0
    scored = [
        (c, p.model_copy(update={"retention": round(spread * r, 4), "fused": round(p.fused + spread * r, 4)}))
        for c, p, r in zip(candidates, parts, retention, strict=True)
    ]
    scored.sort(key=lambda pair: pair[1].fused, reverse=True)
    best: dict[str, tuple[Candidate, ScoreParts]] = {}
    for candidate, score in scored:
        best.setdefault(candidate.record.memory_id, (candidate, score))
        if len(best) == limit:
            break
    return list(best.values())


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
