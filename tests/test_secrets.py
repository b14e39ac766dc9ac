"""A canary API key never shows: not in any output, file, report, transcript or traceback.

``OPENAI_API_KEY`` is set to a canary for every command here; the LLM is the fake
OpenAI-compatible server (which does receive the key) or a closed port. Also: the
``--html`` eval report shows article text inert.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai import Behaviour, FakeOpenAI, serve_fake_openai
from servers import BIN, free_port

pytestmark = pytest.mark.slow

CANARY = f"sk-canary-{uuid.uuid4().hex}"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
QUESTION = "What did the Kremlin say?"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("RAG_TIMEOUT", "3")
    monkeypatch.setenv("RAG_MAX_RETRIES", "0")
    with serve_fake_openai() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        yield fake


@pytest.fixture
def seeded(server: FakeOpenAI, isolated_env: Path) -> Path:
    done = rag("ingest", str(SEEDS))
    assert done.returncode == 0, done.stderr
    return isolated_env


def rag(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "rag"), *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def clean(result: subprocess.CompletedProcess[str]) -> None:
    """Neither stream carries the canary, nor any part of it past the prefix."""
    for stream in (result.stdout, result.stderr):
        assert CANARY not in stream
        assert CANARY[-12:] not in stream


def files_clean(*folders: Path) -> int:
    """No file under the folders contains the canary; returns how many were read."""
    count = 0
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                count += 1
                assert CANARY.encode() not in path.read_bytes(), path
    return count


def test_config_masks_the_key(server: FakeOpenAI) -> None:
    for args in (("config",), ("config", "--json")):
        result = rag(*args)
        assert result.returncode == 0, result.stderr
        clean(result)
    shown = json.loads(rag("config", "--json").stdout)
    assert shown["openai_api_key"] == {"value": "**** (set)", "origin": "env OPENAI_API_KEY"}


def test_ask_success_and_failures(server: FakeOpenAI, seeded: Path) -> None:
    ok = rag("ask", QUESTION)
    assert ok.returncode == 0, ok.stderr
    clean(ok)
    assert server.requests[-1]["headers"]["authorization"] == f"Bearer {CANARY}"  # it was used

    for behaviour in (Behaviour("status", status=401), Behaviour("raw", events=["not json"])):
        server.default = behaviour
        failed = rag("ask", QUESTION, "--json")
        assert failed.returncode == 1, failed.stdout
        clean(failed)
    closed = rag("ask", QUESTION, "--base-url", f"http://127.0.0.1:{free_port()}/v1")
    assert closed.returncode == 1
    clean(closed)
    assert files_clean(seeded) > 0


def test_traceback_of_an_unexpected_error(server: FakeOpenAI, seeded: Path) -> None:
    """A bug's traceback (typer's, locals hidden) shows no settings values."""
    code = (
        "import sys\n"
        "import rag.engine\n"
        "def boom(self, *a, **k):\n"
        "    raise RuntimeError('unexpected')\n"
        "rag.engine.Asker.ask = boom\n"
        "from rag.cli import main\n"
        "sys.argv = ['rag', 'ask', 'What did the Kremlin say?']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "RuntimeError: unexpected" in result.stderr
    clean(result)


def test_chat_output_and_saved_transcript(server: FakeOpenAI, seeded: Path, tmp_path: Path) -> None:
    server.then(Behaviour("status", status=500))
    transcript = tmp_path / "chat.md"
    lines = [QUESTION, "What did Peskov say about the Americans?", f"/save {transcript}"]
    result = rag("chat", stdin="\n".join(lines) + "\n")
    clean(result)
    assert "error: the LLM server failed: HTTP 500" in result.stdout
    assert transcript.read_text().count("Sources") >= 1
    assert CANARY not in transcript.read_text()
    files_clean(seeded)


def hostile_eval_set(folder: Path) -> tuple[Path, Path]:
    """A corpus whose article carries HTML, and a gold set that fails (so it is shown)."""
    folder.mkdir(parents=True, exist_ok=True)
    article = {
        "id": "evil-1",
        "title": f"Harbour festival {SCRIPT} returns",
        "text": (
            f"The harbour festival returns in June with a lantern parade {SCRIPT}. "
            "Organisers expect 20,000 visitors <img src=x onerror=alert(2)> over two days."
        ),
        "source": "Evil <b>Gazette</b>",
        "published": "2024-05-01",
    }
    corpus = folder / "corpus.jsonl"
    corpus.write_text(json.dumps(article) + "\n")
    gold = folder / "gold.jsonl"
    questions = [
        {
            "id": "q-script",
            "query": f"When does the harbour festival {SCRIPT} return?",
            "reference_answer": "in September",
            "answerable": True,
            "evidence": [{"doc_id": "evil-1", "text": "The harbour festival returns in June"}],
            "tags": [SCRIPT],
        },
        {"id": "q-none", "query": "Who won the lantern prize?", "answerable": False},
    ]
    gold.write_text("".join(json.dumps(q) + "\n" for q in questions))
    return corpus, gold


@pytest.mark.parametrize("behaviour", [Behaviour(), Behaviour("status", status=500)])
def test_eval_outputs_and_html_report(
    server: FakeOpenAI, behaviour: Behaviour, tmp_path: Path
) -> None:
    server.default = Behaviour(
        text=f"The festival {SCRIPT} returns in June [1]. Visitors <img src=x onerror=alert(3)>."
    )
    if behaviour.kind == "status":
        server.default = behaviour
    corpus, gold = hostile_eval_set(tmp_path / "set")
    out = tmp_path / "out"
    args = ["eval", str(gold), "--corpus", str(corpus), "--html", "--out", str(out)]
    result = rag(*args, "--embedding", "hash")
    assert result.returncode == 0, result.stderr
    clean(result)
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "results.jsonl", "summary.json"]
    assert files_clean(out) == 3
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    if behaviour.kind == "status":
        assert all("HTTP 500" in (row["error"] or "") for row in rows), rows

    report = (out / "report.html").read_text()
    assert "<script" not in report.lower()
    assert "<img" not in report and "<b>Gazette" not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report  # shown, as text
