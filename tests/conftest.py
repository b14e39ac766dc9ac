"""Shared fixtures: every test gets its own data dir and a clean environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "erdogan-rival-accuses-russia-deep-fake.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

ENV_PREFIXES = ("RAG_", "OPENAI_", "CHROMA_")
# read before the autouse fixture clears RAG_* variables
SHARED = Path(os.environ.get("RAG_SHARED_DIR") or ROOT.parent / "shared")


def shared_dir() -> Path:
    """../shared beside the project (or RAG_SHARED_DIR)."""
    return SHARED


def require_shared(*parts: str) -> Path:
    """A path under ../shared, or skip the test with a clear message."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found at {path}: set RAG_SHARED_DIR to run this test")
    return path


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data dir, no config file, no keys, no telemetry."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    monkeypatch.setenv("RAG_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.setenv("COLUMNS", "120")
    return data


@pytest.fixture
def seed_path() -> Path:
    """The seed article inside the project."""
    return SEED


@pytest.fixture
def break_quotes(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Makes the quote extractor fail (RecursionError, as it once did on a newsqa article)
    on every text holding a fragment."""
    from rag.quotes import extract as module

    def breaking(fragment: str) -> None:
        extract = module.extract_quotes

        def faulty(article_id: str, text: str) -> Any:
            if fragment in text:
                raise RecursionError("maximum recursion depth exceeded")
            return extract(article_id, text)

        monkeypatch.setattr(module, "extract_quotes", faulty)

    return breaking
