"""Hybrid retrieval: outlet filters and fusion, over small invented corpora (hash embedding)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from rag.articles import outlet_key, outlet_stem, same_outlet
from rag.ingest import ingest
from rag.retrieve import Filters, Searcher
from rag.settings import Settings

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
