"""Questions about what someone said are answered from the quote index: every relevant
quote, verbatim, with its speaker and a citation each."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.engine import Asker, LLMAnswerer
from rag.llm import ScriptedChat
from rag.quotes.answer import SpeakerQuestion, speaker_question
from rag.settings import Settings
from rag.store import ChunkStore
from rag.types import Reply

runner = CliRunner()


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("What did the Kremlin say?", SpeakerQuestion("the Kremlin")),
        ("What did Lavrov say about the election?", SpeakerQuestion("Lavrov", "the election")),
        ("How did the Kremlin respond?", SpeakerQuestion("the Kremlin")),
        ("How did Peskov react to the claims?", SpeakerQuestion("Peskov", "the claims")),
        ("What was Erdogan's reaction?", SpeakerQuestion("Erdogan")),
        ("What has Dmitry Peskov said on Turkey", SpeakerQuestion("Dmitry Peskov", "Turkey")),
        ("what does the BSA think about piracy?", SpeakerQuestion("the BSA", "piracy")),
        (
            "What did Dmitry Peskov say about the Americans? (Kremlin)",
            SpeakerQuestion("Dmitry Peskov", "the Americans"),
        ),
    ],
)
def test_questions_about_what_someone_said(question: str, asked: SpeakerQuestion) -> None:
    assert speaker_question(question) == asked


@pytest.mark.parametrize(
    "question",
    ["Who withdrew from the race?", "What was the final vote count?", "What did it say?",
     "When is the election?", "What happened in Turkey?"],
)  # fmt: skip
def test_other_questions_are_not_about_a_speaker(question: str) -> None:
    assert speaker_question(question) is None


def ask_json(*args: str) -> dict:
    result = runner.invoke(app, ["ask", "--json", *args])
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def ingest_text(tmp_path: Path, text: str) -> None:
    """Ingest one article written as text (headline, blank line, paragraphs)."""
    article = tmp_path / "article.txt"
    article.write_text(text)
    assert runner.invoke(app, ["ingest", str(article)]).exit_code == 0


@pytest.fixture
def seeded(seed_path: Path) -> str:
    assert runner.invoke(app, ["ingest", str(seed_path)]).exit_code == 0
    [article] = ChunkStore.open(Settings.load()).articles()
    return article.article_id


def lines_with_citations(answer: str) -> list[str]:
    return [line for line in answer.splitlines() if re.search(r"\[\d+\]", line)]


def test_what_did_the_kremlin_say_gives_peskov_verbatim_and_cited(seeded: str) -> None:
    out = ask_json("What did the Kremlin say?")
    assert not out["refused"]
    lines = lines_with_citations(out["answer"])
    assert len(lines) >= 6
    text = ChunkStore.open(Settings.load()).article_text(seeded)
    for line in lines:
        assert line.startswith(("Dmitry Peskov", "According to Dmitry Peskov, "))
        for quoted in re.findall(r'"([^"]+)"', line):
            assert quoted in text  # verbatim
    for citation in out["citations"]:
        assert citation["quotes"] == [
            {"speaker": "Dmitry Peskov", "kind": citation["quotes"][0]["kind"]}
        ]
        assert text[citation["start"] : citation["end"]] == citation["passage"]
    answer = out["answer"]
    for said in ("values bilateral relations", "should recall what the Americans have done",
                 "tens of millions of dollars", "there is no interference"):  # fmt: skip
        assert said in answer


def test_a_partial_quote_keeps_the_words_its_clause_gives_it(seeded: str) -> None:
    """'according to the spokesman, Russia "very, very much values ..."' is not rendered as
    if Peskov had said 'very, very much values ...' on its own."""
    answer = ask_json("What did the Kremlin say?")["answer"]
    assert 'According to Dmitry Peskov, Russia "very, very much values bilateral' in answer
    assert 'According to Dmitry Peskov, Kilicdaroglu "should recall what the Americans' in answer
    assert 'said: "very, very much' not in answer


def test_a_partial_quote_after_its_cue_verb_reads_from_the_verb(tmp_path: Path) -> None:
    ingest_text(
        tmp_path,
        "Harbour plan criticised\n\n"
        'The opposition leader, Rosa Hale, called the harbour plan "a costly farce" on Monday.\n',
    )
    answer = ask_json("What did Rosa Hale say?")["answer"]
    assert 'Rosa Hale (opposition leader) called the harbour plan "a costly farce" [1]' in answer


def test_what_did_lavrov_say_gives_lavrov(seeded: str) -> None:
    out = ask_json("What did Lavrov say?")
    lines = lines_with_citations(out["answer"])
    assert lines and all(line.startswith("Sergey Lavrov") for line in lines)
    assert "never interferes in the domestic affairs" in out["answer"]
    assert "Peskov" not in out["answer"]


def test_topic_keeps_the_relevant_quotes_most_relevant_first(seeded: str) -> None:
    out = ask_json("What did Peskov say about the Americans?")
    lines = lines_with_citations(out["answer"])
    assert "should recall what the Americans have done" in lines[0]
    assert len(lines) < 6


def test_unknown_speaker_falls_back_to_retrieval(seeded: str) -> None:
    out = ask_json("What did Angela Merkel say?")
    assert all("quotes" not in c for c in out["citations"])


def test_a_model_gets_the_quotes_as_numbered_sources(seeded: str) -> None:
    model = ScriptedChat()
    asker = Asker(Settings.load())
    asker.answerer = LLMAnswerer(model)
    model.enqueue('Peskov said "there is no interference" [2] and "liars" [2].')
    answer = asker.ask("What did the Kremlin say?")
    assert [c.n for c in answer.citations] == [1]
    assert answer.citations[0].passage.quotes[0]["speaker"] == "Dmitry Peskov"
    _, user = model.calls[0]
    assert "(quote of Dmitry Peskov)" in user["content"]


def test_an_answerers_notes_reach_a_quote_answer(seeded: str) -> None:
    class Noting:
        name = "noting"

        def respond(self, question: str, passages: list, as_of: date, on_token: object) -> Reply:
            return Reply("Peskov said there is no interference. [1]", ("a note for the reader",))

    asker = Asker(Settings.load())
    asker.answerer = Noting()
    answer = asker.ask("What did the Kremlin say?")
    assert answer.citations and answer.citations[0].passage.quotes  # answered from quotes
    assert "a note for the reader" in answer.warnings


def test_a_speaker_named_only_outside_the_quote_is_grounded(tmp_path: Path) -> None:
    """The model names the speaker the quote's headline gave it; the passage itself says only
    "she said", and the answer is kept, not left out as naming someone no source names."""
    ingest_text(
        tmp_path,
        "New bridge opens to traffic\n\n"
        "The harbour minister, Ana Lind, opened the bridge on Monday after two years of work.\n\n"
        "Crowds lined the quay for the ceremony.\n\n"
        '"It will carry twenty thousand cars a day," she told reporters.\n',
    )
    model = ScriptedChat()
    asker = Asker(Settings.load())
    asker.answerer = LLMAnswerer(model)
    model.enqueue('The minister, Ana Lind, said it "will carry twenty thousand cars a day" [1].')
    answer = asker.ask("What did Lind say?")
    assert not answer.refused, answer.warnings
    assert answer.answer.startswith("The minister, Ana Lind, said")
    assert not any(w.startswith("left out") for w in answer.warnings)


def test_a_reported_sentence_with_its_cue_inside_is_given_as_written(tmp_path: Path) -> None:
    ingest_text(
        tmp_path,
        "Harbor bridge reopens\n\n"
        "Deputy Mayor Ana Ruiz opened the bridge on Monday.\n\n"
        "Cyclists will get a protected lane by summer, Ruiz said, and the old toll booth "
        "will become a bus shelter.\n",
    )
    answer = ask_json("What did Ruiz say?")["answer"]
    assert (
        "Ana Ruiz (Deputy Mayor): Cyclists will get a protected lane by summer, Ruiz said, "
        "and the old toll booth will become a bus shelter. [1]"
    ) in answer, answer


def test_reported_speech_is_reworded_only_where_no_word_is_lost(tmp_path: Path) -> None:
    """ "Name said …" in the article's words from the cue on, only when the sentence goes
    from its cue straight to what was said; whom it was told to, or a cue after what was
    said, keeps the sentence as written (it was "Lind told that she believed …", "Lind said
    that Instead …"), and no "that" is put in ("vowed that to reopen")."""
    ingest_text(
        tmp_path,
        "Harbour bridge reopens\n\n"
        "Ana Lind, the harbour minister, opened the bridge on Monday.\n\n"
        "Ms Lind told the audience she believed the bridge would carry twenty thousand cars "
        "a day.\n\n"
        "Instead the ferry will stop running in May, she said.\n\n"
        "Ms Lind said the toll would be dropped next year.\n\n"
        "Ms Lind vowed to reopen the old ferry pier.\n",
    )
    lines = ask_json("What did Lind say?")["answer"].splitlines()
    assert any(
        line.startswith("Ana Lind")
        and ": Ms Lind told the audience she believed the bridge would carry" in line
        for line in lines
    ), lines
    assert any(
        ": Instead the ferry will stop running in May, she said. [" in line for line in lines
    ), lines
    assert any(" said the toll would be dropped next year. [" in line for line in lines), lines
    assert any(" vowed to reopen the old ferry pier. [" in line for line in lines), lines
    assert not any("told that" in line or "that Instead" in line for line in lines), lines


def test_a_relative_clause_is_no_descriptor(tmp_path: Path) -> None:
    ingest_text(
        tmp_path,
        "Harbour bridge reopens\n\n"
        'The plan was rejected by Mr Blake, who said: "We have nothing to add to it."\n',
    )
    answer = ask_json("What did Blake say?")["answer"]
    assert "We have nothing to add to it." in answer, answer
    assert "(who)" not in answer, answer


def test_a_descriptor_says_who_someone_is_not_what_they_did(tmp_path: Path) -> None:
    """A phrase before the name that says what they did or when is no descriptor (it gave
    "Blake (Speaking to the BBC News website)", "Lind (During the interview)")."""
    ingest_text(
        tmp_path,
        "Harbour bridge reopens\n\n"
        "Speaking to the BBC News website Mr Blake said the bridge would carry twenty "
        "thousand cars a day.\n\n"
        "During the interview Ms Lind said the toll would go.\n\n"
        "Harbour manager Tom Reed said the ferry would stop in May.\n",
    )
    blake = ask_json("What did Blake say?")["answer"]
    assert blake.startswith("Blake said the bridge would carry"), blake
    lind = ask_json("What did Lind say?")["answer"]
    assert lind.startswith("Lind said the toll would go."), lind
    reed = ask_json("What did Reed say?")["answer"]
    assert reed.startswith("Tom Reed (Harbour manager) said the ferry"), reed


def test_a_courtesy_title_starts_the_speakers_name(tmp_path: Path) -> None:
    """ "Speaking in Harrogate Mr Kennedy said" is Charles Kennedy speaking (it was a speaker
    called "Harrogate Mr Kennedy")."""
    ingest_text(
        tmp_path,
        "Kennedy rallies party\n\n"
        "Charles Kennedy opened the spring conference on Friday.\n\n"
        "Speaking in Harrogate Mr Kennedy said the party would fight every seat.\n",
    )
    answer = ask_json("What did Kennedy say?")["answer"]
    assert answer.startswith("Charles Kennedy said the party would fight every seat."), answer


def test_they_is_not_the_last_man_who_spoke(tmp_path: Path) -> None:
    """ "They also pointed out …" after analysts were quoted is not John Snow's: "they" was
    given to the last speaker, a man (nine such quotes in the BBC corpus)."""
    ingest_text(
        tmp_path,
        "Dollar steadies\n\n"
        "Treasury Secretary John Snow said a strong dollar was in America's interest.\n\n"
        "But analysts said any gains were likely to be short-lived. They also pointed out "
        "that the administration had done little to stop the slide.\n",
    )
    answer = ask_json("What did John Snow say?")["answer"]
    assert "a strong dollar was in America's interest" in answer, answer
    assert "done little to stop the slide" not in answer, answer


def test_the_same_words_in_two_articles_are_one_line_citing_both(tmp_path: Path) -> None:
    """A story run twice (the BBC corpus has many) gave the same line twice in a row."""
    said = "Olav Berg said the budget would be set on 16 March.\n"
    (tmp_path / "one.txt").write_text(f"Budget date set\n\n{said}\nMarkets were calm.\n")
    (tmp_path / "two.txt").write_text(f"Berg names the day\n\n{said}\nUnions were wary.\n")
    assert runner.invoke(app, ["ingest", str(tmp_path)]).exit_code == 0
    out = ask_json("What did Olav Berg say?")
    lines = lines_with_citations(out["answer"])
    assert lines == ["Olav Berg said the budget would be set on 16 March. [1][2]"], out["answer"]
    assert len({c["article_id"] for c in out["citations"]}) == 2


def test_the_same_quote_in_two_wordings_of_its_sentence_is_one_line(tmp_path: Path) -> None:
    """Two outlets quote the same words and place the cue apart ('Berg said: "..."' and
    '"...," Berg said'): the sentences differ and the quote lost its full stop, but the
    reader would see the same line twice (newsqa: Biden's "best path that remains ...")."""
    (tmp_path / "one.txt").write_text(
        'Budget date set\n\nOlav Berg said: "The budget will be set on 16 March."\n'
    )
    (tmp_path / "two.txt").write_text(
        'Berg names the day\n\n"The budget will be set on 16 March," Olav Berg said.\n'
    )
    assert runner.invoke(app, ["ingest", str(tmp_path)]).exit_code == 0
    out = ask_json("What did Olav Berg say?")
    lines = lines_with_citations(out["answer"])
    assert len(lines) == 1 and lines[0].endswith("[1][2]"), out["answer"]
    assert "The budget will be set on 16 March" in lines[0]
    assert len({c["article_id"] for c in out["citations"]}) == 2


def test_what_is_said_in_a_clause_that_opens_with_as_ends_with_it(tmp_path: Path) -> None:
    """ "As Mr Brown announced the Budget date in a short ministerial statement, accountancy
    firm Ernst & Young urged him ..." is not Brown's from "the Budget date" to the end."""
    ingest_text(
        tmp_path,
        "Budget date set\n\n"
        "As Olav Berg announced the budget date in a short statement, the accountancy firm "
        "Hale and Crane urged him to put politics aside.\n",
    )
    answer = ask_json("What did Olav Berg say?")["answer"]
    assert answer == "Olav Berg announced the budget date in a short statement [1]", answer
