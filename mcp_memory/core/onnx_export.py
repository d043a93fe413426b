"""A sentence-transformers model's encoder as an ONNX graph, made once per model and kept in a cache.

Making the graph needs torch, transformers and the `onnx` package and takes seconds; the graph is
checked against the model it came from before it is kept, so the vectors it gives are the ones
the store already holds. Every later start loads the graph alone, without torch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any

from filelock import FileLock

from mcp_memory.core.errors import EmbeddingError
from mcp_memory.core.onnx_embedder import Layout, OnnxEmbedder

FORMAT = 1  # bumped when the export changes, so that older graphs are made again
AGREEMENT = 0.9999  # the least cosine between a graph's vector and the model's, on every check text
CHECK_TEXTS = (
    "hello",
    "The user prefers dark mode in every editor and terminal.",
    "Deploys go out on Tuesdays after the staging checks pass; never on a Friday afternoon. " * 12,
)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
WEIGHTS = (".safetensors", ".bin")
log = logging.getLogger(__name__)


def cached_graph(model_dir: Path, layout: Layout, cache_dir: Path) -> Path:
    """The ONNX graph of the model in `model_dir`, made now if the cache lacks it."""
    path = cache_dir / f"encoder-{_fingerprint(model_dir)}.onnx"
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):  # two servers starting at once make it once
        if not path.exists():
            log.info("preparing the embedding model for fast loading (once): %s", path)
            _export(model_dir, layout, path)
    return path


def _fingerprint(model_dir: Path) -> str:
    """Names what the graph is made of, by content: the encoder's config and its weights (by size and their
    first and last megabyte), so that a copy of a model finds the graph its original made."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    digest.update((model_dir / "config.json").read_bytes())
    for weights in sorted(p for p in model_dir.iterdir() if p.suffix in WEIGHTS and p.is_file()):
        size = weights.stat().st_size
        with weights.open("rb") as file:
            digest.update(f"{weights.name}:{size}".encode() + file.read(1 << 20))
            file.seek(max(size - (1 << 20), 0))
            digest.update(file.read())
    return digest.hexdigest()[:16]


def _export(model_dir: Path, layout: Layout, path: Path) -> None:
    """Writes the graph beside `path` and moves it into place only once it agrees with the model."""
    scratch = path.with_suffix(".partial")  # one name, under the lock: a killed export leaves no litter
    try:
        with warnings.catch_warnings():  # the exporter's notes on tracing are about its internals
            warnings.simplefilter("ignore")
            model = _encoder(model_dir)
            _trace(model, scratch)
            _check(model, OnnxEmbedder(str(model_dir), model_dir, layout, scratch))
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
    except EmbeddingError:
        raise
    except Exception as exc:
        raise EmbeddingError(f"cannot prepare the ONNX graph of {model_dir}: {exc}") from exc
    finally:
        scratch.unlink(missing_ok=True)


def _encoder(model_dir: Path) -> Any:
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # Eager attention traces to plain operators, which ONNX Runtime fuses into its own attention.
    return AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()


def _trace(model: Any, out: Path) -> None:
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 7592, 2088, 2088, 102]])  # traced with padding
    with torch.no_grad():
        torch.onnx.export(
            Encoder().eval(),  # a module left in training mode would be restored to it, dropout and all
            (ids, (ids != 0).long(), torch.zeros_like(ids)),
            str(out),
            dynamo=False,
            opset_version=17,
            do_constant_folding=True,
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")},
        )


def _check(model: Any, embedder: OnnxEmbedder) -> None:
    """Refuses a graph whose vectors differ from those the model gives on torch, pooled the same way."""
    import numpy as np
    import torch

    found = np.asarray(embedder.embed(CHECK_TEXTS))
    for text, vector in zip(CHECK_TEXTS, found, strict=True):
        ids = torch.tensor([embedder.token_ids(text)])
        with torch.no_grad():
            tokens = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
        pooled = (tokens[0] if embedder.pooling == "cls" else tokens.mean(dim=0)).numpy()
        agreement = float(pooled @ vector / np.linalg.norm(pooled))
        if agreement < AGREEMENT:
            raise EmbeddingError(f"the ONNX graph of {embedder.name} disagrees with the model (cosine {agreement:.6f})")
