"""Scoring one answer against its gold question: every deterministic metric of EVAL.md.

The definitions live in ``rag.eval.metrics``; this module decides which apply to a question.
A metric that does not apply is None (skipped, never 0); a refused answerable question
scores 0 on the answer metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rag.eval import metrics as m
from rag.text import strip_markers

if TYPE_CHECKING:
    from rag.eval.dataset import GoldQuestion
    from rag.types import Answer, Passage

ANSWER_METRICS = ("exact_match", "token_f1", "contains")
CITATION_METRICS = (
    "citation_validity",
    "citation_recall",
    "citation_precision",
    "gold_citation_precision",
    "gold_citation_recall",
)
REFUSAL_METRICS = ("rejection_rate", "false_refusal_rate")
JUDGE_METRICS = ("judge_correctness", "judge_pass", "judge_faithfulness")
LATENCY = "latency_s"
_RankMetric = Callable[[list[str], list[str], int], float | None]
_BY_ID: tuple[_RankMetric, ...] = (m.hit_at_k, m.mrr_at_k, m.recall_at_k, m.ndcg_at_k)
_BY_TEXT: tuple[_RankMetric, ...] = (
    m.text_hit_at_k,
    m.text_mrr_at_k,
    m.text_recall_at_k,
    m.text_ndcg_at_k,
)


def retrieval_names(k: int) -> tuple[str, ...]:
    """Retrieval metric names; recall is taken at the run's k."""
    return ("hit@1", "hit@5", "hit@10", "mrr@10", f"recall@{k}", "ndcg@10")


def metric_names(k: int, judged: bool) -> list[str]:
    """Every metric of a run, in report order."""
    names = [*retrieval_names(k), *ANSWER_METRICS, *CITATION_METRICS, *REFUSAL_METRICS]
    return [*names, *(JUDGE_METRICS if judged else ()), LATENCY]


def retrieval_metrics(q: GoldQuestion, retrieved: Sequence[Passage], k: int) -> dict[str, Any]:
    """Article-level metrics when gold has ids, text mode when it has only evidence text."""
    names = retrieval_names(k)
    if not q.answerable:
        return dict.fromkeys(names)
    if q.gold_ids:
        ranked, gold, (hit, mrr, rec, ndcg) = [p.article_id for p in retrieved], q.gold_ids, _BY_ID
    else:
        ranked, gold, (hit, mrr, rec, ndcg) = [p.text for p in retrieved], q.gold_texts, _BY_TEXT
    values = [
        hit(ranked, gold, 1),
        hit(ranked, gold, 5),
        hit(ranked, gold, 10),
        mrr(ranked, gold, 10),
        rec(ranked, gold, k),
        ndcg(ranked, gold, 10),
    ]
    return dict(zip(names, values, strict=True))


def answer_metrics(q: GoldQuestion, answer: Answer) -> dict[str, float | None]:
    """EM, F1 and contains on answerable questions; a refusal scores 0."""
    if not q.answerable or not q.golds:
        return dict.fromkeys(ANSWER_METRICS)
    if answer.refused:
        return dict.fromkeys(ANSWER_METRICS, 0.0)
    pred = strip_markers(answer.answer)
    return {
        "exact_match": m.exact_match(pred, q.golds),
        "token_f1": m.token_f1(pred, q.golds),
        "contains": m.contains(pred, q.golds),
    }


def citation_metrics(
    q: GoldQuestion, answer: Answer, raw: str | None, n_shown: int
) -> dict[str, float | None]:
    """Validity on the raw reply, lexical recall/precision on the checked one, gold articles."""
    cited_ids = [c.passage.article_id for c in answer.citations]
    gold = q.gold_ids if q.answerable else []
    scores: dict[str, float | None] = {
        "gold_citation_precision": m.gold_citation_precision(cited_ids, gold),
        "gold_citation_recall": m.gold_citation_recall(cited_ids, gold),
    }
    if answer.refused:
        return {**dict.fromkeys(CITATION_METRICS[:3]), **scores}
    by_n = {c.n: c.passage.text for c in answer.citations}
    if raw is None:  # no raw reply recorded: judge the checked answer against its citations
        raw, n_shown = answer.answer, len(answer.citations)
    return {
        "citation_validity": m.citation_validity(raw, n_shown),
        "citation_recall": m.citation_recall(answer.answer, by_n),
        "citation_precision": m.citation_precision(answer.answer, by_n),
        **scores,
    }


def refusal_metrics(q: GoldQuestion, refused: bool) -> dict[str, float | None]:
    """Per-question indicators whose means are the rejection and false-refusal rates."""
    return {
        "rejection_rate": None if q.answerable else float(refused),
        "false_refusal_rate": float(refused) if q.answerable else None,
    }


def score(
    q: GoldQuestion, answer: Answer, *, k: int, raw: str | None = None, n_shown: int = 0
) -> dict[str, float | None]:
    """Every deterministic metric of one answer."""
    return {
        **retrieval_metrics(q, answer.retrieved, k),
        **answer_metrics(q, answer),
        **citation_metrics(q, answer, raw, n_shown),
        **refusal_metrics(q, answer.refused),
    }


def applicable(q: GoldQuestion, k: int, judged: bool) -> list[str]:
    """The metrics a question would be scored on (used to mark a failed ask invalid)."""
    names = [*CITATION_METRICS[:3]]
    if q.answerable:
        names += [*retrieval_names(k), *ANSWER_METRICS, *CITATION_METRICS[3:]]
        names += ["false_refusal_rate", *(JUDGE_METRICS if judged else ())]
    else:
        names += ["rejection_rate", *(JUDGE_METRICS[2:] if judged else ())]
    return names
