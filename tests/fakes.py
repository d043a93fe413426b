"""A fake embedder for fast unit tests of the service's logic; end-to-end tests use the real model."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Bag of words hashed into a small unit vector: texts sharing words are close, others far."""

    def __init__(self, name: str = "test/hashing", dimension: int = 64) -> None:
        self._name = name
        self._dimension = dimension

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def window(self) -> int:
        """Words it reads; like a real model, it ignores the rest."""
        return 64

    def count_tokens(self, text: str) -> int:
        return len(WORD.findall(text))

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> list[float]:
        vector = [0.0] * self._dimension
        for word in WORD.findall(text.lower())[: self.window]:
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "big") % self._dimension] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]
