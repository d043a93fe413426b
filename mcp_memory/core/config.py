"""One settings object: `MCP_MEMORY_*` environment variables, mirrored by CLI options."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mcp_memory.core.models import Kind
from mcp_memory.core.paths import default_data_dir, default_model_cache_dir
from mcp_memory.core.ranking import Fusion

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_HALF_LIVES: dict[Kind, float | None] = {
    Kind.event: 30.0,
    Kind.note: 90.0,
    Kind.fact: 365.0,
    Kind.preference: None,
    Kind.instruction: None,
}


class Settings(BaseSettings):
    """Everything a process of mcp-memory can be told; loaded once at its edge."""

    model_config = SettingsConfigDict(env_prefix="MCP_MEMORY_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory holding the Chroma store.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="A Chroma server to keep memories in ('http://chroma.lan:8000'; https for TLS), shared by "
        "every memory server pointed at it. Unset: Chroma embedded in the data directory.",
    )
    chroma_token: str | None = Field(
        default=None, description="Bearer token sent to the Chroma server (for the proxy that guards it)."
    )
    chroma_ca_file: Path | None = Field(
        default=None, description="CA certificates to check an https Chroma server against; else the system's."
    )
    namespace: str = Field(default="default", description="Namespace used when the client names none.")
    embedding_model: str = Field(
        default=DEFAULT_MODEL,
        description="sentence-transformers model name or path; the default ships inside a package.",
    )
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(
        default="auto",
        description="How the model runs: 'auto' as an ONNX graph where the model allows (fast, no torch), "
        "else on torch; 'onnx' or 'torch' to insist.",
    )
    model_cache_dir: Path = Field(
        default_factory=default_model_cache_dir,
        description="Where the ONNX graph made from the model is kept; made once, on the first start.",
    )
    host: str = "127.0.0.1"
    port: int = 8765
    auth: bool = Field(
        default=True,
        description="Require a bearer token over HTTP; false (`serve --no-auth`) only on a loopback address.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Extra Host header values HTTP requests may carry ('memory.example:8765'); the server's "
        "own address is always allowed.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Extra Origin values (browser pages) allowed to call the server ('http://localhost:6274').",
    )
    idle_exit: float = Field(
        default=1800.0,
        gt=0,
        description="Seconds with no client after which a server started by a bridge stops; "
        "`serve` run by hand stays up unless given --idle-exit.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=64 * 1024, description="Largest HTTP request body accepted, in bytes."
    )
    max_content_bytes: int = Field(default=64 * 1024, description="Largest memory accepted, in UTF-8 bytes.")
    similar_threshold: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Cosine similarity above which remember reports a memory as similar."
    )
    near_duplicate_threshold: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="Cosine similarity above which remember answers status 'similar': likely the same fact.",
    )
    half_life_days: dict[Kind, float | None] = Field(
        default=DEFAULT_HALF_LIVES,
        description="Days after which a kind's memories count half as fresh in ranking; null: never fade. "
        'Kinds not named keep their default: {"event": 7} changes events only.',
    )
    recency_weight: float = Field(default=0.2, ge=0.0, description="How much fading lowers a memory's rank.")
    importance_weight: float = Field(default=0.2, ge=0.0, description="How much importance moves a memory's rank.")
    reinforcement_weight: float = Field(default=0.1, ge=0.0, description="How much repeated use lifts a memory.")
    part_tokens: int = Field(
        default=128, ge=16, description="Size, in word pieces, of the parts a memory too long for the model becomes."
    )
    purge_interval: float = Field(default=60.0, gt=0, description="Seconds between purges of expired memories.")
    fusion: Fusion = Field(default="zscore", description="How dense and keyword scores are combined.")
    dense_weight: float = Field(default=0.5, ge=0.0, le=1.0, description="Weight of meaning against keywords.")
    candidate_pool: int = Field(default=50, ge=1, description="Candidates each retriever contributes.")
    thread_context: bool = Field(default=True, description="Embed a thread's memory after its predecessor.")
    hnsw_search_ef: int = Field(default=100, ge=10, description="HNSW ef at query time; higher is more exact.")
    log_level: str = "WARNING"

    @field_validator("half_life_days")
    @classmethod
    def _over_defaults(cls, value: dict[Kind, float | None]) -> dict[Kind, float | None]:
        return {**DEFAULT_HALF_LIVES, **value}

    @field_validator("data_dir", "model_cache_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # The socket path and the owner's info are compared across processes started elsewhere.
        return value.expanduser().resolve()
