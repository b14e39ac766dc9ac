"""A faulty OpenAI-compatible server: ``rag ask`` fails with one clear line within the
timeout, or gives a degraded but honest answer; ``rag chat`` goes on to the next question.

The server is ``fake_openai`` on loopback; RAG_TIMEOUT is 2 s and RAG_MAX_RETRIES 1. A few
cases run ``rag`` as a process (the real entry point, no traceback); the rest run the same
command in process with typer's CliRunner to keep the module short.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_openai import Behaviour, FakeOpenAI, chunk, serve_fake_openai
from servers import BIN, free_port
from typer.testing import CliRunner

from rag.cli import app
from rag.ingest import ingest
from rag.settings import Settings

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
QUESTION = "What did the Kremlin say?"
TIMEOUT = 2.0
SLACK = 1.5  # seconds between the timeout firing and the process having exited


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed and the fixture articles, ingested once for the module."""
    data = tmp_path_factory.mktemp("faulty") / "data"
    settings = Settings.load(flags={"data_dir": data}, env={})
    assert ingest([str(SEEDS), str(FIXTURES)], settings).added
    return data


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RAG_TIMEOUT", str(TIMEOUT))
    monkeypatch.setenv("RAG_MAX_RETRIES", "1")
    with serve_fake_openai() as fake:
        yield fake


@dataclass
class Run:
    """How a ``rag`` command ended, and when (monotonic clock)."""

    returncode: int
    stdout: str
    stderr: str
    ended: float


def run(*args: str, stdin: str | None = None, process: bool = True) -> Run:
    """``rag ARGS`` as a process (bounded), or in this process with typer's CliRunner."""
    if process:
        done = subprocess.run(
            [str(BIN / "rag"), *args], input=stdin, capture_output=True, text=True, timeout=60
        )
        return Run(done.returncode, done.stdout, done.stderr, time.monotonic())
    result = CliRunner().invoke(app, list(args), input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr, time.monotonic())


def ask(base_url: str, *extra: str, process: bool = False) -> Run:
    return run(
        "ask", QUESTION, "--llm", "openai:x", "--base-url", base_url, *extra, process=process
    )


def one_error_line(result: Run) -> str:
    """Exit 1, and stderr is exactly one ``error:`` line (no traceback)."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_connection_refused(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RAG_MAX_RETRIES", "1")
    url = f"http://127.0.0.1:{free_port()}/v1"
    result = ask(url, process=True)
    assert one_error_line(result) == f"error: cannot reach the LLM server: {url}/"


def test_http_500_is_retried_then_one_line(server: FakeOpenAI) -> None:
    server.default = Behaviour("status", status=500)
    result = ask(server.url, process=True)
    assert one_error_line(result) == "error: the LLM server failed: HTTP 500"
    assert len(server.requests) == 2  # the call and one retry


def test_429_waits_for_retry_after_then_one_line(server: FakeOpenAI) -> None:
    server.default = Behaviour("status", status=429, headers={"Retry-After": "1"})
    result = ask(server.url)
    assert one_error_line(result) == (
        "error: the LLM server is rate limiting (429); try again later"
    )
    first, second = (r["time"] for r in server.requests)
    assert second - first >= 0.9


def test_429_then_success_answers(server: FakeOpenAI) -> None:
    server.then(Behaviour("status", status=429, headers={"Retry-After": "1"}))
    result = ask(server.url, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"] == "The Kremlin denied any interference. [1]"


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (Behaviour("hang"), f"error: the LLM did not answer within {TIMEOUT:g} s"),
        (Behaviour("trickle", text="more"), f"error: the LLM did not finish within {TIMEOUT:g} s"),
    ],
    ids=["silent", "endless"],
)
def test_reply_that_never_ends_hits_the_timeout(
    server: FakeOpenAI, behaviour: Behaviour, message: str
) -> None:
    server.default = behaviour
    result = ask(server.url, process=behaviour.kind == "trickle")
    assert one_error_line(result) == message
    [request] = server.requests  # a started stream is not retried
    assert result.ended - request["time"] < TIMEOUT + SLACK


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (Behaviour("cut"), "error: the LLM server broke off its reply"),
        (
            Behaviour("raw", events=[chunk(123), "[DONE]"]),
            "error: the LLM server sent a reply that is not text",
        ),
        (
            Behaviour("raw", events=[chunk([{"type": "text", "text": "x"}]), "[DONE]"]),
            "error: the LLM server sent a reply that is not text",
        ),
        (
            Behaviour("raw", events=["not json", "[DONE]"]),
            "error: the LLM server sent a malformed reply: Expecting value: line 1 column 1 "
            "(char 0)",
        ),
    ],
    ids=["cut-off", "number", "content-parts", "not-json"],
)
def test_broken_stream_is_one_line(server: FakeOpenAI, behaviour: Behaviour, message: str) -> None:
    server.default = behaviour
    result = ask(server.url, process=behaviour.kind == "cut")
    assert one_error_line(result) == message


@pytest.mark.parametrize(
    "events",
    [[chunk(None, "stop"), "[DONE]"], [chunk(""), chunk("   "), "[DONE]"], ["[DONE]"]],
    ids=["no-content", "blank", "done-only"],
)
def test_empty_reply_is_an_honest_refusal(server: FakeOpenAI, events: list[str]) -> None:
    server.default = Behaviour("raw", events=events)
    result = ask(server.url, "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["refused"] is True
    assert answer["answer"] == "The articles don't say."
    assert answer["citations"] == []


def test_citations_to_passages_that_do_not_exist_are_removed(server: FakeOpenAI) -> None:
    server.default = Behaviour(
        text="Peskov said there is no interference [7]. Russia denied it [1]. See [2][9]."
    )
    result = ask(server.url, "--json", "--k", "5")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert "[7]" not in answer["answer"] and "[9]" not in answer["answer"]
    numbers = [c["n"] for c in answer["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) <= 5


def test_chat_goes_on_after_a_failure(server: FakeOpenAI) -> None:
    """A failed turn is one error line; the next question (another answerer) is answered,
    and so is one to the server once it recovers."""
    server.then(Behaviour("status", status=500), Behaviour("status", status=500))
    server.default = Behaviour("trickle", text="more")
    lines = [QUESTION, "What did the Kremlin say about the election?", "/llm extractive", QUESTION]
    result = run(
        "chat", "--llm", "openai:x", "--base-url", server.url, stdin="\n".join(lines) + "\n"
    )
    assert "Traceback" not in result.stdout + result.stderr
    output = result.stdout
    assert "error: the LLM server failed: HTTP 500" in output
    assert f"error: the LLM did not finish within {TIMEOUT:g} s" in output
    last_answer = output.split(f"> {QUESTION}")[-1]
    assert "[1]" in last_answer and "error:" not in last_answer
    assert result.returncode == 1  # piped chat exits 1 when a turn failed


def test_chat_answers_once_the_server_recovers(server: FakeOpenAI) -> None:
    server.then(Behaviour("cut"))
    server.default = Behaviour(text="Peskov denied any interference. [1]")
    result = run(
        "chat",
        "--llm",
        "openai:x",
        "--base-url",
        server.url,
        stdin=f"{QUESTION}\n{QUESTION}\n",
        process=False,
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert "error: the LLM server broke off its reply" in result.stdout
    assert "Peskov denied any interference. [1]" in result.stdout.split("broke off")[-1]
