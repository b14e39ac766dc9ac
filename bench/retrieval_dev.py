"""Article-level Hit@5 / MRR@10 of dense, BM25 and hybrid retrieval on newsqa dev, and the fit
of the fusion weights (``rag.retrieve.Tuning``).

Usage (with RAG_DATA_DIR pointing at a store that holds ../shared/data/newsqa/corpus.jsonl):

    python bench/retrieval_dev.py [--modes hybrid,dense,bm25]
    python bench/retrieval_dev.py --fit      # fit the weights, write bench/fusion-fit.json

The fit scores every dev question's candidates once, then searches the weights coordinate by
coordinate on a grid, from plain score fusion (BM25, dense and the date prior at 1, the rest
at 0; the BM25 weight stays 1: only ratios matter), maximising
MRR@10 + Hit@5. It also reports 5-fold cross-validated figures of the same procedure, as
an estimate of how much of the gain is fitted to these questions.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from rag.dates import relative_window
from rag.eval.metrics import hit_at_k, mrr_at_k
from rag.retrieve import FEATURES, Searcher, Tuning
from rag.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "newsqa"
RECORD = Path(__file__).resolve().parent / "fusion-fit.json"
GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
FIXED = "bm25"
START = ("bm25", "dense", "date")  # plain score fusion with the date prior


@dataclasses.dataclass
class Question:
    """One dev question's candidates: features, article ids, chunk ids and the gold articles."""

    features: np.ndarray
    articles: list[str]
    chunks: list[str]
    gold: set[str]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="hybrid,dense,bm25")
    parser.add_argument("--questions", default=str(SHARED / "questions-dev.jsonl"))
    parser.add_argument("--fit", action="store_true", help="fit the fusion weights")
    args = parser.parse_args()
    path = Path(args.questions)
    if not path.exists():
        sys.exit(f"newsqa questions not found at {path}")
    questions = [json.loads(line) for line in path.open(encoding="utf-8")]
    answerable = [q for q in questions if q["answerable"]]
    searcher = Searcher(Settings.load()).open()
    if args.fit:
        fit(searcher, answerable, path)
        return
    for mode in args.modes.split(","):
        hits, mrrs, started = [], [], time.perf_counter()
        for q in answerable:
            result = searcher.search(
                q["query"], k=10, as_of=date.fromisoformat(q["question_date"]), mode=mode
            )
            ranked = [p.article_id for p in result.ranking]
            gold = {e["doc_id"] for e in q["evidence"]}
            hits.append(hit_at_k(ranked, gold, 5))
            mrrs.append(mrr_at_k(ranked, gold, 10))
        took = (time.perf_counter() - started) / len(answerable) * 1000
        print(
            f"{mode:7} Hit@5 {sum(hits) / len(hits):.3f}  MRR@10 {sum(mrrs) / len(mrrs):.3f}"
            f"  ({len(answerable)} questions, {took:.0f} ms/question)"
        )


def fit(searcher: Searcher, answerable: list[dict], path: Path) -> None:
    """Fit the weights on every answerable question; report them with cross-validation."""
    pool = []
    for q in answerable:
        as_of = date.fromisoformat(q["question_date"])
        # as search() scores them: with the question's own window ("this week")
        window = relative_window(q["query"], as_of)
        got = searcher.candidates(q["query"], as_of=as_of, window=window)
        pool.append(
            Question(
                got.features,
                [p.article_id for p in got.passages],
                [p.chunk_id for p in got.passages],
                {e["doc_id"] for e in q["evidence"]},
            )
        )
    start = np.array([1.0 if name in START else 0.0 for name in FEATURES])
    print("starting from:  ", _line(start), _report(pool, start))
    today = Tuning().weights()
    print("today's weights:", _line(today), _report(pool, today))
    weights = search(pool, start)
    print("fitted weights: ", _line(weights), _report(pool, weights))
    folds = [list(range(i, len(pool), 5)) for i in range(5)]
    held: list[tuple[float, float]] = []
    for fold in folds:
        train = [q for i, q in enumerate(pool) if i not in set(fold)]
        fitted = search(train, start)
        held.extend(_scores([pool[i] for i in fold], fitted))
    cv = {"hit@5": np.mean([h for h, _ in held]), "mrr@10": np.mean([m for _, m in held])}
    print(f"5-fold cross-validated: Hit@5 {cv['hit@5']:.3f}  MRR@10 {cv['mrr@10']:.3f}")
    hit, mrr = np.mean(_scores(pool, weights), axis=0)
    record = {
        "what": "fusion weights of rag.retrieve.Tuning, fitted by bench/retrieval_dev.py --fit",
        "dataset": f"../shared/data/newsqa/{path.name}" if path.parent == SHARED else str(path),
        "dataset_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "questions": len(pool),
        "commit": _commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "objective": "MRR@10 + Hit@5 over answerable questions, as of each question's date",
        "grid": list(GRID),
        "weights": {name: float(w) for name, w in zip(FEATURES, weights, strict=True)},
        "fitted": {"hit@5": round(float(hit), 4), "mrr@10": round(float(mrr), 4)},
        "cross_validated": {k: round(float(v), 4) for k, v in cv.items()},
    }
    RECORD.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RECORD}")


def search(pool: list[Question], start: np.ndarray, rounds: int = 4) -> np.ndarray:
    """Coordinate ascent on the grid, the BM25 weight held at 1."""
    weights = start.copy()
    weights[FEATURES.index(FIXED)] = 1.0
    best = _objective(pool, weights)
    for _ in range(rounds):
        moved = False
        for j, name in enumerate(FEATURES):
            if name == FIXED:
                continue
            for value in GRID:
                trial = weights.copy()
                trial[j] = value
                score = _objective(pool, trial)
                if score > best + 1e-9:
                    best, weights, moved = score, trial, True
        if not moved:
            break
    return weights


def _scores(pool: list[Question], weights: np.ndarray) -> list[tuple[float, float]]:
    """(Hit@5, MRR@10) of each question under these weights (ties broken as search does)."""
    out = []
    for q in pool:
        scores = q.features @ weights if len(q.features) else np.zeros(0)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], q.chunks[i]))
        ranked = [q.articles[i] for i in order]
        out.append((hit_at_k(ranked, q.gold, 5), mrr_at_k(ranked, q.gold, 10)))
    return out


def _objective(pool: list[Question], weights: np.ndarray) -> float:
    return float(np.sum(_scores(pool, weights)))


def _report(pool: list[Question], weights: np.ndarray) -> str:
    hit, mrr = np.mean(_scores(pool, weights), axis=0)
    return f"Hit@5 {hit:.3f}  MRR@10 {mrr:.3f}"


def _line(weights: np.ndarray) -> str:
    return " ".join(f"{n}={w:g}" for n, w in zip(FEATURES, weights, strict=True))


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


if __name__ == "__main__":
    main()
