"""The extractive answerer: no model, the retrieved sentences that answer best, cited.

It scores each sentence of the shown passages by how much of the question's key terms
(weighted by their rarity in the collection) it covers, answers with the best one or
two, and refuses when no passage addresses the question's key terms. A sentence that
offers no answer of the kind asked for (no name for "who", no new number for "how many",
no time for "when": ``rag.answertype``) counts for less, and a sentence giving the reader
orders (an injected instruction) is never an answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rag.answertype import Kind, expected_kind, is_instruction, offers
from rag.text import sentence_spans
from rag.types import Passage

QUESTION_WORDS = {
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does",
    "do", "done", "say", "said", "says", "tell", "told", "according", "is", "are", "was",
    "were", "will", "would", "can", "could", "should", "has", "have", "had", "be", "been",
    "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "about", "with", "by",
    "this", "that", "these", "those", "it", "its", "as", "at", "from", "there", "their",
    "they", "he", "she", "his", "her", "him", "them", "i", "you", "we", "us", "our", "your",
    "name", "named", "mr", "ms", "mrs", "week", "recently", "year", "month", "day", "today",
    "yesterday", "last", "new", "one", "any", "some", "much", "many", "than", "then", "also",
    "not", "no", "yes", "so", "if", "but", "into", "out", "up", "down", "over", "after",
    "before", "more", "most", "other", "such", "only", "own", "same", "just", "very",
}  # fmt: skip

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_POSSESSIVE = re.compile(r"['’]s$")


RANK_BONUS = 0.02
CONTEXT_WEIGHT = 0.5
FIRST_MENTION_BONUS = 0.04
TYPE_MISMATCH = 0.5  # coverage kept by a sentence without the kind of answer asked for


@lru_cache(maxsize=1)
def _stem() -> Callable[[str], str]:
    try:
        import Stemmer

        stemmer = Stemmer.Stemmer("english")
        return lambda word: str(stemmer.stemWord(word))
    except ImportError:
        return lambda word: word


# Past forms that a stemmer cannot map to their verb ("spent" does not stem to "spend").
IRREGULAR = {
    "spent": "spend", "said": "say", "told": "tell", "won": "win", "lost": "lose",
    "left": "leave", "met": "meet", "paid": "pay", "sold": "sell", "bought": "buy",
    "began": "begin", "begun": "begin", "took": "take", "taken": "take", "gave": "give",
    "given": "give", "made": "make", "found": "find", "held": "hold", "led": "lead",
    "ran": "run", "fell": "fall", "fallen": "fall", "rose": "rise", "risen": "rise",
    "brought": "bring", "thought": "think", "kept": "keep", "sent": "send",
    "built": "build", "struck": "strike", "shot": "shoot", "fought": "fight",
    "wrote": "write", "written": "write", "chose": "choose", "chosen": "choose",
    "drove": "drive", "driven": "drive", "flew": "fly", "flown": "fly", "grew": "grow",
    "grown": "grow", "knew": "know", "known": "know", "saw": "see", "seen": "see",
    "stole": "steal", "stolen": "steal", "hit": "hit", "cut": "cut", "quit": "quit",
}  # fmt: skip


def key_terms(text: str) -> list[str]:
    """Stemmed, lowercase content words of a question or sentence."""
    stem = _stem()
    words = (_POSSESSIVE.sub("", w.lower()).strip("'’-") for w in _WORD.findall(text))
    return [
        stem(IRREGULAR.get(w, w)) for w in words if w and w not in QUESTION_WORDS and len(w) > 1
    ]


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


def idf_from_bm25(index: object) -> Callable[[str], float]:
    """Collection-wide idf of a stemmed term, read from the bm25s side index."""
    model = getattr(index, "model", None)
    if model is None:
        return lambda _term: 1.0
    vocab: dict[str, int] = model.vocab_dict
    indptr = model.scores["indptr"]
    n_docs = max(int(model.scores.get("num_docs", len(indptr) - 1)), 1)

    def idf(term: str) -> float:
        tid = vocab.get(term)
        df = 0 if tid is None else int(indptr[tid + 1] - indptr[tid])
        return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))

    return idf
