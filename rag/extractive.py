"""The extractive answerer: no model, the retrieved sentences that hold the answer, cited.

Every sentence of the shown passages is a candidate. A small learned model
(``rag.answerability``) scores each on what matters for news questions: how much of the
question's rare terms it covers (idf from the BM25 index, the same terms BM25 searched
with), whether it offers the kind of answer asked for (a number for "how much", a time
for "when", a name for "who": ``rag.answertype``) near the question's terms, the passage's
retrieval rank, and the embedding similarity of sentence and question. The best whole
sentences are the answer, verbatim and cited. A second learned model decides from the
question-level signals whether the passages answer the question at all, and refuses when
they do not. A sentence written to order an AI reader about (``answertype.is_instruction``)
is never an answer, nor is a question (a news quiz asks the reader's very question).

"What did X say" questions gather the sentences that attribute speech to X; a quote index
can take that over through the ``statements`` seam.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rag.answerability import Model, load_models
from rag.answertype import Kind, asked_verb, expected_kind, is_instruction, offer_spans, offers
from rag.background import BACKGROUND_CHUNKS, term_weights
from rag.text import MARKER, index_terms, key_terms, sentence_spans
from rag.types import Passage

if TYPE_CHECKING:
    from rag.bm25 import BM25Index

CONTEXT_WEIGHT = 0.5  # a term in the sentence before counts half ("They spent ...")
MAX_SENTENCES = 2
SECOND_SHARE = 0.75  # a second sentence needs this share of the best one's probability and coverage
NEAR = 8  # words: an answer this close to a question term is "near" it

Embed = Callable[[list[str]], np.ndarray]
# (question, subject, passages) -> (source number, start, end) of each statement by subject
Statements = Callable[[str, str, list[Passage]], list[tuple[int, int, int]]]

# "What did X say?", "What has X said about Y?": an open question about X's statements
# (not "What did X tell Russia to do?", which asks for one fact).
_SAY_QUESTION = re.compile(
    r"^\W*what\s+(?:did|does|do|has|have|had)\s+(?P<who>.+?)\s+"
    r"(?:say|said|tell\s+(?:reporters|journalists)|told\s+(?:reporters|journalists))"
    r"(?:\s+(?:about|on|of|regarding)\s+[^?]+)?\W*$",
    re.IGNORECASE,
)
_SPEECH = re.compile(
    r"\b(?:said|says|say|told|tells|added|stated|argued|warned|claimed|insisted|denied"
    r"|according\s+to|announced|noted|explained|replied|responded|wrote|tweeted|declared)\b"
    r"|[\"“”]",
    re.IGNORECASE,
)


# a sentence that asks: ends with "?" (inside closing quotes or brackets too)
_QUESTION_END = re.compile(r"\?[\"'”’)\]]*\s*$")
_CAPITALISED_WORD = re.compile(r"\b[A-Z][\w'’-]*")
_NAME_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)+")


@dataclass
class Candidate:
    """A sentence of a shown passage and what the sentence model reads in it."""

    source: int  # 1-based source number
    start: int
    end: int
    text: str
    terms: frozenset[str]
    features: dict[str, float]
    score: float = 0.0  # the sentence model's probability that it holds the answer
    where: tuple[str, int] = ("", 0)  # article id and offset in the article


@dataclass
class Reading:
    """Everything the answerer read for one question: ranked candidates and signals."""

    question: str
    kind: Kind | None
    candidates: list[Candidate]  # best first
    signals: dict[str, float] = field(default_factory=dict)  # for the answerability model
    answerable: float = 0.0  # the answerability model's probability


class ExtractiveAnswerer:
    """Answers with the sentences of the shown passages that hold the answer, or refuses."""

    name = "extractive"

    def __init__(
        self,
        index: BM25Index | None = None,
        *,
        embed: Embed | None = None,
        statements: Statements | None = None,
        models: tuple[Model, Model] | None = None,
        max_sentences: int = MAX_SENTENCES,
    ) -> None:
        self.index = index
        # how rare a question's term is: the store's idf smoothed with general English
        # (``rag.background``), which tells a rare name from a common word in a small store
        self.idf: Callable[[str], float] = term_weights(index, BACKGROUND_CHUNKS)
        self.embed = embed
        self.statements = statements or attributed_statements
        self._models = models
        self.max_sentences = max_sentences

    @property
    def models(self) -> tuple[Model, Model]:
        """(sentence model, answerability model): given, or the packaged ones."""
        if self._models is None:
            self._models = load_models()
        return self._models

    def answer(self, question: str, passages: list[Passage], refusal: str) -> str:
        """Cited sentences, or the refusal sentence."""
        return self.answer_from(self.read(question, passages), refusal)

    def answer_from(self, reading: Reading, refusal: str) -> str:
        """The cited sentences of a reading, or the refusal when it does not answer."""
        if not reading.candidates or not self.models[1].accepts(reading.answerable):
            return refusal
        return " ".join(f"{c.text.strip()} [{c.source}]" for c in self._pick(reading))

    def read(self, question: str, passages: list[Passage]) -> Reading:
        """Every candidate sentence scored, and the question-level signals."""
        return self.score(self.gather(question, passages))

    def gather(self, question: str, passages: list[Passage]) -> Reading:
        """Candidates with their features and the signals that need no model."""
        terms = set(key_terms(question))
        kind = expected_kind(question)
        if not terms or not passages:
            return Reading(question, kind, [])
        weights = {t: self.idf(t) for t in terms}
        candidates = self._candidates(question, passages, weights, kind)
        signals = {
            **self._signals(question, passages, weights, candidates),
            **coverage_signals(candidates),
        }
        return Reading(question, kind, candidates, signals)

    def score(self, reading: Reading) -> Reading:
        """Candidates ranked by the sentence model; the answerability model's verdict."""
        sentence_model, answer_model = self.models
        for c in reading.candidates:
            c.score = sentence_model.probability(c.features)
        # "What did X say": the sentences that attribute speech to X come first
        said = any(c.features["statement"] for c in reading.candidates)
        reading.candidates.sort(
            key=lambda c: (-(said and c.features["statement"]), -c.score, c.source, c.start)
        )
        reading.signals.update(best_signals(reading.candidates))
        reading.answerable = answer_model.probability(reading.signals)
        return reading

    def _candidates(
        self,
        question: str,
        passages: list[Passage],
        weights: dict[str, float],
        kind: Kind | None,
    ) -> list[Candidate]:
        total = sum(weights.values()) or 1.0
        relation = _relation_terms(question, weights)
        relation_total = sum(weights[t] for t in relation)
        said = _SAY_QUESTION.search(question)
        spoken: set[tuple[int, int]] = set()
        if said:
            spoken = {(n, a) for n, a, _ in self.statements(question, said.group("who"), passages)}
        # each passage's sentences: (start, end, text, key terms)
        read = [
            [(a, b, p.text[a:b], key_terms(p.text[a:b])) for a, b in sentence_spans(p.text)]
            for p in passages
        ]
        verb = set(key_terms(asked_verb(question) or "")) & weights.keys()
        verb_shown = not verb or _shown(
            verb, {w for sentences in read for *_, ws in sentences for w in ws}
        )
        out: list[Candidate] = []
        first_mention: dict[tuple[str, str], int] = {}
        for n, (passage, sentences) in enumerate(zip(passages, read, strict=True), 1):
            previous: frozenset[str] = frozenset()
            for start, end, text, words in sentences:
                if is_instruction(text) or MARKER.search(text) or _QUESTION_END.search(text):
                    # orders to an AI, forged citation markers, or a question (a quiz page
                    # asks the very question): none is an answer, read on past them
                    continue
                found = frozenset(set(words) & weights.keys())
                context = previous - found
                # no name answers "Who won ...?" from passages where nobody wins
                typed = kind is None or (verb_shown and offers(kind, text, question))
                coverage = sum(weights[t] for t in found) / total
                context_coverage = CONTEXT_WEIGHT * sum(weights[t] for t in context) / total
                features = {
                    "coverage": coverage,
                    "context": context_coverage,
                    "share": len(found | context) / len(weights),  # every term counts one
                    # what the question asks about its names ("directed", "born"): a sentence
                    # naming the film but not who directed it leaves this uncovered
                    "relation": (
                        sum(weights[t] for t in found & relation) / relation_total
                        if relation_total
                        else 1.0
                    ),
                    "typed": float(kind is not None and typed),
                    "untyped_miss": float(kind is not None and not typed),
                    # a sentence that restates the whole question may answer it in words
                    # ("very, very much" for "how much"): the miss costs less when it covers more
                    "untyped_coverage": (coverage + context_coverage) * (not typed),
                    "near": _near(kind, text, question, found) if kind else 0.0,
                    "inverse_rank": 1.0 / n,
                    "statement": float((n, start) in spoken),
                    "length": math.log1p(len(words)),
                }
                where = (passage.article_id, passage.start + start)
                out.append(Candidate(n, start, end, text, found, features, where=where))
                previous = found
                for term in found:
                    key = (passage.article_id, term)
                    offset = passage.start + start
                    first_mention[key] = min(first_mention.get(key, offset), offset)
        for c in out:
            passage = passages[c.source - 1]
            c.features["first_mention"] = float(
                any(
                    first_mention.get((passage.article_id, t)) == passage.start + c.start
                    for t in c.terms
                )
            )
        self._similarity(question, out)
        return out

    def _similarity(self, question: str, candidates: list[Candidate]) -> None:
        """Cosine similarity of each sentence and the question (0 without an embedder)."""
        for c in candidates:
            c.features["similarity"] = 0.0
        if self.embed is None or not candidates:
            return
        vectors = self.embed([question, *(c.text for c in candidates)])
        sims = vectors[1:] @ vectors[0]
        for c, sim in zip(candidates, sims, strict=True):
            c.features["similarity"] = float(sim)

    def _signals(
        self,
        question: str,
        passages: list[Passage],
        weights: dict[str, float],
        candidates: list[Candidate],
    ) -> dict[str, float]:
        """Question-level signals over the passages as the answerer reads them: headline and
        candidate sentences (text it skips, such as instructions to an AI, counts for none)."""
        total = sum(weights.values()) or 1.0
        have: list[set[str]] = [set(key_terms(p.title)) & weights.keys() for p in passages]
        for c in candidates:
            have[c.source - 1] |= c.terms
        per_passage = [sum(weights[t] for t in terms) / total for terms in have]
        anywhere = set().union(*have)
        missing = [w for t, w in weights.items() if t not in anywhere]
        top_idf = max(weights.values())
        signals = {
            "passage_coverage": per_passage[0] if per_passage else 0.0,
            "max_passage_coverage": max(per_passage, default=0.0),
            "missing_rare": max(missing, default=0.0) / top_idf if top_idf else 0.0,
            "missing_share": sum(missing) / total,
            "typed_question": float(expected_kind(question) is not None),
            "terms": math.log1p(len(weights)),
        }
        signals.update(self._bm25_signals(question, passages))
        return signals

    def _bm25_signals(self, question: str, passages: list[Passage]) -> dict[str, float]:
        """BM25's best score (as a share of the most the query could score), its margin
        over the second, and whether BM25's best article is the first shown."""
        out = {"bm25_top": 0.0, "bm25_margin": 0.0, "bm25_agrees": 0.0}
        index = self.index
        if index is None or index.model is None:
            return out
        ceiling = sum(index.idf(t) for t in set(index_terms(question))) or 1.0
        hits = index.search(question, 10)
        if not hits:
            return out
        top = hits[0][1]
        second = next(
            (s for row, s in hits if index.article_ids[row] != index.article_ids[hits[0][0]]),
            0.0,
        )
        out["bm25_top"] = top / ceiling
        out["bm25_margin"] = (top - second) / top if top else 0.0
        out["bm25_agrees"] = float(
            bool(passages) and index.article_ids[hits[0][0]] == passages[0].article_id
        )
        return out

    def _pick(self, reading: Reading) -> list[Candidate]:
        """The best sentence, a second one nearly as good (as likely to hold the answer and
        covering nearly as much of the question) that adds question terms, and the
        sentence that continues the best one (a quote, a pronoun). For "what did X say", X's
        statements, best first."""
        ranked = reading.candidates
        best = ranked[0]
        picked = [best]
        covered, seen = set(best.terms), {_plain(best.text)}
        statements = bool(best.features["statement"])
        for cand in ranked[1:12]:
            if len(picked) >= self.max_sentences + statements:
                break
            if _plain(cand.text) in seen:
                continue
            if statements:
                if not cand.features["statement"]:
                    break
            elif (
                not cand.terms - covered
                or cand.score < SECOND_SHARE * best.score
                or _covered(cand) < SECOND_SHARE * _covered(best)
            ):
                continue
            picked.append(cand)
            covered |= cand.terms
            seen.add(_plain(cand.text))
        if statements:  # in the order the article gives them
            return sorted(picked, key=lambda c: (c.where[0] != best.where[0], c.where))
        follow = _follow_on(best, ranked)
        if follow and _plain(follow.text) not in seen and len(picked) <= self.max_sentences:
            picked.insert(1, follow)
        return picked


def _shown(terms: set[str], words: set[str]) -> bool:
    """Whether the passages' words hold each term, or a word it begins ("chair" in
    "chairman", "lead" in "leader": the verb a question asks about, said as a noun)."""
    return all(any(w.startswith(t) for w in words) for t in terms)


def _covered(c: Candidate) -> float:
    """The share of the question's weighted terms a sentence covers (with its context)."""
    return c.features["coverage"] + c.features["context"]


def _plain(text: str) -> str:
    return " ".join(text.split())


def coverage_signals(candidates: Sequence[Candidate]) -> dict[str, float]:
    """How much of the question one sentence covers: any sentence, and one that offers the
    kind of answer asked for (read from the candidates' features, no model)."""
    covered = [c.features["coverage"] + c.features["context"] for c in candidates]
    typed = [c for c in candidates if not c.features["untyped_miss"]]
    top = max(covered, default=0.0)
    top_typed = max((c.features["coverage"] + c.features["context"] for c in typed), default=0.0)
    return {
        "top_coverage": top,
        "typed_coverage": top_typed,
        "typed_gap": top - top_typed,
        "top_share": max((c.features.get("share", 0.0) for c in candidates), default=0.0),
        "typed_share": max((c.features.get("share", 0.0) for c in typed), default=0.0),
        "top_relation": max((c.features.get("relation", 0.0) for c in candidates), default=0.0),
        "typed_relation": max((c.features.get("relation", 0.0) for c in typed), default=0.0),
    }


def best_signals(ranked: Sequence[Candidate]) -> dict[str, float]:
    """The answerability signals read off the best-ranked sentences."""
    best = ranked[0] if ranked else None
    return {
        "best_score": best.score if best else 0.0,
        "best_coverage": best.features["coverage"] if best else 0.0,
        "best_typed": best.features["typed"] if best else 0.0,
        "best_near": best.features["near"] if best else 0.0,
        "best_similarity": best.features["similarity"] if best else 0.0,
        "best_relation": best.features.get("relation", 0.0) if best else 0.0,
        "second_score": ranked[1].score if len(ranked) > 1 else 0.0,
    }


def _relation_terms(question: str, weights: dict[str, float]) -> set[str]:
    """The question's terms that are not part of a name (its capitalised words, but for its
    opening word): what it asks about the people, places and things it names."""
    opening = re.search(r"\w", question)
    start = opening.start() if opening else 0
    capitalised = [m.group() for m in _CAPITALISED_WORD.finditer(question) if m.start() > start]
    return set(weights) - set(key_terms(" ".join(capitalised)))


def _near(kind: Kind, sentence: str, question: str, found: frozenset[str]) -> float:
    """1 when an answer of the kind asked for sits within ``NEAR`` words of a question term,
    falling off with distance; 0 when the sentence holds none."""
    spans = offer_spans(kind, sentence, question)
    if not spans or not found:
        return 0.0
    positions = [m.start() for m in re.finditer(r"\w+", sentence)]
    term_at = [
        i for i, m in enumerate(re.finditer(r"\w+", sentence)) if set(key_terms(m.group())) & found
    ]
    if not term_at:
        return 0.0
    best = min(abs(_word_index(positions, start) - t) for start, _ in spans for t in term_at)
    return 1.0 / (1.0 + best / NEAR)


def _word_index(positions: list[int], offset: int) -> int:
    """Index of the word that starts at or before ``offset``."""
    lo = 0
    for i, p in enumerate(positions):
        if p > offset:
            break
        lo = i
    return lo


def _follow_on(best: Candidate, ranked: Sequence[Candidate]) -> Candidate | None:
    """The sentence right after the best one when it continues it (a quote, a pronoun)."""
    after = [c for c in ranked if c.source == best.source and c.start > best.start]
    if not after:
        return None
    nxt = min(after, key=lambda c: c.start)
    if nxt.start - best.end > 3:
        return None
    opener = nxt.text.lstrip()[:12].lower()
    if opener.startswith(('"', "“", "he ", "she ", "they ", "it ", "the ", "that ")):
        return nxt
    return None


def attributed_statements(
    question: str, subject: str, passages: list[Passage]
) -> list[tuple[int, int, int]]:
    """(source, start, end) of sentences that attribute speech to the subject: they name it
    (or a name it goes by: "Kremlin Spokesman Dmitry Peskov" makes Peskov speak for the
    Kremlin) and hold a speech verb or a quotation."""
    names = set(key_terms(subject))
    sentences = [
        (n, start, end, passage.text[start:end])
        for n, passage in enumerate(passages, 1)
        for start, end in sentence_spans(passage.text)
    ]
    aliases = set(names)
    for *_, text in sentences:
        for run in _NAME_RUN.findall(text):
            terms = set(key_terms(run))
            if terms & names:
                aliases |= terms
    return [
        (n, start, end)
        for n, start, end, text in sentences
        if aliases & set(key_terms(text)) and _SPEECH.search(text)
    ]
