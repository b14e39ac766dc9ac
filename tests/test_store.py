"""The Chroma chunk store, chunking offsets and the BM25 side index (embedded store)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rag.articles import date_number
from rag.bm25 import BM25Index, Row, Vocab, ensure_index, index_dir
from rag.chunking import chunk_article, embedding_text
from rag.embeddings import HashEmbedder
from rag.errors import EmbeddingMismatchError, StoreError
from rag.ingest import content_hash, fingerprint
from rag.settings import Settings
from rag.store import ChunkStore, StoredArticle
from rag.types import Article

BODY = (
    "The city council approved the new harbour bridge on Tuesday after a long debate. "
    "Mayor Ana Ruiz said the bridge would open in 2026.\n\n"
    'Opponents said the cost, 41 million euros, was too high. "We will keep fighting," '
    "said Tomas Berg, who leads the residents' group.\n\n"
    "Construction is due to start in the spring, the council said in a statement."
)


def _article(aid: str = "a1", text: str = BODY, published: str | None = "2023-05-12") -> Article:
    return Article(
        aid, "Council backs harbour bridge", text, source="example.com", published=published
    )


def _settings(**flags: object) -> Settings:
    return Settings.load(flags={"embedding": "hash", "chunk_size": 40, "chunk_overlap": 8, **flags})


def _store_article(store: ChunkStore, settings: Settings, article: Article) -> None:
    chunks = chunk_article(article, settings.chunk_size, settings.chunk_overlap)
    vectors = HashEmbedder().embed([embedding_text(article, c) for c in chunks])
    store.write(
        [
            StoredArticle(
                article, content_hash(article), fingerprint(article, settings), chunks, vectors
            )
        ]
    )


def test_chunks_keep_offsets_into_the_cleaned_text() -> None:
    article = _article()
    chunks = chunk_article(article, 40, 8)
    assert len(chunks) > 1
    for i, chunk in enumerate(chunks):
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert chunk.index == i
        assert chunk.chunk_id == f"a1#{i}"
    assert chunks[0].start == 0
    assert chunks[-1].end == len(article.text.rstrip())


def test_overlap_repeats_text_between_neighbours() -> None:
    short = " ".join(f"Sentence number {i} is short." for i in range(40))
    chunks = chunk_article(_article(text=short), 40, 16)
    assert any(chunks[i].end > chunks[i + 1].start for i in range(len(chunks) - 1))


def test_embedding_text_carries_the_headline() -> None:
    article = _article()
    chunk = chunk_article(article, 40, 8)[-1]
    assert embedding_text(article, chunk).startswith("Council backs harbour bridge\n")


def test_write_and_read_back_article_metadata() -> None:
    settings = _settings()
    store = ChunkStore.open(settings, "hash:64", create=True)
    _store_article(store, settings, _article())
    [info] = store.articles()
    assert (info.article_id, info.source, info.published) == ("a1", "example.com", "2023-05-12")
    assert info.chunks == store.count() > 1
    passages = store.get_chunks(["a1#0"])
    assert passages[0].title == "Council backs harbour bridge"
    assert passages[0].start == 0


def test_date_number_allows_range_filters() -> None:
    assert date_number("2023-05-12") == 20230512
    assert date_number(None) == 0
    assert date_number("not a date") == 0


def test_embedding_model_mismatch_is_refused() -> None:
    settings = _settings()
    ChunkStore.open(settings, "hash:64", create=True)
    with pytest.raises(EmbeddingMismatchError, match="hash:64"):
        ChunkStore.open(settings, "wordllama:l2_supercat:256")


def test_missing_collection_says_to_ingest_first() -> None:
    with pytest.raises(StoreError, match="rag ingest"):
        ChunkStore.open(_settings())


def test_revision_changes_on_every_bump() -> None:
    store = ChunkStore.open(_settings(), "hash:64", create=True)
    first = store.revision()
    assert store.bump_revision() != first
    assert store.revision() != first


def test_bm25_index_follows_the_store_revision() -> None:
    settings = _settings()
    store = ChunkStore.open(settings, "hash:64", create=True)
    _store_article(store, settings, _article())
    index = ensure_index(settings, store)
    assert index.revision == store.revision()
    rows = index.search("harbour bridge cost", 3)
    assert rows and index.article_ids[rows[0][0]] == "a1"
    # another writer changes the collection: the side index is rebuilt from Chroma
    _store_article(
        store, settings, _article("a2", "Farmers protest over water prices in the valley.")
    )
    store.bump_revision()
    rebuilt = ensure_index(settings, store)
    assert rebuilt.revision == store.revision()
    assert "a2" in rebuilt.article_ids


def test_bm25_index_saves_atomically_and_loads(tmp_path: Path) -> None:
    settings = _settings()
    store = ChunkStore.open(settings, "hash:64", create=True)
    _store_article(store, settings, _article())
    index = BM25Index.build(store, "rev-1")
    index.save(index_dir(settings))
    loaded = BM25Index.load(index_dir(settings))
    assert loaded is not None and loaded.revision == "rev-1"
    assert loaded.chunk_ids == index.chunk_ids
    assert [p.name for p in index_dir(settings).glob("v-*")] == [
        (index_dir(settings) / "CURRENT").read_text()
    ]


def test_bm25_load_of_missing_index_is_none(tmp_path: Path) -> None:
    assert BM25Index.load(tmp_path / "nothing") is None


def test_incremental_side_index_matches_a_full_rebuild(tmp_path: Path) -> None:
    from rag.ingest import ingest, remove

    settings = _settings()
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("Harbour bridge approved\n\n" + BODY)
    second.write_text("Water prices\n\nFarmers protest over water prices in the valley. " * 5)
    ingest([str(first)], settings)
    ingest([str(second)], settings)
    first.write_text("Harbour bridge approved\n\nThe council rejected the harbour bridge.")
    ingest([str(first)], settings)
    [gone] = [a.article_id for a in ChunkStore.open(settings).articles() if "Water" in a.title]
    remove([gone], settings)
    store = ChunkStore.open(settings)
    updated = BM25Index.load(index_dir(settings))
    rebuilt = BM25Index.build(store, store.revision())
    assert updated is not None and updated.revision == store.revision()
    assert sorted(updated.chunk_ids) == sorted(rebuilt.chunk_ids)
    for query in ("harbour bridge rejected", "water prices farmers"):
        got = [(updated.chunk_ids[r], round(s, 4)) for r, s in updated.search(query, 5)]
        want = [(rebuilt.chunk_ids[r], round(s, 4)) for r, s in rebuilt.search(query, 5)]
        assert got == want


def _same_index(got: BM25Index, want: BM25Index) -> None:
    assert sorted(got.chunk_ids) == sorted(want.chunk_ids)
    assert got.fingerprints == want.fingerprints
    for query in ("harbour bridge rejected", "water prices farmers", "orchard frost apples"):
        ours = [(got.chunk_ids[r], round(s, 4)) for r, s in got.search(query, 5)]
        theirs = [(want.chunk_ids[r], round(s, 4)) for r, s in want.search(query, 5)]
        assert ours == theirs


def test_a_stale_side_index_reads_back_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another client updated, added and removed articles: the sync reads back exactly the
    updated and added ones and ends equal to a full rebuild."""
    from rag.ingest import ingest, remove

    settings = _settings()

    def write(path: Path, *records: tuple[str, str, str]) -> str:
        lines = [json.dumps({"id": i, "title": t, "text": x}) for i, t, x in records]
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    first = write(
        tmp_path / "first.jsonl",
        ("bridge", "Harbour bridge approved", BODY),
        ("water", "Water prices", "Farmers protest over water prices. " * 5),
        ("ferry", "Ferry timetable", "The island ferry adds four daily sailings in June. " * 3),
    )
    ingest([first], settings)
    stale = BM25Index.load(index_dir(settings))
    assert stale is not None

    later = write(
        tmp_path / "later.jsonl",
        ("bridge", "Harbour bridge rejected", "The council rejected the harbour bridge."),
        ("orchard", "Orchard frost", "A late frost hit the apple orchards. " * 4),
    )
    ingest([later], settings)
    remove(["water"], settings)
    stale.save(index_dir(settings))  # as if those writes came from another machine

    fetched: list[str] = []
    read_back = ChunkStore.iter_articles

    def spy(self: ChunkStore, article_ids: list[str]) -> Any:
        fetched.extend(article_ids)
        return read_back(self, article_ids)

    monkeypatch.setattr(ChunkStore, "iter_articles", spy)
    store = ChunkStore.open(settings)
    synced = ensure_index(settings, store)
    assert sorted(fetched) == ["bridge", "orchard"]  # not the unchanged ferry, not water
    assert set(synced.article_ids) == {"bridge", "ferry", "orchard"}
    assert synced.revision == store.revision()
    _same_index(synced, BM25Index.build(store, store.revision()))

    fetched.clear()
    store.bump_revision()  # the revision moved, nothing changed: nothing is read back
    again = ensure_index(settings, store)
    assert fetched == [] and again.revision == store.revision()
    _same_index(again, synced)


def test_a_side_index_without_fingerprints_is_read_back_whole(tmp_path: Path) -> None:
    """An index saved before fingerprints were kept syncs to a full rebuild."""
    from dataclasses import replace

    from rag.ingest import ingest

    settings = _settings()
    path = tmp_path / "bridge.txt"
    path.write_text("Harbour bridge approved\n\n" + BODY)
    ingest([str(path)], settings)
    index = BM25Index.load(index_dir(settings))
    assert index is not None and index.fingerprints
    replace(index, revision="old", fingerprints={}).save(index_dir(settings))
    store = ChunkStore.open(settings)
    _same_index(ensure_index(settings, store), BM25Index.build(store, store.revision()))


@pytest.mark.parametrize("block", [7, 2_000_000])  # many blocks, and one
@given(
    docs=st.lists(
        st.lists(
            st.sampled_from(["bridg", "harbour", "vote", "frost", "appl", "ferri", "x"]),
            max_size=30,
        ),
        min_size=1,
        max_size=40,
    ).filter(lambda docs: any(docs))  # bm25s itself cannot index a corpus with no token
)
@hsettings(max_examples=60, deadline=None)
def test_numpy_model_equals_bm25s_own_index(docs: list[list[str]], block: int) -> None:
    """rag builds the bm25s model with numpy; it must be bm25s's model, float for float."""
    import bm25s
    from bm25s.tokenization import Tokenized

    import rag.bm25

    vocab = Vocab()
    rows = [Row(f"c{i}", f"a{i}", 0, "", vocab.encode(doc)) for i, doc in enumerate(docs)]
    saved, rag.bm25.BLOCK_TOKENS = rag.bm25.BLOCK_TOKENS, block
    try:
        ours = BM25Index.from_rows("r", rows, vocab).model
    finally:
        rag.bm25.BLOCK_TOKENS = saved
    theirs = bm25s.BM25()
    theirs.index(
        Tokenized(ids=[r.ids.tolist() for r in rows], vocab=dict(vocab.ids)), show_progress=False
    )
    assert ours is not None
    assert ours.vocab_dict == theirs.vocab_dict
    for key in ("data", "indices", "indptr"):
        assert np.array_equal(ours.scores[key], theirs.scores[key]), key
    assert ours.scores["num_docs"] == theirs.scores["num_docs"]


def test_chunks_without_a_searchable_word_make_an_empty_model() -> None:
    vocab = Vocab()
    rows = [Row("c1", "a1", 0, "", vocab.encode([])), Row("c2", "a2", 0, "", vocab.encode([]))]
    index = BM25Index.from_rows("r", rows, vocab)
    assert index.model is None and index.chunk_ids == ["c1", "c2"]
    assert index.search("anything", 5) == []
