"""Evaluation metrics as pure functions: retrieval, answers, citations, refusals, aggregation.

Definitions follow EVAL.md. A metric that does not apply to a question returns None (never 0),
and `summarize` counts those as skipped. Citation support is a lexical approximation of ALCE's
NLI judgement: token overlap plus exact numbers, not entailment.
"""

from __future__ import annotations

import json
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.text import (
    MARKER,
    MAX_MARKER_RANGE,
    STOPWORDS,
    marker_ranges,
    normalize_number,
    sentence_spans,
    strip_markers,
    words,
)

# Answers are compared after SQuAD's normalisation (EVAL.md), not rag.text's terms.
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_LINE_END = re.compile(r"(?:[.!?:]['\"”’)]*|\])\s*$")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.DOTALL | re.IGNORECASE)
_PUNCT = frozenset(string.punctuation)


# --- answers (SQuAD) ---------------------------------------------------------------------


def normalize_answer(s: str) -> str:
    """SQuAD normalization: lowercase; drop punctuation (incl. Unicode), a/an/the, extra space."""
    s = "".join(ch for ch in s.lower() if not _is_punct(ch))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(pred: str, golds: Sequence[str]) -> float | None:
    """1.0 if the normalized prediction equals a normalized gold answer; None without golds."""
    gold = _usable_golds(golds)
    if not gold:
        return None
    p = normalize_answer(pred)
    return max(float(p == g) for g in gold)


def token_f1(pred: str, golds: Sequence[str]) -> float | None:
    """Best SQuAD token F1 against the gold answers; None without golds."""
    gold = _usable_golds(golds)
    if not gold:
        return None
    p = normalize_answer(pred).split()
    return max(_f1(p, g.split()) for g in gold)


def contains(pred: str, golds: Sequence[str]) -> float | None:
    """1.0 if a normalized gold is a substring of the normalized prediction; None without golds.

    A number never matches inside a longer number: "10" is not found in "100" or "2010".
    """
    gold = _usable_golds(golds)
    if not gold:
        return None
    p = normalize_answer(pred)
    return max(float(re.search(rf"(?<!\d){re.escape(g)}(?!\d)", p) is not None) for g in gold)


def _is_punct(ch: str) -> bool:
    return ch in _PUNCT or unicodedata.category(ch).startswith("P")


def _usable_golds(golds: Sequence[str]) -> list[str]:
    if isinstance(golds, str):
        raise TypeError("golds must be a list of answers, not a single string")
    return [g for g in map(normalize_answer, golds) if g]


def _f1(pred: list[str], gold: list[str]) -> float:
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


# --- retrieval, article level ------------------------------------------------------------


def dedupe_ranking(article_ids: list[str]) -> list[str]:
    """Article ids in rank order, each kept at its first occurrence."""
    return list(dict.fromkeys(article_ids))


def hit_at_k(ranked: list[str], gold_ids: Collection[str], k: int) -> float | None:
    """1.0 if a gold article is in the deduplicated top k; None without gold ids."""
    gold = set(gold_ids)
    if not gold:
        return None
    return float(any(a in gold for a in _top_k(ranked, k)))


def mrr_at_k(ranked: list[str], gold_ids: Collection[str], k: int) -> float | None:
    """1/rank of the first gold article in the deduplicated top k (0 if absent)."""
    gold = set(gold_ids)
    if not gold:
        return None
    return next((1 / r for r, a in enumerate(_top_k(ranked, k), 1) if a in gold), 0.0)


def recall_at_k(ranked: list[str], gold_ids: Collection[str], k: int) -> float | None:
    """Share of gold articles found in the deduplicated top k."""
    gold = set(gold_ids)
    if not gold:
        return None
    return len(gold.intersection(_top_k(ranked, k))) / len(gold)


def ndcg_at_k(ranked: list[str], gold_ids: Collection[str], k: int) -> float | None:
    """Binary-gain nDCG of the deduplicated top k; ideal DCG over min(|gold|, k) hits."""
    gold = set(gold_ids)
    if not gold:
        return None
    gains = [float(a in gold) for a in _top_k(ranked, k)]
    return _dcg(gains) / _dcg([1.0] * min(len(gold), k))


def _top_k(ranked: list[str], k: int) -> list[str]:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return dedupe_ranking(ranked)[:k]


def _dcg(gains: list[float]) -> float:
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, 1))


# --- retrieval, text mode (MultiHop-RAG) -------------------------------------------------


def chunk_is_relevant(chunk_text: str, gold_texts: Iterable[str]) -> bool:
    """True if a gold text, all whitespace removed, is a case-sensitive substring of the chunk."""
    chunk = _squash(chunk_text)
    return any(g and g in chunk for g in map(_squash, gold_texts))


def text_hit_at_k(chunks: list[str], gold_texts: Iterable[str], k: int) -> float | None:
    """1.0 if one of the top-k chunks contains a gold text; None without gold texts."""
    found = _found_per_rank(chunks, gold_texts, k)
    return None if found is None else float(any(found))


def text_mrr_at_k(chunks: list[str], gold_texts: Iterable[str], k: int) -> float | None:
    """1/rank of the first top-k chunk that contains a gold text (0 if none)."""
    found = _found_per_rank(chunks, gold_texts, k)
    if found is None:
        return None
    return next((1 / r for r, hits in enumerate(found, 1) if hits), 0.0)


def text_recall_at_k(chunks: list[str], gold_texts: Iterable[str], k: int) -> float | None:
    """Share of distinct gold texts contained in some top-k chunk."""
    golds = _squashed_golds(gold_texts)
    if not golds:
        return None
    found = _found_per_rank(chunks, golds, k) or []
    return len(set[int]().union(*found)) / len(golds)


def text_ndcg_at_k(chunks: list[str], gold_texts: Iterable[str], k: int) -> float | None:
    """Binary-gain nDCG where a chunk gains only if it finds a gold text not found above it."""
    golds = _squashed_golds(gold_texts)
    if not golds:
        return None
    seen: set[int] = set()
    gains = []
    for hits in _found_per_rank(chunks, golds, k) or []:
        gains.append(float(bool(hits - seen)))
        seen |= hits
    return _dcg(gains) / _dcg([1.0] * min(len(golds), k))


def _squash(text: str) -> str:
    return "".join(text.split())


def _squashed_golds(gold_texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(g for g in map(_squash, gold_texts) if g))


def _found_per_rank(chunks: list[str], gold_texts: Iterable[str], k: int) -> list[set[int]] | None:
    """For each top-k chunk, the indices of the gold texts it contains; None without golds."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    golds = _squashed_golds(gold_texts)
    if not golds:
        return None
    squashed = [_squash(c) for c in chunks[:k]]
    return [{i for i, g in enumerate(golds) if g in c} for c in squashed]


# --- citations (lexical approximation of ALCE) --------------------------------------------


def split_sentences(answer: str) -> list[str]:
    """Sentences of an answer, each keeping the citation markers that close it."""
    sentences: list[str] = []
    for block in _blocks(answer):
        # EVAL.md counts a quoted passage of several sentences as several sentences
        for a, b in sentence_spans(block, quote_aware=False):
            part = block[a:b]
            if sentences and not strip_markers(part).strip(" .,;:!?"):
                sentences[-1] += " " + part  # markers alone belong to the sentence before
            else:
                sentences.append(part)
    return sentences


def parse_markers(sentence: str) -> list[int]:
    """The source numbers the markers name, in order, repeats kept ([2, 3], [2-4], [Source 2]).

    A range that names no sources ([4-2], [1-40]) reads as 0, a source no answer was shown.
    """
    return [
        n
        for m in MARKER.finditer(sentence)
        for lo, hi in marker_ranges(m.group())
        for n in (range(lo, hi + 1) if lo <= hi <= lo + MAX_MARKER_RANGE else [0])
    ]


def content_tokens(text: str) -> list[str]:
    """Lowercase, accent-folded word tokens with a letter, minus stopwords and possessive 's."""
    return [w for w in words(text) if w not in STOPWORDS and any(c.isalpha() for c in w)]


def numbers_in(text: str) -> list[str]:
    """Numbers in the text, normalized: "1,200" -> "1200", "3.50" -> "3.5", "07" -> "7"."""
    return [normalize_number(m.group()) for m in _NUMBER.finditer(text)]


def supports(passages_text: list[str], sentence: str) -> bool:
    """φ, lexical approximation of ALCE: >= 50% of content tokens and every number are in P.

    Markers are removed first. A sentence with neither content tokens nor numbers has nothing
    to check and is never supported; with numbers only, the numbers decide.
    """
    claim = strip_markers(sentence)
    tokens, numbers = set(content_tokens(claim)), set(numbers_in(claim))
    if not tokens and not numbers:
        return False
    evidence = " ".join(passages_text)
    if not numbers <= set(numbers_in(evidence)):
        return False
    return 2 * len(tokens & set(words(evidence))) >= len(tokens)


def citation_validity(answer: str, n_shown: int) -> float | None:
    """Share of markers that name a passage 1..n_shown; None when the answer has no markers."""
    markers = parse_markers(answer)
    if not markers:
        return None
    return sum(1 <= n <= n_shown for n in markers) / len(markers)


def citation_recall(answer: str, passages_by_n: Mapping[int, str]) -> float | None:
    """Mean over sentences of φ(cited passages, sentence), uncited scoring 0 (ALCE, lexical).

    Markers that name no passage are ignored here (citation_validity reports them).
    None when the answer has no sentences.
    """
    sentences = split_sentences(answer)
    if not sentences:
        return None
    scores = [supports(_texts(_cited(s), passages_by_n), s) for s in sentences]
    return sum(scores) / len(sentences)


def citation_precision(answer: str, passages_by_n: Mapping[int, str]) -> float | None:
    """Share of precise citations (ALCE's rule, lexical φ); None when nothing is cited.

    A citation is precise when its sentence is supported by all its citations together and
    it is not redundant (unsupported alone while the other citations support the sentence).
    Markers that name no passage count as imprecise.
    """
    precise = total = 0
    for sentence in split_sentences(answer):
        cited = _cited(sentence)
        total += len(cited)
        precise += sum(_is_precise(c, cited, sentence, passages_by_n) for c in cited)
    return precise / total if total else None


def gold_citation_precision(
    cited_article_ids: Sequence[str], gold_ids: Collection[str]
) -> float | None:
    """Share of distinct cited articles that are gold; None without citations or gold ids."""
    cited, gold = set(cited_article_ids), set(gold_ids)
    if not cited or not gold:
        return None
    return len(cited & gold) / len(cited)


def gold_citation_recall(
    cited_article_ids: Sequence[str], gold_ids: Collection[str]
) -> float | None:
    """Share of gold articles that were cited; None without gold ids."""
    gold = set(gold_ids)
    if not gold:
        return None
    return len(gold.intersection(cited_article_ids)) / len(gold)


def _blocks(answer: str) -> list[str]:
    """Lines joined when wrapped; broken at blank lines, list items and lines ending a sentence."""
    blocks: list[str] = []
    joinable = False
    for line in answer.splitlines():
        text = " ".join(_BULLET.sub("", line).split())
        if not text:
            joinable = False
            continue
        if joinable and not _BULLET.match(line):
            blocks[-1] += " " + text
        else:
            blocks.append(text)
        joinable = not _LINE_END.search(text)
    return blocks


def _cited(sentence: str) -> list[int]:
    return list(dict.fromkeys(parse_markers(sentence)))


def _texts(ns: Iterable[int], passages_by_n: Mapping[int, str]) -> list[str]:
    return [passages_by_n[n] for n in ns if n in passages_by_n]


def _is_precise(c: int, cited: list[int], sentence: str, passages: Mapping[int, str]) -> bool:
    if c not in passages or not supports(_texts(cited, passages), sentence):
        return False
    if supports([passages[c]], sentence):
        return True
    return not supports(_texts((n for n in cited if n != c), passages), sentence)


# --- refusals ----------------------------------------------------------------------------


def refusal_rates(rows: Iterable[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    """(rejection rate, false refusal rate) from (answerable, refused) pairs; None if 0/0."""
    counts = Counter((bool(answerable), bool(refused)) for answerable, refused in rows)
    unanswerable = counts[(False, True)] + counts[(False, False)]
    answerable = counts[(True, True)] + counts[(True, False)]
    rejection = counts[(False, True)] / unanswerable if unanswerable else None
    false_refusal = counts[(True, True)] / answerable if answerable else None
    return rejection, false_refusal


# --- aggregation -------------------------------------------------------------------------


@dataclass
class MetricSummary:
    """A metric over a run: mean of the scored values, counts, and a bootstrap 95% interval."""

    mean: float | None
    n: int
    skipped: int
    invalid: int
    ci_low: float | None
    ci_high: float | None


def summarize(
    values: list[float | None], *, invalid: int = 0, n_boot: int = 1000, seed: int = 0
) -> MetricSummary:
    """Mean and percentile-bootstrap 95% interval; None values are skipped, NaN is an error.

    `invalid` counts values the caller could not score (e.g. unparseable judge verdicts);
    leave those out of `values`.
    """
    present = [float(v) for v in values if v is not None]
    if not all(math.isfinite(v) for v in present):
        raise ValueError("metric values must be finite numbers; use None for 'not applicable'")
    skipped = len(values) - len(present)
    if not present:
        return MetricSummary(None, 0, skipped, invalid, None, None)
    mean = math.fsum(present) / len(present)
    low, high = _bootstrap_interval(np.asarray(present), mean, n_boot, seed)
    return MetricSummary(mean, len(present), skipped, invalid, low, high)


def paired_bootstrap_delta(
    a: list[float | None], b: list[float | None], *, n_boot: int = 1000, seed: int = 0
) -> MetricSummary:
    """Mean of b - a over aligned question pairs with a paired bootstrap 95% interval.

    Pairs where either side is None are counted as skipped.
    """
    if len(a) != len(b):
        raise ValueError(f"runs are not aligned: {len(a)} values against {len(b)}")
    deltas = [None if x is None or y is None else y - x for x, y in zip(a, b, strict=True)]
    return summarize(deltas, n_boot=n_boot, seed=seed)


def _bootstrap_interval(
    values: np.ndarray, mean: float, n_boot: int, seed: int
) -> tuple[float, float]:
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if values.min() == values.max():
        return mean, mean
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


# --- LLM judge ---------------------------------------------------------------------------


def parse_judge_verdict(text: str, *, require_score: bool = True) -> dict[str, Any] | None:
    """The judge's JSON object, or None if it is not strict JSON (```json fences allowed).

    A "score" must be an integer 1..5; it is required unless require_score is False.
    """
    body = text.strip()
    fenced = _FENCE.fullmatch(body)
    if fenced:
        body = fenced.group(1)
    try:
        verdict = json.loads(body, parse_constant=_reject_constant)
    except ValueError:
        return None
    if not isinstance(verdict, dict):
        return None
    if ("score" in verdict or require_score) and not _valid_score(verdict.get("score")):
        return None
    return verdict


def judge_pass(score: int) -> bool:
    """A correctness score passes at 4 or 5."""
    return score >= 4


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a verdict")


def _valid_score(score: Any) -> bool:
    return type(score) is int and 1 <= score <= 5
