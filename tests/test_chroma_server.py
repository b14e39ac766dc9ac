"""Server mode end to end: a real ``chroma run`` on loopback, driven through the ``rag`` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import chroma_server, rag

import rag.ingest as rag_ingest
from rag.bm25 import BM25Index, index_dir
from rag.ingest import ingest, remove
from rag.retrieve import Searcher
from rag.settings import Settings
from rag.store import ChunkStore

pytestmark = pytest.mark.slow

KREMLIN = "What did the Kremlin say?"
COUNCIL = Path(__file__).parent / "fixtures" / "articles" / "council-budget.txt"
ORCHARD = Path(__file__).parent / "fixtures" / "articles" / "orchard-frost.md"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Chroma server for the module; each test uses its own collection."""
    with chroma_server(tmp_path_factory.mktemp("chroma")) as url:
        yield url


def ok(*args: str) -> str:
    """Run ``rag``, expect success, return stdout."""
    result = rag(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_ingest_list_stats_ask_reingest_remove(chroma_url: str, seed_path: Path) -> None:
    server = ("--chroma-url", chroma_url, "--collection", "round_trip")
    assert "added 1," in ok("ingest", str(seed_path.parent), *server)
    [article] = json.loads(ok("list", "--json", *server))
    assert article["title"] == "Erdogan's rival accuses Russia of election 'deep fake'"

    stats = json.loads(ok("stats", "--json", *server))
    assert stats["store"] == f"server {chroma_url}"
    assert (stats["articles"], stats["size_bytes"]) == (1, None)
    assert stats["chunks"] == article["chunks"]

    answer = json.loads(ok("ask", KREMLIN, "--json", *server))
    assert any("there is no interference" in c["passage"] for c in answer["citations"])

    assert "added 0, updated 0, unchanged 1" in ok("ingest", str(seed_path), *server)
    assert ok("remove", article["article_id"], *server).strip() == (
        f"removed {article['article_id']}"
    )
    assert json.loads(ok("list", "--json", *server)) == []


def test_side_index_follows_another_clients_writes(
    chroma_url: str, seed_path: Path, tmp_path: Path
) -> None:
    """Client A's BM25 index is rebuilt from Chroma when client B changes the collection."""
    server = ("--chroma-url", chroma_url, "--collection", "two_clients")
    ok("ingest", str(seed_path), *server)
    [seed] = [a["article_id"] for a in json.loads(ok("list", "--json", *server))]
    ok("ask", KREMLIN, "--json", *server)  # A's side index now holds the seed only
    a = Settings.load(flags={"chroma_url": chroma_url, "collection": "two_clients"})
    b = a.replace(data_dir=tmp_path / "client-b")
    assert index_dir(a) != index_dir(b)

    [council] = ingest([str(COUNCIL)], b).added
    answer = json.loads(ok("ask", "What did the Riverton council approve?", "--json", *server))
    assert council in {c["article_id"] for c in answer["citations"]}
    side = BM25Index.load(index_dir(a))
    assert side is not None
    assert set(side.article_ids) == {seed, council}
    assert side.revision == ChunkStore.open(a).revision()

    assert remove([seed], b) == ([seed], [])
    assert set(Searcher(a).open().bm25().article_ids) == {council}


def test_a_write_by_another_client_during_an_ingest_reaches_the_side_index(
    chroma_url: str, seed_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B writes while A's ingest runs: A must not stamp its in-place update as current."""
    a = Settings.load(flags={"chroma_url": chroma_url, "collection": "interleaved"})
    b = a.replace(data_dir=tmp_path / "client-b")
    ingest([str(seed_path)], a)  # A's side index is in step: the next ingest updates in place
    read_files = rag_ingest._read_files
    b_wrote: list[bool] = []

    def read_while_b_writes(*args: object) -> Iterator[object]:
        yield from read_files(*args)  # type: ignore[arg-type]
        if not b_wrote:  # B's own ingest reads through here too
            b_wrote.append(True)
            ingest([str(ORCHARD)], b)

    monkeypatch.setattr(rag_ingest, "_read_files", read_while_b_writes)
    [council] = ingest([str(COUNCIL)], a).added
    monkeypatch.undo()
    others = {x.article_id for x in ChunkStore.open(a).articles()} - {council}
    assert len(others) == 2  # the seed and B's orchard article
    side = BM25Index.load(index_dir(a))
    assert side is not None
    if side.revision == ChunkStore.open(a).revision():  # claims to be current: must be whole
        assert set(side.article_ids) == others | {council}
    assert set(Searcher(a).open().bm25().article_ids) == others | {council}


def test_ask_with_the_server_stopped_fails_with_one_line(tmp_path: Path, seed_path: Path) -> None:
    with chroma_server(tmp_path) as url:
        ingest([str(seed_path)], Settings.load(flags={"chroma_url": url}))
    result = rag("ask", KREMLIN, "--chroma-url", url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert url in errors[0]
    assert result.stderr.strip().splitlines()[-1] == errors[0]
