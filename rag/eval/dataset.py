"""Gold question sets: our JSON Lines format (EVAL.md) or a LlamaIndex ``rag_dataset.json``.

In a LlamaIndex dataset the reference contexts become evidence texts without article ids,
so retrieval is scored in text mode.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rag.errors import InputError


@dataclass
class Evidence:
    """A gold article id and/or the gold text inside it."""

    doc_id: str | None = None
    text: str = ""


@dataclass
class GoldQuestion:
    """One question with its reference answers and evidence."""

    id: str
    query: str
    reference_answer: str = ""
    answer_aliases: list[str] = field(default_factory=list)
    answerable: bool = True
    question_date: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def golds(self) -> list[str]:
        """The reference answer and its aliases, empty ones dropped."""
        return [a for a in [self.reference_answer, *self.answer_aliases] if a.strip()]

    @property
    def gold_ids(self) -> list[str]:
        """Distinct gold article ids."""
        return list(dict.fromkeys(e.doc_id for e in self.evidence if e.doc_id))

    @property
    def gold_texts(self) -> list[str]:
        """Non-empty gold evidence texts."""
        return [e.text for e in self.evidence if e.text.strip()]


@dataclass
class Dataset:
    """Questions read from one file, with the file's sha256."""

    path: Path
    format: str
    sha256: str
    questions: list[GoldQuestion]

    def describe(self) -> dict[str, Any]:
        """Run metadata for the dataset."""
        return {
            "path": str(self.path),
            "format": self.format,
            "sha256": self.sha256,
            "questions": len(self.questions),
        }


def load_dataset(path: Path) -> Dataset:
    """Read a gold JSONL file or a LlamaIndex rag_dataset.json."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read dataset {path}: {exc.strerror or exc}") from exc
    text = data.decode("utf-8-sig", errors="replace")
    llama = _llama_examples(text)
    if llama is not None:
        questions, fmt = [_from_llama(i, ex, path) for i, ex in enumerate(llama, 1)], "llamaindex"
    else:
        questions, fmt = _read_jsonl(text, path), "gold-jsonl"
    if not questions:
        raise InputError(f"dataset {path} has no questions")
    _check_unique(questions, path)
    return Dataset(path, fmt, hashlib.sha256(data).hexdigest(), questions)


def _llama_examples(text: str) -> list[Any] | None:
    """The ``examples`` list when the whole file is one LlamaIndex dataset object."""
    try:
        whole = json.loads(text)
    except ValueError:
        return None
    if isinstance(whole, dict) and isinstance(whole.get("examples"), list):
        return list(whole["examples"])
    return None


def _read_jsonl(text: str, path: Path) -> list[GoldQuestion]:
    questions = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        questions.append(_from_gold(record, f"{path}:{n}", f"q{n:04d}"))
    return questions


def _from_gold(record: Any, where: str, default_id: str) -> GoldQuestion:
    if not isinstance(record, dict):
        raise InputError(f"{where}: each line must be a JSON object")
    query = record.get("query")
    if not isinstance(query, str) or not query.strip():
        raise InputError(f"{where}: missing the question text ('query')")
    evidence = record.get("evidence") or []
    if not isinstance(evidence, list) or not all(isinstance(e, dict) for e in evidence):
        raise InputError(f"{where}: 'evidence' must be a list of objects")
    return GoldQuestion(
        id=str(record.get("id") or default_id),
        query=query.strip(),
        reference_answer=str(record.get("reference_answer") or ""),
        answer_aliases=_strings(record.get("answer_aliases"), where, "answer_aliases"),
        answerable=_answerable(record.get("answerable", True), where),
        question_date=_date(record.get("question_date"), where),
        evidence=[Evidence(e.get("doc_id") or None, str(e.get("text") or "")) for e in evidence],
        tags=_strings(record.get("tags"), where, "tags"),
    )


def _from_llama(n: int, example: Any, path: Path) -> GoldQuestion:
    where = f"{path}: example {n}"
    if not isinstance(example, dict):
        raise InputError(f"{where} is not an object")
    contexts = _strings(example.get("reference_contexts"), where, "reference_contexts")
    query_by = example.get("query_by")
    kind = query_by.get("type") if isinstance(query_by, dict) else None
    record = {
        "id": example.get("id") or f"ex{n:04d}",
        "query": example.get("query"),
        "reference_answer": example.get("reference_answer"),
        "evidence": [{"text": c} for c in contexts],
        "tags": [f"query_by:{kind}"] if kind else [],
    }
    return _from_gold(record, where, f"ex{n:04d}")


def _strings(value: Any, where: str, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: '{name}' must be a list of strings")
    return list(value)


def _answerable(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{where}: 'answerable' must be true or false")
    return value


def _date(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise InputError(f"{where}: question_date {value!r} is not YYYY-MM-DD") from exc


def _check_unique(questions: list[GoldQuestion], path: Path) -> None:
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise InputError(f"dataset {path}: question id {q.id!r} appears twice")
        seen.add(q.id)
