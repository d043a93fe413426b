"""Texts for tests and benchmarks that need more than a sentence."""

from __future__ import annotations

import random

FACT = (
    "One last thing before we closed: the backup generator at the Oslo office is serviced by "
    "Nordlys Power, and the contract number is NP-4471."
)
QUESTION = "Which company services the backup generator in Oslo?"


def long_note(seed: int = 7, words: int = 3000) -> str:
    """Meeting notes about many topics: a long, varied text."""
    rng = random.Random(seed)
    people = ["Ana", "Bruno", "Chen", "Dara", "Emeka", "Farah", "Goran", "Hana"]
    topics = [
        "the billing migration",
        "hiring for the data team",
        "the Q3 roadmap",
        "office plants",
        "the mobile release",
        "customer churn",
        "the holiday rota",
        "database backups",
        "the design system",
        "security training",
        "the Lisbon offsite",
        "API rate limits",
    ]
    verbs = [
        "raised concerns about",
        "proposed changes to",
        "summarised progress on",
        "asked for help with",
        "will follow up on",
        "presented numbers on",
    ]
    paragraphs, count = [], 0
    while count < words - 40:
        sentences = [
            f"{rng.choice(people)} {rng.choice(verbs)} {rng.choice(topics)}, noting that item {rng.randint(1, 999)} "
            f"is {rng.choice(['on track', 'delayed', 'blocked', 'done', 'under review'])}."
            for _ in range(rng.randint(3, 6))
        ]
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    paragraphs.append(FACT)
    return "\n\n".join(paragraphs)
