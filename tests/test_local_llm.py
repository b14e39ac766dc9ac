"""llama.cpp in process: prompts fit the context, one load per process, a time limit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rag.answerability import Model, load_models
from rag.bm25 import BM25Index, Row, Vocab, tokenize_words
from rag.cli.rendering import restatement
from rag.engine import (
    FALLBACK_NOTE,
    GATE_NOTE,
    UNSUPPORTED_NOTE,
    Asker,
    LLMAnswerer,
    answer_messages,
    extractive_answerer,
    fit_messages,
    focused,
    make_answerer,
)
from rag.errors import ModelError
from rag.eval.run import _Recorder
from rag.extractive import ExtractiveAnswerer
from rag.ingest import ingest
from rag.llm import LocalChat, ScriptedChat, get_chat_model, smollm2_path
from rag.retrieve import Searcher
from rag.settings import Settings
from rag.types import Answer, Passage


def passage(n: int, text: str) -> Passage:
    return Passage(
        chunk_id=f"a{n}#0", article_id=f"a{n}", text=text, title=f"Headline {n}", source="Wire"
    )


def chars(messages: list[dict[str, str]]) -> int:
    """A stand-in tokenizer: one token per 3 characters."""
    return sum(len(m["content"]) for m in messages) // 3


def test_long_sources_are_trimmed_never_the_instructions_or_question() -> None:
    passages = [passage(1, "Short passage. " * 5), passage(2, "Very long passage. " * 400)]
    question = "What did the minister say about the budget?"
    full = answer_messages(question, passages, date(2024, 1, 1))
    budget = chars(full) // 3
    fitted = fit_messages(question, passages, date(2024, 1, 1), budget, chars)
    assert chars(fitted) <= budget
    assert fitted[0] == full[0]  # the system prompt is untouched
    assert fitted[1]["content"].rstrip().endswith(f"Question: {question}")
    assert "Short passage. " * 5 in fitted[1]["content"]  # the short source is kept whole
    assert fitted[1]["content"].count("Very long passage.") < 400


def test_prompt_that_fits_is_left_alone() -> None:
    passages = [passage(1, "One sentence.")]
    full = answer_messages("Who?", passages, date(2024, 1, 1))
    assert fit_messages("Who?", passages, date(2024, 1, 1), 10_000, chars) == full


def test_instructions_that_cannot_fit_fail_in_one_line() -> None:
    with pytest.raises(ModelError, match="do not fit"):
        fit_messages("Who?", [passage(1, "x" * 500)], date(2024, 1, 1), 5, chars)


@pytest.mark.slow
def test_local_model_is_loaded_once_and_bounded_in_time() -> None:
    pytest.importorskip("llama_cpp")
    settings = Settings.load(flags={"llm": "local:smollm2-135m"})
    first = get_chat_model("local:smollm2-135m", settings)
    second = get_chat_model("local:" + str(smollm2_path()), settings)
    assert isinstance(first, LocalChat) and isinstance(second, LocalChat)
    assert first.llama is second.llama  # chat, eval and the judge share one loaded model
    assert first.name == "local:smollm2-135m"
    assert 0 < first.context_budget() < first.n_ctx
    reply = first.complete([{"role": "user", "content": "Say hello."}])
    assert reply.strip()
    slow = LocalChat(smollm2_path(), timeout=0.0)
    with pytest.raises(ModelError, match="did not finish within 0 s"):
        slow.complete([{"role": "user", "content": "Count from one to fifty in words."}])


def test_focus_keeps_the_best_sentences_best_first_and_every_source_number() -> None:
    """A local model reads the question's best sentences, not whole passages, the best
    first: the one with the number leads its source even where the article has it later, and
    a source with nothing on the question still has its best sentence, so [n] means the same
    passage as before."""
    filler = " ".join(f"The weather in town {w} was mild that week." for w in "ABCDEFGH")
    shown = [
        passage(
            1,
            f"{filler} Krispy Kreme shares were listed in 2000. {filler} "
            "Shares in Krispy Kreme dropped 14.87% on Friday.",
        ),
        passage(2, "Doughnut chains opened 200 new shops last year."),
    ]
    vocab = Vocab()
    rows = [
        Row(p.chunk_id, p.article_id, 0, "", vocab.encode(t))
        for p, t in zip(shown, tokenize_words([p.text for p in shown]), strict=True)
    ]
    reader = ExtractiveAnswerer(BM25Index.from_rows("r", rows, vocab), models=load_models())
    question = "How much did Krispy Kreme shares drop?"
    ranked = reader.read(question, shown).candidates
    cut = focused(shown, ranked, 2)
    assert [p.chunk_id for p in cut] == ["a1#0", "a2#0"]
    best, second = "Shares in Krispy Kreme dropped 14.87% on Friday.", "Krispy Kreme shares were"
    assert cut[0].text == f"{best} … {second} listed in 2000."
    assert cut[1].text == "Doughnut chains opened 200 new shops last year."
    assert focused(shown, ranked, 0)[0].text.count("dropped") == 1


def test_local_models_read_focused_sources_and_others_whole(tmp_path: Path) -> None:
    base = {"data_dir": tmp_path, "embedding": "hash"}
    local = Settings.load(flags={**base, "llm": "local:smollm2-135m"}, env={})
    assert ingest([str(Path(__file__).resolve().parents[1] / "seeds")], local).ok
    answerer = make_answerer(local, Searcher(local).open())
    assert isinstance(answerer, LLMAnswerer) and answerer.reader is not None
    assert answerer.sentences == 12 and answerer.gate and answerer.fallback
    whole = Settings.load(
        flags={**base, "llm": "local:smollm2-135m"}, env={"RAG_FOCUS_SENTENCES": "0"}
    )
    plain = make_answerer(whole, Searcher(whole).open())
    assert isinstance(plain, LLMAnswerer) and plain.sentences == 0
    shown = [passage(1, "Filler sentence one. " * 30 + "Ince withdrew on Thursday.")]
    chat = ScriptedChat(["Ince withdrew on Thursday. [1]"])
    plain.model = chat
    plain.respond("When did Ince withdraw?", shown, date(2023, 5, 12), None)
    assert chat.calls[0][1]["content"].count("Filler sentence one.") == 30  # read whole


def test_gate_refuses_before_a_local_model_reads_passages_far_from_the_question(
    seed_path: Path,
) -> None:
    """The packaged gate: seed-u1 ("Who won ...?", nobody wins in the article) never reaches
    the model, which would answer it (Qwen named Kilicdaroglu, README Local models); an
    answerable question, and every question with the gate off, does."""
    settings = Settings.load().replace(llm="extractive")
    assert ingest([str(seed_path)], settings).ok
    asker = Asker(settings)
    reader = extractive_answerer(asker.searcher)
    assert 0.0 < reader.models[1].gate < reader.models[1].threshold
    chat = ScriptedChat(["Kemal Kilicdaroglu won the Turkish presidential election. [1]"] * 2)
    asker.answerer = LLMAnswerer(chat, reader, 12, gate=True)
    streamed: list[str] = []
    refused = asker.ask("Who won the Turkish presidential election?", on_token=streamed.append)
    assert refused.refused and chat.calls == []
    assert "".join(streamed) == "The articles don't say."
    assert refused.warnings == [GATE_NOTE]  # the reader learns the model was not asked
    answered = asker.ask("Which presidential candidate withdrew from the race?")
    assert not answered.refused and len(chat.calls) == 1 and GATE_NOTE not in answered.warnings
    asker.answerer = LLMAnswerer(chat, reader, 12, gate=False)
    assert not asker.ask("Who won the Turkish presidential election?").refused
    assert len(chat.calls) == 2


def test_a_local_models_refusal_gives_way_to_the_extractive_answer_when_that_accepts(
    seed_path: Path,
) -> None:
    """Qwen refused seed-09 and seed-20, whose passages the extractive answerer answers:
    the reader's sentences are the answer then, with a note; where the reader refuses too
    ("What is the name of Turkey's election authority?", above the gate, below the
    operating point), and with the fallback off, the model's refusal stands."""
    settings = Settings.load().replace(llm="extractive")
    assert ingest([str(seed_path)], settings).ok
    asker = Asker(settings)
    reader = extractive_answerer(asker.searcher)
    chat = ScriptedChat(["The articles don't say."] * 3)
    asker.answerer = LLMAnswerer(chat, reader, 12, gate=True, fallback=True)
    found = asker.ask("Which presidential candidate withdrew from the race?")
    assert not found.refused and "Muharrem Ince" in found.answer and found.citations
    assert found.warnings == [FALLBACK_NOTE] and len(chat.calls) == 1
    neither = asker.ask("What is the name of Turkey's election authority?")
    assert neither.refused and neither.warnings == [] and len(chat.calls) == 2
    asker.answerer = LLMAnswerer(chat, reader, 12, gate=True, fallback=False)
    kept = asker.ask("Which presidential candidate withdrew from the race?")
    assert kept.refused and kept.warnings == []


def test_an_answer_the_checker_leaves_out_gives_way_to_the_extractive_answer(
    seed_path: Path,
) -> None:
    """Asked with no --as-of, Qwen answered "… on May 15, 2026. [1]"; the checker left the
    sentence out (no source gives 2026) and the answer became the refusal, although the
    reader quotes the sentence with "after May 15". The reader's sentences are the answer
    then, after the checker's reason; a grounded answer is kept as the model gave it."""
    settings = Settings.load().replace(llm="extractive")
    assert ingest([str(seed_path)], settings).ok
    asker = Asker(settings)
    reader = extractive_answerer(asker.searcher)
    question = "After which date did Kilicdaroglu say Russia must withdraw its hand?"
    made_up = "Kilicdaroglu said Russia must withdraw its hand on May 15, 2026. [1]"
    grounded = 'Kilicdaroglu said: "after May 15, withdraw your hand". [1]'
    chat = ScriptedChat([made_up, grounded])
    asker.answerer = LLMAnswerer(chat, reader, 12, gate=True, fallback=True)
    found = asker.ask(question)
    assert not found.refused and "after May 15" in found.answer and "2026" not in found.answer
    assert found.warnings[-1] == UNSUPPORTED_NOTE
    assert any("2026 in no source" in w for w in found.warnings[:-1])
    kept = asker.ask(question)
    assert kept.answer == grounded and UNSUPPORTED_NOTE not in kept.warnings
    asker.answerer = LLMAnswerer(ScriptedChat([made_up]), reader, 12, gate=True, fallback=False)
    assert asker.ask(question).refused


def test_the_gate_note_reaches_the_answer_through_a_wrapped_answerer(seed_path: Path) -> None:
    """The note travels with the reply, so an answerer wrapped by rag eval's recorder
    still tells the reader the model was not asked."""
    settings = Settings.load().replace(llm="extractive")
    assert ingest([str(seed_path)], settings).ok
    asker = Asker(settings)
    chat = ScriptedChat(["Kemal Kilicdaroglu won the Turkish presidential election. [1]"])
    inner = LLMAnswerer(chat, extractive_answerer(asker.searcher), 12, gate=True)
    asker.answerer = _Recorder(inner)
    refused = asker.ask("Who won the Turkish presidential election?")
    assert refused.refused and chat.calls == [] and refused.warnings == [GATE_NOTE]
    assert asker.answerer.raw == "The articles don't say."


def test_gate_admits_at_its_threshold_and_reads_it_from_the_data_file() -> None:
    model = Model.from_dict(
        {"features": ["x"], "coef": [1.0], "intercept": 0.0, "threshold": 0.4,
         "gate": {"threshold": 0.1, "rule": "..."}}
    )  # fmt: skip
    assert model.gate == 0.1 and model.admits(0.1) and not model.admits(0.0999)
    assert not model.accepts(0.3) and model.admits(0.3)


def test_a_streamed_refusal_that_gave_way_is_shown_as_the_extractive_answer() -> None:
    """rag ask and rag chat stream the model's words; when the fallback replaced its
    refusal, what follows says whose sentences they are, not "checked:" as if the checker
    had edited the refusal."""
    for note in (FALLBACK_NOTE, UNSUPPORTED_NOTE):
        fell_back = Answer("q", "Ince withdrew. [1]", False, "local", warnings=[note])
        again = restatement("The articles don't say.", fell_back)
        assert again is not None
        assert again.plain == "instead, the extractive answerer: Ince withdrew. [1]"
    edited = Answer("q", "Ince withdrew. [1]", False, "local")
    again = restatement("Ince withdrew. [1][7]", edited)
    assert again is not None and again.plain == "checked: Ince withdrew. [1]"
    assert restatement("Ince  withdrew.\n[1]", edited) is None
