"""Two ``rag ingest`` runs on one store at once, and ``rag ask`` while an ingest writes.

Either the second ingest is refused with "another ingest is running" (exit 1) or both
complete; either way every stored article is whole, the side index is in step, and
re-running the refused ingest completes the store. A reader never waits for the writer.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import time
import uuid
from collections.abc import Callable
from multiprocessing.queues import Queue
from pathlib import Path

import pytest
from corpus import write_jsonl
from servers import BIN, rag
from storecheck import check_articles_whole, check_side_index_in_step, fresh_store, lock_path

from rag.bm25 import BM25Index, Row, Vocab
from rag.engine import Asker
from rag.settings import Settings

pytestmark = pytest.mark.slow

QUESTION = "What did the Riverton council office approve?"
CORPUS = {
    "a": {f"art-{n:05d}" for n in range(300)},
    "b": {f"art-{n:05d}" for n in range(300, 600)},
}


@pytest.fixture(autouse=True)
def hash_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hashing twin keeps the runs short; locking does not depend on the embedder."""
    monkeypatch.setenv("RAG_EMBEDDING", "hash")


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "rag"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """(exit code, stderr); never a traceback."""
    _, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stderr, stderr
    return proc.returncode, stderr


def store_snapshot(data: Path) -> tuple[set[str], Settings]:
    settings = Settings.load(flags={"data_dir": data})
    store = fresh_store(settings)
    assert store is not None
    return set(check_articles_whole(store).chunks_per_article), settings


@pytest.mark.parametrize("stagger", [0.0, 1.0])
def test_two_ingests_at_once_lock_or_both_complete(tmp_path: Path, stagger: float) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", 300)
    b = write_jsonl(tmp_path / "b.jsonl", 300, start=300)
    data = ("--data-dir", str(tmp_path / "data"))
    first = start("ingest", str(a), *data)
    time.sleep(stagger)
    second = start("ingest", str(b), *data)
    results = {"a": finish(first), "b": finish(second)}

    done = {name for name, (code, _) in results.items() if code == 0}
    for code, stderr in results.values():
        if code != 0:
            assert code == 1
            [line] = stderr.strip().splitlines()
            assert line.startswith("error: another ingest is running"), stderr
    assert done, results

    ids, settings = store_snapshot(tmp_path / "data")
    assert ids == set().union(*(CORPUS[name] for name in done))
    assert lock_path(settings).exists()

    for name, path in (("a", a), ("b", b)):  # the refused run, again, alone
        if name not in done:
            code, stderr = finish(start("ingest", str(path), *data))
            assert code == 0, stderr
    ids, _ = store_snapshot(tmp_path / "data")
    assert ids == CORPUS["a"] | CORPUS["b"]
    asked = rag("ask", QUESTION, "--json", *data, timeout=60)
    assert asked.returncode == 0, asked.stderr
    store = fresh_store(settings)
    assert store is not None
    check_side_index_in_step(settings, check_articles_whole(store))


def test_ask_answers_while_an_ingest_writes(tmp_path: Path) -> None:
    """A ``rag ask`` started once the writer holds the lock, then asks in process (each
    with a fresh Chroma client, as a new process would have) while it writes."""
    data = ("--data-dir", str(tmp_path / "data"))
    seeded = rag("ingest", str(write_jsonl(tmp_path / "a.jsonl", 100)), *data, timeout=60)
    assert seeded.returncode == 0, seeded.stderr
    settings = Settings.load(flags={"data_dir": tmp_path / "data"})
    sqlite = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    size = sqlite.stat().st_size
    lock = lock_path(settings)
    lock.unlink()

    writer = start("ingest", str(write_jsonl(tmp_path / "b.jsonl", 900, start=100)), *data)
    wait_for(lambda: lock.exists(), writer)
    reader = start("ask", QUESTION, "--json", *data)
    assert writer.poll() is None, "the ingest ended before the reader started"
    wait_for(lambda: sqlite.stat().st_size != size, writer)
    overlapped = 0
    while writer.poll() is None and overlapped < 5:
        assert fresh_store(settings) is not None
        answer = Asker(settings).ask(QUESTION)
        assert answer.retrieved and answer.answer, answer
        overlapped += writer.poll() is None
    code, stderr = finish(writer)
    assert code == 0, stderr
    assert overlapped, "no answer came while the ingest was writing"
    code, stderr = finish(reader)
    assert code == 0, stderr

    ids, settings = store_snapshot(tmp_path / "data")
    assert len(ids) == 1000
    asked = rag("ask", QUESTION, "--json", *data, timeout=60)  # the side index catches up
    assert asked.returncode == 0, asked.stderr
    store = fresh_store(settings)
    assert store is not None
    check_side_index_in_step(settings, check_articles_whole(store))


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    """Poll until ``condition`` holds while ``proc`` runs (bounded)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert proc.poll() is None, "the ingest ended first"
        assert time.monotonic() < deadline
        time.sleep(0.005)


def _save_many(folder: Path, rows: list[Row], vocab: Vocab, errors: Queue[list[str]]) -> None:
    failed = []
    for _ in range(25):
        try:
            BM25Index.from_rows(uuid.uuid4().hex, rows, vocab).save(folder)
        except Exception as exc:
            failed.append(repr(exc))
        BM25Index.load(folder)
    errors.put(failed)


def test_side_index_saved_by_several_processes_at_once(tmp_path: Path) -> None:
    """Readers rebuild the side index after another client writes, so saves can overlap:
    none may delete a version another process is still writing."""
    vocab = Vocab()
    rows = [
        Row(f"c{i}", f"a{i}", 0, "x", vocab.encode(["word", f"t{i}"] * 20)) for i in range(2000)
    ]
    context = multiprocessing.get_context("fork")
    errors: Queue[list[str]] = context.Queue()
    args = (tmp_path, rows, vocab, errors)
    workers = [context.Process(target=_save_many, args=args) for _ in range(3)]
    for worker in workers:
        worker.start()
    failed = [error for _ in workers for error in errors.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=30)
    assert not failed
    index = BM25Index.load(tmp_path)
    assert index is not None and len(index.chunk_ids) == 2000
    assert [p.name for p in tmp_path.glob("v-*")] == [f"v-{index.revision}-{index_pid(tmp_path)}"]


def index_pid(folder: Path) -> str:
    """The process that wrote the current version."""
    return (folder / "CURRENT").read_text().rsplit("-", 1)[1]
