"""The tools' arguments, each described for the host model that fills it in.

Kept apart from `server.py` so that the tools' signatures there read as what each tool takes.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from mcp_memory.core.models import Kind
from mcp_memory.core.validation import MAX_BATCH, MAX_RECALL

# remember
Content = Annotated[
    str,
    Field(
        description="One self-contained fact, written so it makes sense with no conversation around it: "
        "name who and what, and give dates in full. Example: 'Alice prefers tabs over spaces in Python "
        "projects.' At most 64 KB."
    ),
]
Tags = Annotated[
    list[str],
    Field(description="Short lowercase labels to filter by later, such as a project or topic: ['work', 'acme-api']."),
]
MemoryKind = Annotated[
    Kind,
    Field(
        description="fact (default): something true; preference: what the user likes or wants; "
        "instruction: how the assistant should work; event: something that happened; note: anything else."
    ),
]
Importance = Annotated[
    float | None, Field(ge=0.0, le=1.0, description="0.0 trivial .. 1.0 critical; omit when unsure.")
]
OccurredAt = Annotated[
    str | None,
    Field(
        description="When the remembered thing happened: an ISO 8601 date or date-time (2024-05-01), "
        "or a phrase such as 'yesterday'."
    ),
]
Thread = Annotated[
    str | None,
    Field(
        description="Name of the conversation or thread this memory belongs to, when you store "
        "several from one exchange in order; each is then found also by what came before it."
    ),
]
Metadata = Annotated[
    dict[str, str | int | float | bool] | None,
    Field(description="Extra fields of your own (lowercase keys), returned by recall: {'ticket': 'ENG-42'}."),
]
Supersedes = Annotated[
    list[str] | None,
    Field(
        description="Ids of memories this one replaces because the fact changed (the user moved, changed "
        "their mind, a decision was revised). They leave recall but stay in history. Take the ids from "
        "`similar` in an earlier answer, or from recall."
    ),
]
Ttl = Annotated[
    str | None,
    Field(
        description="How long the memory stays true, for things that go stale, with a unit: '2 hours', "
        "'7 days', or ISO 8601 (P7D). It is forgotten after that. Omit for lasting memories."
    ),
]
ExpiresAt = Annotated[
    str | None,
    Field(description="Instead of ttl: when the memory stops being true, ISO 8601 or a phrase ('friday')."),
]


class NewMemory(BaseModel):
    """One memory of a `remember_many` call: the arguments `remember` takes, each described there."""

    content: Content
    tags: Tags = []  # pydantic copies defaults
    kind: MemoryKind = Kind.fact
    importance: Importance = None
    occurred_at: OccurredAt = None
    thread: Thread = None
    metadata: Metadata = None
    supersedes: Supersedes = None
    ttl: Ttl = None
    expires_at: ExpiresAt = None


NewMemories = Annotated[
    list[NewMemory],
    Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="The memories, each with its own content and options; a thread's turns in the order said.",
    ),
]

# recall
Query = Annotated[
    str,
    Field(
        description="What you are looking for, in natural language: 'preferred code formatting style', "
        "'where the user works', 'decisions about the billing service'. A phrase beats a single keyword."
    ),
]
Limit = Annotated[int, Field(ge=1, le=MAX_RECALL, description="How many memories to return, 1 to 50.")]
RecallTags = Annotated[list[str] | None, Field(description="Only memories carrying all of these tags.")]
RecallKind = Annotated[Kind | None, Field(description="Only memories of this kind.")]
Since = Annotated[
    str | None,
    Field(
        description="Only memories from then on (when it happened, else when it was stored): an ISO 8601 "
        "date or date-time, or a phrase such as 'last week' or 'March 2023' (from its start)."
    ),
]
Until = Annotated[
    str | None, Field(description="Only memories up to then, inclusive: ISO 8601 or a phrase, as for since.")
]
IncludeSuperseded = Annotated[
    bool,
    Field(
        description="Also search memories that were replaced by newer ones (each says what replaced it): "
        "for questions about what used to be true, or how something changed."
    ),
]
Explain = Annotated[
    bool, Field(description="Also return each memory's score parts: meaning, keywords, recency and importance.")
]

# forget
Ids = Annotated[
    list[str] | None, Field(description="Ids of the memories to delete, as returned by recall or remember.")
]
ForgetTags = Annotated[list[str] | None, Field(description="Instead of ids: every memory with all these tags.")]
ForgetKind = Annotated[Kind | None, Field(description="Instead of ids: every memory of this kind.")]
Source = Annotated[
    str | None, Field(description="Instead of ids: every memory written by this app (its MCP client name).")
]
Before = Annotated[
    str | None,
    Field(description="With a filter: only memories from before then, ISO 8601 or a phrase; the day named is kept."),
]
After = Annotated[str | None, Field(description="With a filter: only memories from then on (ISO 8601 or a phrase).")]
Everything = Annotated[
    bool, Field(description="Forget every memory of this namespace; needs confirm. Only on explicit request.")
]
Confirm = Annotated[str | None, Field(description="With everything: the namespace's name, to confirm.")]
DryRun = Annotated[
    bool, Field(description="List what would be forgotten, and change nothing. Do this first for filters.")
]
