"""Retention: how recency, importance and reinforcement move a memory up or down the ranking.

Relevance decides; retention breaks near-ties and lifts what matters. A memory's freshness is the
last time it was remembered, updated, recalled or remembered again, and it fades by its kind's
half-life (events fade fast, notes slowly, preferences and instructions never). `importance`
comes from the caller (0.5 when not given), and reinforcement grows with each use, saturating.
"""

from __future__ import annotations

import math
from datetime import datetime

from mcp_memory.core.config import Settings
from mcp_memory.core.models import MemoryRecord, Usage

SECONDS_PER_DAY = 86_400.0
REINFORCEMENT_SATURATION = 20  # uses after which more uses add nothing
NEUTRAL_IMPORTANCE = 0.5


def retention(record: MemoryRecord, usage: Usage, now: datetime, settings: Settings) -> float:
    """What to add to the memory's relevance, in units of the relevance scores' spread."""
    return (
        settings.recency_weight * (recency(record, usage, now, settings) - 1.0)
        + settings.importance_weight * 2 * (_importance(record) - NEUTRAL_IMPORTANCE)
        + settings.reinforcement_weight * reinforcement(usage)
    )


def recency(record: MemoryRecord, usage: Usage, now: datetime, settings: Settings) -> float:
    """1.0 for a fresh memory, halving with every half-life of its kind since it was last seen."""
    half_life = settings.half_life_days.get(record.kind)
    if not half_life:
        return 1.0
    seen = max(t for t in (record.created_at, record.updated_at, usage.last_seen_at) if t is not None)
    age_days = max(0.0, (now - seen).total_seconds() / SECONDS_PER_DAY)
    return float(0.5 ** (age_days / half_life))


def reinforcement(usage: Usage) -> float:
    """0.0 for a memory never used since it was stored, rising to 1.0 with use."""
    return min(1.0, math.log1p(usage.access_count) / math.log1p(REINFORCEMENT_SATURATION))


def _importance(record: MemoryRecord) -> float:
    return NEUTRAL_IMPORTANCE if record.importance is None else record.importance
