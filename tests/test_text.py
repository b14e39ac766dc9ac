"""rag.text: one normalisation of terms for BM25, the answerer, follow-ups and citations."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.background import term_weights
from rag.bm25 import BM25Index, Row, Vocab, tokenize_words
from rag.text import (
    INDEX_STOPWORDS,
    MARKER,
    QUESTION_WORDS,
    STOPWORDS,
    index_terms,
    key_terms,
    plain,
    stem,
    strip_markers,
)


def _index(texts: list[str]) -> BM25Index:
    vocab = Vocab()
    rows = [
        Row(f"c{i}", f"a{i}", 0, "", vocab.encode(t)) for i, t in enumerate(tokenize_words(texts))
    ]
    return BM25Index.from_rows("r", rows, vocab)


def test_key_terms_are_index_terms() -> None:
    sentence = "The Americans spent $200m on well-known investigations, Peskov's aides said."
    assert set(key_terms(sentence)) <= set(index_terms(sentence))
    assert "spend" in key_terms(sentence) and "peskov" in key_terms(sentence)


def test_irregular_past_forms_meet_their_verb() -> None:
    assert stem("spent") == stem("spend") == stem("spends")
    assert key_terms("How much did they spend?") == key_terms("They spent")


def test_british_and_american_spellings_are_one_term() -> None:
    british = "Rumours of the defence minister's programme at the theatre centre"
    american = "Rumors of the defense minister's program at the theater center"
    assert index_terms(british) == index_terms(american)
    assert key_terms("What did he call the rumours?") == key_terms("He called the rumors")
    # words that are other words, or other units, in British English stay apart
    assert stem("tyre") != stem("tire") and stem("tonnes") != stem("tons")


def test_a_question_in_american_spelling_finds_the_british_article() -> None:
    index = _index(
        [
            "The spokesman called anyone who spreads such rumours a liar.",
            "The weather was fine in Moscow.",
        ]
    )
    hits = index.search("Which rumors?", 2)
    assert [index.chunk_ids[row] for row, score in hits if score > 0] == ["c0"]


def test_idf_reads_the_words_bm25_indexed() -> None:
    index = _index(
        [
            "Russia spent millions on investigations.",
            "The weather was fine in Moscow.",
            "The weather was fine in Ankara.",
            "The weather was fine in Paris.",
        ]
    )
    idf = term_weights(index, 0.0)  # the store's idf alone
    [spend] = key_terms("spend")
    [weather] = key_terms("weather")
    [unseen] = key_terms("zeppelin")
    assert index.document_frequency(spend) == 1  # "spent" was indexed as "spend"
    assert index.document_frequency(weather) == 3
    assert idf(weather) < idf(spend) < idf(unseen)


def test_one_stopword_list_contains_the_others() -> None:
    assert INDEX_STOPWORDS <= STOPWORDS <= QUESTION_WORDS
    assert {"us", "may", "won"}.isdisjoint(INDEX_STOPWORDS)
    assert "won" not in STOPWORDS  # "Who won?" keeps its verb


@pytest.mark.parametrize(
    "marked",
    ["Rates rose [1].", "Rates rose [1, 2].", "Rates rose [Source 2].", "Rates rose 【3】.",
     "Rates rose (Source 2).", "Rates rose [2-4]."],
)  # fmt: skip
def test_strip_markers_removes_every_marker_form(marked: str) -> None:
    assert strip_markers(marked) == "Rates rose."
    assert MARKER.search(marked)


def test_years_in_brackets_are_not_markers() -> None:
    assert not MARKER.search("the [2023] report and (2) items")


def test_plain_keeps_length() -> None:
    fancy = "“Don’t”—she said\u00a0so"
    assert plain(fancy) == '"Don\'t"-she said so'
    assert len(plain(fancy)) == len(fancy)


def test_an_index_of_other_terms_is_not_loaded(tmp_path: Path) -> None:
    import json

    index = _index(["Russia spent millions."])
    index.save(tmp_path)
    assert BM25Index.load(tmp_path) is not None
    version = tmp_path / (tmp_path / "CURRENT").read_text().strip()
    meta = json.loads((version / "meta.json").read_text())
    meta["terms"] = "0"
    (version / "meta.json").write_text(json.dumps(meta))
    assert BM25Index.load(tmp_path) is None  # rebuilt from the store by ensure_index
