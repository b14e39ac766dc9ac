"""Term weights that hold in a store of any size: the store's idf, smoothed with English.

A store of one article cannot say which of a question's words are rare: the name the
question shares with the article is in every chunk (idf at its least), and a common verb
the article happens not to use looks rarest of all. So the extractive answerer weighs a
term by a Lucene idf whose document frequency adds ``prior`` pseudo-chunks of general
English to the store's chunks: a term occurs in such a chunk with the probability a chunk
of the store's mean length would hold it, given the term's frequency in general English
(``rag/data/background.tsv``, written by ``bench/background.py``). In a store of thousands
of chunks the store's own counts dominate; in a store of three the background does.
``BACKGROUND_CHUNKS`` is the ``prior`` the extractive answerer uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.bm25 import BM25Index

DATA_FILE = "background.tsv"

# Chunks of general English added to the store's. Chosen on the seed gold set over seeds/ (a
# store of 3 chunks; dev data): 0 refuses 4 of its 23 answerable questions, 30 to 100 refuse 1,
# 300 and 1000 refuse 2. Stores of thousands of chunks (BBC, newsqa) answer every question of
# their gold sets as with 0: there the store's own counts decide.
BACKGROUND_CHUNKS = 100.0


@lru_cache(maxsize=1)
def frequencies() -> tuple[dict[str, float], float]:
    """(index term -> share of the index terms of general English, the share of a term the
    table does not list: its least share, as it holds only the most frequent terms)."""
    text = resources.files("rag").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#")).split()
    table = dict(zip(body[::2], map(float, body[1::2]), strict=True))
    return table, min(table.values())


def term_weights(index: BM25Index | None, prior: float) -> Callable[[str], float]:
    """Lucene idf of an index term over the store's chunks plus ``prior`` chunks of general
    English of the store's mean chunk length."""
    if index is None or index.model is None or not index.chunk_ids:
        return lambda _term: 1.0  # nothing to measure chunks by: every term weighs the same
    table, unlisted = frequencies()
    chunks = len(index.chunk_ids)
    length = index.mean_length()

    def weight(term: str) -> float:
        df = index.document_frequency(term) + prior * -math.expm1(
            -table.get(term, unlisted) * length
        )
        n = chunks + prior
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    return weight
