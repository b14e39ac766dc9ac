"""Write rag/data/spelling.tsv: British spellings and their American forms.

BM25, the extractive answerer, follow-ups and the citation checker share one normalisation
of terms (``rag.text.index_terms``). British and American news spell many words apart
("rumours" and "rumors", "defence" and "defense", "organisation" and "organization"), and
stemming does not bring them together, so a question in one spelling missed the articles in
the other. ``rag.text`` maps each British spelling in this table to its American form before
stemming.

Source: the ``breame`` package (a development dependency; Charles Pierse, Apache-2.0,
https://github.com/cdpierse/breame), its ``BRITISH_ENGLISH_SPELLINGS``. Left out: pairs
whose American form is another word in British English too ("tyre" and "tire", "draught"
and "draft") or another quantity ("tonne", 1,000 kg, and "ton"), and pairs that stem alike
already ("travelled", "traveled").

    python bench/spelling.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "rag" / "data" / "spelling.tsv"
OTHER_WORDS = ("tyre", "tyres", "draught", "draughts", "tonne", "tonnes")


def build() -> dict[str, str]:
    """British spelling -> American spelling, for the pairs that stem apart."""
    from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

    from rag.text import stem_words

    pairs = {}
    for british, american in sorted(BRITISH_ENGLISH_SPELLINGS.items()):
        if british in OTHER_WORDS or not (british.isalpha() and american.isalpha()):
            continue
        # stemmed without this table, as the older index did
        if stem_words([british], spelling=False) != stem_words([american], spelling=False):
            pairs[british] = american
    return pairs


def main() -> None:
    from importlib.metadata import version

    pairs = build()
    header = (
        f"# British spelling -> American spelling: bench/spelling.py, breame {version('breame')}\n"
        "# data: breame (Charles Pierse), Apache-2.0, https://github.com/cdpierse/breame\n"
    )
    OUT.write_text(header + "".join(f"{b}\t{a}\n" for b, a in pairs.items()), encoding="utf-8")
    print(f"{len(pairs)} spellings -> {OUT}")


if __name__ == "__main__":
    main()
