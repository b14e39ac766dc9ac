"""Hybrid retrieval: outlet filters and fusion, over small invented corpora (hash embedding)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from rag.articles import outlet_key, outlet_stem, same_outlet
from rag.embeddings import HashEmbedder
from rag.ingest import ingest
from rag.retrieve import FEATURES, Filters, Searcher, Tuning, diversify
from rag.settings import Settings
from rag.types import Passage

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2024, 6, 1)


def _settings() -> Settings:
    return Settings.load(flags={"embedding": "hash"})


def _ingest(tmp_path: Path, records: list[dict[str, str]]) -> Searcher:
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    settings = _settings()
    report = ingest([str(path)], settings)
    assert len(report.added) == len(records)
    return Searcher(settings).open()


def _record(aid: str, title: str, text: str, source: str = "", url: str = "") -> dict[str, str]:
    return {
        "id": aid,
        "title": title,
        "text": text,
        "source": source,
        "url": url,
        "published": "2024-05-01",
    }


@pytest.mark.parametrize(
    ("wanted", "outlet"),
    [
        ("cnn.com", "CNN"),
        ("www.cnn.com", "CNN"),
        ("CNN", "cnn.com"),
        ("cnn", "edition.cnn.com"),
        ("WWW.BBC.CO.UK", "bbc"),
        ("Valley Herald", "valley  herald"),
    ],
)
def test_source_names_and_hosts_are_one_outlet(wanted: str, outlet: str) -> None:
    assert same_outlet(wanted, outlet)


@pytest.mark.parametrize(("wanted", "outlet"), [("cnn.com", "BBC"), ("fox", "foxtrot.com")])
def test_different_outlets_do_not_match(wanted: str, outlet: str) -> None:
    assert not same_outlet(wanted, outlet)


def test_outlet_key_and_stem() -> None:
    assert outlet_key("  WWW.CNN.com ") == "cnn.com"
    assert outlet_stem("news.bbc.co.uk") == "bbc"
    assert outlet_stem("Valley Herald") == "valley herald"


def test_source_filter_finds_an_outlet_by_name_or_host(tmp_path: Path) -> None:
    searcher = _ingest(
        tmp_path,
        [
            _record("named", "Storm hits coast", "A storm hit the coast on Monday.", "CNN"),
            _record(
                "hosted",
                "Storm closes port",
                "The storm closed the port for two days.",
                url="https://www.cnn.com/2024/05/01/storm",
            ),
            _record("other", "Storm in the north", "The storm moved north.", "BBC News"),
        ],
    )
    for wanted in ("cnn", "CNN", "cnn.com", "www.cnn.com", "Www.Cnn.Com"):
        for mode in ("hybrid", "dense", "bm25"):
            result = searcher.search(
                "storm", k=5, as_of=AS_OF, filters=Filters(source=wanted), mode=mode
            )
            assert {p.article_id for p in result.ranking} == {"named", "hosted"}, (wanted, mode)
    result = searcher.search("storm", k=5, as_of=AS_OF, filters=Filters(source="bbc news"))
    assert {p.article_id for p in result.ranking} == {"other"}


class NameBlindEmbedder(HashEmbedder):
    """A dense twin that, like a small static embedding, has no vector for a rare name."""

    def __init__(self, unknown: str) -> None:
        super().__init__()
        self.unknown = unknown

    def embed(self, texts: list[str]) -> np.ndarray:
        return super().embed([t.replace(self.unknown, "") for t in texts])


def _press_corpus() -> list[dict[str, str]]:
    """Thirty articles that talk like the question, and one that names its rare person."""
    records = [
        _record(
            f"press-{n:02d}",
            f"Ministers speak to reporters, round {n}",
            f"The minister spoke to reporters about the accusations on day {n}. Reporters "
            "asked when the accusations were first made and who would speak next.",
            "Daily Lantern",
        )
        for n in range(30)
    ]
    records.append(
        _record(
            "decisive",
            "Kremlin rejects claims",
            "Kremlin spokesman Dmitry Zorbanek said on Friday that Moscow had not interfered "
            "and that the claims were false.",
            "Coastal Ledger",
        )
    )
    return records


def test_fusion_keeps_a_document_only_bm25_finds_on_a_rare_name(tmp_path: Path) -> None:
    path = tmp_path / "press.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _press_corpus()), encoding="utf-8")
    settings = _settings()
    embedder = NameBlindEmbedder("Zorbanek")
    ingest([str(path)], settings, embedder=embedder)
    searcher = Searcher(settings, embedder=embedder, tuning=Tuning(candidates=10)).open()
    question = "When did Zorbanek speak to reporters about the accusations?"

    dense = searcher.search(question, k=10, as_of=AS_OF, mode="dense").ranking
    bm25 = searcher.search(question, k=10, as_of=AS_OF, mode="bm25").ranking
    assert "decisive" not in {p.article_id for p in dense}  # dense does not find it
    assert bm25[0].article_id == "decisive"  # BM25 ranks it first on the rare name

    result = searcher.search(question, k=5, as_of=AS_OF)
    assert result.ranking[0].article_id == "decisive"
    assert result.top[0].article_id == "decisive"


def test_an_article_holding_the_question_across_its_passages_scores_that_on_each(
    tmp_path: Path,
) -> None:
    """The ``article`` feature: the share of the question's terms the article holds in any of
    its candidate passages (or its headline), the same on each of them; a passage holding
    only part of the question still scores the whole article's share there."""
    filler = " ".join(
        f"Paragraph {n} describes the harbour, its cranes and the weather that week."
        for n in range(80)
    )
    split = _record(
        "split",
        "Harbour news",
        "Dmitry Zorbanek spoke at the harbour on Friday.\n\n"
        f"{filler}\n\nThe turbine contract was signed after months of talks.",
    )
    other = _record("other", "Wind farm", "A turbine contract was discussed in the town hall.")
    searcher = _ingest(tmp_path, [split, other])
    got = searcher.candidates("Zorbanek turbine contract", as_of=AS_OF)
    column = got.features[:, FEATURES.index("article")]
    rare = got.features[:, FEATURES.index("rare")]
    mine = [i for i, p in enumerate(got.passages) if p.article_id == "split"]
    assert len(mine) >= 2  # the article is read in more than one passage
    assert {round(float(column[i]), 6) for i in mine} == {1.0}
    assert any(rare[i] < 1.0 for i in mine)  # no one passage holds the whole question
    (theirs,) = [i for i, p in enumerate(got.passages) if p.article_id == "other"]
    assert column[theirs] == pytest.approx(rare[theirs]) and column[theirs] < 1.0


def test_fusion_weights_are_the_recorded_fit() -> None:
    record = json.loads((ROOT / "bench" / "fusion-fit.json").read_text(encoding="utf-8"))
    assert record["weights"] == dict(zip(FEATURES, Tuning().weights().tolist(), strict=True))
    assert record["dataset"] == "../shared/data/newsqa/questions-dev.jsonl"


def test_diversify_shows_the_leading_articles_chunks_that_outscore_the_rest() -> None:
    def passage(chunk: str, score: float) -> Passage:
        return Passage(chunk_id=chunk, article_id=chunk.split("#")[0], text="", score=score)

    ranking = [
        passage("lead#2", 3.2),
        passage("lead#0", 3.0),
        passage("b#0", 0.3),
        passage("b#1", 0.29),
        passage("c#0", 0.2),
        passage("lead#1", 0.1),
    ]
    assert [p.chunk_id for p in diversify(ranking, 4)] == ["lead#2", "lead#0", "b#0", "c#0"]
    assert [p.chunk_id for p in diversify(ranking, 5)] == [
        "lead#2", "lead#0", "b#0", "b#1", "c#0"
    ]  # fmt: skip
