"""Fit the extractive answerer's two models into rag/data/answerability.json.

Two steps. ``collect`` asks each question of a gold set against a store (retrieval as
``rag ask`` does it, as of the question's date) and writes what the answerer reads: every
candidate sentence's features with a label (does it contain a gold answer, as ``contains``
scores it) and the question's signals with its label (answerable or not). ``fit`` fits the
sentence model (logistic regression, candidates of answerable questions), then the
answerability model on the signals, with the sentence model's out-of-fold scores, reports
cross-validated AUROC (the L2 strength with the best one is kept) and picks the operating
point by ``OPERATING_RULE``: the threshold with the most refusals whose cross-validated
false-refusal rate over all answerable dev questions stays within ``MAX_FALSE_REFUSAL``.

Fit on dev data only: the seed gold set over ``seeds/``, the BBC gold set over the BBC
corpus and newsqa dev over the newsqa corpus; never ``bbc-heldout.jsonl`` (the held-out
check) or the injection set. Collect again whenever a feature changes.

    python bench/answerability.py collect eval/seed-gold.jsonl --data-dir SEEDS --out seed.jsonl
    python bench/answerability.py collect eval/bbc-gold.jsonl --data-dir BBC --out bbc.jsonl
    python bench/answerability.py collect ../shared/data/newsqa/questions-dev.jsonl \
        --data-dir NEWSQA --out newsqa.jsonl
    python bench/answerability.py fit seed.jsonl bbc.jsonl newsqa.jsonl [--probs P.jsonl]
    python bench/answerability.py gate seed.jsonl bbc.jsonl newsqa.jsonl

``gate`` adds the lower operating point of the fitted models (``GATE_RULE``): below it a
question is not put to a local model at all (``rag.engine.LLMAnswerer``). It reads the
packaged models' probabilities on the collected questions, so run it after every fit.

scikit-learn is a development dependency (the ``test`` extra); ``rag`` reads the result
with a dot product.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
DATA_FILE = ROOT / "rag" / "data" / "answerability.json"
SENTENCE_FEATURES = (
    "coverage", "context", "typed", "untyped_miss", "untyped_coverage", "near", "inverse_rank",
    "statement", "length", "first_mention", "similarity", "share", "relation",
)  # fmt: skip
ANSWER_FEATURES = (
    "best_score", "best_coverage", "best_typed", "best_near", "best_similarity",
    "second_score", "passage_coverage", "max_passage_coverage", "missing_rare",
    "missing_share", "typed_question", "bm25_top", "bm25_margin", "bm25_agrees",
    "top_coverage", "typed_coverage", "typed_gap", "top_share", "typed_share",
    "best_relation", "top_relation", "typed_relation",
)  # fmt: skip
ANSWER_C = (0.05, 0.5, 5.0)  # L2 strengths tried; the best cross-validated AUROC is kept
MAX_FALSE_REFUSAL = 0.10  # issue 12: false_refusal_rate <= .10
OPERATING_RULE = (
    "the highest threshold (most refusals) whose cross-validated false-refusal rate over the "
    "answerable questions of each dev set (those whose passages miss the answer included) is "
    "at most max_false_refusal"
)

MAX_GATE_FALSE_REFUSAL = 0.01  # a local model refuses by itself above the gate
GATE_RULE = (
    "the highest threshold whose false-refusal rate over all answerable dev questions, with "
    "the packaged models' probabilities, is at most max_false_refusal"
)


def collect(dataset: Path, data_dir: Path, out: Path, k: int | None, limit: int | None) -> None:
    """Write one JSON line per question: signals, label and labelled candidates."""
    from rag.engine import extractive_answerer
    from rag.eval.dataset import load_dataset
    from rag.eval.metrics import contains
    from rag.retrieve import Searcher
    from rag.settings import Settings

    settings = Settings.load(flags={"data_dir": data_dir})
    searcher = Searcher(settings).open()
    answerer = extractive_answerer(searcher)
    questions = load_dataset(dataset).questions[:limit]
    with out.open("w", encoding="utf-8") as f:
        for q in questions:
            as_of = date.fromisoformat(q.question_date) if q.question_date else None
            result = searcher.search(q.query, k=k or settings.k, as_of=as_of)
            reading = answerer.gather(q.query, result.top)
            row = {
                "dataset": dataset.name,
                "id": q.id,
                "answerable": q.answerable,
                "signals": reading.signals,
                "candidates": [
                    {
                        "features": c.features,
                        "label": bool(q.answerable and contains(c.text, q.golds)),
                    }
                    for c in reading.candidates
                ],
            }
            f.write(json.dumps(row) + "\n")
    print(f"{len(questions)} questions -> {out}", file=sys.stderr)


def fit(
    paths: list[Path], out: Path, folds: int = 5, probs_out: Path | None = None
) -> dict[str, Any]:
    """Fit both models; write and return the data file's content."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    rows = [json.loads(line) for p in paths for line in p.read_text().splitlines() if line]
    # --- sentence model: candidates of answerable questions ---
    cand_x, cand_y, groups, owner = [], [], [], []
    for i, row in enumerate(rows):
        for c in row["candidates"]:
            owner.append(i)
            if row["answerable"]:
                cand_x.append([c["features"].get(f, 0.0) for f in SENTENCE_FEATURES])
                cand_y.append(int(c["label"]))
                groups.append(i)
    x, y, g = np.array(cand_x), np.array(cand_y), np.array(groups)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    sentence = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    oof = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(x, y, g):
        part = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
        part.fit((x[train] - mean) / scale, y[train])
        oof[test] = part.predict_proba((x[test] - mean) / scale)[:, 1]
    sentence.fit((x - mean) / scale, y)
    sentence_auc = float(roc_auc_score(y, oof))
    sentence_model = _model_dict(SENTENCE_FEATURES, sentence, mean, scale)

    # --- answerability: signals, best_* from the sentence model's out-of-fold ranking ---
    from rag.answerability import Model

    scorer = Model.from_dict(sentence_model)
    oof_by_row: dict[int, list[float]] = {}
    j = 0
    for i, row in enumerate(rows):
        if not row["answerable"]:
            continue
        oof_by_row[i] = list(oof[j : j + len(row["candidates"])])
        j += len(row["candidates"])
    sig_x, sig_y, fitted = [], [], []
    for i, row in enumerate(rows):
        scores = oof_by_row.get(i) or [scorer.probability(c["features"]) for c in row["candidates"]]
        signals = _question_signals(row, scores)
        sig_x.append([signals.get(f, 0.0) for f in ANSWER_FEATURES])
        sig_y.append(int(row["answerable"]))
        # an answerable question whose shown passages miss the answer tells nothing about
        # answerability: it is left out of the fit, but it counts in the false-refusal rate
        fitted.append(not row["answerable"] or any(c["label"] for c in row["candidates"]))
    sx, sy, fit_rows = np.array(sig_x), np.array(sig_y), np.array(fitted)
    fx, fy = sx[fit_rows], sy[fit_rows]
    smean, sscale = fx.mean(axis=0), fx.std(axis=0) + 1e-9
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    by_c = {}
    for c_value in ANSWER_C:
        oof_p = np.zeros(len(fy))
        for train, test in skf.split(fx, fy):
            part = LogisticRegression(C=c_value, max_iter=2000, class_weight="balanced")
            part.fit((fx[train] - smean) / sscale, fy[train])
            oof_p[test] = part.predict_proba((fx[test] - smean) / sscale)[:, 1]
        by_c[c_value] = (float(roc_auc_score(fy, oof_p)), oof_p)
    best_c = max(ANSWER_C, key=lambda c_value: by_c[c_value][0])
    auc, oof_p = by_c[best_c]
    answer = LogisticRegression(C=best_c, max_iter=2000, class_weight="balanced")
    answer.fit((fx - smean) / sscale, fy)
    # cross-validated probability of every question: out-of-fold for the fitted ones, the
    # final model's for those left out of the fit (it never saw them)
    prob = answer.predict_proba((sx - smean) / sscale)[:, 1]
    prob[fit_rows] = oof_p
    sets = np.array([row["dataset"] for row in rows])
    threshold = _operating_point(prob, sy, sets=sets)
    per_set = {name: _rates(prob[sets == name], sy[sets == name], threshold) for name in set(sets)}
    answer_model = _model_dict(ANSWER_FEATURES, answer, smean, sscale)
    answer_model.update(
        threshold=threshold,
        cv_auroc=round(auc, 4),
        C=best_c,
        cv_auroc_by_C={str(k): round(v[0], 4) for k, v in by_c.items()},
        operating_point={
            **_rates(prob, sy, threshold),
            "by_dataset": dict(sorted(per_set.items())),
            "rule": OPERATING_RULE,
            "max_false_refusal": MAX_FALSE_REFUSAL,
        },
    )
    point = answer_model["operating_point"]
    if probs_out:
        with probs_out.open("w", encoding="utf-8") as f:
            for row, p, used in zip(rows, prob, fitted, strict=True):
                line = {"dataset": row["dataset"], "id": row["id"], "answerable": row["answerable"]}
                f.write(json.dumps({**line, "p": round(float(p), 4), "fitted": used}) + "\n")
    sentence_model["cv_auroc"] = round(sentence_auc, 4)
    data = {
        "about": "rag.answerability models; written by bench/answerability.py fit",
        "fitted": datetime.now(UTC).strftime("%Y-%m-%d"),
        "fitted_on": [
            {"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()[:16]}
            for p in paths
        ],
        "datasets": {name: int((sets == name).sum()) for name in sorted(set(sets))},
        "questions": len(rows),
        "unanswerable": int((sy == 0).sum()),
        "sentence": sentence_model,
        "answerable": answer_model,
    }
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(
        f"sentence model: cv AUROC {sentence_auc:.3f} on {len(y)} sentences\n"
        f"answerability: cv AUROC {auc:.3f} (C={best_c}) on {len(fy)} questions; "
        f"threshold {threshold:.3f}: "
        f"rejection {point['rejection_rate']:.3f}, false refusal {point['false_refusal_rate']:.3f}",
        file=sys.stderr,
    )
    for name, rates in per_set.items():
        print(f"  {name}: {rates}", file=sys.stderr)
    return data


class _Cand:
    def __init__(self, features: dict[str, float]) -> None:
        self.features = features
        self.score = 0.0


def _question_signals(row: dict[str, Any], scores: list[float]) -> dict[str, float]:
    """A collected question's signals, its candidates ranked by ``scores``."""
    from rag.extractive import best_signals, coverage_signals

    cands = [_Cand(c["features"]) for c in row["candidates"]]
    for c, score in zip(cands, scores, strict=True):
        c.score = score
    cands.sort(key=lambda c: -c.score)
    return {
        **row["signals"],
        **coverage_signals(cands),  # type: ignore[arg-type]
        **best_signals(cands),  # type: ignore[arg-type]
    }


def _model_dict(features: tuple[str, ...], lr: Any, mean: Any, scale: Any) -> dict[str, Any]:
    return {
        "features": list(features),
        "coef": [round(float(w), 6) for w in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 6),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
    }


def _rates(prob: Any, y: Any, threshold: float) -> dict[str, float]:
    answered = prob >= threshold
    pos, neg = y == 1, y == 0
    return {
        "rejection_rate": round(float((~answered & neg).sum() / max(neg.sum(), 1)), 3),
        "false_refusal_rate": round(float((~answered & pos).sum() / max(pos.sum(), 1)), 3),
        "n": len(y),
    }


def _operating_point(
    prob: Any, y: Any, limit: float = MAX_FALSE_REFUSAL, sets: Any = None
) -> float:
    """The highest threshold within the false-refusal ``limit``: on each dev set when
    ``sets`` names them (``OPERATING_RULE``: pooled, newsqa's 278 questions outweigh the
    others and its own rate could pass the limit), else over all questions (the gate)."""
    groups = [slice(None)] if sets is None else [sets == name for name in set(sets)]
    best = 0.0
    for t in sorted(set(float(p) for p in prob)):
        if any(_rates(prob[g], y[g], t)["false_refusal_rate"] > limit for g in groups):
            break
        best = t
    return math.floor(best * 1e4) / 1e4  # rounded down: every question at ``best`` answered


def gate(paths: list[Path], out: Path) -> dict[str, Any]:
    """Write the answerability model's gate (``GATE_RULE``) into the data file at ``out``."""
    import numpy as np

    from rag.answerability import load_models

    sentence, answer = load_models(out)
    rows = [json.loads(line) for p in paths for line in p.read_text().splitlines() if line]
    prob, y = [], []
    for row in rows:
        scores = [sentence.probability(c["features"]) for c in row["candidates"]]
        signals = _question_signals(row, scores)
        prob.append(answer.probability(signals) if scores else 0.0)
        y.append(int(row["answerable"]))
    p, sy = np.array(prob), np.array(y)
    sets = np.array([row["dataset"] for row in rows])
    threshold = _operating_point(p, sy, MAX_GATE_FALSE_REFUSAL)
    per_set = {name: _rates(p[sets == name], sy[sets == name], threshold) for name in set(sets)}
    data = json.loads(out.read_text(encoding="utf-8"))
    data["answerable"]["gate"] = {
        "threshold": threshold,
        **_rates(p, sy, threshold),
        "by_dataset": dict(sorted(per_set.items())),
        "rule": GATE_RULE,
        "max_false_refusal": MAX_GATE_FALSE_REFUSAL,
        "read_from": [
            {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}
            for path in paths
        ],
    }
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"gate {threshold:.4f}: {_rates(p, sy, threshold)}", file=sys.stderr)
    for name, rates in sorted(per_set.items()):
        print(f"  {name}: {rates}", file=sys.stderr)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("dataset", type=Path)
    c.add_argument("--data-dir", type=Path, required=True)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--k", type=int)
    c.add_argument("--limit", type=int)
    f = sub.add_parser("fit")
    f.add_argument("features", type=Path, nargs="+")
    f.add_argument("--out", type=Path, default=DATA_FILE)
    f.add_argument("--probs", type=Path, help="write each question's cross-validated p here")
    g = sub.add_parser("gate")
    g.add_argument("features", type=Path, nargs="+")
    g.add_argument("--out", type=Path, default=DATA_FILE)
    args = parser.parse_args()
    if args.cmd == "collect":
        collect(args.dataset, args.data_dir, args.out, args.k, args.limit)
    elif args.cmd == "gate":
        gate(args.features, args.out)
    else:
        fit(args.features, args.out, probs_out=args.probs)


if __name__ == "__main__":
    main()
