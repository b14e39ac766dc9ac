"""rag.background: term weights that tell a rare name from a common word in a store of any size."""

from __future__ import annotations

from rag.background import frequencies, term_weights
from rag.bm25 import BM25Index, Row, Vocab, tokenize_words
from rag.text import key_terms

# one article in three chunks: its subject's name is in every one of them
ONE_ARTICLE = [
    "Kilicdaroglu accused Moscow of spreading deep fake content before the vote.",
    "Kilicdaroglu, who leads in the opinion polls, wrote on Twitter in Turkish and Russian.",
    "Kremlin spokesman Dmitry Peskov said Kilicdaroglu should recall what the Americans did.",
]


def _index(texts: list[str]) -> BM25Index:
    vocab = Vocab()
    rows = [Row(f"c{i}", "a0", 0, "", vocab.encode(t)) for i, t in enumerate(tokenize_words(texts))]
    return BM25Index.from_rows("r", rows, vocab)


def _term(word: str) -> str:
    [term] = key_terms(word)
    return term


def test_the_table_knows_common_words_from_rare_names() -> None:
    table, unlisted = frequencies()
    assert table[_term("post")] > table[_term("publish")] > table.get(_term("peskov"), unlisted)
    assert _term("kilicdaroglu") not in table and unlisted == min(table.values())


def test_in_a_one_article_store_the_shared_name_outweighs_a_common_missing_word() -> None:
    index = _index(ONE_ARTICLE)
    name, verb = _term("Kilicdaroglu"), _term("post")
    store_only = term_weights(index, 0.0)
    # the store alone: the name is in every chunk, the verb in none, so the verb weighs most
    assert store_only(verb) > store_only(name)
    smoothed = term_weights(index, 1000.0)
    assert smoothed(name) > smoothed(verb)
    assert smoothed(_term("Peskov")) > smoothed(_term("spokesman")) > smoothed(_term("accused"))


def test_a_large_store_keeps_its_own_counts() -> None:
    """A word common in the store is common whatever English says of it."""
    texts = [f"Doughnut sales rose in shop {i} this week." for i in range(4000)]
    texts += ["Heavy rain closed the roads."] * 20
    index = _index(texts)
    smoothed = term_weights(index, 1000.0)
    doughnut, rain = _term("doughnut"), _term("rain")
    table, _ = frequencies()
    assert table[doughnut] < table[rain]  # English alone would say the opposite
    assert smoothed(doughnut) < smoothed(rain)


def test_no_index_weighs_every_term_alike() -> None:
    weight = term_weights(None, 1000.0)
    assert weight(_term("Kilicdaroglu")) == weight(_term("post")) == 1.0
