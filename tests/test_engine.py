"""The query engine as LlamaIndex pieces: built once, nodes in, a typed answer out.

The retriever plugs into a stock ``RetrieverQueryEngine`` and the engine into a stock
``CondenseQuestionChatEngine``, both with small offline language models.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM, MockLLM
from pydantic import Field

from rag.engine import Asker, CitedResponse, Question
from rag.ingest import ingest
from rag.retrieve import Filters, HybridRetriever, NewsQuery, from_node, to_node
from rag.settings import Settings
from rag.types import Passage

SEED_DIR = Path(__file__).resolve().parents[1] / "seeds"
KREMLIN = "What did the Kremlin say?"
REWRITE = "What did Kremlin spokesman Dmitry Peskov say about rumors?"


@pytest.fixture(scope="module")
def asker(tmp_path_factory: pytest.TempPathFactory) -> Asker:
    """One Asker (one engine) over the seed article, extractive answers."""
    data = tmp_path_factory.mktemp("engine") / "data"
    settings = Settings.load(
        flags={"data_dir": data, "llm": "extractive"},
        env={},
        config_path=data / "no-config.toml",
    )
    assert ingest([str(SEED_DIR)], settings).ok
    return Asker(settings)


class Rewriter(CustomLLM):
    """A language model that answers every prompt with the next scripted reply."""

    replies: list[str] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=list)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="rewriter")

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text=self.replies.pop(0))

    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        raise NotImplementedError


def test_one_engine_answers_many_questions_with_their_own_arguments(asker: Asker) -> None:
    engine = asker.engine
    today = asker.ask(KREMLIN)
    dated = asker.ask(KREMLIN, as_of=date(2023, 5, 12), k=1)
    assert asker.engine is engine
    assert today.as_of == date.today().isoformat()
    assert dated.as_of == "2023-05-12"
    assert "Peskov" in today.answer and today.citations
    assert {c.n for c in dated.citations} == {1}
    gone = asker.ask(KREMLIN, filters=Filters(source="nowhere.example"))
    assert gone.refused and gone.retrieved == []


def test_synthesize_answers_from_the_nodes_it_is_given(asker: Asker) -> None:
    engine = asker.engine
    # not a question about what someone said (those are answered from the quote index)
    withdrew = "Who withdrew from the race?"
    question = engine.question(Question(withdrew, k=2))
    nodes = engine.retrieve(question)
    assert len(nodes) >= 2
    response = engine.synthesize(question, nodes)
    assert isinstance(response, CitedResponse)
    assert response.answer.answer == asker.ask(withdrew, k=2).answer
    assert [n.node.node_id for n in response.source_nodes] == [
        c.passage.chunk_id for c in response.answer.citations
    ]

    invented = Passage(
        chunk_id="invented#0",
        article_id="invented",
        text="The Kremlin said the harvest festival would open on Friday.",
        title="Festival",
        score=1.0,
    )
    kremlin = engine.question(Question(KREMLIN, k=2))
    own = engine.synthesize(kremlin, [to_node(invented)]).answer
    assert [c.passage.chunk_id for c in own.citations] == ["invented#0"]
    assert [p.chunk_id for p in own.retrieved] == ["invented#0"]
    assert "harvest festival" in own.answer


def test_nodes_read_back_as_the_same_passages(asker: Asker) -> None:
    ranking = asker.searcher.search(KREMLIN, k=5).ranking
    nodes = HybridRetriever(asker.searcher).retrieve(KREMLIN)
    assert [from_node(n) for n in nodes] == ranking


def test_retriever_in_a_stock_retriever_query_engine(asker: Asker) -> None:
    from llama_index.core.query_engine import RetrieverQueryEngine

    retriever = HybridRetriever(asker.searcher, k=3)
    stock = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(max_tokens=5))
    response = stock.query(KREMLIN)
    ranking = asker.searcher.search(KREMLIN, k=3).ranking
    assert [n.node.node_id for n in response.source_nodes] == [p.chunk_id for p in ranking]
    assert str(response).split() == ["text"] * 5

    nothing = stock.query(NewsQuery(KREMLIN, filters=Filters(source="nowhere.example")))
    assert nothing.source_nodes == []


def test_engine_in_a_stock_condense_question_chat_engine(asker: Asker) -> None:
    from llama_index.core.chat_engine import CondenseQuestionChatEngine
    from llama_index.core.memory import ChatMemoryBuffer

    rewriter = Rewriter(replies=[REWRITE])
    chat = CondenseQuestionChatEngine.from_defaults(
        query_engine=asker.engine,
        llm=rewriter,
        memory=ChatMemoryBuffer.from_defaults(token_limit=3000),
    )
    first = chat.chat(KREMLIN)
    assert "Peskov" in first.response and "[1]" in first.response
    assert rewriter.prompts == []  # nothing to condense on the first turn

    second = chat.chat("What did he call the people spreading them?")
    [prompt] = rewriter.prompts
    assert "What did he call the people spreading them?" in prompt
    assert first.response.split("[1]")[0].strip() in prompt  # the history went in
    [tool] = second.sources
    assert tool.raw_input == {"query": REWRITE}
    response = tool.raw_output
    assert isinstance(response, CitedResponse)
    assert response.answer.question == REWRITE
    assert "liar" in second.response


def test_a_weekday_that_matches_no_retrieved_article_says_so(asker: Asker) -> None:
    """The seed article is undated: "on Friday" cannot pick it out, and the note says the
    wording changed nothing rather than only naming a window nothing falls in."""
    answer = asker.ask("What did Peskov tell reporters on Friday?", as_of=date(2026, 11, 30))
    assert "Peskov" in answer.answer and not answer.refused
    assert answer.warnings[0] == (
        '"on friday" read as 2026-11-26 to 2026-11-28; no retrieved article is from then, '
        "so it did not change the ranking"
    )


def test_a_weekday_note_is_plain_when_an_article_falls_in_the_window() -> None:
    from rag.dates import relative_window
    from rag.engine import window_note

    window = relative_window("Who won on Sunday?", date(2023, 3, 1))
    assert window is not None
    inside = Passage(chunk_id="a:0", article_id="a", text="", title="", published="2023-02-26")
    outside = Passage(chunk_id="b:0", article_id="b", text="", title="", published="2022-02-26")
    undated = Passage(chunk_id="c:0", article_id="c", text="", title="")
    assert window_note(window, [outside, undated, inside]) == (
        '"on sunday" read as 2023-02-25 to 2023-02-27'
    )
    assert "did not change the ranking" in window_note(window, [outside, undated])
