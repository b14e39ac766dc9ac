"""Batch evaluation: ask every gold question, score each answer, summarize the run.

Scoring is ``rag.eval.scoring`` (metric definitions in ``rag.eval.metrics``). A question whose ask
fails keeps its error and counts as *invalid* for the metrics that would have applied, so
one failure never aborts the run nor silently lifts a mean. With a corpus, the run gets a
fresh temporary store and the user's store is never touched.
"""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag.errors import RagError
from rag.eval import metrics as m
from rag.eval.dataset import Dataset, GoldQuestion
from rag.eval.scoring import LATENCY, applicable, metric_names, score

if TYPE_CHECKING:
    from rag.eval.judge import Judge
    from rag.settings import Settings
    from rag.types import Answer, Passage, Reply

Progress = Callable[[str, int, int | None], None]  # (phase, done, total)


class AskerLike(Protocol):
    """What evaluation needs from ``rag.engine.Asker``."""

    def ask(self, question: str, *, as_of: date | None = None, k: int | None = None) -> Answer:
        """One cited answer."""
        ...


@dataclass
class QuestionResult:
    """One row of results.jsonl: the question, what the system said, and its scores."""

    id: str
    query: str
    answerable: bool
    tags: list[str] = field(default_factory=list)
    question_date: str | None = None
    reference_answer: str = ""
    answer: str | None = None
    refused: bool | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)
    metrics: dict[str, float | None] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    latency_s: float | None = None
    error: str | None = None
    judge: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalRun:
    """A finished run: per-question rows and the summary."""

    results: list[QuestionResult]
    summary: dict[str, Any]


# --- asking ------------------------------------------------------------------------------


class _Recorder:
    """Wraps an answerer to keep its raw reply and how many passages it was shown."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.raw: str | None = None
        self.n_shown = 0

    def respond(self, question: str, passages: list[Passage], as_of: date, on_token: Any) -> Reply:
        """The inner answerer's reply, its text recorded."""
        self.n_shown = len(passages)
        reply: Reply = self.inner.respond(question, passages, as_of, on_token)
        self.raw = reply.text
        return reply


def evaluate(
    questions: Sequence[GoldQuestion],
    asker: AskerLike,
    *,
    k: int,
    judge: Judge | None = None,
    progress: Progress | None = None,
) -> list[QuestionResult]:
    """Ask and score every question; a failure is recorded in its row, never raised."""
    recorder = _install_recorder(asker)
    results = []
    for i, q in enumerate(questions):
        results.append(_ask_one(q, asker, recorder, k, judge))
        if progress:
            progress("asking", i + 1, len(questions))
    return results


def _install_recorder(asker: Any) -> _Recorder | None:
    inner = getattr(asker, "answerer", None)
    if inner is None:
        return None
    recorder = inner if isinstance(inner, _Recorder) else _Recorder(inner)
    asker.answerer = recorder
    return recorder


def _ask_one(
    q: GoldQuestion, asker: AskerLike, recorder: _Recorder | None, k: int, judge: Judge | None
) -> QuestionResult:
    row = _blank_row(q)
    if recorder:
        recorder.raw, recorder.n_shown = None, 0
    started = time.perf_counter()
    try:
        as_of = date.fromisoformat(q.question_date) if q.question_date else None
        answer = asker.ask(q.query, as_of=as_of, k=k)
        row.latency_s = time.perf_counter() - started
        raw = recorder.raw if recorder else None
        row.metrics = score(q, answer, k=k, raw=raw, n_shown=recorder.n_shown if recorder else 0)
    except Exception as exc:  # one question never aborts the run
        row.latency_s = time.perf_counter() - started
        row.error = _one_line(exc)
        row.invalid = applicable(q, k, judge is not None)
        return row
    row.metrics[LATENCY] = row.latency_s
    _fill_answer(row, answer)
    if judge is not None:
        scores = judge.assess(q, answer)
        row.metrics.update(scores.metrics)
        row.invalid.extend(scores.invalid)
        row.judge.update(scores.replies)
    return row


def _blank_row(q: GoldQuestion) -> QuestionResult:
    return QuestionResult(
        id=q.id,
        query=q.query,
        answerable=q.answerable,
        tags=list(q.tags),
        question_date=q.question_date,
        reference_answer=q.reference_answer,
    )


def _fill_answer(row: QuestionResult, answer: Answer) -> None:
    row.answer, row.refused = answer.answer, answer.refused
    row.citations = [
        {"n": c.n, "article_id": c.passage.article_id, "chunk_id": c.passage.chunk_id,
         "title": c.passage.title, "passage": c.passage.text}
        for c in answer.citations
    ]  # fmt: skip
    row.retrieved = m.dedupe_ranking([p.article_id for p in answer.retrieved])[:10]


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}".rstrip(": ")


# --- summary -----------------------------------------------------------------------------


def summarize_results(results: Sequence[QuestionResult], names: Sequence[str]) -> dict[str, Any]:
    """Each metric via ``metrics.summarize``, refusal rates, counts and the per-tag breakdown."""
    rejection, false_refusal = m.refusal_rates(
        (r.answerable, bool(r.refused)) for r in results if r.error is None
    )
    return {
        "questions": len(results),
        "answerable": sum(r.answerable for r in results),
        "unanswerable": sum(not r.answerable for r in results),
        "errors": sum(r.error is not None for r in results),
        "metrics": {name: asdict(_metric(results, name)) for name in names},
        "refusal": {"rejection_rate": rejection, "false_refusal_rate": false_refusal},
        "by_tag": by_tag(results, names),
        **({"judge_agreement": agreement} if (agreement := judge_agreement(results)) else {}),
    }


def judge_agreement(results: Sequence[QuestionResult]) -> dict[str, Any] | None:
    """How often the judge's pass/fail matches `contains` on answerable questions both scored
    (None when no question has both): a judge that disagrees with string matching on more than
    a few questions is worth reading before its figures are believed."""
    pairs = [
        (judge >= 0.5, contains >= 0.5)
        for r in results
        if r.answerable
        and (judge := r.metrics.get("judge_pass")) is not None
        and (contains := r.metrics.get("contains")) is not None
    ]
    if not pairs:
        return None
    agree = sum(judge == contains for judge, contains in pairs)
    return {
        "with": "contains",
        "questions": len(pairs),
        "agree": agree,
        "rate": round(agree / len(pairs), 3),
        "judge_only": sum(judge and not contains for judge, contains in pairs),
        "contains_only": sum(contains and not judge for judge, contains in pairs),
    }


def _metric(results: Sequence[QuestionResult], name: str) -> m.MetricSummary:
    values = [r.metrics.get(name) for r in results if name not in r.invalid]
    return m.summarize(values, invalid=sum(name in r.invalid for r in results))


def by_tag(results: Sequence[QuestionResult], names: Sequence[str]) -> dict[str, Any]:
    """Mean and n of every metric within each tag (answerable/unanswerable always present)."""
    groups: dict[str, list[QuestionResult]] = {}
    for r in results:
        for tag in dict.fromkeys([*r.tags, "answerable" if r.answerable else "unanswerable"]):
            groups.setdefault(tag, []).append(r)
    out = {}
    for tag, rows in sorted(groups.items()):
        stats = {name: _metric(rows, name) for name in names}
        out[tag] = {
            "questions": len(rows),
            "metrics": {n: {"mean": s.mean, "n": s.n} for n, s in stats.items() if s.n},
        }
    return out


def git_commit(folder: Path | None = None) -> str | None:
    """HEAD of the checkout holding rag (suffixed "-dirty" with local edits), or None."""
    folder = folder or Path(__file__).resolve().parents[2]
    try:
        head = _git(folder, "rev-parse", "HEAD")
        dirty = _git(folder, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    if head is None:
        return None
    return f"{head}-dirty" if dirty else head


def _git(folder: Path, *args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10
    )
    return done.stdout.strip() if done.returncode == 0 else None


# --- a whole run -------------------------------------------------------------------------


@contextmanager
def corpus_store(
    settings: Settings, corpus: Sequence[str] | None, progress: Progress | None = None
) -> Iterator[tuple[Settings, dict[str, Any] | None]]:
    """The settings to ask with: a fresh temporary embedded store holding the corpus, if any."""
    if not corpus:
        yield settings, None
        return
    from rag.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="rag-eval-", ignore_cleanup_errors=True) as tmp:
        fresh = settings.replace(data_dir=Path(tmp), chroma_url=None, chroma_token=None)
        report = ingest(list(corpus), fresh, progress=_ingest_ticks(progress))
        if not (report.added or report.updated or report.unchanged):
            raise RagError(f"no articles could be read from {', '.join(corpus)}")
        yield (
            fresh,
            {
                "paths": list(corpus),
                "articles": len(report.added) + len(report.updated) + len(report.unchanged),
                "duplicates": len(report.duplicates),
                "failed": len(report.failed),
                "chunks": report.chunks,
                "seconds": round(report.seconds, 3),
            },
        )


def _ingest_ticks(progress: Progress | None) -> Callable[[int, int, int], None] | None:
    """Ingest progress (articles, files done, files total) as eval progress."""
    if progress is None:
        return None
    return lambda articles, done, total: progress(f"ingesting ({articles} articles)", done, total)


def sample_questions(
    questions: Sequence[GoldQuestion], *, limit: int | None, sample: int | None, seed: int
) -> list[GoldQuestion]:
    """The first `limit` questions, or `sample` of them drawn with `seed`, in dataset order."""
    if sample is not None and sample < len(questions):
        picked = sorted(random.Random(seed).sample(range(len(questions)), sample))
        return [questions[i] for i in picked]
    return list(questions[:limit] if limit else questions)


def run_eval(
    dataset: Dataset,
    settings: Settings,
    *,
    corpus: Sequence[str] | None = None,
    judge_spec: str | None = None,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> EvalRun:
    """Evaluate the configured system on a dataset (k and the answerer come from settings).

    `limit` keeps the first N questions; `sample` draws N at random with `seed` (the same N and
    seed give the same questions), kept in dataset order."""
    from rag.engine import Asker

    questions = sample_questions(dataset.questions, limit=limit, sample=sample, seed=seed)
    started, clock = datetime.now(UTC), time.perf_counter()
    commit = git_commit()  # the code that runs: the checkout may move during a long run
    judge = _judge(judge_spec, settings)
    with corpus_store(settings, corpus, progress) as (run_settings, ingested):
        asker = Asker(run_settings)
        results = evaluate(questions, asker, k=run_settings.k, judge=judge, progress=progress)
        answerer = getattr(asker.answerer, "name", "unknown")
        embedding = (
            asker.searcher.embedder.name if asker.searcher and asker.searcher.embedder else ""
        )
    summary = summarize_results(results, metric_names(run_settings.k, judge is not None))
    summary["meta"] = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 3),
        "git_commit": commit,
        "dataset": dataset.describe(),
        "limit": limit,
        "sample": {"n": sample, "seed": seed} if sample else None,
        "k": run_settings.k,
        "models": {
            "answerer": answerer,
            "embedding": embedding,
            "judge": judge.name if judge else None,
        },
        "corpus": ingested,
        "settings": {name: value for name, value, _ in run_settings.shown()},
    }
    return EvalRun(results, summary)


def _judge(spec: str | None, settings: Settings) -> Judge | None:
    if not spec:
        return None
    from rag.eval.judge import Judge
    from rag.llm import get_chat_model

    return Judge(get_chat_model(spec, settings), cache_dir=settings.data_dir / "judge-cache")


# --- files -------------------------------------------------------------------------------


def write_run(run: EvalRun, out_dir: Path) -> None:
    """results.jsonl (one row per question) and summary.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as fh:
        for row in run.results:
            fh.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
    text = json.dumps(run.summary, indent=2, ensure_ascii=False)
    (out_dir / "summary.json").write_text(text + "\n", encoding="utf-8")


def load_run(folder: Path) -> EvalRun:
    """A run written by ``write_run``."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        lines = (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
        results = [QuestionResult(**json.loads(line)) for line in lines if line.strip()]
    except FileNotFoundError as exc:
        raise RagError(f"{folder} is not an eval output folder: {exc.filename} is missing") from exc
    except (ValueError, TypeError) as exc:
        raise RagError(f"cannot read the eval run in {folder}: {exc}") from exc
    return EvalRun(results, summary)
