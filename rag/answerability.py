"""The two small learned models of the extractive answerer, read from a data file.

``sentence``: the probability that a candidate sentence holds the answer. ``answerable``:
the probability that the shown passages answer the question at all, the operating point
(threshold) below which the answerer refuses, and a lower one (``gate``) below which a
question is not put to a local model at all (above it the model refuses by itself). Both
are logistic regressions over standardised features, fitted by ``bench/answerability.py``
on labelled questions (the file records which); inference is a dot product, with no import
beyond the standard library.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

DATA_FILE = "answerability.json"


@dataclass(frozen=True)
class Model:
    """A logistic regression: p = sigmoid(b + sum w_i (x_i - mean_i) / scale_i)."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float = 0.5
    gate: float = 0.0
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        """A model from its JSON form."""
        features = tuple(data["features"])
        n = len(features)
        model = cls(
            features,
            tuple(float(x) for x in data["coef"]),
            float(data["intercept"]),
            tuple(float(x) for x in data.get("mean", [0.0] * n)),
            tuple(float(x) or 1.0 for x in data.get("scale", [1.0] * n)),
            float(data.get("threshold", 0.5)),
            float(data.get("gate", {}).get("threshold", 0.0)),
            {k: v for k, v in data.items() if k not in ("coef", "mean", "scale")},
        )
        if not len(model.coef) == len(model.mean) == len(model.scale) == n:
            raise ValueError("answerability model: features, coef, mean and scale differ")
        return model

    def probability(self, values: dict[str, float]) -> float:
        """The model's probability for one row of named features (missing ones are 0)."""
        z = self.intercept
        for name, w, mu, sd in zip(self.features, self.coef, self.mean, self.scale, strict=True):
            z += w * (values.get(name, 0.0) - mu) / sd
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0

    def accepts(self, probability: float) -> bool:
        """True at or above the operating point."""
        return probability >= self.threshold

    def admits(self, probability: float) -> bool:
        """True at or above the gate: worth asking a model that can refuse by itself."""
        return probability >= self.gate


def load_models(path: Path | None = None) -> tuple[Model, Model]:
    """(sentence model, answerability model) from ``path`` or the packaged data file."""
    return _load(str(path) if path else "")


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[Model, Model]:
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("rag").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    return Model.from_dict(data["sentence"]), Model.from_dict(data["answerable"])
