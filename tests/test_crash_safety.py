"""SIGKILL ``rag ingest`` anywhere: the store stays consistent and a re-run completes it.

A corpus of a few hundred invented articles is ingested once to time its stages (startup,
write lock held, chunks reaching Chroma, BM25 side index saved, exit); then fresh
``rag ingest`` processes are SIGKILLed at 20 points spread over that run, from 0 to its
end, most of them while it writes. Each point is anchored to the stage the killed run has
itself reached, so a busy machine moves it less. After each kill every stored article is
complete or absent, ``rag list`` and ``rag ask`` work, the side index is in step after the
ask, and re-running the same ingest ends with the whole corpus stored once. The commands
after a kill run in process (typer's CliRunner, a fresh Chroma client) to keep the test
short; the killed one is a real process.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from corpus import write_jsonl
from servers import BIN
from storecheck import check_articles_whole, check_side_index_in_step, fresh_store, lock_path
from typer.testing import CliRunner

from rag.bm25 import index_dir
from rag.cli import app
from rag.ingest import PARALLEL_BYTES
from rag.settings import Settings

pytestmark = pytest.mark.slow

ARTICLES = 300
KILLS = 20
QUESTION = "What did the Riverton council office approve?"


@pytest.fixture(autouse=True)
def hash_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hashing twin: embedding speed does not matter for crash safety."""
    monkeypatch.setenv("RAG_EMBEDDING", "hash")


def settings_for(data: Path) -> Settings:
    return Settings.load(flags={"data_dir": data})


def start_ingest(corpus: Path, data: Path) -> subprocess.Popen[bytes]:
    """``rag ingest`` writing its output to a file (a pipe would stay open in a stray child)."""
    command = [str(BIN / "rag"), "ingest", str(corpus), "--data-dir", str(data)]
    with (data.parent / f"{data.name}.log").open("ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


class Watch:
    """What a running ingest has reached, seen from outside: 0 started, 1 holds the write
    lock, 2 has written chunks to Chroma, 3 has saved the BM25 side index."""

    def __init__(self, data: Path) -> None:
        settings = settings_for(data)
        self.lock = lock_path(settings)
        self.sqlite = data / "chroma" / "chroma.sqlite3"
        self.current = index_dir(settings) / "CURRENT"

    def stage(self) -> int:
        if self.current.exists():
            return 3
        try:
            if self.sqlite.stat().st_size > 1_000_000:  # an empty collection is ~200 KB
                return 2
        except OSError:
            pass
        return 1 if self.lock.exists() else 0


@dataclass
class Timeline:
    """Seconds from the start of a whole ingest to each stage of ``Watch`` and to its exit."""

    marks: list[float]

    def anchor(self, point: float) -> tuple[int, float]:
        """A point as (stage, seconds after reaching it): ``2.5`` is halfway through stage 2."""
        stage = min(int(point), 3)
        return stage, (point - stage) * (self.marks[stage + 1] - self.marks[stage])


def timeline(corpus: Path, data: Path) -> Timeline:
    """Run a whole ingest, timing its stages."""
    started = time.monotonic()
    proc, watch = start_ingest(corpus, data), Watch(data)
    marks = [0.0]
    while proc.poll() is None:
        while watch.stage() >= len(marks):
            marks.append(time.monotonic() - started)
        time.sleep(0.005)
    log = (data.parent / f"{data.name}.log").read_text(errors="replace")
    assert proc.returncode == 0, log
    total = time.monotonic() - started
    marks += [total] * (5 - len(marks))
    return Timeline(marks)


def kill_at(corpus: Path, data: Path, stage: int, seconds: float) -> tuple[bool, list[int]]:
    """SIGKILL an ingest ``seconds`` after it reaches ``stage`` (anchored to the run's own
    progress, so a loaded machine moves the kill less): (still running?, its children)."""
    proc, watch = start_ingest(corpus, data), Watch(data)
    children: set[int] = set()
    deadline = None
    while proc.poll() is None:
        now = time.monotonic()
        if deadline is None and watch.stage() >= stage:
            deadline = now + seconds
        if deadline is not None and now >= deadline:
            break
        try:
            children.update(c.pid for c in psutil.Process(proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.005)
    running = proc.poll() is None
    proc.kill()  # the ingest process only, as `kill -9 PID` would
    proc.wait(timeout=30)
    return running, sorted(children)


def assert_no_orphans(children: list[int]) -> None:
    """Worker processes of a killed ingest exit on their own (bounded wait)."""
    deadline = time.monotonic() + 10
    alive = [pid for pid in children if _running(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if _running(pid)]
    for pid in alive:  # never leave them behind, even when the check fails
        psutil.Process(pid).kill()
    assert not alive, f"worker processes outlived the killed ingest: {alive}"


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def cli(*args: str) -> tuple[int, str]:
    """``rag ARGS`` in process: (exit code, output)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def check_after_kill(data: Path) -> int:
    """Whole-or-absent articles; list and ask work; the side index follows the ask."""
    settings = settings_for(data)
    store = fresh_store(settings)
    code, listed = cli("list", "--json", "--data-dir", str(data))
    if store is None:  # killed before the collection existed: the same as a new store
        assert code == 1 and "no articles yet" in listed, listed
        return -1
    snapshot = check_articles_whole(store)
    assert code == 0, listed
    assert {a["article_id"]: a["chunks"] for a in json.loads(listed)} == (
        snapshot.chunks_per_article
    )
    code, asked = cli("ask", QUESTION, "--json", "--data-dir", str(data))
    assert code == 0, asked
    check_side_index_in_step(settings, snapshot)
    return snapshot.articles


def check_rerun(corpus: Path, data: Path, reference: list[str]) -> None:
    """The same ingest again completes the store: every article once, side index in step."""
    code, output = cli("ingest", str(corpus), "--data-dir", str(data))
    assert code == 0, output
    settings = settings_for(data)
    store = fresh_store(settings)
    assert store is not None
    snapshot = check_articles_whole(store)
    assert snapshot.articles == ARTICLES
    assert sorted(snapshot.chunk_ids) == reference
    check_side_index_in_step(settings, snapshot)


def run_kills(tmp_path: Path, corpus: Path, points: list[float]) -> list[int]:
    """Kill fresh ingests at these points of a whole run (see ``Timeline.anchor``).

    Returns how many articles each killed run had stored (-1: it had not created the
    collection yet; more than the corpus: it was not interrupted).
    """
    reference_data = tmp_path / "reference"
    run = timeline(corpus, reference_data)
    reference_store = fresh_store(settings_for(reference_data))
    assert reference_store is not None
    reference = sorted(check_articles_whole(reference_store).chunk_ids)
    stored = []
    for n, point in enumerate(points):
        data = tmp_path / f"kill-{n:02d}"
        running, children = kill_at(corpus, data, *run.anchor(point))
        assert_no_orphans(children)
        articles = check_after_kill(data)
        stored.append(articles if running else ARTICLES + 1)
        check_rerun(corpus, data, reference)
    return stored


def test_sigkill_at_20_points_leaves_a_consistent_store(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", ARTICLES, size=1500)
    assert corpus.stat().st_size < PARALLEL_BYTES  # in-process chunking and embedding
    writes = KILLS - 8
    points = [0.0, 0.5, 1.0, 1.5, 1.8, 1.95, *(2 + n / writes for n in range(writes)), 3.0, 3.5]
    stored = run_kills(tmp_path, corpus, points)
    assert any(0 < n < ARTICLES for n in stored), stored  # some kills fell between writes


def test_sigkill_with_the_embedding_worker_leaves_no_orphan(tmp_path: Path) -> None:
    """Inputs over 2 MB embed in a forked worker; killing the ingest must not strand it."""
    corpus = write_jsonl(tmp_path / "corpus.jsonl", ARTICLES, size=7500)
    assert corpus.stat().st_size >= PARALLEL_BYTES
    stored = run_kills(tmp_path, corpus, [2.5])
    assert all(n <= ARTICLES for n in stored), stored
