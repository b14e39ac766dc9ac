"""``rag eval quotes``: quote extraction and attribution scored against the quote gold set
(``eval/quotes-gold.jsonl``, format in ``eval/README.md``), beside a simple baseline.

A gold quote is *found* when one extracted quote of its article covers at least 80% of its
words (word positions in the stored text). An extracted quote is *correct* when it finds a
gold quote or at least 80% of its own words lie inside one (a piece of gold speech);
extracted quotes that match only optional gold quotes count neither way. Attribution is
right when the speaker of the best-covering extracted quote is the gold speaker or one of
its aliases (case-insensitive); speakers the article never names are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rag.errors import RagError
from rag.eval import quote_gold
from rag.quotes.extract import Quote, extract_quotes, quote_spans
from rag.quotes.speakers import CAP_RUN, NOT_NAMES

COVER = 0.8
_WORD = re.compile(r"\w+")


class Gold(Protocol):
    """What the scorer reads of a gold quote (``rag.eval.quote_gold.GoldQuote``)."""

    @property
    def article_id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def identified_by(self) -> str: ...
    @property
    def optional(self) -> bool: ...
    @property
    def anonymous(self) -> bool: ...
    @property
    def names(self) -> tuple[str, ...]: ...


@dataclass
class Rate:
    """hits / n, None when nothing was counted."""

    hits: int = 0
    n: int = 0

    def add(self, ok: bool) -> None:
        self.hits += int(ok)
        self.n += 1

    @property
    def value(self) -> float | None:
        return self.hits / self.n if self.n else None


@dataclass
class QuoteScores:
    """Recall by kind, precision, and attribution overall and by how the gold identifies
    the speaker."""

    name: str
    recall: dict[str, Rate] = field(default_factory=dict)
    precision: Rate = field(default_factory=Rate)
    attribution: dict[str, Rate] = field(default_factory=dict)
    unlocated: int = 0

    def to_dict(self) -> dict[str, Any]:
        def rate(r: Rate) -> dict[str, Any]:
            return {"value": r.value, "hits": r.hits, "n": r.n}

        return {
            "system": self.name,
            "recall": {k: rate(v) for k, v in self.recall.items()},
            "precision": rate(self.precision),
            "attribution": {k: rate(v) for k, v in self.attribution.items()},
            "unlocated": self.unlocated,
        }


Locate = Callable[[str, str], "tuple[int, int] | None"]


def score(
    name: str,
    gold: Sequence[Gold],
    texts: dict[str, str],
    extracted: dict[str, list[Quote]],
    locate: Locate,
) -> QuoteScores:
    """Score extracted quotes (per article id) against the gold quotes of those articles."""
    result = QuoteScores(name)
    for key in ("direct", "indirect", "all"):
        result.recall[key] = Rate()
    for key in ("all", "name", "pronoun", "role", "continuation"):
        result.attribution[key] = Rate()
    spans: dict[str, list[tuple[Gold, set[int]]]] = {}
    for g in gold:
        text = texts.get(g.article_id)
        where = locate(g.text, text) if text is not None else None
        if where is None or text is None:
            result.unlocated += 1
            continue
        spans.setdefault(g.article_id, []).append((g, _words(text, *where)))
    for article_id, golds in spans.items():
        text = texts[article_id]
        quotes = [(q, _words(text, q.start, q.end)) for q in extracted.get(article_id, [])]
        for g, words in golds:
            best = max(quotes, key=lambda qw: len(qw[1] & words), default=None)
            found = best is not None and len(best[1] & words) >= COVER * len(words)
            if g.optional:
                continue
            result.recall[g.kind].add(found)
            result.recall["all"].add(found)
            if found and best is not None and not g.anonymous:
                right = best[0].speaker.lower() in {n.lower() for n in g.names}
                result.attribution["all"].add(right)
                result.attribution.setdefault(g.identified_by, Rate()).add(right)
        for _quote, words in quotes:
            matches = [
                g
                for g, gw in golds
                if len(words & gw) >= COVER * len(gw) or len(words & gw) >= COVER * len(words)
            ]
            if matches and all(g.optional for g in matches):
                continue
            result.precision.add(bool(matches))
    return result


def _words(text: str, start: int, end: int) -> set[int]:
    """Start offsets of the words inside text[start:end]."""
    return {m.start() for m in _WORD.finditer(text, start, end)}


def baseline_quotes(article_id: str, text: str) -> list[Quote]:
    """The simplest attributor: every quoted span and every sentence clause after "said",
    given to the nearest name before the nearest "said"."""
    quotes: list[Quote] = []
    for span in quote_spans(text):
        quotes.append(_baseline(article_id, text, span.start, span.end, "direct"))
    for m in re.finditer(r"\bsaid\b(?: that)?\s+([^.\"]{10,})", text):
        quotes.append(_baseline(article_id, text, m.start(1), m.end(1), "indirect"))
    return quotes


def _baseline(article_id: str, text: str, start: int, end: int, kind: str) -> Quote:
    said = [m.start() for m in re.finditer(r"\bsaid\b", text)]
    after = [s for s in said if s >= end]
    before = [s for s in said if s < start]
    cue = after[0] if after and after[0] - end < 200 else (before[-1] if before else end)
    names = [
        m.group()
        for m in CAP_RUN.finditer(text, 0, cue)
        if m.group().split()[0].lower() not in NOT_NAMES
    ]
    return Quote(article_id, text[start:end], start, end, kind, "said", names[-1] if names else "")


@dataclass
class QuoteEval:
    """The extractor's scores and the baseline's, on the same gold quotes."""

    gold: int
    articles: int
    systems: list[QuoteScores]

    def to_dict(self) -> dict[str, Any]:
        return {
            "gold": self.gold,
            "articles": self.articles,
            "systems": [s.to_dict() for s in self.systems],
        }


def evaluate_quotes(gold_path: Path, corpus: Sequence[str]) -> QuoteEval:
    """Read the gold quotes and their articles from the corpus, extract quotes from the
    articles' cleaned text (as ingest stores it), and score them and the baseline."""
    from rag.files import expand_paths
    from rag.readers import read_path
    from rag.types import Article

    gold = quote_gold.load(gold_path, corpus)
    wanted = {g.article_id for g in gold}
    files, failures = expand_paths(list(corpus))
    texts: dict[str, str] = {}
    for path in files:
        for item in read_path(path, None):
            if isinstance(item, Article) and item.article_id in wanted:
                texts[item.article_id] = item.text
    missing = wanted - set(texts)
    if missing:
        raise RagError(f"{len(missing)} gold articles are not in the corpus, e.g. {min(missing)}")
    del failures
    rules = {a: extract_quotes(a, t) for a, t in texts.items()}
    base = {a: baseline_quotes(a, t) for a, t in texts.items()}
    systems = [
        score("rules", gold, texts, rules, quote_gold.locate),
        score("baseline (name before said)", gold, texts, base, quote_gold.locate),
    ]
    counted = sum(not g.optional for g in gold)
    return QuoteEval(gold=counted, articles=len(texts), systems=systems)
