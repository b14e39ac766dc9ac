"""The quote index follows the chunks: written with an article, replaced when it changes,
removed with it; embedded and on a real Chroma server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from servers import chroma_server

from rag.errors import RagError
from rag.ingest import IngestReport, ingest, remove
from rag.quotes.answer import find_speaker_quotes, speaker_question
from rag.quotes.index import KEY_PREFIX, KEYS_FLAG, LINES, ROWS, RULES_FLAG
from rag.quotes.worker import QuoteWorker
from rag.settings import Settings
from rag.store import ChunkStore
from rag.types import Article

MILL = """Councillor Rosa Hale said the library would stay open on Saturdays.

"We listened to every letter," said Ms Hale, who chairs the culture committee. "This is the
town's living room."

Library manager Owen Pryce said: "Our readers have saved it."
"""


def write_mill(path: Path, text: str) -> None:
    record = {"id": "mill-1", "title": "Mill town votes to keep its library", "text": text}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")


def settings(**flags: object) -> Settings:
    return Settings.load(flags={"embedding": "hash", **flags})


def quotes_by(store: ChunkStore, speaker: str) -> list[str]:
    found = store.quote_index().find(speaker)
    for q in found:
        text = store.article_text(q.quote.article_id)
        assert text[q.quote.start : q.quote.end] == q.quote.text
    return [q.quote.text for q in found]


def check_in_step(setup: Settings, seed_path: Path, tmp_path: Path) -> None:
    mill = tmp_path / "mill.jsonl"
    write_mill(mill, MILL)
    ingest([str(seed_path), str(mill)], setup)
    store = ChunkStore.open(setup)
    kremlin = quotes_by(store, "the Kremlin")
    assert len(kremlin) >= 6
    assert quotes_by(store, "peskov") == kremlin
    assert quotes_by(store, "Hale") == [
        "the library would stay open on Saturdays.",
        "We listened to every letter",
        "This is the\ntown's living room.",
    ]
    assert quotes_by(store, "library manager") == ["Our readers have saved it."]

    # a changed article replaces its quotes
    write_mill(mill, MILL.replace('"Our readers have saved it."', "nothing."))
    report = ingest([str(mill)], setup)
    assert len(report.updated) == 1
    store = ChunkStore.open(setup)
    assert quotes_by(store, "Owen Pryce") == []
    assert len(quotes_by(store, "Hale")) == 3

    # removing an article removes its quotes, and only its quotes
    seed_id = next(a.article_id for a in store.articles() if "Erdogan" in a.title)
    remove([seed_id], setup)
    store = ChunkStore.open(setup)
    assert quotes_by(store, "Kremlin") == []
    assert len(quotes_by(store, "Hale")) == 3
    assert {q.quote.article_id for q in store.quote_index().find()} == {
        a.article_id for a in store.articles()
    }
    # the speaker key records follow: what a question finds is what the articles hold
    asked = speaker_question("What did Hale say?")
    assert asked is not None
    assert [q.quote.text for q in find_speaker_quotes(store.quote_index(), asked)] == (
        quotes_by(store, "Hale")
    )
    assert store.quote_index().refs("Peskov") == []
    assert store.quote_index().refs("Owen Pryce") == []


def test_quote_index_in_step_embedded(seed_path: Path, tmp_path: Path) -> None:
    check_in_step(settings(), seed_path, tmp_path)


def store_before_quote_index(seed_path: Path, tmp_path: Path) -> tuple[Settings, list[str]]:
    """The seed and the mill article in a store without a quote index, as an older version
    left it; the seed's Peskov quotes as the index had them."""
    setup = settings()
    mill = tmp_path / "mill.jsonl"
    write_mill(mill, MILL)
    ingest([str(seed_path), str(mill)], setup)
    made = ChunkStore.open(setup)
    peskov = quotes_by(made, "Peskov")
    assert len(peskov) >= 6
    made.client.delete_collection(f"{setup.collection}-quotes")
    return setup, peskov


def ingest_something(setup: Settings, tmp_path: Path) -> IngestReport:
    """An ingest of one new short article (its catch-up is what is tested)."""
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "o-1", "title": "Rain", "text": "It rained."}) + "\n")
    return ingest([str(other)], setup)


def test_older_store_without_quote_index_gets_its_quotes_on_the_next_ingest(
    seed_path: Path, tmp_path: Path
) -> None:
    setup, peskov = store_before_quote_index(seed_path, tmp_path)
    store = ChunkStore.open(setup)
    with pytest.raises(Exception, match="the next 'rag ingest PATH' extracts"):
        store.quote_index()

    # the next ingest (here of nothing new) extracts the stored articles' quotes
    assert ingest_something(setup, tmp_path).ok
    store = ChunkStore.open(setup)
    assert quotes_by(store, "Peskov") == peskov
    assert quotes_by(store, "Hale") == [
        "the library would stay open on Saturdays.",
        "We listened to every letter",
        "This is the\ntown's living room.",
    ]
    assert not store.quote_index().needs_backfill
    asked = speaker_question("What did the Kremlin say?")
    assert asked is not None
    answer = find_speaker_quotes(store.quote_index(), asked)
    assert len(answer) >= 6 and {q.quote.speaker for q in answer} == {"Dmitry Peskov"}


def test_a_backfill_stores_an_article_whose_quotes_cannot_be_read_without_them(
    seed_path: Path, tmp_path: Path, break_quotes: Callable[[str], None]
) -> None:
    setup, peskov = store_before_quote_index(seed_path, tmp_path)
    break_quotes("Rosa Hale")
    report = ingest_something(setup, tmp_path)  # the catch-up runs under it, past the fault
    [(_, why)] = report.unquoted.items()  # the mill article, reported as the worker does
    assert report.ok and why.startswith("RecursionError")
    store = ChunkStore.open(setup)
    assert quotes_by(store, "Peskov") == peskov and quotes_by(store, "Hale") == []
    assert not store.quote_index().needs_backfill


def test_quotes_extracted_under_older_rules_are_extracted_again(
    seed_path: Path, tmp_path: Path
) -> None:
    """Rules that change which quotes an article has bump RULES_VERSION; the next ingest
    extracts every stored article's quotes again (here: older rules had found none)."""
    setup = settings()
    ingest([str(seed_path)], setup)
    store = ChunkStore.open(setup)
    peskov = quotes_by(store, "Peskov")
    index = store.quote_index()
    assert len(peskov) >= 6 and index.rules_current
    [seed] = [a.article_id for a in store.articles()]
    index.delete([seed])
    index.collection.modify(metadata={**(index.collection.metadata or {}), RULES_FLAG: 1})
    store = ChunkStore.open(setup)
    assert quotes_by(store, "Peskov") == [] and not store.quote_index().rules_current

    report = ingest_something(setup, tmp_path)
    assert report.ok and report.requoted == 1
    store = ChunkStore.open(setup)
    assert quotes_by(store, "Peskov") == peskov and store.quote_index().rules_current
    assert ingest_something(setup, tmp_path).requoted == 0  # once


def test_quote_index_without_key_records_is_read_and_then_keyed(seed_path: Path) -> None:
    setup = settings()
    ingest([str(seed_path)], setup)
    index = ChunkStore.open(setup).quote_index()
    asked = speaker_question("What did Peskov say about the Americans?")
    assert asked is not None
    keyed = [q.quote.text for q in find_speaker_quotes(index, asked)]
    assert keyed and "Americans" in " ".join(keyed)
    # as a collection from before key records: no flag, no key records
    metadata = {k: v for k, v in (index.collection.metadata or {}).items() if k != KEYS_FLAG}
    index.collection.modify(metadata=metadata)
    ids = index.collection.get(include=[])["ids"]
    index.collection.delete(ids=[i for i in ids if i.startswith(KEY_PREFIX)])
    old = ChunkStore.open(setup).quote_index()
    assert not old.has_keys
    assert [q.quote.text for q in find_speaker_quotes(old, asked)] == keyed
    ingest([str(seed_path)], setup)  # nothing new; the key records are filled in
    index = ChunkStore.open(setup).quote_index()
    assert index.has_keys
    assert [q.quote.text for q in find_speaker_quotes(index, asked)] == keyed


def test_records_with_their_json_as_the_document_are_read_and_kept_in_step(
    seed_path: Path, tmp_path: Path
) -> None:
    setup = settings()
    mill = tmp_path / "mill.jsonl"
    write_mill(mill, MILL)
    ingest([str(seed_path), str(mill)], setup)
    index = ChunkStore.open(setup).quote_index()
    asked = speaker_question("What did the Kremlin say?")
    assert asked is not None
    kremlin = [q.quote.text for q in find_speaker_quotes(index, asked)]
    hale = quotes_by(ChunkStore.open(setup), "Hale")
    assert len(kremlin) >= 6 and len(hale) == 3
    # as the previous version wrote them: the JSON (or the key lines) as the document
    got = index.collection.get(include=["metadatas", "embeddings"])
    metas = [dict(m or {}) for m in got["metadatas"] or []]
    docs = [str(m.pop(ROWS, None) or m.pop(LINES)) for m in metas]
    index.collection.delete(ids=got["ids"])
    index.collection.add(
        ids=got["ids"], documents=docs, metadatas=metas, embeddings=got["embeddings"]
    )
    store = ChunkStore.open(setup)
    assert [q.quote.text for q in find_speaker_quotes(store.quote_index(), asked)] == kremlin
    assert quotes_by(store, "Hale") == hale
    # a delete takes the article out of key records written that way
    remove(["mill-1"], setup)
    store = ChunkStore.open(setup)
    assert quotes_by(store, "Hale") == []
    assert store.quote_index().refs("Hale") == []
    assert [q.quote.text for q in find_speaker_quotes(store.quote_index(), asked)] == kremlin
    ingest([str(mill)], setup)
    assert quotes_by(ChunkStore.open(setup), "Hale") == hale


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma")) as url:
        yield url


@pytest.mark.slow
def test_quote_index_in_step_on_a_server(chroma_url: str, seed_path: Path, tmp_path: Path) -> None:
    check_in_step(settings(chroma_url=chroma_url, collection="quotes_test"), seed_path, tmp_path)


def test_large_ingest_finds_quotes_in_a_process_of_their_own(
    seed_path: Path, tmp_path: Path
) -> None:
    """Over 2 MB, ingest embeds in a worker and finds quotes in another: each batch's quotes
    are stored with it, and an article read again later keeps its last version's quotes. A
    new process, as the parallel path is not taken with threads running."""
    import os
    import subprocess
    import sys

    filler = "The council met again on Monday to discuss the harbour budget. " * 120
    title = "Mill town votes to keep its library"
    first = MILL.replace('"Our readers have saved it."', "nothing.")
    rows = [{"id": "mill-1", "title": title, "text": first}]
    rows += [{"id": f"a{i}", "title": f"Item {i}", "text": f"{i}. {filler}"} for i in range(300)]
    rows += [{"id": "mill-1", "title": title, "text": MILL}]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert corpus.stat().st_size > 2_000_000  # rag.ingest.PARALLEL_BYTES
    done = subprocess.run(
        [str(Path(sys.executable).with_name("rag")), "ingest", str(corpus), str(seed_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RAG_EMBEDDING": "hash"},
    )
    assert done.returncode == 0, done.stderr
    store = ChunkStore.open(settings())
    assert len(quotes_by(store, "Kremlin")) >= 6
    assert quotes_by(store, "Owen Pryce") == ["Our readers have saved it."]
    assert len(quotes_by(store, "Hale")) == 3
    assert {q.quote.article_id for q in store.quote_index().find()} == {
        "mill-1",
        next(a.article_id for a in store.articles() if "Erdogan" in a.title),
    }


def test_quote_worker_failure_is_a_one_line_error() -> None:
    """An article's fault is that article's (reported, the batch goes on); a batch the
    worker cannot read at all is a one-line error, and the worker goes on after it."""
    worker = QuoteWorker()
    try:
        worker.send([Article("x", "Broken", None), Article("mill-1", "Mill", MILL)])  # type: ignore[arg-type]
        found = worker.receive()
        assert found.failed["x"].startswith("TypeError") and "x" not in found.records
        assert found.records["mill-1"].metadata["keys"]
        worker.send([None])  # type: ignore[list-item]
        with pytest.raises(RagError, match=r"^the quote worker failed: AttributeError"):
            worker.receive()
        worker.send([Article("mill-1", "Mill", MILL)])
        assert worker.receive().records["mill-1"].metadata["keys"]  # it goes on
    finally:
        worker.close()


@pytest.mark.parametrize(("n", "said"), [(1, "1 stored article "), (2127, "2127 stored articles ")])
def test_the_catch_up_is_counted_in_words_that_agree(n: int, said: str) -> None:
    """It said "quotes extracted for 1 stored articles"."""
    from io import StringIO

    from rich.console import Console

    from rag.cli.rendering import ingest_summary
    from rag.ingest import IngestReport

    out = StringIO()
    ingest_summary(Console(file=out, width=200), Console(file=StringIO()), IngestReport(requoted=n))
    assert f"quotes extracted for {said}(" in out.getvalue()
