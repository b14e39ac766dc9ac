"""llama.cpp in process: prompts fit the context, one load per process, a time limit."""

from __future__ import annotations

from datetime import date

import pytest

from rag.engine import answer_messages, fit_messages
from rag.errors import ModelError
from rag.llm import LocalChat, get_chat_model, smollm2_path
from rag.settings import Settings
from rag.types import Passage


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
