"""The OpenAI-compatible path end to end: llama.cpp's server with SmolLM2 on loopback, and
a scripted OpenAI-compatible server for the reply a test needs.

SmolLM2-135M ignores most of the prompt's format, so its test checks structure (every
citation resolves to a real passage of the seed), never wording; the scripted server's
test checks that a cited reply comes back with its citation resolved to the passage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai import Behaviour, serve_fake_openai
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


def test_ask_through_a_real_openai_compatible_server(
    base_url: str, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a real model on a shared CPU: the time limit is not what this test is about
    monkeypatch.setenv("RAG_TIMEOUT", "600")
    assert rag("ingest", str(seed_path.parent)).returncode == 0
    result = rag(
        "ask", KREMLIN, "--llm", "openai:smollm2", "--base-url", base_url, "--json", timeout=660
    )
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
    if not out["refused"] and not numbers:  # an uncited answer is never passed silently
        assert any(w.startswith("unsupported") for w in out["warnings"]), out


PESKOV = (
    "Kremlin Spokesman Dmitry Peskov denied rumors about Russia interfering in the "
    "presidential and parliamentary elections in Turkey"
)


def test_a_cited_reply_over_http_resolves_to_the_passage_it_quotes(seed_path: Path) -> None:
    assert rag("ingest", str(seed_path)).returncode == 0
    seed = next(read_path(seed_path))
    assert isinstance(seed, Article)
    ask = ("ask", KREMLIN, "--llm", "openai:fake", "--json")
    with serve_fake_openai() as server:
        # the first request shows which source holds Peskov's sentence; the second cites it
        assert rag(*ask, "--base-url", server.url).returncode == 0
        prompt = server.requests[0]["body"]["messages"][-1]["content"]
        blocks = re.findall(r'<source n="(\d+)"[^>]*>(.*?)</source>', prompt, re.S)
        assert blocks and KREMLIN in prompt
        n = next(int(n) for n, body in blocks if PESKOV in body)  # chunks overlap
        bad = len(blocks) + 1  # a source number that was not shown
        server.then(Behaviour(text=f"{PESKOV}. [{n}] Russia was to blame. [{bad}]"))
        result = rag(*ask, "--base-url", server.url)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["llm"] == "openai:fake" and not out["refused"]
    assert out["answer"].startswith(f"{PESKOV}. [1]")  # renumbered by first use
    assert f"[{bad}]" not in out["answer"]
    assert any(f"no source {bad}" in w for w in out["warnings"])
    assert [c["n"] for c in out["citations"]] == list(range(1, len(out["citations"]) + 1))
    for cited in out["citations"]:  # the checker may cite the second sentence's support
        assert cited["article_id"] == seed.article_id
        assert seed.text[cited["start"] : cited["end"]] == cited["passage"]
    first = out["citations"][0]
    start, end = first["span"]
    assert PESKOV in first["passage"][start:end]


def test_unreachable_llm_server_fails_with_one_line_and_no_retry(
    seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest([str(seed_path)], Settings.load())
    monkeypatch.setenv("RAG_TIMEOUT", "5")
    monkeypatch.setenv("RAG_MAX_RETRIES", "0")
    port = free_port()
    result = rag("ask", KREMLIN, "--llm", "openai", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach the LLM server")
    assert str(port) in line
