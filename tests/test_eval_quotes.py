"""``rag eval quotes``: the scorer on a hand-made gold, and the command on the committed set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT, require_shared
from typer.testing import CliRunner

from rag.cli import app
from rag.eval.quotes import baseline_quotes, score
from rag.quotes import Quote, extract_quotes

TEXT = (
    'Mayor Ana Lopes said the bridge would close in March. "It is the only safe option," '
    'she said. The so-called "smart" lights stay. Council leader Tom Reed told reporters the '
    "works were overdue."
)


@dataclass
class G:
    article_id: str
    text: str
    kind: str
    identified_by: str
    speaker: str
    optional: bool = False
    anonymous: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.speaker,)


def find(quote: str, text: str) -> tuple[int, int] | None:
    at = text.find(quote)
    return None if at < 0 else (at, at + len(quote))


GOLD = [
    G("a", "the bridge would close in March", "indirect", "name", "Ana Lopes"),
    G("a", "It is the only safe option,", "direct", "pronoun", "Ana Lopes"),
    G("a", "the works were overdue", "indirect", "name", "Tom Reed"),
]


def test_scores_count_recall_precision_and_attribution() -> None:
    got = score("rules", GOLD, {"a": TEXT}, {"a": extract_quotes("a", TEXT)}, find)
    assert (got.recall["direct"].hits, got.recall["direct"].n) == (1, 1)
    assert (got.recall["indirect"].hits, got.recall["indirect"].n) == (2, 2)
    assert got.precision.value == 1.0
    assert got.attribution["pronoun"].value == 1.0
    assert got.attribution["all"].value == 1.0


def test_a_wrong_speaker_a_miss_and_a_false_quote_count_against() -> None:
    at = TEXT.index("It is")
    wrong = Quote("a", TEXT[at : at + 26], at, at + 26, "direct", "said", "Tom Reed")
    scare = Quote("a", "smart", TEXT.index("smart"), TEXT.index("smart") + 5, "direct", "", "X")
    got = score("made up", GOLD, {"a": TEXT}, {"a": [wrong, scare]}, find)
    assert got.recall["indirect"].value == 0.0
    assert got.recall["direct"].value == 1.0
    assert got.attribution["all"].value == 0.0
    assert (got.precision.hits, got.precision.n) == (1, 2)


def test_baseline_takes_every_quoted_span() -> None:
    texts = [q.text for q in baseline_quotes("a", TEXT)]
    assert "smart" in texts and "It is the only safe option," in texts


def test_rag_eval_quotes_reports_rules_beside_the_baseline() -> None:
    bbc = require_shared("data", "bbc", "bbc_news.jsonl")
    result = CliRunner().invoke(
        app,
        [
            "eval", "quotes", str(ROOT / "eval" / "quotes-gold.jsonl"),
            "--corpus", str(bbc), "--corpus", str(ROOT / "seeds"), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    rules, baseline = report["systems"]
    assert rules["system"] == "rules" and "baseline" in baseline["system"]
    assert report["articles"] >= 26
    for system in (rules, baseline):
        assert system["unlocated"] == 0
        assert system["recall"]["direct"]["n"] == system["recall"]["direct"]["n"] > 0
    # the extractor must beat the baseline where the baseline is weakest
    assert rules["attribution"]["all"]["value"] > baseline["attribution"]["all"]["value"]
    assert rules["recall"]["indirect"]["value"] > baseline["recall"]["indirect"]["value"]


def test_missing_corpus_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["eval", "quotes", str(ROOT / "eval" / "quotes-gold.jsonl"), "--corpus", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
