"""Hostile and malformed article files: no crash, one clear line per bad file, and the good
files of the same run still ingested.

The fuzz loop (hypothesis, bounded) calls the library ``ingest`` with the hashing embedder;
special files (FIFOs, symlink loops, devices), 10 MB lines and deep JSON are fixed cases;
one ``rag ingest`` run checks the same through the command.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import rag
from storecheck import check_articles_whole, fresh_store

from rag.files import FORMATS
from rag.ingest import IngestReport, ingest
from rag.settings import Settings

ODD = [
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # byte order mark
    "\u0301",  # combining accent
    "\u00ad",  # soft hyphen
    "\u2028",  # line separator
    "\U0001f600",
    "\x00",
    "\x1b[31m",
    "\r",
    "\ud800",  # lone surrogates
    "\udc80",
    "\udfff",
    "\ufffd",
    "[9]",
    "</source>",
]
odd_text = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(ODD)), max_size=40).map("".join)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), odd_text)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["id", "title", "text", "body", "url", "published", "date", "source", "authors"]
record = st.dictionaries(st.sampled_from(FIELDS) | odd_text, json_value, max_size=7)


def encode(text: str, errors: str) -> bytes:
    """UTF-8 with lone surrogates written raw (surrogatepass) or as the bytes they escape."""
    try:
        return text.encode("utf-8", errors)
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


@st.composite
def hostile_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file name, content) of one hostile file."""
    kind = draw(st.sampled_from(["bytes", "text", "record", "records", "html"]))
    ext = draw(st.sampled_from(FORMATS))
    if kind == "bytes":
        return ext, draw(st.binary(max_size=2048))
    if kind == "text":
        errors = draw(st.sampled_from(["surrogatepass", "surrogateescape"]))
        return draw(st.sampled_from(["txt", "md"])), encode(draw(odd_text), errors)
    if kind == "record":
        return "json", json.dumps(draw(json_value | record)).encode()
    if kind == "records":
        lines = [json.dumps(r) for r in draw(st.lists(record, max_size=4))]
        return "jsonl", "\n".join(lines).encode()
    body = draw(odd_text)
    page = (
        f"<html><head><title>{draw(odd_text)}</title><script>alert(1)</script></head>"
        f"<body><article><p>{body}</p><script>document.write('x')</script>"
        f"<p>{body}</p></article></body></html>"
    )
    return "html", encode(page, "surrogatepass")


@pytest.fixture
def hash_settings(isolated_env: Path) -> Settings:
    return Settings.load(flags={"embedding": "hash"})


def write_good(folder: Path) -> str:
    """A good article (good.txt) with a unique headline; returns the headline."""
    headline = f"Harbour bridge reopens {uuid.uuid4().hex[:12]}"
    text = f"{headline}\n\nThe harbour bridge reopened on Monday after repairs.\n"
    (folder / "good.txt").write_text(text)
    return headline


def bounded(fn: Callable[[], Any], seconds: float = 60) -> Any:
    """Run fn in a thread; fail (instead of hanging) when it takes longer than ``seconds``."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds:g} s"
    if errors:
        raise errors[0]
    return result[0]


def assert_clear_failures(report: IngestReport, bad: set[str]) -> None:
    """Every failure is one printable line about one of the bad files."""
    for failure in report.failed:
        line = str(failure)
        assert failure.reason.strip() and "\n" not in line, line
        line.encode("utf-8")
        assert failure.path in bad, (failure.path, bad)


def stored_titles(settings: Settings) -> set[str]:
    store = fresh_store(settings)
    assert store is not None
    check_articles_whole(store)
    return {a.title for a in store.articles()}


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=st.lists(hostile_file(), min_size=1, max_size=3))
def test_fuzzed_files_never_crash_and_good_files_still_ingest(
    files: list[tuple[str, bytes]], hash_settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    headline = write_good(folder)
    bad = set()
    for n, (ext, content) in enumerate(files):
        path = folder / f"hostile-{n}.{ext}"
        path.write_bytes(content)
        bad.add(str(path))
    report = bounded(lambda: ingest([str(folder)], hash_settings))
    assert_clear_failures(report, bad)
    assert headline in stored_titles(hash_settings)
    for title in stored_titles(hash_settings):
        title.encode("utf-8")


def test_special_files_fail_one_by_one(tmp_path: Path, hash_settings: Settings) -> None:
    """FIFOs, symlink loops, devices and directories named like articles: no hang."""
    folder = tmp_path / "in"
    folder.mkdir()
    headline = write_good(folder)
    os.mkfifo(folder / "pipe.txt")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    (folder / "dangling.md").symlink_to(folder / "missing.md")
    (folder / "zeros.txt").symlink_to("/dev/zero")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to(folder)  # a directory loop
    (folder / "dir.json").mkdir()
    (folder / "empty.jsonl").write_bytes(b"")
    pipe_arg = tmp_path / "arg-pipe.jsonl"
    os.mkfifo(pipe_arg)
    report = bounded(lambda: ingest([str(folder), str(pipe_arg)], hash_settings), 60)
    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert reasons == {
        "pipe.txt": "not a regular file: a named pipe (FIFO)",
        "arg-pipe.jsonl": "not a regular file: a named pipe (FIFO)",
        "loop-a.txt": "too many levels of symbolic links",
        "loop-b.txt": "too many levels of symbolic links",
        "dangling.md": "no such file or directory",
        "zeros.txt": "not a regular file: a character device",
        "empty.jsonl": "empty file",
    }
    assert stored_titles(hash_settings) == {headline}


def test_ten_megabyte_lines_and_deep_json(tmp_path: Path, hash_settings: Settings) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    headline = write_good(folder)
    ten_mb = 10 * 1024 * 1024
    (folder / "one-word.txt").write_text("Long\n\n" + "x" * ten_mb)
    blob = "Blob\n\nThe ferry sank near Izmir on Monday. " + "z" * ten_mb + " All were rescued."
    (folder / "blob.txt").write_text(blob)
    with (folder / "lines.jsonl").open("w") as out:
        out.write('{"id": "huge", "text": "' + "y" * ten_mb + "\n")  # unterminated
        out.write(json.dumps({"id": "fine", "title": "Fine line", "text": "A fine record."}))
        out.write("\n" + "[" * 100_000 + "]" * 100_000 + "\n")
    (folder / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    deep_field = {"id": "deep", "title": "Deep", "text": "Deep field.", "extra": [[[[1]]]]}
    (folder / "deep-field.json").write_text(json.dumps(deep_field))
    report = bounded(lambda: ingest([str(folder)], hash_settings), 120)
    failures = {(Path(f.path).name, f.line): f.reason for f in report.failed}
    assert failures == {
        ("lines.jsonl", 1): "malformed JSON (Invalid control character at)",
        ("lines.jsonl", 3): "JSON nested too deeply",
        ("deep.json", None): "JSON nested too deeply",
        ("one-word.txt", None): "no article text after removing boilerplate",
    }
    titles = stored_titles(hash_settings)
    assert {headline, "Blob", "Fine line", "Deep"} <= titles
    # the 10 MB run is dropped as a data blob: the prose around it makes one ordinary chunk
    store = fresh_store(hash_settings)
    assert store is not None
    [chunk] = [text for _, text, meta in store.iter_chunks() if meta["title"] == "Blob"]
    assert chunk == "The ferry sank near Izmir on Monday. All were rescued."


def test_article_too_long_to_store_whole_fails_alone(tmp_path: Path) -> None:
    """An article with more chunks than one Chroma write takes (5461 in the embedded store)
    is one failure; before, the whole ingest stopped with a store error."""
    settings = Settings.load(flags={"embedding": "hash", "chunk_size": 16, "chunk_overlap": 0})
    folder = tmp_path / "in"
    folder.mkdir()
    headline = write_good(folder)
    words = " ".join(f"w{n % 97}" for n in range(100_000))  # one line, ~6,000 chunks
    (folder / "endless.txt").write_text(f"Endless\n\n{words}\n")
    report = bounded(lambda: ingest([str(folder)], settings), 120)
    [failure] = report.failed
    assert failure.path == str(folder / "endless.txt")
    assert "too long to store" in failure.reason
    assert stored_titles(settings) == {headline}


def test_article_too_long_to_store_fails_before_it_is_embedded(tmp_path: Path) -> None:
    """A 15 MB text file was chunked and embedded for 32 s before it failed: the chunk count
    it must at least have is now checked first, and said in the one-line reason."""
    from rag.embeddings import HashEmbedder

    class Counting(HashEmbedder):
        texts = 0

        def embed(self, texts: list[str]) -> Any:
            Counting.texts += len(texts)
            return super().embed(texts)

    settings = Settings.load(flags={"embedding": "hash", "chunk_size": 16, "chunk_overlap": 4})
    folder = tmp_path / "in"
    folder.mkdir()
    headline = write_good(folder)
    words = " ".join(f"w{n % 97}" for n in range(100_000))  # at least 8,333 chunks of 16 tokens
    (folder / "endless.txt").write_text(f"Endless\n\n{words}\n")
    report = bounded(lambda: ingest([str(folder)], settings, embedder=Counting()), 120)
    [failure] = report.failed
    assert failure.path == str(folder / "endless.txt")
    assert "too long to store (at least 8,333 chunks of 16 tokens; the limit is" in failure.reason
    assert "\n" not in failure.reason
    assert 0 < Counting.texts < 10  # the good article's chunks only
    assert stored_titles(settings) == {headline}


def test_html_scripts_never_reach_the_store(tmp_path: Path, hash_settings: Settings) -> None:
    page = (
        "<html><head><title>Ferry timetable changes</title>"
        "<script>alert('head')</script></head><body><article><h1>Ferry timetable changes</h1>"
        "<p>The island ferry will run every forty minutes from June, the operator said.</p>"
        "<script>document.cookie='stolen'</script><noscript>enable js</noscript>"
        "<p onclick=\"alert('attr')\">Passengers asked for later evening sailings.</p>"
        "<style>p { color: red }</style></article></body></html>"
    )
    (tmp_path / "ferry.html").write_text(page)
    report = ingest([str(tmp_path / "ferry.html")], hash_settings)
    assert report.ok and report.added
    store = fresh_store(hash_settings)
    assert store is not None
    text = " ".join(doc for _, doc, _ in store.iter_chunks())
    assert "forty minutes" in text
    for planted in ("alert", "cookie", "<script", "color: red", "onclick"):
        assert planted not in text


def test_cli_run_reports_each_bad_file_and_ingests_the_good(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    headline = write_good(folder)
    os.mkfifo(folder / "pipe.txt")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "random.json").write_bytes(bytes(range(256)) * 4)
    (folder / "rtl.md").write_bytes("\u202e\u200b\u200f".encode())
    (folder / b"name-\xff.txt".decode("utf-8", "surrogateescape")).write_bytes(b"\xff\xfe\x00x")
    (folder / "surrogates.jsonl").write_text(
        '{"id": "s\\ud800", "title": "Lone \\udc80 surrogate", "text": "Body \\udfff here.",'
        ' "url": "https://x.example/\\ud800", "tag": "\\udc80"}\n'
    )
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    result = rag("ingest", str(folder), "--embedding", "hash", timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    failed = sorted(line for line in result.stderr.splitlines() if line.startswith("failed:"))
    assert "failed:" not in result.stdout
    assert [line.split(": ", 2)[1:] for line in failed] == [
        [f"{folder}/deep.json", "JSON nested too deeply"],
        [f"{folder}/loop.txt", "too many levels of symbolic links"],
        [f"{folder}/name-\\udcff.txt", "UTF-16 text; save the file as UTF-8"],
        [f"{folder}/pipe.txt", "not a regular file: a named pipe (FIFO)"],
        [f"{folder}/random.json", "binary file, not text"],
        [f"{folder}/rtl.md", "no article text"],
    ]
    listed = rag("list", "--json")
    assert listed.returncode == 0, listed.stderr
    titles = {a["title"] for a in json.loads(listed.stdout)}
    assert titles == {headline, "Lone \ufffd surrogate"}
