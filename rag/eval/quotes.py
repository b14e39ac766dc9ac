"""Scoring quote extraction and attribution against a gold set, beside a simple baseline.

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
from typing import Any, Protocol

from rag.quotes.extract import Quote, quote_spans
from rag.quotes.speakers import CAP_RUN, NOT_NAMES

COVER = 0.8
_WORD = re.compile(r"\w+")


class Gold(Protocol):
    """What the scorer reads of a gold quote."""

    article_id: str
    text: str
    kind: str
    identified_by: str
    optional: bool
    anonymous: bool

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
