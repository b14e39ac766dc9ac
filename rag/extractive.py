"""The extractive answerer: no model, the retrieved sentences that answer best, cited.

It scores each sentence of the shown passages by how much of the question's key terms
(weighted by their rarity in the collection) it covers, answers with the best one or
two, and refuses when no passage addresses the question's key terms. A sentence that
offers no answer of the kind asked for (no name for "who", no new number for "how many",
no time for "when": ``rag.answertype``) counts for less, and a sentence giving the reader
orders (an injected instruction) is never an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.answertype import Kind, expected_kind, is_instruction, offers
from rag.text import key_terms, sentence_spans
from rag.types import Passage

if TYPE_CHECKING:
    from rag.bm25 import BM25Index

RANK_BONUS = 0.02
CONTEXT_WEIGHT = 0.5
FIRST_MENTION_BONUS = 0.04
TYPE_MISMATCH = 0.5  # coverage kept by a sentence without the kind of answer asked for


@dataclass
class Scored:
    """A candidate sentence of a shown passage."""

    source: int  # 1-based source number
    start: int
    end: int
    text: str
    coverage: float
    terms: frozenset[str]


class ExtractiveAnswerer:
    """Answers with the best-covering sentences of the shown passages."""

    name = "extractive"

    def __init__(
        self,
        idf: Callable[[str], float] | None = None,
        *,
        min_coverage: float = 0.5,
        max_sentences: int = 2,
    ) -> None:
        self.idf = idf or (lambda _term: 1.0)
        self.min_coverage = min_coverage
        self.max_sentences = max_sentences

    def answer(self, question: str, passages: list[Passage], refusal: str) -> str:
        """Cited sentences, or the refusal sentence."""
        terms = set(key_terms(question))
        if not terms or not passages:
            return refusal
        weights = {t: self.idf(t) for t in terms}
        total = sum(weights.values())
        kind = expected_kind(question)
        scored = self._score(passages, weights, total, question, kind)
        if not scored or scored[0].coverage < self.min_coverage:
            return refusal
        return " ".join(f"{s.text.strip()} [{s.source}]" for s in self._pick(scored, weights))

    def _score(
        self,
        passages: list[Passage],
        weights: dict[str, float],
        total: float,
        question: str,
        kind: Kind | None,
    ) -> list[Scored]:
        out: list[Scored] = []
        first_mention: dict[tuple[str, str], int] = {}
        for n, passage in enumerate(passages, 1):
            previous: frozenset[str] = frozenset()
            for start, end in sentence_spans(passage.text):
                text = passage.text[start:end]
                if is_instruction(text):  # read on as if it were not there
                    continue
                found = frozenset(set(key_terms(text)) & weights.keys())
                # "They spent ..." leans on the sentence before it for its subject
                context = previous - found
                coverage = (
                    sum(weights[t] for t in found)
                    + CONTEXT_WEIGHT * sum(weights[t] for t in context)
                ) / total
                if kind is not None and not offers(kind, text, question):
                    coverage *= TYPE_MISMATCH
                out.append(Scored(n, start, end, text, coverage, found))
                previous = found
                for term in found:
                    key = (passage.article_id, term)
                    offset = passage.start + start
                    first_mention[key] = min(first_mention.get(key, offset), offset)
        for s in out:
            passage = passages[s.source - 1]
            # news puts the main statement first: favour the first mention of a key term
            if any(
                first_mention.get((passage.article_id, t)) == passage.start + s.start
                for t in s.terms
            ):
                s.coverage += FIRST_MENTION_BONUS
            s.coverage += RANK_BONUS / s.source
        return sorted(out, key=lambda s: (-s.coverage, s.source, s.start))

    def _pick(self, scored: list[Scored], weights: dict[str, float]) -> list[Scored]:
        best = scored[0]
        picked = [best]
        covered = set(best.terms)
        for cand in scored[1:12]:
            if len(picked) >= self.max_sentences:
                break
            new = cand.terms - covered
            if cand.coverage >= 0.75 * best.coverage and new:
                picked.append(cand)
                covered |= cand.terms
        follow = _follow_on(best, scored)
        if follow and len(picked) < self.max_sentences + 1 and follow not in picked:
            picked.insert(1, follow)
        return picked


def _follow_on(best: Scored, scored: list[Scored]) -> Scored | None:
    """The sentence right after the best one when it continues it (a quote, a pronoun)."""
    after = [s for s in scored if s.source == best.source and s.start > best.start]
    if not after:
        return None
    nxt = min(after, key=lambda s: s.start)
    if nxt.start - best.end > 3:
        return None
    opener = nxt.text.lstrip()[:12].lower()
    if opener.startswith(('"', "“", "he ", "she ", "they ", "it ", "the ", "that ")):
        return nxt
    return None


def idf_from_bm25(index: BM25Index | None) -> Callable[[str], float]:
    """Collection-wide idf of a key term, read from the BM25 side index."""
    if index is None or index.model is None:
        return lambda _term: 1.0
    return index.idf
