"""`rag chat`: the ChatSession library, piped stdin, and a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rag.chat import COMMANDS, ChatSession, history_text, run_piped
from rag.engine import Asker, LLMAnswerer
from rag.followup import (
    Turn,
    fallback_condense,
    looks_like_follow_up,
    names_in,
    plausible_rewrite,
    resolve_pronouns,
)
from rag.llm import ScriptedChat
from rag.retrieve import Filters, Searcher
from rag.settings import Settings
from rag.types import Answer

SEED_DIR = Path(__file__).resolve().parents[1] / "seeds"
RAG = Path(sys.executable).with_name("rag")
KREMLIN = "What did the Kremlin say?"
FOLLOW_UP = "What did he say about the Americans?"
AMERICANS = "should recall what the Americans have done"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the seed article ingested, shared by this module's tests."""
    from rag.ingest import ingest

    data = tmp_path_factory.mktemp("chat") / "data"
    report = ingest([str(SEED_DIR)], _settings(data))
    assert report.ok and report.added
    return data


@pytest.fixture(scope="module")
def searcher(seeded: Path) -> Searcher:
    """One opened searcher over the seeded store."""
    return Searcher(_settings(seeded)).open()


def _settings(data: Path, **flags: Any) -> Settings:
    return Settings.load(
        flags={"data_dir": data, **flags}, env={}, config_path=data / "no-config.toml"
    )


class RecordingView:
    """A ChatView that remembers what it was asked to show."""

    def __init__(self, stream: bool = False) -> None:
        self.stream = stream
        self.events: list[tuple[str, Any]] = []

    def searching(self, standalone: str) -> None:
        self.events.append(("searching", standalone))

    def token(self, piece: str) -> None:
        self.events.append(("token", piece))

    def answer(self, answer: Answer, streamed: bool) -> None:
        self.events.append(("answer", answer))

    def sources(self, answer: Answer) -> None:
        self.events.append(("sources", [c.n for c in answer.citations]))

    def info(self, text: str) -> None:
        self.events.append(("info", text))

    def error(self, text: str) -> None:
        self.events.append(("error", text))

    def last(self, kind: str) -> Any:
        """The payload of the newest event of a kind."""
        return next(p for k, p in reversed(self.events) if k == kind)

    def kinds(self) -> list[str]:
        """Event kinds, in order."""
        return [k for k, _ in self.events]


def _session(
    seeded: Path, searcher: Searcher, model: ScriptedChat | None = None, **kw: Any
) -> tuple[ChatSession, RecordingView]:
    settings = _settings(seeded, llm="extractive")
    asker = Asker(settings, searcher=searcher, answerer=LLMAnswerer(model) if model else None)
    view = RecordingView(stream=model is not None)
    return ChatSession(asker, view, **kw), view


# --- condensing follow-ups without a model ------------------------------------------------


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [
        (FOLLOW_UP, True),
        ("and the Americans?", True),
        ("What about Lavrov?", True),
        ("Why?", True),
        ("What did she say about her rival?", True),
        (KREMLIN, False),
        ("Who is Sergey Lavrov?", False),
        ("What did Erdogan say about his rival?", False),
        ("Is it true that Russia interfered in the election?", False),
        ("Kremlin denial of interference", False),
    ],
)
def test_looks_like_follow_up(question: str, follow_up: bool) -> None:
    assert looks_like_follow_up(question) is follow_up


def test_names_drop_titles_and_sentence_openers() -> None:
    text = (
        "Kremlin Spokesman Dmitry Peskov denied it. According to Peskov, the Americans "
        "erred, Russian Foreign Minister Sergey Lavrov said."
    )
    assert names_in(text) == ["Dmitry Peskov", "Peskov", "Americans", "Sergey Lavrov"]


def test_resolve_pronouns_keeps_expletive_it_and_marks_possessives() -> None:
    text = "What did he say about his rival and her? Is it true?"
    assert resolve_pronouns(text, "Peskov") == (
        "What did Peskov say about Peskov's rival and Peskov? Is it true?"
    )
    assert resolve_pronouns(text, None) == text


def test_follow_up_is_condensed_and_answered_in_context(seeded: Path, searcher: Searcher) -> None:
    session, view = _session(seeded, searcher)
    first = session.ask(KREMLIN)
    assert first is not None and first.standalone == KREMLIN
    assert "searching" not in view.kinds()
    turn = session.ask(FOLLOW_UP)
    assert turn is not None
    assert turn.standalone == "What did Dmitry Peskov say about the Americans? (Kremlin)"
    assert view.last("searching") == turn.standalone
    assert AMERICANS in turn.answer.answer
    assert turn.answer.question == FOLLOW_UP
    assert turn.answer.search_query == turn.standalone
    assert turn.answer.citations


def test_fragment_follow_up_reuses_the_previous_question(seeded: Path, searcher: Searcher) -> None:
    session, _ = _session(seeded, searcher)
    session.ask(KREMLIN)
    turn = session.ask("and the Americans?")
    assert turn is not None
    assert turn.standalone == "What did the Kremlin say about the Americans?"
    assert AMERICANS in turn.answer.answer


def test_standalone_question_is_not_rewritten(seeded: Path, searcher: Searcher) -> None:
    session, _ = _session(seeded, searcher)
    session.ask(KREMLIN)
    assert session.condense("What did Sergey Lavrov say?") == "What did Sergey Lavrov say?"


# --- condensing with a model --------------------------------------------------------------


def test_llm_condenses_with_the_prompt_and_history(seeded: Path, searcher: Searcher) -> None:
    model = ScriptedChat()
    model.enqueue("Peskov denied any interference. [1]", "What did Peskov say about the Americans?")
    session, view = _session(seeded, searcher, model)
    session.ask(KREMLIN)
    turn = session.ask(FOLLOW_UP)
    assert turn is not None and turn.standalone == "What did Peskov say about the Americans?"
    condense_prompt = model.calls[1][-1]["content"]
    assert f"User: {KREMLIN}" in condense_prompt
    assert "Assistant: Peskov denied any interference." in condense_prompt
    assert f"Last question: {FOLLOW_UP}" in condense_prompt
    assert view.last("searching") == turn.standalone
    assert "token" in view.kinds()  # LLM answers stream


def test_llm_echoing_the_question_falls_back(seeded: Path, searcher: Searcher) -> None:
    session, _ = _session(seeded, searcher, ScriptedChat())  # the twin echoes condense prompts
    session.ask(KREMLIN)
    turn = session.ask(FOLLOW_UP)
    assert turn is not None and turn.standalone != FOLLOW_UP
    assert "Peskov" in turn.standalone


def test_llm_rewrite_that_answers_instead_of_asking_falls_back(
    seeded: Path, searcher: Searcher
) -> None:
    # Qwen2.5-1.5B, asked to rewrite "How old is he?" after a turn about Ince, answered it
    # with an age the article never gives; searching that "question" would look for the claim
    model = ScriptedChat(["Muharrem Ince withdrew. [1]", "Muharrem Ince is 45 years old."])
    session, _ = _session(seeded, searcher, model)
    session.ask("Who withdrew from the race?")
    condensed = session.condense("How old is he?")
    assert condensed.startswith("How old is Muharrem Ince?") and "45" not in condensed
    assert plausible_rewrite("How old is Ince?", "How old is Muharrem Ince?")
    assert not plausible_rewrite("Why did he leave?", "He left because of a faked video.")


def test_a_question_that_stands_alone_is_not_rewritten(seeded: Path, searcher: Searcher) -> None:
    # Qwen2.5-1.5B rewrote this standalone question as "When did Russia withdraw its hand
    # from Turkey's elections?" and answered that Russia withdrew on May 15
    model = ScriptedChat(["Ince withdrew. [1]", "May 15 [1]"])
    session, view = _session(seeded, searcher, model)
    session.ask("Who withdrew from the race?")
    turn = session.ask("After which date must Russia withdraw its hand?")
    assert turn is not None and turn.standalone == "After which date must Russia withdraw its hand?"
    assert len(model.calls) == 2 and "searching" not in view.kinds()  # no rewrite asked for


def test_llm_rewrite_that_drops_the_question_falls_back(seeded: Path, searcher: Searcher) -> None:
    model = ScriptedChat(["Peskov denied it. [1]", "The sources only cited each sentence."])
    session, _ = _session(seeded, searcher, model)
    session.ask(KREMLIN)
    assert session.condense(FOLLOW_UP) == "What did Peskov say about the Americans? (Kremlin)"


def test_model_error_is_one_line_and_the_session_continues(
    seeded: Path, searcher: Searcher
) -> None:
    model = ScriptedChat(["!error cannot reach the LLM server: http://127.0.0.1:9"])
    session, view = _session(seeded, searcher, model)
    assert session.handle(KREMLIN) is True
    assert view.last("error") == "cannot reach the LLM server: http://127.0.0.1:9"
    assert session.failures == 1 and not session.turns
    assert session.ask(KREMLIN) is not None
    assert len(session.turns) == 1


def test_history_is_bounded(seeded: Path, searcher: Searcher) -> None:
    session, _ = _session(seeded, searcher, max_turns=2)
    for question in (KREMLIN, "What did Lavrov say?", "Who withdrew from the race?"):
        session.ask(question)
    assert [t.question for t in session.turns] == [
        "What did Lavrov say?",
        "Who withdrew from the race?",
    ]
    text = history_text(session.turns, budget=300)
    assert len(text) <= 300
    assert "Who withdrew from the race?" in text
    assert "[1]" not in text


def test_history_text_drops_the_oldest_turns_first(seeded: Path, searcher: Searcher) -> None:
    session, _ = _session(seeded, searcher)
    for question in (KREMLIN, "What did Lavrov say?"):
        session.ask(question)
    text = history_text(session.turns, budget=400)
    assert "What did Lavrov say?" in text and KREMLIN not in text


# --- slash commands -----------------------------------------------------------------------


def test_help_lists_every_command(seeded: Path, searcher: Searcher) -> None:
    session, view = _session(seeded, searcher)
    session.handle("/help")
    shown = "\n".join(p for k, p in view.events if k == "info")
    for usage in COMMANDS:
        assert usage in shown


@pytest.mark.parametrize("line", ["/exit", "/quit", "/EXIT"])
def test_exit_leaves(seeded: Path, searcher: Searcher, line: str) -> None:
    session, _ = _session(seeded, searcher)
    assert session.handle(line) is False


def test_unknown_command_gets_a_hint(seeded: Path, searcher: Searcher) -> None:
    session, view = _session(seeded, searcher)
    assert session.handle("/sorces") is True
    assert view.last("error") == (
        "unknown command /sorces (did you mean /sources?); /help lists the commands"
    )
    session.handle("/frobnicate")
    assert view.last("error") == "unknown command /frobnicate; /help lists the commands"


def test_sources_shows_all_or_one(seeded: Path, searcher: Searcher) -> None:
    session, view = _session(seeded, searcher)
    session.handle("/sources")
    assert view.last("error").startswith("no sources yet")
    session.ask(KREMLIN)
    session.handle("/sources")
    assert view.last("sources") == [c.n for c in session.turns[-1].answer.citations]
    session.handle("/sources 1")
    assert view.last("sources") == [1]
    session.handle("/sources [1]")
    assert view.last("sources") == [1]
    for bad in ("/sources 42", "/sources x"):  # the Kremlin answer cites 9 quotes
        session.handle(bad)
        assert view.last("error").startswith("usage: /sources [n]")


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("/since 2023-05-01", "since 2023-05-01"),
        ("/until 2023-05-31", "until 2023-05-31"),
        ("/source Reuters", "source Reuters"),
    ],
)
def test_filter_commands_set_filters(
    seeded: Path, searcher: Searcher, line: str, expect: str
) -> None:
    session, view = _session(seeded, searcher)
    session.handle(line)
    assert view.last("info") == f"filters: {expect}"
    session.handle(line.split()[0] + " off")
    assert session.filters == Filters()


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("/since", "usage: /since YYYY-MM-DD"),
        ("/since 12/05/2023", "bad /since date '12/05/2023': use YYYY-MM-DD"),
        ("/until 2023-13-01", "bad /until date '2023-13-01': use YYYY-MM-DD"),
        ("/source", "usage: /source OUTLET"),
        ("/as-of", "usage: /as-of YYYY-MM-DD"),
        ("/as-of soon", "bad /as-of date 'soon': use YYYY-MM-DD"),
        ("/filters everything", "usage: /filters or /filters clear"),
        ("/k", "usage: /k N"),
        ("/k 0", "usage: /k N"),
        ("/k many", "usage: /k N"),
        ("/save", "usage: /save FILE.md"),
        ("/llm gpt-17", "unknown --llm 'gpt-17'"),
    ],
)
def test_bad_arguments_get_a_one_line_hint(
    seeded: Path, searcher: Searcher, line: str, hint: str
) -> None:
    session, view = _session(seeded, searcher)
    assert session.handle(line) is True
    error = view.last("error")
    assert error.startswith(hint) and "\n" not in error
    assert session.filters == Filters() and session.as_of is None and session.k is None


def test_filters_reach_retrieval_and_clear(seeded: Path, searcher: Searcher) -> None:
    session, view = _session(seeded, searcher)
    session.handle("/source cnn")  # the seed article has no outlet
    turn = session.ask(KREMLIN)
    assert turn is not None and turn.answer.refused and not turn.answer.citations
    session.handle("/filters")
    assert view.last("info") == "filters: source cnn · as of today · k 5 · llm extractive"
    session.handle("/filters clear")
    assert session.filters == Filters()
    turn = session.ask(KREMLIN)
    assert turn is not None and turn.answer.citations


def test_as_of_and_k(seeded: Path, searcher: Searcher) -> None:
    session, view = _session(seeded, searcher)
    session.handle("/as-of 2023-05-14")
    assert session.as_of == date(2023, 5, 14)
    session.handle("/k 2")
    assert session.k == 2
    turn = session.ask(KREMLIN)
    assert turn is not None and turn.answer.as_of == "2023-05-14"
    session.handle("/filters")
    assert "as of 2023-05-14 · k 2" in view.last("info")
    session.handle("/as-of off")
    assert session.as_of is None


def test_llm_command_switches_the_answerer(seeded: Path, searcher: Searcher) -> None:
    session, view = _session(seeded, searcher)
    session.handle("/llm")
    assert view.last("info").startswith("llm extractive")
    session.handle("/llm scripted")
    assert session.llm == "scripted" and session.model is not None
    turn = session.ask(KREMLIN)
    assert turn is not None and turn.answer.llm == "scripted"
    session.handle("/llm extractive")
    assert session.model is None


def test_new_forgets_the_conversation_but_keeps_filters(seeded: Path, searcher: Searcher) -> None:
    session, _ = _session(seeded, searcher)
    session.handle("/since 2000-01-01")
    session.ask(KREMLIN)
    session.handle("/new")
    assert not session.turns and session.filters.since == date(2000, 1, 1)
    assert session.condense(FOLLOW_UP) == FOLLOW_UP


def test_save_writes_markdown_with_sources(
    seeded: Path, searcher: Searcher, tmp_path: Path
) -> None:
    session, view = _session(seeded, searcher)
    target = tmp_path / "chat.md"
    session.handle(f"/save {target}")
    assert view.last("error") == "nothing to save yet"
    session.ask(KREMLIN)
    session.ask(FOLLOW_UP)
    session.handle(f"/save {target}")
    assert view.last("info") == f"saved 2 turn(s) to {target}"
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# rag chat\n")
    assert f"## {KREMLIN}" in text and f"## {FOLLOW_UP}" in text
    assert "*Searched as: What did Dmitry Peskov say about the Americans? (Kremlin)*" in text
    assert "**Sources**" in text
    assert "[1] unknown outlet · undated · Erdogan's rival accuses Russia" in text
    assert '> According to Peskov, Kilicdaroglu "**should recall' in text  # span in bold
    session.handle(f"/save {tmp_path / 'missing' / 'chat.md'}")
    assert view.last("error").startswith("cannot write")


def test_run_piped_counts_failures_and_stops_at_exit(seeded: Path, searcher: Searcher) -> None:
    session, view = _session(seeded, searcher, ScriptedChat(["!error the LLM timed out"]))
    failures = run_piped(session, [KREMLIN + "\n", "\n", "/k 3\n", "/exit\n", KREMLIN + "\n"])
    assert failures == 1
    assert [p for k, p in view.events if k == "info" and p.startswith(">")] == [
        f"> {KREMLIN}",
        "> /k 3",
        "> /exit",
    ]


def test_fallback_without_a_name_keeps_the_pronoun(seeded: Path, searcher: Searcher) -> None:
    session, _ = _session(seeded, searcher)
    turn = session.ask("Who withdrew from the race?")
    assert turn is not None
    turn.answer.answer, turn.answer.refused = "The articles don't say.", True
    turn.standalone = "who withdrew from the race?"
    assert fallback_condense("Why did they do that?", turn) == (
        "Why did they do that? (withdrew race)"
    )


# --- the command, through piped stdin and a pseudo-terminal --------------------------------


def _run_chat(seeded: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAG_DATA_DIR": str(seeded)}
    return subprocess.run(
        [str(RAG), "chat", *args],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


SCRIPT = [
    KREMLIN,
    FOLLOW_UP,
    "/sources",
    "/source cnn",
    "/bogus",
    "/exit",
    "What did Lavrov say?",
]


def test_cli_piped_with_the_extractive_answerer(seeded: Path) -> None:
    result = _run_chat(seeded, SCRIPT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "extractive answer" in result.stderr
    assert f"> {KREMLIN}" in out and "Dmitry Peskov (Kremlin Spokesman) denied" in out
    assert "searching: What did Dmitry Peskov say about the Americans? (Kremlin)" in out
    assert AMERICANS in out
    assert "[1] unknown outlet · undated · Erdogan's rival accuses Russia" in out
    sources = out.split("> /sources", 1)[1].split("> /source cnn", 1)[0]
    assert "tens of millions of dollars" in sources  # the full passage
    assert "filters: source cnn" in out
    assert "error: unknown command /bogus; /help lists the commands" in out
    assert "Lavrov" not in out.split("> /exit", 1)[1]
    assert "Traceback" not in out + result.stderr


def test_cli_piped_with_the_scripted_model(seeded: Path, tmp_path: Path) -> None:
    replies = tmp_path / "replies.json"
    replies.write_text(
        json.dumps(
            [
                "Kremlin spokesman Dmitry Peskov denied any interference. [1]",
                "!error cannot reach the LLM server: http://127.0.0.1:9/v1",
                "What did Dmitry Peskov say about the Americans?",
                'Peskov said Kilicdaroglu "should recall what the Americans have done." [1]',
            ]
        ),
        encoding="utf-8",
    )
    lines = [KREMLIN, FOLLOW_UP, FOLLOW_UP, "/sources 1", "/since 2023-05-01", "/bogus", "/exit"]
    result = _run_chat(seeded, lines, "--llm", f"scripted:{replies}")
    out = result.stdout
    assert result.returncode == 1, out  # one answer failed; the session went on
    assert "Peskov denied any interference. [1]" in out
    assert "error: cannot reach the LLM server: http://127.0.0.1:9/v1" in out
    assert "searching: What did Dmitry Peskov say about the Americans?" in out
    assert f'"{AMERICANS}." [1]' in out
    assert out.count("[1] unknown outlet · undated · Erdogan's rival") >= 3
    assert "filters: since 2023-05-01" in out
    assert "error: unknown command /bogus" in out
    assert "Traceback" not in out + result.stderr


def test_cli_in_a_pseudo_terminal(seeded: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "RAG_DATA_DIR": str(seeded), "TERM": "dumb"}
    child = pexpect.spawn(
        str(RAG), ["chat"], env=env, encoding="utf-8", timeout=120, dimensions=(40, 160)
    )
    try:
        child.expect("/help for commands")
        child.expect("› ")
        child.sendline(KREMLIN)
        child.expect(r"\[1\] unknown outlet · undated · Erdogan")
        child.expect("› ")
        child.sendline(FOLLOW_UP)
        child.expect("searching: What did Dmitry Peskov say about the Americans")
        child.expect(r"recall\s+what\s+the\s+Americans\s+have\s+done")  # the terminal wraps lines
        child.expect("› ")
        child.send("a line I regret")
        child.sendintr()  # Ctrl-C clears the line and keeps the session
        child.expect("› ")
        child.sendline("/sources")
        child.expect("tens of millions of dollars")
        child.expect("› ")
        child.sendline("/exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    history = (seeded / "chat_history").read_text(encoding="utf-8")
    assert FOLLOW_UP in history and "a line I regret" not in history


# --- a conversation over other articles (invented fixtures, not the seed) ---------------

CHAT_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "chat"


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Asker:
    """An Asker over three invented articles (glacier, chess, tram) and the seed."""
    from rag.ingest import ingest

    data = tmp_path_factory.mktemp("newsroom") / "data"
    settings = _settings(data, llm="extractive")
    report = ingest([str(CHAT_FIXTURES), str(SEED_DIR)], settings)
    assert report.ok and len(report.added) == 4
    return Asker(settings)


def _article_ids(asker: Asker) -> dict[str, str]:
    """Fixture file stem -> article id."""
    assert asker.searcher.store is not None
    return {Path(a.path).stem: a.article_id for a in asker.searcher.store.articles()}


def test_a_conversation_across_other_articles_follows_each_new_subject(newsroom: Asker) -> None:
    ids = _article_ids(newsroom)
    view = RecordingView()
    session = ChatSession(newsroom, view)
    turns = [
        # (question, words the searched question must hold, article cited, words in the answer)
        ("What did glaciologist Amira Qadir report?", None, "brekke-glacier", "18 metres"),
        ("What did she warn about?", "Amira Qadir warn", "brekke-glacier", "hydro plant"),
        ("Who won the national chess championship?", None, "chess-final", "Tomas Lindqvist"),
        ("Who did he beat?", "Who did Tomas Lindqvist beat", "chess-final", "Ingrid Bakke"),
    ]
    for question, searched, article, fact in turns:
        turn = session.ask(question)
        assert turn is not None, view.events[-1]
        if searched is None:
            assert turn.standalone == question
        else:
            assert searched in turn.standalone and " she " not in f" {turn.standalone} "
            assert view.last("searching") == turn.standalone
        assert fact in turn.answer.answer, (question, turn.answer.answer)
        assert {c.passage.article_id for c in turn.answer.citations} == {ids[article]}
    assert session.failures == 0 and len(session.turns) == 4


def _follow_up(question: str, answer: str, follow_up: str) -> str:
    """The model-less rewrite of ``follow_up`` after an extractive answer to ``question``."""
    turn = Turn(question, question, Answer(question, answer, refused=False, llm="extractive"))
    return fallback_condense(follow_up, turn)


def test_she_after_a_city_and_a_mayor_means_the_mayor() -> None:
    """Without a model, 'she' once became the first name in the answer's first sentence, here
    the city ('Harbourton's city council ... Mayor Hana Sorensen said')."""
    standalone = _follow_up(
        "What did Mayor Hana Sorensen say about the tram line?",
        "Harbourton's city council approved a 12-kilometre tram line linking the harbour "
        "to the university on Monday, Mayor Hana Sorensen said. [1]",
        "What did she say about construction?",
    )
    assert "Hana Sorensen" in standalone and "Harbourton" not in standalone


@pytest.mark.parametrize(
    ("question", "answer", "follow_up", "standalone"),
    [
        # no "about" to replace: the name asked after gives way to the new one
        ("How old is Hana Sorensen?", "Sorensen is 52. [1]", "What about Piet Lund?",
         "How old is Piet Lund?"),
        ("What did Sorensen call the critics?", "She called them cynics. [1]",
         "And what about Lund?", "What did Lund call the critics?"),
        # what the question was about gives way to the topic
        ("What did Sorensen say about the tram?", "She said it opens in 2027. [1]",
         "and the ferry?", "What did Sorensen say about the ferry?"),
    ],
)  # fmt: skip
def test_what_about_a_name_asks_the_question_of_that_name(
    question: str, answer: str, follow_up: str, standalone: str
) -> None:
    assert _follow_up(question, answer, follow_up) == standalone


@pytest.mark.parametrize(
    ("follow_up", "standalone"),
    [
        ("What about 2018?", "How much did house prices rise in 2018?"),
        ("And in 2005?", "How much did house prices rise in 2005?"),
        ("And in March 2005?", "How much did house prices rise in March 2005?"),
        ("How about in Scotland?", "How much did house prices rise in 2004 in Scotland?"),
    ],
)
def test_what_about_a_year_or_a_place_asks_the_same_question_of_it(
    follow_up: str, standalone: str
) -> None:
    """It was "How much did house prices rise in 2004 about 2018?"."""
    question = "How much did house prices rise in 2004?"
    assert _follow_up(question, "Prices rose 10.2% in 2004. [1]", follow_up) == standalone


def test_it_never_stands_for_a_person() -> None:
    """ "the people who spread it" after an answer that opens with a person: 'it' is not him
    (it once became the first name of the answer: "…who spread Piet Lund?")."""
    standalone = _follow_up(
        "When did Sorensen speak to reporters about the rumours?",
        "Councillor Piet Lund accused the mayor's office of spreading rumours. [1] "
        '"There is no plan to close the tram," Mayor Hana Sorensen told reporters on '
        "Monday. [1]",
        "What did she call the people who spread it?",
    )
    assert standalone.startswith("What did Hana Sorensen call the people who spread it?"), (
        standalone
    )
    # an organisation still stands in for 'it'
    standalone = _follow_up(
        "What did the Harbourton Tram Company say about the delay?",
        "The Harbourton Tram Company blamed the signalling contractor. [1]",
        "Why did it blame the contractor?",
    )
    assert standalone.startswith("Why did Harbourton Tram Company blame"), standalone


def test_she_is_the_person_the_question_named_by_surname() -> None:
    """ "When did Sorensen speak…?" names the mayor by surname only; "she" is her, not the
    councillor the answer mentions more often."""
    standalone = _follow_up(
        "When did Sorensen speak to reporters about the tram?",
        "Councillor Piet Lund said Lund's ward had waited years for it. [1] "
        '"The tram will open in 2027," Mayor Hana Sorensen told reporters on Monday. [1]',
        "What did she say about the cost?",
    )
    assert standalone.startswith("What did Hana Sorensen say about the cost?"), standalone


@pytest.mark.parametrize(
    ("question", "person"),
    [
        ("Who did Bolton sign from Roma?", "Vincent Candela"),  # the object of 'sign'
        ("Who signed the Roma defender?", "Sam Allardyce"),  # its subject
    ],
)
def test_he_after_a_who_question_is_the_person_it_asked_for(question: str, person: str) -> None:
    answer = Answer(
        question=question,
        answer="Bolton boss Sam Allardyce has signed Roma defender Vincent Candela on a "
        "five-month deal. [1] In June Candela will decide whether to retire. [1]",
        refused=False,
        llm="extractive",
    )
    standalone = fallback_condense("How old is he?", Turn(question, question, answer))
    assert standalone.startswith(f"How old is {person}?"), standalone


# --- a conversation over the BBC corpus (read from ../shared) ------------------------------


@pytest.fixture(scope="module")
def bbc_sport(tmp_path_factory: pytest.TempPathFactory) -> Asker:
    """An Asker over the BBC corpus's sport articles (the corpus stays in ../shared)."""
    from conftest import require_shared

    from rag.ingest import ingest

    corpus = require_shared("data", "bbc", "bbc_news.jsonl")
    folder = tmp_path_factory.mktemp("bbc")
    sport = folder / "sport.jsonl"
    with corpus.open(encoding="utf-8") as lines, sport.open("w", encoding="utf-8") as out:
        out.writelines(line for line in lines if json.loads(line)["category"] == "sport")
    settings = _settings(folder / "data", llm="extractive")
    report = ingest([str(sport)], settings)
    sport.unlink()  # the articles are searched from the store, not kept beside it
    assert report.ok and len(report.added) > 400
    return Asker(settings)


@pytest.mark.parametrize(
    ("first", "follow_up", "person"),
    [
        # the player signed, not the manager who signed him (named first) nor the club
        ("Who did Bolton sign from Roma?", "How old is he?", "Vincent Candela"),
        ("Who did Bolton sign from Roma?", "What did he say about June?", "Vincent Candela"),
    ],
)
def test_a_bbc_conversation_resolves_he_to_the_person_the_answer_is_about(
    bbc_sport: Asker, first: str, follow_up: str, person: str
) -> None:
    view = RecordingView()
    session = ChatSession(bbc_sport, view)
    turn = session.ask(first)
    assert turn is not None and person in turn.answer.answer
    turn = session.ask(follow_up)
    assert turn is not None
    assert person in turn.standalone, turn.standalone
    assert not {"Bolton", "June", "Roma", "Allardyce"} & set(turn.standalone.split()[:5])
    if follow_up == "How old is he?":
        assert "31-year-old" in turn.answer.answer
