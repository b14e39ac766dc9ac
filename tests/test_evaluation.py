"""rag eval: datasets, per-question scoring, the judge, summaries, compare, HTML and the CLI."""

from __future__ import annotations

import ast
import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.errors import InputError, RagError
from rag.eval.compare import compare
from rag.eval.dataset import Evidence, GoldQuestion, load_dataset
from rag.eval.judge import Judge, JudgeScores, cache_key
from rag.eval.report import failure_reason, html_report
from rag.eval.run import (
    EvalRun,
    QuestionResult,
    evaluate,
    judge_agreement,
    sample_questions,
    summarize_results,
    write_run,
)
from rag.eval.scoring import metric_names, score
from rag.llm import ScriptedChat
from rag.readers import read_path
from rag.types import Answer, Citation, Passage

ROOT = Path(__file__).resolve().parents[1]
SEED_GOLD = ROOT / "eval" / "seed-gold.jsonl"
REFUSAL = "The articles don't say."


def _q(qid: str = "q1", **kw: Any) -> GoldQuestion:
    base: dict[str, Any] = {
        "query": "Who withdrew?",
        "reference_answer": "Muharrem Ince",
        "evidence": [Evidence("A", "")],
    }
    return GoldQuestion(id=qid, **{**base, **kw})


def _p(article_id: str, text: str = "text", n: int = 0) -> Passage:
    return Passage(chunk_id=f"{article_id}#{n}", article_id=article_id, text=text)


def _answer(
    text: str,
    *,
    refused: bool = False,
    cited: list[Passage] | None = None,
    retrieved: list[Passage] | None = None,
) -> Answer:
    citations = [Citation(n, p) for n, p in enumerate(cited or [], 1)]
    return Answer("q", text, refused, "stub", citations=citations, retrieved=retrieved or [])


# --- datasets ----------------------------------------------------------------------------


def test_gold_jsonl_is_loaded_with_defaults_and_sha256(tmp_path: Path) -> None:
    lines = [
        {
            "id": "q0042",
            "query": "Who?",
            "reference_answer": "Ince",
            "answer_aliases": ["Muharrem Ince"],
            "answerable": True,
            "question_date": "2023-05-12",
            "evidence": [{"doc_id": "A", "text": "Ince withdrew."}],
            "tags": ["who"],
        },
        {"query": "What is unknown?", "answerable": False, "evidence": []},
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    data = load_dataset(path)
    assert data.format == "gold-jsonl"
    assert data.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    first, second = data.questions
    assert first.golds == ["Ince", "Muharrem Ince"]
    assert first.gold_ids == ["A"] and first.gold_texts == ["Ince withdrew."]
    assert first.question_date == "2023-05-12" and first.tags == ["who"]
    assert second.id == "q0002" and not second.answerable and second.gold_ids == []


def test_llamaindex_rag_dataset_contexts_become_evidence_texts(tmp_path: Path) -> None:
    example = {
        "query": "Who denied interference?",
        "query_by": {"model_name": "gpt-4", "type": "ai"},
        "reference_contexts": ["Peskov denied the rumors.", "Second context."],
        "reference_answer": "Dmitry Peskov",
        "reference_answer_by": {"model_name": "", "type": "human"},
    }
    path = tmp_path / "rag_dataset.json"
    path.write_text(json.dumps({"examples": [example, {**example, "query_by": None}]}))
    data = load_dataset(path)
    assert data.format == "llamaindex"
    q = data.questions[0]
    assert q.id == "ex0001" and q.answerable and q.golds == ["Dmitry Peskov"]
    assert q.gold_ids == [] and q.gold_texts == ["Peskov denied the rumors.", "Second context."]
    assert q.tags == ["query_by:ai"] and data.questions[1].tags == []


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "query": "x"}', '{"id": "a", "query": "y"}'], "appears twice"),
        (['{"id": "a", "query": "x"}', "{not json"], ":2: not valid JSON"),
        (['{"id": "a", "query": "x", "question_date": "May 5"}'], "not YYYY-MM-DD"),
        (['{"id": "a"}'], "missing the question text"),
        (['{"query": "x", "answerable": "no"}'], "'answerable' must be true or false"),
    ],
)
def test_bad_datasets_are_refused_with_the_line(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_dataset(path)


def test_seed_gold_set_follows_the_brief(seed_path: Path) -> None:
    article = next(read_path(seed_path))
    questions = load_dataset(SEED_GOLD).questions
    unanswerable = [q for q in questions if not q.answerable]
    assert len(questions) >= 20 and len(unanswerable) >= 5
    assert all(q.evidence == [] for q in unanswerable)
    tags = {t for q in questions for t in q.tags}
    assert {"quote", "who", "when", "why", "number", "unanswerable"} <= tags
    for q in questions:
        if q.answerable:
            assert q.golds and q.gold_ids == [article.article_id], q.id
            assert all(text in article.text for text in q.gold_texts), q.id


# --- scoring one answer ------------------------------------------------------------------


def test_retrieval_is_article_level_with_duplicates_counted_once() -> None:
    retrieved = [_p("B"), _p("A", n=0), _p("A", n=1), _p("B", n=1), _p("C"), _p("D")]
    s = score(_q(evidence=[Evidence("A"), Evidence("C")]), _answer("x", retrieved=retrieved), k=2)
    # deduplicated ranking: B, A, C, D; gold = {A, C}
    assert (s["hit@1"], s["hit@5"], s["hit@10"]) == (0.0, 1.0, 1.0)
    assert s["mrr@10"] == 0.5
    assert s["recall@2"] == 0.5
    ideal = 1 + 1 / math.log2(3)
    assert s["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / ideal)


def test_one_gold_article_repeated_never_scores_above_one() -> None:
    retrieved = [_p("A", n=i) for i in range(8)]
    s = score(_q(), _answer("x", retrieved=retrieved), k=5)
    assert s["hit@5"] == s["mrr@10"] == s["recall@5"] == s["ndcg@10"] == 1.0


def test_empty_retrieval_scores_zero_not_skipped() -> None:
    s = score(_q(), _answer("x"), k=5)
    assert [s[n] for n in ("hit@1", "hit@5", "mrr@10", "recall@5", "ndcg@10")] == [0.0] * 5


def test_text_mode_when_gold_has_only_evidence_text() -> None:
    q = _q(evidence=[Evidence(None, "Peskov denied the rumors.")])
    retrieved = [_p("X", "unrelated"), _p("Y", "The Kremlin: Peskov  denied\nthe rumors. More.")]
    s = score(q, _answer("x", retrieved=retrieved), k=5)
    assert (s["hit@1"], s["hit@5"], s["mrr@10"], s["recall@5"]) == (0.0, 1.0, 0.5, 1.0)


def test_answer_metrics_ignore_citation_markers() -> None:
    q = _q(reference_answer="Thursday")
    s = score(q, _answer("Muharrem Ince withdrew on Thursday. [1]"), k=5)
    assert s["exact_match"] == 0.0 and s["contains"] == 1.0
    assert s["token_f1"] == pytest.approx(2 * 0.2 / 1.2)  # 1 of 5 tokens, the whole gold
    exact = score(_q(answer_aliases=["Ince"]), _answer("Ince [1]"), k=5)
    assert exact["exact_match"] == exact["token_f1"] == exact["contains"] == 1.0


def test_refused_answerable_scores_zero_and_counts_as_false_refusal() -> None:
    s = score(_q(), _answer(REFUSAL, refused=True, retrieved=[_p("A")]), k=5)
    assert s["exact_match"] == s["token_f1"] == s["contains"] == 0.0
    assert s["false_refusal_rate"] == 1.0 and s["rejection_rate"] is None
    assert s["citation_validity"] is s["citation_recall"] is s["citation_precision"] is None
    assert s["gold_citation_recall"] == 0.0 and s["gold_citation_precision"] is None
    assert s["hit@1"] == 1.0


def test_unanswerable_question_scores_refusals_only() -> None:
    q = _q(answerable=False, evidence=[], reference_answer="Erdogan")
    refused = score(q, _answer(REFUSAL, refused=True), k=5)
    assert refused["rejection_rate"] == 1.0 and refused["false_refusal_rate"] is None
    assert all(refused[n] is None for n in ("hit@5", "contains", "gold_citation_recall"))
    answered = score(q, _answer("Erdogan won. [1]", cited=[_p("A", "Erdogan won.")]), k=5)
    assert answered["rejection_rate"] == 0.0 and answered["contains"] is None


def test_citation_metrics_on_the_checked_answer_and_validity_on_the_raw_reply() -> None:
    passage = _p("A", "Peskov denied the rumors about interference.")
    answer = _answer("Peskov denied the rumors. [1] Ince withdrew on Thursday.", cited=[passage])
    q = _q(evidence=[Evidence("A"), Evidence("B")])
    s = score(q, answer, k=5, raw="Peskov denied the rumors [1]. Ince withdrew [7].", n_shown=5)
    assert s["citation_validity"] == 0.5  # [7] names no shown passage
    assert s["citation_recall"] == 0.5  # the second sentence cites nothing
    assert s["citation_precision"] == 1.0
    assert (s["gold_citation_precision"], s["gold_citation_recall"]) == (1.0, 0.5)
    without_raw = score(q, answer, k=5)
    assert without_raw["citation_validity"] == 1.0


# --- a batch -----------------------------------------------------------------------------


@dataclass
class StubAsker:
    """Answers from a table; raises for queries listed in ``fail``."""

    answers: dict[str, Answer]
    fail: set[str] = field(default_factory=set)
    asked: list[tuple[str, date | None]] = field(default_factory=list)

    def ask(self, question: str, *, as_of: date | None = None, k: int | None = None) -> Answer:
        """The scripted answer."""
        self.asked.append((question, as_of))
        if question in self.fail:
            raise RuntimeError("boom\nsecond line")
        return self.answers[question]


def _batch() -> tuple[list[GoldQuestion], StubAsker]:
    questions = [
        _q("q1", query="one", question_date="2023-05-12", tags=["who"]),
        _q("q2", query="two", tags=["who"]),
        _q("q3", query="three", answerable=False, evidence=[], tags=["unanswerable"]),
        _q("q4", query="four", answerable=False, evidence=[], tags=["unanswerable"]),
    ]
    a = _p("A", "Muharrem Ince withdrew.")
    asker = StubAsker(
        {
            "one": _answer("Muharrem Ince withdrew. [1]", cited=[a], retrieved=[a]),
            "three": _answer(REFUSAL, refused=True),
            "four": _answer("Ince withdrew. [1]", cited=[a], retrieved=[a]),
        },
        fail={"two"},
    )
    return questions, asker


def test_a_failing_question_is_recorded_and_the_run_goes_on() -> None:
    questions, asker = _batch()
    seen: list[tuple[str, int, int | None]] = []
    rows = evaluate(questions, asker, k=5, progress=lambda *a: seen.append(a))
    assert [r.id for r in rows] == ["q1", "q2", "q3", "q4"]
    assert rows[1].error == "RuntimeError: boom" and rows[1].answer is None
    assert "contains" in rows[1].invalid and "rejection_rate" not in rows[1].invalid
    assert asker.asked[0] == ("one", date(2023, 5, 12)) and asker.asked[1][1] is None
    assert seen[-1] == ("asking", 4, 4)
    summary = summarize_results(rows, metric_names(5, judged=False))
    contains = summary["metrics"]["contains"]
    assert (contains["mean"], contains["n"], contains["invalid"]) == (1.0, 1, 1)
    assert summary["errors"] == 1


def test_summary_refusal_rates_and_tags() -> None:
    questions, asker = _batch()
    summary = summarize_results(evaluate(questions, asker, k=5), metric_names(5, judged=False))
    assert summary["refusal"] == {"rejection_rate": 0.5, "false_refusal_rate": 0.0}
    assert summary["metrics"]["rejection_rate"]["mean"] == 0.5
    assert summary["metrics"]["false_refusal_rate"]["n"] == 1  # q2 failed: invalid, not 0
    tags = summary["by_tag"]
    assert tags["unanswerable"]["questions"] == 2  # own tag and derived tag counted once
    assert tags["who"]["metrics"]["hit@5"] == {"mean": 1.0, "n": 1}
    latency = summary["metrics"]["latency_s"]
    assert latency["n"] == 3 and latency["mean"] >= 0


def test_the_raw_reply_is_recorded_for_citation_validity(seed_path: Path) -> None:
    from rag.engine import Asker, LLMAnswerer
    from rag.ingest import ingest
    from rag.settings import Settings

    settings = Settings.load(flags={"embedding": "hash", "llm": "extractive"})
    ingest([str(seed_path)], settings)
    chat = ScriptedChat(["Muharrem Ince withdrew from the race. [1] He gave few details. [9]"])
    asker = Asker(settings, answerer=LLMAnswerer(chat))
    (row,) = evaluate([_q(query="Who withdrew from the race?", evidence=[])], asker, k=3)
    assert row.metrics["citation_validity"] == 0.5  # [9] was never shown
    assert row.refused is False and row.metrics["contains"] == 1.0


# --- the judge ---------------------------------------------------------------------------


def _judged(replies: list[str], tmp_path: Path) -> tuple[Any, ScriptedChat]:
    chat = ScriptedChat(replies)
    judge = Judge(chat, cache_dir=tmp_path / "cache")
    a = _p("A", "Muharrem Ince withdrew.")
    asker = StubAsker({"one": _answer("Muharrem Ince withdrew. [1]", cited=[a], retrieved=[a])})
    (row,) = evaluate([_q(query="one")], asker, k=5, judge=judge)
    return row, chat


def test_judge_scores_parse_strict_json(tmp_path: Path) -> None:
    row, chat = _judged(
        ['```json\n{"score": 4, "reason": "right"}\n```', '{"claims": 2, "supported": 1}'],
        tmp_path,
    )
    assert row.metrics["judge_correctness"] == 4.0 and row.metrics["judge_pass"] == 1.0
    assert row.metrics["judge_faithfulness"] == 0.5 and row.invalid == []
    assert "Muharrem Ince" in chat.calls[0][-1]["content"]


@pytest.mark.parametrize(
    "reply", ["yes, correct", '{"score": 7}', '{"score": "4"}', '{"score": NaN}', "[4]", ""]
)
def test_unparseable_judge_verdicts_are_invalid_never_zero(tmp_path: Path, reply: str) -> None:
    row, _ = _judged([reply, '{"claims": "two", "supported": 1}'], tmp_path)
    assert {"judge_correctness", "judge_pass", "judge_faithfulness"} <= set(row.invalid)
    assert "judge_correctness" not in row.metrics
    summary = summarize_results([row], metric_names(5, judged=True))["metrics"]
    assert summary["judge_correctness"] == {
        "mean": None, "n": 0, "skipped": 0, "invalid": 1, "ci_low": None, "ci_high": None
    }  # fmt: skip
    assert summary["contains"]["mean"] == 1.0


def test_judge_replies_are_cached_and_failures_are_invalid(tmp_path: Path) -> None:
    _judged(['{"score": 5}', '{"claims": 1, "supported": 1}'], tmp_path)
    again, chat = _judged([], tmp_path)  # nothing queued: replies must come from the cache
    assert chat.calls == [] and again.metrics["judge_correctness"] == 5.0
    assert again.metrics["judge_faithfulness"] == 1.0
    failing, _ = _judged(["!error judge offline", "!error judge offline"], tmp_path / "other")
    assert "judge_correctness" in failing.invalid
    assert "judge offline" in failing.judge["judge_correctness"]["note"]
    _judged(["yes", "no"], tmp_path / "bad")
    retried, chat = _judged(['{"score": 3}', '{"claims": 0, "supported": 0}'], tmp_path / "bad")
    assert len(chat.calls) == 2  # invalid replies were not cached
    assert retried.metrics["judge_correctness"] == 3.0 and retried.metrics["judge_pass"] == 0.0
    assert retried.metrics["judge_faithfulness"] is None  # no claims: skipped, not invalid
    assert "judge_faithfulness" not in retried.invalid
    assert cache_key("m", "p", {"a": "1"}) != cache_key("m2", "p", {"a": "1"})


def test_the_judge_returns_scores_and_the_runner_merges_them(tmp_path: Path) -> None:
    a = _p("A", "Muharrem Ince withdrew.")
    judge = Judge(ScriptedChat(['{"score": 2}', "not json"]), cache_dir=tmp_path)
    scores = judge.assess(_q(), _answer("Muharrem Ince withdrew. [1]", cited=[a]))
    assert scores == JudgeScores(
        metrics={"judge_correctness": 2.0, "judge_pass": 0.0},
        invalid=["judge_faithfulness"],
        replies={
            "judge_correctness": {"reply": '{"score": 2}', "note": "", "invalid": False},
            "judge_faithfulness": {
                "reply": "not json", "note": "not the JSON asked for", "invalid": True
            },
        },
    )  # fmt: skip
    judge_imports = ast.parse((ROOT / "rag" / "eval" / "judge.py").read_text(encoding="utf-8"))
    modules = {n.module for n in ast.walk(judge_imports) if isinstance(n, ast.ImportFrom)}
    assert "rag.eval.run" not in modules  # the judge knows nothing of result rows


def test_judge_agreement_with_contains_counts_answerable_questions_both_scored() -> None:
    def row(qid: str, judge: float | None, contains: float | None, answerable: bool = True):
        metrics = {"judge_pass": judge, "contains": contains}
        return QuestionResult(id=qid, query="q", answerable=answerable, metrics=metrics)

    rows = [
        row("a", 1.0, 1.0),
        row("b", 0.0, 0.0),
        row("c", 1.0, 0.0),  # the judge accepts a paraphrase contains misses
        row("d", 0.0, 1.0),
        row("e", None, 1.0),  # the judge's verdict was invalid: not counted
        row("f", 1.0, None, answerable=False),
    ]
    assert judge_agreement(rows) == {
        "with": "contains",
        "questions": 4,
        "agree": 2,
        "rate": 0.5,
        "judge_only": 1,
        "contains_only": 1,
    }
    assert judge_agreement(rows[4:]) is None
    assert "judge_agreement" not in summarize_results(rows[4:], ["contains"])


def test_refused_answerable_gets_the_lowest_judge_score_without_a_call(tmp_path: Path) -> None:
    chat = ScriptedChat()
    asker = StubAsker({"one": _answer(REFUSAL, refused=True)})
    (row,) = evaluate([_q(query="one")], asker, k=5, judge=Judge(chat, tmp_path))
    assert (row.metrics["judge_correctness"], row.metrics["judge_pass"]) == (1.0, 0.0)
    assert "judge_faithfulness" not in row.metrics and chat.calls == []


# --- compare -----------------------------------------------------------------------------


def _write(folder: Path, contains: list[float], sha: str = "abc", latency: float = 0.1) -> Path:
    questions = [_q(f"q{i}", query=f"question {i}") for i in range(len(contains))]
    a = _p("A", "Muharrem Ince withdrew.")
    answers = {
        q.query: _answer("Muharrem Ince withdrew. [1]" if ok else "Erdogan. [1]", cited=[a])
        for q, ok in zip(questions, contains, strict=True)
    }
    rows = evaluate(questions, StubAsker(answers), k=5)
    for row in rows:
        row.metrics["latency_s"] = latency
    summary = summarize_results(rows, metric_names(5, judged=False))
    summary["meta"] = {"dataset": {"sha256": sha}}
    write_run(EvalRun(rows, summary), folder)
    return folder


def test_compare_gives_paired_deltas_and_flipped_questions(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", [1, 1, 0])
    b = _write(tmp_path / "b", [1, 0, 0], latency=0.5)
    result = compare(a, b, fail_on_drop=0.1)
    deltas = {d.name: d for d in result.deltas}
    assert deltas["contains"].delta.mean == pytest.approx(-1 / 3)
    assert (deltas["contains"].a, deltas["contains"].b) == (pytest.approx(2 / 3), 1 / 3)
    assert [(f.id, f.metric, f.a, f.b) for f in result.flips] == [("q1", "contains", 1.0, 0.0)]
    assert {d.name for d in result.regressions} == {
        "token_f1", "contains", "citation_recall", "citation_precision"
    }  # fmt: skip
    assert not deltas["latency_s"].gated  # slower, but latency is never gated
    assert compare(a, b, fail_on_drop=0.5).regressions == []
    assert compare(a, b).regressions == []


def test_compare_refuses_runs_of_different_datasets(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", [1], sha="one")
    b = _write(tmp_path / "b", [1], sha="two")
    with pytest.raises(RagError, match="different datasets"):
        compare(a, b)
    with pytest.raises(RagError, match="not an eval output folder"):
        compare(a, tmp_path / "missing")


def test_compare_cli_exit_code_follows_fail_on_drop(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", [1, 1, 0])
    b = _write(tmp_path / "b", [1, 0, 0])
    runner = CliRunner()
    ok = runner.invoke(app, ["eval", "compare", str(a), str(b)])
    assert ok.exit_code == 0, ok.output
    assert "flipped q1 contains: 1 -> 0" in ok.stdout
    dropped = runner.invoke(app, ["eval", "compare", str(a), str(b), "--fail-on-drop", "0.05"])
    assert dropped.exit_code == 1
    assert "regression: contains fell from 0.667 to 0.333 (worse by 0.333)" in dropped.stderr
    loose = runner.invoke(app, ["eval", "compare", str(a), str(b), "--fail-on-drop", "0.5"])
    assert loose.exit_code == 0
    as_json = runner.invoke(app, ["eval", "compare", str(a), str(a), "--json"])
    assert json.loads(as_json.stdout)["regressions"] == []
    other = _write(tmp_path / "c", [1, 1, 0], sha="other")
    refused = runner.invoke(app, ["eval", "compare", str(a), str(other)])
    assert refused.exit_code == 1 and "different datasets" in refused.stderr


# --- HTML --------------------------------------------------------------------------------


def test_html_report_escapes_every_text_and_is_self_contained() -> None:
    evil = "<script>alert('x')</script>"
    q = _q("<b>q1</b>", query=f"Who? {evil}", reference_answer="Ince", tags=["<i>tag</i>"])
    passage = Passage("A#0", "A", f"Body {evil} & more", title=f"Title {evil}")
    asker = StubAsker({q.query: _answer(f"Erdogan {evil}. [1]", cited=[passage])})
    rows = evaluate([q], asker, k=5)
    summary = summarize_results(rows, metric_names(5, judged=False))
    summary["meta"] = {"dataset": {"path": f"data{evil}.jsonl", "sha256": "x"}, "k": 5}
    page = html_report(EvalRun(rows, summary))
    assert "<script" not in page.lower() and "<b>q1" not in page and "<i>tag" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "Body &lt;script&gt;" in page and "&amp; more" in page
    assert "<svg" in page and "<rect" in page
    assert not any(s in page for s in ("src=", "href=", "<link", "@import", "url("))
    assert failure_reason(rows[0]) == (
        "answer does not contain the reference; no gold article in the top 5"
    )


# --- the command -------------------------------------------------------------------------


def test_rag_eval_on_the_seed_gold_set(tmp_path: Path, isolated_env: Path) -> None:
    out = tmp_path / "out"
    corpus = ["--corpus", str(ROOT / "seeds"), "--llm", "extractive"]
    args = ["eval", str(SEED_GOLD), *corpus, "--out", str(out), "--json", "--html"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary == json.loads((out / "summary.json").read_text())
    metrics = summary["metrics"]
    answerable = summary["answerable"]
    assert summary["errors"] == 0 and summary["unanswerable"] >= 5
    assert metrics["hit@5"]["mean"] == 1.0 and metrics["hit@5"]["n"] == answerable
    assert metrics["mrr@10"]["mean"] == 1.0
    assert 0.5 <= metrics["contains"]["mean"] <= 1.0
    assert metrics["citation_validity"]["mean"] == 1.0
    assert metrics["rejection_rate"]["n"] == summary["unanswerable"]
    assert metrics["rejection_rate"]["mean"] >= 0.5
    assert metrics["false_refusal_rate"]["n"] == answerable
    assert summary["refusal"]["rejection_rate"] == metrics["rejection_rate"]["mean"]
    meta = summary["meta"]
    assert meta["models"]["answerer"] == "extractive" and meta["k"] == 5
    assert meta["dataset"]["sha256"] == hashlib.sha256(SEED_GOLD.read_bytes()).hexdigest()
    assert meta["corpus"]["articles"] == 1
    assert len((out / "results.jsonl").read_text().splitlines()) == summary["questions"]
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert not isolated_env.exists()  # the user's store was never created


# Questions over the seed and the reader fixtures, each with a distractor that shares its
# words: a ranker that loses the order (reversed, by date, by length) gets some of them wrong.
RANKED = [  # (question, the file holding its article, the answer it names)
    ("Which library began lending telescopes?", "library-single.json", "Maple Hollow"),
    ("What did the council budget do to library hours?", "council-budget.txt", "Sundays"),
    ("How many daily sailings will the island ferry add?", "briefs.jsonl", "four"),
    ("Until what time do the Route 9 night buses run?", "transit-list.json", "2 a.m."),
    ("How low did temperatures fall in the Corran Valley orchards?", "orchard-frost.md", "minus 3"),
    ("What is Kilicdaroglu accusing Moscow of?", "seed", "release of fake material"),
]


def test_rag_eval_ranks_the_gold_article_first_among_distractors(tmp_path: Path) -> None:
    fixtures = ROOT / "tests" / "fixtures" / "articles"
    ids = {path.name: next(read_path(path)).article_id for path in fixtures.iterdir()}
    ids["seed"] = next(read_path(next((ROOT / "seeds").iterdir()))).article_id
    gold = tmp_path / "gold.jsonl"
    lines = [
        {"id": f"r{i}", "query": query, "reference_answer": answer,
         "evidence": [{"doc_id": ids[source]}]}
        for i, (query, source, answer) in enumerate(RANKED)
    ]  # fmt: skip
    gold.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out"
    args = ["eval", str(gold), "--corpus", str(ROOT / "seeds"), "--corpus", str(fixtures)]
    result = CliRunner().invoke(app, [*args, "--llm", "extractive", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["meta"]["corpus"]["articles"] >= 9
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    for row, (query, source, answer) in zip(rows, RANKED, strict=True):
        assert row["retrieved"][0] == ids[source], (query, row["retrieved"])
        assert len(row["retrieved"]) >= 5  # the distractors were retrieved, and ranked below
        assert (row["metrics"]["hit@1"], row["metrics"]["mrr@10"]) == (1.0, 1.0), query
        assert row["metrics"]["contains"] == 1.0, (query, row["answer"])
        assert answer.lower() in row["answer"].lower()


def test_rag_eval_run_and_help_and_empty_store(tmp_path: Path) -> None:
    runner = CliRunner()
    help_text = runner.invoke(app, ["eval", "--help"]).stdout
    assert "run" in help_text and "compare" in help_text
    assert "--corpus" in runner.invoke(app, ["eval", "run", "--help"]).stdout
    empty = runner.invoke(app, ["eval", "run", str(SEED_GOLD), "--out", str(tmp_path / "o")])
    assert empty.exit_code == 1 and "no articles yet" in empty.stderr
    missing = runner.invoke(app, ["eval", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1 and "cannot read dataset" in missing.stderr


def test_a_sample_is_reproducible_distinct_and_in_dataset_order() -> None:
    questions = [_q(f"q{n}") for n in range(278)]
    first = sample_questions(questions, limit=None, sample=60, seed=7)
    again = sample_questions(questions, limit=None, sample=60, seed=7)
    other = sample_questions(questions, limit=None, sample=60, seed=8)
    ids = [q.id for q in first]
    assert ids == [q.id for q in again] and len(set(ids)) == 60
    assert ids != [q.id for q in other]
    assert ids == sorted(ids, key=lambda i: int(i[1:]))
    assert [q.id for q in sample_questions(questions, limit=3, sample=None, seed=0)] == [
        "q0",
        "q1",
        "q2",
    ]
    assert len(sample_questions(questions[:5], limit=None, sample=60, seed=0)) == 5


def test_limit_and_sample_together_are_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", str(SEED_GOLD), "--limit", "3", "--sample", "3", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1 and "--limit or --sample" in result.stderr


# --- the package boundary ----------------------------------------------------------------


def test_the_core_library_never_imports_the_eval_package() -> None:
    """rag.eval imports the core; nothing in rag/ outside rag/eval/ and the CLI imports it."""
    core = [
        path
        for path in (ROOT / "rag").rglob("*.py")
        if path.relative_to(ROOT / "rag").parts[0] not in {"eval", "cli", "cli.py"}
    ]
    assert len(core) > 20
    offenders = []
    for path in core:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == "rag.eval" or n.startswith("rag.eval.") for n in names):
                offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []
