"""The operating point that bench/answerability.py writes into the packaged models."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[1] / "bench" / "answerability.py"


def bench_module():
    spec = importlib.util.spec_from_file_location("bench_answerability", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_operating_point_keeps_every_dev_set_within_the_false_refusal_limit() -> None:
    """Pooled, a large set with few false refusals hides a small set that has many."""
    bench = bench_module()
    # "big": 20 answerable questions, none below .5; "small": 10 answerable, 2 at .30 and .40
    big = [0.6 + i / 100 for i in range(20)]
    small = [0.30, 0.40] + [0.7 + i / 100 for i in range(8)]
    prob = np.array(big + small + [0.1, 0.2])
    y = np.array([1] * 30 + [0, 0])
    sets = np.array(["big"] * 20 + ["small"] * 10 + ["big", "small"])

    pooled = bench._operating_point(prob, y, limit=0.1)
    per_set = bench._operating_point(prob, y, limit=0.1, sets=sets)

    assert pooled == 0.61  # refuses 3 of the 30 answerable (.10), but 2 of the 10 in "small"
    assert per_set == 0.40  # refuses only .30: 1 of 10 in "small", none in "big"
    for name in ("big", "small"):
        rows = sets == name
        assert bench._rates(prob[rows], y[rows], per_set)["false_refusal_rate"] <= 0.1
