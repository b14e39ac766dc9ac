"""Write rag/data/background.tsv: how often each index term occurs in general English.

The extractive answerer weighs a question's terms by how rare they are. A store of a few
articles cannot tell a rare name from a common verb (every word of a one-article store is
in most of its chunks, every word missing from it looks rarest), so ``rag.background``
smooths the store's document frequencies with these background ones.

Source: the ``wordfreq`` package (a development dependency; its word lists combine
Wikipedia, subtitles, news, books, web text and more). Its most frequent English words are
reduced to ``rag.text.index_terms`` (stopwords out, stemmed, irregular verbs mapped) and
their frequencies summed per term, then renormalised over the terms kept, so they share
the normalisation of the BM25 index. The data are wordfreq's, under CC BY-SA 4.0
(https://github.com/rspeer/wordfreq), and so is this derived file.

    python bench/background.py [--words 40000]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "rag" / "data" / "background.tsv"


def build(words: int) -> dict[str, float]:
    """Each index term's share of the index terms in general English text."""
    import wordfreq

    from rag.text import index_terms

    mass: dict[str, float] = defaultdict(float)
    for word in wordfreq.top_n_list("en", words):
        terms = index_terms(word)
        if len(terms) == 1:  # a stopword gives none, a hyphenated word several
            mass[terms[0]] += wordfreq.word_frequency(word, "en")
    total = sum(mass.values())
    return {term: f / total for term, f in sorted(mass.items(), key=lambda kv: -kv[1])}


def main() -> None:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=40000, help="most frequent words read")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = build(args.words)
    header = (
        f"# index term frequencies in general English: bench/background.py, wordfreq "
        f"{version('wordfreq')}, its {args.words} most frequent English words\n"
        "# data: wordfreq (Robyn Speer and contributors), CC BY-SA 4.0; this file likewise\n"
    )
    lines = (f"{term}\t{f:.3g}\n" for term, f in table.items())
    args.out.write_text(header + "".join(lines), encoding="utf-8")
    print(f"{len(table)} terms -> {args.out}")


if __name__ == "__main__":
    main()
