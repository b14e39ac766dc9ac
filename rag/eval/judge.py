"""LLM-judge metrics: correctness 1-5 and faithfulness, strict JSON, cached on disk.

Valid replies are cached by a hash of (judge model, prompt template, inputs), so re-running
an eval costs nothing. A reply that is not the strict JSON asked for is *invalid* (counted,
never scored 0, not cached); a judge call that fails is invalid too. Chat models in
``rag.llm`` always sample at temperature 0. Judge metrics are reported, never gated.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag import prompts
from rag.eval.metrics import judge_pass, parse_judge_verdict

if TYPE_CHECKING:
    from rag.eval.dataset import GoldQuestion
    from rag.llm import ChatModel
    from rag.types import Answer

SYSTEM = "You are a strict evaluator. You reply with a single JSON object and nothing else."


@dataclass
class Verdict:
    """A parsed judge reply: the value, or invalid with the reason."""

    value: float | None
    invalid: bool = False
    reply: str = ""
    note: str = ""


@dataclass
class JudgeScores:
    """What the judge made of one answer: metric values, invalid metrics, the raw replies."""

    metrics: dict[str, float | None] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, verdict: Verdict) -> None:
        """Record one verdict: its value, or the metric as invalid."""
        if verdict.invalid:
            self.invalid.append(name)
        else:
            self.metrics[name] = verdict.value
        self.replies[name] = {
            "reply": verdict.reply,
            "note": verdict.note,
            "invalid": verdict.invalid,
        }


class Judge:
    """Grades answers with a chat model, caching valid replies."""

    def __init__(self, model: ChatModel, cache_dir: Path | None = None) -> None:
        self.model = model
        self.name = model.name
        self.cache_dir = cache_dir

    def correctness(self, question: str, reference: str, answer: str) -> Verdict:
        """Score 1-5 of the answer against the reference."""
        inputs = {"question": question, "reference": reference, "answer": answer}
        reply = self._ask("judge_correctness", inputs, lambda r: parse_judge_verdict(r) is not None)
        verdict = parse_judge_verdict(reply)
        if verdict is None:
            return Verdict(None, True, reply, "not the JSON asked for")
        return Verdict(float(verdict["score"]), reply=reply, note=str(verdict.get("reason", "")))

    def faithfulness(self, answer: str, sources: str) -> Verdict:
        """Supported claims / claims; None when the answer makes no claim."""
        inputs = {"answer": answer, "sources": sources}
        reply = self._ask(
            "judge_faithfulness", inputs, lambda r: _faithfulness_counts(r) is not None
        )
        counts = _faithfulness_counts(reply)
        if counts is None:
            return Verdict(None, True, reply, "not the JSON asked for")
        claims, supported = counts
        return Verdict(supported / claims if claims else None, reply=reply)

    def assess(self, q: GoldQuestion, answer: Answer) -> JudgeScores:
        """The judge metrics of one answer (invalid verdicts listed, never scored)."""
        scores = JudgeScores()
        if q.answerable and q.golds:
            self._correctness(q, answer, scores)
        if not answer.refused:
            sources = "\n\n".join(f"[{c.n}] {c.passage.text}" for c in answer.citations)
            scores.add(
                "judge_faithfulness",
                _verdict(lambda: self.faithfulness(answer.answer, sources or "(none)")),
            )
        return scores

    def _correctness(self, q: GoldQuestion, answer: Answer, scores: JudgeScores) -> None:
        if answer.refused:  # a refused answerable question scores the minimum, no call needed
            scores.metrics.update(judge_correctness=1.0, judge_pass=0.0)
            return
        reference = " / ".join(q.golds)
        verdict = _verdict(lambda: self.correctness(q.query, reference, answer.answer))
        scores.add("judge_correctness", verdict)
        if verdict.value is None:
            scores.invalid.append("judge_pass")
            return
        scores.metrics["judge_pass"] = float(judge_pass(int(verdict.value)))

    def _ask(self, template: str, inputs: dict[str, str], valid: Callable[[str], bool]) -> str:
        """The judge's reply, from the cache or the model (only valid replies are cached)."""
        key = cache_key(self.name, prompts.load(template), inputs)
        cached = self._cached(key)
        if cached is not None:
            return cached
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": prompts.render(template, **inputs)},
        ]
        reply = self.model.complete(messages)
        if valid(reply):
            self._store(key, reply)
        return reply

    def _path(self, key: str) -> Path | None:
        return self.cache_dir / key[:2] / f"{key}.json" if self.cache_dir else None

    def _cached(self, key: str) -> str | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path else None
        except (OSError, ValueError):
            return None
        reply = data.get("reply") if isinstance(data, dict) else None
        return reply if isinstance(reply, str) else None

    def _store(self, key: str, reply: str) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"model": self.name, "reply": reply}), encoding="utf-8")
        tmp.replace(path)


def _verdict(call: Callable[[], Verdict]) -> Verdict:
    """The verdict of a judge call; a call that fails is an invalid verdict, not a crash."""
    try:
        return call()
    except Exception as exc:
        return Verdict(None, True, "", f"judge call failed: {exc}")


def cache_key(model: str, prompt: str, inputs: dict[str, str]) -> str:
    """Hash of everything that determines a judge reply."""
    blob = json.dumps({"model": model, "prompt": prompt, "inputs": inputs}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _faithfulness_counts(reply: str) -> tuple[int, int] | None:
    """(claims, supported) when both are counts and supported <= claims."""
    verdict = parse_judge_verdict(reply, require_score=False)
    if verdict is None:
        return None
    claims, supported = verdict.get("claims"), verdict.get("supported")
    if type(claims) is not int or type(supported) is not int:
        return None
    return (claims, supported) if 0 <= supported <= claims else None
