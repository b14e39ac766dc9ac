"""The OpenAI-compatible path end to end: llama.cpp's server with SmolLM2 on loopback.

SmolLM2-135M ignores most of the prompt's format, so these tests check structure (every
citation resolves to a real passage of the seed), never wording.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import free_port, llama_server, rag

from rag.ingest import ingest
from rag.llm import smollm2_path
from rag.readers import read_path
from rag.settings import Settings
from rag.types import Article

pytestmark = pytest.mark.slow

KREMLIN = "What did the Kremlin say?"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """One llama.cpp server for the module (loading takes a few seconds)."""
    with llama_server(smollm2_path()) as url:
        yield url


def test_ask_through_a_real_openai_compatible_server(base_url: str, seed_path: Path) -> None:
    assert rag("ingest", str(seed_path.parent)).returncode == 0
    result = rag("ask", KREMLIN, "--llm", "openai:smollm2", "--base-url", base_url, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["llm"].startswith("openai")
    assert isinstance(out["refused"], bool)
    assert out["answer"].strip() or out["refused"]

    seed = next(read_path(seed_path))
    assert isinstance(seed, Article)
    numbers = [c["n"] for c in out["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    for citation in out["citations"]:
        assert citation["article_id"] == seed.article_id
        assert citation["passage"] in seed.text
        assert seed.text[citation["start"] : citation["end"]] == citation["passage"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", out["answer"])}
    assert markers <= set(numbers)


def test_unreachable_llm_server_fails_fast_with_one_line(
    seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest([str(seed_path)], Settings.load())
    monkeypatch.setenv("RAG_TIMEOUT", "5")
    monkeypatch.setenv("RAG_MAX_RETRIES", "0")
    port = free_port()
    started = time.monotonic()
    result = rag("ask", KREMLIN, "--llm", "openai", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach the LLM server")
    assert str(port) in line
