"""The extractive answerer: the sentence that holds the answer, and refusing when none does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answerability import Model, load_models
from rag.bm25 import BM25Index, Row, Vocab, tokenize_words
from rag.cli import app
from rag.engine import Asker
from rag.extractive import ExtractiveAnswerer, attributed_statements
from rag.settings import Settings
from rag.types import Passage

REFUSAL = "The articles don't say."

KRISPY = [
    (
        "Krispy Kreme shares fall after restatement",
        "Krispy Kreme shares fell sharply on Friday after the doughnut maker said it would "
        "restate its results. The fall in Krispy Kreme shares came as investors worried "
        "about the restatement. Shares in the company dropped 14.87% to $8.20 in New York "
        "trading. Krispy Kreme shares have been weak all year, analysts said.",
    ),
    (
        "Doughnut chains expand",
        "Doughnut chains opened 200 new shops last year. Krispy Kreme opened many of them.",
    ),
]


def passages(articles: list[tuple[str, str]]) -> list[Passage]:
    return [
        Passage(chunk_id=f"a{i}#0", article_id=f"a{i}", text=text, title=title)
        for i, (title, text) in enumerate(articles)
    ]


def index_of(shown: list[Passage]) -> BM25Index:
    vocab = Vocab()
    texts = tokenize_words([f"{p.title}\n{p.text}" for p in shown])
    rows = [
        Row(p.chunk_id, p.article_id, 0, "", vocab.encode(t))
        for p, t in zip(shown, texts, strict=True)
    ]
    return BM25Index.from_rows("r", rows, vocab)


def answering(shown: list[Passage]) -> ExtractiveAnswerer:
    """The packaged sentence model, and an answerability model that always answers."""
    always = Model((), (), 0.0, (), (), threshold=0.0)
    return ExtractiveAnswerer(index_of(shown), models=(load_models()[0], always))


def test_how_much_picks_the_sentence_holding_the_number() -> None:
    shown = passages(KRISPY)
    reading = ExtractiveAnswerer(index_of(shown)).read(
        "How much did Krispy Kreme shares fall?", shown
    )
    assert "14.87%" in reading.candidates[0].text, [c.text for c in reading.candidates[:3]]
    answer = answering(shown).answer("How much did Krispy Kreme shares fall?", shown, REFUSAL)
    assert answer.startswith("Shares in the company dropped 14.87%"), answer


def test_a_question_about_speaking_reads_like_one_about_telling() -> None:
    """News says someone "told reporters"; the question asks when they "spoke" to them. The
    verb is how the question asks, like "say" and "tell", not a term the article must hold."""
    shown = passages(
        [
            (
                "Harbour plan approved",
                "The city council approved the harbour plan on Tuesday after a long debate. "
                '"We have listened to the fishermen and the plan is better for it," mayor Ana '
                "Ruiz told reporters on Wednesday. Work on the new quay will start in the "
                "spring, the council said.",
            )
        ]
    )
    answerer = ExtractiveAnswerer(index_of(shown))
    told = answerer.answer(
        "When did the mayor tell reporters about the harbour plan?", shown, REFUSAL
    )
    spoke = answerer.answer(
        "When did the mayor speak to reporters about the harbour plan?", shown, REFUSAL
    )
    assert "told reporters on Wednesday" in told, told
    assert spoke == told


def test_sentences_are_quoted_whole_and_cited() -> None:
    shown = passages(KRISPY)
    answer = answering(shown).answer("How much did Krispy Kreme shares fall?", shown, REFUSAL)
    for part in answer.split(" [")[1:]:
        assert part[0].isdigit()
    assert "Shares in the company dropped 14.87% to $8.20 in New York trading." in answer


def test_a_question_in_the_articles_is_never_the_answer() -> None:
    """A news quiz asks the reader's very question; the article that answers it comes second."""
    question = "Which English county were the Knights Templar graves found in?"
    shown = passages(
        [
            (
                "The week's news quiz",
                "1. Which English county were the Knights Templar graves found in? "
                "2. Which team won the cup on Saturday?",
            ),
            (
                "Templar graves rediscovered",
                "Graves believed to belong to Knights Templar were found in a church in "
                "Staffordshire, archaeologists said on Monday.",
            ),
        ]
    )
    reading = answering(shown).read(question, shown)
    assert all(not c.text.rstrip().endswith("?") for c in reading.candidates)
    answer = answering(shown).answer(question, shown, REFUSAL)
    assert "Staffordshire" in answer and "[2]" in answer, answer


def test_no_name_answers_who_won_from_passages_where_nobody_wins() -> None:
    """Before a vote, an article names the candidates but nobody who won: no sentence of it
    offers an answer to "Who won ...?"; after the vote, the sentence that says who won does."""
    before = passages(
        [
            (
                "Port Ardent votes on Sunday",
                "Mayor Jane Okafor leads the council election race, according to polls. Her "
                "rival, Tom Reyes, said the council election was the most important in decades.",
            )
        ]
    )
    reading = answering(before).read("Who won the council election?", before)
    assert not any(c.features["typed"] for c in reading.candidates)
    after = passages(
        [("Okafor re-elected", "Jane Okafor won the council election on Sunday, officials said.")]
    )
    reading = answering(after).read("Who won the council election?", after)
    assert reading.candidates[0].features["typed"] == 1.0


def test_what_did_x_say_gathers_the_sentences_attributed_to_x() -> None:
    shown = passages(
        [
            (
                "Kremlin denies meddling",
                "The vote is on Sunday. Kremlin spokesman Dmitry Peskov said Russia does not "
                "interfere in the elections of other countries. Turnout is expected to be high.",
            )
        ]
    )
    found = attributed_statements("What did Peskov say?", "Peskov", shown)
    assert [shown[0].text[a:b] for _, a, b in found] == [
        "Kremlin spokesman Dmitry Peskov said Russia does not interfere in the elections of "
        "other countries."
    ]
    answer = answering(shown).answer("What did Peskov say?", shown, REFUSAL)
    assert answer.startswith("Kremlin spokesman Dmitry Peskov said"), answer


def test_the_models_are_read_without_scikit_learn() -> None:
    """scikit-learn fits the models (a dev dependency); rag reads them with a dot product."""
    script = (
        "import sys, rag.engine\n"
        "from rag.answerability import load_models\n"
        "sentence, answerable = load_models()\n"
        "assert 0 < answerable.threshold < 1 and sentence.features\n"
        "print('sklearn' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


runner = CliRunner()


@pytest.fixture
def seed_asker(seed_path: Path) -> Asker:
    assert runner.invoke(app, ["ingest", str(seed_path)]).exit_code == 0
    return Asker(Settings.load().replace(llm="extractive"))


def test_answerability_refuses_an_on_topic_question_the_article_does_not_answer(
    seed_asker: Asker,
) -> None:
    # about the article's people and events, asking what it never says (the first is
    # seed-u1 of eval/seed-gold.jsonl, which the models were fitted on; the others are not)
    for question in (
        "Who won the Turkish presidential election?",
        "How many votes did Muharrem Ince receive?",
        "When was Dmitry Peskov born?",
        "Who replaced Muharrem Ince on the ballot?",
    ):
        answer = seed_asker.ask(question)
        assert answer.refused, (question, answer.answer)


def test_answerability_answers_a_long_precise_question(seed_asker: Asker) -> None:
    answer = seed_asker.ask(
        "According to Kremlin spokesman Dmitry Peskov, speaking to reporters on Friday, how "
        "much did the Americans spend on their investigations into interference?"
    )
    assert not answer.refused
    assert "tens of millions of dollars" in answer.answer
