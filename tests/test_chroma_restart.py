"""A Chroma server stopped mid-session and restarted on the same port and path.

While it is down every command fails with one line naming the server, and a running
``rag chat`` answers the failed question with one error line and goes on; once it is back
the same session answers again and nothing stored is lost. An ingest cut off by the
server stopping leaves whole-or-absent articles, and re-running it completes the store.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from corpus import write_jsonl
from servers import BIN, HOST, free_port, rag, serve
from storecheck import check_articles_whole, fresh_store

from rag.settings import Settings

pytestmark = pytest.mark.slow

KREMLIN = "What did the Kremlin say?"
COUNCIL = "What did the Riverton council office approve?"


@contextmanager
def chroma_at(path: Path, port: int) -> Iterator[str]:
    """``chroma run`` on this port and path (so it can be restarted as the same server)."""
    url = f"http://{HOST}:{port}"
    command = [str(BIN / "chroma"), "run", "--path", str(path), "--host", HOST]
    with serve([*command, "--port", str(port)], f"{url}/api/v2/heartbeat"):
        yield url


class Chat:
    """``rag chat`` with piped stdin, driven a line at a time."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "rag"), "chat", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def say(self, question: str, timeout: float = 60) -> list[str]:
        """Send a question; the lines printed for it (up to a /filters marker)."""
        assert self.proc.stdin is not None and self.proc.poll() is None
        self.proc.stdin.write(f"{question}\n/filters\n")
        self.proc.stdin.flush()
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while not (out and out[-1].startswith("filters: ")):
            out.append(self.lines.get(timeout=max(0.1, deadline - time.monotonic())))
        return out[:-1]

    def close(self) -> int:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def one_line_naming(result: subprocess.CompletedProcess[str], url: str) -> None:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and url in errors[0] and lines[-1] == errors[0], lines


def stored(url: str, collection: str) -> dict[str, int]:
    store = fresh_store(Settings.load(flags={"chroma_url": url, "collection": collection}))
    assert store is not None
    return check_articles_whole(store).chunks_per_article


def test_server_down_mid_session_then_back(tmp_path: Path, seed_path: Path) -> None:
    port, path = free_port(), tmp_path / "chroma-server"
    url = f"http://{HOST}:{port}"
    corpus = write_jsonl(tmp_path / "corpus.jsonl", 60)
    server = ("--chroma-url", url, "--collection", "restart")
    chat: Chat | None = None
    try:
        with chroma_at(path, port):
            for source in (seed_path, corpus):
                done = rag("ingest", str(source), *server)
                assert done.returncode == 0, done.stderr
            before = stored(url, "restart")
            chat = Chat(*server, "--llm", "extractive")
            answer = chat.say(KREMLIN)
            assert any("[1]" in line for line in answer), answer
        # the server is stopped under the running chat
        failed = chat.say(COUNCIL)
        assert not any("Traceback" in line for line in failed), failed
        errors = [line for line in failed if line.startswith("error: ")]
        assert len(errors) == 1 and url in errors[0], failed
        for args in (("list",), ("ask", KREMLIN), ("ingest", str(seed_path)), ("stats",)):
            one_line_naming(rag(*args, *server), url)

        with chroma_at(path, port):
            answer = chat.say(COUNCIL)
            assert not any(line.startswith("error: ") for line in answer), answer
            assert any("council" in line.lower() and "[1]" in line for line in answer), answer
            assert stored(url, "restart") == before  # nothing lost
            again = rag("ask", KREMLIN, "--json", *server)
            assert again.returncode == 0, again.stderr
            unchanged = rag("ingest", str(seed_path), str(corpus), *server)
            assert "added 0, updated 0, unchanged 61" in unchanged.stdout, unchanged.stderr
    finally:
        if chat is not None:
            chat.close()


def test_ingest_cut_off_by_the_server_stopping(tmp_path: Path) -> None:
    port, path = free_port(), tmp_path / "chroma-server"
    corpus = write_jsonl(tmp_path / "corpus.jsonl", 1000)
    server = ("--chroma-url", f"http://{HOST}:{port}", "--collection", "cut")
    with chroma_at(path, port) as url:
        writer = subprocess.Popen(
            [str(BIN / "rag"), "ingest", str(corpus), *server, "--embedding", "hash"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not stored_any(url, "cut"):  # stop the server once chunks are arriving
            assert writer.poll() is None, writer.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
    _, stderr = writer.communicate(timeout=120)
    assert writer.returncode == 1
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and url in lines[0], lines

    with chroma_at(path, port):
        partial = stored(url, "cut")
        assert 0 < len(partial) < 1000, len(partial)
        again = rag("ingest", str(corpus), *server, "--embedding", "hash")
        assert again.returncode == 0, again.stderr
        assert len(stored(url, "cut")) == 1000
        asked = rag("ask", COUNCIL, "--json", *server, "--embedding", "hash")
        assert asked.returncode == 0, asked.stderr


def stored_any(url: str, collection: str) -> bool:
    try:
        store = fresh_store(Settings.load(flags={"chroma_url": url, "collection": collection}))
    except Exception:
        return False
    return store is not None and store.count() > 0
