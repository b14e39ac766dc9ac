"""Comparing two eval runs of the same dataset: paired deltas, flipped questions, regressions.

Runs are aligned by question id. A deterministic metric *drops* when it moves the wrong way
(down, or up for false refusals and errors) by more than the tolerance; latency and judge
metrics are reported but never gated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError
from rag.eval.metrics import MetricSummary, paired_bootstrap_delta
from rag.eval.run import EvalRun, QuestionResult, load_run
from rag.eval.scoring import JUDGE_METRICS, LATENCY

LOWER_IS_BETTER = frozenset({"false_refusal_rate", "error_rate", LATENCY})
UNGATED = frozenset({LATENCY, *JUDGE_METRICS})
FLIP_METRICS = ("contains", "hit@5", "rejection_rate", "false_refusal_rate")


@dataclass
class MetricDelta:
    """One metric in both runs and the paired delta (b - a)."""

    name: str
    a: float | None
    b: float | None
    delta: MetricSummary
    gated: bool
    drop: float | None  # how far it moved the wrong way (positive = worse)

    def describe(self) -> str:
        """What happened, in words: a rate that should fall but rose says it rose."""
        moved = "rose" if (self.b or 0.0) > (self.a or 0.0) else "fell"
        a = "none" if self.a is None else f"{self.a:.3f}"
        b = "none" if self.b is None else f"{self.b:.3f}"
        return f"{self.name} {moved} from {a} to {b} (worse by {self.drop or 0.0:.3f})"


@dataclass
class Flip:
    """A question whose score on a metric changed between the runs."""

    id: str
    query: str
    metric: str
    a: float | None
    b: float | None


@dataclass
class Comparison:
    """Everything ``rag eval compare`` shows."""

    a_dir: str
    b_dir: str
    dataset_sha256: str
    questions: int
    deltas: list[MetricDelta]
    flips: list[Flip]
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    tolerance: float | None = None

    @property
    def regressions(self) -> list[MetricDelta]:
        """Gated metrics that dropped by more than the tolerance."""
        if self.tolerance is None:
            return []
        return [
            d for d in self.deltas if d.gated and d.drop is not None and d.drop > self.tolerance
        ]


def compare(a_dir: Path, b_dir: Path, fail_on_drop: float | None = None) -> Comparison:
    """Compare run B against run A (both written by ``rag eval``)."""
    a, b = load_run(a_dir), load_run(b_dir)
    sha_a, sha_b = _sha(a, a_dir), _sha(b, b_dir)
    if sha_a != sha_b:
        raise RagError(
            f"the runs used different datasets (sha256 {sha_a[:12]} vs {sha_b[:12]}): "
            "compare runs of the same dataset"
        )
    rows_a, rows_b = {r.id: r for r in a.results}, {r.id: r for r in b.results}
    ids = [i for i in rows_a if i in rows_b]
    pairs = [(rows_a[i], rows_b[i]) for i in ids]
    return Comparison(
        a_dir=str(a_dir),
        b_dir=str(b_dir),
        dataset_sha256=sha_a,
        questions=len(ids),
        deltas=[_delta(name, pairs) for name in _shared_metrics(a, b)],
        flips=flips(pairs),
        only_in_a=[i for i in rows_a if i not in rows_b],
        only_in_b=[i for i in rows_b if i not in rows_a],
        tolerance=fail_on_drop,
    )


def flips(pairs: list[tuple[QuestionResult, QuestionResult]]) -> list[Flip]:
    """Questions whose pass/fail metrics or error state changed, in question order."""
    out = []
    for ra, rb in pairs:
        for name in FLIP_METRICS:
            va, vb = ra.metrics.get(name), rb.metrics.get(name)
            if va is not None and vb is not None and va != vb:
                out.append(Flip(ra.id, ra.query, name, va, vb))
        if (ra.error is None) != (rb.error is None):
            out.append(Flip(ra.id, ra.query, "error", _err(ra), _err(rb)))
    return out


def _sha(run: EvalRun, folder: Path) -> str:
    sha = run.summary.get("meta", {}).get("dataset", {}).get("sha256")
    if not isinstance(sha, str):
        raise RagError(f"{folder}/summary.json does not record the dataset sha256")
    return sha


def _shared_metrics(a: EvalRun, b: EvalRun) -> list[str]:
    names_b = set(b.summary.get("metrics", {}))
    return [n for n in a.summary.get("metrics", {}) if n in names_b] + ["error_rate"]


def _value(row: QuestionResult, name: str) -> float | None:
    if name == "error_rate":
        return _err(row)
    return None if name in row.invalid else row.metrics.get(name)


def _err(row: QuestionResult) -> float:
    return float(row.error is not None)


def _delta(name: str, pairs: list[tuple[QuestionResult, QuestionResult]]) -> MetricDelta:
    va = [_value(ra, name) for ra, _ in pairs]
    vb = [_value(rb, name) for _, rb in pairs]
    delta = paired_bootstrap_delta(va, vb)
    drop = None
    if delta.mean is not None:
        drop = delta.mean if name in LOWER_IS_BETTER else -delta.mean
    return MetricDelta(name, _mean(va), _mean(vb), delta, name not in UNGATED, drop)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
