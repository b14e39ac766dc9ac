"""Asking: retrieval, an answerer, and the citation checker, as a LlamaIndex query engine.

``ask(question, settings)`` is the library entry point; ``CitedQueryEngine`` is the same
pipeline as a LlamaIndex ``CustomQueryEngine`` so it composes with LlamaIndex tooling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from pydantic import ConfigDict

from rag import prompts
from rag.citations import MARKER, check_answer
from rag.extractive import ExtractiveAnswerer, idf_from_bm25
from rag.llm import ChatModel, Message, OnToken, get_chat_model
from rag.retrieve import Filters, HybridRetriever, Mode, Searcher, retrieved_view, to_node
from rag.settings import Settings
from rag.types import Answer, Passage

EXTRACTIVE_NOTE = "extractive answer (no LLM configured): sentences quoted from the articles"


class Answerer(Protocol):
    """Produces a raw answer with [n] markers for the numbered passages."""

    name: str

    def respond(
        self, question: str, passages: list[Passage], as_of: date, on_token: OnToken | None
    ) -> str:
        """Raw answer text."""
        ...


@dataclass
class Extractive:
    """The extractive answerer as an Answerer."""

    searcher: Searcher
    name: str = "extractive"

    def respond(
        self, question: str, passages: list[Passage], as_of: date, on_token: OnToken | None
    ) -> str:
        """Best-covering sentences, or the refusal."""
        idf = idf_from_bm25(self.searcher.bm25())
        text = ExtractiveAnswerer(idf).answer(question, passages, prompts.refusal())
        if on_token:
            on_token(text)
        return text


@dataclass
class LLMAnswerer:
    """A chat model prompted with numbered, delimited sources."""

    model: ChatModel
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.model.name

    def respond(
        self, question: str, passages: list[Passage], as_of: date, on_token: OnToken | None
    ) -> str:
        """The model's reply to the answer prompt."""
        return self.model.complete(answer_messages(question, passages, as_of), on_token)


_TAG = re.compile(r"<\s*/?\s*source\b[^>]*>?", re.IGNORECASE)
_BRACKETS = str.maketrans("[]【】", "()()")


def escape_source_text(text: str) -> str:
    """Article text as inert data: it cannot close its block or forge a source number
    (nothing in it reads as a citation marker)."""
    text = _TAG.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)
    while MARKER.search(text):  # each pass removes brackets; nested ones can form a new marker
        text = MARKER.sub(_inert_marker, text)
    return text


def _inert_marker(match: re.Match[str]) -> str:
    """``[3]`` becomes ``(3)``; ``[Source 3]`` and ``(Source 3)`` become ``Source 3``."""
    body = match.group(0).translate(_BRACKETS)
    return body[1:-1] if MARKER.fullmatch(body) else body


def _attr(value: str) -> str:
    return value.replace('"', "'").replace("<", "‹").replace(">", "›").replace("\n", " ")


def format_sources(passages: list[Passage]) -> str:
    """Numbered source blocks with outlet, date and headline."""
    blocks = []
    for n, p in enumerate(passages, 1):
        blocks.append(
            f'<source n="{n}" outlet="{_attr(p.source or "unknown")}" '
            f'date="{_attr(p.published or "unknown")}" headline="{_attr(p.title)}">\n'
            f"{escape_source_text(p.text)}\n</source>"
        )
    return "\n\n".join(blocks)


def answer_messages(question: str, passages: list[Passage], as_of: date) -> list[Message]:
    """System and user messages for the answer prompt."""
    refusal = prompts.refusal()
    return [
        {
            "role": "system",
            "content": prompts.render("answer_system", refusal=refusal, as_of=as_of.isoformat()),
        },
        {
            "role": "user",
            "content": prompts.render(
                "answer_user",
                sources=format_sources(passages),
                question=question.strip(),
                refusal=refusal,
            ),
        },
    ]


def resolve_llm(settings: Settings) -> str:
    """``auto`` means openai when a key or base URL is set, else extractive."""
    if settings.llm != "auto":
        return settings.llm
    if settings.openai_api_key or settings.openai_base_url:
        return "openai"
    return "extractive"


def make_answerer(
    settings: Settings, searcher: Searcher, model: ChatModel | None = None
) -> Answerer:
    """The answerer named by the settings (or wrapping the given model)."""
    if model is not None:
        return LLMAnswerer(model)
    spec = resolve_llm(settings)
    if spec == "extractive":
        return Extractive(searcher)
    return LLMAnswerer(get_chat_model(spec, settings))


class CitedQueryEngine(CustomQueryEngine):
    """Retriever + answerer + citation checker; the Response carries the Answer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    retriever: HybridRetriever
    answerer: Any
    on_token: Any = None

    def custom_query(self, query_str: str) -> Response:
        """Answer one question."""
        self.retriever.retrieve(query_str)
        result = self.retriever.last
        assert result is not None
        shown = result.top
        raw = self.answerer.respond(query_str, shown, result.as_of, self.on_token)
        checked = check_answer(raw, shown, refusal_phrase=prompts.refusal())
        answer = Answer(
            question=query_str,
            answer=checked.text,
            refused=checked.refused,
            llm=self.answerer.name,
            citations=checked.citations,
            retrieved=retrieved_view(result.ranking),
            as_of=result.as_of.isoformat(),
            warnings=list(checked.warnings),
        )
        if result.window:
            answer.warnings.insert(
                0,
                f'"{result.window.phrase}" read as {result.window.start} to {result.window.end}',
            )
        return Response(
            response=answer.answer,
            source_nodes=[to_node(c.passage) for c in answer.citations],
            metadata={"answer": answer},
        )


@dataclass
class Asker:
    """Reusable state for many questions: the searcher and the answerer."""

    settings: Settings
    searcher: Searcher | None = None
    answerer: Answerer | None = None

    def __post_init__(self) -> None:
        self.searcher = (self.searcher or Searcher(self.settings)).open()
        self.answerer = self.answerer or make_answerer(self.settings, self.searcher)

    def ask(
        self,
        question: str,
        *,
        as_of: date | None = None,
        filters: Filters | None = None,
        k: int | None = None,
        mode: Mode = "hybrid",
        on_token: OnToken | None = None,
    ) -> Answer:
        """One cited answer."""
        assert self.searcher is not None
        retriever = HybridRetriever(
            self.searcher, k=k or self.settings.k, as_of=as_of, filters=filters, mode=mode
        )
        engine = CitedQueryEngine(retriever=retriever, answerer=self.answerer, on_token=on_token)
        response = engine.query(question)
        answer: Answer = response.metadata["answer"]  # type: ignore[index]
        return answer


def ask(
    question: str,
    settings: Settings | None = None,
    *,
    as_of: date | None = None,
    filters: Filters | None = None,
    k: int | None = None,
    on_token: OnToken | None = None,
) -> Answer:
    """Answer a question from the stored articles, with verified citations."""
    settings = settings or Settings.load()
    return Asker(settings).ask(question, as_of=as_of, filters=filters, k=k, on_token=on_token)
